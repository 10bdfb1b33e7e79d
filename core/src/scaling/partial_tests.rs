//! Each hook applies only its own decisions, at its own pass: a fleet's hooks consolidate at
//! :00 or at :30 (their timers fire on the wall clock's half minutes; each consolidates every
//! other pass, from the pass it went in service), and even hooks of one phase read the pool a
//! few seconds apart. So a plan must be safe applied one server at a time in any order: a plan
//! that swaps which server takes `create`s (enable one, cordon another) leaves Scalelite nothing
//! to route to between the two passes, and it refuses every `create` then ("Could not find any
//! available servers"; the simulator with per-hook phases counted 10 on the flat day).

use super::tests::{actions, server, view};
use super::*;

/// The servers Scalelite routes to now that stay enabled once every `cordon` of the plan is
/// applied and none of its `enable`s yet (the worst order).
fn enabled_after_cordons_only(v: &FleetView, plan: &Plan) -> usize {
    v.servers
        .iter()
        .filter(|s| s.pool == PoolState::Enabled && s.phase == Phase::InService)
        .filter(|s| {
            plan.for_instance(&s.instance_id)
                .all(|d| d.action != Action::Cordon)
        })
        .count()
}

#[test]
fn the_last_enabled_server_keeps_taking_creates_until_another_is_enabled() {
    let policy = Policy::for_capacity(200); // cordon at 160, enable below 120
    let v = view(
        2,
        vec![
            // Steered away from, still near capacity, but now the lighter of the two.
            server("i-a", PoolState::Cordoned, 150, 4),
            server("i-b", PoolState::Enabled, 175, 5),
        ],
    );
    let plan = decide(&v, &policy);
    assert_eq!(enabled_after_cordons_only(&v, &plan), 1, "{plan:?}");
    assert_eq!(
        actions(&plan, "i-b"),
        vec![(Action::Keep, Reason::LastEnabled)]
    );
    assert_eq!(
        actions(&plan, "i-a"),
        vec![(Action::Enable, Reason::LastEnabled)],
        "the swap's first half: once i-a takes creates, i-b's next pass may cordon it"
    );
}

#[test]
fn a_surplus_cordon_waits_while_the_only_other_server_is_steered_away() {
    let policy = Policy::for_capacity(200);
    let v = view(
        1,
        vec![
            server("i-surplus", PoolState::Enabled, 20, 1),
            server("i-steered", PoolState::Cordoned, 150, 4),
        ],
    );
    let plan = decide(&v, &policy);
    assert_eq!(enabled_after_cordons_only(&v, &plan), 1, "{plan:?}");
}

#[test]
fn every_plan_is_safe_one_server_at_a_time() {
    let policy = Policy::for_capacity(200);
    let pools = [PoolState::Enabled, PoolState::Cordoned];
    let loads = [0, 20, 130, 150, 170, 190];
    // Every fleet of three servers over these states and loads, for desired 1 to 3.
    for desired in 1..=3 {
        for a in 0..12 {
            for b in 0..12 {
                for c in 0..12 {
                    let s = |id: &str, k: usize| {
                        let load = loads[k % 6];
                        server(id, pools[k / 6], load, u32::from(load > 0))
                    };
                    let v = view(desired, vec![s("i-a", a), s("i-b", b), s("i-c", c)]);
                    let enabled_now = v
                        .servers
                        .iter()
                        .filter(|s| s.pool == PoolState::Enabled)
                        .count();
                    let plan = decide(&v, &policy);
                    assert!(
                        enabled_after_cordons_only(&v, &plan)
                            >= enabled_now.min(policy.min_enabled as usize),
                        "{v:?}\n{plan:?}"
                    );
                }
            }
        }
    }
}
