//! A cordoned server's meetings stay joinable. Scalelite's poller turns a cordoned server
//! `disabled` once its load reads zero (its README, "Cordon a server"), and its `join` refuses a
//! disabled server: a meeting whose users all dropped at once (older than the join buffer, so it
//! counts its real zero) would refuse them when they come back. While the hook holds its own
//! cordon and the local BBB runs meetings, it cordons the server again.

mod support;

use bbb_core::scalelite::ServerState;
use bbb_doubles::{PolledMeeting, LOAD_JOIN_BUFFER_TIME};
use support::Instance;

const ENV: [(&str, &str); 1] = [("BBB_HOOK_HEALTH_FAILURES", "4")];

/// One pass of Scalelite's poller over the server: its one meeting, old, with `participants`.
fn poll(i: &Instance, id: &str, participants: u32) {
    let m = PolledMeeting {
        participants,
        moderators: 0,
        is_breakout: false,
        age: LOAD_JOIN_BUFFER_TIME * 2,
    };
    assert!(i.scalelite.poll_meetings(id, &[m], LOAD_JOIN_BUFFER_TIME));
}

fn state_of(i: &Instance) -> ServerState {
    i.server().expect("registered").state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_scalelite_disables_under_the_health_cordon_is_cordoned_again() {
    let (i, me) = Instance::launched_with_a_meeting().await;
    i.freeswitch.kill();
    for _ in 0..2 {
        poll(&i, &me, 4);
        i.hook_with(&["protect"], &ENV).await.ok();
    }
    assert_eq!(
        state_of(&i),
        ServerState::Cordoned,
        "the health check's cordon"
    );

    // Everyone dropped at once: the poller reads zero and disables the server; their rejoins
    // are refused.
    poll(&i, &me, 0);
    assert_eq!(state_of(&i), ServerState::Disabled);
    assert!(
        !i.scalelite.route_join(&me),
        "Scalelite refuses joins to a disabled server"
    );

    let pass = i.hook_with(&["protect"], &ENV).await;
    pass.ok();
    assert_eq!(state_of(&i), ServerState::Cordoned, "{}", pass.stderr);
    assert!(
        i.scalelite.route_join(&me),
        "the meeting takes its users back"
    );
    let events: Vec<&str> = pass
        .stderr
        .lines()
        .filter(|l| l.contains("cordoned again so their joins are accepted"))
        .collect();
    assert_eq!(events.len(), 1, "{}", pass.stderr);
    assert!(events[0].contains("cordon=\"health\"") && events[0].contains("meetings=1"));

    // The poll after a re-cordon disables it again if no user is back yet (a cordoned server
    // from `disabled` has no load), and the next pass cordons it again; once a user is in, the
    // poll reads a load and the server stays cordoned.
    poll(&i, &me, 0);
    assert_eq!(state_of(&i), ServerState::Disabled, "no user back yet");
    i.hook_with(&["protect"], &ENV).await.ok();
    assert!(i.scalelite.route_join(&me), "a retrying user gets in");
    poll(&i, &me, 1);
    assert_eq!(state_of(&i), ServerState::Cordoned, "a user back: a load");

    // No meeting left: a disabled server is left disabled.
    assert!(i.bbb.end_meeting("m1"));
    poll(&i, &me, 0);
    assert_eq!(state_of(&i), ServerState::Disabled);
    i.hook_with(&["protect"], &ENV).await.ok();
    assert_eq!(
        state_of(&i),
        ServerState::Disabled,
        "empty: disabled is right"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_draining_server_scalelite_disables_is_cordoned_again_while_meetings_run() {
    let (i, me) = Instance::launched_with_a_meeting().await;
    let child = i.spawn(&["drain"], &[]);
    i.eventually("cordoned by the drain", || {
        i.server().is_some_and(|s| s.state == ServerState::Cordoned)
    })
    .await;
    poll(&i, &me, 0);
    assert_eq!(state_of(&i), ServerState::Disabled);
    i.eventually("cordoned again by the drain", || {
        i.server().is_some_and(|s| s.state == ServerState::Cordoned)
    })
    .await;
    assert!(i.scalelite.route_join(&me));
    assert!(i.bbb.end_meeting("m1"));
    let run = i.finish(child).await;
    run.ok();
    assert!(
        run.stderr.contains("cordon=\"drain\""),
        "one re-cordon event: {}",
        run.stderr
    );
}
