//! A state change the hook makes while Scalelite's poller is between its read of the server and
//! its save (`lib/tasks/poll.rake`: `Server.all`, then `getMeetings` and `save!` per server;
//! the double's `poll_read` and `poll_save` play the two halves, `bbb_doubles`' `poller.rs`):
//!
//! * a cordon meets a save of the server read enabled: the record says cordoned, the server is
//!   back in `server_load`, and `create` keeps routing to it. The hook sees a meeting created
//!   past its cordon and takes the server out (disable, then cordon);
//! * an enable (consolidation's, the health check's) meets a save of the server read cordoned
//!   with no user left: the save writes `disabled`. The hook enables it again at its next pass
//!   instead of leaving it as an operator's.

mod support;

use std::time::Duration;

use bbb_core::scalelite::ServerState;
use bbb_doubles::{DoubleMeeting, LOAD_JOIN_BUFFER_TIME};
use support::{Instance, CONSOLIDATING, IN_FLIGHT};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_draining_server_scalelite_still_routes_to_is_taken_out_of_its_routing() {
    let (i, me) = Instance::launched_with_a_meeting().await;
    let read = i.scalelite.poll_read(&me).expect("registered");
    assert_eq!(read.state, ServerState::Enabled);
    let child = i.spawn(&["drain"], &[IN_FLIGHT]);
    i.eventually("cordoned by the drain", || {
        i.server().is_some_and(|s| s.state == ServerState::Cordoned)
    })
    .await;
    i.save_poll(&read);
    assert!(i.server().expect("registered").stale_server_load.is_some());
    assert_eq!(
        i.create_later(&me, "m2").await.as_deref(),
        Some(me.as_str()),
        "the poller's write-back routes a create to the cordoned server"
    );
    i.eventually("out of scalelite's routing", || {
        i.server()
            .is_some_and(|s| s.state == ServerState::Cordoned && s.stale_server_load.is_none())
    })
    .await;
    assert_eq!(
        i.scalelite.route_create(None),
        None,
        "no server left to route to"
    );
    assert!(i.scalelite.route_join(&me), "its meetings take joins");
    assert!(i.bbb.end_meeting("m1") && i.bbb.end_meeting("m2"));
    let run = i.finish(child).await;
    run.ok();
    let events: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("routed_while_cordoned"))
        .collect();
    assert_eq!(
        events.len(),
        3,
        "decision, disable, cordon:\n{}",
        run.stderr
    );
    for field in [
        "cordon=\"drain\"",
        "newest_create_ms=",
        "cordoned_since_ms=",
    ] {
        assert!(events[0].contains(field), "{field}: {}", events[0]);
    }
}

/// `protect` consolidating at every pass, a `create` in flight for half a second.
const ENV: [(&str, &str); 3] = [CONSOLIDATING[0], CONSOLIDATING[1], IN_FLIGHT];

/// An instance hosting a meeting whose consolidation cordon the poller's save undid, and a
/// meeting `create` routed to it since (`m2`); its Scalelite server id.
async fn consolidation_cordon_undone() -> (Instance, String) {
    let (i, me) = Instance::launched_with_a_meeting().await;
    let env = ENV;
    i.hook_with(&["protect"], &env).await.ok();
    i.want(0).await;
    let read = i.scalelite.poll_read(&me).expect("registered");
    let cordon = i.hook_with(&["protect"], &env).await;
    cordon.ok();
    assert_eq!(
        i.server().expect("registered").state,
        ServerState::Cordoned,
        "{}",
        cordon.stderr
    );
    i.save_poll(&read);
    assert_eq!(
        i.create_later(&me, "m2").await.as_deref(),
        Some(me.as_str())
    );
    (i, me)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consolidation_cordon_scalelite_undid_is_made_again() {
    let (i, _) = consolidation_cordon_undone().await;
    let env = ENV;
    // The disable refused at every try: the cordon is sent anyway, and the cordon's time kept,
    // so that the next pass repairs again (the server is still routed).
    i.scalelite.fail_next_calls("updateServer", 4, 502);
    let refused = i.hook_with(&["protect"], &env).await;
    assert!(
        refused.stderr.contains("the cordon is sent anyway"),
        "{}",
        refused.stderr
    );
    assert!(
        i.server().expect("registered").stale_server_load.is_some(),
        "{}",
        refused.stderr
    );
    i.protect_repairs(&env, "consolidation").await;

    // The meeting routed before the repair is older than the cordon now: no second repair.
    let again = i.hook_with(&["protect"], &env).await;
    again.ok();
    assert!(
        !again.stderr.contains("routed_while_cordoned"),
        "{}",
        again.stderr
    );
}

/// The repair's disable carried out by Scalelite but every answer to it lost (nginx's 502 when
/// the upstream's connection closes before its answer): the cordon is sent all the same, so the
/// server is left cordoned, its meetings' joins accepted, not disabled, and out of
/// `server_load`. The pass ends in the disable's error, so the next one repairs once more (its
/// disable answered), and the one after has nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_repair_whose_disable_answer_is_lost_still_cordons() {
    let (i, me) = consolidation_cordon_undone().await;
    // The client tries three times; each try is carried out and answered 502.
    i.scalelite.lose_next_answers("updateServer", 3, 502);
    let updates = i.scalelite.calls("updateServer");
    let repair = i.hook_with(&["protect"], &ENV).await;
    assert_eq!(
        i.scalelite.calls("updateServer"),
        updates + 4,
        "three disables, one cordon:\n{}",
        repair.stderr
    );
    let s = i.server().expect("registered");
    assert_eq!(
        (s.state, s.stale_server_load),
        (ServerState::Cordoned, None),
        "{}",
        repair.stderr
    );
    assert!(
        repair.stderr.contains("the cordon is sent anyway"),
        "{}",
        repair.stderr
    );
    assert!(i.scalelite.route_join(&me), "its meetings keep their joins");
    assert_eq!(i.scalelite.route_create(None), None, "no new meeting");

    let again = i.hook_with(&["protect"], &ENV).await;
    assert_eq!(
        i.scalelite.calls("updateServer"),
        updates + 6,
        "the next pass repairs once more (disable, cordon):\n{}",
        again.stderr
    );
    let last = i.hook_with(&["protect"], &ENV).await;
    last.ok();
    assert_eq!(
        i.scalelite.calls("updateServer"),
        updates + 6,
        "then no more:\n{}",
        last.stderr
    );
    let s = i.server().expect("registered");
    assert_eq!(
        (s.state, s.stale_server_load),
        (ServerState::Cordoned, None)
    );
}

/// The repair's disable given up on by the proxy (504) and carried out by Scalelite two seconds
/// later, after the repair's cordon: the server ends disabled, which refuses its meetings'
/// joins. The next pass cordons it again (the joinable check: the hook holds consolidation's
/// cordon and BBB runs meetings), so the joins are accepted again and no meeting is routed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_repair_disable_applied_after_its_cordon_is_cordoned_again() {
    let (i, me) = consolidation_cordon_undone().await;
    i.scalelite
        .apply_late_next("updateServer", 3, 504, Duration::from_secs(2));
    let repair = i.hook_with(&["protect"], &ENV).await;
    i.eventually("the late disables carried out", || {
        i.server().is_some_and(|s| s.state == ServerState::Disabled)
    })
    .await;
    assert!(
        !i.scalelite.route_join(&me),
        "a disabled server's meetings refuse joins:\n{}",
        repair.stderr
    );

    let again = i.hook_with(&["protect"], &ENV).await;
    let s = i.server().expect("registered");
    assert_eq!(
        (s.state, s.stale_server_load),
        (ServerState::Cordoned, None),
        "{}",
        again.stderr
    );
    assert!(i.scalelite.route_join(&me), "joins accepted again");
    assert_eq!(i.scalelite.route_create(None), None, "no new meeting");
}

/// A launched instance with no meeting that consolidation cordoned (the group wants none), and
/// its Scalelite server id.
async fn cordoned_by_consolidation() -> (Instance, String) {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    let me = i.server().expect("registered").id;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    i.want(0).await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert_eq!(i.server().expect("registered").state, ServerState::Cordoned);
    (i, me)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_enable_the_poller_wrote_disabled_over_is_made_again() {
    let (i, me) = cordoned_by_consolidation().await;

    // The poller reads it cordoned (no meeting: it will write `disabled`); demand returns and
    // the hook enables it before the poller's save.
    let read = i.scalelite.poll_read(&me).expect("registered");
    i.want(1).await;
    let back = i.hook_with(&["protect"], &CONSOLIDATING).await;
    back.ok();
    assert_eq!(i.server().expect("registered").state, ServerState::Enabled);
    i.save_poll(&read);
    assert_eq!(i.server().expect("registered").state, ServerState::Disabled);

    let again = i.hook_with(&["protect"], &CONSOLIDATING).await;
    again.ok();
    assert_eq!(
        i.server().expect("registered").state,
        ServerState::Enabled,
        "{}",
        again.stderr
    );
    assert_eq!(
        i.scalelite.route_create(None),
        None,
        "no load until the next poll"
    );
    i.save_poll(&i.scalelite.poll_read(&me).expect("registered"));
    assert_eq!(
        i.scalelite.route_create(None).map(|s| s.id),
        Some(me.clone())
    );
    // Read enabled: the hook's no longer, an operator's disable now stays.
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    i.scalelite
        .modify_server(&me, |s| s.change_state(ServerState::Disabled));
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert_eq!(i.server().expect("registered").state, ServerState::Disabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_health_uncordon_the_poller_wrote_disabled_over_is_made_again() {
    let env = [("BBB_HOOK_HEALTH_FAILURES", "4")];
    let (i, me) = Instance::launched_with_a_meeting().await;
    i.freeswitch.kill();
    for _ in 0..2 {
        i.hook_with(&["protect"], &env).await.ok();
    }
    assert_eq!(i.server().expect("registered").state, ServerState::Cordoned);

    // Its users left a while ago (an old meeting counts its real zero); the poller reads the
    // server cordoned, FreeSWITCH comes back and the hook lifts its cordon before the save.
    assert!(i.bbb.set_participants("m1", 0, 0));
    let read = i.scalelite.poll_read(&me).expect("registered");
    i.freeswitch.revive().await.expect("revive");
    let lifted = i.hook_with(&["protect"], &env).await;
    lifted.ok();
    assert_eq!(
        i.server().expect("registered").state,
        ServerState::Enabled,
        "{}",
        lifted.stderr
    );
    i.save_poll(&read);
    assert_eq!(i.server().expect("registered").state, ServerState::Disabled);

    let again = i.hook_with(&["protect"], &env).await;
    again.ok();
    assert_eq!(
        i.server().expect("registered").state,
        ServerState::Enabled,
        "{}",
        again.stderr
    );
    // Read enabled: the check lets go.
    let release = i.hook_with(&["protect"], &env).await;
    release.ok();
    assert!(
        release.stderr.contains("action=release"),
        "{}",
        release.stderr
    );
    assert_eq!(i.state()["health"]["cordon"], "none");
}

/// An operator's cordon right after consolidation's enable (before a pass reads the server
/// enabled) is left as it is: Scalelite's poller only ever writes `disabled`, never `cordoned`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operators_cordon_after_the_hooks_enable_stays() {
    let (i, me) = cordoned_by_consolidation().await;
    i.want(1).await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert_eq!(i.server().expect("registered").state, ServerState::Enabled);

    i.scalelite
        .modify_server(&me, |s| s.change_state(ServerState::Cordoned));
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert_eq!(
        i.server().expect("registered").state,
        ServerState::Cordoned,
        "{}",
        pass.stderr
    );
    assert!(
        pass.stderr.contains("reason=\"cordoned_by_someone_else\""),
        "{}",
        pass.stderr
    );
}

/// The poller writes `disabled` over consolidation's enable while a meeting already runs there;
/// the joinable check cordons the server again (its meeting's joins) before consolidation's
/// next pass, which still counts that cordon its own and enables the server the group wants back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cordon_kept_joinable_after_the_hooks_enable_is_still_consolidations() {
    let (i, me) = cordoned_by_consolidation().await;
    let read = i.scalelite.poll_read(&me).expect("registered");
    i.want(1).await;
    i.hook_with(&["protect"], &CONSOLIDATING).await.ok();
    assert_eq!(i.server().expect("registered").state, ServerState::Enabled);
    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Routed").with_participants(2, 1));
    // The save of its older `getMeetings` (no meeting then).
    assert!(i.scalelite.poll_save(&read, &[], LOAD_JOIN_BUFFER_TIME));
    assert_eq!(i.server().expect("registered").state, ServerState::Disabled);
    let not_due = [
        ("BBB_HOOK_CONSOLIDATION_INTERVAL", "3600"),
        CONSOLIDATING[1],
    ];
    let kept = i.hook_with(&["protect"], &not_due).await;
    kept.ok();
    assert_eq!(
        i.server().expect("registered").state,
        ServerState::Cordoned,
        "{}",
        kept.stderr
    );
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert_eq!(
        i.server().expect("registered").state,
        ServerState::Enabled,
        "{}",
        pass.stderr
    );
}
