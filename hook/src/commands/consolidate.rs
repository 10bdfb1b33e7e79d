//! Consolidation, run by `protect` on every instance (see ARCHITECTURE.md, "Consolidation"):
//! when the group wants fewer servers than it has, the least-loaded surplus servers cordon
//! themselves in Scalelite and empty as their meetings end; when it wants them back, they enable
//! themselves again before the group launches anything new.
//!
//! Each hook reads the same two things, the group (`DescribeAutoScalingGroups`: desired
//! capacity, instances, lifecycle states, protection) and Scalelite's pool (`getServers`: state
//! and load), builds one [`FleetView`] from them with the same figures for every server (its own
//! included: Scalelite's load, not its local `getMeetings`, so that every hook ranks the fleet
//! alike), asks the shared rule ([`bbb_core::scaling::decide`]) and applies the decisions about
//! itself only. Protection stays `protect`'s (meetings and recordings, read locally): a cordoned
//! server loses it when it is empty, and the group, above its desired capacity, terminates it
//! through the drain. No meeting is ever ended here.
//!
//! Only a cordon this hook made is undone by it (`cordoned_for_consolidation` in the state): an
//! operator's cordon stays. Every action is one `consolidation decision` event with the rule's
//! record (inputs and reason) as JSON.

use bbb_core::aws::{AutoScalingGroup, LifecycleState};
use bbb_core::scalelite::{Server, ServerState, StateChange};
use bbb_core::scaling::{self, Action, FleetView, Phase, PoolState, ServerView};

use super::registration;
use crate::context::{find_server, Context};
use crate::error::HookError;
use crate::state::{now_millis, HookState};

/// The fleet as the group and Scalelite report it. A server's participants are Scalelite's load
/// over its multiplier (the poller's attendee count); meetings and recordings are not in
/// Scalelite's answer and read as none: only this instance's own decisions are applied, and
/// its protection follows its local BBB, not the view.
pub fn fleet_view(
    group: &AutoScalingGroup,
    pool: &[Server],
    server_url: impl Fn(&str) -> String,
) -> FleetView {
    let servers = group
        .instances
        .iter()
        .map(|i| {
            let server = find_server(pool, &server_url(&i.instance_id));
            let mut view = ServerView::new(
                i.instance_id.clone(),
                Phase::from(&i.lifecycle_state),
                PoolState::from(server.map(|s| s.state)),
                0,
            );
            view.protected = i.protected_from_scale_in;
            view.participants = server
                .and_then(|s| s.load.map(|l| l / s.load_multiplier.max(f64::MIN_POSITIVE)))
                .map_or(0, |p| p.round().clamp(0.0, f64::from(u32::MAX)) as u32);
            view
        })
        .collect();
    FleetView {
        desired_capacity: group.desired_capacity.max(0) as u32,
        servers,
    }
}

/// One consolidation pass for this instance, when due (`BBB_HOOK_CONSOLIDATION_INTERVAL`).
/// Failures to read the group or the pool skip the pass (logged); nothing is changed then.
pub async fn run(ctx: &Context, state: &mut HookState) -> Result<(), HookError> {
    if !ctx.settings.consolidation {
        return Ok(());
    }
    let interval_ms = ctx.settings.consolidation_interval.as_millis() as u64;
    if now_millis().saturating_sub(state.consolidated_at_ms) < interval_ms {
        return Ok(());
    }
    let group = match ctx
        .aws
        .describe_auto_scaling_group(&ctx.config.autoscaling_group_name)
        .await
    {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "consolidation skipped: the group is unreadable");
            return Ok(());
        }
    };
    let scalelite = ctx.scalelite().await?;
    let pool = match scalelite.get_servers().await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "consolidation skipped: scalelite's pool is unreadable");
            return Ok(());
        }
    };
    state.consolidated_at_ms = now_millis();
    let me = ctx.identity.instance_id.as_str();
    let Some(server) = find_server(&pool, &ctx.server_url()).cloned() else {
        return Ok(());
    };
    if group
        .instance(me)
        .is_none_or(|i| i.lifecycle_state != LifecycleState::InService)
    {
        return Ok(());
    }
    if server.state == ServerState::Enabled {
        // Enabled: not (or no longer, an operator enabled it) cordoned by this hook.
        state.cordoned_for_consolidation = false;
    }
    let view = fleet_view(&group, &pool, |id| ctx.config.server_url(id));
    let policy = scaling::Policy::for_capacity(ctx.settings.server_capacity);
    let plan = scaling::decide(&view, &policy);
    for event in plan.events(&view.servers).filter(|e| e.instance_id == me) {
        match event.action {
            Action::Cordon => {
                registration::set_state(&scalelite, &server, StateChange::Cordon).await?;
                state.cordoned_for_consolidation = true;
                tracing::info!(action = "cordon", reason = event.reason.as_str(), decision = %event, "consolidation decision");
            }
            Action::Enable if state.cordoned_for_consolidation => {
                registration::set_state(&scalelite, &server, StateChange::Enable).await?;
                state.cordoned_for_consolidation = false;
                tracing::info!(action = "enable", reason = event.reason.as_str(), decision = %event, "consolidation decision");
            }
            Action::Enable => {
                tracing::info!(
                    action = "leave",
                    reason = event.reason.as_str(),
                    decision = %event,
                    "consolidation decision: not cordoned by bbb-hook, left {} (an operator's)",
                    server.state.as_str()
                );
            }
            Action::Unprotect => {
                // protect drops the protection itself once BBB and the recording pipeline are
                // idle (read locally, stricter than the pool's view); recorded for the trail.
                tracing::info!(action = "release", reason = event.reason.as_str(), decision = %event, "consolidation decision");
            }
            _ => tracing::debug!(action = event.action.as_str(), reason = event.reason.as_str(), "consolidation: nothing to do"),
        }
    }
    Ok(())
}
