//! AWS throttling under the real Terraform CLI: moto's Auto Scaling behind a front that answers
//! the first calls of an action as AWS does when its rate limit is hit (HTTP 400 `Throttling`,
//! "Rate exceeded"). A refresh rides it out with the default retries (25, adaptive mode, as
//! terraform-provider-aws); when the retries run out, the error says to raise `max_retries`.

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
fn a_throttled_refresh_succeeds_and_exhausted_retries_say_what_to_raise() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let moto = testing::shared();
    let clients = rt.block_on(moto.clients());
    let group = rt.block_on(TestGroup::create(&clients, "throttled", 1));
    let front = rt.block_on(LifecycleStub::start(moto.url()));
    let moto_url = moto.url().as_str().trim_end_matches('/').to_string();
    let start = future(3);
    let mut ws = Workspace::new(PROVIDER);
    ws.set_env("AWS_ACCESS_KEY_ID", "testing");
    ws.set_env("AWS_SECRET_ACCESS_KEY", "testing");
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
  capacity               = 2
}}
"#,
        autoscaling = front.url(),
        asg = group.name,
        name = testing::unique("exam"),
        start = rfc3339(start),
        end = rfc3339(start + Duration::from_secs(2 * 3600)),
    ));
    ws.apply();

    // More throttled answers in a row than the old default (3 retries) survived.
    const THROTTLED: u64 = 4;
    rt.block_on(front.throttle_next("DescribeScheduledActions", THROTTLED));
    let before = rt.block_on(front.requests("DescribeScheduledActions"));
    ws.ok(&["plan", "-refresh-only", "-no-color", "-detailed-exitcode"]);
    let sent = rt.block_on(front.requests("DescribeScheduledActions")) - before;
    assert!(
        sent > THROTTLED as usize,
        "every throttled answer was retried: {sent} requests"
    );

    // Retries exhausted: the error names the throttling and the setting to raise.
    ws.set_env("BBB_MAX_RETRIES", "1");
    rt.block_on(front.throttle_next("DescribeScheduledActions", 2));
    let text = ws.fails(&["plan", "-refresh-only", "-no-color"]).flat();
    assert!(text.contains("Throttling"), "{text}");
    assert!(text.contains("Rate exceeded"), "{text}");
    assert!(text.contains("Raise max_retries"), "{text}");

    ws.set_env("BBB_MAX_RETRIES", "3");
    ws.destroy();
}
