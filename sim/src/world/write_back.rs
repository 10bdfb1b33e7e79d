//! Scalelite's poller write-back and the hooks' repair of it, as the simulator plays them.
//!
//! The poller reads every server at the start of a poll and saves each one from that view
//! `poll_duration_s` later ([`crate::scalelite::Scalelite::save_polled`]): a cordon a hook makes
//! in between (at the poll's second, after the read) leaves the server in `server_load`. The hook
//! sees a meeting created on its server past the cordon by more than `create_in_flight_s` at its
//! next protect pass, and disables and cordons the server again
//! (`hook/src/commands/cordon_leak.rs`). The hook's drain checks every 10 s; here at the protect
//! passes too. A cordon of a server cordoned already keeps its time here, while the hook's drain
//! and consolidation restart it with every cordon they send (a drain after consolidation's
//! cordon): the hook may repair such a leak a little later than the simulator does.

use super::World;
use crate::scalelite::{PolledMeeting, State};

impl World<'_> {
    /// A hook's cordon of `id` at `t`: the time it holds from, for the repair.
    pub(super) fn cordon(&mut self, id: &str, t: u64) {
        let changes = self
            .pool
            .server(id)
            .is_some_and(|s| s.state != State::Cordoned);
        self.pool.set_state(id, State::Cordoned);
        if let Some(s) = self.servers.get_mut(id).filter(|_| changes) {
            s.cordoned_since = Some(t);
        }
    }

    /// A hook's enable of `id`.
    pub(super) fn enable(&mut self, id: &str) {
        self.pool.set_state(id, State::Enabled);
        if let Some(s) = self.servers.get_mut(id) {
            s.cordoned_since = None;
        }
    }

    /// One poll of every server: read now, saved `poll_duration_s` later with this `getMeetings`
    /// (at once without the write-back, or when a poll takes no time).
    pub(super) fn poll_all(&mut self, t: u64, polled: Vec<(String, Vec<PolledMeeting>)>) {
        if !self.c.poll_write_back || self.c.poll_duration_s == 0 {
            for (id, ms) in polled {
                self.pool.poll_server(&id, t, &ms);
            }
            return;
        }
        self.save_due(u64::MAX);
        self.pending_saves = polled
            .into_iter()
            .filter_map(|(id, ms)| self.pool.read(&id).map(|r| (id, r, ms)))
            .collect();
        self.saves_at = t + self.c.poll_duration_s;
    }

    /// The saves of the poll under way, once due at `t`.
    pub(super) fn save_due(&mut self, t: u64) {
        if self.pending_saves.is_empty() || t < self.saves_at {
            return;
        }
        let now = self.saves_at.min(t);
        for (id, read, ms) in std::mem::take(&mut self.pending_saves) {
            if self.pool.save_polled(&id, &read, now, &ms) {
                self.acc.write_backs += 1;
            }
        }
    }

    /// Every server whose hook holds a cordon and runs a meeting created past it by more than
    /// `create_in_flight_s`: `disable`, then `cordon` (out of every set).
    pub(super) fn repair_cordons(&mut self, t: u64) {
        let in_flight = self.c.create_in_flight_s;
        let leaked: Vec<String> = self
            .servers
            .iter()
            .filter(|(id, _)| {
                self.pool
                    .server(id)
                    .is_some_and(|p| p.state == State::Cordoned)
            })
            .filter(|(_, s)| {
                s.cordoned_since.is_some_and(|since| {
                    s.meetings.iter().any(|&m| {
                        let spec = &self.specs[m];
                        spec.expire_s() > t && spec.start_s > since + in_flight
                    })
                })
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in leaked {
            self.pool.set_state(&id, State::Disabled);
            self.pool.set_state(&id, State::Cordoned);
            if let Some(s) = self.servers.get_mut(&id) {
                s.cordoned_since = Some(t);
            }
            self.acc.cordon_repairs += 1;
        }
    }
}
