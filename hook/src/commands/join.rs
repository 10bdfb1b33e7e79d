//! The end of `bbb-hook launch`, once the launching lifecycle action is completed: the server
//! joins Scalelite only in service and protected.
//!
//! Scalelite routes a `create` to an enabled server as soon as its poller has read it, and
//! protection from scale-in starts only in service (EC2 Auto Scaling refuses
//! `SetInstanceProtection` before, "not in InService or EnteringStandby or Standby", and after
//! the completion AWS passes the instance through `Pending:Proceed` first). Enabled while still
//! `Pending`, the server could take a meeting that a scale-in then took with it. So the group's
//! `InService` is awaited (the group protects the instance then: `modules/fleet`'s
//! `protect_from_scale_in`), the protection made sure of, and only then the server enabled.
//!
//! Past the completion the group no longer abandons the instance when the launch fails, so the
//! steps are retried here for `BBB_HOOK_JOIN_TIMEOUT` (`Settings::join_timeout`, 10 min); a
//! launch that still cannot join reports the
//! instance `Unhealthy` (scale-in protection does not stop a health-check replacement), and the
//! group replaces it through the drain, which takes the disabled registration out.

use std::time::{Duration, Instant};

use bbb_core::aws::LifecycleState;
use bbb_core::scalelite::{ScaleliteClient, Server, StateChange};

use super::registration;
use crate::context::Context;
use crate::error::HookError;
use crate::imds::TargetState;
use crate::state::{now_secs, HookState};

/// How often the group is asked for the instance's lifecycle state.
const IN_SERVICE_POLL: Duration = Duration::from_secs(2);
/// The longest pause between two tries (a tenth of the join timeout when shorter).
const JOIN_RETRY: Duration = Duration::from_secs(10);

/// In service, protected, enabled: retried for `join_timeout`, then the instance is reported
/// unhealthy. Answers the server as Scalelite has it: enabled, or left out of its routing when
/// the group has the instance on standby (`super::standby`).
pub async fn run(
    ctx: &Context,
    state: &mut HookState,
    server: &Server,
) -> Result<Server, HookError> {
    let mut deadline = Instant::now() + time_left(ctx, state);
    let mut outside = false;
    loop {
        // The run's client, or a new one when Scalelite refused the last one's secret.
        let attempt = match ctx.scalelite().await {
            Ok(scalelite) => try_join(ctx, state, &scalelite, server, deadline).await,
            Err(e) => Err(e),
        };
        let error = match attempt {
            Ok(server) => return Ok(server),
            Err(e @ (HookError::Terminating(_) | HookError::Config(_))) => return Err(e),
            Err(HookError::OutOfGroup(why)) => {
                // AWS runs no launching hook on `AttachInstances`: this launch is what joins the
                // fleet once the instance is attached (a reboot while detached, an instance
                // launched by hand). The join timeout counts in the group only, so the wait
                // outside it never reports the instance unhealthy.
                if !outside {
                    tracing::warn!(reason = %why, "the server joins the fleet once the instance is attached to the Auto Scaling group; waiting");
                    outside = true;
                }
                state.join_started_at = now_secs();
                ctx.state.save(state)?;
                deadline = Instant::now() + time_left(ctx, state);
                tokio::time::sleep(JOIN_RETRY.min(ctx.settings.join_timeout / 10)).await;
                continue;
            }
            Err(e) => e,
        };
        ctx.forget_scalelite_on(&error);
        // Saved whatever failed: the protection read or set stays known.
        ctx.state.save(state)?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return give_up(ctx, error).await;
        }
        let pause = JOIN_RETRY.min(ctx.settings.join_timeout / 10).min(left);
        tracing::warn!(error = %error, retry_in_ms = pause.as_millis() as u64, "the server could not join the fleet yet; retried");
        tokio::time::sleep(pause).await;
    }
}

async fn try_join(
    ctx: &Context,
    state: &mut HookState,
    scalelite: &ScaleliteClient,
    server: &Server,
    deadline: Instant,
) -> Result<Server, HookError> {
    let seen = wait_in_service(ctx, deadline).await?;
    if let Some(protected) = seen.protected {
        // What the group set (its `protect_from_scale_in`): no write when it protects already.
        state.protected = Some(protected);
        state.protection_checked_at = now_secs();
    }
    if seen.standby {
        // A reboot on standby: registered, enabled once back in service (`super::standby`).
        let taken_out = super::standby::take_out(
            scalelite,
            Some(server),
            state,
            super::standby::Away::Standby,
            true,
        )
        .await?;
        return Ok(taken_out.unwrap_or_else(|| server.clone()));
    }
    super::protect::protect_for_routing(ctx, state).await?;
    state.set_routable(true);
    registration::set_state(scalelite, server, StateChange::Enable, "launch").await
}

/// What is left of the join timeout since the launch began to join (`join_started_at`).
fn time_left(ctx: &Context, state: &HookState) -> Duration {
    let ends = state.join_started_at + ctx.settings.join_timeout.as_secs();
    Duration::from_secs(ends.saturating_sub(now_secs()))
}

/// Whether the join timeout has passed since the launch began to join.
pub fn timed_out(ctx: &Context, state: &HookState) -> bool {
    state.join_started_at > 0 && time_left(ctx, state).is_zero()
}

/// Reports the instance unhealthy, so that the group replaces it, and ends the launch for good.
pub async fn give_up(ctx: &Context, error: HookError) -> Result<Server, HookError> {
    let id = &ctx.identity.instance_id;
    if let Ok(Some(away @ (TargetState::Standby | TargetState::Detached))) =
        ctx.imds.target_lifecycle_state().await
    {
        // Standby is for rebooting and troubleshooting without the group replacing the
        // instance, and a detached one is no longer the group's: no report there; the launch
        // is retried.
        tracing::warn!(error = %error, target_lifecycle_state = ?away, "the server could not join the fleet; the instance is on standby or detached, not reported unhealthy; the launch is retried");
        return Err(error);
    }
    match ctx.aws.set_instance_health(id, false, false).await {
        Ok(()) => {
            let timeout_s = ctx.settings.join_timeout.as_secs();
            tracing::error!(error = %error, timeout_s, "the server could not join the fleet: instance reported Unhealthy, the group replaces it");
            Err(HookError::ReportedUnhealthy(format!(
                "not joined within {timeout_s} s after the launching action ({error}); instance reported Unhealthy for replacement"
            )))
        }
        Err(e) => {
            tracing::error!(error = %error, health_error = %e, "the server could not join the fleet, and the instance could not be reported Unhealthy; the launch is retried");
            Err(error)
        }
    }
}

/// What the group reports of the instance once past `Pending`.
struct Seen {
    /// Its scale-in protection (`None` when the instance policy does not allow the read).
    protected: Option<bool>,
    /// On standby (or entering it).
    standby: bool,
}

/// Waits until the group reports this instance `InService` or on standby, at most until
/// `deadline`. A terminating state ends the launch; an unreadable state is asked again.
async fn wait_in_service(ctx: &Context, deadline: Instant) -> Result<Seen, HookError> {
    let id = &ctx.identity.instance_id;
    let mut last = None;
    loop {
        match ctx.aws.auto_scaling_instance(id).await {
            Ok(Some(s)) => match s.lifecycle_state {
                LifecycleState::InService
                | LifecycleState::EnteringStandby
                | LifecycleState::Standby => {
                    return Ok(Seen {
                        protected: Some(s.protected_from_scale_in),
                        standby: s.lifecycle_state != LifecycleState::InService,
                    })
                }
                ref state if state.is_terminating() => {
                    return Err(HookError::Terminating(format!(
                        "the Auto Scaling group is terminating this instance ({state}); the server was not enabled"
                    )))
                }
                state => {
                    if last.as_ref() != Some(&state) {
                        tracing::info!(lifecycle_state = %state, "waiting for the group to put the instance in service");
                    }
                    last = Some(state);
                }
            },
            Ok(None) => {
                return Err(HookError::OutOfGroup(format!(
                    "instance {id} is in no Auto Scaling group (detached, or launched outside it)"
                )))
            }
            Err(e) if e.is_access_denied() => {
                // An instance policy from before this call was needed (the module not applied
                // again since the image changed): no wait; the protection is then refused until
                // the instance is in service, and retried.
                tracing::warn!(error = %e, "the instance policy does not allow reading the instance's lifecycle state: not waiting for InService; apply the fleet module again");
                let target = ctx.imds.target_lifecycle_state().await;
                if let Ok(Some(TargetState::Detached)) = target {
                    return Err(HookError::OutOfGroup(format!(
                        "instance {id} is detached from its Auto Scaling group (instance metadata)"
                    )));
                }
                return Ok(Seen {
                    protected: None,
                    standby: matches!(target, Ok(Some(TargetState::Standby))),
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "instance's lifecycle state unreadable; asked again")
            }
        }
        if Instant::now() >= deadline {
            return Err(HookError::NotInService(format!(
                "still {} after the launching action was completed",
                last.map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
            )));
        }
        tokio::time::sleep(IN_SERVICE_POLL).await;
    }
}
