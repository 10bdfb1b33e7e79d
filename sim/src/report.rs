//! What a run measures, and the table the benchmark prints.

use crate::breakdown::Breakdown;
use crate::policy::{Config, Kind};
use crate::trace::MeetingSpec;
use bbb_core::scaling::Action;
use std::fmt::Write as _;

/// Steps longer than this count as "not reached" and as this many minutes.
pub const STEP_CAP_MIN: usize = 240;

/// Per-minute accumulators of one run.
#[derive(Clone, Debug, Default)]
pub struct Accounting {
    server_minutes: u64,
    in_service: Vec<u32>,
    participant_minutes: u64,
    over_capacity_minutes: u64,
    peak_servers: u32,
    pub creates_refused: u64,
    pub recordings_lost: u64,
    /// Recordings still queued or processing when the span ended (see `horizon_s`).
    pub recordings_unfinished: u64,
    pub meetings_dropped: u64,
    /// Live meetings on a server when the group began terminating it: placed after the last
    /// protection pass read the server idle (the drain holds them up to its `max_wait`).
    pub caught_by_scale_in: u64,
    /// `updateServer` calls that changed a `load_multiplier` ((c) with spreading).
    pub multiplier_updates: u64,
    /// The poller's write-back: saves that left a cordoned or disabled server in `server_load`,
    /// `create`s routed to such a server, and the hooks' repairs of it.
    pub write_backs: u64,
    pub routed_while_cordoned: u64,
    pub cordon_repairs: u64,
    cordons: u64,
    enables: u64,
    unprotects: u64,
    /// Where the over-capacity minutes and the server-hours come from.
    pub breakdown: Breakdown,
}

impl Accounting {
    /// One minute: `alive` instances billed (launching, in service, draining), `in_service`
    /// of them serving, and each server's (participants, meetings).
    pub fn minute(&mut self, c: &Config, alive: u32, in_service: u32, per_server: &[(u32, u32)]) {
        self.server_minutes += u64::from(alive);
        self.peak_servers = self.peak_servers.max(alive);
        self.in_service.push(in_service);
        for &(participants, meetings) in per_server {
            self.participant_minutes += u64::from(participants);
            if participants > c.capacity && meetings > 1 {
                self.over_capacity_minutes += u64::from(participants);
            }
        }
    }

    pub fn count_decision(&mut self, action: Action) {
        match action {
            Action::Cordon => self.cordons += 1,
            Action::Enable => self.enables += 1,
            Action::Unprotect => self.unprotects += 1,
            _ => {}
        }
    }

    pub fn finish(self, kind: Kind, c: &Config, specs: &[MeetingSpec], horizon_s: u64) -> Report {
        let ideal = ideal_servers(c, specs, horizon_s);
        let ideal_minutes: u64 = ideal.iter().map(|&n| u64::from(n)).sum();
        let delays = step_delays(&ideal, &self.in_service);
        let reached: Vec<usize> = delays
            .iter()
            .copied()
            .filter(|&d| d < STEP_CAP_MIN)
            .collect();
        Report {
            kind,
            server_hours: self.server_minutes as f64 / 60.0,
            ideal_hours: ideal_minutes as f64 / 60.0,
            meetings_dropped: self.meetings_dropped,
            caught_by_scale_in: self.caught_by_scale_in,
            recordings_lost: self.recordings_lost,
            recordings_unfinished: self.recordings_unfinished,
            over_capacity_share: if self.participant_minutes == 0 {
                0.0
            } else {
                self.over_capacity_minutes as f64 / self.participant_minutes as f64
            },
            creates_refused: self.creates_refused,
            steps: delays.len(),
            steps_not_reached: delays.len() - reached.len(),
            step_mean_min: if delays.is_empty() {
                0.0
            } else {
                delays.iter().sum::<usize>() as f64 / delays.len() as f64
            },
            step_max_min: delays.iter().copied().max().unwrap_or(0),
            peak_servers: self.peak_servers,
            decisions: [self.cordons, self.enables, self.unprotects],
            multiplier_updates: self.multiplier_updates,
            write_backs: [
                self.write_backs,
                self.routed_while_cordoned,
                self.cordon_repairs,
            ],
            breakdown: self.breakdown,
            participant_minutes: self.participant_minutes,
        }
    }
}

/// Concurrent participants of the trace at the start of each minute.
pub fn demand(specs: &[MeetingSpec], horizon_s: u64) -> Vec<u32> {
    let minutes = horizon_s.div_ceil(60) as usize;
    let mut demand = vec![0u32; minutes];
    for m in specs {
        let first = m.start_s.div_ceil(60) as usize;
        let last = (m.leave_s().div_ceil(60) as usize).min(minutes);
        for (i, d) in demand.iter_mut().enumerate().take(last).skip(first) {
            *d += m.participants_at(i as u64 * 60);
        }
    }
    demand
}

/// Per minute, `ceil(concurrent participants / capacity)` of the trace itself.
pub fn ideal_servers(c: &Config, specs: &[MeetingSpec], horizon_s: u64) -> Vec<u32> {
    demand(specs, horizon_s)
        .into_iter()
        .map(|d| d.div_ceil(c.capacity.max(1)))
        .collect()
}

/// Demand steps: a minute whose ideal server count is at least two above the lowest of the
/// previous quarter hour (since the last step). The step's level is the highest ideal of its
/// next quarter hour; its delay is the minutes until the servers in service cover both that level
/// and the ideal of the minute (capped at [`STEP_CAP_MIN`]: demand that subsides before capacity
/// arrives was never met).
pub fn step_delays(ideal: &[u32], in_service: &[u32]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut last = 0usize;
    let mut m = 1;
    while m < ideal.len() {
        let from = m.saturating_sub(15).max(last).min(m - 1);
        let before = ideal[from..m].iter().copied().min().unwrap_or(0);
        if ideal[m] < before + 2 {
            m += 1;
            continue;
        }
        let level = ideal[m..(m + 15).min(ideal.len())]
            .iter()
            .copied()
            .max()
            .unwrap_or(0);
        let mut delay = STEP_CAP_MIN;
        for (k, need) in ideal.iter().enumerate().skip(m).take(STEP_CAP_MIN) {
            if in_service.get(k).copied().unwrap_or(0) >= (*need).max(level) {
                delay = k - m;
                break;
            }
        }
        out.push(delay);
        m += 15;
        last = m;
    }
    out
}

/// One policy's figures.
#[derive(Clone, Debug)]
pub struct Report {
    pub kind: Kind,
    pub server_hours: f64,
    pub ideal_hours: f64,
    pub meetings_dropped: u64,
    /// See [`Accounting::caught_by_scale_in`].
    pub caught_by_scale_in: u64,
    pub recordings_lost: u64,
    /// See [`Accounting::recordings_unfinished`]: 0 unless the span was too short.
    pub recordings_unfinished: u64,
    pub over_capacity_share: f64,
    pub creates_refused: u64,
    pub steps: usize,
    pub steps_not_reached: usize,
    pub step_mean_min: f64,
    pub step_max_min: usize,
    pub peak_servers: u32,
    /// The rule's cordon, enable and unprotect decisions ((c) only).
    pub decisions: [u64; 3],
    /// `load_multiplier` updates sent ((c) with spreading).
    pub multiplier_updates: u64,
    /// See [`Accounting::write_backs`]: cordons the poller undid, `create`s routed to them,
    /// repairs.
    pub write_backs: [u64; 3],
    pub breakdown: Breakdown,
    pub participant_minutes: u64,
}

impl Report {
    pub fn ratio(&self) -> f64 {
        if self.ideal_hours == 0.0 {
            0.0
        } else {
            self.server_hours / self.ideal_hours
        }
    }
}

/// The table, one row per policy.
pub fn table(reports: &[Report]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<22} {:>9} {:>9} {:>6} {:>8} {:>9} {:>10} {:>8} {:>16} {:>5}",
        "policy",
        "srv-hours",
        "ideal",
        "ratio",
        "dropped",
        "rec-lost",
        "over-cap",
        "refused",
        "step min mean/max",
        "peak"
    );
    for r in reports {
        let steps = format!(
            "{:.1}/{}{}",
            r.step_mean_min,
            r.step_max_min,
            if r.steps_not_reached > 0 {
                format!(" ({}x>{STEP_CAP_MIN})", r.steps_not_reached)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            s,
            "{:<22} {:>9.1} {:>9.1} {:>6.2} {:>8} {:>9} {:>9.2}% {:>8} {:>16} {:>5}",
            r.kind.label(),
            r.server_hours,
            r.ideal_hours,
            r.ratio(),
            r.meetings_dropped,
            r.recordings_lost,
            100.0 * r.over_capacity_share,
            r.creates_refused,
            steps,
            r.peak_servers
        );
    }
    s
}

/// The targets for (c) against (a) and (b): (name, met, detail).
pub fn targets(reports: &[Report]) -> Vec<(String, bool)> {
    let find = |k: Kind| reports.iter().find(|r| r.kind == k);
    let (Some(a), Some(b), Some(c)) = (
        find(Kind::Cpu),
        find(Kind::Target),
        find(Kind::Consolidating),
    ) else {
        return Vec::new();
    };
    vec![
        (
            format!("(c) meetings dropped = 0 (got {})", c.meetings_dropped),
            c.meetings_dropped == 0,
        ),
        (
            format!("(c) recordings lost = 0 (got {})", c.recordings_lost),
            c.recordings_lost == 0,
        ),
        (
            format!(
                "(c) over-capacity share <= (a)/10 ({:.3}% vs {:.3}%)",
                100.0 * c.over_capacity_share,
                10.0 * a.over_capacity_share
            ),
            c.over_capacity_share <= a.over_capacity_share / 10.0,
        ),
        (
            format!("(c) server-hours <= 1.5 x ideal ({:.2}x)", c.ratio()),
            c.server_hours <= 1.5 * c.ideal_hours,
        ),
        (
            format!(
                "(c) server-hours < (b) ({:.1} vs {:.1})",
                c.server_hours, b.server_hours
            ),
            c.server_hours < b.server_hours,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ideal_is_the_ceiling_of_concurrent_participants_per_minute() {
        let c = Config::for_capacity(100);
        // 150 participants from minute 1 to minute 11 (joined within 5 min), 1 more for a minute.
        let specs = vec![
            MeetingSpec::new(60, 600, 150, ""),
            MeetingSpec::new(120, 60, 1, ""),
        ];
        let ideal = ideal_servers(&c, &specs, 900);
        assert_eq!(ideal[0], 0);
        assert_eq!(ideal[1], 1); // the moderator
        assert_eq!(ideal[7], 2); // 150 after the ramp
        assert_eq!(ideal[11], 0);
        assert_eq!(ideal.len(), 15);
    }

    #[test]
    fn a_step_is_timed_until_servers_in_service_cover_it() {
        let mut ideal = vec![1u32; 60];
        for v in ideal.iter_mut().skip(20).take(20) {
            *v = 4;
        }
        let mut in_service = vec![1u32; 60];
        for v in in_service.iter_mut().skip(27) {
            *v = 4;
        }
        assert_eq!(step_delays(&ideal, &in_service), vec![7]);
        assert_eq!(step_delays(&ideal, &ideal), vec![0]);
        assert_eq!(step_delays(&ideal, &[1; 60]), vec![STEP_CAP_MIN]);
        // A ramp of one server a minute (a meeting filling up) is a step too.
        let ramp: Vec<u32> = (0..60)
            .map(|m: u32| m.saturating_sub(19).clamp(1, 6))
            .collect();
        assert_eq!(step_delays(&ramp, &[6; 60]), vec![0]);
        assert_eq!(step_delays(&ramp, &[1; 60]), vec![STEP_CAP_MIN]);
    }
}
