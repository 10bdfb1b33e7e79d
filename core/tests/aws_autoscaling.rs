//! The Auto Scaling and EC2 operations against moto: group and instances, scale-in protection,
//! lifecycle hooks, scheduled actions, DescribeInstances, call counters.

use bbb_core::testing as support;

use std::time::{Duration, SystemTime};

use bbb_core::aws::{
    HealthStatus, LifecycleActionResult, LifecycleHookSpec, LifecycleState, LifecycleTransition,
    ScheduledActionSpec, Service,
};
use support::{shared, TestGroup};

#[tokio::test]
async fn group_instances_appear_with_lifecycle_state_and_health() {
    let clients = shared().clients().await;
    let group = TestGroup::create(&clients, "asg-describe", 3).await;
    clients.counters().reset();

    let asg = clients
        .describe_auto_scaling_group(&group.name)
        .await
        .expect("describe");
    assert_eq!(asg.name, group.name);
    assert_eq!(
        (asg.min_size, asg.max_size, asg.desired_capacity),
        (0, 5, 3)
    );
    let lt = asg.launch_template.as_ref().expect("launch template");
    assert_eq!(lt.name.as_deref(), Some(group.launch_template.as_str()));
    assert_eq!(asg.instances.len(), 3);
    for i in &asg.instances {
        assert!(i.instance_id.starts_with("i-"), "{i:?}");
        assert_eq!(i.lifecycle_state, LifecycleState::InService);
        assert_eq!(i.health_status, HealthStatus::Healthy);
        assert!(!i.protected_from_scale_in);
        assert_eq!(i.availability_zone.as_deref(), Some("us-east-1a"));
    }

    // Other lifecycle states and health show up as Auto Scaling reports them.
    let standby = asg.instances[0].instance_id.clone();
    let unhealthy = asg.instances[1].instance_id.clone();
    clients
        .autoscaling_sdk()
        .enter_standby()
        .auto_scaling_group_name(&group.name)
        .instance_ids(&standby)
        .should_decrement_desired_capacity(true)
        .send()
        .await
        .expect("EnterStandby");
    clients
        .autoscaling_sdk()
        .set_instance_health()
        .instance_id(&unhealthy)
        .health_status("Unhealthy")
        .send()
        .await
        .expect("SetInstanceHealth");
    let asg = clients
        .describe_auto_scaling_group(&group.name)
        .await
        .expect("describe again");
    assert_eq!(
        asg.instance(&standby).map(|i| &i.lifecycle_state),
        Some(&LifecycleState::Standby)
    );
    assert_eq!(
        asg.instance(&unhealthy).map(|i| &i.health_status),
        Some(&HealthStatus::Unhealthy)
    );
    assert_eq!(asg.desired_capacity, 2);

    assert_eq!(clients.counters().calls(Service::AutoScaling), 2);
    assert_eq!(clients.counters().requests(Service::AutoScaling), 4);
}

#[tokio::test]
async fn unknown_group_is_not_found() {
    let clients = shared().clients().await;
    let err = clients
        .describe_auto_scaling_group("no-such-group")
        .await
        .expect_err("no such group");
    assert!(err.is_not_found(), "{err}");
    assert!(err.to_string().contains("no-such-group"), "{err}");
}

#[tokio::test]
async fn describe_instances_in_one_call() {
    let clients = shared().clients().await;
    let group = TestGroup::create(&clients, "asg-ec2", 4).await;
    let asg = clients
        .describe_auto_scaling_group(&group.name)
        .await
        .expect("describe");
    let mut ids: Vec<String> = asg
        .instances
        .iter()
        .map(|i| i.instance_id.clone())
        .collect();
    ids.sort();
    clients.counters().reset();

    let instances = clients.describe_instances(&ids).await.expect("describe");
    assert_eq!(clients.counters().calls(Service::Ec2), 1);
    let mut got: Vec<String> = instances.iter().map(|i| i.instance_id.clone()).collect();
    got.sort();
    assert_eq!(got, ids);
    for i in &instances {
        assert_eq!(i.state, "running");
        assert_eq!(i.subnet_id.as_deref(), Some(group.subnet_id.as_str()));
        assert_eq!(i.vpc_id.as_deref(), Some(group.vpc_id.as_str()));
        assert_eq!(i.availability_zone.as_deref(), Some("us-east-1a"));
        assert_eq!(i.instance_type.as_deref(), Some("c5.xlarge"));
        let ip = i.private_ip.expect("private ip");
        assert_eq!(ip.octets()[..3], [10, 0, 1], "{ip} in the subnet");
        assert!(i.private_dns_name.is_some());
        assert_eq!(
            i.tags.get("aws:autoscaling:groupName").map(String::as_str),
            Some(group.name.as_str())
        );
    }

    // Ids EC2 does not know are left out (one more call without them), duplicates described once.
    let mut with_gone = ids.clone();
    with_gone.push("i-0123456789abcdef0".to_owned());
    with_gone.push(ids[0].clone());
    clients.counters().reset();
    let instances = clients
        .describe_instances(&with_gone)
        .await
        .expect("describe");
    assert_eq!(instances.len(), ids.len());
    assert_eq!(clients.counters().calls(Service::Ec2), 2);

    assert!(clients
        .describe_instances(&[])
        .await
        .expect("empty")
        .is_empty());
}

#[tokio::test]
async fn scale_in_protection_toggles_in_batches() {
    let clients = shared().clients().await;
    let group = TestGroup::create(&clients, "asg-protect", 3).await;
    let asg = clients
        .describe_auto_scaling_group(&group.name)
        .await
        .expect("describe");
    let ids: Vec<String> = asg
        .instances
        .iter()
        .map(|i| i.instance_id.clone())
        .collect();
    clients.counters().reset();

    clients
        .set_instance_protection(&group.name, &ids, true)
        .await
        .expect("protect all");
    assert_eq!(
        clients.counters().calls(Service::AutoScaling),
        1,
        "one batch call"
    );
    let asg = clients
        .describe_auto_scaling_group(&group.name)
        .await
        .expect("describe");
    assert!(asg.instances.iter().all(|i| i.protected_from_scale_in));

    clients
        .set_instance_protection(&group.name, &ids[..1], false)
        .await
        .expect("unprotect one");
    let asg = clients
        .describe_auto_scaling_group(&group.name)
        .await
        .expect("describe");
    for i in &asg.instances {
        assert_eq!(i.protected_from_scale_in, i.instance_id != ids[0], "{i:?}");
    }
}

#[tokio::test]
async fn lifecycle_hooks_crud() {
    let clients = shared().clients().await;
    let group = TestGroup::create(&clients, "asg-hooks", 1).await;
    let launching = LifecycleHookSpec {
        asg_name: group.name.clone(),
        hook_name: "bbb-launching".into(),
        transition: LifecycleTransition::Launching,
        heartbeat_timeout: Some(Duration::from_secs(600)),
        default_result: LifecycleActionResult::Abandon,
        notification_target_arn: None,
        role_arn: None,
        notification_metadata: Some("{\"fleet\":\"test\"}".into()),
    };
    let terminating = LifecycleHookSpec {
        hook_name: "bbb-terminating".into(),
        transition: LifecycleTransition::Terminating,
        heartbeat_timeout: Some(Duration::from_secs(3600)),
        default_result: LifecycleActionResult::Continue,
        notification_metadata: None,
        ..launching.clone()
    };
    clients
        .put_lifecycle_hook(&launching)
        .await
        .expect("put launching");
    clients
        .put_lifecycle_hook(&terminating)
        .await
        .expect("put terminating");

    let mut hooks = clients
        .describe_lifecycle_hooks(&group.name, &[])
        .await
        .expect("describe");
    hooks.sort_by(|a, b| a.hook_name.cmp(&b.hook_name));
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0].hook_name, "bbb-launching");
    assert_eq!(hooks[0].asg_name, group.name);
    assert_eq!(hooks[0].transition, LifecycleTransition::Launching);
    assert_eq!(hooks[0].heartbeat_timeout, Some(Duration::from_secs(600)));
    assert_eq!(
        hooks[0].default_result,
        Some(LifecycleActionResult::Abandon)
    );
    // moto does not keep NotificationMetadata, so it is not checked here.
    assert_eq!(hooks[1].transition, LifecycleTransition::Terminating);
    assert_eq!(
        hooks[1].default_result,
        Some(LifecycleActionResult::Continue)
    );

    // Put replaces.
    let longer = LifecycleHookSpec {
        heartbeat_timeout: Some(Duration::from_secs(1200)),
        ..launching.clone()
    };
    clients.put_lifecycle_hook(&longer).await.expect("replace");
    let named = clients
        .describe_lifecycle_hooks(&group.name, &["bbb-launching".to_owned()])
        .await
        .expect("describe one");
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].heartbeat_timeout, Some(Duration::from_secs(1200)));

    clients
        .delete_lifecycle_hook(&group.name, "bbb-launching")
        .await
        .expect("delete");
    let hooks = clients
        .describe_lifecycle_hooks(&group.name, &[])
        .await
        .expect("describe after delete");
    assert_eq!(
        hooks
            .iter()
            .map(|h| h.hook_name.as_str())
            .collect::<Vec<_>>(),
        ["bbb-terminating"]
    );
    assert_eq!(clients.counters().call_counts().autoscaling, 7);
}

#[tokio::test]
async fn scheduled_actions_crud() {
    let clients = shared().clients().await;
    let group = TestGroup::create(&clients, "asg-sched", 1).await;
    let morning = ScheduledActionSpec {
        asg_name: group.name.clone(),
        name: "morning".into(),
        recurrence: Some("0 7 * * MON-FRI".into()),
        start_time: None,
        end_time: None,
        time_zone: Some("Europe/Berlin".into()),
        min_size: Some(2),
        max_size: Some(10),
        desired_capacity: Some(4),
    };
    // Whole seconds: Auto Scaling keeps times to the second.
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800); // 2100-01-01
    let once = ScheduledActionSpec {
        name: "event".into(),
        recurrence: None,
        start_time: Some(start),
        time_zone: None,
        min_size: None,
        max_size: None,
        desired_capacity: Some(8),
        ..morning.clone()
    };
    clients
        .put_scheduled_action(&morning)
        .await
        .expect("put morning");
    clients
        .put_scheduled_action(&once)
        .await
        .expect("put event");

    let mut actions = clients
        .describe_scheduled_actions(&group.name)
        .await
        .expect("describe");
    actions.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(actions.len(), 2);
    let (event, morning_got) = (&actions[0], &actions[1]);
    assert_eq!(event.name, "event");
    assert_eq!(event.start_time, Some(start));
    assert_eq!(event.desired_capacity, Some(8));
    assert_eq!(event.min_size, None);
    assert_eq!(morning_got.recurrence.as_deref(), Some("0 7 * * MON-FRI"));
    assert_eq!(morning_got.time_zone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(
        (
            morning_got.min_size,
            morning_got.max_size,
            morning_got.desired_capacity
        ),
        (Some(2), Some(10), Some(4))
    );
    assert_eq!(morning_got.asg_name, group.name);

    // Put replaces.
    let bigger = ScheduledActionSpec {
        desired_capacity: Some(6),
        ..morning.clone()
    };
    clients
        .put_scheduled_action(&bigger)
        .await
        .expect("replace");
    clients
        .delete_scheduled_action(&group.name, "event")
        .await
        .expect("delete");
    let actions = clients
        .describe_scheduled_actions(&group.name)
        .await
        .expect("describe after delete");
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].name, "morning");
    assert_eq!(actions[0].desired_capacity, Some(6));
}
