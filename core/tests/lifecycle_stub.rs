//! The hook tests' Auto Scaling endpoint (`LifecycleStub`, moto behind it) holding instances in
//! the launching lifecycle hook's wait as AWS does (`bbb_core::testing::launch_wait` for the
//! sources): `Pending:Wait` shown, `SetInstanceProtection` refused, the completion ending the
//! wait; instances not declared pending are moto's as before.

use aws_sdk_autoscaling::error::ProvideErrorMetadata;
use bbb_core::aws::{AwsClients, LifecycleActionRef, LifecycleActionResult};
use bbb_core::testing::{group_instances, shared, LifecycleStub, TestGroup};

const LAUNCHING: &str = "bbb-launching";
const TERMINATING: &str = "bbb-terminating";

/// Clients whose Auto Scaling calls go through `stub` (everything else to moto), no retries.
async fn through(stub: &LifecycleStub) -> AwsClients {
    AwsClients::new(&stub.config()).await.expect("clients")
}

fn action(group: &str, hook: &str, instance: &str) -> LifecycleActionRef {
    LifecycleActionRef {
        asg_name: group.to_owned(),
        hook_name: hook.to_owned(),
        instance_id: Some(instance.to_owned()),
        token: None,
    }
}

/// The lifecycle state of `id` in the stub's DescribeAutoScalingGroups and
/// DescribeAutoScalingInstances answers, which must agree.
async fn state(aws: &AwsClients, group: &str, id: &str) -> String {
    let in_group = aws
        .describe_auto_scaling_group(group)
        .await
        .expect("DescribeAutoScalingGroups")
        .instances
        .into_iter()
        .find(|i| i.instance_id == id)
        .expect("instance in group")
        .lifecycle_state
        .as_str()
        .to_owned();
    let details = aws
        .autoscaling_sdk()
        .describe_auto_scaling_instances()
        .instance_ids(id)
        .send()
        .await
        .expect("DescribeAutoScalingInstances");
    let alone = details.auto_scaling_instances()[0]
        .lifecycle_state()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(in_group, alone, "both descriptions agree on {id}");
    in_group
}

/// `SetInstanceProtection(true)` of `ids` through the stub: `Ok` or (HTTP status, code,
/// message).
async fn protect(aws: &AwsClients, group: &str, ids: &[&str]) -> Result<(), (u16, String, String)> {
    let mut call = aws
        .autoscaling_sdk()
        .set_instance_protection()
        .auto_scaling_group_name(group)
        .protected_from_scale_in(true);
    for id in ids {
        call = call.instance_ids(*id);
    }
    call.send().await.map(|_| ()).map_err(|e| {
        let status = e.raw_response().map_or(0, |r| r.status().as_u16());
        (
            status,
            e.code().unwrap_or_default().to_owned(),
            e.message().unwrap_or_default().to_owned(),
        )
    })
}

fn refused(id: &str) -> Result<(), (u16, String, String)> {
    Err((
        400,
        "ValidationError".to_owned(),
        format!("The instance {id} is not in InService or EnteringStandby or Standby."),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_instance_waits_until_its_launching_action_is_completed() {
    let moto = shared();
    let admin = moto.clients().await;
    let group = TestGroup::create(&admin, "stub-pending", 3).await.name;
    let ids: Vec<String> = group_instances(&admin, &group)
        .await
        .into_iter()
        .map(|i| i.instance_id)
        .collect();
    let (pending, abandoned, plain) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());
    let stub = LifecycleStub::start(moto.url()).await;
    let aws = through(&stub).await;

    // Nothing declared: moto's states and moto's acceptance.
    assert_eq!(state(&aws, &group, pending).await, "InService");
    stub.pending_launch(pending, LAUNCHING);
    stub.pending_launch(abandoned, LAUNCHING);
    assert_eq!(state(&aws, &group, pending).await, "Pending:Wait");
    assert_eq!(state(&aws, &group, plain).await, "InService");

    // Protection is refused for the first pending instance listed, and the call changes nothing.
    assert_eq!(protect(&aws, &group, &[pending]).await, refused(pending));
    assert_eq!(
        protect(&aws, &group, &[plain, abandoned, pending]).await,
        refused(abandoned)
    );
    assert!(group_instances(&admin, &group)
        .await
        .iter()
        .all(|i| !i.protected_from_scale_in));
    assert_eq!(protect(&aws, &group, &[plain]).await, Ok(()));

    // The wait: a heartbeat of its hook is accepted, another hook has no action waiting.
    aws.record_lifecycle_action_heartbeat(&action(&group, LAUNCHING, pending))
        .await
        .expect("heartbeat of the waiting action");
    let other = aws
        .complete_lifecycle_action(
            &action(&group, TERMINATING, pending),
            LifecycleActionResult::Continue,
        )
        .await
        .expect_err("no terminating action waits");
    assert_eq!(other.code(), Some("ValidationError"), "{other}");
    assert!(
        other.to_string().contains(&format!(
            "No active Lifecycle Action found with instance ID {pending}"
        )),
        "{other}"
    );
    assert_eq!(state(&aws, &group, pending).await, "Pending:Wait");

    // CONTINUE: in service from now on, protection accepted, the action gone.
    aws.complete_lifecycle_action(
        &action(&group, LAUNCHING, pending),
        LifecycleActionResult::Continue,
    )
    .await
    .expect("complete the launching action");
    assert_eq!(state(&aws, &group, pending).await, "InService");
    assert_eq!(protect(&aws, &group, &[pending]).await, Ok(()));
    let again = aws
        .complete_lifecycle_action(
            &action(&group, LAUNCHING, pending),
            LifecycleActionResult::Continue,
        )
        .await
        .expect_err("completed once");
    assert_eq!(again.code(), Some("ValidationError"), "{again}");

    // ABANDON: the group terminates it; still not protectable.
    aws.complete_lifecycle_action(
        &action(&group, LAUNCHING, abandoned),
        LifecycleActionResult::Abandon,
    )
    .await
    .expect("abandon the launching action");
    assert_eq!(state(&aws, &group, abandoned).await, "Terminating");
    assert_eq!(
        protect(&aws, &group, &[abandoned]).await,
        refused(abandoned)
    );

    let refusals: Vec<(String, String)> = stub
        .refusals()
        .into_iter()
        .map(|r| (r.action, r.instance_id))
        .collect();
    let own = |a: &str, id: &str| (a.to_owned(), id.to_owned());
    assert_eq!(
        refusals,
        [
            own("SetInstanceProtection", pending),
            own("SetInstanceProtection", abandoned),
            own("CompleteLifecycleAction", pending),
            own("CompleteLifecycleAction", pending),
            own("SetInstanceProtection", abandoned),
        ]
    );
}
