//! The AWS calls log one `tracing` event per call, never with a secret. Alone in its test
//! binary: tracing's per-callsite interest cache makes scoped subscribers unreliable while other
//! tests hit the same callsites from other threads.

use bbb_core::testing as support;

use aws_sdk_ssm::types::ParameterType;
use support::{shared, unique};

#[derive(Clone, Default)]
struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
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
async fn one_event_per_call_without_the_secret() {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("bbb_core=trace"))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let clients = shared().clients().await;
    let name = format!("/bbb/{}/traced", unique("fleet"));
    clients
        .ssm_sdk()
        .put_parameter()
        .name(&name)
        .value("do-not-log-me-42")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .expect("PutParameter");
    let secret = clients.get_secure_parameter(&name).await.expect("get");
    assert_eq!(secret.expose(), "do-not-log-me-42");
    let missing = clients.get_secure_parameter("/bbb/none").await;
    assert!(missing.is_err(), "{missing:?}");

    let text =
        String::from_utf8(buf.0.lock().map(|v| v.clone()).unwrap_or_default()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("aws call") && lines[0].contains("GetParameter"),
        "{text}"
    );
    assert!(lines[0].contains("service=\"ssm\""), "{text}");
    assert!(lines[0].contains(&name), "{text}");
    assert!(lines[0].contains("duration_ms="), "{text}");
    assert!(
        lines[1].contains("aws call failed") && lines[1].contains("/bbb/none"),
        "{text}"
    );
    assert!(!text.contains("do-not-log-me-42"), "{text}");
}
