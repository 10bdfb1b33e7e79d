//! A Scalelite double: the six server-API calls under `/scalelite/api/`, with Scalelite's
//! checksum verification, status codes and bodies, plus hooks to play the poller and operators,
//! and Scalelite's routing of `create` and `join` with its load rules (`routing.rs`).

mod api;
mod model;
mod poller;
mod routing;

pub use model::DoubleServer;
pub use poller::{
    attendee_load, PollRead, PolledMeeting, LOAD_JOIN_BUFFER_TIME, LOAD_MIN_USER_COUNT,
};

use crate::common::{lock, Instrumentation, Running, Shared};
use axum::Router;
use bbb_core::checksum::ChecksumAlgorithm;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct State {
    servers: Vec<DoubleServer>,
    secrets: Vec<String>,
    allowed_algorithms: Vec<ChecksumAlgorithm>,
    instrumentation: Instrumentation,
    /// `false`: the API is down behind its proxy (every call answers 502).
    available: bool,
}

/// A running Scalelite double on 127.0.0.1 (ephemeral port). Stops when dropped.
#[derive(Debug)]
pub struct ScaleliteDouble {
    state: Shared<State>,
    running: Running,
}

impl ScaleliteDouble {
    /// Starts a double accepting `secret` (like `LOADBALANCER_SECRET`) with SHA-1, SHA-256 and
    /// SHA-512 checksums.
    pub async fn start(secret: impl Into<String>) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            servers: Vec::new(),
            secrets: vec![secret.into()],
            allowed_algorithms: vec![
                ChecksumAlgorithm::Sha1,
                ChecksumAlgorithm::Sha256,
                ChecksumAlgorithm::Sha512,
            ],
            instrumentation: Instrumentation::default(),
            available: true,
        }));
        let router = Router::new()
            .fallback(api::handle)
            .with_state(state.clone());
        let running = Running::serve(router).await?;
        Ok(Self { state, running })
    }

    /// Base URL (`http://127.0.0.1:<port>`), as `ScaleliteConfig::base_url` takes it.
    pub fn url(&self) -> String {
        format!("http://{}", self.running.addr)
    }

    /// The first accepted secret.
    pub fn secret(&self) -> String {
        lock(&self.state)
            .secrets
            .first()
            .cloned()
            .unwrap_or_default()
    }

    /// Accepts another secret too (Scalelite takes a list of load-balancer secrets).
    pub fn add_secret(&self, secret: impl Into<String>) {
        lock(&self.state).secrets.push(secret.into());
    }

    /// Accepts these secrets only, as Scalelite does once restarted with a new
    /// `LOADBALANCER_SECRET` (one value) and `LOADBALANCER_SECRETS` (colon-separated), both read
    /// at boot by `config/application.rb`: a request signed with a secret no longer listed
    /// answers `checksumError`.
    pub fn replace_secrets(&self, secrets: &[&str]) {
        lock(&self.state).secrets = secrets.iter().map(|s| (*s).to_owned()).collect();
    }

    /// Restricts the accepted checksum algorithms (`LOADBALANCER_CHECKSUM_ALGORITHM`).
    pub fn set_allowed_algorithms(&self, algorithms: &[ChecksumAlgorithm]) {
        lock(&self.state).allowed_algorithms = algorithms.to_vec();
    }

    /// While `false`, the Scalelite API is down behind its nginx proxy: every call answers
    /// 502 Bad Gateway and changes nothing (calls are still counted). `true` brings it back
    /// with its servers as they were.
    pub fn set_available(&self, available: bool) {
        lock(&self.state).available = available;
    }

    /// Stops serving; later requests fail to connect.
    pub async fn stop(&mut self) {
        self.running.stop().await;
    }

    // ---- direct state access (changes made outside Terraform) ----

    /// Every server, in insertion order.
    pub fn servers(&self) -> Vec<DoubleServer> {
        lock(&self.state).servers.clone()
    }

    /// One server.
    pub fn server(&self, id: &str) -> Option<DoubleServer> {
        lock(&self.state)
            .servers
            .iter()
            .find(|s| s.id == id)
            .cloned()
    }

    /// Inserts (or replaces, by id) a server and returns its id.
    pub fn insert_server(&self, server: DoubleServer) -> String {
        let id = server.id.clone();
        let mut st = lock(&self.state);
        match st.servers.iter_mut().find(|s| s.id == id) {
            Some(existing) => *existing = server,
            None => st.servers.push(server),
        }
        id
    }

    /// Removes a server; `false` when there was none with that id.
    pub fn remove_server(&self, id: &str) -> bool {
        let mut st = lock(&self.state);
        let before = st.servers.len();
        st.servers.retain(|s| s.id != id);
        st.servers.len() != before
    }

    /// Changes a server in place; `false` when there is none with that id.
    pub fn modify_server(&self, id: &str, change: impl FnOnce(&mut DoubleServer)) -> bool {
        let mut st = lock(&self.state);
        match st.servers.iter_mut().find(|s| s.id == id) {
            Some(s) => {
                change(s);
                true
            }
            None => false,
        }
    }

    // ---- the poller ----

    /// Marks a server online or offline, as the poller does after enough (un)healthy polls.
    /// Going offline clears the load (in the set of its state: a stale `server_load` entry
    /// stays).
    pub fn set_online(&self, id: &str, online: bool) -> bool {
        self.modify_server(id, |s| {
            s.online = online;
            if !online {
                s.load = None;
            }
        })
    }

    /// Sets the load figure as the poller's save writes it, nothing in between its read and
    /// its save (a disabled server keeps none; a cordoned server whose load reads zero becomes
    /// disabled: load can read zero while breakout rooms still run). `None` clears it.
    pub fn set_load(&self, id: &str, load: Option<f64>) -> bool {
        let Some(read) = self.poll_read(id) else {
            return false;
        };
        self.modify_server(id, |s| match load {
            Some(l) => s.save_polled(&read, l),
            None => s.load = None,
        })
    }

    /// One poller pass for one server: `Some(attendees)` when its BBB answered (online, load =
    /// attendees x multiplier), `None` when it did not (offline, no load).
    pub fn poll(&self, id: &str, attendees: Option<u32>) -> bool {
        match attendees {
            None => self.set_online(id, false),
            Some(n) => {
                let multiplier = match self.server(id) {
                    Some(s) => s.load_multiplier,
                    None => return false,
                };
                self.set_online(id, true) && self.set_load(id, Some(f64::from(n) * multiplier))
            }
        }
    }

    // ---- instrumentation ----

    /// Requests received for `call` (`getServers`, `addServer`, ...), faulted ones included.
    pub fn calls(&self, call: &str) -> u64 {
        lock(&self.state).instrumentation.calls(call)
    }

    /// Requests received under `/scalelite/api/`.
    pub fn total_calls(&self) -> u64 {
        lock(&self.state).instrumentation.total_calls()
    }

    /// Zeroes the counters.
    pub fn reset_calls(&self) {
        lock(&self.state).instrumentation.reset_calls();
    }

    /// The next `n` requests answer HTTP `status` (500, 502, 503, ...) without doing anything.
    /// Sets the count (a call before replaces what was left of it).
    pub fn fail_next(&self, n: u32, status: u16) {
        lock(&self.state).instrumentation.fail_next(n, status);
    }

    /// The next `n` requests to `call` (`updateServer`, `deleteServer`, ...) answer HTTP
    /// `status` without doing anything; other calls are answered normally. Sets the count.
    pub fn fail_next_calls(&self, call: &str, n: u32, status: u16) {
        lock(&self.state)
            .instrumentation
            .fail_next_calls(call, n, status);
    }

    /// The next `n` requests to `call` that reach Scalelite are carried out (an `updateServer`
    /// changes the state), then answered with nginx's error page for `status` instead of their
    /// result: an answer lost after Scalelite applied the change (502: the upstream's connection
    /// closed before its answer), which the client cannot tell from a request refused. Requests
    /// refused while the API is down do not count. Sets the count.
    pub fn lose_next_answers(&self, call: &str, n: u32, status: u16) {
        lock(&self.state)
            .instrumentation
            .lose_next_answers(call, n, status, Duration::ZERO);
    }

    /// The next `n` requests to `call` that reach Scalelite are answered with nginx's error page
    /// for `status` at once and carried out `after` that: a request the proxy gave up on (504
    /// past its `proxy_read_timeout`) while Scalelite still worked on it, whose change lands
    /// after whatever the client did next. Sets the count.
    pub fn apply_late_next(&self, call: &str, n: u32, status: u16, after: Duration) {
        lock(&self.state)
            .instrumentation
            .lose_next_answers(call, n, status, after);
    }

    /// The next `n` requests wait `delay` before being handled.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        lock(&self.state).instrumentation.delay_next(n, delay);
    }
}
