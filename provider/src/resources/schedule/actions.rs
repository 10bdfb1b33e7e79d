//! Putting a `bbb_schedule`'s two scheduled actions so that a failure half-way never leaves a
//! scale-up without its scale-down (review D6).
//!
//! The scale-down action goes first: on its own it only returns the group to the sizes it
//! had, so it is harmless. When the scale-up put then fails on a create, both names are
//! removed again, scale-up first (the order `delete` uses): the framework answers a failed
//! create with no state (it cannot keep partial state and taint the resource), so anything
//! left would be unmanaged. The scale-up is removed too because a failed put may still have
//! been applied (a timeout after AWS stored it), and because a create can put over actions of
//! the same names left from a lost state: removing only the scale-down would leave such a
//! scale-up with nothing to undo it. If the scale-up cannot be removed, the scale-down stays.
//! On an update both actions were already managed; the state stays the prior one and the
//! next apply re-puts both.

use bbb_core::aws::{AwsClients, ScheduledActionSpec};

use super::model::is_gone;
use crate::aws_access::aws_error;
use crate::framework::Diagnostics;

/// Puts `down`, then `up`. With `creating`, a failed `up` removes both again, `up` first.
pub async fn put_pair(
    aws: &AwsClients,
    up: &ScheduledActionSpec,
    down: &ScheduledActionSpec,
    creating: bool,
) -> Result<(), Diagnostics> {
    aws.put_scheduled_action(down)
        .await
        .map_err(|e| aws_error(&format!("put scheduled action {}", down.name), &e))?;
    let Err(e) = aws.put_scheduled_action(up).await else {
        return Ok(());
    };
    let mut diags = aws_error(&format!("put scheduled action {}", up.name), &e);
    if !creating {
        return Err(diags);
    }
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
