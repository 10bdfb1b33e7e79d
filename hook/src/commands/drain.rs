//! `bbb-hook drain`: cordon, wait for meetings and recordings (keeping the lifecycle action
//! alive), deregister, delete the record, complete the terminating lifecycle action.

use std::time::{Duration, Instant};

use bbb_core::scalelite::{ScaleliteClient, StateChange};

use super::{dns, lifecycle, registration};
use crate::context::Context;
use crate::error::HookError;
use crate::local_bbb::{self, Activity};

/// How a drain ended, for the exit code and the summary line.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The Scalelite steps that could not be done (Scalelite unreachable, ...).
    pub scalelite_failures: Vec<String>,
    pub waited_past_limit: bool,
}

/// Waits until the metadata service's target lifecycle state is `Terminated` (the terminating
/// lifecycle hook holds the instance), then drains.
pub async fn on_lifecycle_signal(ctx: &Context) -> Result<Outcome, HookError> {
    tracing::info!("waiting for the terminating lifecycle signal");
    loop {
        match ctx.imds.target_lifecycle_state().await {
            Ok(Some(s)) if s == "Terminated" => break,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "target lifecycle state unreadable"),
        }
        tokio::time::sleep(ctx.settings.poll_interval).await;
    }
    tracing::info!("terminating lifecycle signal received");
    run(ctx, true).await
}

async fn terminating(ctx: &Context) -> bool {
    matches!(ctx.imds.target_lifecycle_state().await, Ok(Some(s)) if s == "Terminated")
}

/// Drains the instance. `lifecycle`: the terminating hook is known to hold the instance
/// (otherwise the metadata service is asked).
pub async fn run(ctx: &Context, lifecycle: bool) -> Result<Outcome, HookError> {
    let _lock = ctx.state.lock_drain().await?;
    let mut state = ctx.state.load();
    let lifecycle = lifecycle || terminating(ctx).await;
    let mut outcome = Outcome::default();
    if state.drained {
        tracing::info!("already drained");
        if lifecycle {
            state.terminating = true;
            ctx.state.save(&state)?;
            lifecycle::complete(ctx, &ctx.config.terminating_hook_name).await?;
        }
        return Ok(outcome);
    }
    state.draining = true;
    state.terminating |= lifecycle;
    ctx.state.save(&state)?;
    let started = Instant::now();
    tracing::info!(
        lifecycle,
        max_wait_s = ctx.config.max_wait_seconds,
        "drain started"
    );

    // 1. No new meeting lands here.
    let scalelite = match cordon(ctx).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "scalelite unreachable, cannot cordon; draining on");
            outcome.scalelite_failures.push(format!("cordon: {e}"));
            None
        }
    };

    // 2. Meetings end and their recordings are published.
    outcome.waited_past_limit = !wait_until_idle(ctx, lifecycle).await?;

    // 3. Leave Scalelite, DNS and the group.
    match deregister(ctx, scalelite.as_ref()).await {
        Ok(()) => {}
        Err(e) => {
            tracing::warn!(error = %e, url = %ctx.server_url(), "scalelite registration left behind (the next terraform apply of bbb_fleet removes it)");
            outcome.scalelite_failures.push(format!("deregister: {e}"));
        }
    }
    dns::remove(ctx).await?;
    if lifecycle {
        lifecycle::complete(ctx, &ctx.config.terminating_hook_name).await?;
    }
    state.drained = true;
    ctx.state.save(&state)?;
    tracing::info!(
        duration_ms = started.elapsed().as_millis() as u64,
        past_limit = outcome.waited_past_limit,
        scalelite_ok = outcome.scalelite_failures.is_empty(),
        "drain complete"
    );
    Ok(outcome)
}

async fn cordon(ctx: &Context) -> Result<ScaleliteClient, HookError> {
    let scalelite = ctx.scalelite().await?;
    match registration::find(ctx, &scalelite).await? {
        Some(server) => {
            registration::set_state(&scalelite, &server, StateChange::Cordon).await?;
        }
        None => tracing::info!(url = %ctx.server_url(), "not registered in scalelite"),
    }
    Ok(scalelite)
}

async fn deregister(ctx: &Context, scalelite: Option<&ScaleliteClient>) -> Result<(), HookError> {
    let owned;
    let scalelite = match scalelite {
        Some(s) => s,
        None => {
            owned = ctx.scalelite().await?;
            &owned
        }
    };
    if let Some(server) = registration::find(ctx, scalelite).await? {
        scalelite
            .delete_server(&server.id)
            .await
            .map_err(HookError::scalelite("deregister from Scalelite"))?;
        tracing::info!(server_id = %server.id, "deregistered from scalelite");
    }
    Ok(())
}

/// Polls BBB until no meeting runs and no recording is in the works, recording lifecycle
/// heartbeats meanwhile. `Ok(false)` when the fleet's max wait ran out first.
async fn wait_until_idle(ctx: &Context, lifecycle: bool) -> Result<bool, HookError> {
    let deadline = Instant::now() + ctx.config.max_wait();
    let beat_every = ctx.config.heartbeat_timeout() / 2;
    let mut last_beat = Instant::now();
    let bbb = local_bbb::read_secret(&ctx.settings.bbb_properties)
        .and_then(|secret| local_bbb::client(&ctx.settings, secret));
    let mut last_logged: Option<Activity> = None;
    loop {
        let activity = match &bbb {
            Ok(client) => local_bbb::activity(client, &ctx.settings).await,
            Err(e) => Err(HookError::Config(e.to_string())),
        };
        let activity = match activity {
            Ok(a) => a,
            Err(e) => {
                // BBB that cannot be asked hosts no meeting anyone can use; recordings on disk
                // still count.
                tracing::warn!(error = %e, "local BBB unreachable, judging from recordings only");
                local_bbb::recording_activity(&ctx.settings)?
            }
        };
        if !activity.is_busy() {
            if !activity.recordings_failed.is_empty() {
                tracing::warn!(failed = ?activity.recordings_failed, "recordings failed processing on this instance");
            }
            tracing::info!("no meeting and no recording in the works");
            return Ok(true);
        }
        if last_logged.as_ref() != Some(&activity) {
            tracing::info!(
                meetings = activity.meetings,
                breakout_rooms = activity.breakout_rooms,
                participants = activity.participants,
                recordings = ?activity.recording_stages,
                "waiting for meetings and recordings"
            );
            last_logged = Some(activity.clone());
        }
        let now = Instant::now();
        if now >= deadline {
            tracing::warn!(
                meetings = activity.meetings,
                recordings = activity.recordings_in_progress.len(),
                max_wait_s = ctx.config.max_wait_seconds,
                "max wait reached, leaving with work in progress"
            );
            return Ok(false);
        }
        if lifecycle && now.duration_since(last_beat) >= beat_every {
            // A missed heartbeat is retried on the next round; the hook's timeout is twice the
            // interval.
            match lifecycle::heartbeat(ctx, &ctx.config.terminating_hook_name).await {
                Ok(()) => {
                    tracing::info!("lifecycle heartbeat recorded");
                    last_beat = now;
                }
                Err(e) => tracing::warn!(error = %e, "lifecycle heartbeat failed"),
            }
        }
        let next = ctx
            .settings
            .poll_interval
            .min(deadline.saturating_duration_since(now));
        tokio::time::sleep(next.max(Duration::from_millis(50))).await;
    }
}
