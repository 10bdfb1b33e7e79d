//! Surplus against the predicted need (`Policy::surplus_keeps_predicted`).

use super::tests::{actions, applied, server, view};
use super::*;

/// Desired 1, four servers: one enabled taking a burst (four young meetings, 8 participants so
/// far), three cordoned as surplus with a few participants each.
fn burst() -> FleetView {
    let mut taking = server("i-taking", PoolState::Enabled, 8, 4);
    taking.young_meetings = 4;
    taking.young_participants = 8;
    view(
        1,
        vec![
            taking,
            server("i-s1", PoolState::Cordoned, 10, 1),
            server("i-s2", PoolState::Cordoned, 20, 1),
            server("i-s3", PoolState::Cordoned, 30, 1),
        ],
    )
}

#[test]
fn without_it_the_desired_capacity_alone_keeps_surplus_servers_cordoned() {
    let policy = Policy::for_capacity(200);
    let plan = decide(&burst(), &policy);
    assert_eq!(plan.summary.surplus, 3);
    assert_eq!(
        actions(&plan, "i-s1"),
        vec![(Action::Keep, Reason::SurplusDraining)]
    );
}

#[test]
fn a_burst_of_young_meetings_brings_surplus_servers_back_before_the_metric_moves() {
    let mut policy = Policy::for_capacity(200); // young meetings count as 100
    policy.surplus_keeps_predicted = Some(160);
    // Predicted: 400 + 10 + 20 + 30 = 460 -> 3 servers at 160; one stays surplus.
    let plan = decide(&burst(), &policy);
    assert_eq!(plan.summary.surplus, 1);
    assert_eq!(
        actions(&plan, "i-s1"),
        vec![(Action::Keep, Reason::SurplusDraining)],
        "the least loaded still leaves"
    );
    for id in ["i-s2", "i-s3"] {
        assert_eq!(
            actions(&plan, id),
            vec![(Action::Enable, Reason::DemandReturned)],
            "{id}"
        );
    }
    // i-taking takes every `create` until they do, then is steered away from.
    assert_eq!(
        actions(&plan, "i-taking"),
        vec![(Action::Keep, Reason::LastEnabled)]
    );
    let plan = decide(&applied(&burst(), &plan), &policy);
    assert_eq!(
        actions(&plan, "i-taking"),
        vec![(Action::Cordon, Reason::NearCapacity)]
    );
}

#[test]
fn the_predicted_need_never_lowers_the_desired_capacity() {
    let mut policy = Policy::for_capacity(200);
    policy.surplus_keeps_predicted = Some(160);
    let v = view(
        3,
        vec![
            server("i-a", PoolState::Enabled, 10, 1),
            server("i-b", PoolState::Enabled, 10, 1),
            server("i-c", PoolState::Enabled, 10, 1),
        ],
    );
    assert_eq!(decide(&v, &policy).summary.surplus, 0);
}

#[test]
fn a_server_steers_itself_from_its_own_meetings_and_never_enables() {
    let policy = Policy::for_capacity(200); // cordon at 160, young meetings count as 100
    let mut s = server("i-self", PoolState::Enabled, 4, 2);
    s.young_meetings = 2;
    s.young_participants = 4;
    let d = steer_self(&s, 1, &policy).expect("two young meetings: 200 predicted");
    assert_eq!((d.action, d.reason), (Action::Cordon, Reason::NearCapacity));
    s.young_meetings = 1;
    s.meetings = 1;
    assert_eq!(steer_self(&s, 1, &policy), None, "one young meeting: 100");
    let low = server("i-off", PoolState::Cordoned, 10, 1);
    assert_eq!(steer_self(&low, 1, &policy), None, "never enables");
    let mut off = Policy::for_capacity(200);
    off.steer_cordon_at = None;
    let full = server("i-full", PoolState::Enabled, 190, 3);
    assert_eq!(steer_self(&full, 1, &off), None);
    assert!(steer_self(&full, 1, &policy).is_some());
}

#[test]
fn a_server_never_steers_itself_out_when_scalelite_would_have_nowhere_else_to_send_a_create() {
    // Every server of a burst fills at once: each cordoning itself on its own reading left
    // Scalelite with no enabled server and it refused `create`s (the simulator counted 511 in a
    // week with a 5 s self-steer). The `min_enabled` servers Scalelite ranks lightest stay.
    let policy = Policy::for_capacity(200);
    let full = server("i-full", PoolState::Enabled, 190, 3);
    assert_eq!(
        steer_self(&full, 0, &policy),
        None,
        "the lightest routable one"
    );
    assert!(steer_self(&full, 1, &policy).is_some());
    let mut two = policy.clone();
    two.min_enabled = 2;
    assert_eq!(steer_self(&full, 1, &two), None);
}

#[test]
fn a_server_scalelite_has_not_polled_yet_does_not_hold_the_floor() {
    let policy = Policy::for_capacity(200);
    let mut fresh = ServerView::new("i-fresh", Phase::InService, PoolState::Enabled, 2_000);
    fresh.awaiting_poll = true;
    let v = view(
        2,
        vec![server("i-full", PoolState::Enabled, 190, 4), fresh.clone()],
    );
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-full"),
        vec![(Action::Keep, Reason::LastEnabled)],
        "the fresh server takes nothing until polled"
    );
    fresh.awaiting_poll = false;
    let v = view(2, vec![server("i-full", PoolState::Enabled, 190, 4), fresh]);
    assert_eq!(
        actions(&decide(&v, &policy), "i-full"),
        vec![(Action::Cordon, Reason::NearCapacity)]
    );
}
