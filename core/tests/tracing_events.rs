//! Every request is one tracing event naming the call, status and duration, and no event ever
//! contains the secret or the checksum.

use bbb_core::scalelite::{ScaleliteClient, ScaleliteConfig};
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(data);
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn one_event_per_request_without_secrets() {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": "No servers are configured"})),
        )
        .mount(&server)
        .await;
    let secret = "very-secret-lb-value";
    let mut config = ScaleliteConfig::new(server.uri(), secret);
    config.max_retries = 3;
    let client = ScaleliteClient::new(config)
        .expect("client")
        .with_retry_backoff(Duration::from_millis(1));
    assert!(client.get_servers().await.expect("ok").is_empty());

    let text =
        String::from_utf8(buf.0.lock().map(|v| v.clone()).unwrap_or_default()).unwrap_or_default();
    let events: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("api=\"scalelite\""))
        .collect();
    assert_eq!(events.len(), 2, "{text}");
    assert!(events[0].contains("call=\"getServers\"") && events[0].contains("status=503"));
    assert!(events[1].contains("status=404") && events[1].contains("duration_ms="));
    assert!(!text.contains(secret), "{text}");
    assert!(!text.contains("checksum"), "{text}");
}
