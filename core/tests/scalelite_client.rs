//! The Scalelite client against wiremock stubs that answer as Scalelite does (bodies and status
//! codes taken from Scalelite's servers controller, api helper and request specs).

use bbb_core::scalelite::{
    NewServer, ScaleliteClient, ScaleliteConfig, ScaleliteError, ServerState, ServerUpdate,
    StateChange,
};
use bbb_core::Secret;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const LB_SECRET: &str = "lb-secret-0123456789";
const BBB_SECRET: &str = "bbb-shared-secret-abc";

/// Recomputes the checksum the way Scalelite's `verify_checksum` does, independently of the
/// client: query parameters without `checksum`, each key and value re-encoded with CGI.escape,
/// joined by `&`, prefixed with the call name, suffixed with the secret; SHA-256 picked by the
/// 64-character length; compared case-sensitively.
struct ScaleliteChecksum {
    call: &'static str,
}

fn cgi_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) {
                (b as char).to_string()
            } else if b == b' ' {
                "+".to_owned()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Match for ScaleliteChecksum {
    fn matches(&self, request: &Request) -> bool {
        let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let Some(provided) = pairs
            .iter()
            .find(|(k, _)| k == "checksum")
            .map(|(_, v)| v.clone())
        else {
            return false;
        };
        let signed = pairs
            .iter()
            .filter(|(k, _)| k != "checksum")
            .map(|(k, v)| format!("{}={}", cgi_escape(k), cgi_escape(v)))
            .collect::<Vec<_>>()
            .join("&");
        let expected = hex::encode(Sha256::digest(
            format!("{}{}{}", self.call, signed, LB_SECRET).as_bytes(),
        ));
        provided.len() == 64 && provided == expected
    }
}

fn signed(call: &'static str) -> ScaleliteChecksum {
    ScaleliteChecksum { call }
}

fn client(server: &MockServer) -> ScaleliteClient {
    let mut config = ScaleliteConfig::new(server.uri(), LB_SECRET);
    config.timeout = Duration::from_millis(500);
    config.max_retries = 2;
    ScaleliteClient::new(config)
        .expect("client")
        .with_retry_backoff(Duration::from_millis(5))
}

/// A server object exactly as Scalelite's `server_to_json` renders it.
fn server_json(
    id: &str,
    state: &str,
    load: Value,
    multiplier: &str,
    online: bool,
    tag: &str,
) -> Value {
    json!({
        "id": id,
        "url": format!("https://{id}.example.com/bigbluebutton/api"),
        "secret": BBB_SECRET,
        "tag": tag,
        "bbb_version": "",
        "state": state,
        "load": load,
        "load_multiplier": multiplier,
        "online": if online { "online" } else { "offline" },
    })
}

fn failed_xml(key: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        format!(
            "<?xml version=\"1.0\"?>\n<response>\n  <returncode>FAILED</returncode>\n  \
             <messageKey>{key}</messageKey>\n  <message>{message}</message>\n</response>\n"
        ),
        "application/xml; charset=utf-8",
    )
}

#[tokio::test]
async fn get_servers_parses_the_list() {
    let server = MockServer::start().await;
    let body = json!([
        server_json("bbb1", "enabled", json!(12.0), "1.0", true, ""),
        server_json("bbb2", "cordoned", json!(0.0), "2.5", true, "big"),
        server_json("bbb3", "disabled", json!("unavailable"), "1.0", false, ""),
    ]);
    Mock::given(method("GET"))
        .and(path("/scalelite/api/getServers"))
        .and(signed("getServers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    let servers = client(&server).get_servers().await.expect("getServers");
    assert_eq!(servers.len(), 3);
    assert_eq!(servers[0].id, "bbb1");
    assert_eq!(servers[0].state, ServerState::Enabled);
    assert_eq!(servers[0].load, Some(12.0));
    assert!(servers[0].online);
    assert_eq!(servers[0].tag, None);
    assert_eq!(servers[0].bbb_version, None);
    assert_eq!(servers[0].secret.expose(), BBB_SECRET);
    assert_eq!(servers[1].state, ServerState::Cordoned);
    assert_eq!(servers[1].load_multiplier, 2.5);
    assert_eq!(servers[1].tag.as_deref(), Some("big"));
    assert_eq!(servers[2].state, ServerState::Disabled);
    assert_eq!(servers[2].load, None);
    assert!(!servers[2].online);
    assert!(!format!("{servers:?}").contains(BBB_SECRET));
}

#[tokio::test]
async fn empty_pool_404_is_an_empty_list() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scalelite/api/getServers"))
        .and(signed("getServers"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": "No servers are configured"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client(&server).get_servers().await.expect("empty"), vec![]);
}

#[tokio::test]
async fn a_404_that_is_not_scalelite_is_not_an_empty_pool() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_raw("<html>nginx</html>", "text/html"))
        .mount(&server)
        .await;
    let err = client(&server).get_servers().await.unwrap_err();
    assert!(
        matches!(err, ScaleliteError::UnexpectedResponse { status: 404, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn get_server_signs_the_id_and_maps_404_to_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scalelite/api/getServerInfo"))
        .and(wiremock::matchers::query_param("id", "bbb 1/x"))
        .and(signed("getServerInfo"))
        .respond_with(ResponseTemplate::new(200).set_body_json(server_json(
            "bbb1",
            "enabled",
            json!(3.0),
            "1.0",
            true,
            "",
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scalelite/api/getServerInfo"))
        .and(wiremock::matchers::query_param("id", "nope"))
        .and(signed("getServerInfo"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": "Couldn't find server with id=nope"})),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let s = c.get_server("bbb 1/x").await.expect("ok").expect("some");
    assert_eq!(s.load, Some(3.0));
    assert_eq!(c.get_server("nope").await.expect("ok"), None);
}

#[tokio::test]
async fn add_server_sends_the_exact_body_and_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/addServer"))
        .and(signed("addServer"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"server": {
            "url": "https://bbb1.example.com/bigbluebutton/api",
            "secret": BBB_SECRET,
            "load_multiplier": 1.5,
            "tag": "big"
        }})))
        .respond_with(ResponseTemplate::new(201).set_body_json(server_json(
            "bbb1",
            "disabled",
            json!("unavailable"),
            "1.5",
            false,
            "big",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let s = client(&server)
        .add_server(NewServer {
            url: "https://bbb1.example.com/bigbluebutton/api".into(),
            secret: Secret::new(BBB_SECRET),
            load_multiplier: Some(1.5),
            tag: Some("big".into()),
        })
        .await
        .expect("addServer");
    assert_eq!(s.state, ServerState::Disabled);
    assert!(!s.online);
    assert_eq!(s.load_multiplier, 1.5);

    // Without optional fields, only url and secret are sent.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/addServer"))
        .and(body_json(
            json!({"server": {"url": "https://b/bigbluebutton/api", "secret": "s"}}),
        ))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .add_server(NewServer {
            url: "https://b/bigbluebutton/api".into(),
            secret: Secret::new("s"),
            load_multiplier: None,
            tag: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ScaleliteError::Server {
                status: 503,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn add_server_is_not_retried_on_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .add_server(NewServer {
            url: "https://b/bigbluebutton/api".into(),
            secret: Secret::new("s"),
            load_multiplier: None,
            tag: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, ScaleliteError::Timeout { attempts: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn update_server_sends_id_and_server_object() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/updateServer"))
        .and(signed("updateServer"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"id": "bbb1", "server": {
            "state": "cordon", "load_multiplier": 2.5, "secret": "new-secret", "tag": ""
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(server_json(
            "bbb1",
            "cordoned",
            json!(4.0),
            "2.5",
            true,
            "",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let s = client(&server)
        .update_server(
            "bbb1",
            ServerUpdate {
                state: Some(StateChange::Cordon),
                load_multiplier: Some(2.5),
                secret: Some(Secret::new("new-secret")),
                tag: Some(String::new()),
            },
        )
        .await
        .expect("updateServer");
    assert_eq!(s.state, ServerState::Cordoned);
    assert_eq!(s.load_multiplier, 2.5);
}

#[tokio::test]
async fn update_server_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/updateServer"))
        .and(body_json(
            json!({"id": "bbb1", "server": {"state": "enable"}}),
        ))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "Load-multiplier must be a non-zero number"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/updateServer"))
        .and(body_json(
            json!({"id": "gone", "server": {"state": "enable"}}),
        ))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": "Couldn't find server with id=gone"})),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let enable = || ServerUpdate {
        state: Some(StateChange::Enable),
        ..ServerUpdate::default()
    };
    let err = c.update_server("bbb1", enable()).await.unwrap_err();
    assert_eq!(
        err,
        ScaleliteError::Rejected {
            call: "updateServer".into(),
            status: 400,
            error: "Load-multiplier must be a non-zero number".into()
        }
    );
    let err = c.update_server("gone", enable()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    // A zero multiplier is refused before anything is sent.
    let err = c
        .update_server(
            "bbb1",
            ServerUpdate {
                load_multiplier: Some(0.0),
                ..ServerUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ScaleliteError::InvalidArgument { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn update_server_is_retried_on_5xx() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/updateServer"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/updateServer"))
        .and(signed("updateServer"))
        .respond_with(ResponseTemplate::new(200).set_body_json(server_json(
            "bbb1",
            "enabled",
            json!("unavailable"),
            "1.0",
            false,
            "",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let s = client(&server)
        .update_server(
            "bbb1",
            ServerUpdate {
                state: Some(StateChange::Enable),
                ..ServerUpdate::default()
            },
        )
        .await
        .expect("retried");
    assert_eq!(s.state, ServerState::Enabled);
}

#[tokio::test]
async fn delete_and_panic_bodies() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/deleteServer"))
        .and(signed("deleteServer"))
        .and(body_json(json!({"id": "bbb1"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": "Server id=bbb1 was destroyed"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/deleteServer"))
        .and(body_json(json!({"id": "gone"})))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": "Couldn't find server with id=gone"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/panicServer"))
        .and(signed("panicServer"))
        .and(body_json(json!({"id": "bbb1", "keep_state": true})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": "Server id=bbb1 has been disabled and the meetings have been destroyed"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    c.delete_server("bbb1").await.expect("delete");
    let err = c.delete_server("gone").await.unwrap_err();
    assert_eq!(
        err,
        ScaleliteError::NotFound {
            call: "deleteServer".into(),
            error: "Couldn't find server with id=gone".into()
        }
    );
    c.panic_server("bbb1", true).await.expect("panic");
}

#[tokio::test]
async fn delete_retried_after_5xx_treats_404_as_done() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/deleteServer"))
        .respond_with(ResponseTemplate::new(504))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scalelite/api/deleteServer"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": "Couldn't find server with id=bbb1"})),
        )
        .mount(&server)
        .await;
    client(&server).delete_server("bbb1").await.expect("done");
}

#[tokio::test]
async fn xml_failed_documents_at_http_200() {
    let cases = [
        (
            "checksumError",
            "You did not pass the checksum security check",
        ),
        ("unsupportedRequest", "This request is not supported."),
        (
            "internalError",
            "param is missing or the value is empty: server",
        ),
        ("unsupportedContentType", "Unsupported content type"),
    ];
    for (key, message) in cases {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(failed_xml(key, message))
            .mount(&server)
            .await;
        let c = client(&server);
        let err = c.get_servers().await.unwrap_err();
        assert_eq!(
            err,
            ScaleliteError::Failed {
                call: "getServers".into(),
                message_key: key.into(),
                message: message.into()
            }
        );
        assert_eq!(err.is_checksum_error(), key == "checksumError");
        let err = c
            .add_server(NewServer {
                url: "https://b/bigbluebutton/api".into(),
                secret: Secret::new("s"),
                load_multiplier: None,
                tag: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.message_key(), Some(key));
        // A FAILED document is not retried: it is an answer, not an outage.
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(requests.len(), 2);
    }
}

#[tokio::test]
async fn get_is_retried_on_503_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scalelite/api/getServers"))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scalelite/api/getServers"))
        .and(signed("getServers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([server_json(
            "bbb1",
            "enabled",
            json!(1.0),
            "1.0",
            true,
            ""
        )])))
        .expect(1)
        .mount(&server)
        .await;
    let servers = client(&server).get_servers().await.expect("retried");
    assert_eq!(servers.len(), 1);
}

#[tokio::test]
async fn get_gives_up_after_max_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .expect(3)
        .mount(&server)
        .await;
    let err = client(&server).get_servers().await.unwrap_err();
    assert_eq!(
        err,
        ScaleliteError::Server {
            call: "getServers".into(),
            status: 500,
            body: "boom".into(),
            attempts: 3
        }
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn timeouts_and_transport_errors_are_typed_and_redacted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let err = client(&server).get_servers().await.unwrap_err();
    assert!(
        matches!(err, ScaleliteError::Timeout { attempts: 3, .. }),
        "{err:?}"
    );

    // Nothing listens on this port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let mut config = ScaleliteConfig::new(format!("http://127.0.0.1:{port}"), LB_SECRET);
    config.max_retries = 1;
    let c = ScaleliteClient::new(config)
        .expect("client")
        .with_retry_backoff(Duration::from_millis(1));
    let err = c.get_server("bbb1").await.unwrap_err();
    assert!(
        matches!(err, ScaleliteError::Transport { attempts: 2, .. }),
        "{err:?}"
    );
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(LB_SECRET), "{text}");
        assert!(!text.contains("checksum"), "{text}");
    }
}

#[tokio::test]
async fn unexpected_shapes_never_echo_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "id": "bbb1", "url": "u", "secret": BBB_SECRET, "state": "sleeping",
            "load": 1.0, "load_multiplier": "1.0", "online": "online"
        }])))
        .mount(&server)
        .await;
    let err = client(&server).get_servers().await.unwrap_err();
    assert!(
        matches!(err, ScaleliteError::UnexpectedResponse { status: 200, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains(BBB_SECRET));
}

#[test]
fn config_is_validated() {
    assert!(ScaleliteClient::new(ScaleliteConfig::new("not a url", "s")).is_err());
    assert!(ScaleliteClient::new(ScaleliteConfig::new("ftp://x", "s")).is_err());
    assert!(ScaleliteClient::new(ScaleliteConfig::new("https://x", "")).is_err());
    let c = ScaleliteClient::new(ScaleliteConfig::new("https://x/", LB_SECRET)).expect("ok");
    assert!(!format!("{c:?}").contains(LB_SECRET));
    assert!(c
        .with_checksum_algorithm(bbb_core::checksum::ChecksumAlgorithm::Sha384)
        .is_err());
}

/// A Rails app in development mode answers a crash with a page that echoes the request's
/// parameters, the BBB secret of addServer or updateServer among them: a POST's 5xx body never
/// reaches the error (a GET's, which carries no secret, still helps to diagnose).
#[tokio::test]
async fn post_5xx_bodies_are_left_out_of_errors() {
    let server = MockServer::start().await;
    let echo = format!("ActionController::Params {{\"secret\"=>\"{BBB_SECRET}\"}}");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(echo.clone()))
        .mount(&server)
        .await;
    let c = client(&server);
    let add = c
        .add_server(NewServer {
            url: "https://b/bigbluebutton/api".into(),
            secret: Secret::new(BBB_SECRET),
            load_multiplier: None,
            tag: None,
        })
        .await
        .unwrap_err();
    let update = c
        .update_server(
            "s1",
            ServerUpdate {
                secret: Some(Secret::new(BBB_SECRET)),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    for err in [add, update] {
        let text = format!("{err} {err:?}");
        assert!(
            matches!(err, ScaleliteError::Server { status: 500, .. }),
            "{text}"
        );
        assert!(!text.contains(BBB_SECRET), "secret echoed: {text}");
        assert!(!text.contains("ActionController"), "POST body kept: {text}");
    }
    // Nor does an unexpected non-JSON 4xx page answering a POST.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_string(echo))
        .mount(&server)
        .await;
    let err = client(&server)
        .update_server(
            "s1",
            ServerUpdate {
                secret: Some(Secret::new(BBB_SECRET)),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(BBB_SECRET), "secret echoed: {text}");
}
