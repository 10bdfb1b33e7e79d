//! `bbb_fleet`'s `drain.max_wait` against the terminating lifecycle hook's global timeout.
//!
//! An instance stays in `Terminating:Wait` at most the hook's global timeout, "172800 seconds
//! (48 hours) or 100 times HeartbeatTimeout, whichever is smaller" (Amazon EC2 Auto Scaling API
//! reference, `LifecycleHook.GlobalTimeout`), however often the hook records a heartbeat. A drain
//! that may wait longer is cut off by the group mid-wait. The on-instance hook derives its systemd
//! stop timeouts from the same `max_wait` (`bbb-hook timeouts`), so all of them agree.

use tfplugin_framework::{AttrPath, Diagnostics, Value};

/// The global timeout's ceiling (48 h).
pub const GLOBAL_TIMEOUT_CAP_SECONDS: u64 = 172_800;
/// The global timeout is at most this many heartbeat timeouts.
pub const HEARTBEATS_PER_GLOBAL_TIMEOUT: u64 = 100;
/// What the drain needs after `max_wait` to deregister, delete the record and complete the
/// lifecycle action (the hook's `DRAIN_FINISH_SECONDS`).
pub const DRAIN_FINISH_SECONDS: u64 = 300;

/// What the global timeout's clock has run before the drain's own starts: AWS starts it as the
/// instance enters `Terminating:Wait`, the hook's lifecycle watcher reads the target lifecycle
/// state from the metadata service every 10 s (which shows it "when an instance prepares to
/// transition"), and the drain then counts `max_wait` from its first run, across restarts.
pub const DRAIN_NOTICE_SECONDS: u64 = 60;

/// The terminating hook's global timeout for a heartbeat timeout of `heartbeat` seconds.
pub fn global_timeout(heartbeat: u64) -> u64 {
    GLOBAL_TIMEOUT_CAP_SECONDS.min(heartbeat.saturating_mul(HEARTBEATS_PER_GLOBAL_TIMEOUT))
}

/// The longest `max_wait` a drain can use with that heartbeat timeout.
pub fn longest_max_wait(heartbeat: u64) -> u64 {
    global_timeout(heartbeat).saturating_sub(DRAIN_FINISH_SECONDS + DRAIN_NOTICE_SECONDS)
}

/// Checks the configuration's `drain` block (defaults where an attribute is absent; nothing while a
/// value is unknown). The error is on `drain.max_wait`.
pub fn validate(
    config: &Value,
    default_heartbeat: f64,
    default_max_wait: &str,
    diags: &mut Diagnostics,
) {
    let drain = config.get("drain");
    let heartbeat = drain.get("heartbeat_timeout");
    let max_wait = drain.get("max_wait");
    if heartbeat.is_unknown() || max_wait.is_unknown() {
        return;
    }
    let heartbeat = heartbeat.as_f64().unwrap_or(default_heartbeat);
    let max_wait_text = max_wait.as_str().unwrap_or(default_max_wait);
    // Malformed values have their own diagnostics (the attributes' validators).
    let (Ok(wait), true) = (
        humantime::parse_duration(max_wait_text),
        heartbeat.is_finite() && heartbeat >= 1.0,
    ) else {
        return;
    };
    let heartbeat = heartbeat as u64;
    let longest = longest_max_wait(heartbeat);
    if wait.as_secs() > longest {
        diags.error_at(
            AttrPath::attr("drain").join("max_wait"),
            "drain.max_wait is longer than the terminating lifecycle hook allows",
            format!(
                "drain.max_wait is {max_wait_text} ({}s), but an instance stays in Terminating:Wait at most the hook's global timeout, \
                 min(48h, 100 x heartbeat_timeout) = {}s with heartbeat_timeout = {heartbeat}, and the drain needs {DRAIN_FINISH_SECONDS}s after max_wait \
                 to leave Scalelite, DNS and the group, and up to {DRAIN_NOTICE_SECONDS}s before it to notice the termination. Use a max_wait of at most {longest}s, or a longer drain.heartbeat_timeout.",
                wait.as_secs(),
                global_timeout(heartbeat),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::resources::fleet::Fleet;
    use tfplugin_framework::Resource;

    fn config(heartbeat: Option<f64>, max_wait: Option<&str>) -> Value {
        let mut drain = BTreeMap::new();
        drain.insert(
            "heartbeat_timeout".to_string(),
            heartbeat.map_or(Value::Null, Value::Number),
        );
        drain.insert(
            "max_wait".to_string(),
            max_wait.map_or(Value::Null, Value::string),
        );
        let mut root = BTreeMap::new();
        root.insert("drain".to_string(), Value::Map(drain));
        Value::Map(root)
    }

    /// The details of the errors `bbb_fleet`'s validation reports for `cfg`.
    fn errors(cfg: &Value) -> Vec<String> {
        let mut d = Diagnostics::new();
        Fleet.validate(cfg, &mut d);
        d.iter().map(|x| x.detail.clone()).collect()
    }

    #[test]
    fn global_timeout_is_48h_or_100_heartbeats_whichever_is_smaller() {
        assert_eq!(global_timeout(30), 3000);
        assert_eq!(global_timeout(900), 90_000);
        assert_eq!(global_timeout(7200), 172_800);
        assert_eq!(longest_max_wait(900), 89_640);
    }

    #[test]
    fn a_max_wait_past_the_global_timeout_is_refused_by_the_fleet() {
        // heartbeat 30 s: the hook holds the instance 3000 s at most, a 4 h wait would be cut off.
        let e = errors(&config(Some(30.0), Some("4h")));
        assert!(!e.is_empty(), "4h with a 30 s heartbeat must be refused");
        assert!(e.join("\n").contains("2640"), "{e:?}");
        // The defaults (900 s, 4 h) and a wait just inside the limit pass.
        assert!(errors(&config(None, None)).is_empty());
        assert!(errors(&config(Some(30.0), Some("44m"))).is_empty());
        // 45 minutes leaves the drain its finishing time but not the time to notice the
        // termination (the watcher's poll of the metadata service).
        assert!(!errors(&config(Some(30.0), Some("45m"))).is_empty());
        assert!(!errors(&config(Some(30.0), Some("46m"))).is_empty());
        // 48 h is the ceiling whatever the heartbeat: 47h54m is the longest wait.
        assert!(errors(&config(Some(7200.0), Some("47h 54m"))).is_empty());
        assert!(!errors(&config(Some(7200.0), Some("47h 55m"))).is_empty());
        assert!(!errors(&config(Some(7200.0), Some("48h"))).is_empty());
        // An absent max_wait is the default 4 h, too long for a 30 s heartbeat.
        assert!(!errors(&config(Some(30.0), None)).is_empty());
    }

    #[test]
    fn unknown_values_are_left_for_later() {
        let mut cfg = config(Some(30.0), Some("4h"));
        if let Value::Map(root) = &mut cfg {
            if let Some(Value::Map(d)) = root.get_mut("drain") {
                d.insert("max_wait".into(), Value::Unknown);
            }
        }
        assert!(errors(&cfg).is_empty());
    }
}
