//! Where Scalelite sends a meeting, and the load its poller computes (Scalelite's master at
//! 7498a81, Aug 2026: `app/models/server.rb` `find_available` and `increment_load`,
//! `app/controllers/bigbluebutton_api_controller.rb` `create` and `join`, `lib/tasks/poll.rake`):
//!
//! * `create` takes, among the servers in Redis' `server_load` set (enabled servers with a load:
//!   polled online; cordoned and disabled servers are never in it), the one with the lowest load
//!   (ties: Redis orders equal scores by member, the id). A tag `t` prefers servers tagged `t`
//!   and falls back to untagged ones; `t!` requires the tag. There is no notion of full.
//! * Each `create` adds `1 x load_multiplier` to the chosen server's load at once (`ZADD XX
//!   INCR`); the next poll replaces it. So does each `join` (`server.increment_load(1)`, since
//!   #1050, 2024), after refusing one whose server is offline or disabled; `XX` leaves a cordoned
//!   server's load alone (it is not in `server_load`).
//! * A server is in `server_load` when its state is `enabled` and it has a load, and also, against
//!   its state, when Scalelite's poller wrote it back there ([`DoubleServer::stale_server_load`],
//!   `poller.rs`): `create` routes on the set alone, whatever the server's state says.
//!
//! The poller's load and its write-back are in `poller.rs`.

use bbb_core::scalelite::ServerState;

use super::{DoubleServer, ScaleliteDouble};
use crate::common::lock;

/// The server's score in Redis' `server_load`, the set `create` picks from: its load when
/// enabled, its stale entry otherwise.
fn server_load(s: &DoubleServer) -> Option<f64> {
    if s.state == ServerState::Enabled {
        s.load
    } else {
        s.stale_server_load
    }
}

/// `ZADD server_load XX INCR`: raises the server's score by `by` when it is in the set.
fn increment_server_load(s: &mut DoubleServer, by: f64) {
    if s.state == ServerState::Enabled {
        s.load = s.load.map(|l| l + by);
    } else {
        s.stale_server_load = s.stale_server_load.map(|l| l + by);
    }
}

/// `create`'s choice among `servers` for `tag`; `None`: Scalelite answers that no server is
/// available.
fn find_available<'a>(servers: &'a [DoubleServer], tag: Option<&str>) -> Option<&'a DoubleServer> {
    let mut available: Vec<&DoubleServer> = servers
        .iter()
        .filter(|s| server_load(s).is_some())
        .collect();
    available.sort_by(|a, b| {
        server_load(a)
            .partial_cmp(&server_load(b))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.id.cmp(&b.id))
    });
    let (wanted, required) = match tag {
        Some(t) if t.ends_with('!') => (Some(&t[..t.len() - 1]), true),
        Some(t) => (Some(t), false),
        None => (None, false),
    };
    let tagged = |want: Option<&str>| {
        available
            .iter()
            .copied()
            .find(|s| s.tag.as_deref().filter(|t| !t.is_empty()) == want)
    };
    match tagged(wanted) {
        Some(s) => Some(s),
        None if required => None,
        None => tagged(None),
    }
}

impl ScaleliteDouble {
    /// A `create` routed as Scalelite routes it: the chosen server (its load already raised by
    /// one times its multiplier), or `None` when no server is available.
    pub fn route_create(&self, tag: Option<&str>) -> Option<DoubleServer> {
        let mut st = lock(&self.state);
        let id = find_available(&st.servers, tag)?.id.clone();
        let server = st.servers.iter_mut().find(|s| s.id == id)?;
        increment_server_load(server, server.load_multiplier);
        Some(server.clone())
    }

    /// A `join` through Scalelite: `true` when the meeting's server takes it (not offline, not
    /// disabled; Scalelite answers `ServerDisabledError` otherwise), and then `1 x multiplier`
    /// added to its score in `server_load` when it is there, as `create` does (a cordoned one is
    /// not, unless the poller wrote it back).
    pub fn route_join(&self, id: &str) -> bool {
        let mut st = lock(&self.state);
        let Some(server) = st.servers.iter_mut().find(|s| s.id == id) else {
            return false;
        };
        if !server.online || server.state == ServerState::Disabled {
            return false;
        }
        increment_server_load(server, server.load_multiplier);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::poller::{PolledMeeting, LOAD_JOIN_BUFFER_TIME};
    use super::*;
    use std::time::Duration;

    fn server(id: &str, load: Option<f64>, state: ServerState, tag: Option<&str>) -> DoubleServer {
        DoubleServer {
            id: id.into(),
            url: format!("https://{id}/bigbluebutton/api"),
            secret: "s".into(),
            tag: tag.map(str::to_owned),
            bbb_version: None,
            state,
            load,
            load_multiplier: 1.0,
            online: load.is_some(),
            stale_server_load: None,
            stale_cordoned_load: None,
        }
    }

    #[test]
    fn least_loaded_enabled_server_with_a_load() {
        let servers = vec![
            server("a", Some(30.0), ServerState::Enabled, None),
            server("b", Some(5.0), ServerState::Cordoned, None),
            server("c", None, ServerState::Enabled, None),
            server("d", Some(12.0), ServerState::Enabled, None),
            server("e", Some(12.0), ServerState::Enabled, None),
        ];
        assert_eq!(
            find_available(&servers, None).map(|s| s.id.as_str()),
            Some("d")
        );
        let tagged = vec![
            server("a", Some(30.0), ServerState::Enabled, Some("big")),
            server("b", Some(1.0), ServerState::Enabled, None),
        ];
        assert_eq!(
            find_available(&tagged, Some("big")).map(|s| s.id.as_str()),
            Some("a")
        );
        assert_eq!(
            find_available(&tagged, Some("x")).map(|s| s.id.as_str()),
            Some("b")
        );
        assert_eq!(find_available(&tagged, Some("x!")), None);
        assert_eq!(find_available(&[], None), None);
    }

    #[tokio::test]
    async fn creates_spread_by_the_increment_until_the_next_poll() {
        let d = ScaleliteDouble::start("s").await.unwrap();
        for (id, load) in [("a", 10.0), ("b", 0.0)] {
            d.insert_server(server(id, Some(load), ServerState::Enabled, None));
        }
        // The empty server takes every create until the increments lift it past the other.
        let picks: Vec<String> = (0..11).map(|_| d.route_create(None).unwrap().id).collect();
        assert_eq!(picks.iter().filter(|p| *p == "b").count(), 10, "{picks:?}");
        assert!(d.poll_meetings("b", &[], LOAD_JOIN_BUFFER_TIME));
        assert_eq!(d.server("b").unwrap().load, Some(0.0));
        d.modify_server("a", |s| s.state = ServerState::Cordoned);
        assert!(d.poll_meetings("a", &[], LOAD_JOIN_BUFFER_TIME));
        assert_eq!(d.server("a").unwrap().state, ServerState::Disabled);
    }

    #[tokio::test]
    async fn the_multiplier_scales_polls_and_creates_and_a_join_adds_nothing() {
        let d = ScaleliteDouble::start("s").await.unwrap();
        let mut a = server("a", Some(0.0), ServerState::Enabled, None);
        a.load_multiplier = 2.5;
        d.insert_server(a);
        let meeting = PolledMeeting {
            participants: 19,
            moderators: 1,
            is_breakout: false,
            age: Duration::from_secs(3600),
        };
        assert!(d.poll_meetings("a", &[meeting], LOAD_JOIN_BUFFER_TIME));
        assert_eq!(
            d.server("a").unwrap().load,
            Some(50.0),
            "20 attendees x 2.5"
        );
        assert_eq!(
            d.route_create(None).unwrap().load,
            Some(52.5),
            "one create: 1 x 2.5"
        );
        assert!(d.route_join("a"));
        assert_eq!(
            d.server("a").unwrap().load,
            Some(55.0),
            "a join: 1 x 2.5, as a create"
        );
        d.modify_server("a", |s| s.state = ServerState::Cordoned);
        assert!(d.route_join("a"), "a cordoned server takes joins");
        assert_eq!(
            d.server("a").unwrap().load,
            Some(55.0),
            "not in server_load: no increment"
        );
        d.modify_server("a", |s| s.state = ServerState::Disabled);
        assert!(
            !d.route_join("a"),
            "a disabled server's meeting cannot be joined"
        );
    }
}
