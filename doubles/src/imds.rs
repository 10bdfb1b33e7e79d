//! An EC2 instance metadata service (IMDS) double that enforces IMDSv2, as instances launched
//! with `http_tokens = "required"` do: a session token from `PUT /latest/api/token` (with a TTL
//! header of 1 to 21600 seconds, refused when the request carries `X-Forwarded-For`), then
//! `GET /latest/meta-data/...` with `X-aws-ec2-metadata-token`; no, a bad or an expired token
//! is 401, an unknown path 404, as the real service answers.
//!
//! Tokens live exactly their TTL, as EC2's ("a minimum of one second and a maximum of six
//! hours ... after the specified duration expires, you must create a new session token", EC2
//! User Guide, "How Instance Metadata Service Version 2 works"); the token answer carries the
//! granted TTL in `X-aws-ec2-metadata-token-ttl-seconds`. A missing or out-of-range TTL header
//! is 400. Tests can shorten every token's life ([`ImdsDouble::cap_token_ttl`]) or expire
//! every token now ([`ImdsDouble::expire_tokens`]) instead of waiting hours.

use crate::common::{apply_fault, lock, Instrumentation, Running, Shared};
use axum::body::Body;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The instrumentation key counting 401 answers.
const UNAUTHORIZED: &str = "401";

/// What the metadata service says about its instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceIdentity {
    pub instance_id: String,
    pub region: String,
    pub availability_zone: String,
    pub local_ipv4: Ipv4Addr,
    /// `None`: the instance has no public address (the path answers 404).
    pub public_ipv4: Option<Ipv4Addr>,
    pub instance_type: String,
}

#[derive(Debug)]
struct State {
    identity: InstanceIdentity,
    /// `autoscaling/target-lifecycle-state`; `None` answers 404 (not in an Auto Scaling group).
    target_lifecycle_state: Option<String>,
    /// Token -> when it expires.
    tokens: HashMap<String, Instant>,
    /// The longest life a token gets (tests); `None`: its TTL.
    token_ttl_cap: Option<Duration>,
    available: bool,
    instrumentation: Instrumentation,
}

/// A running IMDS double on 127.0.0.1 (ephemeral port). Stops when dropped.
#[derive(Debug)]
pub struct ImdsDouble {
    state: Shared<State>,
    running: Running,
}

impl ImdsDouble {
    /// Starts a double for `identity`, with target lifecycle state `InService`.
    pub async fn start(identity: InstanceIdentity) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            identity,
            target_lifecycle_state: Some("InService".to_owned()),
            tokens: HashMap::new(),
            token_ttl_cap: None,
            available: true,
            instrumentation: Instrumentation::default(),
        }));
        let router = Router::new().fallback(handle).with_state(state.clone());
        let running = Running::serve(router).await?;
        Ok(Self { state, running })
    }

    /// The endpoint, as `AWS_EC2_METADATA_SERVICE_ENDPOINT` takes it.
    pub fn url(&self) -> String {
        format!("http://{}", self.running.addr)
    }

    /// The identity it serves.
    pub fn identity(&self) -> InstanceIdentity {
        lock(&self.state).identity.clone()
    }

    /// Sets `autoscaling/target-lifecycle-state` (`InService`, `Terminated`, ...); `None`
    /// makes the path answer 404.
    pub fn set_target_lifecycle_state(&self, state: Option<&str>) {
        lock(&self.state).target_lifecycle_state = state.map(str::to_owned);
    }

    /// Tokens issued from now on expire after at most `cap` (whatever TTL was asked); `None`
    /// restores EC2's behaviour. The answer still says the TTL asked for, as a client cannot
    /// tell a shortened life in advance either (a clock jump has the same effect).
    pub fn cap_token_ttl(&self, cap: Option<Duration>) {
        lock(&self.state).token_ttl_cap = cap;
    }

    /// Expires every token issued so far (as if their TTL had run out now).
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for expiry in lock(&self.state).tokens.values_mut() {
            *expiry = now;
        }
    }

    /// Requests refused with 401 because their token was missing, unknown or expired.
    pub fn unauthorized(&self) -> u64 {
        lock(&self.state).instrumentation.calls(UNAUTHORIZED)
    }

    /// While `false`, every request fails to connect-like: 503 with no body.
    pub fn set_available(&self, available: bool) {
        lock(&self.state).available = available;
    }

    /// Requests to `path` (for example `/latest/api/token`).
    pub fn calls(&self, path: &str) -> u64 {
        lock(&self.state).instrumentation.calls(path)
    }

    /// Makes the next `n` requests fail with HTTP `status`.
    pub fn fail_next(&self, n: u32, status: u16) {
        lock(&self.state).instrumentation.fail_next(n, status);
    }

    /// Delays the next `n` requests by `delay`.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        lock(&self.state).instrumentation.delay_next(n, delay);
    }

    /// Stops serving.
    pub async fn stop(&mut self) {
        self.running.stop().await;
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from(body.into()),
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html")],
        "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<html><head><title>404 - Not Found</title></head>\
         <body><h1>404 - Not Found</h1></body></html>\n",
    )
        .into_response()
}

async fn handle(
    AxState(state): AxState<Shared<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_owned();
    let fault = lock(&state).instrumentation.record(&path);
    if let Some(resp) = apply_fault(&fault).await {
        return resp;
    }
    let mut s = lock(&state);
    if !s.available {
        return text(StatusCode::SERVICE_UNAVAILABLE, "");
    }
    if path == "/latest/api/token" {
        if method != Method::PUT {
            return text(StatusCode::METHOD_NOT_ALLOWED, "");
        }
        if headers.contains_key("x-forwarded-for") {
            return text(StatusCode::FORBIDDEN, "");
        }
        let ttl = headers
            .get("x-aws-ec2-metadata-token-ttl-seconds")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        return match ttl {
            Some(ttl @ 1..=21600) => {
                let token = format!("AQAEA{}==", uuid::Uuid::new_v4().simple());
                let life = Duration::from_secs(u64::from(ttl));
                let life = s.token_ttl_cap.map_or(life, |cap| cap.min(life));
                let now = Instant::now();
                s.tokens.retain(|_, expiry| *expiry > now);
                s.tokens.insert(token.clone(), now + life);
                (
                    StatusCode::OK,
                    [
                        (header::CONTENT_TYPE.as_str(), "text/plain".to_owned()),
                        ("x-aws-ec2-metadata-token-ttl-seconds", ttl.to_string()),
                    ],
                    Body::from(token),
                )
                    .into_response()
            }
            _ => text(StatusCode::BAD_REQUEST, ""),
        };
    }
    if method != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "");
    }
    let token_ok = headers
        .get("x-aws-ec2-metadata-token")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| s.tokens.get(t))
        .is_some_and(|expiry| Instant::now() < *expiry);
    if !token_ok {
        // IMDSv2 required: IMDSv1 requests, unknown and expired tokens are unauthorized.
        s.instrumentation.record(UNAUTHORIZED);
        return text(StatusCode::UNAUTHORIZED, "");
    }
    let id = &s.identity;
    let value = match path.trim_end_matches('/') {
        "/latest/meta-data/instance-id" => Some(id.instance_id.clone()),
        "/latest/meta-data/instance-type" => Some(id.instance_type.clone()),
        "/latest/meta-data/local-ipv4" => Some(id.local_ipv4.to_string()),
        "/latest/meta-data/public-ipv4" => id.public_ipv4.map(|a| a.to_string()),
        "/latest/meta-data/placement/region" => Some(id.region.clone()),
        "/latest/meta-data/placement/availability-zone" => Some(id.availability_zone.clone()),
        "/latest/meta-data/autoscaling/target-lifecycle-state" => s.target_lifecycle_state.clone(),
        "/latest/dynamic/instance-identity/document" => Some(
            serde_json::json!({
                "instanceId": id.instance_id,
                "region": id.region,
                "availabilityZone": id.availability_zone,
                "privateIp": id.local_ipv4.to_string(),
                "instanceType": id.instance_type,
            })
            .to_string(),
        ),
        _ => None,
    };
    match value {
        Some(v) => text(StatusCode::OK, v),
        None => not_found(),
    }
}
