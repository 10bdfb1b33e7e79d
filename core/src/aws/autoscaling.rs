//! The Auto Scaling group: its instances and sizes, and scale-in protection.

use super::config::AwsClients;
use super::counters::Service;
use super::error::AwsError;

/// The most instance ids one `SetInstanceProtection` call takes; longer lists are split.
pub const SET_INSTANCE_PROTECTION_MAX_IDS: usize = 50;

/// Where an instance is in its Auto Scaling lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LifecycleState {
    Pending,
    PendingWait,
    PendingProceed,
    Quarantined,
    InService,
    Terminating,
    TerminatingWait,
    TerminatingProceed,
    Terminated,
    Detaching,
    Detached,
    EnteringStandby,
    Standby,
    /// Any other state (warm pools, root volume replacement, states added later), as AWS
    /// spells it.
    Other(String),
}

impl LifecycleState {
    /// Parses AWS's spelling (`Pending:Wait`, `InService`, ...).
    pub fn parse(s: &str) -> Self {
        match s {
            "Pending" => Self::Pending,
            "Pending:Wait" => Self::PendingWait,
            "Pending:Proceed" => Self::PendingProceed,
            "Quarantined" => Self::Quarantined,
            "InService" => Self::InService,
            "Terminating" => Self::Terminating,
            "Terminating:Wait" => Self::TerminatingWait,
            "Terminating:Proceed" => Self::TerminatingProceed,
            "Terminated" => Self::Terminated,
            "Detaching" => Self::Detaching,
            "Detached" => Self::Detached,
            "EnteringStandby" => Self::EnteringStandby,
            "Standby" => Self::Standby,
            other => Self::Other(other.to_owned()),
        }
    }

    /// AWS's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "Pending",
            Self::PendingWait => "Pending:Wait",
            Self::PendingProceed => "Pending:Proceed",
            Self::Quarantined => "Quarantined",
            Self::InService => "InService",
            Self::Terminating => "Terminating",
            Self::TerminatingWait => "Terminating:Wait",
            Self::TerminatingProceed => "Terminating:Proceed",
            Self::Terminated => "Terminated",
            Self::Detaching => "Detaching",
            Self::Detached => "Detached",
            Self::EnteringStandby => "EnteringStandby",
            Self::Standby => "Standby",
            Self::Other(s) => s,
        }
    }

    /// Whether the instance is on its way out of the group (terminating or terminated).
    pub fn is_terminating(&self) -> bool {
        matches!(
            self,
            Self::Terminating | Self::TerminatingWait | Self::TerminatingProceed | Self::Terminated
        )
    }
}

impl std::fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether Auto Scaling considers an instance healthy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HealthStatus {
    Healthy,
    Unhealthy,
    Other(String),
}

impl HealthStatus {
    /// Parses AWS's spelling (`Healthy`, `Unhealthy`; case-insensitive).
    pub fn parse(s: &str) -> Self {
        if s.eq_ignore_ascii_case("healthy") {
            Self::Healthy
        } else if s.eq_ignore_ascii_case("unhealthy") {
            Self::Unhealthy
        } else {
            Self::Other(s.to_owned())
        }
    }
}

/// A launch template and version, as a group or instance refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LaunchTemplateRef {
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
}

impl LaunchTemplateRef {
    fn from_sdk(s: &aws_sdk_autoscaling::types::LaunchTemplateSpecification) -> Self {
        Self {
            id: s.launch_template_id().map(str::to_owned),
            name: s.launch_template_name().map(str::to_owned),
            version: s.version().map(str::to_owned),
        }
    }
}

/// An instance of an Auto Scaling group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsgInstance {
    pub instance_id: String,
    pub lifecycle_state: LifecycleState,
    pub health_status: HealthStatus,
    pub protected_from_scale_in: bool,
    pub availability_zone: Option<String>,
    pub instance_type: Option<String>,
    pub launch_template: Option<LaunchTemplateRef>,
}

/// What the group reports of one of its instances (`DescribeAutoScalingInstances`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceStatus {
    pub lifecycle_state: LifecycleState,
    pub protected_from_scale_in: bool,
}

/// An Auto Scaling group with its instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoScalingGroup {
    pub name: String,
    pub arn: Option<String>,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_capacity: i32,
    /// The group's launch template (directly or from its mixed instances policy).
    pub launch_template: Option<LaunchTemplateRef>,
    pub availability_zones: Vec<String>,
    pub new_instances_protected_from_scale_in: bool,
    /// Set while the group is being deleted.
    pub status: Option<String>,
    pub instances: Vec<AsgInstance>,
}

impl AutoScalingGroup {
    /// The instance with id `instance_id`, if it is in the group.
    pub fn instance(&self, instance_id: &str) -> Option<&AsgInstance> {
        self.instances.iter().find(|i| i.instance_id == instance_id)
    }
}

impl AwsClients {
    /// Describes the Auto Scaling group `name` (one call). [`AwsError::NotFound`] if there is
    /// no such group.
    pub async fn describe_auto_scaling_group(
        &self,
        name: &str,
    ) -> Result<AutoScalingGroup, AwsError> {
        let log = self.begin(Service::AutoScaling, "DescribeAutoScalingGroups", name);
        let result = match self
            .autoscaling
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send()
            .await
        {
            Ok(out) => match out
                .auto_scaling_groups()
                .iter()
                .find(|g| g.auto_scaling_group_name() == Some(name))
            {
                Some(g) => group_from_sdk(g).map_err(|detail| log.ctx.invalid(detail)),
                None => Err(log.ctx.not_found("auto scaling group")),
            },
            Err(e) => Err(log.ctx.sdk_error(e)),
        };
        log.finish(result)
    }

    /// `instance_id`'s lifecycle state and scale-in protection in its group, from one
    /// `DescribeAutoScalingInstances` (the instance role may make it for its own id). `Ok(None)`
    /// when the instance is in no Auto Scaling group.
    pub async fn auto_scaling_instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<InstanceStatus>, AwsError> {
        let log = self.begin(
            Service::AutoScaling,
            "DescribeAutoScalingInstances",
            instance_id,
        );
        let result = self
            .autoscaling
            .describe_auto_scaling_instances()
            .instance_ids(instance_id)
            .send()
            .await
            .map(|out| {
                out.auto_scaling_instances()
                    .iter()
                    .find(|i| i.instance_id() == Some(instance_id))
                    .map(|i| InstanceStatus {
                        lifecycle_state: LifecycleState::parse(i.lifecycle_state().unwrap_or("")),
                        protected_from_scale_in: i.protected_from_scale_in().unwrap_or(false),
                    })
            })
            .map_err(|e| log.ctx.sdk_error(e));
        log.finish(result)
    }

    /// Whether `instance_id` is protected from scale-in ([`Self::auto_scaling_instance`]).
    pub async fn instance_scale_in_protection(
        &self,
        instance_id: &str,
    ) -> Result<Option<bool>, AwsError> {
        Ok(self
            .auto_scaling_instance(instance_id)
            .await?
            .map(|s| s.protected_from_scale_in))
    }

    /// Sets (`protected = true`) or clears scale-in protection of `instance_ids` in the group
    /// `asg_name`, in calls of at most [`SET_INSTANCE_PROTECTION_MAX_IDS`] ids.
    pub async fn set_instance_protection(
        &self,
        asg_name: &str,
        instance_ids: &[String],
        protected: bool,
    ) -> Result<(), AwsError> {
        for chunk in instance_ids.chunks(SET_INSTANCE_PROTECTION_MAX_IDS) {
            let resource = match chunk {
                [one] => format!("{asg_name}/{one} protected={protected}"),
                _ => format!("{asg_name}/{} instances protected={protected}", chunk.len()),
            };
            let log = self.begin(Service::AutoScaling, "SetInstanceProtection", resource);
            let result = self
                .autoscaling
                .set_instance_protection()
                .auto_scaling_group_name(asg_name)
                .set_instance_ids(Some(chunk.to_vec()))
                .protected_from_scale_in(protected)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| log.ctx.sdk_error(e));
            log.finish(result)?;
        }
        Ok(())
    }

    /// Reports `instance_id`'s health to its group (`SetInstanceHealth`): `Unhealthy` makes the
    /// group replace it (through its terminating lifecycle hooks; scale-in protection does not
    /// hold against it); `respect_grace_period` leaves an instance in its health check grace
    /// period alone.
    pub async fn set_instance_health(
        &self,
        instance_id: &str,
        healthy: bool,
        respect_grace_period: bool,
    ) -> Result<(), AwsError> {
        let status = if healthy { "Healthy" } else { "Unhealthy" };
        let log = self.begin(
            Service::AutoScaling,
            "SetInstanceHealth",
            format!("{instance_id} {status}"),
        );
        let result = self
            .autoscaling
            .set_instance_health()
            .instance_id(instance_id)
            .health_status(status)
            .should_respect_grace_period(respect_grace_period)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| log.ctx.sdk_error(e));
        log.finish(result)
    }
}

fn group_from_sdk(
    g: &aws_sdk_autoscaling::types::AutoScalingGroup,
) -> Result<AutoScalingGroup, String> {
    let name = g
        .auto_scaling_group_name()
        .ok_or("a group has no name")?
        .to_owned();
    let size = |v: Option<i32>, what: &str| v.ok_or_else(|| format!("group {name} has no {what}"));
    let launch_template = g
        .launch_template()
        .or_else(|| {
            g.mixed_instances_policy()
                .and_then(|p| p.launch_template())
                .and_then(|t| t.launch_template_specification())
        })
        .map(LaunchTemplateRef::from_sdk);
    let mut instances = Vec::with_capacity(g.instances().len());
    for i in g.instances() {
        let instance_id = i
            .instance_id()
            .ok_or_else(|| format!("an instance of group {name} has no id"))?
            .to_owned();
        instances.push(AsgInstance {
            lifecycle_state: i
                .lifecycle_state()
                .map(|s| LifecycleState::parse(s.as_str()))
                .unwrap_or_else(|| LifecycleState::Other(String::new())),
            health_status: HealthStatus::parse(i.health_status().unwrap_or("")),
            protected_from_scale_in: i.protected_from_scale_in().unwrap_or(false),
            availability_zone: i.availability_zone().map(str::to_owned),
            instance_type: i.instance_type().map(str::to_owned),
            launch_template: i.launch_template().map(LaunchTemplateRef::from_sdk),
            instance_id,
        });
    }
    Ok(AutoScalingGroup {
        arn: g.auto_scaling_group_arn().map(str::to_owned),
        min_size: size(g.min_size(), "MinSize")?,
        max_size: size(g.max_size(), "MaxSize")?,
        desired_capacity: size(g.desired_capacity(), "DesiredCapacity")?,
        launch_template,
        availability_zones: g.availability_zones().to_vec(),
        new_instances_protected_from_scale_in: g
            .new_instances_protected_from_scale_in()
            .unwrap_or(false),
        status: g.status().map(str::to_owned),
        instances,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_states_round_trip() {
        for s in [
            "Pending",
            "Pending:Wait",
            "Pending:Proceed",
            "Quarantined",
            "InService",
            "Terminating",
            "Terminating:Wait",
            "Terminating:Proceed",
            "Terminated",
            "Detaching",
            "Detached",
            "EnteringStandby",
            "Standby",
            "Warmed:Running",
        ] {
            assert_eq!(LifecycleState::parse(s).as_str(), s);
        }
        assert!(LifecycleState::parse("Terminating:Wait").is_terminating());
        assert!(!LifecycleState::parse("InService").is_terminating());
        assert_eq!(
            LifecycleState::parse("Warmed:Running"),
            LifecycleState::Other("Warmed:Running".into())
        );
        assert_eq!(HealthStatus::parse("HEALTHY"), HealthStatus::Healthy);
        assert_eq!(HealthStatus::parse("Unhealthy"), HealthStatus::Unhealthy);
    }
}
