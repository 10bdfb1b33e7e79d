//! `bbb_schedule` when a create fails half-way (review D6), under the real Terraform CLI
//! against moto's Auto Scaling behind a front that fails one PutScheduledUpdateGroupAction
//! with AWS's `LimitExceeded` (one of the action's documented errors).

use std::time::Duration;

use bbb_acceptance_tests::schedule_env::{
    action_names, aws_workspace, future, one_off, provider_block, runtime,
};
use bbb_core::testing::{self, LifecycleStub, TestGroup};

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

#[test]
fn a_failed_second_put_on_create_leaves_no_scheduled_action() {
    let rt = runtime();
    let moto = testing::shared();
    let clients = rt.block_on(moto.clients());
    let group = rt.block_on(TestGroup::create(&clients, "sched-partial", 1));
    let front = rt.block_on(LifecycleStub::start(moto.url()));
    let name = testing::unique("exam");
    let start = future(2);
    let ws = aws_workspace(PROVIDER);
    ws.write_config(&format!(
        "{}{}",
        provider_block(&front.url(), moto.url().as_str()),
        one_off(
            "s",
            &group.name,
            &name,
            start,
            start + Duration::from_secs(4 * 3600),
            "  capacity = 3"
        )
    ));
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
    let left = action_names(&rt, &clients, &group.name, &name);
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
    assert_eq!(
        action_names(&rt, &clients, &group.name, &name),
        vec![format!("bbb-{name}-down"), format!("bbb-{name}-up")]
    );
    ws.destroy();
}

/// The schedule's actions already exist outside the state (state lost, or `terraform state
/// rm` then apply instead of import): the create is refused before anything is put (review
/// G12), so the existing pair stays whole and a scale-up is never left without its scale-down.
#[test]
fn a_create_over_existing_actions_leaves_them_whole() {
    let rt = runtime();
    let moto = testing::shared();
    let clients = rt.block_on(moto.clients());
    let group = rt.block_on(TestGroup::create(&clients, "sched-over", 1));
    let front = rt.block_on(LifecycleStub::start(moto.url()));
    let name = testing::unique("exam");
    let start = future(3);
    let ws = aws_workspace(PROVIDER);
    ws.write_config(&format!(
        "{}{}",
        provider_block(&front.url(), moto.url().as_str()),
        one_off(
            "s",
            &group.name,
            &name,
            start,
            start + Duration::from_secs(4 * 3600),
            "  capacity = 3"
        )
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
    assert_eq!(
        action_names(&rt, &clients, &group.name, &name),
        vec![format!("bbb-{name}-down"), format!("bbb-{name}-up")],
        "the existing pair stays whole"
    );
}
