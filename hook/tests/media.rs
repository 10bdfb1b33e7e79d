//! `bbb-hook configure` (the real binary) against a copy of the media fixtures
//! (tests/fixtures/media: BBB 3.0's files as the package scripts leave them on the image build
//! instance, IP 172.31.5.17), the IMDS double (local 10.0.1.10, public 203.0.113.10), moto's SSM
//! and a fake `ip` command; and `status --json`'s media section.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bbb_core::testing::{put_parameter, REGION};
use bbb_doubles::{ImdsDouble, InstanceIdentity};
use support::{Instance, Run};

const BUILD_IP: &str = "172.31.5.17";
const EX_CONFIG: i32 = 78;
const TURN_SECRET: &str = "coturn-static-auth-secret-4f9a";

const FAKE_IP: &str = r#"#!/bin/sh
dir=$(dirname "$0")
echo "$*" >> "$dir/ip.log"
case "$*" in
  "-4 -o addr show dev lo")
    echo "1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever"
    if [ -f "$dir/ip.state" ]; then cat "$dir/ip.state"; fi ;;
  "-4 addr add "*) echo "1: lo    inet $4 scope global $8\       valid_lft forever preferred_lft forever" >> "$dir/ip.state" ;;
  "-4 addr del "*) grep -v "inet $4 " "$dir/ip.state" > "$dir/ip.state.n"; mv "$dir/ip.state.n" "$dir/ip.state" ;;
esac
"#;

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else if entry.file_name() != "README.md" {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The media root: the fixtures, an /etc/group with this process's group as `bigbluebutton`,
/// and the fake `ip`.
struct Media {
    root: PathBuf,
    ip: PathBuf,
    gid: u32,
}

impl Media {
    fn new(i: &Instance) -> Self {
        let root = i.path("root");
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media"),
            &root,
        );
        let gid = std::fs::metadata(&root).unwrap().gid();
        std::fs::write(
            root.join("etc/group"),
            format!("root:x:0:\nbigbluebutton:x:{gid}:\n"),
        )
        .unwrap();
        let ip = i.path("bin/ip");
        std::fs::create_dir_all(ip.parent().unwrap()).unwrap();
        std::fs::write(&ip, FAKE_IP).unwrap();
        std::fs::set_permissions(&ip, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self { root, ip, gid }
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
    }

    fn mtimes(&self) -> Vec<(PathBuf, SystemTime)> {
        files(&self.root)
            .into_iter()
            .map(|p| {
                let m = std::fs::metadata(&p).unwrap().modified().unwrap();
                (p, m)
            })
            .collect()
    }

    fn ip_log(&self) -> String {
        std::fs::read_to_string(self.ip.with_file_name("ip.log")).unwrap_or_default()
    }
}

async fn hook(i: &Instance, m: &Media, extra: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = i.command(args);
    cmd.env("BBB_MEDIA_ROOT", &m.root)
        .env("BBB_IP_COMMAND", &m.ip);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
        .await
        .expect("bbb-hook did not finish within 60 s")
        .expect("run bbb-hook");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(TURN_SECRET) && !run.stderr.contains(TURN_SECRET),
        "the TURN secret leaked into the output of bbb-hook {args:?}"
    );
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn configure_sets_the_instance_ips_everywhere_and_a_second_run_changes_nothing() {
    let i = Instance::new(60).await;
    let m = Media::new(&i);
    let run = hook(&i, &m, &[], &["configure"]).await;
    run.ok();

    let vars = m.read("opt/freeswitch/etc/freeswitch/vars.xml");
    assert!(vars.contains(r#"data="local_ip_v4=10.0.1.10"/>"#), "{vars}");
    assert!(vars.contains(r#"data="external_rtp_ip=203.0.113.10"/>"#));
    assert!(vars.contains(r#"data="external_sip_ip=203.0.113.10"/>"#));
    assert!(
        vars.contains(r#"bong-ring=v=-7;%(100,0,941.0,1477.0);v=-7;>=2;"#),
        "other values kept"
    );
    let external = m.read("opt/freeswitch/etc/freeswitch/sip_profiles/external.xml");
    assert!(external.contains(r#"<param name="ext-rtp-ip" value="$${external_rtp_ip}"/>"#));
    assert!(external.contains(r#"<param name="ext-sip-ip" value="$${external_sip_ip}"/>"#));
    assert!(
        external.contains(r#"<param name="ext-rtp-ip" value="auto-nat"/>"#),
        "the commented example is kept"
    );
    assert!(external.contains(r#"<param name="rtp-ip" value="$${local_ip_v4}"/>"#));
    // The WebSocket listener binds the address sip.nginx and the SFU dial (BBB ships `:5066`,
    // which binds the private sip-ip).
    assert!(external.contains(r#"<param name="ws-binding"  value="203.0.113.10:5066"/>"#));
    assert!(external.contains(r#"<param name="wss-binding"  value="203.0.113.10:7443"/>"#));
    let sip = m.read("usr/share/bigbluebutton/nginx/sip.nginx");
    assert!(
        sip.contains("proxy_pass http://203.0.113.10:5066;"),
        "{sip}"
    );
    let default = m.read("usr/local/bigbluebutton/bbb-webrtc-sfu/config/default.yml");
    assert!(default.contains("freeswitch:\n  ip: 203.0.113.10\n  sip_ip: 203.0.113.10\n  port: 5066\n  esl_ip: 127.0.0.1\n"));
    assert!(default.contains("      - ip: \"0.0.0.0\"\n        announcedIp: \"203.0.113.10\"\n"));
    assert!(default
        .contains("    listenIp:\n      ip: \"0.0.0.0\"\n      announcedIp: \"203.0.113.10\"\n"));
    let prod = m.read("etc/bigbluebutton/bbb-webrtc-sfu/production.yml");
    assert_eq!(
        prod,
        "freeswitch:\n  esl_password: \"5f1c0aa8d3b2e4f7\"\n  ip: \"203.0.113.10\"\n  sip_ip: \"203.0.113.10\"\nmediasoup:\n  webrtc:\n    listenIps:\n      - ip: \"0.0.0.0\"\n        announcedIp: \"203.0.113.10\"\n  plainRtp:\n    listenIp:\n      ip: \"0.0.0.0\"\n      announcedIp: \"203.0.113.10\"\n"
    );
    for file in files(&m.root) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains(BUILD_IP),
            "the build IP is still in {}",
            file.display()
        );
    }
    assert!(
        m.ip_log()
            .contains("-4 addr add 203.0.113.10/32 dev lo label lo:bbbnat"),
        "{}",
        m.ip_log()
    );
    assert!(run.stderr.contains("media file updated"), "{}", run.stderr);

    let before = m.mtimes();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = hook(&i, &m, &[], &["configure"]).await;
    again.ok();
    assert_eq!(m.mtimes(), before, "a second run rewrote a file");
    assert!(
        !again.stderr.contains("media file updated"),
        "{}",
        again.stderr
    );
    assert_eq!(
        m.ip_log().matches("addr add").count(),
        1,
        "the lo address is added once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unrecognised_file_stops_configure_with_78_and_nothing_is_written() {
    let i = Instance::new(60).await;
    let m = Media::new(&i);
    let vars = m.root.join("opt/freeswitch/etc/freeswitch/vars.xml");
    let text = std::fs::read_to_string(&vars).unwrap();
    std::fs::write(
        &vars,
        text.replace(
            "  <X-PRE-PROCESS cmd=\"set\" data=\"external_sip_ip=stun:stun.freeswitch.org\"/>\n",
            "",
        ),
    )
    .unwrap();
    let before = m.mtimes();
    let run = hook(&i, &m, &[], &["configure"]).await;
    assert_eq!(run.code, EX_CONFIG, "{}", run.stderr);
    assert!(
        run.stderr.contains("vars.xml") && run.stderr.contains("external_sip_ip"),
        "{}",
        run.stderr
    );
    assert_eq!(m.mtimes(), before, "files were written despite the refusal");
    assert!(m.ip_log().is_empty());

    let m = Media::new(&i);
    let sfu = m
        .root
        .join("usr/local/bigbluebutton/bbb-webrtc-sfu/config/default.yml");
    let text = std::fs::read_to_string(&sfu).unwrap();
    std::fs::write(
        &sfu,
        text.replace(
            "    listenIps:\n      - ip: \"0.0.0.0\"\n",
            "    listenIps: [{ip: \"0.0.0.0\"}]\n      - ip: \"0.0.0.0\"\n",
        ),
    )
    .unwrap();
    let run = hook(&i, &m, &[], &["configure"]).await;
    assert_eq!(run.code, EX_CONFIG, "{}", run.stderr);
    assert!(
        run.stderr.contains("default.yml") && run.stderr.contains("mediasoup.webrtc.listenIps"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn configure_writes_bbb_webs_turn_file_with_the_secret_from_ssm() {
    let i = Instance::new(60).await;
    let m = Media::new(&i);
    let parameter = format!("/bbb/{}/turn-secret", i.group);
    put_parameter(&i.aws, &parameter, TURN_SECRET, true).await;
    let env = [
        (
            "BBB_TURN_URIS",
            "turns:turn.example.org:443?transport=tcp turn:turn.example.org:3478?transport=udp",
        ),
        ("BBB_STUN_URIS", "stun:turn.example.org:3478"),
        ("BBB_TURN_SECRET_PARAMETER", parameter.as_str()),
    ];
    hook(&i, &m, &env, &["configure"]).await.ok();
    let path = m.root.join("etc/bigbluebutton/turn-stun-servers.xml");
    let xml = std::fs::read_to_string(&path).unwrap();
    assert!(
        xml.contains(&format!(
            "<constructor-arg index=\"0\" value=\"{TURN_SECRET}\"/>"
        )),
        "{xml}"
    );
    assert!(xml.contains("value=\"turns:turn.example.org:443?transport=tcp\""));
    assert!(xml.contains("value=\"turn:turn.example.org:3478?transport=udp\""));
    assert!(xml
        .contains("<bean id=\"stun0\" class=\"org.bigbluebutton.web.services.turn.StunServer\">"));
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o640);
    assert_eq!(meta.gid(), m.gid);

    // Unchanged settings: not rewritten. No TURN any more: the file this hook wrote goes.
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    hook(&i, &m, &env, &["configure"]).await.ok();
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        before
    );
    hook(&i, &m, &[], &["configure"]).await.ok();
    assert!(!path.exists());

    // A missing parameter is a configuration error.
    let run = hook(
        &i,
        &m,
        &[
            ("BBB_TURN_URIS", "turn:t:3478"),
            ("BBB_TURN_SECRET_PARAMETER", "/bbb/none"),
        ],
        &["configure"],
    )
    .await;
    assert_eq!(run.code, EX_CONFIG, "{}", run.stderr);
    assert!(
        run.stderr.contains("BBB_TURN_SECRET_PARAMETER"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_private_fleet_uses_the_private_ip_everywhere() {
    let i = Instance::new(60).await;
    let m = Media::new(&i);
    let imds = ImdsDouble::start(InstanceIdentity {
        instance_id: i.instance_id.clone(),
        region: REGION.into(),
        availability_zone: format!("{REGION}a"),
        local_ipv4: "10.0.1.10".parse().unwrap(),
        public_ipv4: None,
        instance_type: "c5.xlarge".into(),
    })
    .await
    .expect("imds double");
    let url = imds.url();
    hook(
        &i,
        &m,
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", url.as_str())],
        &["configure"],
    )
    .await
    .ok();
    let vars = m.read("opt/freeswitch/etc/freeswitch/vars.xml");
    assert!(vars.contains("local_ip_v4=10.0.1.10") && vars.contains("external_rtp_ip=10.0.1.10"));
    assert!(m
        .read("usr/share/bigbluebutton/nginx/sip.nginx")
        .contains("http://10.0.1.10:5066;"));
    assert!(m
        .read("etc/bigbluebutton/bbb-webrtc-sfu/production.yml")
        .contains("announcedIp: \"10.0.1.10\""));
    assert!(
        !m.ip_log().contains("addr add"),
        "no public address, nothing on lo: {}",
        m.ip_log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_reports_media_mismatches_until_configure_ran() {
    let i = Instance::new(60).await;
    let m = Media::new(&i);
    let status = |run: Run| -> serde_json::Value {
        run.ok();
        serde_json::from_str(&run.stdout).expect("status --json prints JSON")
    };
    let before = status(hook(&i, &m, &[], &["status", "--json"]).await);
    let mismatches = before["media"]["mismatches"]
        .as_array()
        .expect("media.mismatches")
        .clone();
    let has = |file: &str, key: &str| {
        mismatches
            .iter()
            .any(|x| x["file"].as_str().unwrap().ends_with(file) && x["key"] == key)
    };
    assert!(has("vars.xml", "local_ip_v4"), "{mismatches:?}");
    assert!(
        has("default.yml", "mediasoup.webrtc.listenIps[0].announcedIp"),
        "{mismatches:?}"
    );
    assert!(has("sip.nginx", "proxy_pass"), "{mismatches:?}");
    assert!(has("lo", "lo:bbbnat"), "{mismatches:?}");
    let text = hook(&i, &m, &[], &["status"]).await;
    assert!(
        text.stdout.contains("MISMATCH") && text.stdout.contains("vars.xml"),
        "{}",
        text.stdout
    );

    hook(&i, &m, &[], &["configure"]).await.ok();
    let after = status(hook(&i, &m, &[], &["status", "--json"]).await);
    assert_eq!(
        after["media"]["mismatches"],
        serde_json::json!([]),
        "{}",
        after["media"]
    );
    assert_eq!(after["media"]["public"], "203.0.113.10");
}
