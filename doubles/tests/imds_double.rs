//! The IMDS double's session tokens, as EC2 issues them: a TTL of 1 to 21600 s (400 otherwise),
//! echoed in the answer, and 401 for a missing, unknown or expired token.

use bbb_doubles::{ImdsDouble, InstanceIdentity};
use std::net::Ipv4Addr;
use std::time::Duration;

async fn double() -> ImdsDouble {
    ImdsDouble::start(InstanceIdentity {
        instance_id: "i-0123456789abcdef0".into(),
        region: "eu-central-1".into(),
        availability_zone: "eu-central-1a".into(),
        local_ipv4: Ipv4Addr::new(10, 0, 0, 5),
        public_ipv4: None,
        instance_type: "c5.xlarge".into(),
    })
    .await
    .expect("start")
}

async fn token(http: &reqwest::Client, imds: &ImdsDouble, ttl: Option<&str>) -> reqwest::Response {
    let mut req = http.put(format!("{}/latest/api/token", imds.url()));
    if let Some(ttl) = ttl {
        req = req.header("X-aws-ec2-metadata-token-ttl-seconds", ttl);
    }
    req.send().await.expect("token request")
}

async fn instance_id(http: &reqwest::Client, imds: &ImdsDouble, token: &str) -> u16 {
    http.get(format!("{}/latest/meta-data/instance-id", imds.url()))
        .header("X-aws-ec2-metadata-token", token)
        .send()
        .await
        .expect("get")
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_ttl_must_be_one_second_to_six_hours() {
    let imds = double().await;
    let http = reqwest::Client::new();
    for bad in [None, Some("0"), Some("21601"), Some("soon")] {
        assert_eq!(
            token(&http, &imds, bad).await.status().as_u16(),
            400,
            "{bad:?}"
        );
    }
    let ok = token(&http, &imds, Some("21600")).await;
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(
        ok.headers()
            .get("x-aws-ec2-metadata-token-ttl-seconds")
            .and_then(|v| v.to_str().ok()),
        Some("21600")
    );
    let t = ok.text().await.expect("token");
    assert_eq!(instance_id(&http, &imds, &t).await, 200);
    assert_eq!(instance_id(&http, &imds, "not-a-token").await, 401);
}

#[tokio::test]
async fn tokens_expire_at_their_ttl() {
    let imds = double().await;
    let http = reqwest::Client::new();
    let t = token(&http, &imds, Some("1"))
        .await
        .text()
        .await
        .expect("token");
    assert_eq!(instance_id(&http, &imds, &t).await, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        instance_id(&http, &imds, &t).await,
        401,
        "expired after 1 s"
    );

    // Tests shorten the life of long tokens, or expire them all at once.
    imds.cap_token_ttl(Some(Duration::from_millis(200)));
    let t = token(&http, &imds, Some("21600"))
        .await
        .text()
        .await
        .expect("token");
    assert_eq!(instance_id(&http, &imds, &t).await, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(instance_id(&http, &imds, &t).await, 401);
    imds.cap_token_ttl(None);
    let t = token(&http, &imds, Some("21600"))
        .await
        .text()
        .await
        .expect("token");
    imds.expire_tokens();
    assert_eq!(instance_id(&http, &imds, &t).await, 401);
    assert_eq!(imds.unauthorized(), 3);
}
