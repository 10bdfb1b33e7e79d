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
        .filter(|s| s.takes_creates_now())
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

/// How many states [`grid_server`] has.
const GRID_STATES: usize = 32;

/// One server's state `k` of the grids below: pool (enabled, cordoned), load (0, 20, 150, 170
/// participants), Scalelite's load missing (offline or not polled yet) or not, and protected or
/// not when idle (an idle server is protected while enabled under consolidation, not otherwise;
/// a busy one always is).
fn grid_server(id: &str, k: usize) -> ServerView {
    let pools = [PoolState::Enabled, PoolState::Cordoned];
    let load = [0, 20, 150, 170][k % 4];
    let mut v = server(id, pools[(k / 4) % 2], load, u32::from(load > 0));
    v.awaiting_poll = (k / 8) % 2 == 1;
    v.protected = (k / 16) % 2 == 1 || load > 0;
    v
}

#[test]
fn every_plan_is_safe_one_server_at_a_time() {
    let policy = Policy::for_capacity(200);
    let (states, s) = (GRID_STATES, grid_server);
    // Every fleet of three servers over these states, for desired 1 to 3.
    for desired in 1..=3 {
        for a in 0..states {
            for b in 0..states {
                for c in 0..states {
                    let v = view(desired, vec![s("i-a", a), s("i-b", b), s("i-c", c)]);
                    let routable_now = v.servers.iter().filter(|s| s.takes_creates_now()).count();
                    let plan = decide(&v, &policy);
                    let kept = enabled_after_cordons_only(&v, &plan);
                    assert!(
                        kept >= routable_now.min(policy.min_enabled as usize),
                        "{v:?}\n{plan:?}"
                    );
                }
            }
        }
    }
}

/// A server Scalelite has taken offline (its load gone, still enabled: `poll.rake` leaves the
/// state) takes no `create`, so the floor does not count it; were it ranked after an online
/// idle server, the floor would withdraw that one's surplus cordon at every pass and the fleet
/// would never shrink. At equal load it is the one to leave.
#[test]
fn a_server_scalelite_cannot_route_to_is_the_surplus_before_one_it_can() {
    let mut online = server("i-a", PoolState::Enabled, 0, 0);
    online.protected = true;
    let mut offline = server("i-o", PoolState::Enabled, 0, 0);
    offline.protected = true;
    offline.awaiting_poll = true;
    let v = view(1, vec![online, offline]);
    let plan = decide(&v, &Policy::for_capacity(200));
    assert_eq!(
        actions(&plan, "i-o"),
        vec![
            (Action::Cordon, Reason::Surplus),
            (Action::Unprotect, Reason::SurplusIdle)
        ]
    );
    assert_eq!(actions(&plan, "i-a"), vec![(Action::Keep, Reason::Serving)]);
}

/// The fleet after the servers of hook phase `phase` (index parity: their hooks consolidate at
/// :00 or at :30) applied their own decisions of `plan`: cordons, enables and unprotections.
fn applied_by_phase(v: &FleetView, plan: &Plan, phase: usize) -> FleetView {
    let mut next = v.clone();
    for (k, s) in next.servers.iter_mut().enumerate() {
        if k % 2 != phase {
            continue;
        }
        for d in plan.for_instance(&s.instance_id) {
            match d.action {
                Action::Cordon => s.pool = PoolState::Cordoned,
                Action::Enable => s.pool = PoolState::Enabled,
                Action::Unprotect => s.protected = false,
                _ => {}
            }
        }
    }
    next
}

fn pool_changes(plan: &Plan) -> usize {
    plan.changes()
        .filter(|d| matches!(d.action, Action::Cordon | Action::Enable))
        .count()
}

/// Liveness, the other half of [`every_plan_is_safe_one_server_at_a_time`]: with the loads
/// standing still, hooks applying their own decisions at alternating passes reach a fleet the
/// rule leaves as it is (no cordon or enable left to make), within a few passes: no two hooks
/// undo each other's work forever, and the surplus does leave.
#[test]
fn hooks_at_alternating_passes_settle_on_a_fleet_the_rule_leaves_alone() {
    let policy = Policy::for_capacity(200);
    let (states, s) = (GRID_STATES, grid_server);
    let mut longest = 0;
    for desired in 1..=3 {
        for a in 0..states {
            for b in 0..states {
                for c in 0..states {
                    let mut v = view(desired, vec![s("i-a", a), s("i-b", b), s("i-c", c)]);
                    let start = v.clone();
                    let mut passes = 0;
                    while pool_changes(&decide(&v, &policy)) > 0 {
                        assert!(
                            passes < 8,
                            "no fixed point after {passes} passes from\n{start:?}\nnow\n{v:?}\n{:?}",
                            decide(&v, &policy)
                        );
                        let plan = decide(&v, &policy);
                        v = applied_by_phase(&v, &plan, passes % 2);
                        passes += 1;
                    }
                    longest = longest.max(passes);
                    // Settled: no more servers take creates than the group wants.
                    let routable = v.servers.iter().filter(|s| s.takes_creates_now()).count();
                    assert!(
                        routable <= desired as usize,
                        "settled with {routable} routable for {desired} wanted:\n{start:?}\n{v:?}"
                    );
                }
            }
        }
    }
    assert!(longest >= 2, "some fleets take a swap over two passes");
}
