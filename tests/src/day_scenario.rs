//! A compressed day on the sandbox's fleet: users create meetings through the Scalelite double
//! (routed as Scalelite routes them) and the meetings end on their own; the hooks publish the
//! participants; target tracking on them (the sandbox plays AWS's alarms and arithmetic,
//! [`bbb_sandbox::TargetTracking`], one compressed minute a [`Day::minute`]) scales the fleet out, meetings land on every server; demand
//! falls, the group wants fewer servers than it has, and the hooks' consolidation cordons the
//! surplus servers, which empty as their meetings end and leave through the drain. No meeting is
//! ever ended by the fleet. Played by `tests/tests/fleet_sandbox.rs` and `scripts/demo`
//! (`fleet-demo`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bbb_core::scalelite::ServerState;
use bbb_sandbox::{Sandbox, TargetTracking, Traffic, TrafficCounts};
use serde_json::json;

/// The terminating lifecycle hook the day's group has (its drain).
pub const DRAIN_HOOK: &str = "sandbox-day-drain";

/// The day's shape, in compressed seconds.
#[derive(Debug, Clone)]
pub struct Day {
    /// Target of the target-tracking policy.
    pub participants_per_server: f64,
    pub max_servers: i32,
    /// A minute of the day: the metric's period and target tracking's evaluation interval.
    pub minute: Duration,
    /// Morning: this many meetings, one every `morning_every`.
    pub morning_meetings: u32,
    pub morning_every: Duration,
    /// When the morning's meetings end (most of them), and when the long ones (every
    /// `long_every`-th) end.
    pub morning_end: Duration,
    pub long_end: Duration,
    pub long_every: u32,
    /// The day's length.
    pub length: Duration,
}

impl Default for Day {
    fn default() -> Self {
        Self {
            participants_per_server: 80.0,
            max_servers: 5,
            minute: Duration::from_secs(2),
            morning_meetings: 18,
            morning_every: Duration::from_millis(1500),
            morning_end: Duration::from_secs(60),
            long_end: Duration::from_secs(100),
            long_every: 6,
            length: Duration::from_secs(170),
        }
    }
}

/// What the day saw.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct DayOutcome {
    pub peak_servers: usize,
    /// Meetings created on each server (instance id -> count).
    pub meetings_per_server: BTreeMap<String, u32>,
    /// Servers that were in service at the peak.
    pub servers_at_peak: Vec<String>,
    pub traffic: TrafficCounts,
    /// Live meetings on instances the group terminated (the sandbox's count; target 0).
    pub meetings_dropped: u64,
    /// Consolidation cordons logged by the hooks, and how many were of servers with meetings.
    pub cordons: usize,
    pub cordoned_while_busy: usize,
    /// Servers left at the end, and the group's desired capacity then.
    pub final_servers: usize,
    pub final_desired: Option<i32>,
    pub failures: Vec<String>,
}

fn say(sb: &Sandbox, text: impl Into<String>) {
    sb.events.push("day", text);
}

/// The hook configuration of the day's fleet (what `bbb_fleet` exports).
fn hook_config(sb: &Sandbox) -> String {
    let e = &sb.endpoints;
    json!({
        "version": 1, "fleet_name": bbb_sandbox::FLEET_NAME, "region": e.region,
        "autoscaling_group_name": e.autoscaling_group_name, "hosted_zone_id": e.hosted_zone_id,
        "domain": e.domain, "record_name_template": bbb_sandbox::RECORD_NAME_TEMPLATE,
        "record_ttl": 60, "scalelite_url": e.scalelite_url, "scalelite_tag": null,
        "load_multiplier": 1.0, "scalelite_secret_parameter": e.scalelite_secret_parameter,
        "protect_live_meetings": true, "launching_hook_name": "",
        "launching_heartbeat_timeout": 900, "terminating_hook_name": DRAIN_HOOK,
        "heartbeat_timeout": 60, "max_wait": "300s", "max_wait_seconds": 300
    })
    .to_string()
}

/// Meeting `i` of the morning: (participants, ends at).
fn morning_meeting(day: &Day, i: u32) -> (u32, Duration) {
    let participants = 10 + (i * 7) % 21;
    let end = if i % day.long_every == day.long_every - 1 {
        day.long_end + Duration::from_secs(u64::from(i % 3) * 4)
    } else {
        day.morning_end + Duration::from_secs(u64::from(i % 4) * 3)
    };
    (participants, end)
}

fn enabled_servers(sb: &Sandbox) -> (usize, usize) {
    let servers = sb.scalelite.servers();
    let count = |st: ServerState| servers.iter().filter(|s| s.state == st).count();
    (
        count(ServerState::Enabled),
        count(ServerState::Cordoned) + count(ServerState::Disabled),
    )
}

/// The `participants` of a decision record in a hook's log line.
fn participants_in(line: &str) -> Option<u32> {
    let at = line.find("\"participants\":")? + "\"participants\":".len();
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Plays `day` on `sb` (a fresh sandbox whose group has no instance yet).
pub async fn play(sb: &Sandbox, day: &Day) -> DayOutcome {
    let mut out = DayOutcome::default();
    let group = sb.endpoints.autoscaling_group_name.clone();
    if let Err(e) = sb
        .aws
        .autoscaling_sdk()
        .put_lifecycle_hook()
        .auto_scaling_group_name(&group)
        .lifecycle_hook_name(DRAIN_HOOK)
        .lifecycle_transition("autoscaling:EC2_INSTANCE_TERMINATING")
        .heartbeat_timeout(60)
        .default_result("CONTINUE")
        .send()
        .await
    {
        out.failures.push(format!("PutLifecycleHook: {e}"));
        return out;
    }
    sb.publish_hook_config(&hook_config(sb)).await;
    say(sb, "one server to start the day");
    sb.fleet.set_desired(1);
    let mut traffic = Traffic::new(Duration::from_secs(3));
    let started = Instant::now();
    let ready = sb
        .wait_for(Duration::from_secs(120), || {
            traffic.poll(sb);
            let ok = enabled_servers(sb).0 >= 1 && sb.scalelite.servers().iter().any(|s| s.online);
            async move { ok }
        })
        .await;
    if !ready {
        out.failures
            .push("the first server never joined Scalelite".into());
        return out;
    }
    say(
        sb,
        format!(
            "first server in service after {:.0} s; the day starts",
            started.elapsed().as_secs_f64()
        ),
    );

    let t0 = Instant::now();
    let mut next_morning = 0u32;
    let mut next_small = Duration::ZERO;
    let mut last_poll = Instant::now() - Duration::from_secs(10);
    let mut last_tracking = Instant::now();
    let mut tracking =
        TargetTracking::new(day.participants_per_server, 1, day.max_servers, day.minute);
    let mut last_report = Instant::now();
    let morning_over = day.morning_every * day.morning_meetings;
    loop {
        let t = t0.elapsed();
        if t >= day.length {
            break;
        }
        // The morning's meetings, then small short ones until the morning's end.
        if next_morning < day.morning_meetings && t >= day.morning_every * next_morning {
            let (participants, end) = morning_meeting(day, next_morning);
            let duration = end.saturating_sub(t).max(Duration::from_secs(5));
            if let Some(id) = traffic.create(sb, participants, duration) {
                *out.meetings_per_server.entry(id).or_default() += 1;
            }
            next_morning += 1;
        } else if t >= morning_over && t < day.morning_end && t >= next_small {
            if let Some(id) = traffic.create(sb, 5, Duration::from_secs(8)) {
                *out.meetings_per_server.entry(id).or_default() += 1;
            }
            next_small = t + Duration::from_secs(3);
        }
        traffic.end_due(sb);
        if last_poll.elapsed() >= Duration::from_secs(1) {
            traffic.poll(sb);
            last_poll = Instant::now();
        }
        if last_tracking.elapsed() >= day.minute {
            if let Err(e) = tracking.evaluate(sb).await {
                say(sb, format!("target tracking: {e}"));
            }
            last_tracking = Instant::now();
        }
        let live: Vec<String> = sb
            .fleet
            .views()
            .into_iter()
            .filter(|v| !v.terminating)
            .map(|v| v.instance_id)
            .collect();
        if live.len() > out.peak_servers {
            out.peak_servers = live.len();
            out.servers_at_peak = live.clone();
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            let (enabled, off) = enabled_servers(sb);
            let participants: u32 = sb
                .fleet
                .views()
                .iter()
                .filter_map(|v| {
                    sb.fleet
                        .with_instance(&v.instance_id, |i| i.bbb.attendees())
                })
                .sum();
            say(
                sb,
                format!(
                    "t={:>3.0}s desired {} | servers {} ({} enabled, {} cordoned) | meetings {} | participants {}",
                    t.as_secs_f64(),
                    sb.fleet.desired().unwrap_or_default(),
                    live.len(),
                    enabled,
                    off,
                    traffic.live(),
                    participants
                ),
            );
            last_report = Instant::now();
        }
        if t > day.long_end + Duration::from_secs(15)
            && traffic.live() == 0
            && live.len() == 1
            && sb.fleet.settled()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    out.traffic = traffic.counts();
    out.meetings_dropped = sb.fleet.stats().meetings_dropped;
    let events = sb.events.all();
    let cordons: Vec<_> = events
        .iter()
        .filter(|e| e.text.contains("consolidation decision") && e.text.contains("action=cordon"))
        .collect();
    out.cordons = cordons.len();
    out.cordoned_while_busy = cordons
        .iter()
        .filter(|e| participants_in(&e.text).is_some_and(|p| p > 0))
        .count();
    out.final_servers = sb.fleet.views().iter().filter(|v| !v.terminating).count();
    out.final_desired = sb.fleet.desired();
    say(
        sb,
        format!(
            "day over: peak {} servers, {} meetings created ({} refused), {} ended on their own, {} lost; {} consolidation cordons; {} server(s) left",
            out.peak_servers,
            out.traffic.created,
            out.traffic.refused,
            out.traffic.ended,
            out.traffic.lost + out.meetings_dropped,
            out.cordons,
            out.final_servers
        ),
    );
    out
}
