//! A server whose FreeSWITCH died while it hosts meetings is cordoned in Scalelite: bbb-web still
//! answers `getMeetings`, so Scalelite's poller keeps it online and, without the cordon, keeps
//! routing new meetings (least-loaded) to a server without audio. Cordoned, not disabled:
//! Scalelite's `join` refuses a disabled or offline server, not a cordoned one
//! (`bigbluebutton_api_controller.rb`), so the running meetings keep their joins. The Unhealthy
//! report still waits for the meetings to end; FreeSWITCH back before that lifts the cordon.

mod support;

use bbb_core::aws::HealthStatus;
use bbb_core::scalelite::ServerState;
use bbb_doubles::{DoubleMeeting, DoubleServer, PolledMeeting, LOAD_JOIN_BUFFER_TIME};
use support::Instance;

/// Every pass checks the registration too (registration repair must not undo the cordon).
const ENV: [(&str, &str); 2] = [
    ("BBB_HOOK_HEALTH_FAILURES", "4"),
    ("BBB_HOOK_RECONCILE_INTERVAL", "0.01"),
];

/// The group's health of the instance, as the administrator reads it.
async fn health(i: &Instance) -> HealthStatus {
    bbb_core::testing::group_instances(&i.aws, &i.group)
        .await
        .into_iter()
        .find(|x| x.instance_id == i.instance_id)
        .expect("instance in group")
        .health_status
}

/// A launched instance hosting one meeting, and another server in Scalelite with more load:
/// Scalelite's least-loaded routing sends a new meeting to this instance while it is enabled.
/// Returns this instance's and the other server's Scalelite ids.
async fn busy_instance_and_another_server() -> (Instance, String, String) {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    let other = i.scalelite.insert_server(DoubleServer {
        state: ServerState::Enabled,
        load: Some(500.0),
        online: true,
        ..DoubleServer::new("https://other.example.org/bigbluebutton/api", "other")
    });
    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(3, 1));
    let me = i.server().expect("registered").id;
    poll(&i, &me, 1);
    let first = i.hook_with(&["protect"], &ENV).await;
    first.ok();
    assert!(i.protected().await, "protected while its meeting runs");
    (i, me, other)
}

/// One pass of Scalelite's poller over this instance: bbb-web answers `getMeetings` (with
/// `meetings` meetings) even with FreeSWITCH dead.
fn poll(i: &Instance, id: &str, meetings: usize) {
    let m = PolledMeeting {
        participants: 3,
        moderators: 1,
        is_breakout: false,
        age: LOAD_JOIN_BUFFER_TIME * 2,
    };
    assert!(i
        .scalelite
        .poll_meetings(id, &vec![m; meetings], LOAD_JOIN_BUFFER_TIME));
}

fn state_of(i: &Instance) -> ServerState {
    i.server().expect("registered").state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_freeswitch_under_a_meeting_is_cordoned_then_reported_once_it_ends() {
    let (i, me, other) = busy_instance_and_another_server().await;
    assert_eq!(
        i.scalelite.route_create(None).map(|s| s.id),
        Some(me.clone()),
        "enabled and least loaded: this server takes the next meeting"
    );
    poll(&i, &me, 1);

    i.freeswitch.kill();
    // One failed pass: a flap, nothing done.
    i.hook_with(&["protect"], &ENV).await.ok();
    assert_eq!(state_of(&i), ServerState::Enabled, "one failure is a flap");
    // The second: cordoned, one decision event with its inputs and reason.
    poll(&i, &me, 1);
    let cordon = i.hook_with(&["protect"], &ENV).await;
    cordon.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", cordon.stderr);
    let events: Vec<&str> = cordon
        .stderr
        .lines()
        .filter(|l| l.contains("health decision") && l.contains("action=cordon"))
        .collect();
    assert_eq!(events.len(), 1, "{}", cordon.stderr);
    assert!(
        events[0].contains("reason=freeswitch_dead") && events[0].contains("\"freeswitch\":"),
        "{}",
        events[0]
    );
    assert_eq!(
        i.scalelite.route_create(None).map(|s| s.id),
        Some(other.clone()),
        "a new meeting goes to another server"
    );
    assert!(
        i.scalelite.route_join(&me),
        "the running meeting keeps its joins"
    );

    // Up to and past the report threshold (4), the meeting still running: cordoned, held, not
    // ended, and registration repair (every pass here) leaves the cordon.
    for pass in 3..=5 {
        poll(&i, &me, 1);
        let held = i.hook_with(&["protect"], &ENV).await;
        held.ok();
        let reason = if pass < 4 { "flap" } else { "hosting_meetings" };
        assert!(
            held.stderr.contains(&format!("reason={reason}")),
            "{}",
            held.stderr
        );
        assert!(!held.stderr.contains("action=cordon"), "cordoned once");
        assert_eq!(state_of(&i), ServerState::Cordoned, "{}", held.stderr);
    }
    assert_eq!(
        i.bbb.meetings().len(),
        1,
        "the meeting is never ended by us"
    );
    assert_eq!(i.bbb.calls("end"), 0);
    assert_eq!(health(&i).await, HealthStatus::Healthy);

    // The meeting ends; the poller turns the empty cordoned server disabled; the report follows.
    i.bbb.end_meeting("m1");
    poll(&i, &me, 0);
    assert_eq!(state_of(&i), ServerState::Disabled);
    let report = i.hook_with(&["protect"], &ENV).await;
    report.ok();
    assert!(
        report.stderr.contains("action=report_unhealthy")
            && report.stderr.contains("reason=dead_and_idle"),
        "{}",
        report.stderr
    );
    assert_eq!(health(&i).await, HealthStatus::Unhealthy);
    assert_ne!(state_of(&i), ServerState::Enabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn freeswitch_back_before_the_meetings_end_lifts_the_cordon() {
    let (i, me, _other) = busy_instance_and_another_server().await;
    i.freeswitch.kill();
    for _ in 0..3 {
        poll(&i, &me, 1);
        i.hook_with(&["protect"], &ENV).await.ok();
    }
    assert_eq!(state_of(&i), ServerState::Cordoned);

    // The registration vanishes meanwhile: repair adds it back, cordoned, not enabled.
    assert!(i.scalelite.remove_server(&me));
    let repaired = i.hook_with(&["protect"], &ENV).await;
    repaired.ok();
    let me = i.server().expect("registration repaired").id;
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", repaired.stderr);

    i.freeswitch.revive().await.expect("revive");
    poll(&i, &me, 1);
    let back = i.hook_with(&["protect"], &ENV).await;
    back.ok();
    assert_eq!(state_of(&i), ServerState::Enabled, "{}", back.stderr);
    let events: Vec<&str> = back
        .stderr
        .lines()
        .filter(|l| l.contains("health decision") && l.contains("action=uncordon"))
        .collect();
    assert_eq!(events.len(), 1, "{}", back.stderr);
    assert!(
        events[0].contains("reason=freeswitch_back"),
        "{}",
        events[0]
    );
    assert_eq!(
        i.scalelite.route_create(None).map(|s| s.id),
        Some(me),
        "enabled again, it takes meetings"
    );
    assert_eq!(i.bbb.meetings().len(), 1);
    assert_eq!(health(&i).await, HealthStatus::Healthy);
    assert_eq!(i.state()["health"]["failures"], 0);
}

/// bbb-web dead, FreeSWITCH alive: no cordon. Scalelite's poller cannot read `getMeetings` and
/// takes the server offline itself (`poll.rake`), which stops its routing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_bbb_web_is_not_cordoned() {
    let (i, _me, _other) = busy_instance_and_another_server().await;
    i.bbb.fail_next(1000, 503);
    for _ in 0..3 {
        let run = i.hook_with(&["protect"], &ENV).await;
        assert!(!run.stderr.contains("action=cordon"), "{}", run.stderr);
    }
    assert_eq!(state_of(&i), ServerState::Enabled);
}

/// Consolidation every pass, on top of [`ENV`].
const CONSOLIDATING: [(&str, &str); 4] = [
    ENV[0],
    ENV[1],
    ("BBB_HOOK_CONSOLIDATION_INTERVAL", "0.01"),
    ("BBB_HOOK_RELEASE_AFTER", "0.01"),
];

/// The health cordon first, consolidation's next: FreeSWITCH back, the cordon stays
/// (consolidation's now), until the group wants the server back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consolidation_cordon_made_meanwhile_outlives_the_health_cordon() {
    let (i, me, _other) = busy_instance_and_another_server().await;
    i.freeswitch.kill();
    for _ in 0..2 {
        poll(&i, &me, 1);
        i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    }
    assert_eq!(state_of(&i), ServerState::Cordoned);
    i.want(0).await;
    poll(&i, &me, 1);
    let surplus = i.hook_with(&["protect"], &CONSOLIDATING).await;
    surplus.ok();
    assert_eq!(
        i.state()["cordoned_for_consolidation"],
        true,
        "{}",
        surplus.stderr
    );

    i.freeswitch.revive().await.expect("revive");
    poll(&i, &me, 1);
    let back = i.hook_with(&["protect"], &CONSOLIDATING).await;
    back.ok();
    assert!(
        back.stderr.contains("action=release")
            && back.stderr.contains("reason=cordoned_for_consolidation"),
        "{}",
        back.stderr
    );
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", back.stderr);

    i.want(1).await;
    poll(&i, &me, 1);
    let wanted = i.hook_with(&["protect"], &CONSOLIDATING).await;
    wanted.ok();
    assert_eq!(state_of(&i), ServerState::Enabled, "{}", wanted.stderr);
}

/// Consolidation's cordon first, FreeSWITCH dead next: when the group wants the server back,
/// consolidation leaves it cordoned until FreeSWITCH is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consolidation_does_not_enable_a_server_whose_freeswitch_is_dead() {
    let (i, me, _other) = busy_instance_and_another_server().await;
    i.want(0).await;
    poll(&i, &me, 1);
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned);
    assert_eq!(i.state()["cordoned_for_consolidation"], true);

    i.freeswitch.kill();
    for _ in 0..2 {
        poll(&i, &me, 1);
        i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    }
    i.want(1).await;
    for _ in 0..2 {
        poll(&i, &me, 1);
        let held = i.hook_with(&["protect"], &CONSOLIDATING).await;
        held.ok();
        assert!(
            held.stderr.contains("cordoned by the health check"),
            "{}",
            held.stderr
        );
        assert_eq!(state_of(&i), ServerState::Cordoned, "{}", held.stderr);
    }

    i.freeswitch.revive().await.expect("revive");
    poll(&i, &me, 1);
    let back = i.hook_with(&["protect"], &CONSOLIDATING).await;
    back.ok();
    assert_eq!(state_of(&i), ServerState::Enabled, "{}", back.stderr);
}

/// A reboot's launch enables the server again: with FreeSWITCH still dead, the next pass
/// cordons it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relaunch_with_freeswitch_still_dead_is_cordoned_again() {
    let (i, me, _other) = busy_instance_and_another_server().await;
    i.freeswitch.kill();
    for _ in 0..2 {
        poll(&i, &me, 1);
        i.hook_with(&["protect"], &ENV).await.ok();
    }
    assert_eq!(state_of(&i), ServerState::Cordoned);
    i.hook(&["launch"]).await.ok();
    assert_eq!(state_of(&i), ServerState::Enabled, "launch enables");
    poll(&i, &me, 1);
    let again = i.hook_with(&["protect"], &ENV).await;
    again.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", again.stderr);
}

/// FreeSWITCH dies again right after the check lifted its cordon (a crash loop): the server is
/// cordoned again, not left enabled without audio while the lift is watched.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn freeswitch_dying_again_after_the_lift_is_cordoned_again() {
    let env = [("BBB_HOOK_HEALTH_FAILURES", "4")];
    let (i, _me) = Instance::launched_with_a_meeting().await;
    i.freeswitch.kill();
    for _ in 0..2 {
        i.hook_with(&["protect"], &env).await.ok();
    }
    assert_eq!(i.server().expect("registered").state, ServerState::Cordoned);
    i.freeswitch.revive().await.expect("revive");
    i.hook_with(&["protect"], &env).await.ok();
    assert_eq!(i.server().expect("registered").state, ServerState::Enabled);
    i.freeswitch.kill();
    let mut last = String::new();
    for _ in 0..2 {
        last = i.hook_with(&["protect"], &env).await.stderr;
    }
    assert_eq!(
        i.server().expect("registered").state,
        ServerState::Cordoned,
        "{last}"
    );
}
