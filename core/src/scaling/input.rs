//! What the decision rule reads: the group's desired capacity and one view per server.

use crate::aws::LifecycleState;
use crate::scalelite::ServerState;
use serde::{Deserialize, Serialize};

/// Where an instance is in its Auto Scaling lifecycle, as far as the rule cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// `Pending`, `Pending:Wait`, `Pending:Proceed`: launched, counted in the group's
    /// capacity, not yet serving.
    Launching,
    /// `InService`: serving; the only phase the rule cordons, enables or unprotects.
    InService,
    /// `Terminating*`, `Terminated`: leaving; not counted.
    Leaving,
    /// Standby, detaching, quarantined, warm pool...: not counted, never touched.
    Other,
}

impl From<&LifecycleState> for Phase {
    fn from(s: &LifecycleState) -> Self {
        match s {
            LifecycleState::Pending
            | LifecycleState::PendingWait
            | LifecycleState::PendingProceed => Self::Launching,
            LifecycleState::InService => Self::InService,
            s if s.is_terminating() => Self::Leaving,
            _ => Self::Other,
        }
    }
}

/// The server's state in Scalelite (`Unregistered` when the pool has no server for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolState {
    Enabled,
    Cordoned,
    Disabled,
    Unregistered,
}

impl From<ServerState> for PoolState {
    fn from(s: ServerState) -> Self {
        match s {
            ServerState::Enabled => Self::Enabled,
            ServerState::Cordoned => Self::Cordoned,
            ServerState::Disabled => Self::Disabled,
        }
    }
}

impl From<Option<ServerState>> for PoolState {
    fn from(s: Option<ServerState>) -> Self {
        s.map_or(Self::Unregistered, Self::from)
    }
}

/// One server of the fleet: its group instance joined with its Scalelite registration and BBB's
/// own `getMeetings` counts. Built with [`ServerView::new`], then its counts set (fields may be
/// added; the constructor stays).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerView {
    pub instance_id: String,
    pub phase: Phase,
    /// Scale-in protection as the group reports it.
    pub protected: bool,
    pub pool: PoolState,
    /// Participants (attendees, moderators included) over the server's meetings, breakout rooms
    /// included.
    pub participants: u32,
    /// Meetings BBB lists (created-but-unjoined and breakout rooms included).
    pub meetings: u32,
    /// Recordings still in BBB's pipeline or not yet copied by Scalelite's post-publish step
    /// (no `sender.done`): a server with any must not lose its protection.
    pub recordings_pending: u32,
    /// Launch time, seconds since the Unix epoch (a tie-break: newer servers leave first).
    pub launched_at_s: u64,
    /// Meetings created less than Scalelite's `LOAD_JOIN_BUFFER_TIME` (15 min) ago: still
    /// filling up (`createTime` in `getMeetings`).
    #[serde(default)]
    pub young_meetings: u32,
    /// Participants already in those young meetings (part of `participants`).
    #[serde(default)]
    pub young_participants: u32,
    /// Meetings created at least [`OLD_MEETING_S`] ago (rooms left open for hours): they pin
    /// the server for a long while yet, so the surplus ranking keeps such a server (filling it)
    /// rather than cordoning it to drain for hours.
    #[serde(default)]
    pub old_meetings: u32,
    /// Scalelite lists no load for it (added, or enabled from disabled, since its poller last
    /// read it): enabled or not, it takes no `create` until the next poll, so the rule's floor
    /// does not count it as routable.
    #[serde(default)]
    pub awaiting_poll: bool,
}

impl ServerView {
    /// A server with no participants, meetings or pending recordings, unprotected.
    pub fn new(
        instance_id: impl Into<String>,
        phase: Phase,
        pool: PoolState,
        launched_at_s: u64,
    ) -> Self {
        Self {
            instance_id: instance_id.into(),
            phase,
            protected: false,
            pool,
            participants: 0,
            meetings: 0,
            recordings_pending: 0,
            launched_at_s,
            young_meetings: 0,
            young_participants: 0,
            old_meetings: 0,
            awaiting_poll: false,
        }
    }

    /// A server as every hook sees it (ARCHITECTURE.md, "Consolidation"): its phase and
    /// protection from `DescribeAutoScalingGroups`, its state and `load` from Scalelite's
    /// `getServers`. Its participants are the load over its multiplier (the poller's attendee
    /// count, with Scalelite's own floor for young meetings and the increments of each `create`
    /// and `join` since the last poll). Its meetings, their ages, its recordings and its launch
    /// time are in neither answer and read as none, so that every hook ranks the fleet alike.
    /// A registered server without a load is awaiting Scalelite's next poll.
    pub fn seen_by_hooks(
        instance_id: impl Into<String>,
        phase: Phase,
        protected: bool,
        pool: PoolState,
        load: Option<f64>,
        load_multiplier: f64,
    ) -> Self {
        let mut view = Self::new(instance_id, phase, pool, 0);
        view.protected = protected;
        view.awaiting_poll = pool != PoolState::Unregistered && load.is_none();
        view.participants = load
            .map(|l| l / load_multiplier.max(f64::MIN_POSITIVE))
            .map_or(0, |p| p.round().clamp(0.0, f64::from(u32::MAX)) as u32);
        view
    }

    /// Whether Scalelite would route a `create` here now: in service, enabled, and with a load
    /// (`find_available` reads only the enabled servers' loads).
    pub fn takes_creates_now(&self) -> bool {
        self.phase == Phase::InService && self.pool == PoolState::Enabled && !self.awaiting_poll
    }

    /// The participants the server is heading for: its participants, each young meeting
    /// counted as at least `policy.young_meeting_participants` (as Scalelite's poller counts a
    /// young meeting as at least `LOAD_MIN_USER_COUNT`, with the fleet's own expectation).
    pub fn predicted_participants(&self, policy: &Policy) -> u32 {
        let settled = self.participants.saturating_sub(self.young_participants);
        let young = self.young_participants.max(
            self.young_meetings
                .saturating_mul(policy.young_meeting_participants),
        );
        settled.saturating_add(young)
    }

    /// No meeting and no recording in flight: the server can leave without losing anything.
    pub fn is_idle(&self) -> bool {
        self.meetings == 0 && self.participants == 0 && self.recordings_pending == 0
    }
}

/// The fleet as one hook (or the simulator) sees it at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetView {
    /// The group's desired capacity (what scaling policies and schedules ask for).
    pub desired_capacity: u32,
    pub servers: Vec<ServerView>,
}

/// The rule's parameters. All counts are participants on one server. Built with
/// [`Policy::for_capacity`] (or `default()`), then fields adjusted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Policy {
    /// What one server carries before audio degrades (BBB's guidance: about 200 users).
    pub capacity_participants: u32,
    /// Steering: an enabled server with at least this many participants is cordoned so that new
    /// meetings go elsewhere (Scalelite cannot know a meeting's size when it places it). `None`
    /// turns steering off.
    pub steer_cordon_at: Option<u32>,
    /// Steering: a server cordoned for steering is enabled again below this many participants.
    pub steer_enable_below: u32,
    /// Surplus choice hysteresis: a cordoned server keeps its place in the surplus unless an
    /// enabled server has more than this many participants fewer.
    pub surplus_hysteresis: u32,
    /// Steering never leaves fewer enabled servers than this.
    pub min_enabled: u32,
    /// What a meeting still filling up is expected to reach (its size is unknown when
    /// Scalelite places it): steering and the surplus ranking count each young meeting as at
    /// least this many participants, so a server that just took a burst of `create`s is steered
    /// away from before its participants arrive. 0 counts only the participants present.
    #[serde(default)]
    pub young_meeting_participants: u32,
    /// Packing: of the servers with room, only this many of the fullest stay enabled (the
    /// rest are cordoned as reserve and enabled as those fill), so new meetings fill servers
    /// instead of spreading over all of them as Scalelite's least-loaded choice does, and the
    /// emptier servers drain. `None`: every server with room stays enabled.
    #[serde(default)]
    pub pack_enabled: Option<u32>,
    /// Surplus against the predicted need: the rule never counts as surplus the servers the
    /// fleet's predicted participants need at this many per server (`ceil(sum of
    /// predicted_participants / n)`), whatever the group's desired capacity. A burst of `create`s
    /// lifts the predicted participants (each young meeting counted as
    /// `young_meeting_participants`) long before the participants arrive and the group's
    /// metric follows, so cordoned surplus servers are enabled again at the rule's next pass
    /// instead of leaving the burst to the few servers still enabled. `None`: the desired
    /// capacity alone sets the surplus.
    #[serde(default)]
    pub surplus_keeps_predicted: Option<u32>,
    /// Surplus choice: servers pinned by old meetings ([`ServerView::old_meetings`]) leave
    /// after every other candidate (an idle one still leaves first): cordoned, they would drain
    /// for hours; kept, they take new meetings while servers whose meetings end sooner leave.
    /// Off by default: it needs every server's meeting ages, and each hook sees only its own
    /// BBB (Scalelite's `getServers` has loads, not ages), so the hooks cannot run it; the
    /// simulator can (`--set keep_pinned=true`).
    #[serde(default)]
    pub keep_pinned: bool,
    /// Spreading (`scaling::load_multipliers`): the participants one `create` is expected to
    /// take of a server's free room. Each server's Scalelite `load_multiplier` is set so that
    /// Scalelite's least-loaded choice gives it about `free room / n` of a burst's `create`s.
    /// `None`: multipliers are left alone.
    #[serde(default)]
    pub spread_meeting_participants: Option<u32>,
}

impl Policy {
    /// Defaults for a server of `capacity` participants: steer away at 80 % (BBB: audio degrades
    /// at 80 % CPU), enable again below 60 %, hysteresis a tenth of capacity, one server always
    /// enabled, a young meeting expected to reach half a server (so a server is steered away from
    /// once it holds two meetings still filling up); measured with
    /// `scripts/bench-fleet-efficiency` (`sim/FINDINGS.md`). Only levers the hooks can feed are
    /// on: `keep_pinned` is off (see its field).
    ///
    /// Spreading by `load_multiplier` is off: Scalelite prices a `create` at `1 x multiplier`
    /// but a polled server at `attendees x multiplier`, so the low multiplier that makes a busy
    /// server's load read "full" also makes each `create` almost free for it, and inside one
    /// poll window a burst larger than the fresh servers' room goes mostly to the fullest
    /// server (review of this round; `spread_tests::a_burst_past_the_level_favours_the_busy_server`).
    pub fn for_capacity(capacity: u32) -> Self {
        Self {
            capacity_participants: capacity,
            steer_cordon_at: Some(capacity.saturating_mul(4) / 5),
            steer_enable_below: capacity.saturating_mul(3) / 5,
            surplus_hysteresis: capacity / 10,
            min_enabled: 1,
            young_meeting_participants: capacity / 2,
            pack_enabled: None,
            surplus_keeps_predicted: None,
            spread_meeting_participants: None,
            keep_pinned: false,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::for_capacity(DEFAULT_CAPACITY_PARTICIPANTS)
    }
}

/// A meeting this old (two hours: longer than any lecture block) counts in
/// [`ServerView::old_meetings`].
pub const OLD_MEETING_S: u64 = 2 * 3600;

/// BBB's FAQ: a server takes about 200 concurrent users.
pub const DEFAULT_CAPACITY_PARTICIPANTS: u32 = 200;
