//! A BBB fleet on 127.0.0.1 with no AWS account and no BBB server: moto's Auto Scaling group
//! (with the lifecycle behaviour moto lacks, see [`fleet`]), a Route53 zone and SSM parameters in
//! moto, a Scalelite double, and one simulated instance per instance the group launches, each
//! with its own metadata service and BBB double and the real `bbb-hook`.
//!
//! moto runs with its IAM access control on ([`IamMoto`]): every request must be signed by a
//! moto IAM user whose policy allows its action. The sandbox, the provider and Terraform sign
//! as an administrator ([`Endpoints::access_key_id`]); every instance's `bbb-hook` signs as a
//! user bound to the fleet module's instance policy (`modules/fleet/policies`, rendered for the
//! sandbox's zone, group and parameters by [`Policy::instance`]). moto checks actions, not
//! resources or conditions (see `bbb_core::testing::iam`); the Auto Scaling endpoint checks the
//! calls it answers itself against the policy with resources ([`autoscaling_front`]).

pub mod autoscaling_front;
pub mod events;
pub mod fleet;
pub mod instance;
pub mod target_tracking;
pub mod traffic;

use std::path::PathBuf;
use std::time::Duration;

use bbb_core::aws::{AwsClients, StaticCredentials};
use bbb_core::testing::access::Principals;
use bbb_core::testing::iam::{IamMoto, Policy, PolicyInputs};
use bbb_core::testing::{create_zone, put_parameter, unique, TestGroup, REGION};
use bbb_doubles::ScaleliteDouble;
use tokio::task::JoinHandle;

pub use events::{Event, Events, LaunchRecord, LaunchTiming};
pub use fleet::{Fleet, InstanceView, Stats};
pub use instance::HookEnv;
pub use target_tracking::{TargetTracking, Verdict};
pub use traffic::{Traffic, TrafficCounts};

pub const DOMAIN: &str = "bbb.sandbox.test";
pub const SCALELITE_SECRET_PARAMETER: &str = "/bbb/sandbox/scalelite-secret";
/// The fleet's name and record names, as `examples/local` sets them on `bbb_fleet` (the
/// instance policy is rendered with them, as the fleet module does).
pub const FLEET_NAME: &str = "sandbox";
pub const RECORD_NAME_TEMPLATE: &str = "bbb-{instance_id}";

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct Options {
    pub hook_binary: PathBuf,
    /// Print events as they happen.
    pub print_events: bool,
    pub protect_every: Duration,
    pub poll_interval: Duration,
    pub max_size: i32,
    /// Actions taken out of the instance policy before the instances' user is bound to it (a
    /// test of the enforcement; empty for the module's policy as it is).
    pub withheld_instance_actions: Vec<String>,
}

/// The fleet's settings, for `bbb_fleet` and the provider.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Endpoints {
    pub moto_url: String,
    pub autoscaling_url: String,
    pub region: String,
    pub autoscaling_group_name: String,
    pub hosted_zone_id: String,
    pub domain: String,
    pub scalelite_url: String,
    pub scalelite_secret: String,
    pub scalelite_secret_parameter: String,
    pub hook_config_parameter: String,
    /// The administrator's access key for the provider and Terraform (a moto IAM user allowed
    /// everything).
    pub access_key_id: String,
    pub secret_access_key: String,
}

pub struct Sandbox {
    pub endpoints: Endpoints,
    pub fleet: Fleet,
    pub aws: AwsClients,
    pub scalelite: ScaleliteDouble,
    pub events: Events,
    /// The instance policy the instances' user is bound to (with resources and conditions).
    pub instance_policy: Policy,
    /// The instances' access key.
    pub instance_credentials: StaticCredentials,
    loop_task: JoinHandle<()>,
    front_task: JoinHandle<()>,
    moto: IamMoto,
}

impl Sandbox {
    pub async fn start(opts: Options) -> Result<Self, String> {
        let moto = IamMoto::start().await?;
        let aws = AwsClients::new(&moto.admin_config())
            .await
            .map_err(|e| format!("AWS clients for moto: {e}"))?;
        let group = TestGroup::create(&aws, "bbb-sandbox", 0).await;
        aws.autoscaling_sdk()
            .update_auto_scaling_group()
            .auto_scaling_group_name(&group.name)
            .max_size(opts.max_size)
            // As `modules/fleet` creates the group (`protect_from_scale_in`, with
            // `protect_live_meetings`): a new instance is protected as it enters service.
            .new_instances_protected_from_scale_in(true)
            .send()
            .await
            .map_err(|e| format!("UpdateAutoScalingGroup: {e}"))?;
        let group_arn = aws
            .autoscaling_sdk()
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(&group.name)
            .send()
            .await
            .map_err(|e| format!("DescribeAutoScalingGroups: {e}"))?
            .auto_scaling_groups()
            .first()
            .and_then(|g| g.auto_scaling_group_arn())
            .ok_or("DescribeAutoScalingGroups: the group has no ARN")?
            .to_owned();
        let zone = create_zone(&aws, DOMAIN).await;
        let hook_config_parameter = format!("/bbb/fleets/{FLEET_NAME}/hook-config");
        let mut instance_policy = Policy::instance(&PolicyInputs {
            hosted_zone_id: zone.clone(),
            record_name_pattern: format!(
                "{}.{DOMAIN}",
                RECORD_NAME_TEMPLATE.replace("{instance_id}", "i-*")
            ),
            autoscaling_group_arn: group_arn.clone(),
            fleet_name: FLEET_NAME.to_owned(),
            scalelite_secret_parameter: SCALELITE_SECRET_PARAMETER.to_owned(),
            hook_config_parameter: hook_config_parameter.clone(),
            turn_secret_parameter: None,
            tls_certificate_parameter: None,
            tls_certificate_secret_arn: None,
        })
        .map_err(|e| format!("instance policy: {e}"))?;
        for action in &opts.withheld_instance_actions {
            instance_policy = instance_policy.without_action(action);
        }
        let instance_credentials = moto
            .user_with_policy(
                &unique("bbb-sandbox-instance"),
                &instance_policy.moto_view(),
            )
            .await?;
        let admin = moto.admin_credentials().clone();
        let scalelite_secret = uuid::Uuid::new_v4().simple().to_string();
        put_parameter(&aws, SCALELITE_SECRET_PARAMETER, &scalelite_secret, true).await;
        let scalelite = ScaleliteDouble::start(scalelite_secret.clone())
            .await
            .map_err(|e| format!("Scalelite double: {e}"))?;
        let events = Events::new(opts.print_events);
        let fleet = Fleet::new(group.name.clone(), events.clone());
        let moto_url = moto.url().as_str().trim_end_matches('/').to_owned();

        let (autoscaling_url, front_task) = autoscaling_front::Front::new(
            fleet.clone(),
            &moto_url,
            Principals::new()
                .with(&admin.access_key_id, IamMoto::admin_policy())
                .with(&instance_credentials.access_key_id, instance_policy.clone()),
            &group_arn,
        )
        .serve()
        .await?;

        let endpoints = Endpoints {
            moto_url: moto_url.clone(),
            autoscaling_url: autoscaling_url.clone(),
            region: REGION.to_owned(),
            autoscaling_group_name: group.name.clone(),
            hosted_zone_id: zone,
            domain: DOMAIN.to_owned(),
            scalelite_url: scalelite.url(),
            scalelite_secret,
            scalelite_secret_parameter: SCALELITE_SECRET_PARAMETER.to_owned(),
            hook_config_parameter,
            access_key_id: admin.access_key_id.clone(),
            secret_access_key: admin.secret_access_key.expose().to_owned(),
        };
        let env = HookEnv {
            hook_binary: opts.hook_binary.clone(),
            moto_url,
            autoscaling_url,
            region: REGION.to_owned(),
            config_parameter: endpoints.hook_config_parameter.clone(),
            credentials: instance_credentials.clone(),
            protect_every: opts.protect_every,
            poll_interval: opts.poll_interval,
        };
        let loop_fleet = fleet.clone();
        let loop_aws = aws.clone();
        let loop_task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                if let Err(e) = loop_fleet.reconcile(&loop_aws, &env).await {
                    loop_fleet
                        .events
                        .push("sandbox", format!("reconcile failed: {e}"));
                }
            }
        });
        events.push(
            "sandbox",
            "moto (IAM enforced), Scalelite double and the Auto Scaling endpoint are up",
        );
        Ok(Self {
            endpoints,
            fleet,
            aws,
            scalelite,
            events,
            instance_policy,
            instance_credentials,
            loop_task,
            front_task,
            moto,
        })
    }

    /// The IAM-enforcing moto (to make more users).
    pub fn moto(&self) -> &IamMoto {
        &self.moto
    }

    /// Stores `bbb_fleet`'s hook_config where the instances read it (the fleet module's
    /// aws_ssm_parameter does this in a real deployment).
    pub async fn publish_hook_config(&self, doc: &str) {
        put_parameter(&self.aws, &self.endpoints.hook_config_parameter, doc, false).await;
    }

    /// The A records of the fleet's zone: (name, address).
    pub async fn records(&self) -> Vec<(String, String)> {
        self.aws
            .list_records(&self.endpoints.hosted_zone_id, DOMAIN)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.record_type == "A")
            .map(|r| (r.name, r.values.join(",")))
            .collect()
    }

    /// Waits until `cond` holds, checking every 200 ms; `false` after `timeout`.
    pub async fn wait_for<F, Fut>(&self, timeout: Duration, mut cond: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if cond().await {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.loop_task.abort();
        self.front_task.abort();
    }
}
