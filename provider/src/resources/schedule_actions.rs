//! Putting a `bbb_schedule`'s two scheduled actions so that a failure half-way never leaves a
//! scale-up without its scale-down (review D6).
//!
//! The scale-down action goes first: on its own it only returns the group to the sizes it
//! had, so it is harmless. When the scale-up put then fails on a create, the scale-down just
//! put is deleted again: the framework answers a failed create with no state (it cannot keep
//! partial state and taint the resource), so anything left would be unmanaged. Deleting keeps
//! AWS as Terraform's state says (nothing), and the next apply puts both again. On an update
//! both actions were already managed; the state stays the prior one and the next apply
//! re-puts both.

use bbb_core::aws::{AwsClients, ScheduledActionSpec};

use super::schedule::is_gone;
use crate::aws_access::aws_error;
use crate::framework::Diagnostics;

/// Puts `down`, then `up`. With `creating`, a failed `up` removes `down` again.
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
    match aws
        .delete_scheduled_action(&down.asg_name, &down.name)
        .await
    {
        Ok(()) => {
            tracing::info!(group = %down.asg_name, action = %down.name, reason = "the scale-up put failed on create", "removed the scale-down action again");
        }
        Err(undo) if is_gone(&undo) => {}
        Err(undo) => {
            tracing::warn!(group = %down.asg_name, action = %down.name, error = %undo, "could not remove the scale-down action after a failed create");
            diags.error(
                "Could not undo the scale-down action",
                format!(
                    "Scheduled action {} stays on Auto Scaling group {} without a schedule in Terraform's state: {undo}. \
                     Delete it (aws autoscaling delete-scheduled-action) or apply again, which puts both actions.",
                    down.name, down.asg_name
                ),
            );
        }
    }
    Err(diags)
}
