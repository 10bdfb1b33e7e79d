//! The Scalelite double: the core client end to end, and raw requests checked against what
//! Scalelite's controllers answer.

use bbb_core::checksum::{checksum, ChecksumAlgorithm};
use bbb_core::scalelite::{
    NewServer, ScaleliteClient, ScaleliteConfig, ScaleliteError, ServerState, ServerUpdate,
    StateChange,
};
use bbb_core::Secret;
use bbb_doubles::{DoubleServer, ScaleliteDouble};
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "lb-secret";

fn client(double: &ScaleliteDouble) -> ScaleliteClient {
    let mut config = ScaleliteConfig::new(double.url(), double.secret());
    config.timeout = Duration::from_millis(800);
    config.max_retries = 2;
    ScaleliteClient::new(config)
        .expect("client")
        .with_retry_backoff(Duration::from_millis(5))
}

fn new_server(url: &str) -> NewServer {
    NewServer {
        url: url.to_owned(),
        secret: Secret::new("bbb-secret"),
        load_multiplier: None,
        tag: None,
    }
}

fn signed_url(double: &ScaleliteDouble, call: &str, query: &str, alg: ChecksumAlgorithm) -> String {
    let sum = checksum(alg, call, query, &Secret::new(SECRET));
    let q = if query.is_empty() {
        format!("checksum={sum}")
    } else {
        format!("{query}&checksum={sum}")
    };
    format!("{}/scalelite/api/{call}?{q}", double.url())
}

async fn xml_failure(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    let doc = roxml(&body);
    (status, doc.0, doc.1)
}

/// (messageKey, message) of an XML FAILED document, or empty strings.
fn roxml(body: &str) -> (String, String) {
    let grab = |tag: &str| {
        body.split(&format!("<{tag}>"))
            .nth(1)
            .and_then(|rest| rest.split(&format!("</{tag}>")).next())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(grab("returncode"), "FAILED", "{body}");
    (grab("messageKey"), grab("message"))
}

#[tokio::test]
async fn lifecycle_through_the_client() {
    let double = ScaleliteDouble::start(SECRET).await.expect("start");
    let c = client(&double);
    assert!(c.get_servers().await.expect("empty pool").is_empty());

    let added = c
        .add_server(new_server("https://bbb1.example.com/bigbluebutton/api"))
        .await
        .expect("add");
    assert_eq!(added.state, ServerState::Disabled);
    assert!(!added.online);
    assert_eq!(added.load, None);
    assert_eq!(added.load_multiplier, 1.0);
    assert_eq!(added.tag, None);
    assert_eq!(added.secret.expose(), "bbb-secret");
    assert_eq!(added.id.len(), 36, "a UUID");

    // Scalelite does not deduplicate by URL.
    let dup = c
        .add_server(new_server("https://bbb1.example.com/bigbluebutton/api"))
        .await
        .expect("duplicate add");
    assert_ne!(dup.id, added.id);
    assert_eq!(c.get_servers().await.expect("list").len(), 2);
    c.delete_server(&dup.id).await.expect("delete dup");

    let s = c
        .update_server(
            &added.id,
            ServerUpdate {
                state: Some(StateChange::Enable),
                ..ServerUpdate::default()
            },
        )
        .await
        .expect("enable");
    assert_eq!(s.state, ServerState::Enabled);
    assert_eq!(s.load, None, "not polled yet");

    double.poll(&added.id, Some(4));
    let s = c.get_server(&added.id).await.expect("get").expect("some");
    assert!(s.online);
    assert_eq!(s.load, Some(4.0));

    let s = c
        .update_server(
            &added.id,
            ServerUpdate {
                load_multiplier: Some(2.5),
                tag: Some("big".into()),
                secret: Some(Secret::new("rotated")),
                ..ServerUpdate::default()
            },
        )
        .await
        .expect("multiplier + tag");
    assert_eq!(s.load_multiplier, 2.5);
    assert_eq!(s.tag.as_deref(), Some("big"));
    assert_eq!(s.secret.expose(), "rotated");

    let s = c
        .update_server(
            &added.id,
            ServerUpdate {
                state: Some(StateChange::Cordon),
                tag: Some(String::new()),
                ..ServerUpdate::default()
            },
        )
        .await
        .expect("cordon");
    assert_eq!(s.state, ServerState::Cordoned);
    assert_eq!(s.tag, None, "empty tag removes it");
    assert_eq!(s.load, Some(4.0), "a cordoned server keeps its load");

    // The poller disables a cordoned server once its load reads zero.
    double.poll(&added.id, Some(0));
    let s = c.get_server(&added.id).await.expect("get").expect("some");
    assert_eq!(s.state, ServerState::Disabled);
    assert_eq!(s.load, None);

    c.delete_server(&added.id).await.expect("delete");
    assert_eq!(c.get_server(&added.id).await.expect("get"), None);
    assert!(c.get_servers().await.expect("empty again").is_empty());
    let err = c.delete_server(&added.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "Scalelite deleteServer: not found: Couldn't find server with id={}",
            added.id
        )
    );
}

#[tokio::test]
async fn update_errors_match_scalelite() {
    let double = ScaleliteDouble::start(SECRET).await.expect("start");
    let c = client(&double);
    let s = c
        .add_server(new_server("https://b/bigbluebutton/api"))
        .await
        .expect("add");
    let err = c
        .update_server(
            "nope",
            ServerUpdate {
                state: Some(StateChange::Enable),
                ..ServerUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ScaleliteError::NotFound {
            call: "updateServer".into(),
            error: "Couldn't find server with id=nope".into()
        }
    );

    let http = reqwest::Client::new();
    let post = |body: Value| {
        http.post(signed_url(
            &double,
            "updateServer",
            "",
            ChecksumAlgorithm::Sha256,
        ))
        .json(&body)
        .send()
    };
    let resp = post(json!({"id": s.id, "server": {"load_multiplier": 0}}))
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"error": "Load-multiplier must be a non-zero number"})
    );
    let resp = post(json!({"id": s.id, "server": {"state": "invalid_state"}}))
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"error": "Invalid state parameter: invalid_state"})
    );
    // An invalid change leaves everything unchanged, even valid changes in the same call.
    let resp = post(json!({"id": s.id, "server": {"state": "enable", "load_multiplier": "0"}}))
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        double.server(&s.id).expect("there").state,
        ServerState::Disabled
    );
    // `url` is not updatable: ignored.
    let resp =
        post(json!({"id": s.id, "server": {"url": "https://other/bigbluebutton/api", "tag": "t"}}))
            .await
            .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["url"], "https://b/bigbluebutton/api");
    assert_eq!(v["tag"], "t");
    // Missing `server` on update is rescued into a JSON 400.
    let resp = post(json!({"id": s.id})).await.expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"error": "param is missing or the value is empty: server"})
    );
}

#[tokio::test]
async fn raw_shapes_match_scalelite() {
    let double = ScaleliteDouble::start(SECRET).await.expect("start");
    let http = reqwest::Client::new();

    let resp = http
        .get(signed_url(
            &double,
            "getServers",
            "",
            ChecksumAlgorithm::Sha256,
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"error": "No servers are configured"})
    );

    let resp = http
        .post(signed_url(&double, "addServer", "", ChecksumAlgorithm::Sha1))
        .json(&json!({"server": {"url": "https://b/bigbluebutton/api", "secret": "x", "load_multiplier": "0"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);
    let v: Value = resp.json().await.expect("json");
    let id = v["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        v,
        json!({"id": id, "url": "https://b/bigbluebutton/api", "secret": "x", "tag": "",
               "bbb_version": "", "state": "disabled", "load": "unavailable",
               "load_multiplier": "1.0", "online": "offline"})
    );

    let resp = http
        .get(signed_url(
            &double,
            "getServerInfo",
            &format!("id={id}"),
            ChecksumAlgorithm::Sha512,
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);

    // addServer without url or secret.
    let resp = http
        .post(signed_url(
            &double,
            "addServer",
            "",
            ChecksumAlgorithm::Sha256,
        ))
        .json(&json!({"server": {"url": "https://b/bigbluebutton/api"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"error": "Server needs a URL and a secret"})
    );

    // addServer without the `server` key: XML internalError at HTTP 200.
    let resp = http
        .post(signed_url(
            &double,
            "addServer",
            "",
            ChecksumAlgorithm::Sha256,
        ))
        .json(&json!({"url": "https://b/bigbluebutton/api", "secret": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        xml_failure(resp).await,
        (
            200,
            "internalError".into(),
            "param is missing or the value is empty: server".into()
        )
    );

    // deleteServer / panicServer bodies.
    let resp = http
        .post(signed_url(
            &double,
            "panicServer",
            "",
            ChecksumAlgorithm::Sha256,
        ))
        .json(&json!({"id": id, "keep_state": false}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"success": format!("Server id={id} has been disabled and the meetings have been destroyed")})
    );
    let resp = http
        .post(signed_url(
            &double,
            "deleteServer",
            "",
            ChecksumAlgorithm::Sha256,
        ))
        .json(&json!({"id": id}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"success": format!("Server id={id} was destroyed")})
    );
}

#[tokio::test]
async fn bad_checksums_are_rejected_like_scalelite() {
    let double = ScaleliteDouble::start(SECRET).await.expect("start");
    let http = reqwest::Client::new();
    let base = format!("{}/scalelite/api/getServers", double.url());
    let good = checksum(
        ChecksumAlgorithm::Sha256,
        "getServers",
        "",
        &Secret::new(SECRET),
    );
    let wrong_secret = checksum(
        ChecksumAlgorithm::Sha256,
        "getServers",
        "",
        &Secret::new("nope"),
    );
    let sha384 = checksum(
        ChecksumAlgorithm::Sha384,
        "getServers",
        "",
        &Secret::new(SECRET),
    );
    let other_call = checksum(
        ChecksumAlgorithm::Sha256,
        "getServerInfo",
        "",
        &Secret::new(SECRET),
    );
    for bad in [
        format!("{base}?checksum={wrong_secret}"),
        format!("{base}?checksum={sha384}"),
        format!("{base}?checksum={}", good.to_uppercase()),
        format!("{base}?checksum={other_call}"),
        format!("{base}?checksum="),
        base.clone(),
    ] {
        let resp = http.get(&bad).send().await.expect("send");
        assert_eq!(
            xml_failure(resp).await,
            (
                200,
                "checksumError".into(),
                "You did not pass the checksum security check".into()
            ),
            "{bad}"
        );
    }
    // The signed query is the re-encoded parameters: extra parameters must be signed too.
    let resp = http
        .get(format!("{base}?x=1&checksum={good}"))
        .send()
        .await
        .expect("send");
    assert_eq!(xml_failure(resp).await.1, "checksumError");
    let resp = http
        .get(signed_url(
            &double,
            "getServers",
            "x=a+b",
            ChecksumAlgorithm::Sha256,
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.status().as_u16(),
        404,
        "valid checksum reaches the action"
    );
    // The client sees the same failure as a typed error.
    let mut config = ScaleliteConfig::new(double.url(), "wrong");
    config.max_retries = 0;
    let err = ScaleliteClient::new(config)
        .expect("client")
        .get_servers()
        .await
        .unwrap_err();
    assert!(err.is_checksum_error(), "{err:?}");
    // Restricting the algorithms refuses SHA-1.
    double.set_allowed_algorithms(&[ChecksumAlgorithm::Sha256]);
    let resp = http
        .get(signed_url(
            &double,
            "getServers",
            "",
            ChecksumAlgorithm::Sha1,
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(xml_failure(resp).await.1, "checksumError");
    // Any of several secrets is accepted.
    double.add_secret("second");
    let sum = checksum(
        ChecksumAlgorithm::Sha256,
        "getServers",
        "",
        &Secret::new("second"),
    );
    let resp = http
        .get(format!("{base}?checksum={sum}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 404);
}

#[tokio::test]
async fn routing_and_content_type_failures() {
    let double = ScaleliteDouble::start(SECRET).await.expect("start");
    let http = reqwest::Client::new();
    // Wrong method.
    let resp = http
        .get(signed_url(
            &double,
            "addServer",
            "",
            ChecksumAlgorithm::Sha256,
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(
        xml_failure(resp).await,
        (
            200,
            "unsupportedRequest".into(),
            "This request is not supported.".into()
        )
    );
    // Unknown call.
    let resp = http
        .get(signed_url(
            &double,
            "enableServer",
            "",
            ChecksumAlgorithm::Sha256,
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(xml_failure(resp).await.1, "unsupportedRequest");
    // A form body is refused before the checksum is even looked at.
    let resp = http
        .post(format!(
            "{}/scalelite/api/addServer?checksum=bogus",
            double.url()
        ))
        .form(&[
            ("server[url]", "https://b/bigbluebutton/api"),
            ("server[secret]", "x"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(xml_failure(resp).await.1, "unsupportedContentType");
    assert!(double.servers().is_empty());
}

#[tokio::test]
async fn panic_keep_state() {
    let double = ScaleliteDouble::start(SECRET).await.expect("start");
    let c = client(&double);
    let mut record = DoubleServer::new("https://b/bigbluebutton/api", "s");
    record.state = ServerState::Enabled;
    record.online = true;
    record.load = Some(3.0);
    let id = double.insert_server(record);
    c.panic_server(&id, true).await.expect("panic keep");
    assert_eq!(
        double.server(&id).expect("there").state,
        ServerState::Enabled
    );
    c.panic_server(&id, false).await.expect("panic");
    let s = double.server(&id).expect("there");
    assert_eq!((s.state, s.load), (ServerState::Disabled, None));
    let err = c.panic_server("nope", false).await.unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn hooks_simulate_changes_outside_terraform() {
    let double = ScaleliteDouble::start(SECRET).await.expect("start");
    let c = client(&double);
    let mut record = DoubleServer::new("https://manual/bigbluebutton/api", "s");
    record.tag = Some("manual".into());
    record.load_multiplier = 3.0;
    record.bbb_version = Some("3.0.4".into());
    let id = double.insert_server(record);
    let s = c.get_server(&id).await.expect("get").expect("some");
    assert_eq!(s.tag.as_deref(), Some("manual"));
    assert_eq!(s.load_multiplier, 3.0);
    assert_eq!(s.bbb_version.as_deref(), Some("3.0.4"));

    assert!(double.modify_server(&id, |s| s.state = ServerState::Cordoned));
    assert!(double.set_online(&id, true));
    assert!(double.set_load(&id, Some(6.0)));
    let s = c.get_server(&id).await.expect("get").expect("some");
    assert_eq!(
        (s.state, s.load, s.online),
        (ServerState::Cordoned, Some(6.0), true)
    );
    assert!(double.set_online(&id, false));
    assert_eq!(
        c.get_server(&id).await.expect("get").expect("some").load,
        None
    );

    assert!(double.remove_server(&id));
    assert!(!double.remove_server(&id));
    assert_eq!(c.get_server(&id).await.expect("get"), None);
}

#[tokio::test]
async fn counters_and_fault_injection() {
    let double = ScaleliteDouble::start(SECRET).await.expect("start");
    let c = client(&double);

    double.fail_next(1, 503);
    assert!(c.get_servers().await.expect("retried").is_empty());
    assert_eq!(double.calls("getServers"), 2);

    double.fail_next(1, 500);
    let err = c
        .add_server(new_server("https://b/bigbluebutton/api"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ScaleliteError::Server {
                status: 500,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(double.calls("addServer"), 1, "addServer is never retried");
    assert!(double.servers().is_empty(), "a faulted call does nothing");

    double.fail_next(5, 502);
    let err = c.get_servers().await.unwrap_err();
    assert!(
        matches!(
            err,
            ScaleliteError::Server {
                status: 502,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );

    double.fail_next(0, 500);
    double.reset_calls();
    double.delay_next(3, Duration::from_secs(2));
    let err = c.get_servers().await.unwrap_err();
    assert!(
        matches!(err, ScaleliteError::Timeout { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(double.calls("getServers"), 3);
    assert_eq!(double.total_calls(), 3);
}

#[tokio::test]
async fn a_stopped_double_refuses_connections() {
    let mut double = ScaleliteDouble::start(SECRET).await.expect("start");
    let c = client(&double);
    double.stop().await;
    let err = c.get_servers().await.unwrap_err();
    assert!(matches!(err, ScaleliteError::Transport { .. }), "{err:?}");
}
