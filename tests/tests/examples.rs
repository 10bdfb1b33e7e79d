//! The runnable configurations that use only this provider, applied against the doubles:
//! `examples/existing-scalelite` and `examples/local` (a shortened `scripts/demo` scenario).

use bbb_acceptance_tests::Doubles;
use bbb_core::scalelite::ServerState;
use bbb_doubles::bbb::DoubleMeeting;
use serde_json::json;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");
const LB_SECRET: &str = "scalelite-lb-secret-examples";

#[test]
fn existing_scalelite_example_registers_and_removes_servers() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let (a, b) = (env.bbb("secret-a"), env.bbb("secret-b"));
    let ws = env.example("existing-scalelite");
    // The URL BBB clients use: the provider strips /bigbluebutton/api itself.
    let vars = json!({
        "scalelite_url": format!("{}/bigbluebutton/api", env.scalelite.url()),
        "scalelite_secret": LB_SECRET,
        "servers": {
            "bbb1": {"url": a.url(), "load_multiplier": 1},
            "bbb2": {"url": b.url(), "state": "cordoned", "load_multiplier": 2, "tag": "lecture"},
        },
        "server_secrets": {"bbb1": "secret-a", "bbb2": "secret-b"},
    });
    ws.write_file("terraform.tfvars.json", &vars.to_string());
    ws.apply();
    let mut servers = env.scalelite.servers();
    servers.sort_by(|x, y| x.url.cmp(&y.url));
    let mut wanted = [
        (a.url(), ServerState::Enabled, 1.0),
        (b.url(), ServerState::Cordoned, 2.0),
    ];
    wanted.sort_by(|x, y| x.0.cmp(&y.0));
    let got: Vec<_> = servers
        .iter()
        .map(|s| (s.url.clone(), s.state, s.load_multiplier))
        .collect();
    assert_eq!(got, wanted.to_vec());
    ws.assert_no_changes();
    ws.destroy();
    assert!(env.scalelite.servers().is_empty());
}

#[test]
fn local_example_scale_in_waits_for_the_live_meeting() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let (busy, idle) = (env.bbb("busy-secret"), env.bbb("idle-secret"));
    let ws = env.example("local");
    let vars = |names: &[&str]| {
        let all = [
            ("busy", &busy, "busy-secret"),
            ("idle", &idle, "idle-secret"),
        ];
        let servers: serde_json::Map<_, _> = all
            .iter()
            .filter(|(n, ..)| names.contains(n))
            .map(|(n, d, _)| (n.to_string(), json!({"url": d.url()})))
            .collect();
        let secrets: serde_json::Map<_, _> = all
            .iter()
            .filter(|(n, ..)| names.contains(n))
            .map(|(n, _, s)| (n.to_string(), json!(s)))
            .collect();
        json!({"servers": servers, "server_secrets": secrets, "drain_timeout": "2m"}).to_string()
    };
    ws.write_file("terraform.tfvars.json", &vars(&["busy", "idle"]));
    ws.apply();
    assert_eq!(env.scalelite.servers().len(), 2);

    busy.add_meeting(DoubleMeeting::new("exam", "Exam").with_participants(30, 1));
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    let out: serde_json::Value =
        serde_json::from_str(&ws.ok(&["output", "-json"]).stdout).expect("outputs");
    assert_eq!(
        out["meetings"]["value"]["busy"],
        json!({"meetings": 1, "participants": 30})
    );
    assert_eq!(
        out["meetings"]["value"]["idle"],
        json!({"meetings": 0, "participants": 0})
    );

    // Scale-in of the busy server: cordoned, kept while the meeting runs, removed after it ends.
    let busy_id = out["servers"]["value"]["busy"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    ws.write_file("terraform.tfvars.json", &vars(&["idle"]));
    let applier =
        std::thread::spawn(move || (ws.terraform(&["apply", "-auto-approve", "-no-color"]), ws));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while env.scalelite.server(&busy_id).map(|s| s.state) != Some(ServerState::Cordoned) {
        assert!(std::time::Instant::now() < deadline, "never cordoned");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        env.scalelite.server(&busy_id).is_some(),
        "removed while the meeting ran"
    );
    assert!(busy.end_meeting("exam"));
    let (run, ws) = applier.join().expect("apply thread");
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(env.scalelite.server(&busy_id).is_none());
    assert_eq!(env.scalelite.servers().len(), 1);
    ws.destroy();
    assert!(env.scalelite.servers().is_empty());
}
