//! "At most once per interval" for the work a `protect` pass does less often than the timer
//! fires: publishing the load to CloudWatch and consolidating.
//!
//! The protect timer fires every 30 s (`ami/systemd/bbb-hook-protect.timer`), and a run is
//! stamped when its work returns, some milliseconds into its pass. Two periods later the check
//! runs at about the same point of its pass, often a little earlier, so a strict "the interval
//! has passed" would skip that pass about half the time and run a whole period late: a 60 s
//! interval would become 60 or 90 s, leaving CloudWatch minutes without this server's
//! datapoint (the group's `Sum` of participants, which predictive scaling reads, would drop).
//! A run is due once the interval less a slack has passed: the timer's `AccuracySec` (5 s), or
//! a quarter of the interval when that is shorter (the sandbox's compressed intervals).

/// The protect timer's `AccuracySec`.
pub const TIMER_SLACK_MS: u64 = 5_000;

/// Whether work last stamped at `last_ms` is due again at `now_ms` (milliseconds).
pub fn due(last_ms: u64, interval_ms: u64, now_ms: u64) -> bool {
    let slack = TIMER_SLACK_MS.min(interval_ms / 4);
    now_ms.saturating_sub(last_ms) >= interval_ms - slack
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_from_a_30_s_timer_is_every_other_pass() {
        let pass = |k: u64| 1_000_000 + 30_000 * k;
        let mut last = pass(0) + 250;
        let mut runs = Vec::new();
        for k in 1..=8 {
            // Each pass reaches the check between 80 and 160 ms in.
            let now = pass(k) + 80 + (k * 37) % 80;
            if due(last, 60_000, now) {
                runs.push(k);
                last = now + 150;
            }
        }
        assert_eq!(runs, vec![2, 4, 6, 8]);
    }

    #[test]
    fn short_intervals_keep_a_quarter_as_slack() {
        assert!(!due(1_000, 700, 1_000 + 500));
        assert!(due(1_000, 700, 1_000 + 530));
        assert!(due(0, 0, 0));
    }
}
