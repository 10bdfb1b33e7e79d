//! Scalelite's poller (master at 7498a81: `lib/tasks/poll.rake` `poll:servers`,
//! `app/models/server.rb` `Server.all`, `save!` and `handle_*_state`):
//!
//! * The load: over the server's non-breakout meetings, participants + moderators, a meeting
//!   younger than `LOAD_JOIN_BUFFER_TIME` (15 min) counting as at least `LOAD_MIN_USER_COUNT`
//!   (15), times the multiplier. A cordoned server whose load reads zero becomes disabled.
//! * The write-back: `poll:servers` reads every server with `Server.all` first, then, for each,
//!   asks its BBB for `getMeetings` and `save!`s the object it read. `save!` writes only what
//!   changed *on that object*: its state only when the poll itself changed it (cordoned to
//!   disabled), and its load into the set of the state it read (`handle_enabled_state`: `ZADD
//!   server_load`; `handle_cordoned_state`: `ZADD cordoned_server_load`; a disabled one writes no
//!   load). Nothing locks the server's record in between (`save!` watches the `servers` set
//!   only). So a state change made between the read and the save (an `updateServer` by a hook
//!   or an operator) meets the poller's older view:
//!   - read enabled, then cordoned or disabled: the new load goes back into `server_load`, the
//!     set `create` routes on, while the record says cordoned or disabled
//!     ([`DoubleServer::stale_server_load`]). Sending the same state again changes nothing
//!     (`state_changed?` is false); only another state change takes it out;
//!   - read cordoned with no user left, then enabled: the save writes `disabled` over it;
//!   - read cordoned, then enabled or disabled: the load goes into `cordoned_server_load`
//!     ([`DoubleServer::stale_cordoned_load`]), which an `enable` from `disabled` then takes;
//!   - read disabled, then enabled or cordoned: nothing is written (the load stays unset
//!     until the next poll).
//!
//! Not played: the poller's offline path (`SERVER_UNHEALTHY_THRESHOLD` failed polls clear the
//! load in the set of the state read) and its healthy threshold (a server offline comes back
//! only after `SERVER_HEALTHY_THRESHOLD` answers, 1 by default): `poll_save` marks the server
//! online at once.
//!
//! [`ScaleliteDouble::poll_read`] and [`ScaleliteDouble::poll_save`] play the two halves;
//! [`ScaleliteDouble::poll_meetings`] both at once.

use std::time::Duration;

use bbb_core::scalelite::ServerState;

use super::{DoubleServer, ScaleliteDouble};

/// Scalelite's `LOAD_MIN_USER_COUNT` default.
pub const LOAD_MIN_USER_COUNT: u32 = 15;
/// Scalelite's `LOAD_JOIN_BUFFER_TIME` default.
pub const LOAD_JOIN_BUFFER_TIME: Duration = Duration::from_secs(15 * 60);

/// One meeting as the poller reads it from `getMeetings`.
#[derive(Debug, Clone, PartialEq)]
pub struct PolledMeeting {
    pub participants: u32,
    pub moderators: u32,
    pub is_breakout: bool,
    /// Time since `createTime`.
    pub age: Duration,
}

impl PolledMeeting {
    /// The poller's reading of a meeting of the BBB double, `age` after its `createTime`.
    pub fn of(m: &crate::bbb::DoubleMeeting, age: Duration) -> Self {
        Self {
            participants: m.participant_count,
            moderators: m.moderator_count,
            is_breakout: m.is_breakout,
            age,
        }
    }
}

/// The poller's load of one server's meetings, before the multiplier, with `join_buffer` as
/// `LOAD_JOIN_BUFFER_TIME` (compressed in the sandbox).
pub fn attendee_load(meetings: &[PolledMeeting], join_buffer: Duration) -> f64 {
    meetings
        .iter()
        .filter(|m| !m.is_breakout)
        .map(|m| {
            let actual = m.participants + m.moderators;
            if m.age < join_buffer {
                actual.max(LOAD_MIN_USER_COUNT)
            } else {
                actual
            }
        })
        .map(f64::from)
        .sum()
}

/// One server as `Server.all` read it at the start of a poll: what its `save!` compares with.
#[derive(Debug, Clone, PartialEq)]
pub struct PollRead {
    pub id: String,
    pub state: ServerState,
    /// The load in the set of that state (none when disabled).
    pub load: Option<f64>,
    pub load_multiplier: f64,
}

impl DoubleServer {
    /// The poller's `save!` of the object `read`, with the load it computed (the server
    /// answered, so it is online): see the module.
    pub(super) fn save_polled(&mut self, read: &PollRead, load: f64) {
        if read.state == ServerState::Cordoned && load == 0.0 {
            // `state_changed?`: `hset state`, and `handle_disabled_state` takes the server out
            // of every set, whatever happened to it since the read.
            self.state = ServerState::Disabled;
            self.load = None;
            self.stale_server_load = None;
            self.stale_cordoned_load = None;
            return;
        }
        if read.load == Some(load) {
            return; // `load_changed?` is false: no set is written.
        }
        match (read.state, self.state) {
            (ServerState::Enabled, ServerState::Enabled) => self.load = Some(load),
            (ServerState::Enabled, _) => self.stale_server_load = Some(load),
            (ServerState::Cordoned, ServerState::Cordoned) => self.load = Some(load),
            (ServerState::Cordoned, _) => self.stale_cordoned_load = Some(load),
            _ => {} // Read disabled: no load is written.
        }
    }
}

impl ScaleliteDouble {
    /// The first half of a poll of server `id`: `Server.all`'s read.
    pub fn poll_read(&self, id: &str) -> Option<PollRead> {
        self.server(id).map(|s| PollRead {
            id: s.id,
            state: s.state,
            load: if s.state == ServerState::Disabled {
                None
            } else {
                s.load
            },
            load_multiplier: s.load_multiplier,
        })
    }

    /// The second half: the server's BBB answered `getMeetings` with `meetings`, and the poller
    /// saves the object it read (online, its load recomputed; see the module for what a state
    /// change since the read meets). `false` when the server is gone.
    pub fn poll_save(
        &self,
        read: &PollRead,
        meetings: &[PolledMeeting],
        join_buffer: Duration,
    ) -> bool {
        let load = attendee_load(meetings, join_buffer) * read.load_multiplier;
        self.modify_server(&read.id, |s| {
            s.online = true;
            s.save_polled(read, load);
        })
    }

    /// One poller pass over one server that answered `getMeetings` with `meetings`, with nothing
    /// in between its read and its save.
    pub fn poll_meetings(
        &self,
        id: &str,
        meetings: &[PolledMeeting],
        join_buffer: Duration,
    ) -> bool {
        match self.poll_read(id) {
            Some(read) => self.poll_save(&read, meetings, join_buffer),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn young_meetings_count_at_least_the_minimum() {
        let m = |p, age, breakout| PolledMeeting {
            participants: p,
            moderators: 1,
            is_breakout: breakout,
            age: Duration::from_secs(age),
        };
        let buffer = LOAD_JOIN_BUFFER_TIME;
        assert_eq!(attendee_load(&[m(2, 60, false)], buffer), 15.0);
        assert_eq!(attendee_load(&[m(2, 3600, false)], buffer), 3.0);
        assert_eq!(
            attendee_load(&[m(30, 60, false), m(9, 60, true)], buffer),
            31.0
        );
    }

    fn enabled(id: &str, load: f64) -> DoubleServer {
        DoubleServer {
            id: id.into(),
            state: ServerState::Enabled,
            load: Some(load),
            online: true,
            ..DoubleServer::new(format!("https://{id}/bigbluebutton/api"), "s")
        }
    }

    fn meeting(participants: u32) -> PolledMeeting {
        PolledMeeting {
            participants,
            moderators: 1,
            is_breakout: false,
            age: Duration::from_secs(3600),
        }
    }

    /// `poll:servers` reads the server enabled, a hook cordons it, the poller saves what it
    /// read: the cordoned server is back in `server_load` and takes the next `create`; the
    /// same cordon again changes nothing, and a state change (disable, then cordon) repairs it.
    #[tokio::test]
    async fn a_cordon_made_during_a_poll_leaves_the_server_routable() {
        let d = ScaleliteDouble::start("s").await.unwrap();
        d.insert_server(enabled("a", 10.0));
        d.insert_server(enabled("b", 30.0));
        let read = d.poll_read("a").unwrap();
        assert!(d.modify_server("a", |s| s.change_state(ServerState::Cordoned)));
        assert!(d.poll_save(&read, &[meeting(4)], LOAD_JOIN_BUFFER_TIME));
        let a = d.server("a").unwrap();
        assert_eq!(a.state, ServerState::Cordoned, "the record says cordoned");
        assert_eq!(a.stale_server_load, Some(5.0));
        assert_eq!(
            a.load,
            Some(10.0),
            "cordoned_server_load as the hook left it"
        );
        assert_eq!(d.route_create(None).unwrap().id, "a", "routed all the same");
        assert_eq!(d.server("a").unwrap().stale_server_load, Some(6.0));
        // A poll with nothing in between keeps it there: it writes the cordoned set only.
        assert!(d.poll_meetings("a", &[meeting(5)], LOAD_JOIN_BUFFER_TIME));
        assert_eq!(d.route_create(None).unwrap().id, "a");
        d.modify_server("a", |s| s.change_state(ServerState::Cordoned));
        assert_eq!(
            d.route_create(None).unwrap().id,
            "a",
            "same state: no change"
        );
        d.modify_server("a", |s| s.change_state(ServerState::Disabled));
        d.modify_server("a", |s| s.change_state(ServerState::Cordoned));
        let a = d.server("a").unwrap();
        assert_eq!(
            (a.state, a.load, a.stale_server_load),
            (ServerState::Cordoned, None, None)
        );
        assert_eq!(d.route_create(None).unwrap().id, "b");
    }

    /// The same race with the load the poller computes equal to the one it read: `load_changed?`
    /// is false, no set is written, the cordon holds.
    #[tokio::test]
    async fn a_cordon_during_a_poll_that_reads_the_same_load_holds() {
        let d = ScaleliteDouble::start("s").await.unwrap();
        d.insert_server(enabled("a", 5.0));
        let read = d.poll_read("a").unwrap();
        d.modify_server("a", |s| s.change_state(ServerState::Cordoned));
        assert!(d.poll_save(&read, &[meeting(4)], LOAD_JOIN_BUFFER_TIME));
        assert_eq!(d.server("a").unwrap().stale_server_load, None);
        assert_eq!(d.route_create(None), None);
    }

    /// Read cordoned, disabled by the hook's repair before the save: the save's load lands in
    /// `cordoned_server_load`, and the cordon that follows takes it from there (`load ||=
    /// zscore('server_load')` finds nothing, the stale entry stays), as an enable would.
    #[tokio::test]
    async fn a_save_between_a_disable_and_a_cordon_keeps_the_load() {
        let d = ScaleliteDouble::start("s").await.unwrap();
        let mut a = enabled("a", 3.0);
        a.state = ServerState::Cordoned;
        d.insert_server(a);
        let read = d.poll_read("a").unwrap();
        d.modify_server("a", |s| s.change_state(ServerState::Disabled));
        assert!(d.poll_save(&read, &[meeting(6)], LOAD_JOIN_BUFFER_TIME));
        assert_eq!(d.server("a").unwrap().stale_cordoned_load, Some(7.0));
        d.modify_server("a", |s| s.change_state(ServerState::Cordoned));
        let a = d.server("a").unwrap();
        assert_eq!(
            (a.state, a.load, a.stale_cordoned_load),
            (ServerState::Cordoned, Some(7.0), None)
        );
        assert_eq!(d.route_create(None), None, "cordoned: not routed");
    }

    /// The poller read a cordoned server whose last user has left; a hook enables it before
    /// the save, which writes `disabled` over it. One read disabled and enabled meanwhile
    /// writes nothing.
    #[tokio::test]
    async fn an_enable_made_during_a_poll_can_be_undone() {
        let d = ScaleliteDouble::start("s").await.unwrap();
        let mut a = enabled("a", 3.0);
        a.state = ServerState::Cordoned;
        d.insert_server(a);
        let read = d.poll_read("a").unwrap();
        d.modify_server("a", |s| s.change_state(ServerState::Enabled));
        assert!(d.poll_save(&read, &[], LOAD_JOIN_BUFFER_TIME));
        assert_eq!(d.server("a").unwrap().state, ServerState::Disabled);
        assert_eq!(d.route_create(None), None);

        let read = d.poll_read("a").unwrap();
        d.modify_server("a", |s| s.change_state(ServerState::Enabled));
        assert!(d.poll_save(&read, &[meeting(2)], LOAD_JOIN_BUFFER_TIME));
        let a = d.server("a").unwrap();
        assert_eq!(
            (a.state, a.load),
            (ServerState::Enabled, None),
            "not polled yet"
        );
        assert!(d.poll_meetings("a", &[meeting(2)], LOAD_JOIN_BUFFER_TIME));
        assert_eq!(d.server("a").unwrap().load, Some(3.0));
    }
}
