//! SSM SecureString read against moto.

use bbb_core::testing as support;

use aws_sdk_ssm::types::ParameterType;
use bbb_core::aws::{AwsError, Service};
use support::{shared, unique};

#[tokio::test]
async fn reads_a_secure_string_decrypted() {
    let clients = shared().clients().await;
    let name = format!("/bbb/{}/scalelite-secret", unique("fleet"));
    clients
        .ssm_sdk()
        .put_parameter()
        .name(&name)
        .value("s3cr3t-value-123")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .expect("PutParameter");
    clients.counters().reset();

    let secret = clients.get_secure_parameter(&name).await.expect("get");
    assert_eq!(secret.expose(), "s3cr3t-value-123");
    assert!(!format!("{secret:?}").contains("s3cr3t"));
    assert_eq!(clients.counters().calls(Service::Ssm), 1);
    assert_eq!(clients.counters().requests(Service::Ssm), 1);
}

#[tokio::test]
async fn missing_parameter_is_not_found() {
    let clients = shared().clients().await;
    let name = format!("/bbb/{}/missing", unique("fleet"));
    let err = clients
        .get_secure_parameter(&name)
        .await
        .expect_err("missing");
    assert!(matches!(err, AwsError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(&name), "{err}");
}
