//! bbb-fleet-sim: a trace-driven simulation of a BBB fleet behind Scalelite on an EC2 Auto
//! Scaling group, on a simulated clock, playing three scaling policies side by side (see
//! [`policy`]). Scalelite's routing and load rules ([`scalelite`]), the group's behaviour
//! ([`asg`]) and BBB's meeting expiry and recording processing ([`trace`]) are modelled from
//! their sources and documentation; the consolidating policy calls the same pure decision rule
//! the fleet runs (`bbb_core::scaling::decide`).

pub mod asg;
pub mod bound;
pub mod breakdown;
pub mod generate;
pub mod policy;
pub mod predictive;
pub mod report;
pub mod rng;
pub mod scalelite;
pub mod trace;
mod world;

pub use policy::{Config, Kind};
pub use report::Report;
pub use trace::MeetingSpec;

/// The simulated span: whole days covering every meeting, its expiry and its recording.
pub fn horizon_s(c: &Config, specs: &[MeetingSpec]) -> u64 {
    let last = specs
        .iter()
        .map(|m| m.expire_s() + c.recording_processing_s(m.duration_s))
        .max()
        .unwrap_or(0);
    (last + 3600).div_ceil(generate::DAY_S).max(1) * generate::DAY_S
}

/// Plays `kind` over `specs`.
pub fn run(kind: Kind, c: &Config, specs: &[MeetingSpec]) -> Report {
    world::World::new(kind, c, specs).run(horizon_s(c, specs))
}

/// Plays the three policies over `specs`, in order (a), (b), (c).
pub fn run_all(c: &Config, specs: &[MeetingSpec]) -> Vec<Report> {
    Kind::ALL.iter().map(|&k| run(k, c, specs)).collect()
}
