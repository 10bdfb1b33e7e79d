//! `bbb-hook launch`: DNS and Scalelite registration, the launching lifecycle action, then the
//! server joins the fleet once in service and protected (`super::join`).

use std::time::Instant;

use super::{dns, lifecycle, registration};
use crate::context::Context;
use crate::error::HookError;
use crate::imds::TargetState;
use crate::local_bbb;
use crate::state::now_secs;

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
        if state.drained && !state.launched_since_drain {
            // Recorded before anything is made: a drain found finished takes it out again.
            state.launched_since_drain = true;
            ctx.state.save(&state)?;
        }
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
    let completed =
        state.launch_action_completed_by.as_deref() == Some(ctx.identity.instance_id.as_str());
    if completed {
        // Past the launching action (a run again after a failure, or a reboot): whatever step
        // keeps failing, the instance is reported unhealthy once the join timeout has passed.
        // Only a join begun by an earlier run can have timed out: this run gets its try.
        let detached = matches!(
            ctx.imds.target_lifecycle_state().await,
            Ok(Some(TargetState::Detached))
        );
        if state.join_started_at == 0 || detached {
            // Outside the group the join timeout does not run (`super::join`).
            state.join_started_at = now_secs();
            ctx.state.save(&state)?;
        } else if super::join::timed_out(ctx, &state) {
            return super::join::give_up(
                ctx,
                HookError::NotInService(
                    "the launch kept failing since the launching action".into(),
                ),
            )
            .await
            .map(|_| ());
        }
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
    let ((), (_, server)) = if completed {
        // Run again after the action was completed (a failure since, a reboot): nothing to
        // keep alive.
        work.await?
    } else {
        lifecycle::with_heartbeats(
            ctx,
            &ctx.config.launching_hook_name,
            ctx.config.launching_heartbeat_timeout,
            work,
        )
        .await?
    };
    // A drain at the last shutdown is over: reset before enabling, so a terminating drain
    // from now on drains this registration instead of finding "already drained".
    state.server_id = Some(server.id.clone());
    state.draining = false;
    state.drain_started_at = 0;
    state.drained = false;
    state.launched_since_drain = false;
    // Launch enables the server: a health cordon from before (a reboot) is gone, and protect
    // cordons again if FreeSWITCH is still dead.
    state.health.cordon = super::health_cordon::Cordon::None;
    state.cordon_held_since_ms = 0;
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
    // Into service first, then into Scalelite (`super::join`).
    if !completed {
        lifecycle::complete(ctx, &ctx.config.launching_hook_name).await?;
        state.launch_action_completed_by = Some(ctx.identity.instance_id.clone());
        state.join_started_at = now_secs();
        ctx.state.save(&state)?;
    }
    let server = super::join::run(ctx, &mut state, &server).await?;
    state.launched = true;
    state.join_started_at = 0;
    ctx.state.save(&state)?;
    tracing::info!(
        server_id = %server.id,
        url = %server.url,
        scalelite_state = server.state.as_str(),
        record = %ctx.record_name(),
        duration_ms = started.elapsed().as_millis() as u64,
        "launch complete"
    );
    Ok(())
}
