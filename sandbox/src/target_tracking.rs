//! The group's target-tracking policy on `Participants`, played by the sandbox: moto's
//! CloudWatch keeps the data points the hooks publish but its alarms invoke no scaling policy.
//!
//! As AWS documents target tracking for EC2 Auto Scaling, on a compressed clock where one
//! `period` stands for a minute:
//! - the metric is the group's `Average` of `Participants` per period: every server publishes
//!   one data point a period (the hooks publish at every protect pass, once per `period` or
//!   more often, all at the same rate), so it is the load per server;
//! - the policy's two alarms: scale out when the metric is above the target for 3 consecutive
//!   periods, scale in when it is below for 15 ("scales out proportionally to the metric as fast
//!   as it can, but scales in more gradually"; the alarms `TargetTracking-...-AlarmHigh` and
//!   `-AlarmLow` AWS creates evaluate 3 and 15 one-minute data points);
//! - the new capacity is proportional, `ceil(current * metric / target)`, where `current` counts
//!   the instances past their launch (registered and polled online in Scalelite: AWS leaves the
//!   instances in warm-up out of the metric and the capacity alike), clamped to the group's
//!   bounds; a scale-out never lowers the desired capacity, a scale-in never raises it;
//! - a period without data (INSUFFICIENT_DATA) scales nothing.

use std::collections::VecDeque;
use std::time::Duration;

use bbb_core::aws::FLEET_METRICS_NAMESPACE;

use crate::traffic::in_service;
use crate::Sandbox;

/// Consecutive periods above the target before a scale-out (AWS's high alarm).
pub const SCALE_OUT_PERIODS: usize = 3;
/// Consecutive periods below the target before a scale-in (AWS's low alarm).
pub const SCALE_IN_PERIODS: usize = 15;

/// The target-tracking policy of the sandbox's group (see the module documentation).
#[derive(Debug, Clone)]
pub struct TargetTracking {
    pub target: f64,
    pub min: i32,
    pub max: i32,
    /// The compressed minute: the metric's period, and how often [`Self::evaluate`] is called.
    pub period: Duration,
    /// The metric's last values, newest last.
    history: VecDeque<f64>,
}

/// What one evaluation decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// No complete data yet, or the metric within its alarms' patience.
    Hold,
    ScaleOut(i32),
    ScaleIn(i32),
}

impl TargetTracking {
    pub fn new(target: f64, min: i32, max: i32, period: Duration) -> Self {
        Self {
            target,
            min,
            max,
            period,
            history: VecDeque::new(),
        }
    }

    /// Records one period's metric and decides from the history, for a group with `current`
    /// instances in service and desired capacity `desired` (the arithmetic, without I/O).
    pub fn judge(&mut self, metric: Option<f64>, current: usize, desired: i32) -> Verdict {
        let Some(metric) = metric else {
            self.history.clear();
            return Verdict::Hold;
        };
        self.history.push_back(metric);
        while self.history.len() > SCALE_IN_PERIODS {
            self.history.pop_front();
        }
        if current == 0 || self.target <= 0.0 {
            return Verdict::Hold;
        }
        let last = |n: usize| self.history.iter().rev().take(n);
        let wanted =
            ((current as f64 * metric / self.target).ceil() as i32).clamp(self.min, self.max);
        if self.history.len() >= SCALE_OUT_PERIODS
            && last(SCALE_OUT_PERIODS).all(|m| *m > self.target)
        {
            if wanted > desired {
                return Verdict::ScaleOut(wanted);
            }
        } else if self.history.len() >= SCALE_IN_PERIODS
            && last(SCALE_IN_PERIODS).all(|m| *m < self.target)
            && wanted < desired
        {
            return Verdict::ScaleIn(wanted);
        }
        Verdict::Hold
    }

    /// One period: reads the group's `Participants` of the last period from CloudWatch, judges,
    /// and sets the desired capacity on a scale-out or scale-in (logged as a `target-tracking`
    /// event with its inputs).
    pub async fn evaluate(&mut self, sb: &Sandbox) -> Result<Verdict, String> {
        let points = sb
            .aws
            .metric_statistics(
                FLEET_METRICS_NAMESPACE,
                "Participants",
                &sb.endpoints.autoscaling_group_name,
                self.period,
                self.period,
            )
            .await
            .map_err(|e| format!("GetMetricStatistics: {e}"))?;
        let (sum, count) = points.iter().fold((0.0, 0.0), |(s, c), p| {
            (s + p.sum.unwrap_or(0.0), c + p.sample_count.unwrap_or(0.0))
        });
        let metric = (count > 0.0).then(|| sum / count);
        let current = in_service(sb);
        let desired = sb.fleet.desired().unwrap_or(current as i32);
        let verdict = self.judge(metric, current, desired);
        if let (Verdict::ScaleOut(n) | Verdict::ScaleIn(n), Some(metric)) = (verdict, metric) {
            let periods = match verdict {
                Verdict::ScaleOut(_) => format!("above {} for {SCALE_OUT_PERIODS}", self.target),
                _ => format!("below {} for {SCALE_IN_PERIODS}", self.target),
            };
            sb.events.push(
                "target-tracking",
                format!(
                    "Participants average {metric:.1} per server ({periods} periods) x {current} in service -> desired {n} (was {desired})"
                ),
            );
            sb.fleet.set_desired(n);
        }
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> TargetTracking {
        TargetTracking::new(80.0, 1, 5, Duration::from_secs(1))
    }

    #[test]
    fn scales_out_after_three_periods_above_and_proportionally() {
        let mut tt = policy();
        assert_eq!(tt.judge(Some(120.0), 2, 2), Verdict::Hold);
        assert_eq!(tt.judge(Some(120.0), 2, 2), Verdict::Hold);
        assert_eq!(tt.judge(Some(120.0), 2, 2), Verdict::ScaleOut(3));
        // Capped by the group's maximum.
        assert_eq!(tt.judge(Some(400.0), 2, 3), Verdict::ScaleOut(5));
        // Instances launching already count in the desired capacity: no second scale-out.
        assert_eq!(tt.judge(Some(120.0), 2, 3), Verdict::Hold);
    }

    #[test]
    fn scales_in_only_after_fifteen_periods_below() {
        let mut tt = policy();
        for _ in 0..SCALE_IN_PERIODS - 1 {
            assert_eq!(tt.judge(Some(20.0), 4, 4), Verdict::Hold);
        }
        assert_eq!(tt.judge(Some(20.0), 4, 4), Verdict::ScaleIn(1));
        // One period above the target resets the patience.
        let mut tt = policy();
        for _ in 0..SCALE_IN_PERIODS - 1 {
            tt.judge(Some(20.0), 4, 4);
        }
        assert_eq!(tt.judge(Some(90.0), 4, 4), Verdict::Hold);
        assert_eq!(tt.judge(Some(20.0), 4, 4), Verdict::Hold);
    }

    #[test]
    fn missing_data_scales_nothing_and_restarts_the_count() {
        let mut tt = policy();
        tt.judge(Some(120.0), 2, 2);
        tt.judge(Some(120.0), 2, 2);
        assert_eq!(tt.judge(None, 2, 2), Verdict::Hold);
        assert_eq!(tt.judge(Some(120.0), 2, 2), Verdict::Hold);
    }
}
