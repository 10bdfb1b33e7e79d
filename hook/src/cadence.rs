//! "At most once per interval" for the work a `protect` pass does less often than the timer
//! fires: publishing the load to CloudWatch and consolidating.
//!
//! The protect timer fires every 30 s (`ami/systemd/bbb-hook-protect.timer`), and a run is
//! stamped when its work returns, some milliseconds into its pass. Two periods later the check
//! runs at about the same point of its pass, often a little earlier, so a strict "the interval
//! has passed" would skip that pass about half the time and run a whole period late: a 60 s
//! interval would become 60 or 90 s, leaving CloudWatch minutes without this server's
//! datapoint (the group's `Sum` of participants, which predictive scaling reads, would drop).
//! A run is due once the interval less a slack has passed: 5 s (the timer's `AccuracySec`), or
//! a quarter of the interval when that is shorter (the sandbox's compressed intervals). The
//! slack does not absorb timer jitter (systemd.timer(5): `AccuracySec` places the elapse at a
//! "host-specific, randomized, but stable position", so passes are a steady 30 s apart); it
//! absorbs the time from a pass's start to its stamp. The load's CloudWatch datapoint goes by
//! the minute instead ([`new_period`]).

/// Whether `now_ms` is in a later `interval_ms`-aligned period than `last_ms`: for the load's
/// CloudWatch datapoint, once per UTC minute (CloudWatch buckets datapoints by their timestamp's
/// minute, and the hook stamps each at send). With the timer's two passes a minute, the first
/// pass of a minute publishes and a failed publication is retried by the second; no minute is
/// left without this server's datapoint, and none gets two.
pub fn new_period(last_ms: u64, interval_ms: u64, now_ms: u64) -> bool {
    let interval = interval_ms.max(1);
    now_ms / interval != last_ms / interval
}

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
    fn one_datapoint_per_minute_and_a_failed_one_retried_in_the_same_minute() {
        // Passes at :00 and :30 of each minute, 3.2 s after (the timer's stable offset).
        let pass = |k: u64| 1_800_000_000 + 30_000 * k + 3_200;
        let mut last = 0;
        let mut sent = Vec::new();
        for k in 0..8 {
            let now = pass(k);
            if new_period(last, 60_000, now) {
                // The publication at pass 2 fails: nothing is stamped.
                if k != 2 {
                    last = now + 400;
                    sent.push(k);
                }
            }
        }
        assert_eq!(sent, vec![0, 3, 4, 6]);
        let minutes: Vec<u64> = sent.iter().map(|&k| pass(k) / 60_000).collect();
        let mut unique = minutes.clone();
        unique.dedup();
        assert_eq!(unique, minutes, "one datapoint a minute");
        assert_eq!(
            minutes.last().map(|m| m - minutes[0]),
            Some(3),
            "no minute skipped"
        );
    }

    #[test]
    fn short_intervals_keep_a_quarter_as_slack() {
        assert!(!due(1_000, 700, 1_000 + 500));
        assert!(due(1_000, 700, 1_000 + 530));
        assert!(due(0, 0, 0));
    }
}
