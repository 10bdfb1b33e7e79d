//! BBB's health, checked by `protect` at every pass: a server whose bbb-web or FreeSWITCH died
//! stays `InService` for EC2's status checks, so the hook reports it to the group
//! (`autoscaling:SetInstanceHealth` `Unhealthy`, not respecting the grace period: the launching
//! lifecycle hook already gates `InService`, and a report made inside the grace period would be
//! accepted and ignored, so a server born broken would never be replaced), which replaces it
//! through the terminating lifecycle hook (the drain).
//!
//! The probes are the ones BBB's own parts depend on: bbb-web answers the API root without a
//! checksum (`<returncode>SUCCESS</returncode>`, what `bbb-conf --check` and Scalelite's poller
//! reach first), and FreeSWITCH's event socket (`127.0.0.1:8021`, which bbb-webrtc-sfu and
//! akka-fsesl connect to) greets a new connection with `Content-Type: auth/request`.
//!
//! The rule ([`decide`]), as an operator would run a BBB fleet:
//! - a failure must repeat `BBB_HOOK_HEALTH_FAILURES` consecutive passes (a restart of bbb-web or
//!   FreeSWITCH, a slow answer under load is a flap, not a dead server);
//! - a server hosting meetings is not reported: Auto Scaling would terminate it (protection
//!   does not hold against a health replacement). One exception: bbb-web dead past the drain's
//!   `max_wait`, when the meetings it last listed can no longer be seen (Scalelite's poller has
//!   by then marked the server offline and ended its meetings in its own records, `poll.rake`).
//!   With bbb-web dead, meetings that run keep running (its clients talk to akka-apps and
//!   FreeSWITCH) and Scalelite's poller already stops routing to it; with FreeSWITCH dead, the
//!   meetings lose their audio and their users leave, and BBB ends an empty meeting a minute
//!   later. Either way the server is reported once its meetings have ended. When bbb-web cannot
//!   say (its API is what is dead), the meetings it last listed count, until the drain's
//!   `max_wait` after the first failure;
//! - recordings BBB still processes (read from disk, not from bbb-web) hold the report too: the
//!   replacement would lose them;
//! - one report only: the group acts on it.
//!
//! Before the report, a dead FreeSWITCH cordons the server in Scalelite after 2 failed passes
//! (`super::health_cordon`): new meetings go elsewhere, running ones keep their joins.
//!
//! Every decision past the first failure is one `health decision` event with its inputs and
//! reason as JSON.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use crate::context::Context;
use crate::state::{now_secs, HookState};

/// What `protect` remembers between passes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthState {
    /// Consecutive passes with a failed probe.
    #[serde(default)]
    pub failures: u32,
    /// Unix seconds of the first of those failures.
    #[serde(default)]
    pub failing_since: u64,
    /// Meetings bbb-web listed at its last answer.
    #[serde(default)]
    pub last_meetings: usize,
    /// The group was told this instance is unhealthy.
    #[serde(default)]
    pub reported: bool,
    /// Consecutive passes with FreeSWITCH's probe failed (the cordon's count).
    #[serde(default)]
    pub freeswitch_failures: u32,
    /// The cordon this check holds in Scalelite ([`super::health_cordon`]).
    #[serde(default)]
    pub cordon: super::health_cordon::Cordon,
}

/// One pass's probes: the failure of each, `None` when it passed (or is off).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Probes {
    pub bbb_web: Option<String>,
    pub freeswitch: Option<String>,
}

impl Probes {
    pub fn healthy(&self) -> bool {
        self.bbb_web.is_none() && self.freeswitch.is_none()
    }
}

/// Everything [`decide`] looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inputs {
    pub probes: Probes,
    /// Consecutive failed passes, this one included.
    pub failures: u32,
    /// `BBB_HOOK_HEALTH_FAILURES`.
    pub threshold: u32,
    /// Meetings bbb-web lists now, or `None` when it does not answer.
    pub meetings: Option<usize>,
    /// Meetings it listed at its last answer.
    pub last_meetings: usize,
    pub recordings_in_progress: usize,
    /// Seconds since the first failure, and the drain's `max_wait`.
    pub failing_for_s: u64,
    pub max_wait_s: u64,
    pub reported: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing to do.
    None,
    /// Failing, but not (yet) to be replaced.
    Hold,
    /// `SetInstanceHealth` `Unhealthy`.
    ReportUnhealthy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Healthy,
    CheckOff,
    Flap,
    HostingMeetings,
    HostingMeetingsLastKnown,
    RecordingsInProgress,
    DeadAndIdle,
    DeadPastMaxWait,
    AlreadyReported,
}

/// The rule (see the module documentation).
pub fn decide(i: &Inputs) -> (Action, Reason) {
    if i.probes.healthy() {
        return (Action::None, Reason::Healthy);
    }
    if i.threshold == 0 {
        return (Action::None, Reason::CheckOff);
    }
    if i.reported {
        return (Action::None, Reason::AlreadyReported);
    }
    if i.failures < i.threshold {
        return (Action::Hold, Reason::Flap);
    }
    if i.recordings_in_progress > 0 {
        return (Action::Hold, Reason::RecordingsInProgress);
    }
    match i.meetings {
        Some(n) if n > 0 => (Action::Hold, Reason::HostingMeetings),
        Some(_) => (Action::ReportUnhealthy, Reason::DeadAndIdle),
        None if i.last_meetings == 0 => (Action::ReportUnhealthy, Reason::DeadAndIdle),
        None if i.failing_for_s >= i.max_wait_s => {
            (Action::ReportUnhealthy, Reason::DeadPastMaxWait)
        }
        None => (Action::Hold, Reason::HostingMeetingsLastKnown),
    }
}

/// FreeSWITCH's event socket at `addr` greets with `Content-Type: auth/request`.
pub async fn probe_freeswitch(addr: &str, timeout: Duration) -> Result<(), String> {
    let greet = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("event socket {addr}: {e}"))?;
        let mut buf = [0u8; 64];
        let mut read = 0;
        while read < buf.len() {
            let n = stream
                .read(&mut buf[read..])
                .await
                .map_err(|e| format!("event socket {addr}: {e}"))?;
            if n == 0 {
                break;
            }
            read += n;
            if buf[..read].windows(12).any(|w| w == b"auth/request") {
                return Ok(());
            }
        }
        Err(format!(
            "event socket {addr} did not greet with auth/request"
        ))
    };
    tokio::time::timeout(timeout, greet)
        .await
        .map_err(|_| format!("event socket {addr}: no greeting within {timeout:?}"))?
}

/// Runs the probes of this pass.
pub async fn probe(ctx: &Context, bbb: &bbb_core::bbb::BbbClient) -> Probes {
    let bbb_web = match bbb.api_version().await {
        Ok(_) => None,
        Err(e) => Some(format!("bbb-web API root: {e}")),
    };
    let freeswitch = match &ctx.settings.freeswitch_esl {
        Some(addr) => probe_freeswitch(addr, ctx.settings.request_timeout)
            .await
            .err(),
        None => None,
    };
    Probes {
        bbb_web,
        freeswitch,
    }
}

/// One pass: updates `state.health` from `probes` and what BBB showed (`meetings`: `None` when
/// `getMeetings` failed), decides, logs, and reports the instance unhealthy when the rule says
/// so. A failed report is logged and retried next pass.
pub async fn run(
    ctx: &Context,
    state: &mut HookState,
    probes: Probes,
    meetings: Option<usize>,
    recordings_in_progress: usize,
) {
    let h = &mut state.health;
    if let Some(n) = meetings {
        h.last_meetings = n;
    }
    h.freeswitch_failures = match probes.freeswitch {
        Some(_) => h.freeswitch_failures.saturating_add(1),
        None => 0,
    };
    super::health_cordon::run(ctx, state, probes.freeswitch.clone()).await;
    let h = &mut state.health;
    if probes.healthy() {
        if h.failures > 0 {
            tracing::info!(after_failures = h.failures, "bbb healthy again");
        }
        h.failures = 0;
        h.failing_since = 0;
        return;
    }
    if h.failures == 0 {
        h.failing_since = now_secs();
    }
    h.failures = h.failures.saturating_add(1);
    let inputs = Inputs {
        probes,
        failures: h.failures,
        threshold: ctx.settings.health_failures,
        meetings,
        last_meetings: h.last_meetings,
        recordings_in_progress,
        failing_for_s: now_secs().saturating_sub(h.failing_since),
        max_wait_s: ctx.config.max_wait_seconds,
        reported: h.reported,
    };
    let (action, reason) = decide(&inputs);
    let record = serde_json::json!({
        "event": "health_decision",
        "instance_id": ctx.identity.instance_id,
        "action": action,
        "reason": reason,
        "inputs": inputs,
    });
    let name = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let (action_s, reason_s) = (
        name(serde_json::to_value(action)),
        name(serde_json::to_value(reason)),
    );
    if action != Action::ReportUnhealthy {
        tracing::warn!(action = %action_s, reason = %reason_s, decision = %record, "health decision");
        return;
    }
    match ctx
        .aws
        .set_instance_health(&ctx.identity.instance_id, false, false)
        .await
    {
        Ok(()) => {
            state.health.reported = true;
            tracing::warn!(action = %action_s, reason = %reason_s, decision = %record, "health decision");
        }
        Err(e) => {
            tracing::warn!(error = %e, action = %action_s, reason = %reason_s, decision = %record, "health decision: the report failed; retried next pass");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            probes: Probes {
                bbb_web: None,
                freeswitch: Some("event socket: refused".into()),
            },
            failures: 4,
            threshold: 4,
            meetings: Some(0),
            last_meetings: 0,
            recordings_in_progress: 0,
            failing_for_s: 120,
            max_wait_s: 14_400,
            reported: false,
        }
    }

    #[test]
    fn dead_and_idle_is_reported_after_the_threshold_only() {
        let i = inputs();
        assert_eq!(decide(&i), (Action::ReportUnhealthy, Reason::DeadAndIdle));
        let flap = Inputs {
            failures: 3,
            ..i.clone()
        };
        assert_eq!(decide(&flap), (Action::Hold, Reason::Flap));
        let healthy = Inputs {
            probes: Probes::default(),
            ..i.clone()
        };
        assert_eq!(decide(&healthy), (Action::None, Reason::Healthy));
        let off = Inputs {
            threshold: 0,
            ..i.clone()
        };
        assert_eq!(decide(&off), (Action::None, Reason::CheckOff));
        let again = Inputs {
            reported: true,
            ..i
        };
        assert_eq!(decide(&again), (Action::None, Reason::AlreadyReported));
    }

    #[test]
    fn meetings_and_recordings_hold_the_report() {
        let i = Inputs {
            meetings: Some(2),
            failures: 400,
            failing_for_s: 100_000,
            ..inputs()
        };
        assert_eq!(decide(&i), (Action::Hold, Reason::HostingMeetings));
        let rec = Inputs {
            recordings_in_progress: 1,
            ..inputs()
        };
        assert_eq!(decide(&rec), (Action::Hold, Reason::RecordingsInProgress));
    }

    #[test]
    fn with_bbb_web_dead_the_last_known_meetings_hold_until_max_wait() {
        let i = Inputs {
            probes: Probes {
                bbb_web: Some("connection refused".into()),
                freeswitch: None,
            },
            meetings: None,
            last_meetings: 3,
            ..inputs()
        };
        assert_eq!(decide(&i), (Action::Hold, Reason::HostingMeetingsLastKnown));
        let late = Inputs {
            failing_for_s: 14_400,
            ..i.clone()
        };
        assert_eq!(
            decide(&late),
            (Action::ReportUnhealthy, Reason::DeadPastMaxWait)
        );
        let idle = Inputs {
            last_meetings: 0,
            ..i
        };
        assert_eq!(
            decide(&idle),
            (Action::ReportUnhealthy, Reason::DeadAndIdle)
        );
    }

    #[tokio::test]
    async fn freeswitch_probe_wants_the_event_socket_greeting() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"Content-Type: auth/request\n\n")
                .await
                .unwrap();
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                .await
                .unwrap();
        });
        let t = Duration::from_secs(2);
        assert_eq!(probe_freeswitch(&addr, t).await, Ok(()));
        assert!(probe_freeswitch(&addr, t).await.is_err());
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gone = closed.local_addr().unwrap().to_string();
        drop(closed);
        assert!(probe_freeswitch(&gone, t).await.is_err());
    }
}
