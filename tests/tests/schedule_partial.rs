//! `bbb_schedule` when a create fails half-way (review D6), under the real Terraform CLI
//! against moto's Auto Scaling behind a front that fails one PutScheduledUpdateGroupAction
//! with AWS's `LimitExceeded` (one of the action's documented errors).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bbb_acceptance_tests::{rfc3339, Workspace};
use bbb_core::testing::{self, LifecycleStub, TestGroup};

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

/// A whole hour `days` days from now.
fn future(days: u64) -> SystemTime {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after epoch")
        .as_secs();
    UNIX_EPOCH + Duration::from_secs((now / 3600 + 1) * 3600 + days * 86_400)
}

#[test]
fn a_failed_second_put_on_create_leaves_no_scheduled_action() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let moto = testing::shared();
    let clients = rt.block_on(moto.clients());
    let group = rt.block_on(TestGroup::create(&clients, "sched-partial", 1));
    let front = rt.block_on(LifecycleStub::start(moto.url()));
    let moto_url = moto.url().as_str().trim_end_matches('/').to_string();
    let name = testing::unique("exam");
    let start = future(2);
    let mut ws = Workspace::new(PROVIDER);
    ws.set_env("AWS_ACCESS_KEY_ID", "testing");
    ws.set_env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.set_env("BBB_MAX_RETRIES", "0");
    let config = |autoscaling: &str| {
        format!(
            r#"
provider "bbb" {{
  region = "us-east-1"
  endpoints {{
    autoscaling = "{autoscaling}"
    route53     = "{moto_url}"
    ec2         = "{moto_url}"
    ssm         = "{moto_url}"
  }}
}}

resource "bbb_schedule" "s" {{
  autoscaling_group_name = "{asg}"
  name                   = "{name}"
  start_time             = "{start}"
  end_time               = "{end}"
  capacity               = 3
}}
"#,
            asg = group.name,
            start = rfc3339(start),
            end = rfc3339(start + Duration::from_secs(4 * 3600)),
        )
    };
    ws.write_config(&config(&front.url()));
    rt.block_on(front.fail_nth(
        "PutScheduledUpdateGroupAction",
        2,
        "LimitExceeded",
        "You have already reached a limit for your Amazon EC2 Auto Scaling resources.",
    ));

    let text = ws.fails(&["apply", "-auto-approve", "-no-color"]).flat();
    assert!(text.contains("LimitExceeded"), "{text}");
    assert!(
        text.contains(&format!("put scheduled action bbb-{name}-up")),
        "the scale-down goes first, so the second put is the scale-up: {text}"
    );
    let left: Vec<String> = rt
        .block_on(clients.describe_scheduled_actions(&group.name))
        .expect("describe scheduled actions")
        .into_iter()
        .map(|a| a.name)
        .filter(|n| n.contains(&name))
        .collect();
    assert!(
        left.is_empty(),
        "a failed create left unmanaged scheduled actions: {left:?}"
    );
    assert!(
        ws.state_json()["values"]["root_module"]["resources"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "nothing was recorded"
    );

    // The next apply creates both actions.
    ws.apply();
    let mut names: Vec<String> = rt
        .block_on(clients.describe_scheduled_actions(&group.name))
        .expect("describe scheduled actions")
        .into_iter()
        .map(|a| a.name)
        .filter(|n| n.contains(&name))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![format!("bbb-{name}-down"), format!("bbb-{name}-up")]
    );
    ws.destroy();
}

/// The schedule's actions already exist outside the state (state lost, or `terraform state
/// rm` then apply instead of import): the create is refused before anything is put (review
/// G12), so the existing pair stays whole and a scale-up is never left without its scale-down.
#[test]
fn a_create_over_existing_actions_leaves_them_whole() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let moto = testing::shared();
    let clients = rt.block_on(moto.clients());
    let group = rt.block_on(TestGroup::create(&clients, "sched-over", 1));
    let front = rt.block_on(LifecycleStub::start(moto.url()));
    let moto_url = moto.url().as_str().trim_end_matches('/').to_string();
    let name = testing::unique("exam");
    let start = future(3);
    let mut ws = Workspace::new(PROVIDER);
    ws.set_env("AWS_ACCESS_KEY_ID", "testing");
    ws.set_env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.set_env("BBB_MAX_RETRIES", "0");
    ws.write_config(&format!(
        r#"
provider "bbb" {{
  region = "us-east-1"
  endpoints {{
    autoscaling = "{autoscaling}"
    route53     = "{moto_url}"
    ec2         = "{moto_url}"
    ssm         = "{moto_url}"
  }}
}}

resource "bbb_schedule" "s" {{
  autoscaling_group_name = "{asg}"
  name                   = "{name}"
  start_time             = "{start}"
  end_time               = "{end}"
  capacity               = 3
}}
"#,
        autoscaling = front.url(),
        asg = group.name,
        start = rfc3339(start),
        end = rfc3339(start + Duration::from_secs(4 * 3600)),
    ));
    ws.apply();
    ws.ok(&["state", "rm", "-no-color", "bbb_schedule.s"]);
    rt.block_on(front.fail_nth(
        "PutScheduledUpdateGroupAction",
        2,
        "LimitExceeded",
        "You have already reached a limit for your Amazon EC2 Auto Scaling resources.",
    ));

    let text = ws.fails(&["apply", "-auto-approve", "-no-color"]).flat();
    assert!(text.contains("Scheduled actions already exist"), "{text}");
    let mut left: Vec<String> = rt
        .block_on(clients.describe_scheduled_actions(&group.name))
        .expect("describe scheduled actions")
        .into_iter()
        .map(|a| a.name)
        .filter(|n| n.contains(&name))
        .collect();
    left.sort();
    assert_eq!(
        left,
        vec![format!("bbb-{name}-down"), format!("bbb-{name}-up")],
        "the existing pair stays whole"
    );
}
