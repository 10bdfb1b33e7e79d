//! The schedule's state (`Model`), the names of its two scheduled actions, the actions it
//! puts (`Model::specs`), and the time helpers they need.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bbb_core::aws::{AwsClients, AwsError, ScheduledActionSpec};
pub(super) use bbb_core::time::parse_rfc3339;
use serde::{Deserialize, Serialize};

use crate::asg_cache::AsgCache;
use crate::aws_access::aws_error;
use tfplugin_framework::{AttrPath, Diagnostics};

pub(super) const DEFAULT_LEAD_TIME: &str = "10m";

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub(super) struct ReturnTo {
    pub min_size: Option<f64>,
    pub max_size: Option<f64>,
    pub desired_capacity: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(super) struct Model {
    pub id: Option<String>,
    pub autoscaling_group_name: Option<String>,
    pub fleet: Option<String>,
    pub name: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub recurrence: Option<String>,
    pub time_zone: Option<String>,
    pub duration: Option<String>,
    pub capacity: Option<f64>,
    pub expected_participants: Option<f64>,
    pub participants_per_server: Option<f64>,
    pub lead_time: Option<String>,
    pub raise_max_size: Option<bool>,
    pub return_to: Option<ReturnTo>,
    pub desired_capacity: Option<f64>,
    pub scale_up_time: Option<String>,
    pub scale_down_time: Option<String>,
    pub scale_up_recurrence: Option<String>,
    pub scale_down_recurrence: Option<String>,
    pub scale_up_action_name: Option<String>,
    pub scale_down_action_name: Option<String>,
    pub return_min_size: Option<f64>,
    pub return_max_size: Option<f64>,
    pub return_desired_capacity: Option<f64>,
}

pub(super) fn up_name(name: &str) -> String {
    format!("bbb-{name}-up")
}

pub(super) fn down_name(name: &str) -> String {
    format!("bbb-{name}-down")
}

pub(super) fn to_system_time(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

pub(super) fn from_system_time(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

pub(super) fn now_secs() -> i64 {
    from_system_time(SystemTime::now())
}

pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| e.to_string())
}

pub(super) fn format_minutes(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

pub(super) fn i32_of(n: Option<f64>) -> Option<i32> {
    n.map(|n| n as i32)
}

/// A one-off scheduled action with its time `secs` in the past is assumed to have run.
pub(super) fn has_run(time: Option<&str>) -> bool {
    time.and_then(|t| parse_rfc3339(t).ok())
        .is_some_and(|t| t <= now_secs())
}

pub(super) fn is_gone(e: &AwsError) -> bool {
    e.is_not_found()
        || (e.code() == Some("ValidationError")
            && e.to_string().to_ascii_lowercase().contains("not found"))
}

impl Model {
    /// The group's name: `autoscaling_group_name`, or the alias `fleet` (review P15: never an
    /// empty name sent to AWS).
    pub(super) fn group(&self) -> Result<String, Diagnostics> {
        self.autoscaling_group_name
            .clone()
            .or_else(|| self.fleet.clone())
            .filter(|g| !g.is_empty())
            .ok_or_else(|| {
                Diagnostics::from_error_at(
                    AttrPath::attr("autoscaling_group_name"),
                    "Missing autoscaling_group_name",
                    "The schedule names no Auto Scaling group.",
                )
            })
    }

    pub(super) fn specs(&self) -> Result<(ScheduledActionSpec, ScheduledActionSpec), Diagnostics> {
        let asg = self.group()?;
        let capacity = i32_of(self.desired_capacity);
        let time = |t: &Option<String>, attr: &str| -> Result<Option<SystemTime>, Diagnostics> {
            t.as_deref()
                .map(|s| {
                    parse_rfc3339(s).map(to_system_time).map_err(|e| {
                        Diagnostics::from_error_at(
                            AttrPath::attr(attr),
                            format!("Invalid {attr}"),
                            e,
                        )
                    })
                })
                .transpose()
        };
        let return_max = i32_of(self.return_max_size);
        let up_max = if self.raise_max_size == Some(true) {
            match (capacity, return_max) {
                (Some(c), Some(m)) => Some(c.max(m)),
                (c, m) => c.or(m),
            }
        } else {
            None
        };
        let tz = if self.recurrence.is_some() {
            self.time_zone.clone()
        } else {
            None
        };
        let up = ScheduledActionSpec {
            asg_name: asg.clone(),
            name: up_name(&self.name),
            recurrence: self.scale_up_recurrence.clone(),
            start_time: time(&self.scale_up_time, "scale_up_time")?,
            end_time: None,
            time_zone: tz.clone(),
            min_size: capacity,
            max_size: up_max,
            desired_capacity: capacity,
        };
        let down = ScheduledActionSpec {
            asg_name: asg,
            name: down_name(&self.name),
            recurrence: self.scale_down_recurrence.clone(),
            start_time: time(&self.scale_down_time, "scale_down_time")?,
            end_time: None,
            time_zone: tz,
            min_size: i32_of(self.return_min_size),
            max_size: return_max,
            desired_capacity: i32_of(self.return_desired_capacity),
        };
        Ok((up, down))
    }

    /// Fills the min and max size to return to that neither the configuration nor the plan
    /// gave, from the group as it is now (the plan could not read it).
    pub(super) async fn fill_return_sizes(
        &mut self,
        cache: &AsgCache,
        aws: &AwsClients,
    ) -> Result<(), Diagnostics> {
        if self.return_min_size.is_some() && self.return_max_size.is_some() {
            return Ok(());
        }
        let asg = self.group()?;
        let group = cache
            .group(aws, &asg)
            .await
            .map_err(|e| aws_error(&format!("read Auto Scaling group {asg}"), &e))?;
        self.return_min_size
            .get_or_insert(f64::from(group.min_size));
        self.return_max_size
            .get_or_insert(f64::from(group.max_size));
        Ok(())
    }
}
