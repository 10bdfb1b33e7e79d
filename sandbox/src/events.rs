//! What happens in the sandbox, as it happens: one line per event, kept for the summary and
//! printed live when the sandbox is asked to.

use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Event {
    pub seconds: f64,
    /// The instance, or `sandbox`.
    pub source: String,
    pub text: String,
}

/// One instance's launch: from the instance's start to registered and enabled.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct LaunchTiming {
    /// From the simulated instance's start to `bbb-hook launch` exiting successfully.
    pub wall_ms: f64,
    /// Of the successful launch process: time its API calls took (doubles and moto).
    pub calls_ms: f64,
}

/// A successful launch: its timing and the wall time of the successful process alone.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct LaunchRecord {
    pub timing: LaunchTiming,
    pub process_ms: f64,
}

#[derive(Clone)]
pub struct Events {
    launches: Arc<Mutex<Vec<LaunchRecord>>>,
    inner: Arc<Mutex<Vec<Event>>>,
    started: Instant,
    print: bool,
}

impl Events {
    pub fn new(print: bool) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Vec::new())),
            launches: Arc::new(Mutex::new(Vec::new())),
            started: Instant::now(),
            print,
        }
    }

    pub fn push(&self, source: &str, text: impl Into<String>) {
        let e = Event {
            seconds: self.started.elapsed().as_secs_f64(),
            source: source.to_owned(),
            text: text.into(),
        };
        if self.print {
            println!("  [{:>6.1}s] {:<21} {}", e.seconds, e.source, e.text);
        }
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).push(e);
    }

    /// A log line of `bbb-hook <command>`; the routine ones (each AWS call, unchanged
    /// protection) are left out.
    pub fn hook_line(&self, instance: &str, command: &str, line: &str) {
        let line = line.trim();
        const ROUTINE: [&str; 6] = [
            "aws call",
            "api request",
            " identity ",
            "protection unchanged",
            "waiting for the terminating lifecycle signal",
            "lifecycle heartbeat recorded",
        ];
        if line.is_empty() || ROUTINE.iter().any(|r| line.contains(r)) {
            return;
        }
        self.push(instance, format!("hook {command}: {line}"));
    }

    pub fn launch_timing(&self, timing: LaunchTiming, process_ms: f64) {
        self.launches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(LaunchRecord { timing, process_ms });
    }

    pub fn launches(&self) -> Vec<LaunchRecord> {
        self.launches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn all(&self) -> Vec<Event> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether an event of `source` contains `text`.
    pub fn seen(&self, source: &str, text: &str) -> bool {
        self.all()
            .iter()
            .any(|e| e.source == source && e.text.contains(text))
    }
}
