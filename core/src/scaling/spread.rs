//! Spreading a burst through Scalelite's own weights: one `load_multiplier` per server.
//!
//! Scalelite (v1.8: `Server#increment_load`, `poll.rake`) scores each enabled server with its
//! poller load, `attendees x load_multiplier` (a meeting younger than `LOAD_JOIN_BUFFER_TIME`
//! counted as at least `LOAD_MIN_USER_COUNT` attendees), adds `1 x load_multiplier` per `create`,
//! and sends every `create` to the lowest score. A multiplier the same on every server changes no
//! choice; different multipliers do: a server with score `m x (A + n)` after `n` creates reaches
//! a level `L` after `n = L / m - A` creates. [`load_multipliers`] sets `m = LEVEL / (A +
//! slots)`, with `slots` the server's free room (to the steering threshold, in predicted
//! participants) over `Policy::spread_meeting_participants`, so that up to [`LEVEL`] every
//! server takes about as many `create`s as it has room for meetings of that size: a burst is
//! spread in proportion to free room instead of piling onto the least-loaded server (a fresh one
//! takes `slots` creates, not all of them). Past the level, `create`s spread in proportion to
//! `A + slots`. `updateServer` applies a multiplier to the next increments at once and to the
//! score at the next poll.

use super::input::{FleetView, Phase, Policy, PoolState, ServerView};
use serde::{Deserialize, Serialize};

/// The score at which every server has taken the `create`s its room allows.
pub const LEVEL: f64 = 100.0;
/// Scalelite's `LOAD_MIN_USER_COUNT` default: the least a young meeting adds to the poller load.
pub const LOAD_MIN_USER_COUNT: u32 = 15;

/// The `load_multiplier` one server should carry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoadWeight {
    pub instance_id: String,
    pub load_multiplier: f64,
}

/// One weight per in-service server registered in Scalelite, when
/// `Policy::spread_meeting_participants` is set (empty otherwise). Pure; the runner sends
/// `updateServer` with `load_multiplier` for the weights that differ from Scalelite's.
pub fn load_multipliers(view: &FleetView, policy: &Policy) -> Vec<LoadWeight> {
    let Some(per) = policy.spread_meeting_participants.filter(|&n| n > 0) else {
        return Vec::new();
    };
    let full = policy
        .steer_cordon_at
        .unwrap_or(policy.capacity_participants);
    view.servers
        .iter()
        .filter(|s| s.phase == Phase::InService && s.pool != PoolState::Unregistered)
        .map(|s| {
            let room = full.saturating_sub(s.predicted_participants(policy));
            let slots = f64::from(room) / f64::from(per);
            let m = LEVEL / (f64::from(scalelite_attendees(s)) + slots).max(0.5);
            LoadWeight {
                instance_id: s.instance_id.clone(),
                load_multiplier: round(m),
            }
        })
        .collect()
}

/// What Scalelite's poller counts for the server before the multiplier: participants plus one
/// moderator per joined meeting, each young meeting at least `LOAD_MIN_USER_COUNT`.
pub fn scalelite_attendees(s: &ServerView) -> u32 {
    let young_meetings = s.young_meetings.min(s.meetings);
    let young_participants = s.young_participants.min(s.participants);
    let settled = (s.participants - young_participants)
        .saturating_add(s.meetings.saturating_sub(young_meetings));
    let young = young_participants
        .saturating_add(young_meetings)
        .max(young_meetings.saturating_mul(LOAD_MIN_USER_COUNT));
    settled.saturating_add(young)
}

/// Three significant decimals, within what Scalelite stores and accepts (non-zero).
fn round(m: f64) -> f64 {
    ((m * 1000.0).round() / 1000.0).clamp(0.001, 100_000.0)
}
