//! `bbb-hook protect` (every 30 s from a timer): scale-in protection follows live meetings and
//! recordings in the works, and with consolidation also holds an idle server that Scalelite can
//! still route to ([`held_while_routable`]); BBB's health is probed, a server whose FreeSWITCH died cordoned in
//! Scalelite and a dead, idle server reported to the group ([`super::health`]); the instance's
//! load goes to CloudWatch (at most once a minute, [`super::metrics`]); and it consolidates the fleet ([`super::consolidate`]): cordons this
//! server when it is among the group's surplus, enables it again when the group wants it back. Every `BBB_HOOK_RECONCILE_INTERVAL` it also compares the stored
//! protection with the group's real value and repairs the Scalelite registration (vanished,
//! left disabled or cordoned, wrong secret). An instance the group has on standby is only kept
//! out of Scalelite's routing ([`super::standby`]).
//!
//! It runs under the state lock and skips its pass when a launch or a drain holds it, so it
//! never writes to Scalelite while a drain is taking the server out, nor overwrites the
//! drain's state.

use bbb_core::scalelite::{ServerState, StateChange};

use super::registration;
use crate::context::Context;
use crate::error::HookError;
use crate::imds::TargetState;
use crate::local_bbb;
use crate::state::{now_millis, now_secs, HookState};

pub async fn run(ctx: &Context) -> Result<(), HookError> {
    let Some(_lock) = ctx.state.try_lock()? else {
        tracing::info!("a launch or a drain holds the state lock, pass skipped");
        return Ok(());
    };
    // Read under the lock: a drain that started before it is seen here.
    let mut state = ctx.state.load()?;
    if state.draining {
        tracing::info!("draining, protection left to drain");
        return Ok(());
    }
    if !state.launched {
        tracing::info!("not launched yet, nothing to protect");
        return Ok(());
    }
    // Only a state read as `InService` ends a standby: unknown is not "back".
    let in_service = match ctx.imds.target_lifecycle_state().await {
        Ok(Some(s @ (TargetState::Standby | TargetState::Detached))) => {
            let away = if s == TargetState::Standby {
                super::standby::Away::Standby
            } else {
                super::standby::Away::Detached
            };
            let held = super::standby::hold(ctx, &mut state, away).await;
            ctx.state.save(&state)?;
            return held;
        }
        Ok(Some(TargetState::InService)) => true,
        Ok(Some(s)) => {
            tracing::info!(
                target_lifecycle_state = s.as_str(),
                "instance leaving service, protection left alone"
            );
            return Ok(());
        }
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(error = %e, "target lifecycle state unknown");
            false
        }
    };
    let secret = local_bbb::read_secret(&ctx.settings.bbb_properties)?;
    let bbb = local_bbb::client(&ctx.settings, secret.clone())?;
    let probes = super::health::probe(ctx, &bbb).await;
    let activity = local_bbb::activity(&bbb, &ctx.settings).await;
    let stored = state.clone();
    let recordings = match &activity {
        Ok(a) => a.recordings_in_progress.len(),
        Err(_) => local_bbb::recording_activity(&ctx.settings)
            .map(|a| a.recordings_in_progress.len())
            // Unreadable: as if one were in the works (the health report waits).
            .unwrap_or(1),
    };
    let meetings = activity.as_ref().ok().map(|a| a.meetings);
    super::health::run(ctx, &mut state, probes, meetings, recordings).await;
    // When BBB cannot be asked, keep whatever protection is set: dropping it could let a
    // scale-in take live meetings.
    let activity = match activity {
        Ok(a) => a,
        Err(e) => {
            // What ran meanwhile is unknown: the release waits for a full `release_after` again.
            state.no_meeting_since_ms = 0;
            if state != stored {
                ctx.state.save(&state)?;
            }
            return Err(e);
        }
    };
    if in_service && state.standby != super::standby::Standby::No {
        // Back in service; before consolidation, which may cordon the server again.
        if let Err(e) = super::standby::release(ctx, &mut state).await {
            tracing::warn!(error = %e, "server not enabled again after the standby; retried next pass");
        }
    }
    super::metrics::publish(ctx, &activity, &mut state).await;
    let reconcile_every = ctx.settings.reconcile_interval.as_secs();
    if now_secs().saturating_sub(state.protection_checked_at) >= reconcile_every {
        // The group's real value: an operator, a group protecting new instances, or a lost
        // update may have changed it behind the hook's back. A failed read (the permission
        // missing from an older instance policy, throttling) must not stop protection from
        // following the meetings: the stored value is used and the read retried next pass.
        match ctx
            .aws
            .instance_scale_in_protection(&ctx.identity.instance_id)
            .await
            .map_err(HookError::aws("read the instance's scale-in protection"))
        {
            Ok(real) => {
                if real != state.protected {
                    tracing::info!(stored = ?state.protected, group = ?real, "stored protection differs from the group's, using the group's");
                }
                state.protected = real;
                state.protection_checked_at = now_secs();
            }
            Err(e) => {
                tracing::warn!(error = %e, stored = ?state.protected, "group's protection unreadable, using the stored value; retried next pass")
            }
        }
    }
    if let Err(e) = super::consolidate::run(ctx, &mut state).await {
        tracing::warn!(error = %e, "consolidation pass failed; retried next pass");
    }
    // Registration repair before the protection: a server it re-adds enabled is routable now.
    let repaired = if now_secs().saturating_sub(state.registration_checked_at) >= reconcile_every {
        repair_registration(ctx, &mut state, &secret).await
    } else {
        Ok(())
    };
    let routable = held_while_routable(ctx, &stored, &state);
    state.no_meeting_since_ms = match (activity.meetings, state.no_meeting_since_ms) {
        (0, 0) => now_millis(),
        (0, since) => since,
        _ => 0,
    };
    let wanted = ctx.config.protect_live_meetings
        && (activity.is_busy() || routable || just_emptied(ctx, &state));
    let protection = set_protection(ctx, &mut state, wanted, &activity, routable).await;
    if let Err(e) = keep_joinable(ctx, &mut state, &activity).await {
        tracing::warn!(error = %e, "cordoned server not checked (joins, routing); retried next pass");
    }
    // Saved whatever failed: consolidation's cordon must stay recorded as its own.
    if state != stored {
        ctx.state.save(&state)?;
    }
    protection?;
    repaired?;
    super::tls::on_protect(ctx).await
}

/// Before launch (once the instance is in service, `super::join`), consolidation, the health
/// check or registration repair enables this server: with consolidation, protection first, so
/// that no scale-in can take the server once Scalelite routes a `create` to it; and `routable`
/// recorded (once protected) before the enable is sent, so that an enable Scalelite applied but
/// answered with an error still holds the protection. An error here means: do not enable now.
pub(super) async fn protect_for_routing(
    ctx: &Context,
    state: &mut HookState,
) -> Result<(), HookError> {
    if !(ctx.settings.consolidation && ctx.config.protect_live_meetings) {
        return Ok(());
    }
    if state.protected != Some(true) {
        write_protection(ctx, true).await?;
        state.protected = Some(true);
        tracing::info!(
            protected = true,
            routable = true,
            "scale-in protection set before the server is enabled in scalelite"
        );
    }
    state.set_routable(true);
    Ok(())
}

/// `SetInstanceProtection` for this instance.
pub(super) async fn write_protection(ctx: &Context, protected: bool) -> Result<(), HookError> {
    ctx.aws
        .set_instance_protection(
            &ctx.config.autoscaling_group_name,
            std::slice::from_ref(&ctx.identity.instance_id),
            protected,
        )
        .await
        .map_err(HookError::aws("set scale-in protection"))
}

/// Sets the group's scale-in protection of this instance to `wanted` when it differs.
async fn set_protection(
    ctx: &Context,
    state: &mut HookState,
    wanted: bool,
    activity: &local_bbb::Activity,
    routable: bool,
) -> Result<(), HookError> {
    if state.protected == Some(wanted) {
        tracing::debug!(
            protected = wanted,
            meetings = activity.meetings,
            "protection unchanged"
        );
        return Ok(());
    }
    write_protection(ctx, wanted).await?;
    tracing::info!(
        protected = wanted,
        meetings = activity.meetings,
        recordings = ?activity.recording_stages,
        routable,
        "scale-in protection set"
    );
    state.protected = Some(wanted);
    Ok(())
}

/// Whether an idle server keeps its scale-in protection because Scalelite can route a `create`
/// to it. Scalelite sends each `create` to the least-loaded enabled server, an idle one first,
/// and a scale-in terminates an unprotected instance: with an idle, enabled server unprotected,
/// a meeting created in the seconds before a scale-in lands on the instance being terminated,
/// and the drain holds it only up to `max_wait` (`sim/tests/scale_in_race.rs`). So with
/// consolidation on, a server leaves only through it: cordoned first (by consolidation as
/// surplus, by the health check, or by an operator), then unprotected once idle.
///
/// `stored` is the pass's start, `now` the state after this pass's consolidation, health check
/// and registration repair. Protection goes up as soon as either says routable (an enable of
/// this pass included), and comes down only when both say not routable: a cordon made in this
/// pass, after BBB was read, lifts it at the next pass, whose read comes after the cordon.
/// A reading older than [`routable_stale_after`] counts as unknown: with nothing known for that
/// long (Scalelite unreadable from here) protection follows the meetings alone,
/// with a warning, rather than hold an idle server forever; a fresh "not routable" after an
/// unknown one waits a pass like a cordon. Without consolidation nothing would ever cordon a
/// surplus server, so protection follows the meetings alone.
fn held_while_routable(ctx: &Context, stored: &HookState, now: &HookState) -> bool {
    if !ctx.settings.consolidation {
        return false;
    }
    let stale = routable_stale_after(ctx);
    let at = now_secs();
    let known = |s: &HookState| {
        s.routable
            .filter(|_| s.routable_at > 0 && at.saturating_sub(s.routable_at) <= stale)
    };
    match (known(stored), known(now)) {
        (Some(true), _) | (_, Some(true)) => true,
        (Some(false), _) => false,
        (None, Some(false)) => true,
        (None, None) => {
            tracing::warn!(
                routable = ?now.routable,
                routable_at = now.routable_at,
                stale_after_s = stale,
                "scalelite state of this server unknown: protection follows the meetings alone"
            );
            false
        }
    }
}

/// With consolidation, a server that hosted a meeting less than `release_after` ago keeps its
/// protection (see `Settings::release_after`: Scalelite still routes a `create` reusing an ended
/// meeting's id to a disabled server until its poller forgets that meeting).
fn just_emptied(ctx: &Context, state: &HookState) -> bool {
    let release_after_ms = ctx.settings.release_after.as_millis() as u64;
    ctx.settings.consolidation
        && state.no_meeting_since_ms > 0
        && now_millis().saturating_sub(state.no_meeting_since_ms) < release_after_ms
}

/// How long a reading of the server's Scalelite state counts: ten consolidation passes, at
/// least 5 minutes.
fn routable_stale_after(ctx: &Context) -> u64 {
    (ctx.settings.consolidation_interval.as_secs() * 10).max(300)
}

/// [`super::joinable::check`] for a cordon this hook made (the health check's, or
/// consolidation's): one `getServers` a pass, only while such a cordon is held and meetings run.
/// `cordon_held_since_ms` is set by the cordon's maker and kept by the check; 0 when no such
/// cordon is held (the standby's is kept by [`super::standby::hold`], which runs instead of
/// this). A server consolidation enabled and the check cordoned again (the poller wrote
/// `disabled` over the enable while meetings run) is consolidation's cordon again, enabled by
/// its next pass that wants it back.
pub(super) async fn keep_joinable(
    ctx: &Context,
    state: &mut HookState,
    activity: &local_bbb::Activity,
) -> Result<(), HookError> {
    use super::joinable::Holder;
    let holder = if state.health.cordon == super::health_cordon::Cordon::Made {
        Holder::Health
    } else if ctx.settings.consolidation && state.cordoned_for_consolidation {
        Holder::Consolidation
    } else {
        state.cordon_held_since_ms = 0;
        return Ok(());
    };
    let recordoned =
        super::joinable::check(ctx, activity, holder, &mut state.cordon_held_since_ms).await?;
    if recordoned && holder == Holder::Consolidation {
        state.consolidation_holds_cordon();
    }
    Ok(())
}

/// Keeps the registration launch made: re-added (and enabled, as launch left it; cordoned
/// while the health check holds a cordon, `health_cordon`) when it vanished, BBB's secret and the fleet's settings corrected; a cordon or disable made outside the
/// hook (an operator's maintenance, or Scalelite's poller turning a cordoned server disabled) is
/// left as is. Only called under the state lock with `draining` unset.
async fn repair_registration(
    ctx: &Context,
    state: &mut HookState,
    bbb_secret: &bbb_core::Secret,
) -> Result<(), HookError> {
    let scalelite = ctx.scalelite().await?;
    let before = registration::find(ctx, &scalelite).await?;
    let health_cordon = state.health.holds_cordon(ctx.settings.health_failures);
    if before.is_none() && !health_cordon {
        // Re-added below and enabled: protected first, or not re-added at all this pass (a
        // registration re-added disabled would count as an operator's and stay so).
        protect_for_routing(ctx, state).await?;
    }
    let server = registration::ensure(ctx, &scalelite, bbb_secret).await?;
    let server = match before {
        None if health_cordon => {
            // FreeSWITCH is dead: re-added cordoned, never enabled.
            let server =
                super::health_cordon::readd_cordoned(ctx, state, &scalelite, &server).await?;
            tracing::warn!(server_id = %server.id, url = %ctx.server_url(), "registration vanished from scalelite, registration repaired (cordoned: FreeSWITCH is dead)");
            server
        }
        None => {
            let server = registration::set_state(
                &scalelite,
                &server,
                StateChange::Enable,
                "registration_vanished",
            )
            .await?;
            tracing::warn!(server_id = %server.id, url = %ctx.server_url(), "registration vanished from scalelite, registration repaired");
            server
        }
        Some(_) if server.state != ServerState::Enabled && health_cordon => {
            tracing::debug!(server_id = %server.id, state = server.state.as_str(), "cordoned by the health check");
            server
        }
        Some(_)
            if server.state != ServerState::Enabled
                && state.cordoned_for_consolidation
                && ctx.settings.consolidation =>
        {
            tracing::debug!(server_id = %server.id, state = server.state.as_str(), "cordoned for consolidation");
            server
        }
        Some(_) if server.state != ServerState::Enabled => {
            tracing::warn!(
                server_id = %server.id,
                state = server.state.as_str(),
                "registration not enabled in scalelite (cordoned or disabled outside bbb-hook): left as is; enable it in scalelite to take meetings again"
            );
            server
        }
        Some(_) => server,
    };
    state.set_routable(server.state == ServerState::Enabled);
    state.server_id = Some(server.id);
    state.registration_checked_at = now_secs();
    ctx.state.save(state)
}
