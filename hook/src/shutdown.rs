//! SIGTERM and SIGINT (systemd stopping a unit, Ctrl-C): the long waits (the lifecycle watcher,
//! a drain waiting for meetings, retries) end at their next sleep instead of the process being
//! killed mid-step; every state change already made is saved.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static NOTIFY: Notify = Notify::const_new();

/// Listens for SIGTERM and SIGINT from now on (inside the runtime).
pub fn install() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "stop requested");
        REQUESTED.store(true, Ordering::SeqCst);
        NOTIFY.notify_waiters();
    });
    Ok(())
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Resolves once a stop is requested.
pub async fn wait() {
    loop {
        let notified = NOTIFY.notified();
        if requested() {
            return;
        }
        notified.await;
    }
}

/// Sleeps `d`; `false` when a stop was requested first (or before).
#[must_use]
pub async fn sleep(d: Duration) -> bool {
    if requested() {
        return false;
    }
    tokio::select! {
        () = tokio::time::sleep(d) => !requested(),
        () = wait() => false,
    }
}
