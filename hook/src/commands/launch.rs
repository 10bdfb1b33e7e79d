//! `bbb-hook launch`: DNS, Scalelite registration, then the launching lifecycle action.

use std::time::{Duration, Instant};

use bbb_core::aws::LifecycleState;
use bbb_core::scalelite::StateChange;

use super::{dns, lifecycle, registration};
use crate::context::Context;
use crate::error::HookError;
use crate::imds::TargetState;
use crate::local_bbb;

/// Runs the launch. With `dns_only`, only the A record (first boot needs it before it asks
/// for a certificate).
pub async fn run(ctx: &Context, dns_only: bool) -> Result<(), HookError> {
    let started = Instant::now();
    let _lock = ctx.state.lock().await?;
    let mut state = ctx.state.load()?;
    if state.terminating {
        return Err(HookError::Terminating(
            "this instance is being terminated (its terminating lifecycle action drained it)"
                .into(),
        ));
    }
    if state.draining {
        // Drained at a shutdown (a reboot): this boot joins the fleet again.
        tracing::info!(
            drained = state.drained,
            "drained at the last shutdown, joining again"
        );
    }
    if dns_only {
        // First boot waits for this (Route53's INSYNC) inside the launching hook's timeout.
        lifecycle::with_heartbeats(
            ctx,
            &ctx.config.launching_hook_name,
            ctx.config.launching_heartbeat_timeout,
            dns::ensure(ctx),
        )
        .await?;
        return Ok(());
    }
    super::tls::on_launch(ctx).await?;
    let bbb_secret = local_bbb::read_secret(&ctx.settings.bbb_properties)?;

    // The record and the (disabled) registration are independent; the server is enabled only
    // once its name resolves, so Scalelite never places a meeting on an unreachable name.
    let register = async {
        let scalelite = ctx.scalelite().await?;
        let server = registration::ensure(ctx, &scalelite, &bbb_secret).await?;
        Ok::<_, HookError>((scalelite, server))
    };
    // Both can take minutes (Route53's INSYNC, a slow Scalelite): the launching lifecycle
    // action is kept alive meanwhile.
    // A failed record takes the (disabled) registration back out, so a failed launch leaves
    // nothing in Scalelite for an instance the group is about to abandon.
    let work = async {
        match tokio::join!(dns::ensure(ctx), register) {
            (Ok(()), Ok(registered)) => Ok(((), registered)),
            (Err(e), Ok((scalelite, server))) => {
                match scalelite.delete_server(&server.id).await {
                    Ok(()) => tracing::info!(
                        server_id = %server.id,
                        "dns record failed, disabled registration removed"
                    ),
                    Err(d) => tracing::warn!(
                        server_id = %server.id,
                        error = %d,
                        "dns record failed, disabled registration left behind"
                    ),
                }
                Err(e)
            }
            (Err(e), Err(_)) | (Ok(()), Err(e)) => Err(e),
        }
    };
    let ((), (scalelite, server)) = lifecycle::with_heartbeats(
        ctx,
        &ctx.config.launching_hook_name,
        ctx.config.launching_heartbeat_timeout,
        work,
    )
    .await?;
    // A drain at the last shutdown is over: reset before enabling, so a terminating drain
    // from now on drains this registration instead of finding "already drained".
    state.server_id = Some(server.id.clone());
    state.draining = false;
    state.drained = false;
    // Launch enables the server: a health cordon from before (a reboot) is gone, and protect
    // cordons again if FreeSWITCH is still dead.
    state.health.cordon = super::health_cordon::Cordon::None;
    ctx.state.save(&state)?;
    // The group may have begun terminating the instance meanwhile (the launching action timed
    // out, a scale-in took the pending instance): then the server is not enabled, and the
    // drain takes out the (disabled) registration and the record.
    if let Ok(Some(TargetState::Terminated)) = ctx.imds.target_lifecycle_state().await {
        tracing::warn!(
            server_id = %server.id,
            "target lifecycle state is Terminated, the server is not enabled"
        );
        return Err(HookError::Terminating(
            "the Auto Scaling group is terminating this instance; the server was not enabled"
                .into(),
        ));
    }
    // Into service first, then into Scalelite. Scalelite routes a `create` to an enabled server
    // as soon as its poller has read it, and protection from scale-in starts only in service
    // (EC2 Auto Scaling refuses `SetInstanceProtection` before, "not in InService or
    // EnteringStandby or Standby"): enabled while still `Pending`, the server could take a
    // meeting that a scale-in then took with it. So the launching action is completed, the
    // group's `InService` awaited (the group protects the instance then, `modules/fleet`'s
    // `protect_from_scale_in`), the protection made sure of, and only then the server enabled.
    lifecycle::complete(ctx, &ctx.config.launching_hook_name).await?;
    if let Some(protected) = wait_in_service(ctx).await? {
        // What the group set (its `protect_from_scale_in`): no write when it protects already.
        state.protected = Some(protected);
        state.protection_checked_at = crate::state::now_secs();
    }
    super::protect::protect_for_routing(ctx, &mut state).await?;
    state.set_routable(true);
    let server =
        registration::set_state(&scalelite, &server, StateChange::Enable, "launch").await?;
    state.launched = true;
    ctx.state.save(&state)?;
    tracing::info!(
        server_id = %server.id,
        url = %server.url,
        record = %ctx.record_name(),
        duration_ms = started.elapsed().as_millis() as u64,
        "launch complete"
    );
    Ok(())
}

/// How often [`wait_in_service`] asks the group, and for how long at most.
const IN_SERVICE_POLL: Duration = Duration::from_secs(2);
const IN_SERVICE_TIMEOUT: Duration = Duration::from_secs(600);

/// Waits until the group reports this instance `InService` (or in standby, where protection
/// is accepted too): after its launching action is completed AWS moves it through
/// `Pending:Proceed` first. Answers the instance's scale-in protection as the group reports it
/// then (`None` when the instance policy does not allow the read). A terminating state ends the
/// launch; an unreadable state is asked again until [`IN_SERVICE_TIMEOUT`].
async fn wait_in_service(ctx: &Context) -> Result<Option<bool>, HookError> {
    let started = Instant::now();
    let id = &ctx.identity.instance_id;
    let mut last = None;
    loop {
        match ctx.aws.auto_scaling_instance(id).await {
            Ok(Some(s)) => match s.lifecycle_state {
                LifecycleState::InService
                | LifecycleState::EnteringStandby
                | LifecycleState::Standby => return Ok(Some(s.protected_from_scale_in)),
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
                return Err(HookError::Config(format!(
                    "instance {id} is in no Auto Scaling group"
                )))
            }
            Err(e) if e.is_access_denied() => {
                // An instance policy from before this call was needed (the module not applied
                // again since the image changed): enabled without waiting, as before; the
                // protection may then be refused until the instance is in service, and the
                // launch is retried.
                tracing::warn!(error = %e, "the instance policy does not allow reading the instance's lifecycle state: enabling without waiting for InService; apply the fleet module again");
                return Ok(None);
            }
            Err(e) => tracing::warn!(error = %e, "instance's lifecycle state unreadable; asked again"),
        }
        if started.elapsed() >= IN_SERVICE_TIMEOUT {
            return Err(HookError::NotInService(format!(
                "still {} {} s after the launching action was completed",
                last.map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
                IN_SERVICE_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(IN_SERVICE_POLL).await;
    }
}
