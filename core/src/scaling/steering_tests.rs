//! Steering, packing and the enabled floor.

use super::tests::{actions, no_steering, server, view};
use super::*;

#[test]
fn steering_cordons_near_capacity_and_re_enables_below_the_lower_mark() {
    let policy = Policy::for_capacity(200); // cordon at 160, enable below 120
    let v = view(
        4,
        vec![
            server("i-full", PoolState::Enabled, 170, 5),
            server("i-high", PoolState::Cordoned, 130, 4),
            server("i-low", PoolState::Cordoned, 110, 4),
            server("i-room", PoolState::Enabled, 40, 2),
        ],
    );
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-full"),
        vec![(Action::Cordon, Reason::NearCapacity)]
    );
    assert_eq!(
        actions(&plan, "i-high"),
        vec![(Action::Keep, Reason::StillNearCapacity)]
    );
    assert_eq!(
        actions(&plan, "i-low"),
        vec![(Action::Enable, Reason::DemandReturned)]
    );
    assert_eq!(
        actions(&plan, "i-room"),
        vec![(Action::Keep, Reason::Serving)]
    );
    assert_eq!(plan.summary.enabled_after, 2);
}

#[test]
fn steering_keeps_the_least_loaded_server_enabled() {
    let policy = Policy::for_capacity(200);
    let v = view(
        2,
        vec![
            server("i-a", PoolState::Enabled, 190, 5),
            server("i-b", PoolState::Enabled, 170, 4),
        ],
    );
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-a"),
        vec![(Action::Cordon, Reason::NearCapacity)]
    );
    assert_eq!(
        actions(&plan, "i-b"),
        vec![(Action::Keep, Reason::LastEnabled)]
    );
    assert_eq!(plan.summary.enabled_after, 1);

    let v = view(
        2,
        vec![
            server("i-a", PoolState::Cordoned, 190, 5),
            server("i-b", PoolState::Cordoned, 170, 4),
        ],
    );
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-b"),
        vec![(Action::Enable, Reason::LastEnabled)]
    );
    assert_eq!(plan.summary.enabled_after, 1);
}

#[test]
fn young_meetings_count_as_what_they_are_expected_to_reach() {
    let mut policy = Policy::for_capacity(200); // young meetings count 100, steer at 160
    let mut burst = server("i-burst", PoolState::Enabled, 12, 2);
    burst.young_meetings = 2;
    burst.young_participants = 12;
    assert_eq!(burst.predicted_participants(&policy), 200);
    let mut filled = server("i-filled", PoolState::Enabled, 150, 2);
    filled.young_meetings = 1;
    filled.young_participants = 120; // already past the expectation: counted as it is
    assert_eq!(filled.predicted_participants(&policy), 150);
    let v = view(
        3,
        vec![burst, filled, server("i-room", PoolState::Enabled, 20, 1)],
    );
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-burst"),
        vec![(Action::Cordon, Reason::NearCapacity)]
    );
    assert_eq!(
        actions(&plan, "i-filled"),
        vec![(Action::Keep, Reason::Serving)]
    );
    // Without the expectation only the 12 present count.
    policy.young_meeting_participants = 0;
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-burst"),
        vec![(Action::Keep, Reason::Serving)]
    );
}

#[test]
fn a_server_that_just_took_a_burst_is_not_the_one_to_leave() {
    let mut burst = server("i-burst", PoolState::Enabled, 5, 3);
    burst.young_meetings = 3;
    burst.young_participants = 5;
    let plan = decide(
        &view(1, vec![burst, server("i-old", PoolState::Enabled, 40, 2)]),
        &no_steering(),
    );
    assert_eq!(
        actions(&plan, "i-old"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
}

#[test]
fn packing_keeps_only_the_fullest_servers_with_room_enabled() {
    let mut policy = Policy::for_capacity(200); // steer at 160, enable below 120
    policy.pack_enabled = Some(2);
    let v = view(
        5,
        vec![
            server("i-full", PoolState::Enabled, 170, 4),
            server("i-80", PoolState::Enabled, 80, 3),
            server("i-60", PoolState::Cordoned, 60, 2),
            server("i-20", PoolState::Enabled, 20, 1),
            server("i-0", PoolState::Disabled, 0, 0),
        ],
    );
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-full"),
        vec![(Action::Cordon, Reason::NearCapacity)]
    );
    assert_eq!(
        actions(&plan, "i-80"),
        vec![(Action::Keep, Reason::Serving)]
    );
    assert_eq!(
        actions(&plan, "i-60"),
        vec![(Action::Enable, Reason::DemandReturned)]
    );
    assert_eq!(
        actions(&plan, "i-20"),
        vec![(Action::Cordon, Reason::Reserve)]
    );
    assert_eq!(actions(&plan, "i-0"), vec![(Action::Keep, Reason::Reserve)]);
    assert_eq!(plan.summary.enabled_after, 2);
    assert_eq!(Reason::Reserve.as_str(), "reserve");
}

#[test]
fn the_floor_prefers_a_cordoned_server_scalelite_can_route_to_at_once() {
    let policy = Policy::for_capacity(200);
    let v = view(
        2,
        vec![
            server("i-disabled", PoolState::Disabled, 125, 2),
            server("i-cordoned", PoolState::Cordoned, 150, 3),
        ],
    );
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-cordoned"),
        vec![(Action::Enable, Reason::LastEnabled)]
    );
    assert_eq!(
        actions(&plan, "i-disabled"),
        vec![(Action::Keep, Reason::StillNearCapacity)]
    );
}

#[test]
fn with_surplus_an_unprotected_server_does_not_count_toward_the_floor() {
    // The group may terminate the idle unprotected server (its drain cordons it): the floor keeps
    // a protected one enabled too.
    let policy = Policy::for_capacity(200);
    let mut idle = server("i-idle", PoolState::Enabled, 0, 0);
    idle.launched_at_s = 10; // older: not the rule's surplus pick
    let mut idle2 = server("i-idle2", PoolState::Enabled, 0, 0);
    idle2.launched_at_s = 20;
    let v = view(
        2,
        vec![idle, idle2, server("i-busy", PoolState::Cordoned, 170, 4)],
    );
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-idle2"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
    assert_eq!(
        actions(&plan, "i-busy"),
        vec![(Action::Enable, Reason::LastEnabled)]
    );
}
