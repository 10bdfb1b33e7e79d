//! The documentation's examples run: each folder of examples/resources and examples/data-sources
//! whose type the provider has (the pages in docs/ show them, see scripts/gen-docs) is copied
//! as it is into a workspace, and planned, then applied, against the Scalelite and BBB doubles.
//! The provider block is left out of these folders: Scalelite's URL and secret come from the
//! environment (BBB_SCALELITE_URL, BBB_SCALELITE_SECRET), the examples' variables from TF_VAR_*.

use std::collections::BTreeSet;
use std::path::Path;

use bbb_acceptance_tests::{repo_root, Doubles, Workspace};
use bbb_core::scalelite::ServerState;
use bbb_doubles::bbb::DoubleMeeting;
use serde_json::{json, Value};

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");
const LB_SECRET: &str = "scalelite-lb-secret-docs-0123456789";

/// The example folders the tests below run; every folder of a type the provider has belongs here.
const COVERED: &[&str] = &[
    "resources/bbb_scalelite_server",
    "data-sources/bbb_scalelite_servers",
    "data-sources/bbb_server_meetings",
];

/// A workspace holding a copy of `examples/<folder>`, its provider pointed at the double.
fn example(env: &Doubles, folder: &str) -> Workspace {
    let ws = Doubles::example(env, folder);
    let src = repo_root().join("examples").join(folder);
    let text = std::fs::read_to_string(src.join(if folder.starts_with("resources/") {
        "resource.tf"
    } else {
        "data-source.tf"
    }))
    .expect("example file");
    assert!(
        !text.contains("provider \"bbb\""),
        "{folder}: a provider block would override the doubles' settings"
    );
    ws
}

fn outputs(ws: &Workspace) -> Value {
    serde_json::from_str(&ws.ok(&["output", "-json"]).stdout).expect("outputs JSON")
}

fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["resource_changes"]
        .as_array()
        .and_then(|rc| rc.iter().find(|c| c["address"] == address))
        .unwrap_or_else(|| panic!("no planned change for {address}: {plan}"))
}

#[test]
fn example_folders_run_here_exist_and_others_are_named() {
    let types: BTreeSet<String> = terraform_provider_bbb::resources::all()
        .iter()
        .map(|r| format!("resources/{}", r.type_name()))
        .chain(
            terraform_provider_bbb::resources::all_data_sources()
                .iter()
                .map(|d| format!("data-sources/{}", d.type_name())),
        )
        .collect();
    let root = repo_root().join("examples");
    let mut missing = Vec::new();
    for kind in ["resources", "data-sources"] {
        for entry in std::fs::read_dir(root.join(kind)).into_iter().flatten() {
            let name = format!(
                "{kind}/{}",
                entry.expect("dir entry").file_name().to_string_lossy()
            );
            if types.contains(&name) && !COVERED.contains(&name.as_str()) {
                missing.push(name);
            }
        }
    }
    // A type still being written may have its example before its test: named, not failed.
    if !missing.is_empty() {
        eprintln!("note: example folders not run by tests/tests/doc_examples.rs yet: {missing:?}");
    }
    for folder in COVERED {
        assert!(
            Path::new(&root.join(folder)).is_dir(),
            "examples/{folder} is gone"
        );
    }
}

#[test]
fn scalelite_server_example_imports_creates_and_converges() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    // import-by-string-id.tf imports the lecture-hall server, already registered by URL.
    let lecture = env.insert_server(
        "https://bbb-lecture.example.org/bigbluebutton/api",
        "lecture-secret",
        ServerState::Disabled,
        None,
        false,
    );
    let mut ws = example(&env, "resources/bbb_scalelite_server");
    ws.set_env("TF_VAR_lecture_hall_secret", "lecture-secret");
    ws.set_env("TF_VAR_seminar_secret", "seminar-secret");

    let plan = ws.plan_json();
    let hall = change(&plan, "bbb_scalelite_server.lecture_hall");
    assert_eq!(
        hall["change"]["importing"]["id"],
        json!("https://bbb-lecture.example.org/bigbluebutton/api"),
        "{hall}"
    );
    assert_eq!(
        hall["change"]["actions"],
        json!(["update"]),
        "imported, then state, multiplier and tag set: {hall}"
    );
    assert_eq!(hall["change"]["after"]["load_multiplier"], json!(2));
    let seminar = change(&plan, "bbb_scalelite_server.seminar");
    assert_eq!(seminar["change"]["actions"], json!(["create"]));
    assert_eq!(
        seminar["change"]["after"]["api_url"],
        json!("https://bbb-seminar.example.org/bigbluebutton/api")
    );

    ws.apply();
    let hall = env
        .scalelite
        .server(&lecture)
        .expect("lecture hall still registered");
    assert_eq!(
        (hall.state, hall.load_multiplier, hall.tag.as_deref()),
        (ServerState::Enabled, 2.0, Some("lecture"))
    );
    let servers = env.scalelite.servers();
    assert_eq!(servers.len(), 2, "{servers:?}");
    let seminar = servers
        .iter()
        .find(|s| s.id != lecture)
        .expect("seminar server");
    assert_eq!(
        seminar.url,
        "https://bbb-seminar.example.org/bigbluebutton/api"
    );
    assert_eq!(seminar.state, ServerState::Cordoned);
    assert_eq!(
        seminar.secret, "seminar-secret",
        "the write-only secret reached Scalelite"
    );
    assert!(
        !ws.raw_state().contains("seminar-secret"),
        "write-only secret in state"
    );
    // Scalelite's poller disables the idle cordoned server: still no change.
    env.scalelite
        .modify_server(&seminar.id, |s| s.state = ServerState::Disabled);
    ws.assert_no_changes();
}

#[test]
fn scalelite_servers_example_lists_and_filters_the_pool() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let a = env.insert_server(
        "https://bbb1.example.org/bigbluebutton/api",
        "s1",
        ServerState::Enabled,
        Some("lecture"),
        true,
    );
    env.insert_server(
        "https://bbb2.example.org/bigbluebutton/api",
        "s2",
        ServerState::Cordoned,
        Some("lecture"),
        true,
    );
    let c = env.insert_server(
        "https://bbb3.example.org/bigbluebutton/api",
        "s3",
        ServerState::Enabled,
        None,
        false,
    );
    let ws = example(&env, "data-sources/bbb_scalelite_servers");

    let plan = ws.plan_json();
    assert_eq!(
        plan["planned_values"]["outputs"]["lecture_server_urls"]["value"],
        json!(["https://bbb1.example.org/bigbluebutton/api"]),
        "{plan}"
    );
    ws.apply();
    let out = outputs(&ws);
    assert_eq!(
        out["lecture_server_urls"]["value"],
        json!(["https://bbb1.example.org/bigbluebutton/api"])
    );
    assert_eq!(out["offline_server_ids"]["value"], json!([c]));
    assert!(
        !ws.raw_state().contains("\"s1\""),
        "a server secret was listed"
    );
    assert_eq!(
        ws.resource_values("data.bbb_scalelite_servers.lecture")["ids"],
        json!([a])
    );
}

#[test]
fn server_meetings_example_reads_pool_and_standalone_servers() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let pooled = env.bbb("pooled-secret");
    pooled.add_meeting(DoubleMeeting::new("lecture-1", "Lecture").with_participants(40, 2));
    pooled.add_meeting(DoubleMeeting::new("office-hours", "Office hours").with_participants(3, 1));
    let id = env.insert_server(
        &pooled.url(),
        "pooled-secret",
        ServerState::Enabled,
        None,
        true,
    );
    let idle = env.bbb("idle-secret");
    let idle_id = env.insert_server(&idle.url(), "idle-secret", ServerState::Enabled, None, true);
    // Not enabled: left out by the example's filter.
    env.insert_server(
        "https://bbb-off.example.org/bigbluebutton/api",
        "off",
        ServerState::Disabled,
        None,
        false,
    );

    let standalone = env.bbb("standalone-secret");
    standalone.add_meeting(DoubleMeeting::new("exam", "Exam").with_participants(10, 1));
    standalone.add_breakout("exam", 4).expect("breakout room");

    let mut ws = example(&env, "data-sources/bbb_server_meetings");
    ws.set_env("TF_VAR_standalone_url", &standalone.url());
    ws.set_env("TF_VAR_standalone_secret", "standalone-secret");
    ws.plan_json();
    ws.apply();
    let out = outputs(&ws);
    let mut expected = serde_json::Map::new();
    expected.insert(id, json!(43));
    expected.insert(idle_id, json!(0));
    assert_eq!(
        out["participants_by_server"]["value"],
        Value::Object(expected),
        "{out}"
    );
    let rooms = out["standalone_breakout_rooms"]["value"]
        .as_array()
        .expect("breakout list")
        .clone();
    assert_eq!(rooms.len(), 1, "{out}");
}
