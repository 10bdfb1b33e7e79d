//! What the `bbb_schedule` acceptance tests share: moto's Auto Scaling behind a
//! [`ScheduleFront`] (which refuses a start time in the past as AWS does, and records every
//! call), Terraform workspaces whose provider talks to it, and ways to play AWS's part when
//! an action's time comes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bbb_core::aws::{AwsClients, ScheduledAction};
use bbb_core::testing::{self, AsgCall, ScheduleFront, TestGroup};

use crate::Workspace;

pub struct ScheduleEnv {
    pub rt: tokio::runtime::Runtime,
    /// Straight to moto (not through the front).
    pub clients: AwsClients,
    pub front: ScheduleFront,
    moto_url: String,
    provider_bin: String,
}

impl ScheduleEnv {
    pub fn new(provider_bin: &str) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let moto = testing::shared();
        let clients = rt.block_on(moto.clients());
        let front = rt.block_on(ScheduleFront::start(moto.url()));
        Self {
            rt,
            clients,
            front,
            moto_url: moto.url().as_str().trim_end_matches('/').to_string(),
            provider_bin: provider_bin.to_string(),
        }
    }

    /// A group with `size` instances, min size 0 and max size `size + 2`.
    pub fn group(&self, size: i32) -> TestGroup {
        self.rt
            .block_on(TestGroup::create(&self.clients, "sched", size))
    }

    pub fn workspace(&self) -> Workspace {
        aws_workspace(&self.provider_bin)
    }

    /// Writes the provider block (Auto Scaling through the front) and `body`.
    pub fn write(&self, ws: &Workspace, body: &str) {
        ws.write_config(&format!(
            "{}{body}",
            provider_block(&self.front.url(), &self.moto_url)
        ));
    }

    pub fn actions(&self, asg: &str) -> Vec<ScheduledAction> {
        self.rt
            .block_on(self.clients.describe_scheduled_actions(asg))
            .expect("describe scheduled actions")
    }

    pub fn action(&self, asg: &str, name: &str) -> Option<ScheduledAction> {
        self.actions(asg).into_iter().find(|a| a.name == name)
    }

    pub fn delete_action(&self, asg: &str, name: &str) {
        self.rt
            .block_on(self.clients.delete_scheduled_action(asg, name))
            .expect("delete scheduled action");
    }

    /// AWS's part: runs the group's one-off actions that are due.
    pub fn run_due_actions(&self, asg: &str) -> Vec<String> {
        self.rt.block_on(testing::run_due_scheduled_actions(
            &self.clients,
            asg,
            SystemTime::now(),
        ))
    }

    /// The group's (min, max, desired).
    pub fn sizes(&self, asg: &str) -> (i32, i32, i32) {
        let g = self
            .rt
            .block_on(self.clients.describe_auto_scaling_group(asg))
            .expect("describe group");
        (g.min_size, g.max_size, g.desired_capacity)
    }

    /// Changes the group's sizes outside Terraform.
    pub fn set_sizes(&self, asg: &str, min: i32, max: i32, desired: i32) {
        self.rt
            .block_on(
                self.clients
                    .autoscaling_sdk()
                    .update_auto_scaling_group()
                    .auto_scaling_group_name(asg)
                    .min_size(min)
                    .max_size(max)
                    .desired_capacity(desired)
                    .send(),
            )
            .expect("UpdateAutoScalingGroup");
    }

    /// The Auto Scaling calls the front received since the last [`ScheduleEnv::reset_calls`].
    pub fn calls(&self) -> Vec<AsgCall> {
        self.rt.block_on(self.front.calls())
    }

    pub fn reset_calls(&self) {
        self.rt.block_on(self.front.reset_calls());
    }
}

/// A one-worker runtime for a test's own AWS calls.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A workspace for `provider_bin` with moto's credentials and no retries (`BBB_MAX_RETRIES=0`,
/// so an injected fault fails at once).
pub fn aws_workspace(provider_bin: &str) -> Workspace {
    let mut ws = Workspace::new(provider_bin);
    ws.set_env("AWS_ACCESS_KEY_ID", "testing");
    ws.set_env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.set_env("BBB_MAX_RETRIES", "0");
    ws
}

/// The `bbb` provider block: Auto Scaling at `autoscaling` (a front), the rest at `moto`.
pub fn provider_block(autoscaling: &str, moto: &str) -> String {
    let moto = moto.trim_end_matches('/');
    format!(
        r#"
provider "bbb" {{
  region = "us-east-1"
  endpoints {{
    autoscaling = "{autoscaling}"
    route53     = "{moto}"
    ec2         = "{moto}"
    ssm         = "{moto}"
  }}
}}
"#
    )
}

/// The names of `asg`'s scheduled actions that contain `name`, sorted (straight from moto).
pub fn action_names(
    rt: &tokio::runtime::Runtime,
    clients: &AwsClients,
    asg: &str,
    name: &str,
) -> Vec<String> {
    let mut names: Vec<String> = rt
        .block_on(clients.describe_scheduled_actions(asg))
        .expect("describe scheduled actions")
        .into_iter()
        .map(|a| a.name)
        .filter(|n| n.contains(name))
        .collect();
    names.sort();
    names
}

/// A whole hour `days` days from now.
pub fn future(days: u64) -> SystemTime {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after epoch")
        .as_secs();
    UNIX_EPOCH + Duration::from_secs((now / 3600 + 1) * 3600 + days * 86_400)
}

/// `secs` seconds from now, in whole seconds.
pub fn in_secs(secs: u64) -> SystemTime {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after epoch")
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(now + secs)
}

/// Sleeps until `t` has passed.
pub fn wait_until(t: SystemTime) {
    if let Ok(left) = t.duration_since(SystemTime::now()) {
        std::thread::sleep(left + Duration::from_secs(1));
    }
}

/// A one-off `bbb_schedule` resource block.
pub fn one_off(
    label: &str,
    asg: &str,
    name: &str,
    start: SystemTime,
    end: SystemTime,
    extra: &str,
) -> String {
    format!(
        r#"
resource "bbb_schedule" "{label}" {{
  autoscaling_group_name = "{asg}"
  name                   = "{name}"
  start_time             = "{}"
  end_time               = "{}"
{extra}
}}
"#,
        crate::rfc3339(start),
        crate::rfc3339(end)
    )
}
