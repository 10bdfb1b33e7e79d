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

/// Whether a publication is due at `now_ms`.
pub fn due(state: &HookState, interval_ms: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(state.metrics_published_at_ms) >= interval_ms
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
    fn at_most_once_per_interval() {
        let mut s = HookState::default();
        assert!(due(&s, 60_000, 1_000_000));
        s.metrics_published_at_ms = 1_000_000;
        assert!(!due(&s, 60_000, 1_000_000));
        assert!(!due(&s, 60_000, 1_059_999));
        assert!(due(&s, 60_000, 1_060_000));
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
