//! Takes a cordoned server out of Scalelite's routing again when Scalelite's poller put it back.
//!
//! Scalelite's poller (`lib/tasks/poll.rake`, master 7498a81) reads every server with
//! `Server.all`, then asks each one's BBB for `getMeetings` and `save!`s the object it read. For a
//! server it read `enabled`, a changed load is written with `handle_enabled_state`, `ZADD
//! server_load` (`app/models/server.rb`), whatever state the server has by then. So a cordon sent
//! between that read and that save keeps `state=cordoned` in the server's record, which is all
//! `getServers` shows, while the server is back in `server_load`, the set `create` picks the
//! least-loaded server from: new meetings come here as before. Sending the cordon again changes
//! nothing (`state_changed?` is false, so `handle_cordoned_state` removes nothing), and the next
//! polls keep it there until the state changes.
//!
//! Nothing in Scalelite's API shows it, but the local BBB does: a meeting (not a breakout room,
//! which BBB makes itself) created later than the cordon by more than a `create` in flight takes
//! (`BBB_HOOK_CREATE_IN_FLIGHT`, 60 s) was routed here despite it. The hook then disables the
//! server and cordons it again: two state changes, which take it out of every set (a save of the
//! poller's older view that meets them writes nothing for a server it read disabled, and only
//! `cordoned_server_load` for one it read cordoned), the cordon keeping its meetings joinable again
//! (joins are refused in between, for the milliseconds of one request). The load reads
//! "unavailable" until the next poll.
//!
//! What else can create a meeting here past a cordon, through Scalelite: a `create` for a meeting
//! id Scalelite knows goes to that meeting's server, for a cordoned one only while the meeting
//! runs there (`isMeetingRunning`; else it is re-allocated), so a `create` racing another for the
//! same id, or arriving just as that meeting ended, can make it again here. Those, a `create`
//! slower than the in-flight time, and a meeting created on BBB directly read the same and cost
//! one needless repair. A leak that routes nothing past the in-flight time is left until the poller
//! disables the emptied server: it routed nothing.

use std::time::Duration;

use bbb_core::scalelite::{ScaleliteClient, Server, ServerState, StateChange};

use super::joinable::Holder;
use super::registration::{self, Why};
use crate::error::HookError;
use crate::local_bbb::Activity;

/// How long the repair waits before it sends a refused cordon once more.
const CORDON_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Whether a meeting created at `newest_create_ms` came through a `create` Scalelite routed here
/// after the cordon held since `cordoned_since_ms` (0: none held): later than it by more than
/// `in_flight`.
pub fn routed_after(newest_create_ms: u64, cordoned_since_ms: u64, in_flight: Duration) -> bool {
    cordoned_since_ms > 0
        && newest_create_ms > cordoned_since_ms.saturating_add(in_flight.as_millis() as u64)
}

/// Repairs `server`'s cordon when it is cordoned and the local BBB's `activity` shows a meeting
/// routed here since `cordoned_since_ms` ([`routed_after`]): one event with the decision's
/// inputs, then `disable` and `cordon`. `true` when it cordoned the server again.
pub async fn repair(
    scalelite: &ScaleliteClient,
    server: &Server,
    activity: &Activity,
    holder: Holder,
    cordoned_since_ms: u64,
    in_flight: Duration,
) -> Result<bool, HookError> {
    if server.state != ServerState::Cordoned
        || !routed_after(activity.newest_create_ms, cordoned_since_ms, in_flight)
    {
        return Ok(false);
    }
    tracing::warn!(
        server_id = %server.id,
        cordon = holder.as_str(),
        cordoned_since_ms,
        newest_create_ms = activity.newest_create_ms,
        in_flight_ms = in_flight.as_millis() as u64,
        meetings = activity.meetings,
        reason = "routed_while_cordoned",
        "a meeting was created here after the cordon: scalelite still routes to this server (its poller wrote it back into server_load); disabled and cordoned again to take it out"
    );
    let why = |change| Why {
        cordon: Some(holder.as_str()),
        meetings: Some(activity.meetings),
        ..Why::new(change, "routed_while_cordoned")
    };
    let (disable, cordon) = (why(StateChange::Disable), why(StateChange::Cordon));
    // The cordon is sent whatever the disable's answer: a disable Scalelite applied but answered
    // with an error (a timeout, a proxy's 502) would otherwise leave the server disabled, its
    // meetings' joins refused until the next pass; a cordon of a server still cordoned writes
    // nothing. The disable's error is answered then, so that the cordon's time is kept and the
    // next pass repairs again (the disable may not have been applied: still routed).
    let disabled =
        registration::write_state(scalelite, server, StateChange::Disable, &disable).await;
    if let Err(e) = &disabled {
        tracing::warn!(server_id = %server.id, error = %e, "disable refused or unanswered; the cordon is sent anyway, the repair retried next pass");
    }
    // Once more, a second later, if refused: disabled, the server's meetings refuse their joins
    // (and `joinable` would cordon it again only at the next pass).
    if let Err(e) = registration::write_state(scalelite, server, StateChange::Cordon, &cordon).await
    {
        tracing::warn!(server_id = %server.id, error = %e, "cordon after the disable refused, retrying once in 1 s");
        tokio::time::sleep(CORDON_RETRY_AFTER).await;
        registration::write_state(scalelite, server, StateChange::Cordon, &cordon).await?;
    }
    disabled.map(|_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_meeting_created_past_the_creates_in_flight_counts() {
        let in_flight = Duration::from_secs(20);
        let since = 1_000_000;
        assert!(!routed_after(since + 20_000, since, in_flight), "in flight");
        assert!(routed_after(since + 20_001, since, in_flight));
        assert!(!routed_after(since - 5_000, since, in_flight), "before");
        assert!(
            !routed_after(since + 60_000, 0, in_flight),
            "no cordon held"
        );
        assert!(!routed_after(0, since, in_flight), "no meeting");
    }
}
