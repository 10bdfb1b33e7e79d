//! The instance's load as CloudWatch metrics, published by `protect` from the `getMeetings` it
//! already reads: participants, meetings and video streams, in the namespace
//! [`FLEET_METRICS_NAMESPACE`] with the `AutoScalingGroupName` dimension only, so that the
//! group's `Average` is the load per server (the fleet module's target-tracking policy scales on
//! `Participants`). At most one `PutMetricData` per `BBB_HOOK_METRICS_INTERVAL` (a minute).
//!
//! A failed publication is logged and retried at the next pass; it never holds back protection.

use bbb_core::aws::{MetricDatum, FLEET_METRICS_NAMESPACE};

use crate::context::Context;
use crate::local_bbb::Activity;
use crate::state::{now_millis, HookState};

/// The metric the fleet scales on: BBB's `participantCount` summed over the server's meetings.
pub const PARTICIPANTS: &str = "Participants";
pub const MEETINGS: &str = "Meetings";
pub const VIDEO_STREAMS: &str = "VideoStreams";

/// The data points of `activity`.
pub fn data(activity: &Activity) -> Vec<MetricDatum> {
    vec![
        MetricDatum {
            name: PARTICIPANTS,
            value: activity.participants as f64,
        },
        MetricDatum {
            name: MEETINGS,
            value: activity.meetings as f64,
        },
        MetricDatum {
            name: VIDEO_STREAMS,
            value: activity.video_streams as f64,
        },
    ]
}

/// Whether a publication is due at `now_ms`: the first pass of each interval-aligned period
/// (each UTC minute by default, [`crate::cadence::new_period`]).
pub fn due(state: &HookState, interval_ms: u64, now_ms: u64) -> bool {
    crate::cadence::new_period(state.metrics_published_at_ms, interval_ms, now_ms)
}

/// Publishes `activity` when due; records the time in `state` on success. `true` when sent.
pub async fn publish(ctx: &Context, activity: &Activity, state: &mut HookState) -> bool {
    let interval_ms = ctx.settings.metrics_interval.as_millis() as u64;
    if !due(state, interval_ms, now_millis()) {
        return false;
    }
    match ctx
        .aws
        .put_metric_data(
            FLEET_METRICS_NAMESPACE,
            &ctx.config.autoscaling_group_name,
            &data(activity),
        )
        .await
    {
        Ok(()) => {
            state.metrics_published_at_ms = now_millis();
            tracing::debug!(
                participants = activity.participants,
                meetings = activity.meetings,
                video_streams = activity.video_streams,
                "load published to cloudwatch"
            );
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "load not published to cloudwatch; retried next pass");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_once_per_minute() {
        let minute = |m: u64| 1_800_000_000 + 60_000 * m;
        let mut s = HookState::default();
        assert!(due(&s, 60_000, minute(0) + 3_000));
        s.metrics_published_at_ms = minute(0) + 3_400;
        assert!(
            !due(&s, 60_000, minute(0) + 33_000),
            "the minute's second pass"
        );
        assert!(
            due(&s, 60_000, minute(1) + 3_000),
            "the next minute's first"
        );
    }

    /// The protect timer fires every 30 s; a pass stamps its publication when the call returns,
    /// some milliseconds into the pass. Two timer periods later the check runs at the same point
    /// of its pass, or earlier: the publication is due then, not a third period later (a
    /// 60 s interval must not become 90 s, leaving CloudWatch minutes without this server).
    #[test]
    fn due_two_timer_periods_later_though_the_last_was_stamped_late_in_its_pass() {
        let pass = |k: u64| 1_800_000_000 + 30_000 * k + 3_000;
        // Pass 0 reached the call 120 ms in; the call took 80 ms.
        let s = HookState {
            metrics_published_at_ms: pass(0) + 200,
            ..HookState::default()
        };
        assert!(!due(&s, 60_000, pass(1) + 120), "one timer period later");
        // Pass 2 reaches the check 110 ms in.
        assert!(due(&s, 60_000, pass(2) + 110), "two timer periods later");
    }

    #[test]
    fn three_counts() {
        let a = Activity {
            meetings: 2,
            participants: 31,
            video_streams: 4,
            ..Activity::default()
        };
        let d = data(&a);
        let get = |n: &str| d.iter().find(|m| m.name == n).map(|m| m.value);
        assert_eq!(get(PARTICIPANTS), Some(31.0));
        assert_eq!(get(MEETINGS), Some(2.0));
        assert_eq!(get(VIDEO_STREAMS), Some(4.0));
    }
}
