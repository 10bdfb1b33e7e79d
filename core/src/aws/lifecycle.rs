//! Lifecycle hooks of an Auto Scaling group, and completing or extending their actions.

use std::time::Duration;

use super::config::AwsClients;
use super::counters::Service;
use super::error::AwsError;

/// The transition a lifecycle hook pauses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LifecycleTransition {
    Launching,
    Terminating,
    Other(String),
}

impl LifecycleTransition {
    /// AWS's spelling (`autoscaling:EC2_INSTANCE_LAUNCHING`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Launching => "autoscaling:EC2_INSTANCE_LAUNCHING",
            Self::Terminating => "autoscaling:EC2_INSTANCE_TERMINATING",
            Self::Other(s) => s,
        }
    }

    /// Parses AWS's spelling.
    pub fn parse(s: &str) -> Self {
        match s {
            "autoscaling:EC2_INSTANCE_LAUNCHING" => Self::Launching,
            "autoscaling:EC2_INSTANCE_TERMINATING" => Self::Terminating,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// How a lifecycle action ends (and a hook's default when it times out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LifecycleActionResult {
    Continue,
    Abandon,
}

impl LifecycleActionResult {
    /// AWS's spelling (`CONTINUE`, `ABANDON`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Continue => "CONTINUE",
            Self::Abandon => "ABANDON",
        }
    }

    /// Parses AWS's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CONTINUE" => Some(Self::Continue),
            "ABANDON" => Some(Self::Abandon),
            _ => None,
        }
    }
}

/// A lifecycle hook to create or replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleHookSpec {
    pub asg_name: String,
    pub hook_name: String,
    pub transition: LifecycleTransition,
    /// How long an action waits for completion or a heartbeat (30 s to 2 h; AWS default 1 h).
    pub heartbeat_timeout: Option<Duration>,
    pub default_result: LifecycleActionResult,
    pub notification_target_arn: Option<String>,
    pub role_arn: Option<String>,
    pub notification_metadata: Option<String>,
}

/// A lifecycle hook as Auto Scaling describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleHook {
    pub asg_name: String,
    pub hook_name: String,
    pub transition: LifecycleTransition,
    pub heartbeat_timeout: Option<Duration>,
    pub global_timeout: Option<Duration>,
    /// `None` if AWS sent a value this crate does not know.
    pub default_result: Option<LifecycleActionResult>,
    pub notification_target_arn: Option<String>,
    pub role_arn: Option<String>,
    pub notification_metadata: Option<String>,
}

/// The lifecycle action an instance is paused in: the group, the hook and the instance id or
/// the action token (at least one of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleActionRef {
    pub asg_name: String,
    pub hook_name: String,
    pub instance_id: Option<String>,
    pub token: Option<String>,
}

impl LifecycleActionRef {
    fn resource(&self) -> String {
        let who = self.instance_id.as_deref().unwrap_or("token");
        format!("{}/{}/{}", self.asg_name, self.hook_name, who)
    }

    fn check(&self) -> Result<(), String> {
        if self.instance_id.is_none() && self.token.is_none() {
            return Err("a lifecycle action needs an instance id or a token".into());
        }
        Ok(())
    }
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

fn duration(secs: Option<i32>) -> Option<Duration> {
    secs.and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
}

impl AwsClients {
    /// Creates or replaces a lifecycle hook (`PutLifecycleHook`).
    pub async fn put_lifecycle_hook(&self, hook: &LifecycleHookSpec) -> Result<(), AwsError> {
        let log = self.begin(
            Service::AutoScaling,
            "PutLifecycleHook",
            format!("{}/{}", hook.asg_name, hook.hook_name),
        );
        let mut req = self
            .autoscaling
            .put_lifecycle_hook()
            .auto_scaling_group_name(&hook.asg_name)
            .lifecycle_hook_name(&hook.hook_name)
            .lifecycle_transition(hook.transition.as_str())
            .default_result(hook.default_result.as_str())
            .set_notification_target_arn(hook.notification_target_arn.clone())
            .set_role_arn(hook.role_arn.clone())
            .set_notification_metadata(hook.notification_metadata.clone());
        if let Some(t) = hook.heartbeat_timeout {
            req = req.heartbeat_timeout(secs(t));
        }
        let result = req
            .send()
            .await
            .map(|_| ())
            .map_err(|e| log.ctx.sdk_error(e));
        log.finish(result)
    }

    /// Deletes a lifecycle hook. Deleting one that does not exist is an
    /// [`AwsError::Service`] error (`ValidationError`).
    pub async fn delete_lifecycle_hook(
        &self,
        asg_name: &str,
        hook_name: &str,
    ) -> Result<(), AwsError> {
        let log = self.begin(
            Service::AutoScaling,
            "DeleteLifecycleHook",
            format!("{asg_name}/{hook_name}"),
        );
        let result = self
            .autoscaling
            .delete_lifecycle_hook()
            .auto_scaling_group_name(asg_name)
            .lifecycle_hook_name(hook_name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| log.ctx.sdk_error(e));
        log.finish(result)
    }

    /// The lifecycle hooks of group `asg_name`: all of them if `hook_names` is empty, else those
    /// named (missing ones are left out).
    pub async fn describe_lifecycle_hooks(
        &self,
        asg_name: &str,
        hook_names: &[String],
    ) -> Result<Vec<LifecycleHook>, AwsError> {
        let log = self.begin(Service::AutoScaling, "DescribeLifecycleHooks", asg_name);
        let result = self
            .autoscaling
            .describe_lifecycle_hooks()
            .auto_scaling_group_name(asg_name)
            .set_lifecycle_hook_names((!hook_names.is_empty()).then(|| hook_names.to_vec()))
            .send()
            .await
            .map_err(|e| log.ctx.sdk_error(e))
            .and_then(|out| {
                out.lifecycle_hooks()
                    .iter()
                    .map(|h| {
                        Ok(LifecycleHook {
                            asg_name: h.auto_scaling_group_name().unwrap_or(asg_name).to_owned(),
                            hook_name: h
                                .lifecycle_hook_name()
                                .ok_or_else(|| log.ctx.invalid("a lifecycle hook has no name"))?
                                .to_owned(),
                            transition: LifecycleTransition::parse(
                                h.lifecycle_transition().unwrap_or(""),
                            ),
                            heartbeat_timeout: duration(h.heartbeat_timeout()),
                            global_timeout: duration(h.global_timeout()),
                            default_result: h
                                .default_result()
                                .and_then(LifecycleActionResult::parse),
                            notification_target_arn: h.notification_target_arn().map(str::to_owned),
                            role_arn: h.role_arn().map(str::to_owned),
                            notification_metadata: h.notification_metadata().map(str::to_owned),
                        })
                    })
                    .collect()
            });
        log.finish(result)
    }

    /// Ends the lifecycle action `action` with `result` (`CompleteLifecycleAction`).
    pub async fn complete_lifecycle_action(
        &self,
        action: &LifecycleActionRef,
        result: LifecycleActionResult,
    ) -> Result<(), AwsError> {
        let log = self.begin(
            Service::AutoScaling,
            "CompleteLifecycleAction",
            format!("{} result={}", action.resource(), result.as_str()),
        );
        if let Err(detail) = action.check() {
            let err = log.ctx.request(detail);
            return log.finish(Err(err));
        }
        let out = self
            .autoscaling
            .complete_lifecycle_action()
            .auto_scaling_group_name(&action.asg_name)
            .lifecycle_hook_name(&action.hook_name)
            .set_instance_id(action.instance_id.clone())
            .set_lifecycle_action_token(action.token.clone())
            .lifecycle_action_result(result.as_str())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| log.ctx.sdk_error(e));
        log.finish(out)
    }

    /// Extends the lifecycle action `action` by the hook's heartbeat timeout
    /// (`RecordLifecycleActionHeartbeat`).
    pub async fn record_lifecycle_action_heartbeat(
        &self,
        action: &LifecycleActionRef,
    ) -> Result<(), AwsError> {
        let log = self.begin(
            Service::AutoScaling,
            "RecordLifecycleActionHeartbeat",
            action.resource(),
        );
        if let Err(detail) = action.check() {
            let err = log.ctx.request(detail);
            return log.finish(Err(err));
        }
        let out = self
            .autoscaling
            .record_lifecycle_action_heartbeat()
            .auto_scaling_group_name(&action.asg_name)
            .lifecycle_hook_name(&action.hook_name)
            .set_instance_id(action.instance_id.clone())
            .set_lifecycle_action_token(action.token.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| log.ctx.sdk_error(e));
        log.finish(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        for t in [
            LifecycleTransition::Launching,
            LifecycleTransition::Terminating,
        ] {
            assert_eq!(LifecycleTransition::parse(t.as_str()), t);
        }
        for r in [
            LifecycleActionResult::Continue,
            LifecycleActionResult::Abandon,
        ] {
            assert_eq!(LifecycleActionResult::parse(r.as_str()), Some(r));
        }
        assert_eq!(LifecycleActionResult::parse("x"), None);
        assert_eq!(secs(Duration::from_secs(u64::MAX)), i32::MAX);
        assert_eq!(duration(Some(-1)), None);
        assert_eq!(duration(Some(30)), Some(Duration::from_secs(30)));
    }

    #[test]
    fn action_needs_instance_or_token() {
        let mut a = LifecycleActionRef {
            asg_name: "g".into(),
            hook_name: "h".into(),
            instance_id: None,
            token: None,
        };
        assert!(a.check().is_err());
        a.token = Some("t".into());
        assert!(a.check().is_ok());
        assert_eq!(a.resource(), "g/h/token");
    }
}
