//! The fleet's scaling decision rule: consolidation and steering, as one pure function.
//!
//! [`decide`] takes what the group and Scalelite report ([`FleetView`]: the group's desired
//! capacity; per server its lifecycle phase, scale-in protection, Scalelite state, BBB's
//! participant/meeting counts, recordings in flight, launch time) and a [`Policy`], and answers a
//! [`Plan`]: per server, `cordon`, `enable`, `unprotect` or `keep`, each with a [`Reason`]. It does
//! no I/O and keeps no state, so every runner (the hook on each instance, the sandbox, the
//! simulator in `sim/`) takes the same decisions from the same view; [`Plan::events`] gives the
//! one structured log record per decision (inputs and reason) that the runner logs.
//!
//! # Why
//! Scalelite sends every `create` to the least-loaded enabled server. After a busy hour every
//! server hosts some small meeting, BBB-aware scale-in protection holds every one of them, and the
//! group, asked for fewer servers, lowers its desired capacity but terminates nothing. The fleet
//! only shrinks if the surplus servers stop taking new meetings and empty as their meetings end.
//!
//! # The rule
//! 1. **Surplus.** `counted` = instances launching or in service (what the group compares with
//!    its desired capacity); `surplus = max(0, counted - wanted)`, `wanted` being the desired
//!    capacity (or the predicted need when higher, item 7).
//! 2. **Who leaves.** In-service servers registered in Scalelite are ranked: fewest predicted
//!    participants first ([`ServerView::predicted_participants`]: a meeting created less than 15
//!    minutes ago counts as at least `young_meeting_participants`; a cordoned or disabled
//!    server's count lowered by `surplus_hysteresis`, so the choice
//!    does not flap as loads move), then fewest meetings, cordoned before enabled, enabled but
//!    not routable (no load in Scalelite) before routable, newest launch first, instance id.
//!    The first `surplus` are the surplus servers, less the launching instances (left to the
//!    group: scale-in protection starts when an instance is `InService`, even when the group's
//!    `NewInstancesProtectedFromScaleIn` flags it at launch; should the group keep one, it is
//!    the surplus once in service), and never the last `min(min_enabled, wanted)` servers
//!    (Scalelite would refuse every `create`).
//! 3. **Surplus servers**: an enabled one is cordoned (`surplus`); once one has no meeting and no
//!    recording in flight it loses its protection (`surplus_idle`), so the group terminates it and
//!    the hook's drain (which checks idle again) lets it go. Until then it keeps its meetings
//!    (`surplus_draining`): no meeting is ever ended by the rule.
//! 4. **Demand returns before any launch.** A cordoned or disabled server that is no longer
//!    surplus is enabled (`demand_returned`). Cordoned servers still count in the group's
//!    capacity, so when the desired capacity rises the surplus shrinks first and the cordoned
//!    servers are re-enabled; the group only launches once `desired > counted`, i.e. when no
//!    server is left cordoned for surplus. (Scalelite's poller turns a cordoned server whose load
//!    reads zero into a disabled one; the rule treats both alike.)
//! 5. **Steering** (optional, `steer_cordon_at`): Scalelite cannot know a meeting's size when it
//!    places it and has no notion of a full server, so an enabled server with at least
//!    `steer_cordon_at` predicted participants is cordoned (`near_capacity`) and re-enabled once below
//!    `steer_enable_below` (`still_near_capacity` until then): its meetings keep growing on it but
//!    new ones go to servers with room. Steering never leaves fewer than `min_enabled` servers
//!    enabled (`last_enabled`: the least loaded steered servers stay enabled).
//! 6. **Packing** (optional, `pack_enabled = Some(k)`): of the non-surplus servers with room,
//!    only the `k` fullest stay enabled; the others are cordoned as `reserve` and enabled as the
//!    fuller ones reach the steering threshold. New meetings then fill servers rather than
//!    spread thinly over all of them, and the reserve empties and becomes the next surplus.
//! 7. **Predicted need** (optional, `surplus_keeps_predicted = Some(n)`): the surplus is counted
//!    against `max(desired_capacity, ceil(predicted participants / n))`, so a burst of young
//!    meetings re-enables cordoned surplus servers at the next pass, before the group's metric
//!    (actual participants) moves and before Scalelite piles the burst onto the last enabled one.
//! 8. **Pinned servers stay** (`keep_pinned`, off by default: each hook sees only its own
//!    meetings' ages, so only the simulator can feed it): in the surplus ranking, a server
//!    hosting a meeting older than [`OLD_MEETING_S`] (a room left open for hours) leaves after
//!    every other candidate (an idle server still leaves first). Cordoned, it would drain for
//!    hours with a handful of participants; kept, it takes new meetings while a server whose
//!    meetings end sooner leaves in its place.
//! 9. Everything else is kept: launching, leaving or other lifecycle phases (`not_in_service`),
//!    servers not registered in Scalelite (`unregistered`), enabled servers with room (`serving`).
//! 10. **Safe one server at a time.** Each hook applies only its own decisions, at its own pass
//!     (:00 or :30 of each minute), so a plan's `enable`s may come after its `cordon`s. Of the
//!     servers Scalelite routes to now (enabled, with a load), at least `min(min_enabled,
//!     wanted)` (`wanted`: the desired capacity, or the predicted need when higher) are never cordoned by a
//!     plan, whatever it enables: their cordons (and a surplus one's release) are withdrawn, least
//!     loaded first (`last_enabled`). A swap of the server that takes `create`s so takes two
//!     passes, and Scalelite always has a server to route to (`partial_tests.rs`).
//!
//! # Bursts (Scalelite issues #538, #706, #1048)
//! Between two polls Scalelite adds only 1 to a server's load per `create`, while the next poll
//! counts each new meeting as at least 15: a server whose load read 0 (fresh, or whose meetings
//! just ended) takes every `create` of a burst until those increments lift it to the others.
//! No multiplier helps at load 0. Steering on predicted participants bounds the pile-up: once a
//! server holds `steer_cordon_at / young_meeting_participants` young meetings it is cordoned at
//! the rule's next pass, and the burst moves on to the next server. The shorter the runner's
//! interval, the smaller the pile-up.
//!
//! **Spreading through Scalelite's weights** ([`load_multipliers`], off by default:
//! `Policy::spread_meeting_participants` is `None`, and only the simulator turns it on):
//! Scalelite multiplies both the poller's load and each `create`'s and `join`'s increment by the
//! server's `load_multiplier`, so different multipliers change how many `create`s of a burst each
//! server takes before another is less loaded. The rule would set each server's multiplier so
//! that it takes about `free room / spread_meeting_participants` of them. Past the level a
//! `create` costs a busy server `1 x` its low multiplier, so the fullest server takes most of a
//! large burst inside one poll window (`spread_tests::a_burst_past_the_level_favours_the_busy_server`);
//! the hooks do not run it (ARCHITECTURE.md).
//!
//! The runner applies a server's decisions in order (a `cordon` before its `unprotect`). A hook
//! that applies only its own instance's decisions ([`Plan::for_instance`]) acts consistently with
//! the others as long as they read the same group and pool, and safely when they do not (item
//! 10).

mod input;
mod output;
#[cfg(test)]
mod partial_tests;
#[cfg(test)]
mod pinned_tests;
#[cfg(test)]
mod predicted_tests;
mod rule;
#[cfg(test)]
mod seen_by_hooks_tests;
mod spread;
#[cfg(test)]
mod spread_tests;
#[cfg(test)]
mod steering_tests;
#[cfg(test)]
mod tests;

pub use input::{
    FleetView, Phase, Policy, PoolState, ServerView, DEFAULT_CAPACITY_PARTICIPANTS, OLD_MEETING_S,
};
pub use output::{Action, Decision, DecisionEvent, FleetSummary, Plan, Reason, DECISION_EVENT};
pub use rule::{decide, steer_self};
pub use spread::{load_multipliers, scalelite_attendees, LoadWeight, LEVEL};
