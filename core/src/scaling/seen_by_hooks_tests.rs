//! A server as the hooks see it (`ServerView::seen_by_hooks`): what `getServers` and
//! `DescribeAutoScalingGroups` say, nothing of its BBB.

use super::*;

#[test]
fn participants_are_scalelites_load_over_the_multiplier() {
    let v = ServerView::seen_by_hooks(
        "i-1",
        Phase::InService,
        true,
        PoolState::Enabled,
        Some(90.0),
        0.5,
    );
    assert_eq!(v.participants, 180);
    assert!(v.protected);
    assert!(!v.awaiting_poll);
    // Its meetings, their ages, its recordings and launch time are in neither answer.
    assert_eq!(
        (
            v.meetings,
            v.young_meetings,
            v.old_meetings,
            v.recordings_pending
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(v.launched_at_s, 0);
}

#[test]
fn a_registered_server_without_a_load_awaits_the_poll_an_unregistered_one_does_not() {
    let polled = |pool, load| {
        ServerView::seen_by_hooks("i-1", Phase::InService, false, pool, load, 1.0).awaiting_poll
    };
    assert!(polled(PoolState::Enabled, None));
    assert!(polled(PoolState::Cordoned, None));
    assert!(!polled(PoolState::Unregistered, None));
    assert!(!polled(PoolState::Enabled, Some(0.0)));
    let none = ServerView::seen_by_hooks(
        "i-1",
        Phase::InService,
        false,
        PoolState::Enabled,
        None,
        1.0,
    );
    assert_eq!(none.participants, 0);
}
