//! Deleting the fleet's lifecycle hooks without releasing servers.
//!
//! DeleteLifecycleHook completes the hook's outstanding lifecycle actions first, "ABANDON for
//! launching instances, CONTINUE for terminating instances" (Amazon EC2 Auto Scaling API
//! reference). Deleting the terminating hook while a server drains in `Terminating:Wait`
//! therefore terminates it mid-meeting. So a hook is deleted only once no instance of the group
//! waits in its transition's wait state:
//! - destroy waits for that, polling, at most `timeouts.delete` (default `drain.max_wait` plus
//!   the drain's 5 minutes), then fails naming the instances and deletes nothing;
//! - a renamed terminating hook (`drain.lifecycle_hook_name`): the new hook is put and the old
//!   one kept in `retired_hook_names` while instances wait; the first plan after they are done
//!   shows the cleanup, and its apply deletes it. A renamed launching hook (`launch_hook_name`)
//!   is deleted at once: the instance's hook completes only the name in its configuration, so a
//!   kept old launching hook would time out and ABANDON (terminate) every new launch, and
//!   deleting it only abandons launches in progress, which host no meeting yet.
//!
//! DescribeAutoScalingGroups does not say which hook an instance waits on, so any instance in
//! the transition's wait state keeps every hook of that transition.

use std::time::Duration;

use bbb_core::aws::{AwsClients, LifecycleHook, LifecycleHookSpec, LifecycleTransition};

use crate::aws_access::aws_error;
use tfplugin_framework::timeouts::show;
use tfplugin_framework::{stop, Diagnostics};

use super::Fleet;

/// The hooks of `old` that `new` no longer names: (launching hooks to delete now, terminating
/// hooks to retire until no instance waits on them).
pub(super) fn renamed(
    old: &[LifecycleHookSpec],
    new: &[LifecycleHookSpec],
) -> (Vec<String>, Vec<String>) {
    let mut delete_now = Vec::new();
    let mut retire = Vec::new();
    for o in old
        .iter()
        .filter(|o| !new.iter().any(|n| n.hook_name == o.hook_name))
    {
        match o.transition {
            LifecycleTransition::Terminating => retire.push(o.hook_name.clone()),
            _ => delete_now.push(o.hook_name.clone()),
        }
    }
    (delete_now, retire)
}

/// Whether an instance in lifecycle state `state` waits on a hook of `transition` (warm pools
/// spell the states with a `Warmed:` prefix).
pub(super) fn waits_on(state: &str, transition: &LifecycleTransition) -> bool {
    match transition {
        LifecycleTransition::Launching => state.ends_with("Pending:Wait"),
        LifecycleTransition::Terminating => state.ends_with("Terminating:Wait"),
        LifecycleTransition::Other(_) => false,
    }
}

/// Whether an instance in `state` waits on any lifecycle hook.
pub(super) fn waits(state: &str) -> bool {
    waits_on(state, &LifecycleTransition::Launching)
        || waits_on(state, &LifecycleTransition::Terminating)
}

/// The group's instances that wait on a hook of one of `transitions`: (id, state). `None` when
/// the group is gone.
async fn waiting(
    aws: &AwsClients,
    asg: &str,
    transitions: &[&LifecycleTransition],
) -> Result<Option<Vec<(String, String)>>, Diagnostics> {
    let group = match aws.describe_auto_scaling_group(asg).await {
        Ok(g) => g,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(aws_error("describe the Auto Scaling group", &e)),
    };
    Ok(Some(
        group
            .instances
            .iter()
            .filter(|i| {
                let state = i.lifecycle_state.as_str();
                transitions.iter().any(|t| waits_on(state, t))
            })
            .map(|i| {
                (
                    i.instance_id.clone(),
                    i.lifecycle_state.as_str().to_string(),
                )
            })
            .collect(),
    ))
}

/// How often a wait describes the group: a twentieth of the bound, between 1 and 15 seconds.
fn poll_interval(limit: Duration) -> Duration {
    (limit / 20).clamp(Duration::from_secs(1), Duration::from_secs(15))
}

fn listed(instances: &[(String, String)]) -> String {
    instances
        .iter()
        .map(|(id, state)| format!("{id} ({state})"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Fleet {
    /// Waits until no instance of `asg` waits on a hook of `hooks`' transitions, at most
    /// `limit`; a stop request (Ctrl-C) ends it at once. The error names the instances.
    pub(super) async fn wait_for_release(
        aws: &AwsClients,
        asg: &str,
        hooks: &[&LifecycleHook],
        limit: Duration,
    ) -> Result<(), Diagnostics> {
        let transitions: Vec<&LifecycleTransition> = hooks.iter().map(|h| &h.transition).collect();
        let deadline = tokio::time::Instant::now() + limit;
        let what = "instances in Terminating:Wait or Pending:Wait to finish";
        loop {
            let now = stop::interruptible(waiting(aws, asg, &transitions), what).await??;
            let Some(now) = now.filter(|w| !w.is_empty()) else {
                return Ok(());
            };
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                let names: Vec<&str> = hooks.iter().map(|h| h.hook_name.as_str()).collect();
                return Err(Diagnostics::from_error(
                    "Instances still wait on the fleet's lifecycle hooks",
                    format!(
                        "After {}, {} instance(s) of Auto Scaling group {asg:?} still wait on lifecycle hook(s) {}: {}. \
                         Deleting a hook now would complete their lifecycle actions (CONTINUE for a draining server, which is then \
                         terminated mid-meeting; ABANDON for a launching one). Nothing was deleted and the fleet stays in the state. \
                         Let the drains finish and destroy again, or raise timeouts.delete and apply that before destroying; \
                         to end those servers anyway, complete their lifecycle actions yourself (aws autoscaling complete-lifecycle-action).",
                        show(limit),
                        now.len(),
                        names.join(", "),
                        listed(&now)
                    ),
                ));
            }
            tracing::info!(asg, instances = %listed(&now), "waiting for instances to leave their lifecycle wait before deleting hooks");
            stop::sleep(poll_interval(limit).min(left), what).await?;
        }
    }

    /// Deletes the retired hooks no instance waits on; returns the names kept (still waited
    /// on). Hooks already gone are dropped.
    pub(super) async fn release_retired(
        aws: &AwsClients,
        asg: &str,
        retired: &[String],
    ) -> Result<Vec<String>, Diagnostics> {
        if retired.is_empty() {
            return Ok(Vec::new());
        }
        let hooks = aws
            .describe_lifecycle_hooks(asg, &[])
            .await
            .map_err(|e| aws_error("describe the lifecycle hooks", &e))?;
        let present: Vec<&LifecycleHook> = hooks
            .iter()
            .filter(|h| retired.contains(&h.hook_name))
            .collect();
        if present.is_empty() {
            return Ok(Vec::new());
        }
        let transitions: Vec<&LifecycleTransition> =
            present.iter().map(|h| &h.transition).collect();
        let now = waiting(aws, asg, &transitions).await?.unwrap_or_default();
        let mut kept = Vec::new();
        for hook in present {
            if now
                .iter()
                .any(|(_, state)| waits_on(state, &hook.transition))
            {
                tracing::info!(asg, hook = %hook.hook_name, "retired lifecycle hook kept: instances still wait");
                kept.push(hook.hook_name.clone());
            } else {
                Self::delete_hook(aws, asg, &hook.hook_name).await?;
            }
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bbb_core::aws::LifecycleActionResult;

    fn spec(name: &str, transition: LifecycleTransition) -> LifecycleHookSpec {
        LifecycleHookSpec {
            asg_name: "g".into(),
            hook_name: name.into(),
            transition,
            heartbeat_timeout: None,
            default_result: LifecycleActionResult::Abandon,
            notification_target_arn: None,
            role_arn: None,
            notification_metadata: None,
        }
    }

    #[test]
    fn a_renamed_launching_hook_goes_at_once_a_terminating_one_is_retired() {
        use LifecycleTransition::{Launching, Terminating};
        let old = [spec("launch-a", Launching), spec("drain-a", Terminating)];
        let new = [spec("launch-b", Launching), spec("drain-b", Terminating)];
        let (now, retire) = renamed(&old, &new);
        assert_eq!(now, vec!["launch-a".to_string()]);
        assert_eq!(retire, vec!["drain-a".to_string()]);
        let (now, retire) = renamed(&old, &old);
        assert!(now.is_empty() && retire.is_empty());
    }

    #[test]
    fn wait_states_follow_the_transition() {
        let t = LifecycleTransition::Terminating;
        let l = LifecycleTransition::Launching;
        assert!(waits_on("Terminating:Wait", &t));
        assert!(waits_on("Warmed:Terminating:Wait", &t));
        assert!(!waits_on("Terminating:Proceed", &t));
        assert!(!waits_on("Pending:Wait", &t));
        assert!(waits_on("Pending:Wait", &l));
        assert!(!waits_on("InService", &l));
        assert!(waits("Pending:Wait") && waits("Terminating:Wait") && !waits("InService"));
    }

    #[test]
    fn polls_often_for_short_bounds_and_rarely_for_long_ones() {
        assert_eq!(
            poll_interval(Duration::from_secs(3)),
            Duration::from_secs(1)
        );
        assert_eq!(
            poll_interval(Duration::from_secs(4 * 3600)),
            Duration::from_secs(15)
        );
    }
}
