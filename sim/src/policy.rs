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
//! (c) `consolidating`: what `modules/fleet` and the hooks run: (b) plus the decision rule
//!     `bbb_core::scaling::decide` every `rule_interval_s` (60 s, the hook's
//!     `BBB_HOOK_CONSOLIDATION_INTERVAL`), fed what the hooks see (`rule_view`: the group and
//!     Scalelite's `getServers`, [`bbb_core::scaling::ServerView::seen_by_hooks`]): cordon the
//!     least-loaded surplus servers, re-enable them before launching, steer new meetings away
//!     from servers near capacity; each server's hook at its own phase (:00 or :30, from when it
//!     went in service) applying its own decisions; protection stays the protect pass's, which
//!     holds an idle server while Scalelite can route to it; and EC2 Auto Scaling's predictive
//!     scaling on the participants metric ([`crate::predictive`]).
//! (c') (c) without the pre-warming: consolidation's and steering's own effect.

/// What (c)'s rule is fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleView {
    /// What every hook reads: the group and Scalelite's `getServers` (phase, protection, state,
    /// load); no server's meetings, their ages or its recordings. The rule's `unprotect` is left
    /// to the protect pass, as the hooks leave it.
    Hooks,
    /// Every server's meetings, their ages and recordings as the simulator knows them, and the
    /// rule's `unprotect` applied: what a controller reading every BBB would see (a comparison,
    /// not what runs).
    Omniscient,
}

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
    /// (b) and (c): the group's default instance warm-up (`modules/fleet`'s
    /// `instance_warmup_seconds`): no policy scales in while an instance warms up.
    pub instance_warmup_s: u64,
    /// The hook's protect timer.
    pub protect_interval_s: u64,
    /// The hook's drain: longest wait for idle before giving up.
    pub drain_max_wait_s: u64,
    /// (c): how long a cordoned server stays protected after its hook first read it idle (the
    /// hook's `BBB_HOOK_RELEASE_AFTER`, 90 s).
    pub release_after_s: u64,
    /// (b) and (c): BBB's recording workers per server, `modules/fleet`'s `recording_workers`
    /// (1, BBB's own; `sim/src/rap.rs`), each taking one recording at a time. (a)'s servers run
    /// stock BBB: one.
    pub recording_workers: u32,
    /// (c): predictive scaling's target value (participants per server over an hour's mean
    /// load; `modules/fleet`'s `forecast_participants_per_server`) and its
    /// `SchedulingBufferTime` (`predictive_scheduling_buffer_seconds`).
    pub forecast_participants: u32,
    pub forecast_buffer_s: u64,
    /// (c): whether an hour's forecast capacity holds for the whole hour (target tracking cannot
    /// scale in below it). AWS's documentation reads both ways: the forecast is "the minimum
    /// capacity that is needed on an hourly basis" (`GetPredictiveScalingForecast`) and "each
    /// policy determines the desired capacity independently, and the desired capacity is set to
    /// the maximum of those", yet "How predictive scaling works" recommends the default instance
    /// warm-up so that dynamic scaling does not scale in the instances predictive scaling
    /// launched, which a floor would not need. Off by default (the conservative reading: a
    /// scale-out at the action time that only the warm-up protects); on is measured in
    /// `sim/FINDINGS.md`.
    pub forecast_holds_hour: bool,
    /// (c): participants per minute before second 0 (the fleet's metric history, whole days;
    /// empty: none), what predictive scaling forecasts from.
    pub prior_demand: Vec<u32>,
    /// (c): the rule's parameters, how often it runs (the hook's consolidation interval: 60 s),
    /// and what it is fed.
    pub rule: bbb_core::scaling::Policy,
    pub rule_interval_s: u64,
    pub rule_view: RuleView,
    /// (c): the group's `NewInstancesProtectedFromScaleIn` (`modules/fleet` sets the group's
    /// `protect_from_scale_in` with `protect_live_meetings`): a new instance is protected from
    /// the moment it is `InService` ("Instance scale-in protection starts when the instance
    /// state is InService", EC2 Auto Scaling user guide), not from its hook's first protect
    /// pass; while launching it is not protected. (a) and (b) launch unprotected.
    pub protect_new_instances: bool,
    /// Scalelite's poller: the second of its first poll, and how long a `poll:all` takes. Its
    /// `poll` task (`lib/tasks/poll.rake`) loops `poll:all`, then sleeps `POLL_INTERVAL`, so it
    /// polls every `POLL_INTERVAL` plus the time `poll:all` takes (a `getMeetings` per server
    /// and a `getMeetingInfo` per meeting), from whenever it started: against the hooks'
    /// protect timer (`OnCalendar=*:*:00/30`) its phase drifts through the whole minute (at
    /// 1 s a poll, once an hour). 15 s starts it between two protect passes.
    pub poll_phase_s: u64,
    pub poll_duration_s: u64,
    /// Whether the poller saves each server from the view it read at the start of the poll
    /// (Scalelite's `poll:servers`, `poll_duration_s` later here): a state change the hooks make
    /// in between meets that older view (`scalelite.rs`). Off: read and save at one instant.
    pub poll_write_back: bool,
    /// Whether the hooks take a server whose cordon the poller undid out of the routing again
    /// (`hook/src/commands/cordon_leak.rs`: a meeting created past the cordon by more than
    /// `create_in_flight_s`, read at a protect pass, answered by `disable` then `cordon`).
    pub cordon_repair: bool,
    pub create_in_flight_s: u64,
    /// Whether a launching instance flagged protected (the group's
    /// `NewInstancesProtectedFromScaleIn`) is spared by a scale-in. AWS documents only that
    /// protection "starts when the instance state is InService", not whether or which launching
    /// instance a scale-in picks: off (the default) lets it pick one, on spares them.
    pub pending_protected: bool,
    /// (c): the Scalelite settings it runs with (`--set scalelite_poll_interval_s=...`); (a) and
    /// (b) run Scalelite's defaults, as (c) does by default.
    pub scalelite: crate::scalelite::Settings,
    /// (c): how often each server steers itself from its own `getMeetings`
    /// (`bbb_core::scaling::steer_self`; 0: never, only the fleet-wide rule steers).
    pub self_steer_interval_s: u64,
    /// A server's CPU (percent) when it carries `capacity` participants, growing in proportion
    /// with them; what both (a)'s alarms and (c)'s CPU guard read. 100 by default, the model
    /// (a) has always been measured with; reading BBB's FAQ ("once the CPU reaches 80 %, the
    /// audio starts to degrade", and a recommended server takes about 200 users) as 80 % at
    /// capacity makes (a) scale out later (`sim/FINDINGS.md`).
    pub cpu_at_capacity_percent: u32,
    /// (c): `modules/fleet`'s CPU guard (`cpu_target_percent`, 60): target tracking on the
    /// group's average CPU, scale-out only; 0 plays none.
    pub cpu_guard_percent: u32,
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
            target_participants: capacity * 7 / 10,
            instance_warmup_s: 600,
            protect_interval_s: 30,
            drain_max_wait_s: 4 * 3600,
            release_after_s: 90,
            recording_workers: 1,
            forecast_participants: capacity * 9 / 10,
            forecast_buffer_s: 600,
            forecast_holds_hour: false,
            prior_demand: Vec::new(),
            rule: bbb_core::scaling::Policy::for_capacity(capacity),
            rule_interval_s: 60,
            rule_view: RuleView::Hooks,
            protect_new_instances: true,
            poll_phase_s: 15,
            poll_duration_s: 1,
            poll_write_back: true,
            cordon_repair: true,
            create_in_flight_s: 60,
            pending_protected: false,
            scalelite: crate::scalelite::Settings::default(),
            self_steer_interval_s: 0,
            cpu_at_capacity_percent: 100,
            cpu_guard_percent: 60,
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

/// A switch of `--set`: `on`/`true` or `off`/`false`, anything else an error naming `key`.
fn on_off(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "on" | "true" => Ok(true),
        "off" | "false" => Ok(false),
        _ => Err(format!("{key}: {value:?} is not on or off")),
    }
}

impl Config {
    /// The defaults for servers of `capacity` participants.
    pub fn for_capacity(capacity: u32) -> Self {
        Self {
            capacity,
            target_participants: capacity * 7 / 10,
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
            "instance_warmup_s" => self.instance_warmup_s = n(value)?,
            "protect_interval_s" => self.protect_interval_s = n(value)?.max(1),
            "drain_max_wait_s" => self.drain_max_wait_s = n(value)?,
            "release_after_s" => self.release_after_s = n(value)?,
            "recording_workers" => self.recording_workers = n32(value)?.max(1),
            "cpu_at_capacity_percent" => self.cpu_at_capacity_percent = n32(value)?.max(1),
            "cpu_guard_percent" => self.cpu_guard_percent = n32(value)?,
            "forecast_buffer_s" => self.forecast_buffer_s = n(value)?.min(3599),
            "forecast_participants" => self.forecast_participants = n32(value)?.max(1),
            "forecast_holds_hour" => self.forecast_holds_hour = on_off(key, value)?,
            "rule_view" => {
                self.rule_view = match value {
                    "hooks" => RuleView::Hooks,
                    "omniscient" => RuleView::Omniscient,
                    _ => return Err(format!("{key}: {value:?} is not hooks or omniscient")),
                }
            }
            "self_steer_interval_s" => self.self_steer_interval_s = n(value)?,
            "rule_interval_s" => self.rule_interval_s = n(value)?.max(1),
            "protect_new_instances" => self.protect_new_instances = on_off(key, value)?,
            "poll_phase_s" => self.poll_phase_s = n(value)?,
            "poll_duration_s" => self.poll_duration_s = n(value)?,
            "poll_write_back" => self.poll_write_back = on_off(key, value)?,
            "cordon_repair" => self.cordon_repair = on_off(key, value)?,
            "create_in_flight_s" => self.create_in_flight_s = n(value)?,
            "pending_protected" => self.pending_protected = on_off(key, value)?,
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
            "keep_pinned" => self.rule.keep_pinned = on_off(key, value)?,
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

    /// The recording workers a server of `kind` runs: BBB's one for (a), the module's for the rest.
    pub fn recording_workers_of(&self, kind: Kind) -> u32 {
        if kind == Kind::Cpu {
            1
        } else {
            self.recording_workers
        }
    }

    /// A server's CPU (percent, at most 100) with `participants` on it.
    pub fn cpu_percent(&self, participants: u32) -> f64 {
        (f64::from(self.cpu_at_capacity_percent) * f64::from(participants)
            / f64::from(self.capacity.max(1)))
        .min(100.0)
    }

    /// How long one recording worker takes to process a recording and Scalelite's post-publish
    /// step to copy it: five minutes plus half the meeting's length. Recordings of one server
    /// queue for its workers (`sim/src/rap.rs`).
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

/// `modules/fleet`'s CPU guard: target tracking on `ASGAverageCPUUtilization` with scale-in
/// disabled. AWS: with several target tracking policies the group "will scale out ... if any of
/// the target tracking policies are ready for scale out" (its alarm: 3 datapoints), and scales
/// to `current capacity x metric / target`.
#[derive(Clone, Debug, Default)]
pub struct CpuGuard {
    high: u32,
}

impl CpuGuard {
    /// One datapoint: the group's average CPU over `reporting` servers. The desired capacity it
    /// scales out to, if any.
    pub fn observe(
        &mut self,
        c: &Config,
        average_cpu: f64,
        reporting: u32,
        desired: u32,
    ) -> Option<u32> {
        if c.cpu_guard_percent == 0 || reporting == 0 {
            return None;
        }
        let target = f64::from(c.cpu_guard_percent);
        self.high = if average_cpu > target {
            self.high + 1
        } else {
            0
        };
        let needed = (f64::from(reporting) * average_cpu / target).ceil() as u32;
        (self.high >= c.tt_out_periods && needed > desired).then_some(needed)
    }
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
    fn the_cpu_guard_scales_out_after_three_datapoints_above_its_target_and_never_in() {
        let c = Config::for_capacity(200); // guard at 60 %, as modules/fleet
        let mut g = CpuGuard::default();
        assert_eq!(g.observe(&c, 75.0, 4, 4), None);
        assert_eq!(g.observe(&c, 75.0, 4, 4), None);
        // 4 servers at 75 % make 5 at 60 %.
        assert_eq!(g.observe(&c, 75.0, 4, 4), Some(5));
        // A datapoint at the target breaks the streak; a quiet fleet never scales in.
        assert_eq!(g.observe(&c, 60.0, 5, 5), None);
        for _ in 0..30 {
            assert_eq!(g.observe(&c, 5.0, 5, 5), None);
        }
        let mut off = Config::for_capacity(200);
        off.cpu_guard_percent = 0;
        let mut g = CpuGuard::default();
        for _ in 0..5 {
            assert_eq!(g.observe(&off, 99.0, 4, 4), None);
        }
    }

    #[test]
    fn target_tracking_scales_out_after_three_and_in_after_fifteen_datapoints() {
        let c = Config::for_capacity(200); // target 140, as modules/fleet
        let mut t = TargetTracking::default();
        assert_eq!(t.observe(&c, 900, 2, 2, 1), None);
        assert_eq!(t.observe(&c, 900, 2, 2, 1), None);
        assert_eq!(t.observe(&c, 900, 2, 2, 1), Some(7));
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
}
