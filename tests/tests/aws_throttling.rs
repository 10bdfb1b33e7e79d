//! AWS throttling under the real Terraform CLI: moto's Auto Scaling behind a front that answers
//! the first calls of an action as AWS does when its rate limit is hit (HTTP 400 `Throttling`,
//! "Rate exceeded"). A refresh rides it out with the default retries (25, adaptive mode, as
//! terraform-provider-aws); when the retries run out, the error says to raise `max_retries`.

use std::time::Duration;

use bbb_acceptance_tests::schedule_env::{aws_workspace, future, one_off, provider_block, runtime};
use bbb_core::testing::{self, LifecycleStub, TestGroup};

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

#[test]
fn a_throttled_refresh_succeeds_and_exhausted_retries_say_what_to_raise() {
    let rt = runtime();
    let moto = testing::shared();
    let clients = rt.block_on(moto.clients());
    let group = rt.block_on(TestGroup::create(&clients, "throttled", 1));
    let front = rt.block_on(LifecycleStub::start(moto.url()));
    let start = future(3);
    let mut ws = aws_workspace(PROVIDER);
    // The provider's default retries (25) until the test sets fewer.
    ws.unset_env("BBB_MAX_RETRIES");
    ws.write_config(&format!(
        "{}{}",
        provider_block(&front.url(), moto.url().as_str()),
        one_off(
            "s",
            &group.name,
            &testing::unique("exam"),
            start,
            start + Duration::from_secs(2 * 3600),
            "  capacity = 2"
        )
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
