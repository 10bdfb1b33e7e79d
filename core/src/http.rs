//! Request plumbing shared by the clients: one `tracing` event per request, retries with
//! exponential backoff for calls that are safe to repeat. URLs are never logged (they carry the
//! checksum).

use std::error::Error as _;
use std::time::{Duration, Instant};

/// A response read to the end.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// A request that got no HTTP response.
#[derive(Debug, Clone)]
pub(crate) enum TransportFailure {
    Timeout,
    Other(String),
}

impl TransportFailure {
    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            return Self::Timeout;
        }
        let err = err.without_url();
        let mut msg = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        Self::Other(msg)
    }
}

/// How often and how fast to retry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
}

impl RetryPolicy {
    fn delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.base_delay
            .saturating_mul(factor)
            .min(Duration::from_secs(10))
    }
}

pub(crate) struct Outcome {
    pub result: Result<RawResponse, TransportFailure>,
    pub attempts: u32,
}

/// Sends the request built by `build`, retrying transport failures and 5xx answers when
/// `retryable` is set. Each attempt is one `tracing` event with the API, call name, attempt,
/// status and duration.
pub(crate) async fn send(
    api: &'static str,
    call: &str,
    retryable: bool,
    policy: RetryPolicy,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Outcome {
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let started = Instant::now();
        let result = match build().send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let content_type = resp
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match resp.text().await {
                    Ok(body) => Ok(RawResponse {
                        status,
                        content_type,
                        body,
                    }),
                    Err(e) => Err(TransportFailure::from_reqwest(e)),
                }
            }
            Err(e) => Err(TransportFailure::from_reqwest(e)),
        };
        let duration_ms = started.elapsed().as_millis() as u64;
        let will_retry = retryable
            && attempt <= policy.max_retries
            && match &result {
                Ok(r) => r.status >= 500,
                Err(_) => true,
            };
        match &result {
            // 4xx are answers (unknown id, empty pool, refused value), not outages.
            Ok(r) if r.status < 500 => tracing::info!(
                api,
                call,
                attempt,
                status = r.status,
                duration_ms,
                "api request"
            ),
            Ok(r) => tracing::warn!(
                api,
                call,
                attempt,
                status = r.status,
                duration_ms,
                will_retry,
                "api request failed"
            ),
            Err(TransportFailure::Timeout) => tracing::warn!(
                api,
                call,
                attempt,
                status = "timeout",
                duration_ms,
                will_retry,
                "api request failed"
            ),
            Err(TransportFailure::Other(error)) => tracing::warn!(
                api,
                call,
                attempt,
                status = "transport-error",
                error = error.as_str(),
                duration_ms,
                will_retry,
                "api request failed"
            ),
        }
        if !will_retry {
            return Outcome {
                result,
                attempts: attempt,
            };
        }
        tokio::time::sleep(policy.delay(attempt)).await;
    }
}

/// At most `max` characters of `body`, for error messages about unexpected answers.
pub(crate) fn excerpt(body: &str, max: usize) -> String {
    let trimmed = body.trim();
    match trimmed.char_indices().nth(max) {
        Some((idx, _)) => format!("{}...", &trimmed[..idx]),
        None => trimmed.to_owned(),
    }
}

/// A `<response><returncode>FAILED</returncode>...` document, as BBB and Scalelite send them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlFailure {
    pub message_key: String,
    pub message: String,
}

/// Parses an XML `<response>` document: `Ok(None)` when it is not XML with a `<response>` root,
/// `Ok(Some(Err(failure)))` for `returncode` FAILED, `Ok(Some(Ok(doc)))` for SUCCESS.
pub(crate) fn parse_response_xml(
    body: &str,
) -> Option<Result<roxmltree::Document<'_>, XmlFailure>> {
    let doc = roxmltree::Document::parse(body).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "response" {
        return None;
    }
    let code = child_text(root, "returncode")?;
    if code == "SUCCESS" {
        return Some(Ok(doc));
    }
    Some(Err(XmlFailure {
        message_key: child_text(root, "messageKey").unwrap_or_default(),
        message: child_text(root, "message").unwrap_or_default(),
    }))
}

/// Text of the first child element named `name` (empty element -> empty string).
pub(crate) fn child_text(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .map(|c| c.text().unwrap_or_default().trim().to_owned())
}
