//! CompleteLifecycleAction and RecordLifecycleActionHeartbeat, which moto does not implement:
//! a wiremock stub stands in for Auto Scaling and checks the parameters the SDK sends. Also
//! shows that throttling errors are retried (by the SDK's retry config) and others are not.

use std::time::Duration;

use bbb_core::aws::{
    AwsClients, AwsConfig, AwsError, LifecycleActionRef, LifecycleActionResult, Service,
};
use url::Url;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NS: &str = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

fn ok(action: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml")
        .set_body_string(format!(
            "<{action}Response xmlns=\"{NS}\"><{action}Result/>\
             <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></{action}Response>"
        ))
}

fn error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "text/xml")
        .insert_header("x-amzn-requestid", "req-2")
        .set_body_string(format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{message}</Message></Error><RequestId>req-2</RequestId></ErrorResponse>"
        ))
}

async fn clients(server: &MockServer, max_retries: u32) -> AwsClients {
    let url = Url::parse(&server.uri()).expect("mock url");
    AwsClients::new(&AwsConfig {
        max_retries,
        timeout: Duration::from_secs(10),
        ..AwsConfig::emulator(&url, "us-east-1")
    })
    .await
    .expect("clients")
}

fn action(instance: Option<&str>, token: Option<&str>) -> LifecycleActionRef {
    LifecycleActionRef {
        asg_name: "fleet-asg".into(),
        hook_name: "bbb-terminating".into(),
        instance_id: instance.map(str::to_owned),
        token: token.map(str::to_owned),
    }
}

#[tokio::test]
async fn complete_lifecycle_action_sends_the_parameters() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/"))
        .and(body_string_contains("Action=CompleteLifecycleAction"))
        .and(body_string_contains("Version=2011-01-01"))
        .and(body_string_contains("AutoScalingGroupName=fleet-asg"))
        .and(body_string_contains("LifecycleHookName=bbb-terminating"))
        .and(body_string_contains("InstanceId=i-0abc"))
        .and(body_string_contains("LifecycleActionResult=CONTINUE"))
        .respond_with(ok("CompleteLifecycleAction"))
        .expect(1)
        .mount(&server)
        .await;
    let clients = clients(&server, 2).await;
    clients
        .complete_lifecycle_action(
            &action(Some("i-0abc"), None),
            LifecycleActionResult::Continue,
        )
        .await
        .expect("complete");
    assert_eq!(clients.counters().calls(Service::AutoScaling), 1);
    assert_eq!(clients.counters().requests(Service::AutoScaling), 1);
}

#[tokio::test]
async fn complete_with_token_and_abandon() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=CompleteLifecycleAction"))
        .and(body_string_contains("LifecycleActionToken=tok-123"))
        .and(body_string_contains("LifecycleActionResult=ABANDON"))
        .respond_with(ok("CompleteLifecycleAction"))
        .expect(1)
        .mount(&server)
        .await;
    let clients = clients(&server, 2).await;
    clients
        .complete_lifecycle_action(
            &action(None, Some("tok-123")),
            LifecycleActionResult::Abandon,
        )
        .await
        .expect("complete");
    let received = server.received_requests().await.expect("recorded");
    let body = String::from_utf8_lossy(&received[0].body).into_owned();
    assert!(!body.contains("InstanceId="), "{body}");
}

#[tokio::test]
async fn heartbeat_is_retried_after_throttling() {
    let server = MockServer::start().await;
    // First answer: throttled; the SDK's retry config retries it.
    Mock::given(method("POST"))
        .and(body_string_contains(
            "Action=RecordLifecycleActionHeartbeat",
        ))
        .respond_with(error(400, "Throttling", "Rate exceeded"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains(
            "Action=RecordLifecycleActionHeartbeat",
        ))
        .and(body_string_contains("AutoScalingGroupName=fleet-asg"))
        .and(body_string_contains("LifecycleHookName=bbb-terminating"))
        .and(body_string_contains("InstanceId=i-0abc"))
        .respond_with(ok("RecordLifecycleActionHeartbeat"))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let clients = clients(&server, 2).await;
    clients
        .record_lifecycle_action_heartbeat(&action(Some("i-0abc"), None))
        .await
        .expect("heartbeat after one retry");
    assert_eq!(clients.counters().calls(Service::AutoScaling), 1);
    assert_eq!(clients.counters().requests(Service::AutoScaling), 2);
}

#[tokio::test]
async fn throttling_that_persists_fails_after_max_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(error(400, "Throttling", "Rate exceeded"))
        .expect(2)
        .mount(&server)
        .await;
    let clients = clients(&server, 1).await;
    let err = clients
        .record_lifecycle_action_heartbeat(&action(Some("i-0abc"), None))
        .await
        .expect_err("still throttled");
    assert!(err.is_throttling(), "{err:?}");
    assert_eq!(clients.counters().requests(Service::AutoScaling), 2);
}

#[tokio::test]
async fn validation_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(error(
            400,
            "ValidationError",
            "No active Lifecycle Action found with instance ID i-0abc",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let clients = clients(&server, 3).await;
    let err = clients
        .record_lifecycle_action_heartbeat(&action(Some("i-0abc"), None))
        .await
        .expect_err("no action");
    match &err {
        AwsError::Service {
            service,
            operation,
            resource,
            code,
            message,
            request_id,
        } => {
            assert_eq!(*service, Service::AutoScaling);
            assert_eq!(*operation, "RecordLifecycleActionHeartbeat");
            assert_eq!(resource, "fleet-asg/bbb-terminating/i-0abc");
            assert_eq!(code, "ValidationError");
            assert!(message.contains("No active Lifecycle Action"));
            assert_eq!(request_id.as_deref(), Some("req-2"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(clients.counters().requests(Service::AutoScaling), 1);
}

#[tokio::test]
async fn an_action_needs_an_instance_or_a_token() {
    let server = MockServer::start().await;
    let clients = clients(&server, 0).await;
    let err = clients
        .complete_lifecycle_action(&action(None, None), LifecycleActionResult::Continue)
        .await
        .expect_err("neither");
    assert!(matches!(err, AwsError::Request { .. }), "{err:?}");
    assert!(server
        .received_requests()
        .await
        .expect("recorded")
        .is_empty());
}
