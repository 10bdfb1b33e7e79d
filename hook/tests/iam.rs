//! `bbb-hook` under IAM: the fleet module's instance policy
//! (modules/fleet/policies/instance-policy.json.tftpl) rendered for the test's fleet, bound to
//! the keys bbb-hook signs with, on a moto with IAM access control on. moto checks signatures and
//! actions; the lifecycle stub checks the group ARN of the two lifecycle calls; each test checks
//! the other resources (and the record-name condition) the hook used against the real document.
//! See bbb_core::testing::iam for what is and is not enforced.

mod support;

use std::time::Duration;

use bbb_core::aws::{ownership, DnsRecord};
use bbb_core::scalelite::ServerState;
use bbb_core::testing::iam::{parameter_arn, Policy};
use bbb_doubles::DoubleMeeting;
use serde_json::Value;
use support::{Instance, LAUNCHING_HOOK, TERMINATING_HOOK};

fn no_access_denied(what: &str, stderr: &str) {
    assert!(
        !stderr.contains("AccessDenied")
            && !stderr.contains("not authorized")
            && !stderr.contains("HTTP 403"),
        "{what} was refused a permission:\n{stderr}"
    );
}

/// The resources the hook touched for this instance are the ones the real document (not moto's
/// view of it) grants, and the record name satisfies the ChangeResourceRecordSets condition.
fn assert_scoped(i: &Instance) {
    let b = i.iam.as_ref().expect("policy-bound instance");
    let p = &b.policy;
    let zone = format!("arn:aws:route53:::hostedzone/{}", i.zone_id);
    for action in [
        "route53:ListResourceRecordSets",
        "route53:ChangeResourceRecordSets",
    ] {
        assert!(p.allows(action, &zone), "{action} on {zone}");
    }
    assert!(p.allows(
        "route53:GetChange",
        "arn:aws:route53:::change/C2682N5HXP0BZ4"
    ));
    assert!(p.allows("autoscaling:SetInstanceProtection", &b.group_arn));
    let secret = i.config["scalelite_secret_parameter"]
        .as_str()
        .expect("name");
    for name in [secret, i.config_parameter.as_str()] {
        assert!(p.allows("ssm:GetParameter", &parameter_arn(name)), "{name}");
    }
    assert!(!p.allows("ssm:GetParameter", &parameter_arn("/bbb/another/secret")));
    let pattern = p.0["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Sid"] == "OwnRoute53Record")
        .and_then(|s| {
            s["Condition"]["ForAllValues:StringLike"]
                ["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
                .as_str()
        })
        .expect("record name condition")
        .to_owned();
    let only_record = Policy(serde_json::json!({"Statement": [
        {"Effect": "Allow", "Action": "x:y", "Resource": pattern}
    ]}));
    assert!(
        only_record.allows("x:y", &i.record_name()),
        "{} does not match the condition {pattern}",
        i.record_name()
    );
}

/// Every record the hook made on its name may be upserted and deleted under the document's
/// conditions (the names, types and actions of `OwnRoute53Record`).
fn assert_changes_allowed(i: &Instance, records: &[DnsRecord]) {
    let p = &i.iam.as_ref().expect("policy-bound instance").policy;
    let zone = format!("arn:aws:route53:::hostedzone/{}", i.zone_id);
    let mine: Vec<_> = records
        .iter()
        .filter(|r| r.name == i.record_name())
        .collect();
    assert_eq!(mine.len(), 2, "an A record and its mark: {mine:?}");
    for r in mine {
        for action in ["UPSERT", "DELETE"] {
            assert!(
                p.allows_record_change(&zone, &r.name, &r.record_type, action),
                "{action} {} {} is refused by the instance policy",
                r.record_type,
                r.name
            );
        }
    }
}

/// Whether the launch was let through (a CONTINUE sent for the launching hook; the stub records
/// refused calls too, so the answer is not considered).
async fn continued(i: &Instance) -> bool {
    i.lifecycle.calls().await.iter().any(|c| {
        c.action == "CompleteLifecycleAction"
            && c.hook_name == LAUNCHING_HOOK
            && c.result.as_deref() == Some("CONTINUE")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn launch_status_protect_and_drain_under_the_instance_policy() {
    let i = Instance::with_policy(60, |p| p).await;

    let launch = i.hook(&["launch"]).await;
    no_access_denied("launch", &launch.stderr);
    launch.ok();
    assert_eq!(i.record().await, Some(vec![i.address.to_string()]));
    assert!(i.completed(LAUNCHING_HOOK).await);
    // Next to its A record, the group's ownership mark; both within the document's conditions
    // on record names, types and actions (which moto does not evaluate).
    let names = i.names().await;
    let owner = i.config["autoscaling_group_name"].as_str().expect("group");
    assert!(
        ownership::owned_by(&names, &i.record_name(), owner),
        "{names:?}"
    );
    assert_changes_allowed(&i, &names);

    let status = i.hook(&["status", "--json"]).await;
    no_access_denied("status", &status.stderr);
    status.ok();
    let v: Value = serde_json::from_str(&status.stdout).expect("json");
    assert_eq!(
        v["autoscaling"]["lifecycle_state"], "InService",
        "{}",
        status.stdout
    );
    assert_eq!(
        v["dns"],
        i.address.to_string().as_str(),
        "{}",
        status.stdout
    );

    i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    let protect = i.hook(&["protect"]).await;
    no_access_denied("protect", &protect.stderr);
    protect.ok();
    assert!(i.protected().await, "protected while a meeting runs");

    // The lifecycle signal: heartbeats while the meeting runs, then the completion.
    let child = i
        .command(&["drain", "--on-lifecycle-signal"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn drain");
    i.imds.set_target_lifecycle_state(Some("Terminated"));
    i.eventually("cordoned", || {
        i.server().is_some_and(|s| s.state == ServerState::Cordoned)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(i.bbb.end_meeting("m1"));
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("drain finishes")
        .expect("drain output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    no_access_denied("drain", &stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(i.record().await, None, "record deleted");
    let left = i.names().await;
    assert!(
        ownership::mark_of(&left, &i.record_name()).is_none(),
        "the mark went with the record: {left:?}"
    );
    let calls = i.lifecycle.calls().await;
    assert!(
        calls
            .iter()
            .any(|c| c.action == "RecordLifecycleActionHeartbeat"),
        "{calls:?}"
    );
    let last = calls.last().expect("calls");
    assert_eq!(last.action, "CompleteLifecycleAction");
    assert_eq!(last.hook_name, TERMINATING_HOOK);
    assert_eq!(last.result.as_deref(), Some("CONTINUE"));

    assert_scoped(&i);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn launch_is_refused_without_list_resource_record_sets() {
    // The module's policy before this change had no ListResourceRecordSets (review D1).
    let i = Instance::with_policy(60, |p| p.without_action("route53:ListResourceRecordSets")).await;
    let run = i.hook(&["launch"]).await;
    assert_ne!(run.code, 0, "launch succeeded without the permission");
    assert!(
        run.stderr.contains("AccessDenied")
            && run.stderr.contains("route53:ListResourceRecordSets"),
        "{}",
        run.stderr
    );
    assert_eq!(i.record().await, None);
    assert!(!continued(&i).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_cannot_read_the_group_without_describe_auto_scaling_groups() {
    let i = Instance::with_policy(60, |p| {
        p.without_action("autoscaling:DescribeAutoScalingGroups")
    })
    .await;
    i.hook(&["launch"]).await.ok();
    let run = i.hook(&["status", "--json"]).await;
    let v: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_ne!(v["autoscaling"]["lifecycle_state"], "InService");
    assert!(
        run.stdout.contains("AccessDenied") || run.stderr.contains("AccessDenied"),
        "stdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lifecycle_calls_on_another_group_are_refused() {
    // The statement names another group: the stub refuses CompleteLifecycleAction on this one.
    let i = Instance::with_policy(60, |p| {
        let mut doc = p.0;
        for st in doc["Statement"].as_array_mut().expect("statements") {
            if st["Sid"] == "OwnGroupLifecycle" {
                let other = st["Resource"]
                    .as_str()
                    .expect("group ARN")
                    .rsplit_once('/')
                    .map(|(head, _)| format!("{head}/another-fleet"))
                    .expect("group name");
                st["Resource"] = Value::from(other);
            }
        }
        Policy(doc)
    })
    .await;
    let run = i.hook(&["launch"]).await;
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("AccessDenied")
            && run.stderr.contains("autoscaling:CompleteLifecycleAction"),
        "{}",
        run.stderr
    );
}

/// The participants, meetings and video streams of the server's meetings, as the group's
/// CloudWatch metrics (namespace and dimension the fleet module's scaling policy reads).
async fn published(i: &Instance, metric: &str) -> Option<f64> {
    i.aws
        .metric_statistics(
            bbb_core::aws::FLEET_METRICS_NAMESPACE,
            metric,
            &i.group,
            Duration::from_secs(600),
            Duration::from_secs(60),
        )
        .await
        .expect("GetMetricStatistics as the administrator")
        .iter()
        .filter_map(|p| p.sum)
        .reduce(f64::max)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protect_publishes_the_load_under_the_instance_policy() {
    let i = Instance::with_policy(60, |p| p).await;
    i.hook(&["launch"]).await.ok();
    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(17, 2));
    i.bbb
        .add_meeting(DoubleMeeting::new("m2", "Seminar").with_participants(4, 1));
    let protect = i.hook(&["protect"]).await;
    no_access_denied("protect", &protect.stderr);
    protect.ok();
    assert_eq!(published(&i, "Participants").await, Some(21.0));
    assert_eq!(published(&i, "Meetings").await, Some(2.0));
    assert_eq!(published(&i, "VideoStreams").await, Some(0.0));
    // The namespace the hook wrote to is the one the policy's condition allows (moto does not
    // evaluate conditions).
    let p = &i.iam.as_ref().expect("policy-bound instance").policy;
    assert_eq!(
        p.string_equals("cloudwatch:PutMetricData", "cloudwatch:namespace"),
        vec![bbb_core::aws::FLEET_METRICS_NAMESPACE.to_owned()]
    );
    // At most once per interval: a second pass within the minute sends nothing more.
    i.bbb.set_participants("m2", 40, 1);
    i.hook(&["protect"]).await.ok();
    assert_eq!(published(&i, "Participants").await, Some(21.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protection_follows_meetings_when_the_load_cannot_be_published() {
    let i = Instance::with_policy(60, |p| p.without_action("cloudwatch:PutMetricData")).await;
    i.hook(&["launch"]).await.ok();
    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(3, 1));
    let protect = i.hook(&["protect"]).await;
    protect.ok();
    assert!(i.protected().await, "protected while a meeting runs");
    assert!(
        protect.stderr.contains("AccessDenied")
            && protect.stderr.contains("cloudwatch:PutMetricData"),
        "{}",
        protect.stderr
    );
    assert_eq!(published(&i, "Participants").await, None);
}

/// The group's health of the instance (moto's, as the administrator reads it).
async fn health(i: &Instance) -> bbb_core::aws::HealthStatus {
    bbb_core::testing::group_instances(&i.aws, &i.group)
        .await
        .into_iter()
        .find(|x| x.instance_id == i.instance_id)
        .expect("instance in group")
        .health_status
}

/// G5: a server whose FreeSWITCH died is reported unhealthy to its group (the call passes the
/// instance policy on IAM-enforcing moto), but only after the failure repeated, and never while
/// it hosts a meeting; each decision is logged with its inputs and reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_freeswitch_is_reported_unhealthy_once_its_meetings_ended() {
    use bbb_core::aws::HealthStatus;
    let i = Instance::with_policy(60, |p| p).await;
    let b = i.iam.as_ref().expect("policy-bound instance");
    assert!(b
        .policy
        .allows("autoscaling:SetInstanceHealth", &b.group_arn));
    assert!(!b.policy.allows(
        "autoscaling:SetInstanceHealth",
        &b.group_arn.replace(&i.group, "another-group")
    ));
    i.hook(&["launch"]).await.ok();
    let env = [("BBB_HOOK_HEALTH_FAILURES", "2")];
    let protect = i.hook_with(&["protect"], &env).await;
    protect.ok();
    assert!(
        !protect.stderr.contains("health decision"),
        "{}",
        protect.stderr
    );

    i.bbb
        .add_meeting(DoubleMeeting::new("m1", "Lecture").with_participants(3, 1));
    i.freeswitch.kill();
    // A flap, then a dead FreeSWITCH under a live meeting: held, twice.
    let first = i.hook_with(&["protect"], &env).await;
    first.ok();
    assert!(first.stderr.contains("reason=flap"), "{}", first.stderr);
    for _ in 0..2 {
        let held = i.hook_with(&["protect"], &env).await;
        held.ok();
        assert!(
            held.stderr.contains("reason=hosting_meetings")
                && held.stderr.contains("\"meetings\":1"),
            "{}",
            held.stderr
        );
    }
    assert_eq!(health(&i).await, HealthStatus::Healthy);
    assert!(i.protected().await, "still protected for its meeting");

    // The meeting ends: the next pass reports the server.
    i.bbb.end_meeting("m1");
    let report = i.hook_with(&["protect"], &env).await;
    no_access_denied("protect", &report.stderr);
    report.ok();
    assert!(
        report.stderr.contains("action=report_unhealthy")
            && report.stderr.contains("reason=dead_and_idle"),
        "{}",
        report.stderr
    );
    assert_eq!(health(&i).await, HealthStatus::Unhealthy);
    assert_eq!(i.state()["health"]["reported"], true);

    // FreeSWITCH back: the counter resets, nothing more is sent.
    i.freeswitch.revive().await.expect("revive");
    let after = i.hook_with(&["protect"], &env).await;
    after.ok();
    assert_eq!(i.state()["health"]["failures"], 0);
}

/// A flap that recovers before the threshold never reports anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_freeswitch_restart_is_a_flap() {
    use bbb_core::aws::HealthStatus;
    let i = Instance::with_policy(60, |p| p).await;
    i.hook(&["launch"]).await.ok();
    let env = [("BBB_HOOK_HEALTH_FAILURES", "3")];
    i.freeswitch.kill();
    for _ in 0..2 {
        i.hook_with(&["protect"], &env).await.ok();
    }
    assert_eq!(i.state()["health"]["failures"], 2);
    i.freeswitch.revive().await.expect("revive");
    i.hook_with(&["protect"], &env).await.ok();
    assert_eq!(i.state()["health"]["failures"], 0);
    i.freeswitch.kill();
    for _ in 0..2 {
        i.hook_with(&["protect"], &env).await.ok();
    }
    assert_eq!(health(&i).await, HealthStatus::Healthy);
}
