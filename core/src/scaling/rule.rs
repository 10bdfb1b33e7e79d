//! The decision rule itself (documented in the module's rustdoc).

use super::input::{FleetView, Phase, Policy, PoolState, ServerView};
use super::output::{Action, Decision, FleetSummary, Plan, Reason};
use std::cmp::Reverse;

/// Decides, for every server of `view`, what to do now. Pure and deterministic: the same view and
/// policy give the same plan (whatever the order of `view.servers`, up to the plan's order,
/// which follows the input).
pub fn decide(view: &FleetView, policy: &Policy) -> Plan {
    let counted = view
        .servers
        .iter()
        .filter(|s| matches!(s.phase, Phase::Launching | Phase::InService))
        .count() as u32;
    let wanted = view.desired_capacity.max(predicted_need(view, policy));
    let surplus = counted.saturating_sub(wanted);
    // Launching instances of the surplus are left to the group. AWS documents that scale-in
    // protection "starts when the instance state is InService" (EC2 Auto Scaling user guide),
    // whatever the flag the group's `NewInstancesProtectedFromScaleIn` sets at launch; not
    // whether or which launching instance a scale-in picks. Either way no meeting is at stake
    // (a server is enabled in Scalelite only once in service), and only the rest of the
    // surplus has to be made to leave: should the group let one come in service instead, it is
    // the emptiest surplus at the next pass, one pass late (a cordoned server wanted back
    // meanwhile takes `create`s for that pass), never a server too many cordoned.
    let launching = view
        .servers
        .iter()
        .filter(|s| s.phase == Phase::Launching)
        .count() as u32;

    // Surplus ranking over the in-service, registered servers: least loaded first, a cordoned
    // server's load discounted by the hysteresis so that it keeps its place, then fewer meetings,
    // cordoned before enabled, enabled but not routable before routable, newest first, instance
    // id.
    let mut ranked: Vec<&ServerView> = view
        .servers
        .iter()
        .filter(|s| s.phase == Phase::InService && s.pool != PoolState::Unregistered)
        .collect();
    let key = |s: &ServerView| {
        let off = is_off(s.pool);
        let load = s.predicted_participants(policy);
        let effective = if off {
            load.saturating_sub(policy.surplus_hysteresis)
        } else {
            load
        };
        let pinned = policy.keep_pinned && s.old_meetings > 0 && !s.is_idle();
        // Enabled but not routable (Scalelite has no load for it: offline, or not polled yet)
        // before routable: the floor keeps the routable ones (`partial_tests.rs`).
        let routable = !(s.awaiting_poll && s.pool == PoolState::Enabled);
        (
            pinned,
            effective,
            s.meetings,
            !off,
            routable,
            Reverse(s.launched_at_s),
        )
    };
    ranked.sort_by(|a, b| {
        key(a)
            .cmp(&key(b))
            .then_with(|| a.instance_id.cmp(&b.instance_id))
    });
    // Never cordon the fleet's last `min_enabled` servers for surplus (while the group wants
    // any): Scalelite would refuse every create.
    let keep = policy.min_enabled.min(wanted) as usize;
    let slots = (surplus.saturating_sub(launching) as usize).min(ranked.len().saturating_sub(keep));
    let rank_of = |id: &str| -> Option<u32> {
        ranked
            .iter()
            .take(slots)
            .position(|s| s.instance_id == id)
            .map(|p| p as u32)
    };

    // Packing: of the servers with room, only the `pack_enabled` fullest take new meetings.
    let fill: Vec<&str> = match policy.pack_enabled {
        None => Vec::new(),
        Some(k) => {
            let mut room: Vec<&ServerView> = ranked
                .iter()
                .copied()
                .filter(|s| rank_of(&s.instance_id).is_none())
                .filter(|s| {
                    let limit = if is_off(s.pool) {
                        policy.steer_enable_below
                    } else {
                        policy
                            .steer_cordon_at
                            .unwrap_or(policy.capacity_participants)
                    };
                    s.predicted_participants(policy) < limit
                })
                .collect();
            room.sort_by(|a, b| {
                let ka = (Reverse(a.predicted_participants(policy)), is_off(a.pool));
                let kb = (Reverse(b.predicted_participants(policy)), is_off(b.pool));
                ka.cmp(&kb).then_with(|| a.instance_id.cmp(&b.instance_id))
            });
            room.iter()
                .take(k as usize)
                .map(|s| s.instance_id.as_str())
                .collect()
        }
    };
    let reserve =
        |s: &ServerView| policy.pack_enabled.is_some() && !fill.contains(&s.instance_id.as_str());

    // First pass: surplus and steering, without the min_enabled floor.
    let mut decisions: Vec<Decision> = Vec::with_capacity(view.servers.len() + 1);
    for s in &view.servers {
        let rank = rank_of(&s.instance_id);
        let push = |decisions: &mut Vec<Decision>, action, reason| {
            decisions.push(decision(&s.instance_id, action, reason, rank));
        };
        if s.phase != Phase::InService {
            push(&mut decisions, Action::Keep, Reason::NotInService);
        } else if s.pool == PoolState::Unregistered {
            push(&mut decisions, Action::Keep, Reason::Unregistered);
        } else if rank.is_some() {
            if !is_off(s.pool) {
                push(&mut decisions, Action::Cordon, Reason::Surplus);
            }
            if s.is_idle() {
                if s.protected {
                    push(&mut decisions, Action::Unprotect, Reason::SurplusIdle);
                } else if is_off(s.pool) {
                    push(
                        &mut decisions,
                        Action::Keep,
                        Reason::SurplusAwaitingTermination,
                    );
                }
            } else if is_off(s.pool) {
                push(&mut decisions, Action::Keep, Reason::SurplusDraining);
            }
        } else if is_off(s.pool) {
            let load = s.predicted_participants(policy);
            if policy.steer_cordon_at.is_some() && load >= policy.steer_enable_below {
                push(&mut decisions, Action::Keep, Reason::StillNearCapacity);
            } else if reserve(s) {
                push(&mut decisions, Action::Keep, Reason::Reserve);
            } else {
                push(&mut decisions, Action::Enable, Reason::DemandReturned);
            }
        } else if policy
            .steer_cordon_at
            .is_some_and(|at| s.predicted_participants(policy) >= at)
        {
            push(&mut decisions, Action::Cordon, Reason::NearCapacity);
        } else if reserve(s) {
            push(&mut decisions, Action::Cordon, Reason::Reserve);
        } else {
            push(&mut decisions, Action::Keep, Reason::Serving);
        }
    }

    // The floor: steering never leaves fewer than min_enabled servers that take a `create`
    // now; the least loaded steered servers stay (or become) enabled. A server enabled from
    // disabled has no load in Scalelite until its next poll and takes nothing until then, so it
    // does not count, and cordoned ones (whose load Scalelite keeps) are enabled first.
    let enabled_now = |decisions: &[Decision]| -> u32 {
        view.servers
            .iter()
            .filter(|s| s.phase == Phase::InService && s.pool != PoolState::Unregistered)
            .filter(|s| ends_enabled(s, decisions))
            .count() as u32
    };
    // Nor does an unprotected one while the group has surplus: the group may take it.
    let routable_now = |decisions: &[Decision]| -> u32 {
        view.servers
            .iter()
            .filter(|s| s.phase == Phase::InService && s.pool != PoolState::Disabled)
            .filter(|s| s.protected || surplus == 0)
            .filter(|s| !(s.awaiting_poll && s.pool == PoolState::Enabled))
            .filter(|s| s.pool != PoolState::Unregistered && ends_enabled(s, decisions))
            .count() as u32
    };
    let mut enabled = routable_now(&decisions);
    if enabled < policy.min_enabled {
        let mut steered: Vec<&ServerView> = view
            .servers
            .iter()
            .filter(|s| {
                decisions.iter().any(|d| {
                    d.instance_id == s.instance_id
                        && matches!(
                            d.reason,
                            Reason::NearCapacity | Reason::StillNearCapacity | Reason::Reserve
                        )
                })
            })
            .collect();
        steered.sort_by(|a, b| {
            let key = |s: &ServerView| {
                (
                    s.pool == PoolState::Disabled,
                    s.predicted_participants(policy),
                    s.meetings,
                )
            };
            key(a)
                .cmp(&key(b))
                .then_with(|| a.instance_id.cmp(&b.instance_id))
        });
        for s in steered {
            if enabled >= policy.min_enabled {
                break;
            }
            if let Some(d) = decisions
                .iter_mut()
                .find(|d| d.instance_id == s.instance_id)
            {
                d.reason = Reason::LastEnabled;
                d.action = if is_off(s.pool) {
                    Action::Enable
                } else {
                    Action::Keep
                };
                if s.pool != PoolState::Disabled {
                    enabled += 1;
                }
            }
        }
    }

    keep_enabled_one_server_at_a_time(view, policy, policy.min_enabled.min(wanted), &mut decisions);

    let summary = FleetSummary {
        desired_capacity: view.desired_capacity,
        counted,
        surplus,
        enabled_after: enabled_now(&decisions),
        participants: view.servers.iter().map(|s| s.participants).sum(),
    };
    Plan { summary, decisions }
}

/// Each hook applies only its own decisions, at its own pass (`partial_tests.rs`), so a plan's
/// `enable`s may land after its `cordon`s: of the servers Scalelite routes to now, at least
/// `floor` (`min_enabled`, unless the group wants fewer) keep taking `create`s whatever the
/// order. Their cordons (and a surplus one's release) are withdrawn, least loaded first, as
/// `last_enabled`; once the server the plan enables takes `create`s, a later pass may cordon
/// them.
fn keep_enabled_one_server_at_a_time(
    view: &FleetView,
    policy: &Policy,
    floor: u32,
    decisions: &mut Vec<Decision>,
) {
    let cordoned = |s: &ServerView, decisions: &[Decision]| {
        decisions
            .iter()
            .any(|d| d.instance_id == s.instance_id && d.action == Action::Cordon)
    };
    let kept = view
        .servers
        .iter()
        .filter(|s| s.takes_creates_now() && !cordoned(s, decisions))
        .count() as u32;
    let mut withdraw: Vec<&ServerView> = view
        .servers
        .iter()
        .filter(|s| s.takes_creates_now() && cordoned(s, decisions))
        .collect();
    withdraw.sort_by(|a, b| {
        (a.predicted_participants(policy), a.meetings)
            .cmp(&(b.predicted_participants(policy), b.meetings))
            .then_with(|| a.instance_id.cmp(&b.instance_id))
    });
    let short = floor.saturating_sub(kept) as usize;
    for s in withdraw.into_iter().take(short) {
        decisions.retain(|d| d.instance_id != s.instance_id || d.action != Action::Unprotect);
        if let Some(d) = decisions
            .iter_mut()
            .find(|d| d.instance_id == s.instance_id && d.action == Action::Cordon)
        {
            d.action = Action::Keep;
            d.reason = Reason::LastEnabled;
        }
    }
}

fn decision(id: &str, action: Action, reason: Reason, surplus_rank: Option<u32>) -> Decision {
    Decision {
        instance_id: id.to_owned(),
        action,
        reason,
        surplus_rank,
    }
}

/// Cordoned or disabled: takes no new meetings (Scalelite's poller turns a cordoned server whose
/// load reads zero into a disabled one, so the two mean the same to the rule).
fn is_off(pool: PoolState) -> bool {
    matches!(pool, PoolState::Cordoned | PoolState::Disabled)
}

/// Whether `s` is enabled once `decisions` are applied.
fn ends_enabled(s: &ServerView, decisions: &[Decision]) -> bool {
    let mut enabled = s.pool == PoolState::Enabled;
    for d in decisions.iter().filter(|d| d.instance_id == s.instance_id) {
        match d.action {
            Action::Cordon => enabled = false,
            Action::Enable => enabled = true,
            _ => {}
        }
    }
    enabled
}

/// The servers the fleet's predicted participants need at `surplus_keeps_predicted` per server
/// (0 when that is off).
fn predicted_need(view: &FleetView, policy: &Policy) -> u32 {
    let Some(per) = policy.surplus_keeps_predicted.filter(|&n| n > 0) else {
        return 0;
    };
    let predicted: u32 = view
        .servers
        .iter()
        .filter(|s| s.phase == Phase::InService && s.pool != PoolState::Unregistered)
        .map(|s| s.predicted_participants(policy))
        .fold(0u32, u32::saturating_add);
    predicted.div_ceil(per)
}

/// Steering from one server's own `getMeetings`, between the fleet-wide passes of [`decide`]:
/// an enabled, in-service server whose predicted participants reach `steer_cordon_at` is
/// cordoned (`near_capacity`) at once. It needs no fleet read, so a hook can run it every few
/// seconds against its own BBB and bound the pile-up of a burst on a server Scalelite reads as
/// empty; it never enables (that stays [`decide`]'s, at its next pass).
///
/// `lighter_routable`: how many other servers Scalelite would route a `create` to before this
/// one (its `getServers`: enabled, online, with a load, lower than this server's; ties to the
/// smaller id, as `find_available`). Below `min_enabled` the server stays enabled: when a burst
/// fills every server at once, the ones Scalelite ranks lightest keep taking `create`s instead
/// of all cordoning themselves and leaving Scalelite nothing to route to (it refuses the
/// `create`). Every hook reads the same ranking, so they agree on who stays. `None`: nothing
/// to do.
pub fn steer_self(server: &ServerView, lighter_routable: u32, policy: &Policy) -> Option<Decision> {
    let at = policy.steer_cordon_at?;
    (server.phase == Phase::InService
        && server.pool == PoolState::Enabled
        && lighter_routable >= policy.min_enabled
        && server.predicted_participants(policy) >= at)
        .then(|| {
            decision(
                &server.instance_id,
                Action::Cordon,
                Reason::NearCapacity,
                None,
            )
        })
}
