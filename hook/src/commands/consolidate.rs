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
//! The ranking reads Scalelite's figures only (every hook the same): a server's young or old
//! meetings (`createTime`) are known to its own hook alone, so they stay out of the shared
//! surplus ranking (a ranking that each hook fed with its own pinned meetings only would
//! disagree between hooks and could leave no server cordoned). The hook leaves Scalelite's
//! `load_multiplier` to registration (the configured one): spreading a burst by multipliers
//! (`bbb_core::scaling::load_multipliers`) is measured by the simulator only (ARCHITECTURE.md).
//!
//! Only a cordon this hook made is undone by it (`cordoned_for_consolidation` in the state): an
//! operator's cordon stays, and so does the health check's while FreeSWITCH is dead
//! ([`super::health_cordon`]). Every action is one `consolidation decision` event with the rule's
//! record (inputs and reason) as JSON.

use bbb_core::aws::{AutoScalingGroup, LifecycleState};
use bbb_core::scalelite::{Server, ServerState, StateChange};
use bbb_core::scaling::{self, Action, FleetView, Phase, PoolState, ServerView};

use super::registration::{self, Why};
use crate::context::{find_server, Context};
use crate::error::HookError;
use crate::state::{now_millis, HookState};

/// The fleet as the group and Scalelite report it ([`ServerView::seen_by_hooks`]): only this
/// instance's own decisions are applied, and its protection follows its local BBB, not the view.
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
            ServerView::seen_by_hooks(
                i.instance_id.clone(),
                Phase::from(&i.lifecycle_state),
                i.protected_from_scale_in,
                PoolState::from(server.map(|s| s.state)),
                server.and_then(|s| s.load),
                server.map_or(1.0, |s| s.load_multiplier),
            )
        })
        .collect();
    FleetView {
        desired_capacity: group.desired_capacity.max(0) as u32,
        servers,
    }
}

/// One consolidation pass for this instance, when due (`BBB_HOOK_CONSOLIDATION_INTERVAL`).
/// Failures to read the group or the pool skip the pass (logged); nothing is changed then, except
/// that a pool read before a failed group read still records whether Scalelite can route here.
pub async fn run(ctx: &Context, state: &mut HookState) -> Result<(), HookError> {
    if !ctx.settings.consolidation {
        return Ok(());
    }
    let interval_ms = ctx.settings.consolidation_interval.as_millis() as u64;
    if !crate::cadence::due(state.consolidated_at_ms, interval_ms, now_millis()) {
        return Ok(());
    }
    // The pool first: whether Scalelite can route here is `protect`'s to know even when the
    // group cannot be read.
    let scalelite = ctx.scalelite().await?;
    let pool = match scalelite.get_servers().await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "consolidation skipped: scalelite's pool is unreadable");
            return Ok(());
        }
    };
    let server = find_server(&pool, &ctx.server_url()).cloned();
    // Not registered (yet, or vanished until `protect` repairs it): nothing routes here.
    state.set_routable(
        server
            .as_ref()
            .is_some_and(|s| s.state == ServerState::Enabled),
    );
    if let Some(s) = &server {
        if s.state == ServerState::Enabled {
            // Enabled (by this hook's last pass, or an operator): not cordoned by this hook.
            state.consolidation_lets_go();
        } else if state.consolidation_enable_unread && s.state == ServerState::Cordoned {
            // Cordoned since this hook's enable: not by Scalelite's poller, which only ever writes
            // `disabled` (`lib/tasks/poll.rake`), so an operator's (or a tool's), left as it is.
            tracing::info!(
                server_id = %s.id,
                reason = "cordoned_by_someone_else",
                "consolidation: the server this hook enabled reads cordoned since; someone else's cordon, left as it is"
            );
            state.consolidation_lets_go();
        }
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
    state.consolidated_at_ms = now_millis();
    let me = ctx.identity.instance_id.as_str();
    let Some(server) = server else {
        return Ok(());
    };
    if group
        .instance(me)
        .is_none_or(|i| i.lifecycle_state != LifecycleState::InService)
    {
        return Ok(());
    }
    let view = fleet_view(&group, &pool, |id| ctx.config.server_url(id));
    let policy = scaling::Policy::for_capacity(ctx.settings.server_capacity);
    let plan = scaling::decide(&view, &policy);
    for event in plan.events(&view.servers).filter(|e| e.instance_id == me) {
        if adopts_health_cordon(state, &server, event.reason) {
            // The rule wants the server cordoned too: FreeSWITCH back, the health check leaves
            // the cordon (consolidation's now) instead of lifting it.
            state.consolidation_holds_cordon();
            tracing::info!(action = "adopt", reason = event.reason.as_str(), decision = %event, "consolidation decision: the health check's cordon is consolidation's too");
        }
        match event.action {
            Action::Cordon => {
                let record = event.to_value();
                let why = Why {
                    message: "consolidation decision",
                    cordon: Some("consolidation"),
                    decision: Some(&record),
                    ..Why::new(StateChange::Cordon, event.reason.as_str())
                };
                registration::decide_state(&scalelite, &server, StateChange::Cordon, &why).await?;
                state.consolidation_holds_cordon();
                state.cordon_held_since_ms = now_millis();
                state.set_routable(false);
            }
            Action::Enable if state.health.holds_cordon(ctx.settings.health_failures) => {
                // FreeSWITCH is dead: the health check's cordon wins; enabled by the pass that
                // wants it back once the check lets go (`health_cordon`).
                tracing::info!(action = "leave", reason = event.reason.as_str(), decision = %event, "consolidation decision: cordoned by the health check, left cordoned");
            }
            Action::Enable if state.cordoned_for_consolidation => {
                super::protect::protect_for_routing(ctx, state).await?;
                let record = event.to_value();
                let why = Why {
                    message: "consolidation decision",
                    decision: Some(&record),
                    ..Why::new(StateChange::Enable, event.reason.as_str())
                };
                registration::decide_state(&scalelite, &server, StateChange::Enable, &why).await?;
                // Still this hook's until a pass reads the server enabled: Scalelite's poller,
                // saving a view of the server it read cordoned with no user left, can write
                // `disabled` over this enable (`lib/tasks/poll.rake`), and the next pass then
                // enables it again instead of leaving it as an operator's.
                state.consolidation_enable_unread = true;
                state.cordon_held_since_ms = 0;
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
            _ => tracing::debug!(
                action = event.action.as_str(),
                reason = event.reason.as_str(),
                "consolidation: nothing to do"
            ),
        }
    }
    Ok(())
}

/// Whether consolidation takes over the health check's cordon: the check cordoned the server
/// (`health_cordon`), and the rule, seeing it cordoned, wants it to stay so (surplus, steering).
fn adopts_health_cordon(state: &HookState, server: &Server, reason: scaling::Reason) -> bool {
    use scaling::Reason as R;
    state.health.cordon == super::health_cordon::Cordon::Made
        && !state.cordoned_for_consolidation
        && server.state != ServerState::Enabled
        && matches!(
            reason,
            R::SurplusDraining
                | R::SurplusIdle
                | R::SurplusAwaitingTermination
                | R::StillNearCapacity
                | R::Reserve
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bbb_core::aws::{AsgInstance, HealthStatus};
    use bbb_core::Secret;

    fn instance(id: &str, state: LifecycleState, protected: bool) -> AsgInstance {
        AsgInstance {
            instance_id: id.into(),
            lifecycle_state: state,
            health_status: HealthStatus::Healthy,
            protected_from_scale_in: protected,
            availability_zone: None,
            instance_type: None,
            launch_template: None,
        }
    }

    /// A group of `instances` that wants 2.
    fn group(instances: Vec<AsgInstance>) -> AutoScalingGroup {
        AutoScalingGroup {
            name: "g".into(),
            arn: None,
            min_size: 1,
            max_size: 10,
            desired_capacity: 2,
            launch_template: None,
            availability_zones: Vec::new(),
            new_instances_protected_from_scale_in: false,
            status: None,
            instances,
        }
    }

    fn server(host: &str, state: ServerState, load: Option<f64>, multiplier: f64) -> Server {
        Server {
            id: format!("id-{host}"),
            url: format!("https://bbb-{host}.example.org/bigbluebutton/api"),
            secret: Secret::new("s"),
            tag: None,
            bbb_version: None,
            state,
            load,
            load_multiplier: multiplier,
            online: load.is_some(),
        }
    }

    /// A server just enabled (a new instance's launch) has no load in Scalelite until its next
    /// poll and takes no `create` until then: the busy server beside it must stay enabled. The
    /// view did not mark it, so the busy server cordoned itself "near capacity" and Scalelite
    /// refused the `create`s in between (the sandbox day caught one).
    #[test]
    fn a_server_scalelite_has_not_polled_yet_leaves_the_busy_one_enabled() {
        let group = group(vec![
            instance("i-busy", LifecycleState::InService, true),
            instance("i-new", LifecycleState::InService, false),
        ]);
        let pool = vec![
            server("i-busy", ServerState::Enabled, Some(190.0), 1.0),
            server("i-new", ServerState::Enabled, None, 1.0),
        ];
        let url = |id: &str| format!("https://bbb-{id}.example.org/bigbluebutton/api");
        let view = fleet_view(&group, &pool, url);
        assert!(view.servers[1].awaiting_poll, "enabled, no load yet");
        assert!(!view.servers[0].awaiting_poll);
        let plan = scaling::decide(&view, &scaling::Policy::for_capacity(200));
        let busy: Vec<Action> = plan
            .events(&view.servers)
            .filter(|e| e.instance_id == "i-busy")
            .map(|e| e.action)
            .collect();
        assert!(!busy.contains(&Action::Cordon), "{busy:?}");
    }

    #[test]
    fn one_view_of_the_group_and_the_pool() {
        let group = group(vec![
            instance("i-a", LifecycleState::InService, true),
            instance("i-b", LifecycleState::InService, false),
            instance("i-c", LifecycleState::PendingWait, true),
            instance("i-d", LifecycleState::TerminatingWait, false),
        ]);
        let pool = vec![
            server("i-a", ServerState::Enabled, Some(60.0), 2.0),
            server("i-b", ServerState::Cordoned, Some(4.0), 1.0),
            server("i-d", ServerState::Disabled, None, 1.0),
            server("other", ServerState::Enabled, Some(1.0), 1.0),
        ];
        let url = |id: &str| format!("https://bbb-{id}.example.org/bigbluebutton/api");
        let view = fleet_view(&group, &pool, url);
        assert_eq!(view.desired_capacity, 2);
        let ids: Vec<&str> = view
            .servers
            .iter()
            .map(|s| s.instance_id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["i-a", "i-b", "i-c", "i-d"],
            "the group's instances only"
        );
        let a = &view.servers[0];
        assert_eq!(
            (a.phase, a.pool, a.protected, a.participants),
            (Phase::InService, PoolState::Enabled, true, 30)
        );
        assert_eq!(view.servers[1].pool, PoolState::Cordoned);
        assert_eq!(view.servers[1].participants, 4);
        assert_eq!(
            (view.servers[2].phase, view.servers[2].pool),
            (Phase::Launching, PoolState::Unregistered)
        );
        assert_eq!(
            (view.servers[3].phase, view.servers[3].participants),
            (Phase::Leaving, 0)
        );
        // Three counted (two in service, one launching) for a desired capacity of two: the
        // surplus is the launching one, which the group can take itself (its protection flag,
        // set by the group at launch, starts to hold only in service), so the cordoned server
        // is wanted back.
        let plan = scaling::decide(&view, &scaling::Policy::for_capacity(200));
        assert_eq!(plan.summary.surplus, 1);
        assert!(plan.for_instance("i-a").all(|d| d.action == Action::Keep));
        assert!(plan
            .for_instance("i-b")
            .any(|d| d.action == Action::Enable && d.reason == scaling::Reason::DemandReturned));
    }
}
