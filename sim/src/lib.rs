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
pub mod rap;
pub mod report;
pub mod rng;
pub mod scalelite;
pub mod trace;
mod world;

pub use policy::{Config, Kind};
pub use report::Report;
pub use trace::MeetingSpec;

/// The simulated span: whole days covering every meeting, its expiry and its recording's own
/// processing. Recordings that queue for a server's worker (`rap`) can end later: [`run_all`]
/// then plays every policy again over one more hour, as often as needed.
pub fn horizon_s(c: &Config, specs: &[MeetingSpec]) -> u64 {
    let last = specs
        .iter()
        .map(|m| m.expire_s() + c.recording_processing_s(m.duration_s))
        .max()
        .unwrap_or(0);
    (last + 3600).div_ceil(generate::DAY_S).max(1) * generate::DAY_S
}

/// Plays `kind` over `specs`, for [`horizon_s`].
pub fn run(kind: Kind, c: &Config, specs: &[MeetingSpec]) -> Report {
    run_for(kind, c, specs, horizon_s(c, specs))
}

fn run_for(kind: Kind, c: &Config, specs: &[MeetingSpec], span_s: u64) -> Report {
    world::World::new(kind, c, specs).run(span_s)
}

/// Plays the three policies over `specs`, in order (a), (b), (c), over a span long enough for
/// every policy's recordings to be processed (hours past [`horizon_s`], so that a trace's last
/// day is not followed by a day the forecast would fill from it). Answers the span too.
pub fn run_all(c: &Config, specs: &[MeetingSpec]) -> (u64, Vec<Report>) {
    let horizon = horizon_s(c, specs);
    let mut span_s = horizon;
    loop {
        let reports: Vec<Report> = Kind::ALL
            .iter()
            .map(|&k| run_for(k, c, specs, span_s))
            .collect();
        // A day of further hours is a trace whose recordings never finish.
        if reports.iter().all(|r| r.recordings_unfinished == 0)
            || span_s >= horizon + generate::DAY_S
        {
            return (span_s, reports);
        }
        span_s += 3600;
    }
}
