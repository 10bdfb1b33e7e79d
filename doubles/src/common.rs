//! Plumbing shared by the doubles: serving on an ephemeral port, call counters, fault injection,
//! XML helpers.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Locks a mutex, recovering the data if a panicking test poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A server task on 127.0.0.1; stopped when dropped.
#[derive(Debug)]
pub(crate) struct Running {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    pub(crate) async fn serve(router: Router) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Stops accepting requests and waits for the server task to end.
    pub(crate) async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Per-call request counters and pending faults.
#[derive(Debug, Default)]
pub(crate) struct Instrumentation {
    calls: HashMap<String, u64>,
    fail_next: u32,
    fail_status: u16,
    delay_next: u32,
    delay: Duration,
    /// Call name -> (requests left to fail, status).
    fail_calls: HashMap<String, (u32, u16)>,
    /// Call name -> (requests left to answer with an error, (status, how long after the
    /// answer the request is carried out: zero for before it)).
    lose_answers: HashMap<String, (u32, LostAnswer)>,
}

/// A request carried out `after` its answer (zero: before it), and answered `status` instead
/// of its result.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LostAnswer {
    pub status: StatusCode,
    pub after: Duration,
}

/// What to do to a request before answering it normally.
pub(crate) struct Fault {
    pub delay: Option<Duration>,
    pub fail: Option<StatusCode>,
}

impl Instrumentation {
    /// Counts a request to `call` and takes the pending faults for it.
    pub(crate) fn record(&mut self, call: &str) -> Fault {
        *self.calls.entry(call.to_owned()).or_default() += 1;
        let delay = if self.delay_next > 0 {
            self.delay_next -= 1;
            Some(self.delay)
        } else {
            None
        };
        let fail = if self.fail_next > 0 {
            self.fail_next -= 1;
            Some(status(self.fail_status))
        } else {
            take_one(&mut self.fail_calls, call).map(status)
        };
        Fault { delay, fail }
    }

    /// For a request to `call` that is carried out: the status to answer instead of its
    /// result, when its answer is to be lost.
    pub(crate) fn take_lost_answer(&mut self, call: &str) -> Option<LostAnswer> {
        take_one(&mut self.lose_answers, call)
    }

    pub(crate) fn calls(&self, call: &str) -> u64 {
        self.calls.get(call).copied().unwrap_or(0)
    }

    pub(crate) fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    pub(crate) fn reset_calls(&mut self) {
        self.calls.clear();
    }

    pub(crate) fn fail_next(&mut self, n: u32, code: u16) {
        self.fail_next = n;
        self.fail_status = code;
    }

    pub(crate) fn fail_next_calls(&mut self, call: &str, n: u32, status: u16) {
        self.fail_calls.insert(call.to_owned(), (n, status));
    }

    pub(crate) fn lose_next_answers(&mut self, call: &str, n: u32, code: u16, after: Duration) {
        let lost = LostAnswer {
            status: status(code),
            after,
        };
        self.lose_answers.insert(call.to_owned(), (n, lost));
    }

    pub(crate) fn delay_next(&mut self, n: u32, delay: Duration) {
        self.delay_next = n;
        self.delay = delay;
    }
}

/// `code` as a status (500 when it is none).
fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// One pending fault of `call` in `faults`, taken.
fn take_one<T: Copy>(faults: &mut HashMap<String, (u32, T)>, call: &str) -> Option<T> {
    match faults.get_mut(call) {
        Some((left, fault)) if *left > 0 => {
            *left -= 1;
            Some(*fault)
        }
        _ => None,
    }
}

/// Applies a fault: sleeps, then answers with the injected status if there is one.
pub(crate) async fn apply_fault(fault: &Fault) -> Option<Response> {
    if let Some(d) = fault.delay {
        tokio::time::sleep(d).await;
    }
    fault.fail.map(status_response)
}

/// A bare error answer (a proxy's, or the server's error page): `status` and its reason.
pub(crate) fn status_response(status: StatusCode) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        status.canonical_reason().unwrap_or("error").to_owned(),
    )
        .into_response()
}

/// Escapes text for an XML element.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// An HTTP 200 XML answer.
pub(crate) fn xml_response(content_type: &'static str, body: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// A shared handle to a double's state.
pub(crate) type Shared<T> = Arc<Mutex<T>>;
