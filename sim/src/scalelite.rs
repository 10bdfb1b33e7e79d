//! Scalelite's routing and load rules, as its source has them (master at 7498a81, Aug 2026;
//! `join`'s increment since #1050, 2024: `app/models/server.rb`, `lib/tasks/poll.rake`,
//! `BigBlueButtonApiController#create` and `#join`).
//!
//! - Enabled servers with a load sit in the sorted set `server_load`, cordoned ones in
//!   `cordoned_server_load`, disabled ones in neither. `create` takes the lowest score of
//!   `server_load` (Redis orders equal scores by member, so ties go to the smaller id); a meeting
//!   id already known stays on its server. There is no notion of a full server.
//! - `create` adds `1 x load_multiplier` to the chosen server's score (`ZADD XX INCR`: nothing if
//!   the server is not in `server_load`). `join` is refused when the meeting's server is offline
//!   or disabled (cordoned servers still take joins); otherwise it adds `1 x load_multiplier`
//!   the same way (`server.increment_load(1)`): each user who joins raises an enabled server's
//!   score before the next poll, a cordoned one's not at all.
//! - The poller (every `POLL_INTERVAL`, 60 s) sets each online server's load to the sum over its
//!   non-breakout meetings of `participantCount + moderatorCount`, at least
//!   `LOAD_MIN_USER_COUNT` (15) for a meeting created less than `LOAD_JOIN_BUFFER_TIME` (15 min)
//!   ago, times the multiplier. An offline server comes online after `SERVER_HEALTHY_THRESHOLD`
//!   (1) good polls. A cordoned server whose load reads zero becomes disabled.
//! - State changes (`Server#save!`): to cordoned, the load moves from `server_load` to
//!   `cordoned_server_load`; to enabled, back again; a disabled server has no load, so one
//!   enabled from disabled (or freshly added) is not routable until the next poll gives it one.
//! - The poller's write-back (`poll:servers`): it reads every server (`Server.all`), then polls
//!   each and `save!`s the object it read, which writes a changed load into the set of the
//!   state it *read*. A cordon made in between leaves the server in `server_load`, routed by
//!   `create` although its state says cordoned ([`Server::stale_server_load`]), until its
//!   next state change; an enable made in between of a server read cordoned with no user left is
//!   overwritten with `disabled`. [`Scalelite::read`] and [`Scalelite::save_polled`] play the two
//!   halves, [`Scalelite::poll_server`] both at once.

use std::collections::BTreeMap;

/// `LOAD_MIN_USER_COUNT` default.
pub const LOAD_MIN_USER_COUNT: u32 = 15;
/// `LOAD_JOIN_BUFFER_TIME` default (15 minutes).
pub const LOAD_JOIN_BUFFER_TIME_S: u64 = 15 * 60;
/// The poller's default interval (`POLL_INTERVAL`, rake task default 60 s).
pub const POLL_INTERVAL_S: u64 = 60;
/// `SERVER_HEALTHY_THRESHOLD` default.
pub const SERVER_HEALTHY_THRESHOLD: u32 = 1;

/// A server's administrative state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Enabled,
    Cordoned,
    Disabled,
}

/// One registered server.
#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    pub state: State,
    /// The score in `server_load` (enabled) or `cordoned_server_load` (cordoned); `None` when in
    /// neither.
    pub load: Option<f64>,
    pub online: bool,
    pub load_multiplier: f64,
    healthy_counter: u32,
    /// Its score in `server_load` while its state is not enabled: the poller's save of a view
    /// read before a cordon or a disable puts it there.
    pub stale_server_load: Option<f64>,
    /// Its score in `cordoned_server_load` while its state is not cordoned, the same way.
    pub stale_cordoned_load: Option<f64>,
}

/// A server as the poller's `Server.all` read it: what its `save!` writes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Read {
    pub state: State,
    pub load: Option<f64>,
    pub online: bool,
    pub load_multiplier: f64,
}

impl Server {
    /// Its score in `server_load`, the set `create` picks from.
    pub fn score(&self) -> Option<f64> {
        if self.state == State::Enabled {
            self.load
        } else {
            self.stale_server_load
        }
    }

    /// `ZADD server_load XX INCR`: raises its score by `by` when it is in the set.
    fn increment(&mut self, by: f64) {
        if self.state == State::Enabled {
            self.load = self.load.map(|l| l + by);
        } else {
            self.stale_server_load = self.stale_server_load.map(|l| l + by);
        }
    }
}

/// A meeting as the poller reads it from `getMeetings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolledMeeting {
    pub created_s: u64,
    /// `participantCount` (moderators included, as BBB counts them).
    pub participants: u32,
    /// `moderatorCount`.
    pub moderators: u32,
    pub breakout: bool,
}

/// Why a `create` or `join` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `create`: "Could not find any available servers."
    NoAvailableServer,
    /// `join`: the meeting's server is offline or disabled (`ServerDisabledError`).
    ServerUnavailable,
    /// `join`: Scalelite does not know the meeting.
    MeetingNotFound,
}

/// Scalelite's own settings that bear on routing (its environment; `Default` is Scalelite's
/// own, from its `config/application.rb` and README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `POLL_INTERVAL`: seconds between two polls of every server.
    pub poll_interval_s: u64,
    /// `LOAD_MIN_USER_COUNT`: the least a young meeting counts for.
    pub load_min_user_count: u32,
    /// `LOAD_JOIN_BUFFER_TIME`: how long a meeting stays young.
    pub load_join_buffer_s: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            poll_interval_s: POLL_INTERVAL_S,
            load_min_user_count: LOAD_MIN_USER_COUNT,
            load_join_buffer_s: LOAD_JOIN_BUFFER_TIME_S,
        }
    }
}

/// Scalelite's pool and meeting table.
#[derive(Clone, Debug, Default)]
pub struct Scalelite {
    servers: BTreeMap<String, Server>,
    meetings: BTreeMap<String, String>,
    settings: Settings,
}

impl Scalelite {
    pub fn new() -> Self {
        Self::default()
    }

    /// A Scalelite with `settings` in its environment.
    pub fn with_settings(settings: Settings) -> Self {
        Self {
            settings,
            ..Self::default()
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// `addServer`: disabled, offline, no load.
    pub fn add_server(&mut self, id: &str, load_multiplier: f64) {
        self.servers.insert(
            id.to_owned(),
            Server {
                state: State::Disabled,
                load: None,
                online: false,
                load_multiplier,
                healthy_counter: 0,
                stale_server_load: None,
                stale_cordoned_load: None,
            },
        );
    }

    /// `deleteServer` (meetings placed there are not forgotten, as in Scalelite).
    pub fn delete_server(&mut self, id: &str) {
        self.servers.remove(id);
    }

    pub fn server(&self, id: &str) -> Option<&Server> {
        self.servers.get(id)
    }

    /// `updateServer` with `state`: nothing when it is the same (`state_changed?` is false, the
    /// sets stay as they are); otherwise the server leaves every set but its new state's, which
    /// it enters with the load it had or, without one (a disabled server has none), its score in
    /// the other set (`self.load ||= zscore(...)`), or the stale entry it has in the new one.
    pub fn set_state(&mut self, id: &str, state: State) {
        let Some(s) = self.servers.get_mut(id) else {
            return;
        };
        if s.state == state {
            return;
        }
        let had = if s.state == State::Disabled {
            None
        } else {
            s.load
        };
        let (in_server_load, in_cordoned) = (s.stale_server_load, s.stale_cordoned_load);
        s.load = match state {
            State::Disabled => None,
            State::Enabled => had.or(in_cordoned).or(in_server_load),
            State::Cordoned => had.or(in_server_load).or(in_cordoned),
        };
        s.stale_server_load = None;
        s.stale_cordoned_load = None;
        s.state = state;
    }

    /// `updateServer` with `load_multiplier` (non-zero): stored at once, so the next `create`'s
    /// increment uses it; the score itself changes only at the next poll (`save!` writes the
    /// multiplier, not the load).
    pub fn set_load_multiplier(&mut self, id: &str, load_multiplier: f64) {
        if let Some(s) = self.servers.get_mut(id) {
            if load_multiplier > 0.0 && load_multiplier.is_finite() {
                s.load_multiplier = load_multiplier;
            }
        }
    }

    /// Whether the server is in `server_load` (what `create` chooses from).
    fn routable(s: &Server) -> bool {
        s.score().is_some()
    }

    /// `Server.find_available` without tags: the lowest score, ties to the smaller id.
    pub fn find_available(&self) -> Option<&str> {
        let mut best: Option<(&str, f64)> = None;
        for (id, s) in &self.servers {
            if let Some(load) = s.score() {
                // BTreeMap iterates ids in order, so a strict `<` keeps the smaller id on ties.
                if best.is_none_or(|(_, b)| load < b) {
                    best = Some((id, load));
                }
            }
        }
        best.map(|(id, _)| id)
    }

    /// How many other servers `find_available` would choose before `id` (routable, with a
    /// lower score, ties to the smaller id); every routable one when `id` is not routable.
    pub fn lighter_routable(&self, id: &str) -> u32 {
        let own = self.servers.get(id).and_then(Server::score);
        self.servers
            .iter()
            .filter(|(other, s)| other.as_str() != id && Self::routable(s))
            .filter(|(other, s)| match (own, s.score()) {
                (Some(mine), Some(theirs)) => {
                    theirs < mine || (theirs == mine && other.as_str() < id)
                }
                _ => true,
            })
            .count() as u32
    }

    /// `create`: places the meeting (or finds where it already is) and adds `1 x multiplier`.
    pub fn create(&mut self, meeting_id: &str) -> Result<String, Refusal> {
        let server_id = match self.meetings.get(meeting_id) {
            Some(id) => id.clone(),
            None => {
                let id = self
                    .find_available()
                    .ok_or(Refusal::NoAvailableServer)?
                    .to_owned();
                self.meetings.insert(meeting_id.to_owned(), id.clone());
                id
            }
        };
        if let Some(s) = self.servers.get_mut(&server_id) {
            s.increment(s.load_multiplier);
        }
        Ok(server_id)
    }

    /// `users` `join`s of one meeting: refused when its server is offline or disabled; otherwise
    /// each adds `1 x multiplier` to the server's score when it is in `server_load`.
    pub fn join(&mut self, meeting_id: &str, users: u32) -> Result<&str, Refusal> {
        let server_id = self
            .meetings
            .get(meeting_id)
            .ok_or(Refusal::MeetingNotFound)?;
        match self.servers.get_mut(server_id) {
            Some(s) if s.online && s.state != State::Disabled => {
                s.increment(f64::from(users) * s.load_multiplier);
                Ok(server_id)
            }
            _ => Err(Refusal::ServerUnavailable),
        }
    }

    /// Scalelite forgets a meeting (its meeting poller finds it ended).
    pub fn forget_meeting(&mut self, meeting_id: &str) {
        self.meetings.remove(meeting_id);
    }

    /// The load the poller computes from a `getMeetings` answer at `now_s` (before the
    /// multiplier).
    pub fn attendees_load(&self, now_s: u64, meetings: &[PolledMeeting]) -> u32 {
        let Settings {
            load_min_user_count,
            load_join_buffer_s,
            ..
        } = self.settings;
        meetings
            .iter()
            .filter(|m| !m.breakout)
            .map(|m| {
                let actual = m.participants + m.moderators;
                // created_time > LOAD_JOIN_BUFFER_TIME.ago
                if m.created_s + load_join_buffer_s > now_s {
                    actual.max(load_min_user_count)
                } else {
                    actual
                }
            })
            .sum()
    }

    /// One poll of one server that answered `getMeetings` with `meetings`, with nothing in
    /// between its read and its save.
    pub fn poll_server(&mut self, id: &str, now_s: u64, meetings: &[PolledMeeting]) {
        if let Some(read) = self.read(id) {
            self.save_polled(id, &read, now_s, meetings);
        }
    }

    /// The first half of a poll of `id`: `Server.all`'s read.
    pub fn read(&self, id: &str) -> Option<Read> {
        self.servers.get(id).map(|s| Read {
            state: s.state,
            load: if s.state == State::Disabled {
                None
            } else {
                s.load
            },
            online: s.online,
            load_multiplier: s.load_multiplier,
        })
    }

    /// The second half: the poller's `save!` of `read`, with the load from `meetings`. `true`
    /// when the save left the server in `server_load` against its state.
    pub fn save_polled(
        &mut self,
        id: &str,
        read: &Read,
        now_s: u64,
        meetings: &[PolledMeeting],
    ) -> bool {
        let attendees = self.attendees_load(now_s, meetings);
        let Some(s) = self.servers.get_mut(id) else {
            return false;
        };
        let total = f64::from(attendees) * read.load_multiplier;
        if !read.online {
            s.healthy_counter += 1;
            if s.healthy_counter < SERVER_HEALTHY_THRESHOLD {
                return false;
            }
            s.healthy_counter = 0;
        }
        s.online = true;
        if read.state == State::Cordoned && total == 0.0 {
            // `state_changed?`: written, and `handle_disabled_state` empties every set.
            s.state = State::Disabled;
            s.load = None;
            s.stale_server_load = None;
            s.stale_cordoned_load = None;
            return false;
        }
        if read.load == Some(total) {
            return false; // `load_changed?` is false: no set is written.
        }
        match (read.state, s.state) {
            (State::Enabled, State::Enabled) | (State::Cordoned, State::Cordoned) => {
                s.load = Some(total)
            }
            (State::Enabled, _) => {
                s.stale_server_load = Some(total);
                return true;
            }
            (State::Cordoned, _) => s.stale_cordoned_load = Some(total),
            (State::Disabled, _) => {} // no load is written
        }
        false
    }
}

#[cfg(test)]
#[path = "scalelite_tests.rs"]
mod tests;
