//! (c)'s pre-warming: EC2 Auto Scaling's predictive scaling, as `modules/fleet` deploys it
//! (`aws_autoscaling_policy.predictive`), not a forecast of our own.
//!
//! What AWS documents, and how it is played here:
//! - The load metric is the group's total load: the `Sum` of the hooks' `BBB/Fleet Participants`
//!   (one datapoint per server a minute). For custom metrics CloudWatch provides "a single data
//!   value for any one-hour period by aggregating all data points with timestamps that fall
//!   within each one-hour period" (EC2 Auto Scaling, predictive scaling with custom metrics): an
//!   hour's load is its participant-minutes, and the capacity it needs is their hourly mean over
//!   the target value (participants per server a minute, the scaling metric's `Average`).
//! - The forecast is hourly, from up to 14 days of the load history (24 hours at least). AWS's
//!   model is not public; here an hour's forecast is the same hour a week earlier when the
//!   history reaches that far, else the day before (the lecture week repeats by weekday).
//! - In `ForecastAndScale` mode the group is scaled out to an hour's forecast capacity
//!   `SchedulingBufferTime` before the hour starts (so that servers launched for it are in
//!   service at the hour); a forecast below the current capacity does nothing: predictive
//!   scaling "will not scale in to remove capacity", dynamic scaling does ("How predictive
//!   scaling works", EC2 Auto Scaling User Guide). With several policies "each policy determines
//!   the desired capacity independently, and the desired capacity is set to the maximum of
//!   those", and the forecast is "the minimum capacity that is needed on an hourly basis"
//!   (`GetPredictiveScalingForecast`): target tracking does not scale in below the hour's
//!   forecast while the hour lasts ([`hour_floor`]; `--set forecast_holds_hour=off` plays a
//!   one-off scale-out that only the warm-up protects).
//! - The forecast is the weekly copy of the history: a best case for AWS's model, which is not
//!   public (a plain mean of the earlier days' same hour sizes a lecture block for less).

use crate::policy::Config;

const DAY_MIN: usize = 1440;

/// The capacity predictive scaling scales out to at `minute` (an index into `history`, the
/// fleet's participants per minute, the earlier days' included): at an hour's action time
/// (`forecast_buffer_s` before it starts), that hour's forecast; `None` at any other minute.
/// The group keeps the larger of it and its desired capacity.
pub fn scale_out_at(c: &Config, history: &[u32], minute: usize) -> Option<u32> {
    let buffer_min = (c.forecast_buffer_s / 60) as usize;
    let hour_start = minute + buffer_min;
    if !hour_start.is_multiple_of(60) {
        return None;
    }
    Some(hour_capacity(c, history, hour_start))
}

/// The forecast capacity of the hour `minute` falls in once its action time has passed (the
/// hour starting within `forecast_buffer_s`, else the current one): what
/// [`crate::policy::Config::forecast_holds_hour`] keeps as a floor.
pub fn hour_floor(c: &Config, history: &[u32], minute: usize) -> u32 {
    let buffer_min = (c.forecast_buffer_s / 60) as usize;
    hour_capacity(c, history, (minute + buffer_min) / 60 * 60)
}

/// The forecast capacity of the hour starting at minute `hour_start`: the mean load of the same
/// hour a week earlier (else a day earlier) over the target; 0 without that history.
fn hour_capacity(c: &Config, history: &[u32], hour_start: usize) -> u32 {
    let Some(from) = hour_start
        .checked_sub(7 * DAY_MIN)
        .or_else(|| hour_start.checked_sub(DAY_MIN))
    else {
        return 0;
    };
    let Some(hour) = history.get(from..from + 60) else {
        return 0;
    };
    let participant_minutes: u64 = hour.iter().map(|&p| u64::from(p)).sum();
    let per_minute = participant_minutes.div_ceil(60);
    u32::try_from(per_minute.div_ceil(u64::from(c.forecast_participants.max(1))))
        .unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let mut c = Config::for_capacity(200);
        c.forecast_participants = 150;
        c.forecast_buffer_s = 600;
        c
    }

    #[test]
    fn an_hour_is_scaled_out_to_its_mean_load_a_day_earlier_at_its_action_time() {
        let c = config();
        // Yesterday 09:00-10:00: 900 participants for 40 minutes, none after (mean 600).
        let mut history = vec![0u32; DAY_MIN + 600];
        history[540..580].fill(900);
        // 08:50 today: the buffer (10 minutes) before 09:00.
        assert_eq!(scale_out_at(&c, &history, DAY_MIN + 530), Some(4));
        assert_eq!(scale_out_at(&c, &history, DAY_MIN + 529), None);
        assert_eq!(
            scale_out_at(&c, &history, DAY_MIN + 531),
            None,
            "once an hour"
        );
        assert_eq!(
            scale_out_at(&c, &history, DAY_MIN + 590),
            Some(0),
            "10:00's hour"
        );
        assert_eq!(
            scale_out_at(&c, &history, 530),
            Some(0),
            "no history on day one"
        );
    }

    #[test]
    fn the_same_weekday_wins_over_yesterday() {
        let c = config();
        let mut history = vec![0u32; 8 * DAY_MIN + 600];
        history[DAY_MIN + 540..DAY_MIN + 600].fill(1500); // a week before the day played
        history[7 * DAY_MIN + 540..7 * DAY_MIN + 600].fill(150); // the day before it
        assert_eq!(scale_out_at(&c, &history, 8 * DAY_MIN + 530), Some(10));
    }
}
