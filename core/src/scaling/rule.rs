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
    let surplus = counted.saturating_sub(view.desired_capacity);
    // The group terminates unprotected launching instances itself; only the rest of the surplus
    // has to be made to leave.
    let launching_unprotected = view
        .servers
        .iter()
        .filter(|s| s.phase == Phase::Launching && !s.protected)
        .count() as u32;

    // Surplus ranking over the in-service, registered servers: least loaded first, a cordoned
    // server's load discounted by the hysteresis so that it keeps its place, then fewer meetings,
    // cordoned before enabled, newest first, instance id.
    let mut ranked: Vec<&ServerView> = view
        .servers
        .iter()
        .filter(|s| s.phase == Phase::InService && s.pool != PoolState::Unregistered)
        .collect();
    let key = |s: &ServerView| {
        let off = is_off(s.pool);
        let effective = if off {
            s.participants.saturating_sub(policy.surplus_hysteresis)
        } else {
            s.participants
        };
        (effective, s.meetings, !off, Reverse(s.launched_at_s))
    };
    ranked.sort_by(|a, b| {
        key(a)
            .cmp(&key(b))
            .then_with(|| a.instance_id.cmp(&b.instance_id))
    });
    // Never cordon the fleet's last `min_enabled` servers for surplus (while the group wants
    // any): Scalelite would refuse every create.
    let keep = policy.min_enabled.min(view.desired_capacity) as usize;
    let slots = (surplus.saturating_sub(launching_unprotected) as usize)
        .min(ranked.len().saturating_sub(keep));
    let rank_of = |id: &str| -> Option<u32> {
        ranked
            .iter()
            .take(slots)
            .position(|s| s.instance_id == id)
            .map(|p| p as u32)
    };

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
            if policy.steer_cordon_at.is_some() && s.participants >= policy.steer_enable_below {
                push(&mut decisions, Action::Keep, Reason::StillNearCapacity);
            } else {
                push(&mut decisions, Action::Enable, Reason::DemandReturned);
            }
        } else if policy
            .steer_cordon_at
            .is_some_and(|at| s.participants >= at)
        {
            push(&mut decisions, Action::Cordon, Reason::NearCapacity);
        } else {
            push(&mut decisions, Action::Keep, Reason::Serving);
        }
    }

    // The floor: steering never leaves fewer than min_enabled non-surplus servers enabled; the
    // least loaded steered servers stay (or become) enabled.
    let enabled_now = |decisions: &[Decision]| -> u32 {
        view.servers
            .iter()
            .filter(|s| s.phase == Phase::InService && s.pool != PoolState::Unregistered)
            .filter(|s| ends_enabled(s, decisions))
            .count() as u32
    };
    let mut enabled = enabled_now(&decisions);
    if enabled < policy.min_enabled {
        let mut steered: Vec<&ServerView> = view
            .servers
            .iter()
            .filter(|s| {
                decisions.iter().any(|d| {
                    d.instance_id == s.instance_id
                        && matches!(d.reason, Reason::NearCapacity | Reason::StillNearCapacity)
                })
            })
            .collect();
        steered.sort_by(|a, b| {
            (a.participants, a.meetings)
                .cmp(&(b.participants, b.meetings))
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
                enabled += 1;
            }
        }
    }

    let summary = FleetSummary {
        desired_capacity: view.desired_capacity,
        counted,
        surplus,
        enabled_after: enabled_now(&decisions),
        participants: view.servers.iter().map(|s| s.participants).sum(),
    };
    Plan { summary, decisions }
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
