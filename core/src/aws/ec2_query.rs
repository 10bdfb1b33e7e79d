//! A small SigV4-signed client for AWS Query APIs (form-encoded `POST`, XML answers): EC2 and
//! CloudWatch ([`QueryApi`]).
//!
//! It exists because `aws-sdk-ec2` alone adds minutes of cold build time and the fleet needs one
//! EC2 call (`DescribeInstances`); the hook publishes its CloudWatch metrics with it too
//! (`PutMetricData`), which keeps `aws-sdk-cloudwatch` out of the hook's size budget. Credentials come from the same provider chain as the SDK
//! clients (cached until shortly before they expire); retries follow the SDK's standard mode:
//! throttling and transient errors, 5xx answers, timeouts and transport errors are retried up to
//! `max_retries` times with exponential backoff and full jitter. With adaptive pacing (the SDK's
//! adaptive mode, in spirit) a throttled answer also holds back every other call of the client
//! until its backoff has passed, so concurrent calls stop adding to the throttling.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use url::Url;

use super::config::log_outcome;
use super::counters::{CallCounters, Service};
use super::error::{AwsError, CallContext, THROTTLING_CODES};

/// The EC2 API version this client speaks.
pub const EC2_API_VERSION: &str = "2016-11-15";

/// One AWS Query API: how it is signed, versioned, counted and found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryApi {
    /// The counter its calls go to.
    pub service: Service,
    /// The SigV4 signing name (`ec2`, `monitoring`).
    pub signing_name: &'static str,
    /// The `Version` parameter.
    pub version: &'static str,
    /// The regional endpoint's first label (`ec2.<region>.amazonaws.com`).
    pub endpoint_prefix: &'static str,
    /// The service-specific endpoint variable (`AWS_ENDPOINT_URL_EC2`).
    pub endpoint_env: &'static str,
    /// The name in messages.
    pub label: &'static str,
}

/// EC2 (`DescribeInstances`).
pub const EC2: QueryApi = QueryApi {
    service: Service::Ec2,
    signing_name: "ec2",
    version: EC2_API_VERSION,
    endpoint_prefix: "ec2",
    endpoint_env: "AWS_ENDPOINT_URL_EC2",
    label: "EC2",
};

/// CloudWatch (`PutMetricData`, `GetMetricStatistics`), whose IAM prefix is `cloudwatch` but
/// whose signing name and endpoint are `monitoring`.
pub const CLOUDWATCH: QueryApi = QueryApi {
    service: Service::CloudWatch,
    signing_name: "monitoring",
    version: "2010-08-01",
    endpoint_prefix: "monitoring",
    endpoint_env: "AWS_ENDPOINT_URL_CLOUDWATCH",
    label: "CloudWatch",
};

/// Error codes of transient EC2 and CloudWatch failures (retried like throttling).
const TRANSIENT_CODES: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "Unavailable",
];

const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(20);
/// The shortest hold-back after a throttled answer (adaptive pacing).
const MIN_HOLD_BACK: Duration = Duration::from_millis(200);
/// Refresh cached credentials this long before they expire.
const CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The EC2 endpoint for `region`: `configured` (`AWS_ENDPOINT_URL`) if set, else
/// `AWS_ENDPOINT_URL_EC2`, else the public regional endpoint.
#[cfg(test)]
pub(crate) fn default_endpoint(region: &str, configured: Option<&str>) -> Result<Url, AwsError> {
    default_endpoint_for(&EC2, region, configured)
}

/// The endpoint of `api` for `region`: its service-specific variable
/// (`AWS_ENDPOINT_URL_EC2`, `AWS_ENDPOINT_URL_CLOUDWATCH`) if set, else `configured`
/// (`AWS_ENDPOINT_URL`), else the public regional endpoint.
pub(crate) fn default_endpoint_for(
    api: &QueryApi,
    region: &str,
    configured: Option<&str>,
) -> Result<Url, AwsError> {
    let service_specific = std::env::var(api.endpoint_env)
        .ok()
        .filter(|v| !v.is_empty());
    let raw = match (service_specific, configured) {
        (Some(v), _) => v,
        (None, Some(v)) => v.to_owned(),
        (None, None) => {
            let suffix = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            format!("https://{}.{region}.{suffix}/", api.endpoint_prefix)
        }
    };
    Url::parse(&raw).map_err(|e| AwsError::Config(format!("{} endpoint {raw:?}: {e}", api.label)))
}

/// A signed Query API client of one [`QueryApi`] (EC2 unless built for another). Cheap to clone.
#[derive(Clone)]
pub struct Ec2QueryClient {
    inner: Arc<Inner>,
}

struct Inner {
    api: &'static QueryApi,
    endpoint: Url,
    host: String,
    region: String,
    credentials: SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<Credentials>>,
    http: reqwest::Client,
    max_retries: u32,
    counters: Arc<CallCounters>,
    /// Adaptive pacing: no attempt starts before this instant, set by throttled answers.
    pacing: Option<std::sync::Mutex<Option<Instant>>>,
}

impl std::fmt::Debug for Ec2QueryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ec2QueryClient")
            .field("api", &self.inner.api.label)
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("region", &self.inner.region)
            .field("max_retries", &self.inner.max_retries)
            .finish_non_exhaustive()
    }
}

/// The outcome of one attempt.
enum Attempt {
    Done(String),
    Retry(AwsError),
    Fail(AwsError),
}

impl Ec2QueryClient {
    pub(crate) fn new(
        api: &'static QueryApi,
        endpoint: Url,
        region: String,
        credentials: SharedCredentialsProvider,
        max_retries: u32,
        timeout: Duration,
        counters: Arc<CallCounters>,
    ) -> Result<Self, AwsError> {
        let host = match (endpoint.host_str(), endpoint.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => {
                return Err(AwsError::Config(format!(
                    "{} endpoint {endpoint} has no host",
                    api.label
                )))
            }
        };
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
            .map_err(|e| AwsError::Config(format!("{} HTTP client: {e}", api.label)))?;
        Ok(Self {
            inner: Arc::new(Inner {
                api,
                endpoint,
                host,
                region,
                credentials,
                cached: tokio::sync::Mutex::new(None),
                http,
                max_retries,
                counters,
                pacing: None,
            }),
        })
    }

    /// With `on`, a throttled answer makes every call of this client wait out its backoff
    /// before its next attempt (client-side rate limiting, as the SDK's adaptive mode).
    pub(crate) fn with_adaptive_pacing(mut self, on: bool) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.pacing = on.then(|| std::sync::Mutex::new(None));
        }
        self
    }

    /// How long a new attempt would wait for the pacing set by throttled answers.
    pub(crate) fn pacing_delay(&self) -> Duration {
        let Some(pacing) = &self.inner.pacing else {
            return Duration::ZERO;
        };
        let until = pacing.lock().map(|g| *g).unwrap_or(None);
        until.map_or(Duration::ZERO, |t| {
            t.saturating_duration_since(Instant::now())
        })
    }

    /// Holds further attempts back for `delay` after a throttled answer (adaptive pacing).
    fn hold_back(&self, delay: Duration) {
        if let Some(pacing) = &self.inner.pacing {
            if let Ok(mut until) = pacing.lock() {
                let t = Instant::now() + delay;
                if until.is_none_or(|u| u < t) {
                    *until = Some(t);
                }
            }
        }
    }

    /// The endpoint this client calls.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// Sends the action `action` with the Query API parameters `params` (without `Action`
    /// and `Version`) and returns the XML answer. `resource` names what the call is about in
    /// logs and errors. Counts one call, logs one event.
    pub async fn call(
        &self,
        action: &'static str,
        resource: &str,
        params: &[(String, String)],
    ) -> Result<String, AwsError> {
        let service = self.inner.api.service;
        let ctx = CallContext::new(service, action, resource);
        self.inner.counters.count_call(service);
        let started = Instant::now();
        let result = self.send(&ctx, params).await;
        log_outcome(&ctx, started, result.as_ref().err());
        result
    }

    /// Sends one call with retries; counts requests, does not log.
    pub(crate) async fn send(
        &self,
        ctx: &CallContext,
        params: &[(String, String)],
    ) -> Result<String, AwsError> {
        let body = form_body(ctx.operation, self.inner.api.version, params);
        let mut retry: u32 = 0;
        loop {
            let wait = self.pacing_delay();
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            match self.attempt(ctx, &body).await {
                Attempt::Done(text) => return Ok(text),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e) => {
                    let delay = backoff(retry.saturating_add(1));
                    if e.is_throttling() {
                        self.hold_back(delay.max(MIN_HOLD_BACK));
                    }
                    if retry >= self.inner.max_retries {
                        return Err(e);
                    }
                    retry += 1;
                    tracing::debug!(
                        service = self.inner.api.service.as_str(),
                        operation = ctx.operation,
                        retry,
                        error = e.to_string().as_str(),
                        "retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(&self, ctx: &CallContext, body: &str) -> Attempt {
        let inner = &self.inner;
        let creds = match self.credentials(ctx).await {
            Ok(c) => c,
            Err(e) => return Attempt::Fail(e),
        };
        let identity: Identity = creds.into();
        let signing_params = match v4::SigningParams::builder()
            .identity(&identity)
            .region(&inner.region)
            .name(inner.api.signing_name)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
        {
            Ok(p) => p.into(),
            Err(e) => return Attempt::Fail(ctx.request(format!("signing parameters: {e}"))),
        };
        const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
        let headers = [
            ("content-type", CONTENT_TYPE),
            ("host", inner.host.as_str()),
        ];
        let signable = match SignableRequest::new(
            "POST",
            inner.endpoint.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        ) {
            Ok(s) => s,
            Err(e) => return Attempt::Fail(ctx.request(format!("signing: {e}"))),
        };
        let instructions = match sign(signable, &signing_params) {
            Ok(out) => out.into_parts().0,
            Err(e) => return Attempt::Fail(ctx.request(format!("signing: {e}"))),
        };
        let mut req = inner
            .http
            .post(inner.endpoint.clone())
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(body.to_owned());
        for (name, value) in instructions.headers() {
            req = req.header(name, value);
        }

        inner.counters.count_request(inner.api.service);
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Attempt::Retry(ctx.timeout()),
            Err(e) => return Attempt::Retry(ctx.transport(transport_detail(e))),
        };
        let status = resp.status().as_u16();
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) if e.is_timeout() => return Attempt::Retry(ctx.timeout()),
            Err(e) => return Attempt::Retry(ctx.transport(transport_detail(e))),
        };
        if (200..300).contains(&status) {
            return Attempt::Done(text);
        }
        let err = match parse_error(&text) {
            Some(q) => ctx.service_error(q.code, q.message, q.request_id),
            None => ctx.transport(format!(
                "HTTP {status} without an {} error document",
                inner.api.label
            )),
        };
        if status >= 500 || is_retryable_code(err.code()) {
            Attempt::Retry(err)
        } else {
            Attempt::Fail(err)
        }
    }

    async fn credentials(&self, ctx: &CallContext) -> Result<Credentials, AwsError> {
        let mut cached = self.inner.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let fresh = match c.expiry() {
                None => true,
                Some(exp) => exp > SystemTime::now() + CREDENTIALS_REFRESH_MARGIN,
            };
            if fresh {
                return Ok(c.clone());
            }
        }
        let creds = self
            .inner
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| {
                ctx.request(format!(
                    "no AWS credentials: {}",
                    aws_sdk_autoscaling::error::DisplayErrorContext(&e)
                ))
            })?;
        *cached = Some(creds.clone());
        Ok(creds)
    }
}

fn is_retryable_code(code: Option<&str>) -> bool {
    code.is_some_and(|c| THROTTLING_CODES.contains(&c) || TRANSIENT_CODES.contains(&c))
}

fn transport_detail(err: reqwest::Error) -> String {
    use std::error::Error as _;
    let err = err.without_url();
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// The delay before retry number `retry` (1-based): full jitter over an exponential ceiling.
fn backoff(retry: u32) -> Duration {
    let ceiling = INITIAL_BACKOFF
        .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
        .min(MAX_BACKOFF);
    let random = RandomState::new().build_hasher().finish();
    let fraction = (random % 10_000) as f64 / 10_000.0;
    ceiling.mul_f64(fraction)
}

fn form_body(action: &str, version: &str, params: &[(String, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    ser.append_pair("Action", action);
    ser.append_pair("Version", version);
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// A Query API error document (EC2's `<Response><Errors>`, CloudWatch's `<ErrorResponse>`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct QueryError {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

/// Parses `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.
pub(crate) fn parse_error(body: &str) -> Option<QueryError> {
    let doc = roxmltree::Document::parse(body).ok()?;
    let error = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "Error")?;
    let code = child_text(error, "Code")?.to_owned();
    let message = child_text(error, "Message").unwrap_or("").to_owned();
    let request_id = doc
        .descendants()
        .find(|n| {
            n.is_element() && matches!(n.tag_name().name(), "RequestID" | "RequestId" | "requestId")
        })
        .and_then(|n| n.text())
        .map(str::to_owned);
    Some(QueryError {
        code,
        message,
        request_id,
    })
}

/// The first child element of `node` named `name`.
pub(crate) fn child<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    name: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// The child elements of `node` named `name`.
pub(crate) fn children<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The trimmed, non-empty text of the first child element of `node` named `name`.
pub(crate) fn child_text<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(node, name)
        .and_then(|c| c.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
#[path = "ec2_query_tests.rs"]
mod tests;
