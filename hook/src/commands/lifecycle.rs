//! The instance's lifecycle actions (launching and terminating hooks).

use bbb_core::aws::{LifecycleActionRef, LifecycleActionResult};

use crate::context::Context;
use crate::error::HookError;

fn action(ctx: &Context, hook_name: &str) -> LifecycleActionRef {
    LifecycleActionRef {
        asg_name: ctx.config.autoscaling_group_name.clone(),
        hook_name: hook_name.to_owned(),
        instance_id: Some(ctx.identity.instance_id.clone()),
        token: None,
    }
}

/// Auto Scaling answers ValidationError "No active Lifecycle Action found" when the instance
/// is not waiting in this hook (already completed, timed out, or never paused).
fn no_active_action(e: &bbb_core::aws::AwsError) -> bool {
    e.code() == Some("ValidationError")
        && e.to_string()
            .to_ascii_lowercase()
            .contains("no active lifecycle action")
}

/// Completes the instance's action of `hook_name` with CONTINUE. `Ok(false)` when there was
/// none to complete.
pub async fn complete(ctx: &Context, hook_name: &str) -> Result<bool, HookError> {
    if hook_name.is_empty() {
        return Ok(false);
    }
    match ctx
        .aws
        .complete_lifecycle_action(&action(ctx, hook_name), LifecycleActionResult::Continue)
        .await
    {
        Ok(()) => {
            tracing::info!(hook = hook_name, "lifecycle action completed");
            Ok(true)
        }
        Err(e) if no_active_action(&e) => {
            tracing::info!(hook = hook_name, "no lifecycle action waiting");
            Ok(false)
        }
        Err(e) => Err(HookError::aws("complete the lifecycle action")(e)),
    }
}

/// Extends the instance's action of `hook_name` by the hook's heartbeat timeout. `Ok(false)`
/// when no action was waiting (completed, timed out, or never paused): nothing was extended.
pub async fn heartbeat(ctx: &Context, hook_name: &str) -> Result<bool, HookError> {
    if hook_name.is_empty() {
        return Ok(false);
    }
    match ctx
        .aws
        .record_lifecycle_action_heartbeat(&action(ctx, hook_name))
        .await
    {
        Ok(()) => Ok(true),
        Err(e) if no_active_action(&e) => {
            tracing::warn!(
                hook = hook_name,
                "no lifecycle action waiting for a heartbeat"
            );
            Ok(false)
        }
        Err(e) => Err(HookError::aws("record a lifecycle heartbeat")(e)),
    }
}

/// Records one heartbeat of `hook_name`; how long until the next one (half the timeout, a
/// quarter of that after a failure).
async fn beat(ctx: &Context, hook_name: &str, every: std::time::Duration) -> std::time::Duration {
    match heartbeat(ctx, hook_name).await {
        Ok(true) => {
            tracing::info!(hook = hook_name, "lifecycle heartbeat recorded");
            every
        }
        // Already said (a warning): nothing to extend, asked again at the usual pace.
        Ok(false) => every,
        Err(e) => {
            tracing::warn!(hook = hook_name, error = %e, "lifecycle heartbeat failed, retrying");
            every / 4
        }
    }
}

/// Runs `work` while recording heartbeats of `hook_name` beside it: one first (time has passed
/// since the action began: first boot, the signal's poll, a lock), then every half
/// `timeout_seconds` while `work` runs. Beside the work, not between its steps: a step that
/// hangs (a Scalelite or BBB timing out over several attempts) must not let the action time
/// out. Without a hook name or timeout, just `work`.
pub async fn with_heartbeats<T>(
    ctx: &Context,
    hook_name: &str,
    timeout_seconds: u64,
    work: impl std::future::Future<Output = Result<T, HookError>>,
) -> Result<T, HookError> {
    if hook_name.is_empty() || timeout_seconds == 0 {
        return work.await;
    }
    let every = std::time::Duration::from_secs(timeout_seconds) / 2;
    let first = beat(ctx, hook_name, every).await;
    let ticker = async {
        let mut next = first;
        loop {
            tokio::time::sleep(next).await;
            next = beat(ctx, hook_name, every).await;
        }
    };
    tokio::select! {
        r = work => r,
        () = ticker => Err(HookError::Io("lifecycle heartbeats stopped".into())),
    }
}
