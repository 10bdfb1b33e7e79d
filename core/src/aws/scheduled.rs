//! Scheduled actions of an Auto Scaling group (scheduled capacity changes).

use std::time::SystemTime;

use aws_sdk_autoscaling::primitives::DateTime;

use super::config::AwsClients;
use super::counters::Service;
use super::error::AwsError;

/// A scheduled action to create or replace. At least one of the sizes must be set, and a
/// start time or a recurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledActionSpec {
    pub asg_name: String,
    pub name: String,
    /// Cron expression (UTC unless `time_zone` is set), e.g. `0 7 * * MON-FRI`.
    pub recurrence: Option<String>,
    pub start_time: Option<SystemTime>,
    pub end_time: Option<SystemTime>,
    /// IANA time zone of `recurrence`, e.g. `Europe/Berlin`.
    pub time_zone: Option<String>,
    pub min_size: Option<i32>,
    pub max_size: Option<i32>,
    pub desired_capacity: Option<i32>,
}

/// A scheduled action as Auto Scaling describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledAction {
    pub asg_name: String,
    pub name: String,
    pub arn: Option<String>,
    pub recurrence: Option<String>,
    pub start_time: Option<SystemTime>,
    pub end_time: Option<SystemTime>,
    pub time_zone: Option<String>,
    pub min_size: Option<i32>,
    pub max_size: Option<i32>,
    pub desired_capacity: Option<i32>,
}

fn system_time(t: Option<&DateTime>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

impl AwsClients {
    /// Creates or replaces a scheduled action (`PutScheduledUpdateGroupAction`).
    pub async fn put_scheduled_action(&self, spec: &ScheduledActionSpec) -> Result<(), AwsError> {
        let log = self.begin(
            Service::AutoScaling,
            "PutScheduledUpdateGroupAction",
            format!("{}/{}", spec.asg_name, spec.name),
        );
        let result = self
            .autoscaling
            .put_scheduled_update_group_action()
            .auto_scaling_group_name(&spec.asg_name)
            .scheduled_action_name(&spec.name)
            .set_recurrence(spec.recurrence.clone())
            .set_start_time(spec.start_time.map(DateTime::from))
            .set_end_time(spec.end_time.map(DateTime::from))
            .set_time_zone(spec.time_zone.clone())
            .set_min_size(spec.min_size)
            .set_max_size(spec.max_size)
            .set_desired_capacity(spec.desired_capacity)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| log.ctx.sdk_error(e));
        log.finish(result)
    }

    /// Deletes a scheduled action (`DeleteScheduledAction`).
    pub async fn delete_scheduled_action(
        &self,
        asg_name: &str,
        name: &str,
    ) -> Result<(), AwsError> {
        let log = self.begin(
            Service::AutoScaling,
            "DeleteScheduledAction",
            format!("{asg_name}/{name}"),
        );
        let result = self
            .autoscaling
            .delete_scheduled_action()
            .auto_scaling_group_name(asg_name)
            .scheduled_action_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| log.ctx.sdk_error(e));
        log.finish(result)
    }

    /// The scheduled actions of group `asg_name` (all pages; one call per page).
    pub async fn describe_scheduled_actions(
        &self,
        asg_name: &str,
    ) -> Result<Vec<ScheduledAction>, AwsError> {
        let mut out = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let log = self.begin(Service::AutoScaling, "DescribeScheduledActions", asg_name);
            let page = self
                .autoscaling
                .describe_scheduled_actions()
                .auto_scaling_group_name(asg_name)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| log.ctx.sdk_error(e))
                .and_then(|page| {
                    let actions = page
                        .scheduled_update_group_actions()
                        .iter()
                        .map(|a| {
                            Ok(ScheduledAction {
                                asg_name: a
                                    .auto_scaling_group_name()
                                    .unwrap_or(asg_name)
                                    .to_owned(),
                                name: a
                                    .scheduled_action_name()
                                    .ok_or_else(|| {
                                        log.ctx.invalid("a scheduled action has no name")
                                    })?
                                    .to_owned(),
                                arn: a.scheduled_action_arn().map(str::to_owned),
                                recurrence: a.recurrence().map(str::to_owned),
                                start_time: system_time(a.start_time()),
                                end_time: system_time(a.end_time()),
                                time_zone: a.time_zone().map(str::to_owned),
                                min_size: a.min_size(),
                                max_size: a.max_size(),
                                desired_capacity: a.desired_capacity(),
                            })
                        })
                        .collect::<Result<Vec<_>, AwsError>>()?;
                    Ok((actions, page.next_token().map(str::to_owned)))
                });
            let (actions, token) = log.finish(page)?;
            out.extend(actions);
            match token.filter(|t| !t.is_empty()) {
                Some(t) => next_token = Some(t),
                None => return Ok(out),
            }
        }
    }
}
