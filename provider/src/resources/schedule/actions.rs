//! Putting a `bbb_schedule`'s two scheduled actions.
//!
//! What is sent (`step`):
//! - A one-off action whose time has passed is not sent again (review D2): AWS ran it (and
//!   removed it) or is about to, and refuses a start time in the past ("Given start time is in
//!   the past"). Its values stay in state. Only an action whose time is unchanged since the
//!   last apply is skipped; a new time in the past (plan and apply far apart) is an error.
//! - An action whose recurrence or time zone changes, or that drops a size it set before, is
//!   deleted and put again (review G2): a put updates an existing action in place and keeps
//!   every optional value it does not name, and terraform-provider-aws #41200 reports the old
//!   computed next start surviving an in-place recurrence change.
//!
//! The order, and a failure half-way (review D6): the scale-down action goes first: on its own
//! it only returns the group to the sizes it had, so it is harmless. When the scale-up put
//! then fails on a create, both names are removed again, scale-up first (the order `delete`
//! uses): the framework answers a failed create with no state (it cannot keep partial state
//! and taint the resource), so anything left would be unmanaged. The scale-up is removed too
//! because a failed put may still have been applied (a timeout after AWS stored it). If the
//! scale-up cannot be removed, the scale-down stays. On an update both actions were already
//! managed; the state stays the prior one and the next apply puts what is missing.

use std::time::SystemTime;

use bbb_core::aws::{AwsClients, ScheduledActionSpec};
use bbb_core::time::format_rfc3339;

use super::model::{from_system_time, is_gone};
use crate::aws_access::aws_error;
use tfplugin_framework::Diagnostics;

/// What to do with one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Put,
    /// Delete, then put.
    Replace,
    /// A one-off action whose time has passed: nothing to send.
    Skip,
}

/// The step for action `new`, given the one the last apply put (`old`, none on a create).
pub(super) fn step(
    new: &ScheduledActionSpec,
    old: Option<&ScheduledActionSpec>,
    now: SystemTime,
) -> Result<Step, Diagnostics> {
    if let (None, Some(at)) = (&new.recurrence, new.start_time) {
        if at <= now {
            if old.is_some_and(|o| o.recurrence.is_none() && o.start_time == Some(at)) {
                return Ok(Step::Skip);
            }
            return Err(Diagnostics::from_error(
                "Scheduled time passed",
                format!(
                    "The time of scheduled action {} ({}) passed after the plan was made; Auto Scaling refuses a start time in the past. Plan again.",
                    new.name,
                    format_rfc3339(from_system_time(at))
                ),
            ));
        }
    }
    let Some(old) = old else {
        return Ok(Step::Put);
    };
    let dropped = |o: Option<i32>, n: Option<i32>| o.is_some() && n.is_none();
    if old.recurrence != new.recurrence
        || old.time_zone != new.time_zone
        || dropped(old.min_size, new.min_size)
        || dropped(old.max_size, new.max_size)
        || dropped(old.desired_capacity, new.desired_capacity)
    {
        return Ok(Step::Replace);
    }
    Ok(Step::Put)
}

async fn apply(
    aws: &AwsClients,
    spec: &ScheduledActionSpec,
    step: Step,
) -> Result<(), Diagnostics> {
    if step == Step::Skip {
        return Ok(());
    }
    if step == Step::Replace {
        match aws
            .delete_scheduled_action(&spec.asg_name, &spec.name)
            .await
        {
            Ok(()) => {}
            Err(e) if is_gone(&e) => {}
            Err(e) => {
                return Err(aws_error(
                    &format!("delete scheduled action {}", spec.name),
                    &e,
                ))
            }
        }
    }
    aws.put_scheduled_action(spec)
        .await
        .map_err(|e| aws_error(&format!("put scheduled action {}", spec.name), &e))
}

/// Sends `down`, then `up`. With `creating`, a failed `up` removes both again, `up` first.
pub(super) async fn put_pair(
    aws: &AwsClients,
    up: (&ScheduledActionSpec, Step),
    down: (&ScheduledActionSpec, Step),
    creating: bool,
) -> Result<(), Diagnostics> {
    apply(aws, down.0, down.1).await?;
    let Err(mut diags) = apply(aws, up.0, up.1).await else {
        return Ok(());
    };
    if !creating {
        return Err(diags);
    }
    let (up, down) = (up.0, down.0);
    for action in [up, down] {
        match aws
            .delete_scheduled_action(&action.asg_name, &action.name)
            .await
        {
            Ok(()) => {
                tracing::info!(group = %action.asg_name, action = %action.name, reason = "the scale-up put failed on create", "removed the scheduled action again");
            }
            Err(undo) if is_gone(&undo) => {}
            Err(undo) => {
                tracing::warn!(group = %action.asg_name, action = %action.name, error = %undo, "could not remove the scheduled action after a failed create");
                diags.error(
                    "Could not undo a failed create",
                    format!(
                        "Scheduled action {} may stay on Auto Scaling group {} without a schedule in Terraform's state{}: {undo}. \
                         Delete the schedule's actions (aws autoscaling delete-scheduled-action), scale-up first, or apply again, which puts both.",
                        action.name,
                        action.asg_name,
                        if action.name == up.name { ", and its scale-down was kept so it is undone" } else { "" },
                    ),
                );
                break;
            }
        }
    }
    Err(diags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn spec(
        start: Option<SystemTime>,
        recurrence: Option<&str>,
        desired: Option<i32>,
    ) -> ScheduledActionSpec {
        ScheduledActionSpec {
            asg_name: "g".into(),
            name: "bbb-x-up".into(),
            recurrence: recurrence.map(str::to_owned),
            start_time: start,
            end_time: None,
            time_zone: None,
            min_size: Some(2),
            max_size: None,
            desired_capacity: desired,
        }
    }

    #[test]
    fn passed_one_offs_are_skipped_only_when_unchanged() {
        let now = SystemTime::now();
        let past = now - Duration::from_secs(60);
        let ran = spec(Some(past), None, Some(2));
        assert_eq!(step(&ran, Some(&ran), now).ok(), Some(Step::Skip));
        assert!(step(&ran, None, now).is_err(), "a create in the past");
        let other = spec(Some(past - Duration::from_secs(60)), None, Some(2));
        assert!(
            step(&ran, Some(&other), now).is_err(),
            "moved into the past"
        );
        let ahead = spec(Some(now + Duration::from_secs(60)), None, Some(2));
        assert_eq!(step(&ahead, Some(&ran), now).ok(), Some(Step::Put));
    }

    #[test]
    fn recurrence_changes_and_dropped_sizes_replace() {
        let now = SystemTime::now();
        let a = spec(None, Some("0 8 * * *"), Some(2));
        let b = spec(None, Some("0 9 * * *"), Some(2));
        assert_eq!(step(&b, Some(&a), now).ok(), Some(Step::Replace));
        let no_desired = spec(None, Some("0 8 * * *"), None);
        assert_eq!(step(&no_desired, Some(&a), now).ok(), Some(Step::Replace));
        assert_eq!(step(&a, Some(&no_desired), now).ok(), Some(Step::Put));
        assert_eq!(step(&a, Some(&a), now).ok(), Some(Step::Put));
    }
}
