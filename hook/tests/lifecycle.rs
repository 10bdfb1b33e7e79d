//! The real `bbb-hook` binary against an IMDS double, BBB and Scalelite doubles, moto and the
//! lifecycle-action stub: launch, protect, drain and status, and their failure modes.

mod support;

use std::time::Duration;

use bbb_core::scalelite::ServerState;
use bbb_doubles::DoubleMeeting;
use support::{Instance, LAUNCHING_HOOK, TERMINATING_HOOK};

const EX_TEMPFAIL: i32 = 75;
const EX_CONFIG: i32 = 78;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn launch_creates_the_record_registers_and_completes_the_lifecycle_action() {
    let i = Instance::new(60).await;
    let run = i.hook(&["launch"]).await;
    run.ok();
    assert_eq!(i.record().await, Some(vec![i.address.to_string()]));
    let server = i.server().expect("registered in Scalelite");
    assert_eq!(server.state, ServerState::Enabled);
    assert_eq!(server.secret, support::BBB_SECRET);
    assert_eq!(server.load_multiplier, 2.0);
    // A heartbeat when the launch starts (first boot used part of the launching hook's
    // timeout), then one completion, last.
    let calls = i.lifecycle.calls().await;
    let completions: Vec<_> = calls
        .iter()
        .filter(|c| c.action == "CompleteLifecycleAction")
        .collect();
    assert_eq!(completions.len(), 1, "{calls:?}");
    let last = calls.last().expect("calls");
    assert_eq!(last.action, "CompleteLifecycleAction");
    assert_eq!(last.hook_name, LAUNCHING_HOOK);
    assert_eq!(last.instance_id, i.instance_id);
    assert_eq!(last.result.as_deref(), Some("CONTINUE"));
    assert!(calls
        .iter()
        .all(|c| c.hook_name == LAUNCHING_HOOK && c.instance_id == i.instance_id));
    assert!(run.stderr.contains("launch complete"), "{}", run.stderr);
    // The configuration is cached for the timer's runs.
    assert!(i.path("state/hook-config.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn launch_twice_changes_nothing() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    let first = i.server().expect("registered");
    i.scalelite.reset_calls();
    let lifecycle_calls = i.lifecycle.calls().await.len();
    let run = i.hook(&["launch"]).await;
    run.ok();
    // A reboot's launch: the launching action was completed, nothing to heartbeat or complete.
    assert_eq!(
        i.lifecycle.calls().await.len(),
        lifecycle_calls,
        "{}",
        run.stderr
    );
    assert_eq!(i.scalelite.servers().len(), 1);
    assert_eq!(i.server().expect("registered").id, first.id);
    assert_eq!(i.scalelite.calls("addServer"), 0);
    assert_eq!(i.scalelite.calls("updateServer"), 0);
    assert!(
        run.stderr.contains("dns record already in place"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("registration already in place"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn launch_reuses_and_corrects_an_existing_registration() {
    let i = Instance::new(60).await;
    let mut old = bbb_doubles::DoubleServer::new(i.server_url(), "an-old-secret");
    old.load_multiplier = 1.0;
    let id = i.scalelite.insert_server(old);
    i.hook(&["launch"]).await.ok();
    let s = i.server().expect("registered");
    assert_eq!(s.id, id, "the existing registration is reused");
    assert_eq!(s.secret, support::BBB_SECRET);
    assert_eq!(s.load_multiplier, 2.0);
    assert_eq!(s.state, ServerState::Enabled);
    assert_eq!(i.scalelite.servers().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protect_follows_live_meetings_and_calls_aws_only_on_change() {
    let i = Instance::new(60).await;
    i.hook_with(&["launch"], &support::MEETINGS_ONLY).await.ok();
    let run = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
    run.ok();
    assert!(!i.protected().await);
    // The group already says "not protected": no call is needed.
    assert!(
        !run.stderr.contains("scale-in protection set"),
        "{}",
        run.stderr
    );

    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(i.protected().await, "a live meeting protects the instance");
    let again = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
    again.ok();
    assert!(
        !again.stderr.contains("scale-in protection set"),
        "no AWS call when nothing changed: {}",
        again.stderr
    );

    assert!(i.bbb.end_meeting("m1"));
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(
        !i.protected().await,
        "protection off once the meeting ended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protect_repairs_a_vanished_registration() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    let id = i.server().expect("registered").id;
    assert!(i.scalelite.remove_server(&id));
    let run = i.hook(&["protect"]).await;
    run.ok();
    let s = i.server().expect("registration repaired");
    assert_eq!(s.state, ServerState::Enabled);
    assert!(
        run.stderr.contains("registration repaired"),
        "{}",
        run.stderr
    );
}

/// No pass of the hook owns the multiplier (it does not spread bursts by multipliers,
/// ARCHITECTURE.md): the periodic registration repair puts the configured one back when it was
/// changed outside the hook.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protect_restores_the_configured_multiplier() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    let id = i.server().expect("registered").id;
    assert!(i.scalelite.modify_server(&id, |s| s.load_multiplier = 7.5));
    let run = i
        .hook_with(&["protect"], &[("BBB_HOOK_RECONCILE_INTERVAL", "0.01")])
        .await;
    run.ok();
    let s = i.server().expect("registered");
    assert_eq!(s.load_multiplier, 2.0, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protect_keeps_protection_when_bbb_cannot_be_asked() {
    let mut i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    i.hook(&["protect"]).await.ok();
    assert!(i.protected().await);
    i.bbb.stop().await;
    let run = i.hook(&["protect"]).await;
    assert_eq!(run.code, EX_TEMPFAIL, "{}", run.stderr);
    assert!(
        i.protected().await,
        "an unreachable BBB must not drop protection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drain_on_the_lifecycle_signal_waits_for_meetings_and_heartbeats() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    i.bbb.add_breakout("m1", 3).expect("breakout");
    let child = i
        .command(&["drain", "--on-lifecycle-signal"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn drain");
    i.eventually("the watcher polls a few times", || {
        i.imds
            .calls("/latest/meta-data/autoscaling/target-lifecycle-state")
            >= 3
    })
    .await;
    assert_eq!(
        i.server().expect("registered").state,
        ServerState::Enabled,
        "nothing happens before the signal"
    );
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    i.eventually("cordoned", || {
        i.server().is_some_and(|s| s.state == ServerState::Cordoned)
    })
    .await;
    // Breakout rooms alone keep the drain waiting.
    assert!(i.bbb.end_meeting("m1"));
    i.bbb.add_meeting(DoubleMeeting {
        is_breakout: true,
        ..DoubleMeeting::new("breakout-only", "Room 1")
    });
    let polls = i.bbb.calls("getMeetings");
    i.eventually("three more polls", || {
        i.bbb.calls("getMeetings") >= polls + 3
    })
    .await;
    assert!(
        i.server().is_some(),
        "still registered while a breakout room runs"
    );
    i.eventually_async("heartbeats keep the lifecycle action alive", || async {
        i.heartbeats(TERMINATING_HOOK).await >= 1
    })
    .await;
    i.bbb.end_meeting("breakout-only");
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("drain finishes")
        .expect("drain output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(i.server().is_none(), "deregistered");
    assert_eq!(i.record().await, None, "record deleted");
    let calls = i.lifecycle.calls().await;
    let last = calls.last().expect("calls");
    assert_eq!(last.action, "CompleteLifecycleAction");
    assert_eq!(last.hook_name, TERMINATING_HOOK);
    assert_eq!(last.result.as_deref(), Some("CONTINUE"));
    // A second drain (systemd stopping the launch unit at shutdown) finds the work done.
    let again = i.hook(&["drain"]).await;
    again.ok();
    assert!(again.stderr.contains("already drained"), "{}", again.stderr);
    // And launch refuses to bring a drained instance back: not a configuration error, but
    // not retried either.
    let refused = i.hook(&["launch"]).await;
    assert_eq!(refused.code, EX_CONFIG);
    assert!(
        refused.stderr.contains("launch refused"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("configuration error"),
        "{}",
        refused.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drain_past_the_limit_leaves_anyway() {
    let i = Instance::new(1).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Endless"));
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let run = i.hook(&["drain"]).await;
    run.ok();
    assert!(run.stderr.contains("max wait reached"), "{}", run.stderr);
    assert!(i.server().is_none());
    assert_eq!(i.record().await, None);
    assert!(i.completed(TERMINATING_HOOK).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drain_with_scalelite_down_still_removes_dns_and_completes() {
    let mut i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.scalelite.stop().await;
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let run = i.hook(&["drain"]).await;
    assert_eq!(run.code, EX_TEMPFAIL, "{}", run.stderr);
    assert!(
        run.stderr.contains("registration left for terraform apply"),
        "{}",
        run.stderr
    );
    assert_eq!(i.record().await, None, "record deleted");
    assert!(i.completed(TERMINATING_HOOK).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_configuration_is_a_clear_error_and_changes_nothing() {
    let i = Instance::new(60).await;
    let mut bad = i.config.clone();
    bad["record_name_template"] = "bbb".into();
    bbb_core::testing::put_parameter(&i.aws, &i.config_parameter, &bad.to_string(), false).await;
    let run = i.hook(&["launch"]).await;
    assert_eq!(run.code, EX_CONFIG, "{}", run.stderr);
    assert!(
        run.stderr.contains("record_name_template"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&i.config_parameter), "{}", run.stderr);
    assert!(i.scalelite.servers().is_empty());

    // BBB's secret missing: nothing registered, no record.
    bbb_core::testing::put_parameter(&i.aws, &i.config_parameter, &i.config.to_string(), false)
        .await;
    std::fs::write(i.path("bbb-web.properties"), "# empty\n").expect("write");
    let run = i.hook(&["launch"]).await;
    assert_eq!(run.code, EX_CONFIG, "{}", run.stderr);
    assert!(run.stderr.contains("securitySalt"), "{}", run.stderr);
    assert!(i.scalelite.servers().is_empty());
    assert_eq!(i.record().await, None);

    // A parameter that does not exist names the variable.
    let mut cmd = i.command(&["launch"]);
    cmd.env(
        "BBB_FLEET_HOOK_CONFIG_PARAMETER",
        "/bbb/fleets/none/hook-config",
    );
    let out = cmd.output().await.expect("run");
    assert_eq!(out.status.code(), Some(EX_CONFIG));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BBB_FLEET_HOOK_CONFIG_PARAMETER"));

    // A bad command line is a usage error.
    assert_eq!(i.hook(&["lanch"]).await.code, 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_reports_every_part() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    let run = i.hook(&["status", "--json"]).await;
    run.ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(v["instance_id"], i.instance_id.as_str());
    assert_eq!(v["dns"], i.address.to_string().as_str());
    assert_eq!(v["scalelite"]["state"], "enabled");
    assert_eq!(v["bbb"]["meetings"], 1);
    assert_eq!(v["autoscaling"]["lifecycle_state"], "InService");
    let text = i.hook(&["status"]).await;
    text.ok();
    assert!(text.stdout.contains(&i.record_name()), "{}", text.stdout);
    let name = i.hook(&["record-name"]).await;
    assert_eq!(name.stdout.trim(), i.record_name());
}
