//! The actions (`terraform apply -invoke=action.<type>.<name>`, Terraform 1.14+) under the real
//! Terraform CLI: `bbb_scalelite_server_drain` and `bbb_scalelite_server_state` against the
//! Scalelite and BBB doubles, `bbb_fleet_check` against moto and the Scalelite double; progress
//! lines, plan-time checks, timeouts, and Ctrl-C (StopProvider) during a drain.

use std::time::{Duration, Instant};

use bbb_acceptance_tests::fleet_env::Env as FleetEnv;
use bbb_acceptance_tests::{Doubles, Workspace};
use bbb_core::scalelite::ServerState;
use bbb_doubles::bbb::DoubleMeeting;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");
const LB_SECRET: &str = "scalelite-lb-secret-actions";
const BBB_SECRET: &str = "bbb-secret-of-the-drained-server";

fn drain_action(server: &str, timeout: &str, remove: bool) -> String {
    format!(
        r#"
action "bbb_scalelite_server_drain" "d" {{
  config {{
    server            = "{server}"
    timeout           = "{timeout}"
    remove_when_empty = {remove}
  }}
}}
"#
    )
}

fn invoke(action: &str) -> Vec<String> {
    [
        "apply",
        "-auto-approve",
        "-no-color",
        &format!("-invoke=action.{action}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run_invoke(ws: &Workspace, action: &str) -> bbb_acceptance_tests::Run {
    let args = invoke(action);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ws.terraform(&args)
}

fn wait_for_state(env: &Doubles, id: &str, state: ServerState) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while env.scalelite.server(id).map(|s| s.state) != Some(state) {
        assert!(Instant::now() < deadline, "server never became {state:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A BBB double running `meeting`, registered (enabled) in the Scalelite double; its ID.
fn busy_server(env: &Doubles, meeting: DoubleMeeting) -> (bbb_doubles::bbb::BbbDouble, String) {
    let bbb = env.bbb(BBB_SECRET);
    bbb.add_meeting(meeting);
    let id = env.insert_server(&bbb.url(), BBB_SECRET, ServerState::Enabled, None, true);
    (bbb, id)
}

#[test]
fn drain_cordons_reports_progress_waits_for_bbb_and_removes_when_empty() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let (bbb, id) = busy_server(
        &env,
        DoubleMeeting::new("exam-1", "Exam").with_participants(12, 1),
    );
    bbb.add_breakout("exam-1", 3).expect("breakout room");
    let ws = env.workspace();
    // Named by URL, without the API path.
    ws.write_config(&drain_action(
        bbb.url().trim_end_matches("/bigbluebutton/api"),
        "2m",
        true,
    ));
    let runner = std::thread::spawn(move || {
        let run = run_invoke(&ws, "bbb_scalelite_server_drain.d");
        (run, ws)
    });
    wait_for_state(&env, &id, ServerState::Cordoned);
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        env.scalelite.server(&id).is_some(),
        "removed while meetings ran"
    );
    assert_eq!(bbb.meetings().len(), 2, "the drain ended a meeting");
    // Ending the meeting ends its breakout room: BBB lists nothing, the drain ends.
    assert!(bbb.end_meeting("exam-1"));
    let (run, _ws) = runner.join().expect("invoke thread");
    let text = run.flat();
    assert_eq!(run.code, 0, "{text}");
    assert!(
        text.contains(&format!("Cordoned server {id}")),
        "no cordon line: {text}"
    );
    assert!(
        text.contains("2 meetings, 15 participants left on"),
        "no progress line: {text}"
    );
    assert!(text.contains("was removed from Scalelite"), "{text}");
    assert!(env.scalelite.server(&id).is_none(), "removed once empty");
    assert!(!text.contains(BBB_SECRET), "secret shown: {text}");
}

#[test]
fn drain_timeout_keeps_the_server_cordoned_ends_no_meeting_and_says_so() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let (bbb, id) = busy_server(
        &env,
        DoubleMeeting::new("never-ends", "Webinar").with_participants(40, 2),
    );
    let ws = env.workspace();
    ws.write_config(&drain_action(&id, "1s", true));
    let run = run_invoke(&ws, "bbb_scalelite_server_drain.d");
    let text = run.flat();
    assert_ne!(run.code, 0, "{text}");
    assert!(text.contains("did not drain in time"), "{text}");
    assert!(text.contains("1 meeting, 40 participants"), "{text}");
    assert!(text.contains("stays cordoned"), "{text}");
    let server = env.scalelite.server(&id).expect("kept registered");
    assert_eq!(server.state, ServerState::Cordoned);
    assert_eq!(bbb.meetings().len(), 1, "a meeting was ended");
    assert!(!text.contains(BBB_SECRET), "secret shown: {text}");
}

#[test]
fn ctrl_c_ends_the_drain_within_seconds_and_leaves_the_server_cordoned() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let (bbb, id) = busy_server(
        &env,
        DoubleMeeting::new("lecture", "Lecture").with_participants(30, 1),
    );
    let ws = env.workspace();
    ws.write_config(&drain_action(&id, "30m", true));
    let args = invoke("bbb_scalelite_server_drain.d");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = ws.spawn(&args);
    wait_for_state(&env, &id, ServerState::Cordoned);
    // Inside the wait: at least one reading was taken.
    std::thread::sleep(Duration::from_secs(3));
    let (run, took) = Workspace::interrupt(child);
    let text = run.flat();
    assert!(
        took < Duration::from_secs(10),
        "the drain ran {took:?} after Ctrl-C:\n{text}"
    );
    assert_ne!(run.code, 0, "{text}");
    assert!(text.contains("Cancelled"), "{text}");
    assert!(text.contains("stays cordoned"), "{text}");
    assert!(text.contains("1 meeting, 30 participants"), "{text}");
    let server = env.scalelite.server(&id).expect("still registered");
    assert_eq!(server.state, ServerState::Cordoned);
    assert_eq!(bbb.meetings().len(), 1, "a meeting was ended");
}

#[test]
fn state_action_cordons_and_enables_and_plan_refuses_an_unknown_server() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let id = env.insert_server(
        "https://bbb7.example.com/bigbluebutton/api",
        "bbb7-secret",
        ServerState::Enabled,
        None,
        true,
    );
    let ws = env.workspace();
    let state_action = |server: &str, state: &str| {
        format!(
            "action \"bbb_scalelite_server_state\" \"s\" {{\n  config {{\n    server = \"{server}\"\n    state  = \"{state}\"\n  }}\n}}\n"
        )
    };
    ws.write_config(&state_action("HTTPS://BBB7.example.com/", "cordoned"));
    let run = run_invoke(&ws, "bbb_scalelite_server_state.s");
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.flat().contains("enabled -> cordoned"), "{}", run.flat());
    assert_eq!(
        env.scalelite.server(&id).expect("server").state,
        ServerState::Cordoned
    );

    ws.write_config(&state_action(&id, "enabled"));
    let run = run_invoke(&ws, "bbb_scalelite_server_state.s");
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(
        env.scalelite.server(&id).expect("server").state,
        ServerState::Enabled
    );

    // An unknown server is refused when the invocation is planned: nothing changes.
    ws.write_config(&state_action("https://nobody.example.com", "cordoned"));
    let plan = ws.fails(&[
        "plan",
        "-no-color",
        "-invoke=action.bbb_scalelite_server_state.s",
    ]);
    assert!(
        plan.flat().contains("No such Scalelite server"),
        "{}",
        plan.flat()
    );
    let run = run_invoke(&ws, "bbb_scalelite_server_state.s");
    assert_ne!(run.code, 0);
    assert_eq!(
        env.scalelite.server(&id).expect("server").state,
        ServerState::Enabled
    );
    assert!(!run.flat().contains("bbb7-secret"), "{}", run.flat());
}

#[test]
fn fleet_check_reports_each_disagreement_and_changes_nothing() {
    let env = FleetEnv::new(PROVIDER);
    let group = env.group(3);
    let ids = env.instance_ids(&group.name);
    assert_eq!(ids.len(), 3);
    let described = env
        .rt
        .block_on(env.aws.describe_instances(&ids))
        .expect("DescribeInstances");
    let ip = |id: &str| {
        described
            .iter()
            .find(|i| i.instance_id == *id)
            .and_then(|i| i.public_ip.or(i.private_ip))
            .expect("an address")
    };
    let (good, wrong_ip, unregistered) = (&ids[0], &ids[1], &ids[2]);
    // good: its record on its address, registered, under load and protected.
    // wrong_ip: a record on another address, registered, under load but unprotected.
    // unregistered: no record, no registration.
    let upsert = |id: &str, addr: std::net::Ipv4Addr| {
        env.rt
            .block_on(env.aws.change_records(
                &env.zone_id,
                &[
                    bbb_core::aws::RecordChange::A(bbb_core::aws::ARecordChange::upsert(
                        env.record_name(id),
                        addr,
                        60,
                    )),
                    bbb_core::aws::RecordChange::Txt(bbb_core::aws::ownership::upsert(
                        env.record_name(id),
                        &group.name,
                        60,
                    )),
                ],
            ))
            .expect("upsert record");
    };
    upsert(good, ip(good));
    upsert(wrong_ip, std::net::Ipv4Addr::new(192, 0, 2, 77));
    let good_server = env.register(&env.record_name(good), Some("main"));
    let wrong_server = env.register(&env.record_name(wrong_ip), Some("main"));
    env.scalelite.set_load(&good_server, Some(12.0));
    env.scalelite.set_load(&wrong_server, Some(30.0));
    env.rt
        .block_on(
            env.aws
                .set_instance_protection(&group.name, std::slice::from_ref(good), true),
        )
        .expect("protect");
    // A gone instance's name and registration, carrying this group's mark.
    let gone = "i-0aaaaaaaaaaaaaaa1";
    env.upsert_owned(&env.record_name(gone), 9, &group.name);
    let gone_server = env.register(&env.record_name(gone), Some("main"));

    let records_before = env.records();
    let servers_before = env.scalelite.servers();
    let ws = env.workspace();
    ws.write_config(&format!(
        r#"{}
action "bbb_fleet_check" "c" {{
  config {{
    autoscaling_group_name = "{asg}"
    hosted_zone_id         = "{zone}"
    domain                 = "{domain}"
    scalelite_tag          = "main"
  }}
}}
"#,
        env.provider_block(),
        asg = group.name,
        zone = env.zone_id,
        domain = env.domain,
    ));
    let run = run_invoke(&ws, "bbb_fleet_check.c");
    let text = run.flat();
    assert_eq!(run.code, 0, "{text}");
    assert!(text.contains("3 instance(s) in service checked"), "{text}");
    assert!(text.contains("7 disagreement(s)"), "{text}");
    // The test group was made without protect_from_scale_in.
    assert!(
        text.contains(&format!(
            "{}: the group does not protect new instances from scale-in",
            group.name
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{wrong_ip}: A record")) && text.contains("192.0.2.77"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{unregistered}: no A record")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{unregistered}: not registered in Scalelite")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{wrong_ip}: Scalelite reports load 30")),
        "{text}"
    );
    assert!(
        !text.contains(&format!("{good}: ")),
        "good instance flagged: {text}"
    );
    assert!(
        text.contains(&format!("Scalelite server {gone_server}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("left from instance {gone}")),
        "{text}"
    );
    // Nothing changed.
    assert_eq!(env.records(), records_before);
    assert_eq!(env.scalelite.servers(), servers_before);
}

/// The documentation's action examples (examples/actions/, shown in docs/actions/) run as written.
#[test]
fn the_server_action_examples_run_as_documented() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let id = env.insert_server(
        "https://bbb1.example.com/bigbluebutton/api",
        "bbb1-secret",
        ServerState::Cordoned,
        None,
        true,
    );
    let ws = env.example("actions/bbb_scalelite_server_state");
    let run = run_invoke(&ws, "bbb_scalelite_server_state.bbb1");
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(
        env.scalelite.server(&id).expect("server").state,
        ServerState::Enabled
    );
    // The drain is planned (Scalelite knows the server), not run: bbb1.example.com is not here.
    let ws = env.example("actions/bbb_scalelite_server_drain");
    ws.ok(&[
        "plan",
        "-no-color",
        "-invoke=action.bbb_scalelite_server_drain.bbb1",
    ]);
    assert_eq!(
        env.scalelite.server(&id).expect("server").state,
        ServerState::Enabled,
        "a plan changed the server"
    );
}
