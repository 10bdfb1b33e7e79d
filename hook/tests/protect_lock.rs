//! protect, launch and drain against each other (D7, P3), protect's repairs (G15, G17), and the
//! launching hook's heartbeats during a slow launch (G7).

mod support;

use std::time::Duration;

use bbb_core::scalelite::ServerState;
use support::{Instance, LAUNCHING_HOOK, TERMINATING_HOOK};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_protect_pass_racing_a_drain_never_brings_the_server_back() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    // protect reads the state (not draining) and then waits on a slow BBB...
    i.bbb.delay_next(1, Duration::from_secs(4));
    let protect = i.spawn(&["protect"], &[("BBB_HOOK_REQUEST_TIMEOUT", "10")]);
    i.eventually("protect asks BBB", || i.bbb.calls("getMeetings") >= 1)
        .await;
    // ... while the instance is drained and deregistered.
    let drain = i.spawn(&["drain"], &[]);
    let protect = i.finish(protect).await;
    assert_eq!(protect.code, 0, "{}", protect.stderr);
    let drain = i.finish(drain).await;
    assert_eq!(drain.code, 0, "{}", drain.stderr);
    assert!(
        i.server().is_none(),
        "a drained server must not be registered again: {:?}",
        i.server()
    );
    let state = i.state();
    assert_eq!(
        state["drained"], true,
        "the drain's state survives: {state}"
    );
    // A later pass leaves the drained instance alone.
    i.hook(&["protect"]).await.ok();
    assert!(i.server().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protect_corrects_the_secret_but_keeps_an_operators_cordon() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    let id = i.server().expect("registered").id;
    // An operator cordons the server in Scalelite for maintenance (and the secret drifted).
    i.scalelite.modify_server(&id, |s| {
        s.state = ServerState::Cordoned;
        s.secret = "someone-elses-secret".into();
    });
    let run = i.hook(&["protect"]).await;
    run.ok();
    let s = i.server().expect("registered");
    assert_eq!(s.id, id);
    assert_eq!(s.secret, support::BBB_SECRET, "the secret is BBB's again");
    assert_eq!(
        s.state,
        ServerState::Cordoned,
        "protect never undoes a cordon it did not make: {}",
        run.stderr
    );
    assert!(run.stderr.contains("left as is"), "{}", run.stderr);
    // Scalelite's poller turns a cordoned server at load 0 into disabled: still left alone.
    i.scalelite
        .modify_server(&id, |s| s.state = ServerState::Disabled);
    i.hook_with(&["protect"], &[("BBB_HOOK_RECONCILE_INTERVAL", "0.01")])
        .await
        .ok();
    assert_eq!(i.server().map(|s| s.state), Some(ServerState::Disabled));

    // A registration that vanished is added again, and enabled: launch had enabled it.
    assert!(i.scalelite.remove_server(&id));
    let run = i
        .hook_with(&["protect"], &[("BBB_HOOK_RECONCILE_INTERVAL", "0.01")])
        .await;
    run.ok();
    assert_eq!(
        i.server().map(|s| s.state),
        Some(ServerState::Enabled),
        "{}",
        run.stderr
    );

    // While draining, nothing is re-added or re-enabled.
    let id = i.server().expect("registered").id;
    let mut state = i.state();
    state["draining"] = true.into();
    state["registration_checked_at"] = 0.into();
    std::fs::write(i.path("state/state.json"), state.to_string()).expect("write state");
    assert!(i.scalelite.remove_server(&id));
    i.hook(&["protect"]).await.ok();
    assert!(i.server().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protect_corrects_protection_changed_outside_the_hook() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(!i.protected().await);
    // An operator (or a group protecting new instances) sets protection on an idle server.
    i.aws
        .set_instance_protection(&i.group, std::slice::from_ref(&i.instance_id), true)
        .await
        .expect("set protection");
    let run = i
        .hook_with(
            &["protect"],
            &[
                support::MEETINGS_ONLY[0],
                ("BBB_HOOK_RECONCILE_INTERVAL", "0.01"),
            ],
        )
        .await;
    run.ok();
    assert!(!i.protected().await, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_launch_after_a_reboot_drain_resets_the_drain_before_enabling() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    // A reboot: the shutdown drain (not terminating) deregistered the server.
    i.hook(&["drain"]).await.ok();
    assert_eq!(i.state()["drained"], true);
    // The next boot's launch registers (disabled until the group has the instance in service
    // and protected), then cannot join: the Auto Scaling endpoint is unreachable.
    let run = i
        .hook_with(
            &["launch"],
            &[
                ("AWS_ENDPOINT_URL_AUTO_SCALING", "http://127.0.0.1:9"),
                // Shorter than the state's one-second clock: this run still gets its try
                // (registered, disabled), whatever second it began in.
                ("BBB_HOOK_JOIN_TIMEOUT", "0.5"),
            ],
        )
        .await;
    // Not even the health report gets through: retried (75), not given up.
    assert_eq!(run.code, 75, "{}", run.stderr);
    assert_eq!(i.server().map(|s| s.state), Some(ServerState::Disabled));
    // The group terminates the instance now: the drain must take the new registration out,
    // not answer "already drained".
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let drain = i.hook(&["drain"]).await;
    drain.ok();
    assert!(i.server().is_none(), "{}", drain.stderr);
    assert_eq!(i.record().await, None);
    assert!(i.completed(TERMINATING_HOOK).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_launch_keeps_the_launching_hook_alive() {
    let i = Instance::new(60).await;
    let mut cfg = i.config.clone();
    cfg["launching_heartbeat_timeout"] = 1.into();
    bbb_core::testing::put_parameter(&i.aws, &i.config_parameter, &cfg.to_string(), false).await;
    // Scalelite answers slowly (its first calls take 2.5 s each).
    i.scalelite.delay_next(2, Duration::from_millis(2500));
    let run = i.hook(&["launch"]).await;
    run.ok();
    let beats = i.heartbeats(LAUNCHING_HOOK).await;
    assert!(
        beats >= 4,
        "{beats} heartbeats in a 5 s launch:\n{}",
        run.stderr
    );
    assert!(i.completed(LAUNCHING_HOOK).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreadable_state_file_is_an_error_not_a_fresh_start() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb
        .add_meeting(bbb_doubles::DoubleMeeting::new("m1", "Lecture"));
    i.hook(&["protect"]).await.ok();
    assert!(i.protected().await);
    // The state file cannot be read (here: something else sits at its path).
    let file = i.path("state/state.json");
    std::fs::remove_file(&file).expect("remove state");
    std::fs::create_dir(&file).expect("dir in its place");
    let run = i.hook(&["protect"]).await;
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("state.json"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("not launched yet"),
        "an unreadable state is not an empty one: {}",
        run.stderr
    );
    assert!(i.protected().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protection_follows_meetings_when_the_group_cannot_be_read() {
    // The reconcile's DescribeAutoScalingInstances refused: an image with this hook on a fleet
    // whose instance policy predates the reconcile, or the call throttled. Scale-in protection
    // must still follow the meetings; only the comparison with the group waits.
    let i = Instance::with_policy(60, |p| {
        p.without_action("autoscaling:DescribeAutoScalingInstances")
    })
    .await;
    i.hook(&["launch"]).await.ok();
    i.bbb
        .add_meeting(bbb_doubles::DoubleMeeting::new("m1", "Lecture"));
    let run = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
    assert!(i.protected().await, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("read the instance's scale-in protection"),
        "the refused reconcile is logged: {}",
        run.stderr
    );
    assert_eq!(i.state()["protection_checked_at"], 0, "retried next pass");
    i.bbb.end_meeting("m1");
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(!i.protected().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_boots_dns_only_launch_keeps_the_launching_hook_alive() {
    // First boot runs `launch --dns-only` and waits for Route53 (up to BBB_HOOK_DNS_TIMEOUT)
    // inside the launching hook's timeout, before certbot, the EFS wait and the launch unit.
    let i = Instance::new(60).await;
    let run = i.hook(&["launch", "--dns-only"]).await;
    run.ok();
    assert_eq!(i.record().await, Some(vec![i.address.to_string()]));
    assert!(
        i.heartbeats(LAUNCHING_HOOK).await >= 1,
        "no launching heartbeat during the DNS wait:\n{}",
        run.stderr
    );
    assert!(
        !i.completed(LAUNCHING_HOOK).await,
        "dns-only completes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_launch_on_an_instance_the_group_is_terminating_does_not_enable_it() {
    // The launching action timed out (ABANDON) or a scale-in took the pending instance: the
    // target lifecycle state is Terminated before the launch enables the server. Enabling it
    // would let Scalelite place meetings on an instance about to go.
    let i = Instance::new(60).await;
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let run = i.hook(&["launch"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert_ne!(
        i.server().map(|s| s.state),
        Some(ServerState::Enabled),
        "{}",
        run.stderr
    );
    // The drain takes out what the launch made.
    i.hook(&["drain"]).await.ok();
    assert!(i.server().is_none());
    assert_eq!(i.record().await, None);
    assert!(i.completed(TERMINATING_HOOK).await);
}
