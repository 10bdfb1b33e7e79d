//! `bbb_scalelite_server` and the Scalelite data sources under the real Terraform CLI,
//! against the Scalelite and BBB doubles (checksums, shapes and errors of the real APIs).

use bbb_acceptance_tests::{Doubles, Workspace};
use bbb_core::scalelite::ServerState;
use bbb_doubles::bbb::DoubleMeeting;
use serde_json::json;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");
const LB_SECRET: &str = "scalelite-lb-secret-0123456789";

fn server_config(url: &str, state: &str, multiplier: f64, tag: &str) -> String {
    format!(
        r#"
resource "bbb_scalelite_server" "s" {{
  url               = "{url}"
  secret_wo         = "bbb-secret-one"
  secret_wo_version = 1
  state             = "{state}"
  load_multiplier   = {multiplier}
  tag               = "{tag}"
}}
"#
    )
}

#[test]
fn lifecycle_create_update_drift_replace_remove_destroy() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let ws = env.workspace();
    ws.write_config(&server_config(
        "https://bbb1.example.com",
        "enabled",
        2.0,
        "exam",
    ));

    let change = ws.planned_change("bbb_scalelite_server.s");
    assert_eq!(change["change"]["actions"], json!(["create"]));
    assert_eq!(
        change["change"]["after"]["api_url"],
        json!("https://bbb1.example.com/bigbluebutton/api")
    );
    ws.apply();

    let servers = env.scalelite.servers();
    assert_eq!(servers.len(), 1);
    let server = &servers[0];
    assert_eq!(server.url, "https://bbb1.example.com/bigbluebutton/api");
    assert_eq!(
        server.secret, "bbb-secret-one",
        "the write-only secret reached Scalelite"
    );
    assert_eq!(
        (server.state, server.load_multiplier, server.tag.as_deref()),
        (ServerState::Enabled, 2.0, Some("exam"))
    );
    let values = ws.resource_values("bbb_scalelite_server.s");
    assert_eq!(values["id"], json!(server.id));
    assert_eq!(
        values["url"],
        json!("https://bbb1.example.com"),
        "the configuration's spelling is kept"
    );
    assert_eq!(values["online"], json!(false));
    assert!(
        !ws.raw_state().contains("bbb-secret-one"),
        "write-only secret leaked into state"
    );
    ws.assert_no_changes();

    // In-place update of state and multiplier.
    ws.write_config(&server_config(
        "https://bbb1.example.com",
        "cordoned",
        3.0,
        "exam",
    ));
    let change = ws.planned_change("bbb_scalelite_server.s");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    ws.apply();
    let now = env.scalelite.server(&server.id).expect("still there");
    assert_eq!(
        (now.state, now.load_multiplier),
        (ServerState::Cordoned, 3.0)
    );
    // Scalelite's poller disables a cordoned server with no load: not drift.
    env.scalelite
        .modify_server(&server.id, |s| s.state = ServerState::Disabled);
    ws.assert_no_changes();

    // Drift: changed outside Terraform, shown in the plan, repaired by apply.
    env.scalelite.modify_server(&server.id, |s| {
        s.tag = Some("other".into());
        s.load_multiplier = 5.0;
    });
    let change = ws.planned_change("bbb_scalelite_server.s");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    assert_eq!(change["change"]["before"]["tag"], json!("other"));
    assert_eq!(change["change"]["after"]["load_multiplier"], json!(3));
    ws.apply();
    let now = env.scalelite.server(&server.id).expect("still there");
    assert_eq!(
        (now.tag.as_deref(), now.load_multiplier),
        (Some("exam"), 3.0)
    );

    // A new URL replaces the server.
    ws.write_config(&server_config(
        "https://bbb2.example.com/bigbluebutton/api",
        "enabled",
        3.0,
        "exam",
    ));
    let change = ws.planned_change("bbb_scalelite_server.s");
    assert_eq!(change["change"]["actions"], json!(["delete", "create"]));
    assert_eq!(change["change"]["replace_paths"], json!([["url"]]));
    ws.apply();
    let servers = env.scalelite.servers();
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0].url, "https://bbb2.example.com/bigbluebutton/api");
    assert_ne!(servers[0].id, server.id);

    // Removed outside Terraform: refresh forgets it, the next plan registers it again.
    assert!(env.scalelite.remove_server(&servers[0].id));
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(ws.resource_values("bbb_scalelite_server.s"), json!(null));
    assert_eq!(
        ws.planned_change("bbb_scalelite_server.s")["change"]["actions"],
        json!(["create"])
    );
    ws.apply();
    assert_eq!(env.scalelite.servers().len(), 1);

    ws.destroy();
    assert!(env.scalelite.servers().is_empty());
}

#[test]
fn import_by_id_and_by_url_then_nothing_to_change() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let mut existing = bbb_doubles::scalelite::DoubleServer::new(
        "https://bbb7.example.com/bigbluebutton/api",
        "s7",
    );
    existing.state = ServerState::Enabled;
    existing.tag = Some("lecture".into());
    let id = env.scalelite.insert_server(existing);
    let config = r#"
resource "bbb_scalelite_server" "s" {
  url    = "https://bbb7.example.com/bigbluebutton/api"
  secret = "s7"
  tag    = "lecture"
}
"#;
    for import_id in [id.as_str(), "https://bbb7.example.com"] {
        let ws = env.workspace();
        ws.write_config(config);
        ws.ok(&["import", "-no-color", "bbb_scalelite_server.s", import_id]);
        let values = ws.resource_values("bbb_scalelite_server.s");
        assert_eq!(values["id"], json!(id));
        assert_eq!(values["state"], json!("enabled"));
        ws.assert_no_changes();
    }
    let ws = env.workspace();
    ws.write_config(config);
    let text = ws
        .fails(&[
            "import",
            "-no-color",
            "bbb_scalelite_server.s",
            "no-such-server",
        ])
        .flat();
    assert!(
        text.contains("Scalelite has no server with ID or URL \"no-such-server\""),
        "{text}"
    );

    // Creating a server whose URL is already registered points at import instead of duplicating.
    let text = ws.fails(&["apply", "-auto-approve", "-no-color"]).flat();
    assert!(
        text.contains(&format!("is already registered as server {id}")),
        "{text}"
    );
    assert_eq!(
        env.scalelite.servers().len(),
        1,
        "no duplicate registration"
    );
}

#[test]
fn destroy_drains_until_bbb_reports_no_meetings() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let bbb = env.bbb("bbb-drain-secret");
    bbb.add_meeting(DoubleMeeting::new("exam-1", "Exam").with_participants(12, 1));
    bbb.add_breakout("exam-1", 3).expect("breakout room");
    let ws = env.workspace();
    ws.write_config(&format!(
        r#"
resource "bbb_scalelite_server" "s" {{
  url              = "{}"
  secret           = "bbb-drain-secret"
  drain_on_destroy = true
  drain_timeout    = "2m"
}}
"#,
        bbb.url()
    ));
    ws.apply();
    let id = env.scalelite.servers()[0].id.clone();

    let destroyer = std::thread::spawn(move || {
        let run = ws.terraform(&["destroy", "-auto-approve", "-no-color"]);
        (run, ws)
    });
    // While meetings run, the server is cordoned and stays registered.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while env.scalelite.server(&id).map(|s| s.state) != Some(ServerState::Cordoned) {
        assert!(
            std::time::Instant::now() < deadline,
            "server was never cordoned"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(
        env.scalelite.server(&id).is_some(),
        "removed while meetings ran"
    );
    // Everyone moves to the breakout room: the parent reads zero participants (Scalelite's
    // load would read zero too), but BBB still lists meetings.
    assert!(bbb.set_participants("exam-1", 0, 0));
    std::thread::sleep(std::time::Duration::from_secs(6));
    assert!(
        env.scalelite.server(&id).is_some(),
        "removed while a breakout room ran"
    );
    // Ending the meeting ends its breakout rooms too, as in BBB.
    assert!(bbb.end_meeting("exam-1"));
    let (run, _ws) = destroyer.join().expect("destroy thread");
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(env.scalelite.server(&id).is_none(), "removed once drained");
}

#[test]
fn drain_timeout_keeps_the_server_and_says_why() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let bbb = env.bbb("bbb-busy");
    bbb.add_meeting(DoubleMeeting::new("never-ends", "Webinar").with_participants(40, 2));
    let ws = env.workspace();
    ws.write_config(&format!(
        "resource \"bbb_scalelite_server\" \"s\" {{\n  url = \"{}\"\n  secret = \"bbb-busy\"\n  drain_on_destroy = true\n  drain_timeout = \"1s\"\n}}\n",
        bbb.url()
    ));
    ws.apply();
    let text = ws.fails(&["destroy", "-auto-approve", "-no-color"]).flat();
    assert!(text.contains("Server did not drain in time"), "{text}");
    assert!(text.contains("1 meeting(s) still run on it"), "{text}");
    let servers = env.scalelite.servers();
    assert_eq!(servers.len(), 1, "kept while meetings run");
    assert_eq!(servers[0].state, ServerState::Cordoned);
    assert!(!text.contains("bbb-busy\""), "secret echoed: {text}");
}

#[test]
fn bad_input_is_rejected_at_plan_naming_the_attribute() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let ws = env.workspace();
    ws.write_config(
        r#"
resource "bbb_scalelite_server" "a" {
  url             = "ftp://bbb.example.com"
  secret          = ""
  state           = "on"
  load_multiplier = 0
}

resource "bbb_scalelite_server" "b" {
  url = "https://bbb.example.com?x=1"
}
"#,
    );
    let text = ws.fails(&["plan", "-no-color"]).flat();
    for expected in [
        r#"url must be an http or https URL with a host; got scheme "ftp"."#,
        "secret must not be empty.",
        r#"state must be one of "enabled", "cordoned", "disabled"; got "on"."#,
        "load_multiplier must be greater than 0; got 0.",
        "Invalid BBB server URL in url",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // A new server without any secret is refused when planned (an imported one may keep the
    // secret Scalelite holds, so configuration alone cannot tell).
    ws.write_config(
        r#"
resource "bbb_scalelite_server" "c" {
  url = "https://bbb.example.com"
}
"#,
    );
    let text = ws.fails(&["plan", "-no-color"]).flat();
    assert!(text.contains("Missing secret"), "{text}");
    assert_eq!(env.scalelite.total_calls(), 0, "nothing reached Scalelite");
}

#[test]
fn refresh_of_many_servers_costs_one_get_servers_call() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let ws = env.workspace();
    ws.write_config(
        r#"
resource "bbb_scalelite_server" "s" {
  count  = 12
  url    = "https://bbb${count.index}.example.com"
  secret = "secret-${count.index}"
}
"#,
    );
    ws.apply();
    assert_eq!(env.scalelite.servers().len(), 12);
    env.scalelite.reset_calls();
    ws.assert_no_changes();
    assert_eq!(
        env.scalelite.calls("getServers"),
        1,
        "one shared getServers for 12 refreshes"
    );
    assert_eq!(env.scalelite.total_calls(), 1);
}

#[test]
fn data_sources_list_the_pool_and_a_servers_meetings() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let bbb = env.bbb("bbb-ds");
    bbb.add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(5, 1));
    let mut tagged = bbb_doubles::scalelite::DoubleServer::new(bbb.url(), "bbb-ds");
    tagged.tag = Some("exam".into());
    tagged.state = ServerState::Enabled;
    let id = env.scalelite.insert_server(tagged);
    env.scalelite
        .insert_server(bbb_doubles::scalelite::DoubleServer::new(
            "https://other.example.com/bigbluebutton/api",
            "x",
        ));
    let ws = env.workspace();
    ws.write_config(
        r#"
data "bbb_scalelite_servers" "exam" {
  tag = "exam"
}

data "bbb_scalelite_servers" "all" {}

data "bbb_server_meetings" "m" {
  server_id = data.bbb_scalelite_servers.exam.ids[0]
}

output "exam_ids" { value = data.bbb_scalelite_servers.exam.ids }
output "all_count" { value = length(data.bbb_scalelite_servers.all.servers) }
output "meetings" { value = data.bbb_server_meetings.m.meeting_count }
output "participants" { value = data.bbb_server_meetings.m.participant_count }
output "first_state" { value = data.bbb_scalelite_servers.exam.servers[0].state }
"#,
    );
    ws.apply();
    let out: serde_json::Value =
        serde_json::from_str(&ws.ok(&["output", "-json"]).stdout).expect("outputs");
    assert_eq!(out["exam_ids"]["value"], json!([id]));
    assert_eq!(out["all_count"]["value"], json!(2));
    assert_eq!(out["meetings"]["value"], json!(1));
    assert_eq!(out["participants"]["value"], json!(5));
    assert_eq!(out["first_state"]["value"], json!("enabled"));
    assert!(
        !ws.raw_state().contains("bbb-ds\""),
        "a server secret reached the state"
    );
}

#[test]
fn scalelite_errors_are_clear_and_secret_free() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let mut ws = env.workspace();
    ws.set_env("BBB_SCALELITE_SECRET", "wrong-secret-value");
    ws.write_config("resource \"bbb_scalelite_server\" \"s\" {\n  url = \"https://bbb.example.com\"\n  secret = \"abc\"\n}\n");
    let text = ws.fails(&["apply", "-auto-approve", "-no-color"]).flat();
    assert!(text.contains("checksumError"), "{text}");
    assert!(
        !text.contains("wrong-secret-value"),
        "secret in error: {text}"
    );
    assert!(env.scalelite.servers().is_empty());

    let ws = {
        let mut ws = Workspace::new(PROVIDER);
        ws.set_env("BBB_SCALELITE_URL", &env.scalelite.url());
        ws
    };
    ws.write_config("resource \"bbb_scalelite_server\" \"s\" {\n  url = \"https://bbb.example.com\"\n  secret = \"abc\"\n}\n");
    let text = ws.fails(&["apply", "-auto-approve", "-no-color"]).flat();
    assert!(
        text.contains("Provider attribute scalelite_secret is not set"),
        "{text}"
    );
    assert!(text.contains("BBB_SCALELITE_SECRET"), "{text}");
}

/// A create whose wanted state cannot be set removes the registration again; when that removal
/// fails too, the registration is not forgotten: Terraform keeps it in state as tainted and the
/// next apply replaces it (deleteServer, then addServer), instead of registering the URL twice.
#[test]
fn a_registration_that_cannot_be_undone_is_kept_tainted_and_replaced() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let ws = env.workspace(); // BBB_MAX_RETRIES=0: one attempt per call
    ws.write_config(&server_config(
        "https://bbb1.example.com",
        "enabled",
        1.0,
        "exam",
    ));
    env.scalelite.fail_next_calls("updateServer", 1, 500);
    env.scalelite.fail_next_calls("deleteServer", 1, 500);
    let text = ws.fails(&["apply", "-auto-approve", "-no-color"]).flat();
    assert!(text.contains("Could not undo the registration"), "{text}");

    let servers = env.scalelite.servers();
    assert_eq!(servers.len(), 1, "the registration stays in Scalelite");
    let registered = servers[0].id.clone();
    let state = ws.state_json();
    let resource = state["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == "bbb_scalelite_server.s"))
        .cloned()
        .unwrap_or_else(|| panic!("the registration is in state: {state}"));
    assert_eq!(resource["tainted"], json!(true), "{resource}");
    assert_eq!(resource["values"]["id"], json!(registered));
    assert!(
        !ws.raw_state().contains("bbb-secret-one"),
        "write-only secret leaked into the kept state"
    );

    let change = ws.planned_change("bbb_scalelite_server.s");
    assert_eq!(change["change"]["actions"], json!(["delete", "create"]));
    ws.apply();
    let servers = env.scalelite.servers();
    assert_eq!(servers.len(), 1, "replaced, not registered twice");
    assert_ne!(servers[0].id, registered);
    assert_eq!(servers[0].state, ServerState::Enabled);
    ws.assert_no_changes();
}
