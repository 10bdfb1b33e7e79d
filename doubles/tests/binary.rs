//! The `bbb-doubles` binary prints one JSON line with working URLs and stops on SIGTERM.

use bbb_core::bbb::{BbbClient, BbbConfig};
use bbb_core::scalelite::{ScaleliteClient, ScaleliteConfig};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn serves_until_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bbb-doubles"))
        .args(["--bbb-count", "2", "--scalelite-secret", "sl"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("line");
    let v: Value = serde_json::from_str(&line).expect("json line");

    let sl = &v["scalelite"];
    assert_eq!(sl["secret"], "sl");
    let scalelite = ScaleliteClient::new(ScaleliteConfig::new(
        sl["url"].as_str().unwrap_or_default(),
        "sl",
    ))
    .expect("client");
    assert!(scalelite
        .get_servers()
        .await
        .expect("getServers")
        .is_empty());

    let bbbs = v["bbb"].as_array().cloned().unwrap_or_default();
    assert_eq!(bbbs.len(), 2);
    for b in &bbbs {
        let c = BbbClient::new(BbbConfig::new(
            b["url"].as_str().unwrap_or_default(),
            b["secret"].as_str().unwrap_or_default(),
        ))
        .expect("client");
        assert!(c.get_meetings().await.expect("getMeetings").is_empty());
    }

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "{exit:?}");
}
