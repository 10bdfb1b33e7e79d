//! `bbb-hook drain`: cordon, wait for meetings and recordings (keeping the lifecycle action
//! alive), deregister, delete the record, complete the terminating lifecycle action.
//!
//! The drain holds the state lock for its whole run, so `protect` and `launch` never act on
//! the instance meanwhile. The cordon is retried on every poll until Scalelite accepts it. The
//! instance counts as idle only after two idle reads a poll interval apart (a `create` already
//! in flight when the cordon landed shows up in the second), and a BBB that does not answer
//! counts as busy until it has failed for `BBB_HOOK_BBB_ERROR_GRACE`, and past it until
//! `max_wait` when its last answer listed meetings (see `wait_until_idle`).

use std::time::{Duration, Instant};

use super::{dns, lifecycle, registration};
use crate::context::Context;
use crate::error::HookError;
use crate::imds::TargetState;
use crate::local_bbb::{self, Activity};
use crate::shutdown;
use crate::state::{now_millis, now_secs, HookState};
use bbb_core::scalelite::StateChange;

/// How a drain ended, for the exit code and the summary line.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The Scalelite steps that could not be done (Scalelite unreachable, ...).
    pub scalelite_failures: Vec<String>,
    /// The fleet's max wait ran out with meetings or recordings still in the works.
    pub waited_past_limit: bool,
}

/// Waits until the metadata service's target lifecycle state is `Terminated` (the terminating
/// lifecycle hook holds the instance), then drains. Stopped (SIGTERM) while only watching, it
/// returns at once with nothing done.
pub async fn on_lifecycle_signal(ctx: &Context) -> Result<Outcome, HookError> {
    tracing::info!("waiting for the terminating lifecycle signal");
    let mut failing = false;
    loop {
        match ctx.imds.target_lifecycle_state().await {
            Ok(Some(TargetState::Terminated)) => break,
            Ok(_) => failing = false,
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "target lifecycle state unreadable, retrying on every poll");
                }
                failing = true;
            }
        }
        if !shutdown::sleep(ctx.settings.poll_interval).await {
            tracing::info!("stopped while waiting for the lifecycle signal, no drain started");
            return Ok(Outcome::default());
        }
    }
    tracing::info!("terminating lifecycle signal received");
    run(ctx, true).await
}

/// `work` with heartbeats of the terminating hook beside it.
async fn terminating_heartbeats<T>(
    ctx: &Context,
    work: impl std::future::Future<Output = Result<T, HookError>>,
) -> Result<T, HookError> {
    lifecycle::with_heartbeats(
        ctx,
        &ctx.config.terminating_hook_name,
        ctx.config.heartbeat_timeout.max(1),
        work,
    )
    .await
}

async fn terminating(ctx: &Context) -> bool {
    matches!(
        ctx.imds.target_lifecycle_state().await,
        Ok(Some(TargetState::Terminated))
    )
}

/// Drains the instance. `lifecycle`: the terminating hook is known to hold the instance
/// (otherwise the metadata service is asked).
pub async fn run(ctx: &Context, lifecycle: bool) -> Result<Outcome, HookError> {
    // The drain's clock starts before the lock: a launch holding it (DNS, registration) uses
    // the lifecycle action's time too.
    let begun = now_secs();
    // The terminating hook holds the instance already: keep it alive while waiting for a
    // launch or a protect pass to release the lock.
    let _lock = if lifecycle {
        terminating_heartbeats(ctx, ctx.state.lock()).await?
    } else {
        ctx.state.lock().await?
    };
    let mut state = ctx.state.load()?;
    let lifecycle = lifecycle || terminating(ctx).await;
    let mut outcome = Outcome::default();
    if state.drained {
        tracing::info!("already drained");
        if lifecycle {
            state.terminating = true;
            ctx.state.save(&state)?;
            if state.launched_since_drain {
                // A launch since (a reboot's, failing before it could reset the drain) may have
                // made the record and a (never enabled) registration again: taken out before the
                // instance and its address go, or the name would point at a released address.
                // Best effort: the termination is not held back for it.
                let finish_by = Instant::now() + ctx.settings.deregister_timeout;
                let server_id = state.server_id.clone();
                let again = leave(ctx, finish_by, server_id.as_deref(), None);
                if let Err(e) = terminating_heartbeats(ctx, again).await {
                    tracing::warn!(record = %ctx.record_name(), error = %e, "what the launch since the drain made could not be taken out (the next terraform apply of bbb_fleet removes it)");
                }
                state.launched_since_drain = false;
                ctx.state.save(&state)?;
            }
            lifecycle::complete(ctx, &ctx.config.terminating_hook_name).await?;
        }
        return Ok(outcome);
    }
    let resumed = state.draining;
    // The terminating hook's global timeout starts at `Terminating:Wait`: a drain at shutdown
    // cut short before it (a reboot's, not finished) lends its clock to no terminating drain.
    if !resumed || state.drain_started_at == 0 || (lifecycle && !state.terminating) {
        state.drain_started_at = begun;
    }
    state.draining = true;
    state.terminating |= lifecycle;
    ctx.state.save(&state)?;
    // A resumed drain (a restart, a stop's `ExecStop` after the watcher) goes on with the
    // first one's clock: the lifecycle hook's global timeout and the unit's stop timeout count
    // from then, not from this process.
    let started = since(state.drain_started_at);
    tracing::info!(
        lifecycle,
        resumed,
        max_wait_s = ctx.config.max_wait_seconds,
        "drain started"
    );
    // 1. No new meeting lands here; 2. meetings end and their recordings are published;
    // 3. leave Scalelite and DNS. Heartbeats run beside these steps, not between them.
    let work = async {
        let waited = wait_until_idle(ctx, started, BbbBefore::from(&state)).await?;
        outcome.waited_past_limit = !waited.idle;
        if !waited.cordoned {
            outcome
                .scalelite_failures
                .push(format!("cordon: {}", waited.cordon_error));
        }
        let finish_by = finish_by(started, ctx.config.max_wait());
        let server_id = state.server_id.as_deref();
        if let Some(e) = leave(ctx, finish_by, server_id, Some(waited.cordoned)).await? {
            outcome.scalelite_failures.push(format!("deregister: {e}"));
        }
        Ok(())
    };
    if lifecycle {
        terminating_heartbeats(ctx, work).await?;
    } else {
        work.await?;
    }
    // 4. Leave the group.
    if lifecycle {
        lifecycle::complete(ctx, &ctx.config.terminating_hook_name).await?;
    }
    state.drained = true;
    state.launched_since_drain = false;
    ctx.state.save(&state)?;
    if outcome.waited_past_limit {
        tracing::warn!(
            duration_ms = started.elapsed().as_millis() as u64,
            scalelite_ok = outcome.scalelite_failures.is_empty(),
            "drain complete past max_wait: meetings or recordings were still in the works"
        );
    } else {
        tracing::info!(
            duration_ms = started.elapsed().as_millis() as u64,
            scalelite_ok = outcome.scalelite_failures.is_empty(),
            "drain complete"
        );
    }
    Ok(outcome)
}

/// Cordons the registration (a missing registration needs none).
async fn cordon(ctx: &Context) -> Result<(), HookError> {
    let scalelite = ctx.scalelite().await?;
    match registration::find(ctx, &scalelite).await? {
        Some(server) => {
            registration::set_state(&scalelite, &server, StateChange::Cordon, "drain").await?;
        }
        None => tracing::info!(url = %ctx.server_url(), "not registered in scalelite"),
    }
    Ok(())
}

async fn deregister(ctx: &Context) -> Result<(), HookError> {
    let scalelite = ctx.scalelite().await?;
    if let Some(server) = registration::find(ctx, &scalelite).await? {
        scalelite
            .delete_server(&server.id)
            .await
            .map_err(HookError::scalelite("deregister from Scalelite"))?;
        tracing::info!(server_id = %server.id, "deregistered from scalelite");
    }
    Ok(())
}

/// The leave steps: out of Scalelite (retried until `finish_by`), then the record, whose
/// ownership mark stays when the registration is left behind (the fleet's next apply removes
/// both). Answers why the registration was left behind, if it was; an error when the record
/// could not be deleted. Idempotent: nothing to do when nothing is there.
async fn leave(
    ctx: &Context,
    finish_by: Instant,
    server_id: Option<&str>,
    cordoned: Option<bool>,
) -> Result<Option<HookError>, HookError> {
    let left = leave_scalelite(ctx, finish_by).await.err();
    if let Some(e) = &left {
        tracing::warn!(
            url = %ctx.server_url(),
            server_id = server_id.unwrap_or("unknown"),
            cordoned,
            error = %e,
            "scalelite registration left behind (the next terraform apply of bbb_fleet removes it)"
        );
    }
    dns::remove(ctx, left.is_some()).await?;
    Ok(left)
}

/// The instant `unix_secs` stands for on this process's monotonic clock (now when later).
fn since(unix_secs: u64) -> Instant {
    let ago = Duration::from_secs(now_secs().saturating_sub(unix_secs));
    Instant::now().checked_sub(ago).unwrap_or_else(Instant::now)
}

/// Time kept after the deregistration's retries, of the drain's finishing time
/// (`DRAIN_FINISH_SECONDS`), for the record's deletion and the lifecycle action's completion.
const AFTER_DEREGISTRATION: Duration = Duration::from_secs(60);

/// When a drain begun at `started` must be done deregistering: the units' stop timeout and the
/// lifecycle hook's global timeout leave it `max_wait` plus `DRAIN_FINISH_SECONDS`
/// (`super::timeouts`), of which [`AFTER_DEREGISTRATION`] is kept for the record and the
/// completion, which matter more (a record left on a released address) than a registration
/// left behind (the next apply removes it).
fn finish_by(started: Instant, max_wait: Duration) -> Instant {
    let finish = Duration::from_secs(super::timeouts::DRAIN_FINISH_SECONDS);
    started + max_wait + finish.saturating_sub(AFTER_DEREGISTRATION)
}

/// Deregisters, retrying with backoff (1 s doubling to 30 s) for `BBB_HOOK_DEREGISTER_TIMEOUT`,
/// and not past `finish_by` (one try at least). The last error when it gives up.
async fn leave_scalelite(ctx: &Context, finish_by: Instant) -> Result<(), HookError> {
    let deadline = (Instant::now() + ctx.settings.deregister_timeout).min(finish_by);
    let mut delay = Duration::from_secs(1);
    loop {
        let e = match deregister(ctx).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        ctx.forget_scalelite_on(&e);
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || shutdown::requested() {
            return Err(e);
        }
        tracing::warn!(error = %e, retry_in_ms = delay.min(left).as_millis() as u64, "deregistration failed, retrying");
        if !shutdown::sleep(delay.min(left)).await {
            return Err(e);
        }
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

/// How the wait ended.
struct Waited {
    /// Idle (twice); `false` when the max wait ran out first.
    idle: bool,
    cordoned: bool,
    /// Why the cordon failed when it never succeeded.
    cordon_error: String,
}

/// What the protect passes before the drain knew of BBB.
struct BbbBefore {
    /// Meetings bbb-web listed at its last answer; 0 once the health check reported the
    /// instance (it judged them gone, or waited `max_wait` for them already).
    last_meetings: usize,
    /// When its probes began to fail, if they still did.
    failing_since: Option<Instant>,
}

impl BbbBefore {
    fn from(state: &HookState) -> Self {
        let h = &state.health;
        let failing_since = (h.failures > 0 && h.failing_since > 0)
            .then(|| {
                let for_s = now_secs().saturating_sub(h.failing_since);
                Instant::now().checked_sub(Duration::from_secs(for_s))
            })
            .flatten();
        Self {
            last_meetings: if h.reported { 0 } else { h.last_meetings },
            failing_since,
        }
    }
}

/// Polls until no meeting runs and no recording is in the works on two reads in a row,
/// cordoning until Scalelite accepts it.
///
/// BBB unreadable counts as busy for `BBB_HOOK_BBB_ERROR_GRACE`. Past it, meetings bbb-web last
/// listed keep running without it (their clients talk to akka-apps and FreeSWITCH), as the
/// health check holds too (`super::health`): they count until `max_wait` after its first
/// failure (as the protect passes saw it, when they did); then, or when it listed none, the
/// server is judged from its recordings alone.
async fn wait_until_idle(
    ctx: &Context,
    started: Instant,
    before: BbbBefore,
) -> Result<Waited, HookError> {
    let mut last_meetings = before.last_meetings;
    let deadline = started + ctx.config.max_wait();
    let grace = ctx.settings.bbb_error_grace;
    let mut cordoned = false;
    // Unix ms since when the cordon holds (see `super::cordon_leak`).
    let mut cordoned_since_ms = 0u64;
    let mut cordon_error = String::new();
    let mut idle_reads = 0u32;
    let mut failing_since: Option<Instant> = before.failing_since;
    let mut last_logged: Option<Activity> = None;
    loop {
        if !cordoned {
            match cordon(ctx).await {
                Ok(()) => {
                    cordoned = true;
                    cordoned_since_ms = now_millis();
                    // Reads before the cordon do not count: Scalelite could still place a
                    // meeting here.
                    idle_reads = 0;
                }
                Err(e) => {
                    ctx.forget_scalelite_on(&e);
                    if cordon_error.is_empty() {
                        tracing::warn!(error = %e, "scalelite unreachable, cannot cordon; retried on every poll");
                    }
                    cordon_error = e.to_string();
                }
            }
        }
        let activity = match local_bbb::read_activity(&ctx.settings).await {
            Ok(a) => {
                if failing_since.take().is_some() {
                    tracing::info!("local BBB answers again");
                }
                last_meetings = a.meetings;
                Some(a)
            }
            Err(e) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                let listed_still_run = last_meetings > 0 && since.elapsed() < ctx.config.max_wait();
                if since.elapsed() < grace {
                    // bbb-web restarting or overloaded: its meetings may well still run.
                    tracing::warn!(error = %e, failing_ms = since.elapsed().as_millis() as u64, grace_s = grace.as_secs(), "local BBB unreadable, counted as busy");
                    None
                } else if listed_still_run {
                    tracing::warn!(error = %e, grace_s = grace.as_secs(), last_meetings, "local BBB unreadable past the grace period; the meetings it last listed may still run, counted as busy until max_wait after its first failure");
                    None
                } else {
                    // No meeting when it last answered: recordings on disk still count.
                    tracing::warn!(error = %e, grace_s = grace.as_secs(), "local BBB unreadable past the grace period, judging from recordings only");
                    Some(local_bbb::recording_activity(&ctx.settings)?)
                }
            }
        };
        if let Some(a) = activity.as_ref().filter(|a| cordoned && a.meetings > 0) {
            let holder = super::joinable::Holder::Drain;
            if let Err(e) = super::joinable::check(ctx, a, holder, &mut cordoned_since_ms).await {
                tracing::warn!(error = %e, "draining server's cordon not checked (joins, routing); retried on the next poll");
            }
        }
        match &activity {
            Some(a) if !a.is_busy() => {
                idle_reads += 1;
                if idle_reads >= 2 {
                    if !a.recordings_failed.is_empty() {
                        tracing::warn!(failed = ?a.recordings_failed, "recordings failed processing on this instance");
                    }
                    tracing::info!(cordoned, "no meeting and no recording in the works, twice");
                    return Ok(Waited {
                        idle: true,
                        cordoned,
                        cordon_error,
                    });
                }
                tracing::info!(
                    "no meeting and no recording in the works, confirming on the next poll"
                );
            }
            Some(a) => {
                idle_reads = 0;
                if last_logged.as_ref() != Some(a) {
                    tracing::info!(
                        meetings = a.meetings,
                        breakout_rooms = a.breakout_rooms,
                        participants = a.participants,
                        recordings = ?a.recording_stages,
                        "waiting for meetings and recordings"
                    );
                    last_logged = Some(a.clone());
                }
            }
            None => idle_reads = 0,
        }
        let now = Instant::now();
        if now >= deadline && idle_reads == 0 {
            tracing::warn!(
                meetings = activity.as_ref().map(|a| a.meetings),
                recordings = activity.as_ref().map(|a| a.recordings_in_progress.len()),
                bbb_answering = activity.is_some(),
                max_wait_s = ctx.config.max_wait_seconds,
                "max wait reached, leaving with work in progress"
            );
            return Ok(Waited {
                idle: false,
                cordoned,
                cordon_error,
            });
        }
        let next = if idle_reads > 0 {
            ctx.settings.poll_interval
        } else {
            ctx.settings
                .poll_interval
                .min(deadline.saturating_duration_since(now))
        };
        if !shutdown::sleep(next.max(Duration::from_millis(50))).await {
            return Err(HookError::Interrupted(
                "drain waiting for meetings; saved as draining, the next drain resumes it",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deregistration_leaves_a_minute_of_the_finishing_time() {
        let started = Instant::now();
        let max_wait = Duration::from_secs(4 * 3600);
        let by = finish_by(started, max_wait);
        let finish = Duration::from_secs(super::super::timeouts::DRAIN_FINISH_SECONDS);
        assert_eq!(by, started + max_wait + finish - AFTER_DEREGISTRATION);
        // A drain that waited its whole max_wait has 4 minutes of retries, not the default 5.
        let at_max_wait = started + max_wait;
        assert_eq!(by - at_max_wait, Duration::from_secs(240));
    }
}
