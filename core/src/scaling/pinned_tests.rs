//! Which surplus servers leave: servers pinned by old meetings (`Policy::keep_pinned`).

use super::tests::{actions, server, view};
use super::*;

/// Desired 2, three servers: one pinned by a room open for hours (2 participants), one with two
/// recent lectures (30 participants), one serving 120.
fn fleet() -> FleetView {
    let mut pinned = server("i-pinned", PoolState::Enabled, 2, 1);
    pinned.old_meetings = 1;
    view(
        2,
        vec![
            pinned,
            server("i-recent", PoolState::Enabled, 30, 2),
            server("i-busy", PoolState::Enabled, 120, 3),
        ],
    )
}

#[test]
fn without_it_the_emptiest_server_drains_even_when_an_old_room_pins_it_for_hours() {
    let mut policy = Policy::for_capacity(200);
    policy.keep_pinned = false;
    let plan = decide(&fleet(), &policy);
    assert_eq!(
        actions(&plan, "i-pinned"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
    assert_eq!(
        actions(&plan, "i-recent"),
        vec![(Action::Keep, Reason::Serving)]
    );
}

#[test]
fn off_by_default_because_no_hook_knows_the_other_servers_meeting_ages() {
    // The hooks rank the surplus from Scalelite's `getServers` (loads, no meeting ages):
    // `old_meetings` is never fed for the other servers, so a default that relied on it would
    // make the simulator's (c) better than what the hooks run.
    assert!(!Policy::for_capacity(200).keep_pinned);
    let plan = decide(&fleet(), &Policy::for_capacity(200));
    assert_eq!(
        actions(&plan, "i-pinned"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
}

#[test]
fn a_server_pinned_by_an_old_meeting_stays_and_the_one_whose_meetings_end_sooner_leaves() {
    let mut policy = Policy::for_capacity(200);
    policy.keep_pinned = true;
    let plan = decide(&fleet(), &policy);
    assert_eq!(
        actions(&plan, "i-recent"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
    assert_eq!(
        actions(&plan, "i-pinned"),
        vec![(Action::Keep, Reason::Serving)]
    );
}

#[test]
fn an_idle_server_still_leaves_before_a_pinned_one() {
    let mut v = fleet();
    v.servers.push(server("i-idle", PoolState::Enabled, 0, 0));
    v.desired_capacity = 3;
    let mut policy = Policy::for_capacity(200);
    policy.keep_pinned = true;
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-idle"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
    assert_eq!(
        actions(&plan, "i-pinned"),
        vec![(Action::Keep, Reason::Serving)]
    );
}
