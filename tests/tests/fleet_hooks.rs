//! `bbb_fleet`'s lifecycle hooks. It must never release a draining server: destroy and a renamed hook
//! under the real Terraform CLI, against moto behind the sandbox's Auto Scaling endpoint, which
//! holds instances in `Terminating:Wait` and, like AWS, completes their lifecycle actions
//! (CONTINUE) when their hook is deleted. Also: the destroy-time warning, `timeouts.delete`,
//! and Ctrl-C (Terraform's StopProvider) ending the wait. Drift of what no attribute shows.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bbb_acceptance_tests::Workspace;
use bbb_core::aws::{AwsClients, LifecycleActionResult};
use bbb_core::testing::access::Principals;
use bbb_core::testing::{shared, unique, TestGroup};
use bbb_doubles::scalelite::ScaleliteDouble;
use bbb_sandbox::autoscaling_front::Front;
use bbb_sandbox::{Events, Fleet};

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");
const LB_SECRET: &str = "scalelite-lb-secret-fleet-destroy";
const HOUR: Duration = Duration::from_secs(3600);

struct Env {
    rt: tokio::runtime::Runtime,
    scalelite: ScaleliteDouble,
    aws: AwsClients,
    moto_url: String,
    front_url: String,
    /// The group's termination behaviour (the sandbox's), behind `front_url`.
    fleet: Fleet,
    asg: String,
    name: String,
    zone_id: String,
    domain: String,
    _front: tokio::task::JoinHandle<()>,
}

impl Env {
    fn new(size: i32) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let scalelite = rt
            .block_on(ScaleliteDouble::start(LB_SECRET))
            .expect("scalelite double");
        let moto = shared();
        let aws = rt.block_on(moto.clients());
        let moto_url = moto.url().as_str().trim_end_matches('/').to_string();
        let group = rt.block_on(TestGroup::create(&aws, "fleet-destroy", size));
        let fleet = Fleet::new(group.name.clone(), Events::new(false));
        let (front_url, front) = rt
            .block_on(Front::new(fleet.clone(), &moto_url, Principals::new(), "").serve())
            .expect("Auto Scaling endpoint");
        let domain = format!("{}.example.org", unique("fd"));
        let zone_id = rt.block_on(bbb_core::testing::create_zone(&aws, &domain));
        Self {
            rt,
            scalelite,
            aws,
            moto_url,
            front_url,
            fleet,
            asg: group.name,
            name: unique("fd"),
            zone_id,
            domain,
            _front: front,
        }
    }

    fn workspace(&self) -> Workspace {
        let mut ws = Workspace::new(PROVIDER);
        ws.set_env("BBB_SCALELITE_URL", &self.scalelite.url());
        ws.set_env("BBB_SCALELITE_SECRET", LB_SECRET);
        ws.set_env("BBB_MAX_RETRIES", "0");
        ws.set_env("AWS_ACCESS_KEY_ID", "testing");
        ws.set_env("AWS_SECRET_ACCESS_KEY", "testing");
        ws
    }

    /// The fleet with terminating hook `hook` and `timeouts { delete = <delete> }`.
    fn config(&self, hook: &str, delete: &str) -> String {
        let (m, f) = (&self.moto_url, &self.front_url);
        format!(
            r#"provider "bbb" {{
  region = "us-east-1"
  endpoints {{
    autoscaling = "{f}"
    route53     = "{m}"
    ec2         = "{m}"
    ssm         = "{m}"
  }}
}}

resource "bbb_fleet" "f" {{
  name                       = "{name}"
  autoscaling_group_name     = "{asg}"
  hosted_zone_id             = "{zone}"
  domain                     = "{domain}"
  scalelite_secret_parameter = "/bbb/test/scalelite-secret"

  drain {{
    lifecycle_hook_name = "{hook}"
    heartbeat_timeout   = 600
    max_wait            = "1h"
  }}

  timeouts {{
    delete = "{delete}"
  }}
}}
"#,
            name = self.name,
            asg = self.asg,
            zone = self.zone_id,
            domain = self.domain,
        )
    }

    fn hook_names(&self) -> BTreeSet<String> {
        self.rt
            .block_on(self.aws.describe_lifecycle_hooks(&self.asg, &[]))
            .expect("hooks")
            .into_iter()
            .map(|h| h.hook_name)
            .collect()
    }

    fn instance_ids(&self) -> Vec<String> {
        self.rt
            .block_on(self.aws.describe_auto_scaling_group(&self.asg))
            .expect("group")
            .instances
            .into_iter()
            .map(|i| i.instance_id)
            .collect()
    }

    fn launching(&self) -> String {
        format!("bbb-{}-launching", self.name)
    }
}

#[test]
fn destroy_waits_for_draining_servers_and_never_releases_them() {
    let env = Env::new(2);
    let ws = env.workspace();
    let hook = format!("{}-drain", env.name);
    ws.write_config(&env.config(&hook, "4s"));
    ws.apply();
    let ids = env.instance_ids();
    let draining = ids[0].clone();
    env.fleet.hold_terminating(&draining, &hook, HOUR);

    // The plan says what destroy will wait for, and what it leaves without a drain.
    let plan = ws.ok(&["plan", "-destroy", "-no-color"]).flat();
    assert!(
        plan.contains("1 instance(s) are draining or launching; destroy will wait up to 4s"),
        "{plan}"
    );
    assert!(plan.contains(&draining), "{plan}");
    assert!(
        plan.contains("still runs 1 server(s) that will not drain"),
        "{plan}"
    );

    // Destroy waits up to timeouts.delete, then stops, naming the instance; nothing is deleted.
    let started = Instant::now();
    let run = ws.fails(&["destroy", "-auto-approve", "-no-color"]);
    let took = started.elapsed();
    let text = run.flat();
    assert!(took >= Duration::from_secs(4), "gave up after {took:?}");
    assert!(
        text.contains("Instances still wait on the fleet's lifecycle hooks"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{draining} (Terminating:Wait)")),
        "{text}"
    );
    assert!(text.contains("Nothing was deleted"), "{text}");
    assert_eq!(
        env.fleet.terminating_state(&draining),
        Some("Terminating:Wait"),
        "the draining server was released"
    );
    assert!(env.hook_names().contains(&hook));
    assert!(!ws.resource_values("bbb_fleet.f").is_null(), "state kept");

    // Once its drain is done (the on-instance hook completes the action), destroy goes on.
    assert!(env
        .fleet
        .complete_lifecycle_action(&draining, &hook, "CONTINUE"));
    ws.destroy();
    let left = env.hook_names();
    assert!(
        !left.contains(&hook) && !left.contains(&env.launching()),
        "{left:?}"
    );
}

#[test]
fn a_renamed_hook_is_kept_while_a_server_waits_on_it() {
    let env = Env::new(1);
    let ws = env.workspace();
    let old = format!("{}-drain", env.name);
    let new = format!("{}-drain2", env.name);
    ws.write_config(&env.config(&old, "1m"));
    ws.apply();
    let draining = env.instance_ids()[0].clone();
    env.fleet.hold_terminating(&draining, &old, HOUR);

    ws.write_config(&env.config(&new, "1m"));
    ws.apply();
    assert_eq!(
        env.fleet.terminating_state(&draining),
        Some("Terminating:Wait"),
        "the rename released the draining server"
    );
    let hooks = env.hook_names();
    assert!(hooks.contains(&old) && hooks.contains(&new), "{hooks:?}");
    let values = ws.resource_values("bbb_fleet.f");
    assert_eq!(values["retired_hook_names"], serde_json::json!([old]));
    assert_eq!(values["terminating_hook_name"], serde_json::json!(new));
    // Still waited on: nothing to do.
    ws.assert_no_changes();

    // The drain ends: the next plan shows the clean-up and its apply deletes the old hook.
    assert!(env
        .fleet
        .complete_lifecycle_action(&draining, &old, "CONTINUE"));
    let plan = ws.ok(&["plan", "-no-color"]).text();
    assert!(plan.contains("retired_hook_names"), "{plan}");
    ws.apply();
    let hooks = env.hook_names();
    assert!(!hooks.contains(&old) && hooks.contains(&new), "{hooks:?}");
    assert_eq!(
        ws.resource_values("bbb_fleet.f")["retired_hook_names"],
        serde_json::json!([])
    );
    ws.assert_no_changes();
    ws.destroy();
}

#[test]
fn ctrl_c_ends_the_destroy_wait_within_seconds_and_keeps_the_state() {
    let env = Env::new(1);
    let ws = env.workspace();
    let hook = format!("{}-drain", env.name);
    ws.write_config(&env.config(&hook, "30m"));
    ws.apply();
    let draining = env.instance_ids()[0].clone();
    env.fleet.hold_terminating(&draining, &hook, HOUR);

    let child = ws.spawn(&["destroy", "-auto-approve", "-no-color"]);
    // Terraform is inside the wait once the group is described again and again.
    std::thread::sleep(Duration::from_secs(8));
    let (run, took) = Workspace::interrupt(child);
    let text = run.flat();
    assert!(
        took < Duration::from_secs(10),
        "destroy ran {took:?} after Ctrl-C:\n{text}"
    );
    assert_ne!(run.code, 0, "{text}");
    assert!(text.contains("Cancelled"), "{text}");
    assert_eq!(
        env.fleet.terminating_state(&draining),
        Some("Terminating:Wait")
    );
    assert!(env.hook_names().contains(&hook));
    assert!(!ws.resource_values("bbb_fleet.f").is_null(), "state kept");

    assert!(env
        .fleet
        .complete_lifecycle_action(&draining, &hook, "CONTINUE"));
    ws.destroy();
}

#[test]
fn a_hook_changed_in_the_console_shows_as_drift_and_is_put_back() {
    let env = Env::new(0);
    let ws = env.workspace();
    let hook = format!("{}-drain", env.name);
    ws.write_config(&env.config(&hook, "1m"));
    ws.apply();
    ws.assert_no_changes();
    // Someone lets broken launches serve: the launching hook's default result becomes CONTINUE.
    let launching = env.launching();
    let mut spec = env
        .rt
        .block_on(
            env.aws
                .describe_lifecycle_hooks(&env.asg, std::slice::from_ref(&launching)),
        )
        .expect("hooks")
        .into_iter()
        .next()
        .map(|h| bbb_core::aws::LifecycleHookSpec {
            asg_name: env.asg.clone(),
            hook_name: h.hook_name,
            transition: h.transition,
            heartbeat_timeout: h.heartbeat_timeout,
            default_result: LifecycleActionResult::Continue,
            notification_target_arn: None,
            role_arn: None,
            notification_metadata: None,
        })
        .expect("launching hook");
    env.rt
        .block_on(env.aws.put_lifecycle_hook(&spec))
        .expect("put hook");
    let plan = ws.terraform(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "drift not shown:\n{}", plan.text());
    assert!(plan.stdout.contains("launch_hook_name"), "{}", plan.stdout);
    ws.apply();
    let result = |name: &str| {
        env.rt
            .block_on(
                env.aws
                    .describe_lifecycle_hooks(&env.asg, &[name.to_string()]),
            )
            .expect("hooks")
            .into_iter()
            .next()
            .and_then(|h| h.default_result)
    };
    assert_eq!(result(&launching), Some(LifecycleActionResult::Abandon));
    ws.assert_no_changes();

    // The same for the terminating hook's default result (a draining server that stops answering
    // must still terminate: CONTINUE).
    spec.hook_name = hook.clone();
    spec.transition = bbb_core::aws::LifecycleTransition::Terminating;
    spec.default_result = LifecycleActionResult::Abandon;
    spec.heartbeat_timeout = Some(Duration::from_secs(600));
    env.rt
        .block_on(env.aws.put_lifecycle_hook(&spec))
        .expect("put hook");
    let plan = ws.terraform(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "drift not shown:\n{}", plan.text());
    ws.apply();
    assert_eq!(result(&hook), Some(LifecycleActionResult::Continue));
    ws.destroy();
}
