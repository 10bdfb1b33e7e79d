//! `bbb-hook launch` on an instance the group holds in its launching lifecycle hook, as AWS
//! holds every instance it launches when the group has one: `Pending:Wait` until the hook
//! completes the action. EC2 Auto Scaling refuses `SetInstanceProtection` until then (400
//! `ValidationError`, "The instance … is not in InService or EnteringStandby or Standby.";
//! infrahouse/infrahouse-toolkit issue #223), and after the completion AWS passes the instance
//! through `Pending:Proceed` before `InService`. So the launch completes the action, waits for
//! `InService`, protects the server, and only then enables it in Scalelite, which routes
//! `create`s to it from its next poll. The lifecycle stub plays that wait
//! (`LifecycleStub::pending_launch`, `pending_launch_proceeding`; sources in
//! `bbb_core::testing::launch_wait`).

mod support;

use bbb_core::aws::AwsClients;
use bbb_core::scalelite::ServerState;
use bbb_core::testing::put_parameter;
use support::{Instance, CONSOLIDATING, LAUNCHING_HOOK};

/// The instance's lifecycle state as the group reports it (through the stub).
async fn lifecycle_state(i: &Instance) -> String {
    AwsClients::new(&i.lifecycle.config())
        .await
        .expect("clients through the stub")
        .describe_auto_scaling_group(&i.group)
        .await
        .expect("DescribeAutoScalingGroups")
        .instances
        .into_iter()
        .find(|x| x.instance_id == i.instance_id)
        .expect("instance in group")
        .lifecycle_state
        .as_str()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn launch_in_pending_wait_completes_the_action_before_any_protection() {
    let i = Instance::new(60).await;
    i.lifecycle.pending_launch(&i.instance_id, LAUNCHING_HOOK);
    assert_eq!(lifecycle_state(&i).await, "Pending:Wait");

    // Consolidation is on (the default), so an enabled server is to be protected: not before
    // the instance is in service.
    let run = i.hook(&["launch"]).await;
    run.ok();
    assert_eq!(
        i.lifecycle.refusals(),
        [],
        "the launch asked for something AWS refuses in Pending:Wait:\n{}",
        run.stderr
    );
    assert!(i.completed(LAUNCHING_HOOK).await, "{}", run.stderr);
    assert_eq!(lifecycle_state(&i).await, "InService");
    assert_eq!(i.server().expect("registered").state, ServerState::Enabled);
    assert!(run.stderr.contains("launch complete"), "{}", run.stderr);

    // Enabled, and so protected (consolidation holds an idle server Scalelite can route to);
    // the first protect pass keeps it so.
    assert!(i.protected().await, "{}", run.stderr);
    let pass = i.hook_with(&["protect"], &CONSOLIDATING).await;
    pass.ok();
    assert!(i.protected().await, "{}", pass.stderr);
    assert_eq!(i.lifecycle.refusals(), [], "{}", pass.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_is_enabled_only_once_the_instance_is_in_service_and_protected() {
    // Enabled while `Pending`, the server could take a `create` at Scalelite's next poll while
    // no protection can hold it: a scale-in then takes the meeting with the instance.
    let i = Instance::new(60).await;
    i.lifecycle
        .pending_launch_proceeding(&i.instance_id, LAUNCHING_HOOK, 2);
    let run = i.hook(&["launch"]).await;
    run.ok();
    assert_eq!(i.lifecycle.refusals(), [], "{}", run.stderr);
    assert_eq!(lifecycle_state(&i).await, "InService");
    assert_eq!(i.server().expect("registered").state, ServerState::Enabled);
    assert!(i.protected().await, "{}", run.stderr);
    let at = |text: &str| {
        run.stderr
            .find(text)
            .unwrap_or_else(|| panic!("no {text:?} in\n{}", run.stderr))
    };
    let proceeding = at("lifecycle_state=Pending:Proceed");
    let protected = at("scale-in protection set before the server is enabled");
    let enabled = at("action=enable");
    assert!(
        proceeding < protected && protected < enabled,
        "in service, protected, then enabled:\n{}",
        run.stderr
    );
}

/// Past the completion the group no longer abandons an instance whose launch fails: the launch
/// retries joining in process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failure_after_the_completion_is_retried_until_the_server_joins() {
    let i = Instance::new(60).await;
    i.deny_next_protection().await;
    let run = i
        .hook_with(&["launch"], &[("BBB_HOOK_JOIN_TIMEOUT", "30")])
        .await;
    run.ok();
    assert!(
        run.stderr.contains("could not join the fleet yet; retried"),
        "{}",
        run.stderr
    );
    assert_eq!(i.server().expect("registered").state, ServerState::Enabled);
    assert!(i.protected().await, "{}", run.stderr);
    assert_eq!(i.state()["launched"], true);
}

/// Scalelite's secret rotated (in SSM and in Scalelite at once) while the launch waits to retry
/// its join: the enable meets Scalelite's checksum error, and the next try reads the secret
/// again instead of keeping the one the launch read for up to a minute (past the join timeout,
/// which would report the instance unhealthy).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_secret_rotated_while_the_join_retries_is_read_again() {
    const ROTATED: &str = "scalelite-secret-rotated-5f4e3d2c1b0a";
    let i = Instance::new(60).await;
    i.deny_next_protection().await;
    let child = i.spawn(&["launch"], &[("BBB_HOOK_JOIN_TIMEOUT", "30")]);
    // The denied protection fails the first try; the next comes 3 s later.
    i.eventually_async("the first join try", || async {
        i.lifecycle.requests("SetInstanceProtection").await > 0
    })
    .await;
    let parameter = i.config["scalelite_secret_parameter"]
        .as_str()
        .expect("the secret's parameter");
    put_parameter(&i.aws, parameter, ROTATED, true).await;
    i.scalelite.replace_secrets(&[ROTATED]);
    let run = i.finish(child).await;
    run.ok();
    assert!(run.stderr.contains("read again from SSM"), "{}", run.stderr);
    assert_eq!(i.server().expect("registered").state, ServerState::Enabled);
    assert_eq!(i.state()["launched"], true);
    assert!(!run.stderr.contains(ROTATED) && !run.stdout.contains(ROTATED));
}

/// An instance that never comes in service (or whose server can never be enabled) is reported
/// unhealthy: scale-in protection does not stop a health-check replacement, and the drain of the
/// replacement takes the disabled registration out. Held in service forever instead, disabled,
/// it would be the fleet's emptiest surplus server and stop every scale-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_launch_that_cannot_join_reports_the_instance_unhealthy() {
    let i = Instance::new(60).await;
    i.lifecycle
        .pending_launch_proceeding(&i.instance_id, LAUNCHING_HOOK, 100_000);
    let run = i
        .hook_with(&["launch"], &[("BBB_HOOK_JOIN_TIMEOUT", "1")])
        .await;
    assert_eq!(run.code, 78, "not restarted:\n{}", run.stderr);
    assert!(run.stderr.contains("reported Unhealthy"), "{}", run.stderr);
    let me = bbb_core::testing::group_instances(&i.aws, &i.group)
        .await
        .into_iter()
        .find(|x| x.instance_id == i.instance_id)
        .expect("instance in group");
    assert_eq!(me.health_status, bbb_core::aws::HealthStatus::Unhealthy);
    // Replaced at once: the group's health check grace period (600 s in `modules/fleet`) would
    // otherwise hold the report back.
    let reports = i.lifecycle.request_bodies("SetInstanceHealth").await;
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].contains("ShouldRespectGracePeriod=false"),
        "{reports:?}"
    );
    assert_eq!(i.server().expect("registered").state, ServerState::Disabled);
    assert_eq!(i.state()["launched"], false);
}

/// The join timeout counts across restarts, whatever step keeps failing: a launch run again
/// past it reports the instance unhealthy before anything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_launch_restarted_past_the_join_timeout_reports_the_instance_unhealthy() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    i.launch_failing_for_long();
    let run = i.hook(&["launch"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("reported Unhealthy"), "{}", run.stderr);
    assert_eq!(
        i.lifecycle.request_bodies("SetInstanceHealth").await.len(),
        1
    );
}

/// The group terminates the instance before it is in service (an operator's
/// `TerminateInstanceInAutoScalingGroup`, a scale-in of an instance still launching): the launch
/// ends without enabling or protecting the server, reports no health, and is not retried (the
/// terminating hook's drain takes the disabled registration out: `protect_lock.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_terminated_before_it_is_in_service_is_never_enabled() {
    let i = Instance::new(60).await;
    i.lifecycle
        .pending_launch_terminated(&i.instance_id, LAUNCHING_HOOK, 1);
    let run = i.hook(&["launch"]).await;
    assert_eq!(run.code, 78, "not restarted:\n{}", run.stderr);
    assert!(
        run.stderr
            .contains("the Auto Scaling group is terminating this instance (Terminating)"),
        "{}",
        run.stderr
    );
    assert_eq!(i.server().expect("registered").state, ServerState::Disabled);
    assert!(i
        .lifecycle
        .request_bodies("SetInstanceHealth")
        .await
        .is_empty());
    assert!(i
        .lifecycle
        .request_bodies("SetInstanceProtection")
        .await
        .is_empty());
    assert_eq!(i.state()["launched"], false);
}
