//! The drain when its neighbours misbehave: a BBB answering errors (D5), a meeting created right
//! after the first idle read (G9), Scalelite down at the cordon or at the deregistration (D6),
//! Scalelite's secret rotated mid-drain, and SIGTERM while watching or draining (P1).

mod support;

use std::time::Duration;

use bbb_core::aws::ownership;
use bbb_core::scalelite::ServerState;
use bbb_core::testing::put_parameter;
use bbb_doubles::DoubleMeeting;
use support::{sigterm, Instance, TERMINATING_HOOK};

const EX_TEMPFAIL: i32 = 75;

fn cordoned(i: &Instance) -> bool {
    i.server()
        .is_some_and(|s| matches!(s.state, ServerState::Cordoned | ServerState::Disabled))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bbb_answering_errors_counts_as_busy() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    let child = i.spawn(&["drain"], &[]);
    i.eventually("cordoned", || cordoned(&i)).await;
    // bbb-web restarting: a dozen getMeetings fail (a few polls, with the client's retries).
    let before = i.bbb.calls("getMeetings");
    i.bbb.fail_next(12, 503);
    i.eventually("the failing polls and one good one", || {
        i.bbb.calls("getMeetings") >= before + 13
    })
    .await;
    assert!(cordoned(&i), "still registered while BBB failed");
    assert!(i.record().await.is_some(), "the record stays");
    i.bbb.end_meeting("m1");
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("counted as busy"), "{}", run.stderr);
    assert!(i.server().is_none());
}

/// Past the grace period, a BBB whose last read listed no meeting (here: never read since the
/// launch) is judged by its recordings alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bbb_down_past_the_grace_period_is_judged_by_its_recordings() {
    let mut i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    i.bbb.stop().await;
    let run = i
        .hook_with(&["drain"], &[("BBB_HOOK_BBB_ERROR_GRACE", "1")])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("past the grace period"),
        "{}",
        run.stderr
    );
    assert!(i.server().is_none());
}

/// A launched instance whose protect pass read one meeting, then whose bbb-web stopped.
async fn bbb_dead_under_a_meeting(max_wait: u64) -> Instance {
    let mut i = Instance::new(max_wait).await;
    i.hook(&["launch"]).await.ok();
    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(12, 1));
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    i.bbb.stop().await;
    i
}

/// A drain counting an unreadable BBB as busy for one second, polling twice a second.
async fn drain_with_a_short_grace(i: &Instance) -> support::Run {
    i.hook_with(
        &["drain"],
        &[
            ("BBB_HOOK_BBB_ERROR_GRACE", "1"),
            ("BBB_HOOK_POLL_INTERVAL", "0.5"),
        ],
    )
    .await
}

/// Meetings bbb-web listed keep running without it (their clients talk to akka-apps and
/// FreeSWITCH): a drain that cannot read BBB past the grace period waits for them until
/// `max_wait`, as the health check does, instead of taking them with the instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bbb_down_under_meetings_it_listed_is_waited_for_until_max_wait() {
    let max_wait = 6;
    let i = bbb_dead_under_a_meeting(max_wait).await;
    let started = std::time::Instant::now();
    let run = drain_with_a_short_grace(&i).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        started.elapsed() >= Duration::from_secs(max_wait),
        "left after {:?}:\n{}",
        started.elapsed(),
        run.stderr
    );
    assert!(
        run.stderr.contains("counted as busy until max_wait"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("max wait reached"), "{}", run.stderr);
}

/// The wait counts from bbb-web's first failure as the protect passes saw it: a drain that
/// starts after bbb-web has been dead for longer than `max_wait` (the health check held the
/// instance that long, then reported it) does not wait a second `max_wait`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_wait_for_meetings_a_dead_bbb_listed_counts_from_its_first_failure() {
    let max_wait = 20;
    let i = bbb_dead_under_a_meeting(max_wait).await;
    // As the protect passes left it: bbb-web failing for longer than max_wait.
    assert_eq!(i.state()["health"]["last_meetings"], 1);
    let now = support::unix_now();
    i.edit_state(|state| {
        state["health"]["failures"] = 40.into();
        state["health"]["failing_since"] = (now - max_wait - 5).into();
    });
    let started = std::time::Instant::now();
    let run = drain_with_a_short_grace(&i).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(max_wait / 2),
        "waited {:?}:\n{}",
        started.elapsed(),
        run.stderr
    );
    assert!(
        run.stderr.contains("judging from recordings only"),
        "{}",
        run.stderr
    );
    assert!(i.server().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_meeting_created_right_after_the_first_idle_read_is_seen() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    // Polls 2 s apart, so the meeting surely lands between the first and the second read.
    let child = i.spawn(&["drain"], &[("BBB_HOOK_POLL_INTERVAL", "2")]);
    i.eventually("the first idle read", || i.bbb.calls("getMeetings") >= 1)
        .await;
    // Let the first answer (no meeting) go out before Scalelite's in-flight create lands.
    tokio::time::sleep(Duration::from_millis(400)).await;
    i.bbb
        .add_meeting(DoubleMeeting::new("late", "Placed before the cordon"));
    i.eventually("the second read", || i.bbb.calls("getMeetings") >= 2)
        .await;
    i.eventually("the third read", || i.bbb.calls("getMeetings") >= 3)
        .await;
    assert!(cordoned(&i), "the late meeting keeps the drain waiting");
    i.bbb.end_meeting("late");
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(i.server().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cordon_is_retried_until_scalelite_accepts_it() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    i.scalelite.set_available(false);
    let child = i.spawn(&["drain"], &[]);
    // One attempt is three getServers (the client retries twice): wait for several attempts.
    i.eventually("cordon attempts while Scalelite is down", || {
        i.scalelite.calls("getServers") >= 7
    })
    .await;
    assert_eq!(i.server().map(|s| s.state), Some(ServerState::Enabled));
    i.scalelite.set_available(true);
    i.eventually("cordoned once Scalelite is back", || cordoned(&i))
        .await;
    i.bbb.end_meeting("m1");
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(i.server().is_none());
    assert_eq!(i.record().await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_deregistration_is_retried_while_scalelite_recovers() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let child = i.spawn(&["drain"], &[("BBB_HOOK_DEREGISTER_TIMEOUT", "30")]);
    i.eventually("cordoned", || cordoned(&i)).await;
    i.scalelite.set_available(false);
    let calls = i.scalelite.calls("getServers");
    i.bbb.end_meeting("m1");
    // One attempt is three getServers (the client retries twice): wait for three attempts.
    i.eventually("three failed deregistration attempts", || {
        i.scalelite.calls("getServers") >= calls + 7
    })
    .await;
    assert!(i.server().is_some());
    i.scalelite.set_available(true);
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(i.server().is_none(), "deregistered once Scalelite was back");
    assert_eq!(i.record().await, None);
    assert!(i.completed(TERMINATING_HOOK).await);
}

/// Scalelite's secret rotated while a drain runs, in SSM and in Scalelite at once (Scalelite
/// restarted with the new secret only): at Scalelite's checksum error the drain reads the secret
/// again for its next try, instead of keeping the one it read for up to a minute, and
/// deregisters well within its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_secret_rotated_mid_drain_is_read_again_at_the_checksum_error() {
    const ROTATED: &str = "scalelite-secret-rotated-0a1b2c3d4e5f";
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let child = i.spawn(&["drain"], &[("BBB_HOOK_DEREGISTER_TIMEOUT", "20")]);
    i.eventually("cordoned", || cordoned(&i)).await;
    let parameter = i.config["scalelite_secret_parameter"]
        .as_str()
        .expect("the secret's parameter");
    put_parameter(&i.aws, parameter, ROTATED, true).await;
    i.scalelite.replace_secrets(&[ROTATED]);
    i.bbb.end_meeting("m1");
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        i.server().is_none(),
        "deregistered with the new secret:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("read again from SSM"), "{}", run.stderr);
    assert!(!run.stderr.contains(ROTATED) && !run.stdout.contains(ROTATED));
    assert!(i.completed(TERMINATING_HOOK).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_stops_the_watcher_at_once_and_cleanly() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    let child = i.spawn(&["drain", "--on-lifecycle-signal"], &[]);
    i.eventually("the watcher polls", || {
        i.imds
            .calls("/latest/meta-data/autoscaling/target-lifecycle-state")
            >= 2
    })
    .await;
    sigterm(&child);
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("no drain started"), "{}", run.stderr);
    assert_eq!(i.state()["draining"], false);
    assert_eq!(
        i.server().map(|s| s.state),
        Some(ServerState::Enabled),
        "nothing changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_mid_drain_saves_draining_and_the_next_drain_resumes() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    let child = i.spawn(&["drain"], &[]);
    i.eventually("cordoned", || cordoned(&i)).await;
    sigterm(&child);
    let run = i.finish(child).await;
    assert_eq!(run.code, EX_TEMPFAIL, "{}", run.stderr);
    let state = i.state();
    assert_eq!(state["draining"], true, "{state}");
    assert_eq!(state["drained"], false, "{state}");
    assert!(cordoned(&i), "still registered, still cordoned");
    // protect leaves a draining instance alone.
    i.hook(&["protect"]).await.ok();
    assert!(cordoned(&i));
    i.bbb.end_meeting("m1");
    let again = i.hook(&["drain"]).await;
    again.ok();
    assert!(again.stderr.contains("resumed=true"), "{}", again.stderr);
    assert!(i.server().is_none());
    assert_eq!(i.state()["drained"], true);
}

/// A drain resumed in a new process (the unit restarted, the stop's `ExecStop` after the
/// watcher) keeps the first run's clock: the terminating hook's global timeout counts from the
/// instance's `Terminating:Wait`, not from the latest process, so a restart buys no second
/// `max_wait`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resumed_drain_waits_only_what_is_left_of_max_wait() {
    let max_wait = 10;
    let i = Instance::new(max_wait).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    let first = std::time::Instant::now();
    let child = i.spawn(&["drain"], &[]);
    i.eventually("cordoned", || cordoned(&i)).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    sigterm(&child);
    assert_eq!(i.finish(child).await.code, EX_TEMPFAIL);

    let resumed = std::time::Instant::now();
    let again = i.hook(&["drain"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("resumed=true"), "{}", again.stderr);
    assert!(
        again.stderr.contains("max wait reached"),
        "{}",
        again.stderr
    );
    assert!(
        resumed.elapsed() < Duration::from_secs(max_wait - 2),
        "the resumed drain waited {:?} more, {:?} in all:\n{}",
        resumed.elapsed(),
        first.elapsed(),
        again.stderr
    );
    assert!(i.server().is_none(), "deregistered at max_wait");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_watcher_drains_an_instance_whose_launch_never_finished() {
    let i = Instance::new(60).await;
    // Launch registered (disabled) and created the record, but could not complete its
    // lifecycle action (the Auto Scaling endpoint unreachable), so it never counted as launched
    // and never enabled the server (that waits for the instance in service).
    let launch = i
        .hook_with(
            &["launch"],
            &[("AWS_ENDPOINT_URL_AUTO_SCALING", "http://127.0.0.1:9")],
        )
        .await;
    assert_ne!(launch.code, 0, "{}", launch.stderr);
    assert_eq!(i.state()["launched"], false);
    assert_eq!(i.server().map(|s| s.state), Some(ServerState::Disabled));
    // The group gives up on it: the watcher still takes it out of Scalelite and DNS.
    let child = i.spawn(&["drain", "--on-lifecycle-signal"], &[]);
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(i.server().is_none());
    assert_eq!(i.record().await, None);
    assert!(i.completed(TERMINATING_HOOK).await);
    // And a launch restarted by systemd now refuses.
    assert_eq!(i.hook(&["launch"]).await.code, 78);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heartbeats_go_on_while_a_drain_step_hangs() {
    // The terminating hook's heartbeat timeout is 1 s here (30 s at least in AWS), a Scalelite
    // that hangs takes its request timeout times its attempts per cordon (about 30 s): the
    // lifecycle action must be kept alive while a step hangs, not only between polls, or the
    // group terminates the instance under its meetings.
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let calls = i.scalelite.calls("getServers");
    i.scalelite.delay_next(1, Duration::from_secs(8));
    let child = i.spawn(&["drain"], &[("BBB_HOOK_REQUEST_TIMEOUT", "20")]);
    i.eventually("the cordon's getServers hangs", || {
        i.scalelite.calls("getServers") > calls
    })
    .await;
    i.eventually_async("heartbeats while it hangs", || async {
        i.heartbeats(TERMINATING_HOOK).await >= 3
    })
    .await;
    assert!(!cordoned(&i), "the heartbeats came during the hanging call");
    i.bbb.end_meeting("m1");
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(i.completed(TERMINATING_HOOK).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_registration_left_behind_keeps_the_ownership_mark_for_the_fleets_heal() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let child = i.spawn(&["drain"], &[("BBB_HOOK_DEREGISTER_TIMEOUT", "2")]);
    i.eventually("cordoned", || cordoned(&i)).await;
    i.scalelite.set_available(false);
    let run = i.finish(child).await;
    // The drain reports the registration it left (EX_TEMPFAIL); what matters here is what it left.
    assert_eq!(run.code, EX_TEMPFAIL, "{}", run.stderr);
    assert!(i.server().is_some(), "the registration was left behind");
    assert_eq!(i.record().await, None, "the A record went");
    // bbb_fleet heals a server only when its host carries the group's mark: the mark stays.
    let names = i.names().await;
    let owner = i.config["autoscaling_group_name"]
        .as_str()
        .expect("group name in the hook's configuration");
    assert!(
        ownership::owned_by(&names, &i.record_name(), owner),
        "the mark was deleted with the record: {names:?}"
    );
}

/// A reboot's launch that failed after making the record (Scalelite down) leaves the drain of the
/// shutdown marked done; when the group then terminates the instance (its launch reported it
/// unhealthy, or a scale-in), the record goes too, not left on an address EC2 releases.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_relaunch_after_a_drain_leaves_no_record_at_the_termination() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.hook(&["drain"]).await.ok();
    assert_eq!(i.state()["drained"], true);
    assert_eq!(i.record().await, None);
    i.scalelite.set_available(false);
    let boot = i.hook(&["launch"]).await;
    assert_ne!(boot.code, 0, "{}", boot.stderr);
    assert!(i.record().await.is_some(), "the boot made the record");
    assert_eq!(i.state()["drained"], true);

    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let drain = i
        .hook_with(&["drain"], &[("BBB_HOOK_DEREGISTER_TIMEOUT", "1")])
        .await;
    assert_eq!(drain.code, 0, "{}", drain.stderr);
    assert_eq!(i.record().await, None, "{}", drain.stderr);
    assert!(i.completed(TERMINATING_HOOK).await);
}

/// A drain at shutdown cut short before it finished (a reboot's) lends its clock to no
/// terminating drain: the terminating hook's global timeout starts at `Terminating:Wait`, so the
/// termination's drain gets its whole `max_wait` for the meetings run since.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_terminating_drain_does_not_take_the_clock_of_an_unfinished_shutdown_drain() {
    let max_wait = 10;
    let i = Instance::new(max_wait).await;
    i.hook(&["launch"]).await.ok();
    let now = support::unix_now();
    // As a shutdown's drain cut short an hour ago left it, the launch since failing early.
    i.edit_state(|state| {
        state["draining"] = true.into();
        state["drained"] = false.into();
        state["terminating"] = false.into();
        state["drain_started_at"] = (now - 3600).into();
    });
    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    let child = i.spawn(&["drain"], &[]);
    i.eventually("cordoned", || cordoned(&i)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    i.bbb.end_meeting("m1");
    let run = i.finish(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("max wait reached"),
        "the meeting was waited for: {}",
        run.stderr
    );
    assert!(i.completed(TERMINATING_HOOK).await);
}
