//! One policy's run over a trace, second by second (periodic work on its own period).

use crate::asg::{Group, GroupEvent, Lifecycle};
use crate::breakdown::{OverCause, ServerUse};
use crate::policy::{Config, CpuAlarms, Kind, TargetTracking};
use crate::report::{Accounting, Report};
use crate::scalelite::{PolledMeeting, Read, Refusal, Scalelite, State};
use crate::trace::MeetingSpec;
use std::collections::BTreeMap;

mod hooks;
mod write_back;

/// The group's own loop and the protect timer run this often (seconds).
const GROUP_STEP_S: u64 = 10;
/// Joins are played in steps of this many seconds (Scalelite counts each one as it comes).
const JOIN_STEP_S: u64 = 5;

#[derive(Clone, Debug, Default)]
struct Srv {
    /// Meetings placed here and not yet ended by BBB.
    meetings: Vec<usize>,
    /// Recordings queued or in processing: (done at, meeting).
    recordings: Vec<(u64, usize)>,
    /// BBB's recording workers, which process them one at a time each.
    rap: crate::rap::RecordingQueue,
    /// Draining (terminating lifecycle hook): consecutive idle reads.
    draining: Option<u32>,
    /// The second of each `rule_interval_s` at which this server's hook consolidates.
    consolidation_phase_s: u64,
    /// When its hook first read it without a meeting since it last hosted one.
    no_meeting_since: Option<u64>,
    /// Since when a cordon its hook made holds (`write_back.rs`).
    cordoned_since: Option<u64>,
}

impl Srv {
    /// A server as it goes in service: with the recording workers its image runs.
    fn new(c: &Config, kind: Kind) -> Self {
        Self {
            rap: crate::rap::RecordingQueue::new(c.recording_workers_of(kind)),
            ..Self::default()
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct MeetingRt {
    placed: bool,
    dropped: bool,
}

pub struct World<'a> {
    kind: Kind,
    c: &'a Config,
    specs: &'a [MeetingSpec],
    group: Group,
    pool: Scalelite,
    servers: BTreeMap<String, Srv>,
    meetings: Vec<MeetingRt>,
    cpu: CpuAlarms,
    tt: TargetTracking,
    cpu_guard: crate::policy::CpuGuard,
    /// Fleet participants per minute (what the hook's metric shows), for the forecast.
    history: Vec<u32>,
    acc: Accounting,
    /// When Scalelite's poller next polls.
    next_poll_s: u64,
    /// The poll under way: each server as `Server.all` read it and its `getMeetings`, saved at
    /// `saves_at` (`write_back.rs`).
    pending_saves: Vec<(String, Read, Vec<PolledMeeting>)>,
    saves_at: u64,
    /// The trace's last `create`: after it the trace has no demand, and a forecast would replay
    /// the earlier days' into the hours played out for expiries and recordings (a day that
    /// the trace leaves empty, which a real fleet's next day is not); none is made there.
    forecast_until_s: u64,
}

impl<'a> World<'a> {
    pub fn new(kind: Kind, c: &'a Config, specs: &'a [MeetingSpec]) -> Self {
        let mut group = Group::new(c.min_size, c.max_size, c.initial, c.launch_s, c.seed);
        group.new_instances_protected = kind.consolidates() && c.protect_new_instances;
        group.pending_protected = c.pending_protected;
        let mut pool = if kind.consolidates() {
            Scalelite::with_settings(c.scalelite)
        } else {
            Scalelite::new()
        };
        let mut servers = BTreeMap::new();
        for _ in 0..c.initial.clamp(c.min_size, c.max_size) {
            let id = group.seed_in_service(0);
            pool.add_server(&id, 1.0);
            pool.set_state(&id, State::Enabled);
            pool.poll_server(&id, 0, &[]);
            servers.insert(id, Srv::new(c, kind));
        }
        Self {
            kind,
            c,
            specs,
            group,
            pool,
            servers,
            meetings: vec![MeetingRt::default(); specs.len()],
            cpu: CpuAlarms::default(),
            tt: TargetTracking::default(),
            cpu_guard: crate::policy::CpuGuard::default(),
            history: c.prior_demand.clone(),
            acc: Accounting::default(),
            next_poll_s: c.poll_phase_s,
            pending_saves: Vec::new(),
            saves_at: 0,
            forecast_until_s: specs.iter().map(|m| m.start_s).max().unwrap_or(0),
        }
    }

    /// Plays the trace until `horizon_s` and reports.
    pub fn run(mut self, horizon_s: u64) -> Report {
        let mut next = 0usize;
        for t in 0..horizon_s {
            self.save_due(t);
            if t % GROUP_STEP_S == 0 {
                self.group_step(t);
            }
            while next < self.specs.len() && self.specs[next].start_s <= t {
                self.create(next);
                next += 1;
            }
            if t.is_multiple_of(JOIN_STEP_S) {
                self.joins(t);
            }
            if t % self.c.protect_interval_s.max(1) == 0 {
                self.protect(t);
            }
            if t % 60 == 0 {
                self.minute(t);
            } else if self.poll_due(t) {
                self.poll(t);
            }
            if self.kind.consolidates() {
                self.consolidate(t);
                if self.c.self_steer_interval_s > 0 && t % self.c.self_steer_interval_s == 0 {
                    self.steer_self(t);
                }
            }
        }
        self.acc.meetings_dropped = self.dropped();
        self.acc.recordings_unfinished = self
            .servers
            .values()
            .flat_map(|s| &s.recordings)
            .filter(|(done, _)| *done > horizon_s)
            .count() as u64;
        self.acc.finish(self.kind, self.c, self.specs, horizon_s)
    }

    fn group_step(&mut self, t: u64) {
        for sch in &self.c.schedules {
            if t == sch.up_s {
                self.group.min = sch.capacity.min(self.group.max);
                self.group.set_desired(sch.capacity);
            } else if t == sch.down_s {
                self.group.min = self.c.min_size;
                self.group.set_desired(self.c.min_size);
            }
        }
        for ev in self.group.step(t) {
            match ev {
                GroupEvent::Launched(_) => {}
                GroupEvent::InService(id) => {
                    // The launch registered it, completed the launching action, and enables it
                    // once in service (and protected).
                    self.pool.add_server(&id, 1.0);
                    self.pool.set_state(&id, State::Enabled);
                    let srv = Srv {
                        consolidation_phase_s: self.first_pass_phase(t),
                        ..Srv::new(self.c, self.kind)
                    };
                    self.servers.insert(id, srv);
                }
                // Terminated while launching: nothing was registered or placed there yet.
                GroupEvent::Terminating(id) if !self.servers.contains_key(&id) => {
                    self.terminate(&id, t)
                }
                GroupEvent::Terminating(id) => {
                    self.count_caught(&id, t);
                    self.start_termination(&id, t);
                }
            }
        }
    }

    /// The group chose `id` for termination while meetings ran there (protection is set
    /// from a read every protect pass, so one placed since the last read is caught).
    fn count_caught(&mut self, id: &str, t: u64) {
        if let Some(s) = self.servers.get(id) {
            let (meetings, _, _) = self.activity(s, t);
            self.acc.caught_by_scale_in += u64::from(meetings);
        }
    }

    fn start_termination(&mut self, id: &str, t: u64) {
        match self.kind {
            Kind::Cpu => self.terminate(id, t),
            Kind::Target | Kind::Consolidating | Kind::ConsolidatingOnly => {
                self.cordon(id, t);
                if let Some(s) = self.servers.get_mut(id) {
                    s.draining = Some(0);
                }
            }
        }
    }

    fn create(&mut self, m: usize) {
        match self.pool.create(&format!("m{m}")) {
            Ok(server) => {
                self.meetings[m].placed = true;
                if self
                    .pool
                    .server(&server)
                    .is_some_and(|s| s.state != State::Enabled)
                {
                    self.acc.routed_while_cordoned += 1;
                }
                match self.servers.get_mut(&server) {
                    Some(s) => s.meetings.push(m),
                    None => self.meetings[m].dropped = true,
                }
            }
            Err(Refusal::NoAvailableServer) => self.acc.creates_refused += 1,
            Err(_) => {}
        }
    }

    /// Listed meetings and pending recordings of a server at `t`.
    fn activity(&self, s: &Srv, t: u64) -> (u32, u32, u32) {
        let mut meetings = 0;
        let mut participants = 0;
        for &m in &s.meetings {
            if self.specs[m].expire_s() > t {
                meetings += 1;
                participants += self.specs[m].participants_at(t);
            }
        }
        let recordings = s.recordings.iter().filter(|(done, _)| *done > t).count() as u32;
        (meetings, participants, recordings)
    }

    /// Everything that runs once a minute: BBB's expiry and recordings, the drain, Scalelite's
    /// poller, joins, the scaling policy, the rule, accounting.
    fn minute(&mut self, t: u64) {
        self.expire(t);
        self.drain(t);
        if self.poll_due(t) {
            self.poll(t);
        }
        let fleet = self.observe(t);
        self.scale(t, &fleet);
    }

    /// Whether Scalelite's poller polls at `t`: first at its phase, then `POLL_INTERVAL` after
    /// the end of each `poll:all` ([`Config::poll_duration_s`] after its start).
    fn poll_due(&self, t: u64) -> bool {
        t >= self.next_poll_s
    }

    fn expire(&mut self, t: u64) {
        let specs = self.specs;
        let c = self.c;
        let mut forget = Vec::new();
        for s in self.servers.values_mut() {
            s.meetings.retain(|&m| {
                let spec = &specs[m];
                if spec.expire_s() > t {
                    return true;
                }
                if spec.recorded() && spec.participants > 0 {
                    let done = s
                        .rap
                        .schedule(spec.expire_s(), c.recording_processing_s(spec.duration_s));
                    s.recordings.push((done, m));
                }
                forget.push(m);
                false
            });
            s.recordings.retain(|(done, _)| *done > t);
        }
        for m in forget {
            self.pool.forget_meeting(&format!("m{m}"));
        }
    }

    fn drain(&mut self, t: u64) {
        // (id, Some(idle reads so far)) to keep waiting, (id, None) to finish.
        let mut updates: Vec<(String, Option<u32>)> = Vec::new();
        for (id, s) in &self.servers {
            let Some(reads) = s.draining else {
                continue;
            };
            let (meetings, _, recordings) = self.activity(s, t);
            let reads = if meetings == 0 && recordings == 0 {
                reads + 1
            } else {
                0
            };
            let since = match self.group.instance(id).map(|i| i.lifecycle) {
                Some(Lifecycle::Terminating { since_s }) => since_s,
                _ => t,
            };
            let finished = reads >= 2 || t >= since + self.c.drain_max_wait_s;
            updates.push((id.clone(), (!finished).then_some(reads)));
        }
        for (id, reads) in updates {
            match reads {
                Some(r) => {
                    if let Some(s) = self.servers.get_mut(&id) {
                        s.draining = Some(r);
                    }
                }
                None => self.terminate(&id, t),
            }
        }
    }

    /// The instance is gone: what still ran there is dropped, unfinished recordings are lost.
    fn terminate(&mut self, id: &str, t: u64) {
        if let Some(s) = self.servers.remove(id) {
            for &m in &s.meetings {
                let spec = &self.specs[m];
                if spec.expire_s() > t {
                    if spec.leave_s() > t && spec.participants > 0 {
                        self.meetings[m].dropped = true;
                    }
                    if spec.recorded() && spec.participants > 0 {
                        self.acc.recordings_lost += 1;
                    }
                }
                self.pool.forget_meeting(&format!("m{m}"));
            }
            self.acc.recordings_lost += s.recordings.iter().filter(|(d, _)| *d > t).count() as u64;
        }
        self.pool.delete_server(id);
        self.group.remove(id);
    }

    fn poll(&mut self, t: u64) {
        self.next_poll_s = t + self.c.poll_duration_s + self.pool.settings().poll_interval_s.max(1);
        let mut polled = Vec::with_capacity(self.servers.len());
        for (id, s) in &self.servers {
            let ms: Vec<PolledMeeting> = s
                .meetings
                .iter()
                .filter(|&&m| self.specs[m].expire_s() > t)
                .map(|&m| {
                    let p = self.specs[m].participants_at(t);
                    PolledMeeting {
                        created_s: self.specs[m].start_s,
                        participants: p,
                        moderators: u32::from(p > 0),
                        breakout: false,
                    }
                })
                .collect();
            polled.push((id.clone(), ms));
        }
        self.poll_all(t, polled);
    }

    /// Users who joined since the last step (`JOIN_STEP_S`) go through Scalelite's `join`: each
    /// raises an enabled server's score; refused when the meeting's server is disabled, the
    /// meeting is dropped for them.
    fn joins(&mut self, t: u64) {
        let mut refused = Vec::new();
        for s in self.servers.values() {
            for &m in &s.meetings {
                let spec = &self.specs[m];
                let users = spec
                    .participants_at(t)
                    .saturating_sub(spec.participants_at(t.saturating_sub(JOIN_STEP_S)));
                if users > 0 && self.pool.join(&format!("m{m}"), users).is_err() {
                    refused.push(m);
                }
            }
        }
        for m in refused {
            self.meetings[m].dropped = true;
        }
    }
}

/// What the minute's observation gives the policies.
pub(crate) struct Fleet {
    participants: u32,
    reporting: u32,
    min_cpu: Option<f64>,
    /// `ASGAverageCPUUtilization`'s sum and count: servers in service past their warm-up.
    cpu_sum: f64,
    cpu_servers: u32,
}

impl World<'_> {
    fn observe(&mut self, t: u64) -> Fleet {
        let mut fleet = Fleet {
            participants: 0,
            reporting: 0,
            min_cpu: None,
            cpu_sum: 0.0,
            cpu_servers: 0,
        };
        let mut per_server = Vec::with_capacity(self.servers.len());
        for (id, s) in &self.servers {
            let (meetings, participants, _) = self.activity(s, t);
            per_server.push((participants, meetings));
            fleet.participants += participants;
            let life = self.group.instance(id).map(|i| i.lifecycle);
            if participants > self.c.capacity && meetings > 1 {
                let live: Vec<(u64, u32)> = s
                    .meetings
                    .iter()
                    .map(|&m| &self.specs[m])
                    .filter(|m| m.expire_s() > t)
                    .map(|m| (m.start_s, m.participants))
                    .collect();
                let cause = OverCause::classify(self.c.capacity, &live);
                self.acc.breakdown.over(cause, participants);
            }
            let state = self.pool.server(id).map(|p| p.state);
            self.acc.breakdown.server_minute(match life {
                Some(Lifecycle::Terminating { .. }) => ServerUse::Draining,
                _ if state != Some(State::Enabled) => ServerUse::Cordoned,
                _ if meetings == 0 => ServerUse::Idle,
                _ => ServerUse::Serving,
            });
            if matches!(
                life,
                Some(Lifecycle::InService | Lifecycle::Terminating { .. })
            ) {
                fleet.reporting += 1;
            }
            if life == Some(Lifecycle::InService) {
                let cpu = self.c.cpu_percent(participants);
                fleet.min_cpu = Some(fleet.min_cpu.map_or(cpu, |m: f64| m.min(cpu)));
                let warming = self
                    .group
                    .instance(id)
                    .is_some_and(|i| self.within_warm_up(i, t));
                if !warming {
                    fleet.cpu_sum += cpu;
                    fleet.cpu_servers += 1;
                }
            }
        }
        self.history.push(fleet.participants);
        let in_service = self
            .group
            .instances
            .iter()
            .filter(|i| i.lifecycle == Lifecycle::InService)
            .count() as u32;
        let launching = self
            .group
            .instances
            .iter()
            .filter(|i| !self.servers.contains_key(&i.id))
            .count();
        for _ in 0..launching {
            self.acc.breakdown.server_minute(ServerUse::Launching);
        }
        self.acc.minute(
            self.c,
            self.group.instances.len() as u32,
            in_service,
            &per_server,
        );
        fleet
    }

    fn scale(&mut self, t: u64, fleet: &Fleet) {
        let desired = self.group.desired();
        match self.kind {
            Kind::Cpu => {
                if let Some(d) = self.cpu.observe(self.c, t, fleet.min_cpu, desired) {
                    self.group.set_desired(d);
                }
            }
            Kind::Target | Kind::ConsolidatingOnly => {
                // The group's default instance warm-up blocks a policy's scale-in.
                let floor = if self.warming(t) { desired } else { 0 };
                let tracked =
                    self.tt
                        .observe(self.c, fleet.participants, fleet.reporting, desired, floor);
                // (c') is (c) without the forecast: the module's CPU guard too.
                let guard = if self.kind == Kind::ConsolidatingOnly {
                    self.guard(fleet, desired)
                } else {
                    None
                };
                if let Some(d) = tracked.max(guard) {
                    self.group.set_desired(d);
                }
            }
            Kind::Consolidating => {
                // Target tracking, and predictive scaling's scale-out at each hour's action
                // time (modules/fleet): the group keeps the larger.
                let minute = self.history.len() - 1;
                let forecasting = t < self.forecast_until_s;
                let floor = if self.warming(t) {
                    desired
                } else if self.c.forecast_holds_hour && forecasting {
                    crate::predictive::hour_floor(self.c, &self.history, minute)
                } else {
                    0
                };
                let d = self
                    .tt
                    .observe(self.c, fleet.participants, fleet.reporting, desired, floor)
                    .unwrap_or(desired)
                    .max(floor)
                    .max(self.guard(fleet, desired).unwrap_or(0));
                let forecast = crate::predictive::scale_out_at(self.c, &self.history, minute)
                    .filter(|_| forecasting);
                self.group.set_desired(forecast.map_or(d, |f| d.max(f)));
            }
        }
    }

    /// `modules/fleet`'s CPU guard on this minute's average CPU: the capacity it scales out to.
    fn guard(&mut self, fleet: &Fleet, desired: u32) -> Option<u32> {
        let average = fleet.cpu_sum / f64::from(fleet.cpu_servers.max(1));
        self.cpu_guard
            .observe(self.c, average, fleet.cpu_servers, desired)
    }

    /// Whether an instance is launching or within the group's default instance warm-up since it
    /// went in service: AWS "blocks scale-in activities initiated by scaling policies until the
    /// instances finish warming up" (EC2 Auto Scaling, default instance warmup;
    /// `modules/fleet`'s `instance_warmup_seconds`).
    fn warming(&self, t: u64) -> bool {
        self.group.instances.iter().any(|i| match i.lifecycle {
            Lifecycle::Pending { .. } => true,
            Lifecycle::InService => self.within_warm_up(i, t),
            Lifecycle::Terminating { .. } => false,
        })
    }

    /// Whether `i`, in service, is still within the warm-up since it went in service at `t`.
    fn within_warm_up(&self, i: &crate::asg::Instance, t: u64) -> bool {
        t < i.launched_s + self.c.launch_s + self.c.instance_warmup_s
    }

    /// Meetings dropped so far (placed, then lost mid-flight).
    pub fn dropped(&self) -> u64 {
        self.meetings
            .iter()
            .filter(|m| m.placed && m.dropped)
            .count() as u64
    }
}
