//! A BBB fleet on 127.0.0.1 with no AWS account and no BBB server: moto's Auto Scaling group
//! (with the lifecycle behaviour moto lacks, see [`fleet`]), a Route53 zone and SSM parameters in
//! moto, a Scalelite double, and one simulated instance per instance the group launches, each
//! with its own metadata service and BBB double and the real `bbb-hook`.

pub mod autoscaling_front;
pub mod events;
pub mod fleet;
pub mod instance;

use std::path::PathBuf;
use std::time::Duration;

use bbb_core::aws::AwsClients;
use bbb_core::testing::{create_zone, put_parameter, MotoServer, TestGroup, REGION};
use bbb_doubles::ScaleliteDouble;
use tokio::task::JoinHandle;

pub use events::{Event, Events, LaunchRecord, LaunchTiming};
pub use fleet::{Fleet, InstanceView, Stats};
pub use instance::HookEnv;

pub const DOMAIN: &str = "bbb.sandbox.test";
pub const SCALELITE_SECRET_PARAMETER: &str = "/bbb/sandbox/scalelite-secret";

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct Options {
    pub hook_binary: PathBuf,
    /// Print events as they happen.
    pub print_events: bool,
    pub protect_every: Duration,
    pub poll_interval: Duration,
    pub max_size: i32,
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
}

pub struct Sandbox {
    pub endpoints: Endpoints,
    pub fleet: Fleet,
    pub aws: AwsClients,
    pub scalelite: ScaleliteDouble,
    pub events: Events,
    loop_task: JoinHandle<()>,
    front_task: JoinHandle<()>,
    _moto: MotoServer,
}

impl Sandbox {
    pub async fn start(opts: Options) -> Result<Self, String> {
        let moto = tokio::task::spawn_blocking(MotoServer::start)
            .await
            .map_err(|e| e.to_string())??;
        let aws = moto.clients().await;
        let group = TestGroup::create(&aws, "bbb-sandbox", 0).await;
        aws.autoscaling_sdk()
            .update_auto_scaling_group()
            .auto_scaling_group_name(&group.name)
            .max_size(opts.max_size)
            .send()
            .await
            .map_err(|e| format!("UpdateAutoScalingGroup: {e}"))?;
        let zone = create_zone(&aws, DOMAIN).await;
        let scalelite_secret = uuid::Uuid::new_v4().simple().to_string();
        put_parameter(&aws, SCALELITE_SECRET_PARAMETER, &scalelite_secret, true).await;
        let scalelite = ScaleliteDouble::start(scalelite_secret.clone())
            .await
            .map_err(|e| format!("Scalelite double: {e}"))?;
        let events = Events::new(opts.print_events);
        let fleet = Fleet::new(group.name.clone(), events.clone());
        let moto_url = moto.url().as_str().trim_end_matches('/').to_owned();

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| e.to_string())?;
        let autoscaling_url = format!(
            "http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let front = autoscaling_front::router(autoscaling_front::Front {
            fleet: fleet.clone(),
            moto: moto_url.clone(),
            http: reqwest::Client::new(),
        });
        let front_task = tokio::spawn(async move {
            let _ = axum::serve(listener, front).await;
        });

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
            hook_config_parameter: "/bbb/fleets/sandbox/hook-config".to_owned(),
        };
        let env = HookEnv {
            hook_binary: opts.hook_binary.clone(),
            moto_url,
            autoscaling_url,
            region: REGION.to_owned(),
            config_parameter: endpoints.hook_config_parameter.clone(),
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
            "moto, Scalelite double and the Auto Scaling endpoint are up",
        );
        Ok(Self {
            endpoints,
            fleet,
            aws,
            scalelite,
            events,
            loop_task,
            front_task,
            _moto: moto,
        })
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
