//! An instance the group has on standby takes no new meeting: "Instances that are on standby
//! are still part of the Auto Scaling group, but they do not actively handle load balancer
//! traffic" (EC2 Auto Scaling user guide). Scalelite is the fleet's load balancer: the server is
//! cordoned (its meetings go on), and enabled again once the instance is back in service. The
//! group is moto's (`EnterStandby`, `ExitStandby`); the metadata service's
//! `autoscaling/target-lifecycle-state` follows it, as AWS updates it "when an instance prepares
//! to transition" to `Standby` or `InService`.

mod support;

use bbb_core::scalelite::ServerState;
use bbb_doubles::{DoubleMeeting, PolledMeeting, LOAD_JOIN_BUFFER_TIME};
use support::{Instance, CONSOLIDATING, IN_FLIGHT};

/// The group puts the instance on standby (or back in service), and the metadata service says so.
async fn standby(i: &Instance, on: bool) {
    let asg = i.aws.autoscaling_sdk();
    if on {
        asg.enter_standby()
            .auto_scaling_group_name(&i.group)
            .instance_ids(&i.instance_id)
            .should_decrement_desired_capacity(true)
            .send()
            .await
            .expect("EnterStandby");
    } else {
        asg.exit_standby()
            .auto_scaling_group_name(&i.group)
            .instance_ids(&i.instance_id)
            .send()
            .await
            .expect("ExitStandby");
    }
    i.imds
        .set_target_lifecycle_state(Some(if on { "Standby" } else { "InService" }));
}

/// The instance is detached from the group (or attached again), and the metadata service says so.
async fn detached(i: &Instance, detach: bool) {
    let asg = i.aws.autoscaling_sdk();
    if detach {
        asg.detach_instances()
            .auto_scaling_group_name(&i.group)
            .instance_ids(&i.instance_id)
            .should_decrement_desired_capacity(true)
            .send()
            .await
            .expect("DetachInstances");
    } else {
        asg.attach_instances()
            .auto_scaling_group_name(&i.group)
            .instance_ids(&i.instance_id)
            .send()
            .await
            .expect("AttachInstances");
    }
    i.imds
        .set_target_lifecycle_state(Some(if detach { "Detached" } else { "InService" }));
}

fn state_of(i: &Instance) -> ServerState {
    i.server().expect("registered").state
}

/// Every user of the server's one meeting drops at once (a network blip), and Scalelite's
/// poller reads its load zero: the cordoned server is disabled.
fn users_drop(i: &Instance, me: &str) {
    let dropped = PolledMeeting {
        participants: 0,
        moderators: 0,
        is_breakout: false,
        age: LOAD_JOIN_BUFFER_TIME * 2,
    };
    assert!(i
        .scalelite
        .poll_meetings(me, &[dropped], LOAD_JOIN_BUFFER_TIME));
    assert_eq!(state_of(i), ServerState::Disabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_on_standby_takes_no_new_meeting_and_takes_them_again_once_back_in_service() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(3, 1));
    let me = i.server().expect("registered").id;
    let polled = |participants| PolledMeeting {
        participants,
        moderators: 0,
        is_breakout: false,
        age: LOAD_JOIN_BUFFER_TIME * 2,
    };
    assert!(i
        .scalelite
        .poll_meetings(&me, &[polled(3)], LOAD_JOIN_BUFFER_TIME));

    standby(&i, true).await;
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);
    assert!(i.scalelite.route_create(None).is_none(), "no new meeting");
    assert!(i.scalelite.route_join(&me), "its meeting keeps its joins");
    assert!(
        pass.stderr.contains("reason=instance_on_standby"),
        "{}",
        pass.stderr
    );

    // Everyone dropped at once: Scalelite's poller disables the cordoned server; the standby's
    // cordon is the hook's, so it is made again while the meeting runs.
    assert!(i
        .scalelite
        .poll_meetings(&me, &[polled(0)], LOAD_JOIN_BUFFER_TIME));
    assert_eq!(state_of(&i), ServerState::Disabled);
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);
    assert!(
        pass.stderr.contains("cordon=\"standby\""),
        "{}",
        pass.stderr
    );

    standby(&i, false).await;
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Enabled, "{}", pass.stderr);
    assert!(i.protected().await, "protected before it is enabled");
    assert!(
        pass.stderr.contains("reason=instance_back_in_service"),
        "{}",
        pass.stderr
    );
    assert_eq!(i.state()["standby"], "no");
}

/// An operator cordoned the server for maintenance before the standby: left cordoned after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cordon_made_before_the_standby_outlasts_it() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    let me = i.server().expect("registered").id;
    assert!(i
        .scalelite
        .modify_server(&me, |s| s.state = ServerState::Cordoned));

    standby(&i, true).await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert_eq!(i.state()["standby"], "found");
    standby(&i, false).await;
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);
    assert_eq!(i.state()["standby"], "no");
}

/// Standby is for rebooting and updating an instance without the group replacing it: the boot's
/// launch registers the server and leaves it out of Scalelite's routing until the instance is
/// back in service.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reboot_on_standby_does_not_enable_the_server() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    standby(&i, true).await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    // The shutdown's drain (not terminating) takes the registration out.
    i.hook(&["drain"]).await.ok();
    assert!(i.server().is_none());

    let boot = i.hook(&["launch"]).await;
    boot.ok();
    assert_ne!(state_of(&i), ServerState::Enabled, "{}", boot.stderr);
    assert!(i.scalelite.route_create(None).is_none(), "{}", boot.stderr);
    assert_eq!(i.state()["launched"], true);
    assert_eq!(i.state()["standby"], "made");

    standby(&i, false).await;
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Enabled, "{}", pass.stderr);
    assert!(i.protected().await);
}

/// FreeSWITCH died before the standby: the health check's cordon stays through it and after,
/// and the check lifts it once FreeSWITCH answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_health_checks_cordon_outlasts_the_standby() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    let env = [
        CONSOLIDATING[0],
        CONSOLIDATING[1],
        ("BBB_HOOK_HEALTH_FAILURES", "4"),
    ];
    i.freeswitch.kill();
    for _ in 0..2 {
        i.hook_with(&["protect"], &env).await.ok();
    }
    assert_eq!(state_of(&i), ServerState::Cordoned, "the health check's");

    standby(&i, true).await;
    i.hook_with(&["protect"], &env).await.ok();
    assert_eq!(i.state()["standby"], "found");
    standby(&i, false).await;
    let pass = i.hook_with(&["protect"], &env).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);

    i.freeswitch.revive().await.expect("revive");
    let pass = i.hook_with(&["protect"], &env).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Enabled, "{}", pass.stderr);
}

/// Only a target lifecycle state read as `InService` ends the standby: a pass that cannot tell
/// (the metadata item missing, the service erring) leaves the server cordoned.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unknown_lifecycle_state_does_not_end_the_standby() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    standby(&i, true).await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    i.imds.set_target_lifecycle_state(None);
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    assert_ne!(state_of(&i), ServerState::Enabled, "{}", pass.stderr);
    assert_eq!(i.state()["standby"], "made");
}

/// A cordon Scalelite did not take (or an `enable` made meanwhile) is made again at the next
/// pass on standby, and lifted back in service.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_standby_cordon_is_made_again() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    standby(&i, true).await;
    // The first try and the client's three retries.
    i.scalelite.fail_next_calls("updateServer", 4, 500);
    let failed = i.hook_with(&["protect"], &CONSOLIDATING).await;
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    assert_eq!(state_of(&i), ServerState::Enabled);
    assert_eq!(i.state()["standby"], "made", "recorded before the write");
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);
    standby(&i, false).await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert_eq!(state_of(&i), ServerState::Enabled);
}

/// The standby's cordon meets a save of Scalelite's poller that read the server enabled
/// (`lib/tasks/poll.rake`: `Server.all`, then `save!` per server): the record says cordoned, but
/// the server is back in `server_load` and takes new meetings on a server the operator is about
/// to work on. The next pass on standby sees a meeting created past the cordon and takes the
/// server out of the routing (disable, then cordon), as the other cordons' checks do.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_standby_cordon_scalelite_undid_is_made_again() {
    let (i, me) = Instance::launched_with_a_meeting().await;
    let env = [CONSOLIDATING[0], CONSOLIDATING[1], IN_FLIGHT];
    standby(&i, true).await;
    let read = i.scalelite.poll_read(&me).expect("registered");
    assert_eq!(read.state, ServerState::Enabled);
    let pass = i.hook_with(&["protect"], &env).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);
    i.save_poll(&read);
    assert_eq!(
        i.create_later(&me, "m2").await.as_deref(),
        Some(me.as_str()),
        "the poller's write-back routes a create to the server on standby"
    );
    i.protect_repairs(&env, "standby").await;
    assert!(i.scalelite.route_join(&me), "its meetings keep their joins");

    // Back in service, the server is enabled as before.
    standby(&i, false).await;
    i.hook_with(&["protect"], &env).await.ok();
    assert_eq!(state_of(&i), ServerState::Enabled);
}

/// While meetings run on standby, a pass reads Scalelite's servers once: the standby's cordon
/// and its joinable check share the read, which still finds a cordon Scalelite's poller turned
/// `disabled` and makes it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pass_on_standby_reads_the_servers_once() {
    let (i, me) = Instance::launched_with_a_meeting().await;
    standby(&i, true).await;
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert_eq!(state_of(&i), ServerState::Cordoned);

    let before = i.scalelite.calls("getServers");
    let pass = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
    pass.ok();
    assert_eq!(
        i.scalelite.calls("getServers") - before,
        1,
        "{}",
        pass.stderr
    );
    assert_eq!(
        pass.stderr
            .matches("/scalelite-secret\" duration_ms")
            .count(),
        1,
        "Scalelite's secret read once a pass: {}",
        pass.stderr
    );

    users_drop(&i, &me);
    let before = i.scalelite.calls("getServers");
    let pass = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);
    assert!(
        pass.stderr.contains("cordon=\"standby\""),
        "{}",
        pass.stderr
    );
    assert_eq!(
        i.scalelite.calls("getServers") - before,
        1,
        "{}",
        pass.stderr
    );
}

/// Meetings on standby are protected (the group may scale in as soon as the instance is back in
/// service), and a BBB stopped for the maintenance does not fail the pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn meetings_on_standby_are_protected_and_a_stopped_bbb_is_no_error() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(!i.protected().await, "idle, protection follows meetings");
    standby(&i, true).await;
    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(3, 1));
    let pass = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
    pass.ok();
    assert!(i.protected().await, "{}", pass.stderr);
    assert_eq!(state_of(&i), ServerState::Cordoned);

    i.bbb.fail_next(100, 503);
    let pass = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
    pass.ok();
    assert!(i.protected().await, "never lowered on standby");
}

/// A reboot on standby whose launch keeps failing is not reported unhealthy: standby is for
/// rebooting and troubleshooting "without worrying about Amazon EC2 Auto Scaling terminating the
/// instances as part of its health checks" (EC2 Auto Scaling user guide).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_launch_on_standby_is_not_reported_unhealthy() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    standby(&i, true).await;
    i.launch_failing_for_long();
    let run = i.hook(&["launch"]).await;
    assert_eq!(run.code, 75, "retried:\n{}", run.stderr);
    assert!(
        i.lifecycle
            .request_bodies("SetInstanceHealth")
            .await
            .is_empty(),
        "{}",
        run.stderr
    );
}

/// A server consolidation had cordoned before the standby keeps its meetings joinable through
/// it: Scalelite's poller disables it when their users all dropped, and the pass on standby
/// cordons it again for consolidation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cordon_found_at_the_standby_keeps_its_meetings_joinable() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(3, 1));
    i.cordon_as_surplus().await;
    let me = i.server().expect("registered").id;
    standby(&i, true).await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert_eq!(i.state()["standby"], "found");

    users_drop(&i, &me);
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);
    assert!(
        pass.stderr.contains("cordon=\"consolidation\""),
        "{}",
        pass.stderr
    );
}

/// A refused protection does not hold the standby's cordon back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_protection_on_standby_still_cordons() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    standby(&i, true).await;
    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(3, 1));
    i.deny_next_protection().await;
    let pass = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
    assert_ne!(pass.code, 0, "{}", pass.stderr);
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(i.protected().await, "protected at the next pass");
}

/// A detached instance takes no new meeting either ("the instances are deregistered from the
/// load balancer", DetachInstances), and is not protected by the group it left; attached again,
/// it takes meetings again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_detached_instance_takes_no_new_meeting_until_attached_again() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(3, 1));
    let protections = i
        .lifecycle
        .request_bodies("SetInstanceProtection")
        .await
        .len();
    detached(&i, true).await;
    let pass = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);
    assert!(
        pass.stderr.contains("reason=instance_detached"),
        "{}",
        pass.stderr
    );
    assert_eq!(
        i.lifecycle
            .request_bodies("SetInstanceProtection")
            .await
            .len(),
        protections,
        "not the group's to protect any more"
    );

    assert_eq!(
        i.state()["protected"],
        serde_json::Value::Null,
        "lost with the detachment"
    );
    detached(&i, false).await;
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Enabled, "{}", pass.stderr);
    assert!(i.protected().await, "protected again before it is enabled");
}

/// AWS runs no launching hook for an attached instance ("Does not apply when you attach or
/// detach instances", lifecycle hooks' availability): a reboot while detached finds the instance
/// in no group, and its launch is what joins the fleet once it is attached again. The wait
/// outside the group is not the join timeout's: the instance is never reported unhealthy for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reboot_while_detached_joins_the_fleet_once_attached_again() {
    let i = rebooted_while_detached().await;
    // Detached for three join timeouts while the boot's launch runs.
    let (ok, stderr) = boot_attached_after(&i, 3).await;
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("waiting"),
        "the wait outside the group is logged: {stderr}"
    );
    assert_eq!(state_of(&i), ServerState::Enabled, "{stderr}");
    assert!(i.protected().await, "protected before it is enabled");
    assert!(
        i.lifecycle
            .request_bodies("SetInstanceHealth")
            .await
            .is_empty(),
        "never reported unhealthy for the time outside the group"
    );
}

/// A launch that gave up joining before the detachment (a join begun long ago) does not give up
/// again outside the group: it waits to be attached, as a fresh one does.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_launch_long_past_its_join_timeout_waits_while_detached() {
    let i = rebooted_while_detached().await;
    let now = support::unix_now();
    i.edit_state(|state| state["join_started_at"] = (now - 3600).into());
    let (ok, stderr) = boot_attached_after(&i, 2).await;
    assert!(ok, "{stderr}");
    assert_eq!(state_of(&i), ServerState::Enabled, "{stderr}");
}

/// A launched instance, detached, then shut down for a reboot (its drain, not terminating,
/// takes the registration out).
async fn rebooted_while_detached() -> Instance {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    detached(&i, true).await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    i.hook(&["drain"]).await.ok();
    assert!(i.server().is_none());
    i
}

/// The boot's launch (join timeout 1 s), the instance attached again after `seconds` outside the
/// group, during which the server is not routable: whether the launch succeeded, and its log.
async fn boot_attached_after(i: &Instance, seconds: u64) -> (bool, String) {
    let boot = i.spawn(&["launch"], &[("BBB_HOOK_JOIN_TIMEOUT", "1")]);
    tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
    assert_ne!(
        i.server().map(|s| s.state),
        Some(ServerState::Enabled),
        "not routable outside the group"
    );
    detached(i, false).await;
    let boot = tokio::time::timeout(std::time::Duration::from_secs(30), boot.wait_with_output())
        .await
        .expect("the launch ends once attached")
        .expect("bbb-hook launch");
    (
        boot.status.success(),
        String::from_utf8_lossy(&boot.stderr).into_owned(),
    )
}
