//! The sandbox's Auto Scaling endpoint refuses `SetInstanceProtection` for an instance the group
//! holds in its terminating lifecycle hook, as AWS refuses it for an instance that is not
//! `InService`, `EnteringStandby` or `Standby` (400 `ValidationError`; guardian/riff-raff PR #510
//! saw it for terminating instances); moto alone would accept it. An instance in service is
//! protected through moto as before.
//!
//! The endpoint runs before moto (not IAM-enforcing here) with a fleet whose instances are
//! moto's group's, without simulated instances: the refusal depends on the group's state only.

use std::time::Duration;

use bbb_core::aws::{AwsClients, AwsConfig};
use bbb_core::testing::access::Principals;
use bbb_core::testing::iam::IamMoto;
use bbb_core::testing::{group_instances, shared, TestGroup, REGION};
use bbb_sandbox::autoscaling_front::Front;
use bbb_sandbox::{Events, Fleet};

const HOOK: &str = "sandbox-drain";

/// A SigV4 `Authorization` header naming `key` (the endpoint reads the key; moto, not enforcing
/// here, checks nothing).
fn authorization(key: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={key}/20260101/{REGION}/autoscaling/aws4_request, \
         SignedHeaders=host, Signature=00"
    )
}

/// `SetInstanceProtection` of `ids` sent to the endpoint at `url` as a plain Query API request:
/// the HTTP status and the body.
async fn raw_set_protection(url: &str, key: &str, group: &str, ids: &[&str]) -> (u16, String) {
    let mut body = format!(
        "Action=SetInstanceProtection&Version=2011-01-01&AutoScalingGroupName={group}\
         &ProtectedFromScaleIn=true"
    );
    for (n, id) in ids.iter().enumerate() {
        body.push_str(&format!("&InstanceIds.member.{}={id}", n + 1));
    }
    let resp = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", authorization(key))
        .body(body)
        .send()
        .await
        .expect("the endpoint answers");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

async fn protected(aws: &AwsClients, group: &str, id: &str) -> bool {
    group_instances(aws, group)
        .await
        .into_iter()
        .find(|i| i.instance_id == id)
        .expect("instance in group")
        .protected_from_scale_in
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protection_is_refused_for_a_terminating_instance_and_set_for_one_in_service() {
    let moto = shared();
    let aws = moto.clients().await;
    let group = TestGroup::create(&aws, "protect", 2).await.name;
    let ids: Vec<String> = group_instances(&aws, &group)
        .await
        .into_iter()
        .map(|i| i.instance_id)
        .collect();
    let (in_service, terminating) = (ids[0].as_str(), ids[1].as_str());

    let fleet = Fleet::new(group.clone(), Events::new(false));
    fleet.hold_terminating(terminating, HOOK, Duration::from_secs(600));
    let group_arn =
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:u:autoScalingGroupName/g";
    let (url, _task) = Front::new(
        fleet.clone(),
        moto.url().as_str(),
        Principals::new().with("testing", IamMoto::admin_policy()),
        group_arn,
    )
    .serve()
    .await
    .expect("the Auto Scaling endpoint");
    let mut config = AwsConfig::emulator(moto.url(), REGION);
    config.endpoints.autoscaling = Some(url::Url::parse(&url).expect("endpoint URL"));
    config.max_retries = 0;
    let through_front = AwsClients::new(&config).await.expect("clients");

    // The held instance: AWS's answer, naming it, and nothing changed in moto.
    let (status, body) = raw_set_protection(&url, "testing", &group, &[terminating]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>ValidationError</Code>"), "{body}");
    assert!(
        body.contains(&format!(
            "<Message>The instance {terminating} is not in InService or EnteringStandby or Standby.</Message>"
        )),
        "{body}"
    );
    assert!(!protected(&aws, &group, terminating).await);

    // Through the SDK: the same refusal, also when an instance in service comes first in the
    // list; the call is refused whole, so that one is not protected either.
    let both = [in_service.to_owned(), terminating.to_owned()];
    let refused = through_front
        .set_instance_protection(&group, &both, true)
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Some("ValidationError"), "{refused}");
    assert!(
        refused
            .to_string()
            .contains(&format!("The instance {terminating} is not in InService")),
        "{refused}"
    );
    assert!(!protected(&aws, &group, in_service).await);

    // An unknown key is refused by IAM first, as AWS authorizes before it validates.
    let (status, body) = raw_set_protection(&url, "AKIASTRANGER", &group, &[terminating]).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("InvalidClientTokenId"), "{body}");

    // The instance in service is protected through moto.
    through_front
        .set_instance_protection(&group, &[in_service.to_owned()], true)
        .await
        .expect("an instance in service takes protection");
    assert!(protected(&aws, &group, in_service).await);

    // The endpoint shows the held instance's state in both descriptions, and still refuses once
    // its action is completed (Terminating:Proceed is no more in service).
    let shown = through_front
        .describe_auto_scaling_group(&group)
        .await
        .expect("DescribeAutoScalingGroups");
    let state = |id: &str| {
        shown
            .instances
            .iter()
            .find(|i| i.instance_id == id)
            .map(|i| i.lifecycle_state.as_str().to_owned())
    };
    assert_eq!(state(terminating).as_deref(), Some("Terminating:Wait"));
    assert_eq!(state(in_service).as_deref(), Some("InService"));
    assert!(fleet.complete_lifecycle_action(terminating, HOOK, "CONTINUE"));
    let details = through_front
        .autoscaling_sdk()
        .describe_auto_scaling_instances()
        .instance_ids(terminating)
        .send()
        .await
        .expect("DescribeAutoScalingInstances");
    assert_eq!(
        details.auto_scaling_instances()[0].lifecycle_state(),
        Some("Terminating:Proceed")
    );
    let (status, body) = raw_set_protection(&url, "testing", &group, &[terminating]).await;
    assert_eq!(status, 400, "{body}");
}
