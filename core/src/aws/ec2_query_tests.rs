//! Tests of the Query client: signing, parsing, endpoints, retries and adaptive pacing.

use super::*;

#[test]
fn parses_error_document() {
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>abc-1</RequestID></Response>"#;
    assert_eq!(
        parse_error(body),
        Some(QueryError {
            code: "RequestLimitExceeded".into(),
            message: "Request limit exceeded.".into(),
            request_id: Some("abc-1".into()),
        })
    );
    assert!(is_retryable_code(Some("RequestLimitExceeded")));
    assert!(is_retryable_code(Some("InternalError")));
    assert!(!is_retryable_code(Some("InvalidInstanceID.NotFound")));
    assert!(!is_retryable_code(None));
    assert_eq!(parse_error("not xml"), None);
    assert_eq!(parse_error("<Response/>"), None);
}

#[test]
fn form_body_encodes_parameters() {
    let body = form_body(
        "DescribeInstances",
        EC2_API_VERSION,
        &[("InstanceId.1".into(), "i-1 2&".into())],
    );
    assert_eq!(
        body,
        "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1+2%26"
    );
}

fn throttling_client(server: &wiremock::MockServer, max_retries: u32) -> Ec2QueryClient {
    let credentials =
        SharedCredentialsProvider::new(Credentials::new("testing", "testing", None, None, "test"));
    Ec2QueryClient::new(
        &EC2,
        Url::parse(&server.uri()).expect("url"),
        "us-east-1".into(),
        credentials,
        max_retries,
        Duration::from_secs(5),
        Arc::new(CallCounters::default()),
    )
    .expect("client")
    .with_adaptive_pacing(true)
}

/// EC2's throttling answer: HTTP 503 `RequestLimitExceeded` (EC2 API reference, "Request
/// throttling").
fn request_limit_exceeded() -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(503).set_body_string(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
         <Message>Request limit exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>",
    )
}

#[tokio::test]
async fn throttled_calls_are_retried_until_they_pass() {
    use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(request_limit_exceeded())
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<DescribeInstancesResponse/>"))
        .mount(&server)
        .await;
    let client = throttling_client(&server, 3);
    let text = client
        .call("DescribeInstances", "i-1", &[])
        .await
        .expect("passes after two throttled answers");
    assert_eq!(text, "<DescribeInstancesResponse/>");
    assert_eq!(server.received_requests().await.map_or(0, |r| r.len()), 3);
}

#[tokio::test]
async fn a_throttled_answer_holds_back_the_clients_other_calls() {
    use wiremock::{matchers::method, Mock, MockServer};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(request_limit_exceeded())
        .mount(&server)
        .await;
    let client = throttling_client(&server, 0);
    assert_eq!(client.pacing_delay(), Duration::ZERO);
    let err = client
        .call("DescribeInstances", "i-1", &[])
        .await
        .expect_err("no retries left");
    assert!(err.is_throttling(), "{err}");
    assert!(
        client.pacing_delay() > Duration::ZERO,
        "the next attempt of any call waits"
    );
}

#[test]
fn backoff_is_bounded() {
    for retry in 1..40 {
        let d = backoff(retry);
        assert!(d <= MAX_BACKOFF, "{retry}: {d:?}");
    }
    assert!(backoff(1) <= INITIAL_BACKOFF);
}

#[test]
fn default_endpoints() {
    // Only checks the no-environment path when the variable is unset in this process.
    if std::env::var_os("AWS_ENDPOINT_URL_EC2").is_none() {
        assert_eq!(
            default_endpoint("eu-central-1", None).unwrap().as_str(),
            "https://ec2.eu-central-1.amazonaws.com/"
        );
        assert_eq!(
            default_endpoint("cn-north-1", None).unwrap().as_str(),
            "https://ec2.cn-north-1.amazonaws.com.cn/"
        );
        assert_eq!(
            default_endpoint("us-east-1", Some("http://127.0.0.1:4566"))
                .unwrap()
                .as_str(),
            "http://127.0.0.1:4566/"
        );
    }
}
