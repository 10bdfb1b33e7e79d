//! `bbb-hook protect` (every 30 s from a timer): scale-in protection follows live meetings and
//! recordings in the works; the Scalelite registration is repaired if it vanished.

use std::time::Duration;

use bbb_core::scalelite::StateChange;

use super::registration;
use crate::context::Context;
use crate::error::HookError;
use crate::local_bbb;
use crate::state::{now_secs, HookState};

/// How often the registration is re-checked (it needs Scalelite's secret from SSM).
pub const REGISTRATION_CHECK_EVERY: Duration = Duration::from_secs(300);

pub async fn run(ctx: &Context) -> Result<(), HookError> {
    let mut state = ctx.state.load();
    if state.draining {
        tracing::info!("draining, protection left to drain");
        return Ok(());
    }
    if !state.launched {
        tracing::info!("not launched yet, nothing to protect");
        return Ok(());
    }
    match ctx.imds.target_lifecycle_state().await {
        Ok(Some(s)) if s != "InService" => {
            tracing::info!(target_lifecycle_state = %s, "instance leaving service, protection left alone");
            return Ok(());
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "target lifecycle state unknown"),
    }
    let secret = local_bbb::read_secret(&ctx.settings.bbb_properties)?;
    let bbb = local_bbb::client(&ctx.settings, secret.clone())?;
    // When BBB cannot be asked, keep whatever protection is set: dropping it could let a
    // scale-in take live meetings.
    let activity = local_bbb::activity(&bbb, &ctx.settings.recording_status_dir).await?;
    let wanted = ctx.config.protect_live_meetings && activity.is_busy();
    if state.protected != Some(wanted) {
        ctx.aws
            .set_instance_protection(
                &ctx.config.autoscaling_group_name,
                std::slice::from_ref(&ctx.identity.instance_id),
                wanted,
            )
            .await
            .map_err(HookError::aws("set scale-in protection"))?;
        tracing::info!(
            protected = wanted,
            meetings = activity.meetings,
            recordings = activity.recordings_in_progress.len(),
            "scale-in protection set"
        );
        state.protected = Some(wanted);
        ctx.state.save(&state)?;
    } else {
        tracing::debug!(
            protected = wanted,
            meetings = activity.meetings,
            "protection unchanged"
        );
    }
    if now_secs().saturating_sub(state.registration_checked_at)
        >= REGISTRATION_CHECK_EVERY.as_secs()
    {
        repair_registration(ctx, &mut state, &secret).await?;
    }
    super::tls::on_protect(ctx).await
}

async fn repair_registration(
    ctx: &Context,
    state: &mut HookState,
    bbb_secret: &bbb_core::Secret,
) -> Result<(), HookError> {
    let scalelite = ctx.scalelite().await?;
    if registration::find(ctx, &scalelite).await?.is_none() {
        tracing::warn!(url = %ctx.server_url(), "registration vanished from scalelite, repairing");
        let server = registration::ensure(ctx, &scalelite, bbb_secret).await?;
        let server = registration::set_state(&scalelite, &server, StateChange::Enable).await?;
        tracing::info!(server_id = %server.id, "registration repaired");
        state.server_id = Some(server.id);
    }
    state.registration_checked_at = now_secs();
    ctx.state.save(state)
}
