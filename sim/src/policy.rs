//! The scaling policies the benchmark plays side by side, and their parameters.
//!
//! (a) `cpu`: the CloudFormation design the fleet module ships today: CloudWatch alarms on the
//!     group's *Minimum* CPUUtilization, scale out by one when above 80 % for 3 one-minute
//!     periods, in by one when below 6 % for 15, simple scaling with a 600 s cooldown; scale-in
//!     protection while a server lists a meeting, and no drain wait (a terminated server takes
//!     its meetings and unfinished recordings with it). CPU is modelled as participants over
//!     capacity.
//! (b) `target`: target tracking on participants per server (the hook's metric, averaged over
//!     the group): out when above the target for 3 one-minute datapoints, in when below it for 15
//!     (AWS's target-tracking alarms), to `ceil(participants / target)`; the hook's protection
//!     (meetings and recordings) and drain (cordon, wait for idle, at most `max_wait`); no
//!     consolidation.
//! (c) `consolidating`: (b) plus the decision rule `bbb_core::scaling::decide` every
//!     `rule_interval_s` (30 s, the hook's protect timer): cordon the least-loaded surplus
//!     servers (servers pinned by old meetings last), unprotect them once idle, re-enable before
//!     launching, steer new meetings away from servers whose predicted participants near
//!     capacity, set each server's Scalelite `load_multiplier` (`scaling::load_multipliers`) so
//!     that a burst spreads in proportion to free room; and forecast pre-warming: ahead
//!     of a rise the previous days' demand shows within `forecast_lookahead_s`, the desired
//!     capacity is at least that peak at `forecast_participants` per server.
//! (c') (c) without the pre-warming: consolidation's and steering's own effect.

/// Which policy a run plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Cpu,
    Target,
    Consolidating,
    /// (c) without forecast pre-warming: consolidation and steering alone (an ablation row).
    ConsolidatingOnly,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Cpu,
        Kind::Target,
        Kind::Consolidating,
        Kind::ConsolidatingOnly,
    ];

    /// Whether the decision rule runs (consolidation and steering).
    pub fn consolidates(self) -> bool {
        matches!(self, Kind::Consolidating | Kind::ConsolidatingOnly)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Cpu => "(a) cpu-threshold",
            Kind::Target => "(b) target-tracking",
            Kind::Consolidating => "(c) consolidating",
            Kind::ConsolidatingOnly => "(c') no pre-warming",
        }
    }
}

/// The simulation's parameters (the same for every policy).
#[derive(Clone, Debug)]
pub struct Config {
    /// Participants one server carries (BBB's guidance: about 200); also the ideal's divisor.
    pub capacity: u32,
    /// Launch to in service, lifecycle hook included.
    pub launch_s: u64,
    pub min_size: u32,
    pub max_size: u32,
    /// Servers in service at second 0.
    pub initial: u32,
    /// (b) and (c): the target-tracking target, participants per server.
    pub target_participants: u32,
    /// The hook's protect timer.
    pub protect_interval_s: u64,
    /// The hook's drain: longest wait for idle before giving up.
    pub drain_max_wait_s: u64,
    /// (c): how far ahead pre-warming looks, and the participants per server it provisions
    /// for (9/10 of capacity: the forecast is the history's peak participants, and spreading
    /// and steering keep the burst's placement below capacity; `sim/FINDINGS.md` has the
    /// trade-off).
    pub forecast_lookahead_s: u64,
    pub forecast_participants: u32,
    /// (c): participants per minute before second 0 (the fleet's metric history, whole days;
    /// empty: none). The forecast reads the same minute a week back when the history reaches
    /// that far, else the day before.
    pub prior_demand: Vec<u32>,
    /// (c): the same history of predicted participants (young meetings counted as the rule
    /// counts them): what the forecast reads when `forecast_predicted`.
    pub prior_predicted: Vec<u32>,
    /// (c): pre-warm for the predicted participants a burst of `create`s brings (each meeting
    /// counted as the rule counts a young one until its size shows), not only for the
    /// participants that later arrive: the servers a burst needs are set by how many meetings
    /// it places, their sizes unknown.
    pub forecast_predicted: bool,
    /// (c): the rule's parameters, and how often it runs (the hook's protect timer: 30 s).
    pub rule: bbb_core::scaling::Policy,
    pub rule_interval_s: u64,
    /// (c): the Scalelite settings it runs with (`--set scalelite_poll_interval_s=...`); (a) and
    /// (b) run Scalelite's defaults, as (c) does by default.
    pub scalelite: crate::scalelite::Settings,
    /// (c): how often each server steers itself from its own `getMeetings`
    /// (`bbb_core::scaling::steer_self`; 0: never, only the fleet-wide rule steers).
    pub self_steer_interval_s: u64,
    /// (a): the fleet module's CPU alarms.
    pub cpu_out_percent: u32,
    pub cpu_in_percent: u32,
    pub cpu_out_periods: u32,
    pub cpu_in_periods: u32,
    pub cpu_cooldown_s: u64,
    /// Target-tracking alarm lengths (AWS: 3 datapoints out, 15 in).
    pub tt_out_periods: u32,
    pub tt_in_periods: u32,
    /// Scheduled capacity (`bbb_schedule`), the same for every policy.
    pub schedules: Vec<Scheduled>,
    pub seed: u64,
}

/// A `bbb_schedule`: its scale-up action sets the group's min size and desired capacity to
/// `capacity` at `up_s` (its start less the lead time); its scale-down action at `down_s` sets
/// them back to the fleet's min size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheduled {
    pub up_s: u64,
    pub down_s: u64,
    pub capacity: u32,
}

impl Default for Config {
    fn default() -> Self {
        let capacity = bbb_core::scaling::DEFAULT_CAPACITY_PARTICIPANTS;
        Self {
            capacity,
            launch_s: 180,
            min_size: 1,
            max_size: 100,
            initial: 1,
            target_participants: capacity * 3 / 4,
            protect_interval_s: 30,
            drain_max_wait_s: 4 * 3600,
            forecast_lookahead_s: 15 * 60,
            prior_demand: Vec::new(),
            prior_predicted: Vec::new(),
            forecast_predicted: false,
            forecast_participants: capacity * 9 / 10,
            rule: bbb_core::scaling::Policy::for_capacity(capacity),
            rule_interval_s: 30,
            scalelite: crate::scalelite::Settings::default(),
            self_steer_interval_s: 0,
            cpu_out_percent: 80,
            cpu_in_percent: 6,
            cpu_out_periods: 3,
            cpu_in_periods: 15,
            cpu_cooldown_s: 600,
            tt_out_periods: 3,
            tt_in_periods: 15,
            schedules: Vec::new(),
            seed: 1,
        }
    }
}

impl Config {
    /// The defaults for servers of `capacity` participants.
    pub fn for_capacity(capacity: u32) -> Self {
        Self {
            capacity,
            target_participants: capacity * 3 / 4,
            forecast_participants: capacity * 9 / 10,
            rule: bbb_core::scaling::Policy::for_capacity(capacity),
            ..Self::default()
        }
    }

    /// Overrides one parameter by name (the benchmark's `--set key=value`).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let n = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{key}: {v:?} is not a number"))
        };
        let n32 = |v: &str| {
            v.parse::<u32>()
                .map_err(|_| format!("{key}: {v:?} is not a number"))
        };
        match key {
            "launch_s" => self.launch_s = n(value)?,
            "min_size" => self.min_size = n32(value)?,
            "max_size" => self.max_size = n32(value)?,
            "initial" => self.initial = n32(value)?,
            "target_participants" => self.target_participants = n32(value)?.max(1),
            "protect_interval_s" => self.protect_interval_s = n(value)?.max(1),
            "drain_max_wait_s" => self.drain_max_wait_s = n(value)?,
            "forecast_lookahead_s" => self.forecast_lookahead_s = n(value)?,
            "forecast_participants" => self.forecast_participants = n32(value)?.max(1),
            "forecast_predicted" => self.forecast_predicted = value == "true" || value == "on",
            "self_steer_interval_s" => self.self_steer_interval_s = n(value)?,
            "rule_interval_s" => self.rule_interval_s = n(value)?.max(1),
            "scalelite_poll_interval_s" => self.scalelite.poll_interval_s = n(value)?.max(1),
            "scalelite_load_min_user_count" => self.scalelite.load_min_user_count = n32(value)?,
            "scalelite_load_join_buffer_s" => self.scalelite.load_join_buffer_s = n(value)?,
            "steer_cordon_at" => {
                self.rule.steer_cordon_at = if value == "off" {
                    None
                } else {
                    Some(n32(value)?)
                }
            }
            "steer_enable_below" => self.rule.steer_enable_below = n32(value)?,
            "surplus_hysteresis" => self.rule.surplus_hysteresis = n32(value)?,
            "min_enabled" => self.rule.min_enabled = n32(value)?,
            "young_meeting_participants" => self.rule.young_meeting_participants = n32(value)?,
            "surplus_keeps_predicted" => {
                self.rule.surplus_keeps_predicted = if value == "off" {
                    None
                } else {
                    Some(n32(value)?.max(1))
                }
            }
            "spread_meeting_participants" => {
                self.rule.spread_meeting_participants = if value == "off" {
                    None
                } else {
                    Some(n32(value)?.max(1))
                }
            }
            "keep_pinned" => self.rule.keep_pinned = value == "true" || value == "on",
            "pack_enabled" => {
                self.rule.pack_enabled = if value == "off" {
                    None
                } else {
                    Some(n32(value)?)
                }
            }
            _ => return Err(format!("unknown parameter {key:?}")),
        }
        Ok(())
    }

    /// How long BBB takes to process a recording and Scalelite's post-publish step to copy it,
    /// after the meeting ends: five minutes plus half the meeting's length.
    pub fn recording_processing_s(&self, duration_s: u64) -> u64 {
        300 + duration_s / 2
    }
}

/// Alarm streaks and cooldown of the CPU design.
#[derive(Clone, Debug, Default)]
pub struct CpuAlarms {
    high: u32,
    low: u32,
    cooldown_until: u64,
}

impl CpuAlarms {
    /// One one-minute datapoint of the group's minimum CPU; the new desired capacity, if any.
    pub fn observe(
        &mut self,
        c: &Config,
        now_s: u64,
        min_cpu: Option<f64>,
        desired: u32,
    ) -> Option<u32> {
        let cpu = min_cpu?; // missing data: not breaching
        self.high = if cpu > f64::from(c.cpu_out_percent) {
            self.high + 1
        } else {
            0
        };
        self.low = if cpu < f64::from(c.cpu_in_percent) {
            self.low + 1
        } else {
            0
        };
        if now_s < self.cooldown_until {
            return None;
        }
        let next = if self.high >= c.cpu_out_periods {
            desired + 1
        } else if self.low >= c.cpu_in_periods && desired > 0 {
            desired - 1
        } else {
            return None;
        };
        self.cooldown_until = now_s + c.cpu_cooldown_s;
        Some(next)
    }
}

/// Target tracking's two alarms.
#[derive(Clone, Debug, Default)]
pub struct TargetTracking {
    high: u32,
    low: u32,
}

impl TargetTracking {
    /// One datapoint: the fleet's participants over `reporting` servers. The new desired
    /// capacity, if any; `floor` bounds a scale-in from below.
    pub fn observe(
        &mut self,
        c: &Config,
        participants: u32,
        reporting: u32,
        desired: u32,
        floor: u32,
    ) -> Option<u32> {
        if reporting == 0 {
            return None;
        }
        let target = f64::from(c.target_participants.max(1));
        let metric = f64::from(participants) / f64::from(reporting);
        self.high = if metric > target { self.high + 1 } else { 0 };
        self.low = if metric < target { self.low + 1 } else { 0 };
        let needed = participants.div_ceil(c.target_participants.max(1));
        if self.high >= c.tt_out_periods && needed > desired {
            return Some(needed);
        }
        if self.low >= c.tt_in_periods {
            let to = needed.max(floor);
            if to < desired {
                return Some(to);
            }
        }
        None
    }
}

/// Pre-warming from the previous days' demand (participants per minute, `history[minute]` is
/// now): the peak over the next `forecast_lookahead_s` a week ago, or a day ago when the history
/// is shorter than a week, in servers at the target.
pub fn forecast_servers(c: &Config, history: &[u32], minute: usize) -> u32 {
    let day = 1440usize;
    let ahead = (c.forecast_lookahead_s / 60) as usize;
    let Some(from) = minute
        .checked_sub(7 * day)
        .or_else(|| minute.checked_sub(day))
    else {
        return 0;
    };
    let to = (from + ahead + 1).min(history.len());
    let then = history.get(from).copied().unwrap_or(0);
    let peak = history
        .get(from..to)
        .and_then(|w| w.iter().copied().max())
        .unwrap_or(0);
    // Only a coming rise is pre-warmed for (a burst is placed before its sizes are known);
    // steady demand is target tracking's. And only while today follows the history: today's
    // demand over the last hour at least half of the history's over the same hour (an hour, not
    // a minute: two weeks' hours start and end their meetings a few minutes apart).
    let hour_mean = |at: usize| -> u64 {
        let lo = at.saturating_sub(59);
        let w = history.get(lo..=at).unwrap_or(&[]);
        w.iter().map(|&d| u64::from(d)).sum::<u64>() / (w.len().max(1) as u64)
    };
    if peak < then + c.capacity / 2 || hour_mean(minute) < hour_mean(from) / 2 {
        return 0;
    }
    peak.div_ceil(c.forecast_participants.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_design_waits_for_the_least_busy_server_and_its_cooldown() {
        let c = Config::default();
        let mut a = CpuAlarms::default();
        assert_eq!(a.observe(&c, 0, Some(95.0), 2), None);
        assert_eq!(a.observe(&c, 60, Some(95.0), 2), None);
        assert_eq!(a.observe(&c, 120, Some(95.0), 2), Some(3));
        assert_eq!(a.observe(&c, 180, Some(95.0), 3), None, "cooldown");
        assert_eq!(a.observe(&c, 720, Some(95.0), 3), Some(4));
        // One idle server keeps the minimum low: no scale-out however busy the rest.
        let mut b = CpuAlarms::default();
        for t in 0..10 {
            assert_eq!(b.observe(&c, t * 60, Some(0.0), 2).filter(|&d| d > 2), None);
        }
    }

    #[test]
    fn target_tracking_scales_out_after_three_and_in_after_fifteen_datapoints() {
        let c = Config::for_capacity(200); // target 150
        let mut t = TargetTracking::default();
        assert_eq!(t.observe(&c, 900, 2, 2, 1), None);
        assert_eq!(t.observe(&c, 900, 2, 2, 1), None);
        assert_eq!(t.observe(&c, 900, 2, 2, 1), Some(6));
        let mut t = TargetTracking::default();
        for _ in 0..14 {
            assert_eq!(t.observe(&c, 100, 4, 4, 1), None);
        }
        assert_eq!(t.observe(&c, 100, 4, 4, 1), Some(1));
        let mut t = TargetTracking::default();
        for _ in 0..14 {
            t.observe(&c, 100, 4, 4, 3);
        }
        assert_eq!(
            t.observe(&c, 100, 4, 4, 3),
            Some(3),
            "the forecast floor holds"
        );
    }

    #[test]
    fn today_follows_the_history_over_the_last_hour_not_one_minute() {
        // Yesterday 08:00-09:00 and today alike at 300; yesterday's 09:00 read 1,000 (the minute
        // a burst started), and 1,600 came at 09:10. Comparing today's 09:00 minute (300) with
        // yesterday's (1,000) took today for a different day and pre-warmed nothing.
        let mut c = Config::for_capacity(200);
        c.forecast_participants = 150;
        let mut history = vec![0u32; 1440 + 541];
        for m in 480..540 {
            history[m] = 300;
            history[1440 + m] = 300;
        }
        history[540] = 1000;
        history[550] = 1600;
        history[1440 + 540] = 300;
        assert_eq!(forecast_servers(&c, &history, 1440 + 540), 11);
    }

    #[test]
    fn the_forecast_is_yesterdays_peak_over_the_lookahead() {
        let mut c = Config::for_capacity(200); // 15 min ahead
        c.forecast_participants = 150;
        let mut history = vec![0u32; 1440 + 600];
        history[540 + 10] = 620; // yesterday 09:10
        assert_eq!(forecast_servers(&c, &history, 1440 + 540), 5);
        // Steady demand is not pre-warmed for.
        let steady = vec![620u32; 1440 + 600];
        assert_eq!(forecast_servers(&c, &steady, 1440 + 540), 0);
        assert_eq!(forecast_servers(&c, &history, 1440 + 520), 0);
        assert_eq!(
            forecast_servers(&c, &history, 540),
            0,
            "no history on day one"
        );
        // Today does not follow the history (a quarter of yesterday's demand now): no floor.
        let mut off = vec![0u32; 1440 + 600];
        off[540] = 600;
        off[550] = 1000;
        off[1440 + 540] = 150;
        assert_eq!(forecast_servers(&c, &off, 1440 + 540), 0);
        off[1440 + 540] = 400;
        assert_eq!(forecast_servers(&c, &off, 1440 + 540), 7);
        // With a week of history, the same weekday wins over yesterday.
        let mut history = vec![0u32; 8 * 1440 + 600];
        history[1440 + 540 + 10] = 900; // a week ago 09:10
        history[7 * 1440 + 540 + 10] = 150; // yesterday 09:10
        assert_eq!(forecast_servers(&c, &history, 8 * 1440 + 540), 6);
    }
}
