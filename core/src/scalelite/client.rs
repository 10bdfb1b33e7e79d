//! Client for Scalelite's server API (`<base>/scalelite/api/`).

use super::error::ScaleliteError;
use super::types::{kind, server_from_json, NewServer, Server, ServerUpdate};
use crate::checksum::{self, ChecksumAlgorithm};
use crate::http::{self, RawResponse, RetryPolicy, TransportFailure};
use crate::secret::Secret;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// How long an idle connection to Scalelite is kept for the next call.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How to reach a Scalelite.
#[derive(Clone, Debug)]
pub struct ScaleliteConfig {
    /// Scalelite's base URL, e.g. `https://scalelite.example.com` (the client appends
    /// `/scalelite/api/<call>`).
    pub base_url: String,
    /// One of Scalelite's `LOADBALANCER_SECRET`s.
    pub secret: Secret,
    /// Per-request timeout (connect + answer).
    pub timeout: Duration,
    /// Retries after the first attempt, for calls that are safe to repeat.
    pub max_retries: u32,
}

impl ScaleliteConfig {
    /// A configuration with a 10 s timeout and 3 retries.
    pub fn new(base_url: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self {
            base_url: base_url.into(),
            secret: secret.into(),
            timeout: Duration::from_secs(10),
            max_retries: 3,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// A client for one Scalelite. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ScaleliteClient {
    http: reqwest::Client,
    api_base: String,
    secret: Secret,
    algorithm: ChecksumAlgorithm,
    timeout: Duration,
    policy: RetryPolicy,
}

impl ScaleliteClient {
    /// Validates the configuration and builds the client (SHA-256 checksums, 250 ms initial
    /// retry backoff).
    pub fn new(config: ScaleliteConfig) -> Result<Self, ScaleliteError> {
        let base = config.base_url.trim().trim_end_matches('/');
        let parsed = url::Url::parse(base)
            .map_err(|e| ScaleliteError::Config(format!("base_url is not a valid URL: {e}")))?;
        if parsed.scheme() != "http" && parsed.scheme() != "https" {
            return Err(ScaleliteError::Config(
                "base_url must use http or https".to_owned(),
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(ScaleliteError::Config(
                "base_url must not carry a query or fragment".to_owned(),
            ));
        }
        if config.secret.is_empty() {
            return Err(ScaleliteError::Config("secret is empty".to_owned()));
        }
        if config.timeout.is_zero() {
            return Err(ScaleliteError::Config(
                "timeout must be positive".to_owned(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // Under nginx's default 75 s `keepalive_timeout` (Scalelite's nginx keeps it; reqwest's
            // own default is 90 s, above it) and the NLB's 350 s: a kept connection is dropped here
            // before the proxy closes it under a request, which a call not retried (`addServer`)
            // would fail on.
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ScaleliteError::Config(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self {
            http,
            api_base: format!("{base}/scalelite/api/"),
            secret: config.secret,
            algorithm: ChecksumAlgorithm::Sha256,
            timeout: config.timeout,
            policy: RetryPolicy {
                max_retries: config.max_retries,
                base_delay: Duration::from_millis(250),
            },
        })
    }

    /// Signs with `algorithm` instead of SHA-256. Scalelite does not accept SHA-384.
    pub fn with_checksum_algorithm(
        mut self,
        algorithm: ChecksumAlgorithm,
    ) -> Result<Self, ScaleliteError> {
        if algorithm == ChecksumAlgorithm::Sha384 {
            return Err(ScaleliteError::Config(
                "Scalelite does not accept SHA-384 checksums".to_owned(),
            ));
        }
        self.algorithm = algorithm;
        Ok(self)
    }

    /// Sets the first retry delay (doubled on each further retry, capped at 10 s).
    pub fn with_retry_backoff(mut self, base_delay: Duration) -> Self {
        self.policy.base_delay = base_delay;
        self
    }

    /// `GET getServers`: every server. Scalelite answers an empty pool with
    /// 404 `{"error":"No servers are configured"}`; that becomes an empty list.
    pub async fn get_servers(&self) -> Result<Vec<Server>, ScaleliteError> {
        const CALL: &str = "getServers";
        let (resp, _) = self.request(CALL, Method::Get, &[], None, true).await?;
        match resp.status {
            200 => {
                let v = json_body(CALL, &resp)?;
                let items = v.as_array().ok_or_else(|| {
                    unexpected(CALL, &resp, format!("expected a list, got {}", kind(&v)))
                })?;
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        server_from_json(item)
                            .map_err(|e| unexpected(CALL, &resp, format!("server #{i}: {e}")))
                    })
                    .collect()
            }
            404 => match json_error(&resp) {
                Some(e) if e == "No servers are configured" => Ok(Vec::new()),
                _ => Err(error_status(CALL, &resp, Method::Get)),
            },
            _ => Err(error_status(CALL, &resp, Method::Get)),
        }
    }

    /// `GET getServerInfo?id=`: one server, `None` when Scalelite answers 404 for the id.
    pub async fn get_server(&self, id: &str) -> Result<Option<Server>, ScaleliteError> {
        const CALL: &str = "getServerInfo";
        let (resp, _) = self
            .request(CALL, Method::Get, &[("id", id)], None, true)
            .await?;
        match resp.status {
            200 => Ok(Some(self.server_body(CALL, &resp)?)),
            404 if json_error(&resp).is_some() => Ok(None),
            _ => Err(error_status(CALL, &resp, Method::Get)),
        }
    }

    /// `POST addServer`: registers a server (Scalelite adds it disabled and offline). Never
    /// retried: Scalelite does not deduplicate by URL, so a retry could register it twice.
    pub async fn add_server(&self, server: NewServer) -> Result<Server, ScaleliteError> {
        const CALL: &str = "addServer";
        let mut inner = Map::new();
        inner.insert("url".into(), Value::String(server.url));
        inner.insert(
            "secret".into(),
            Value::String(server.secret.expose().to_owned()),
        );
        if let Some(m) = server.load_multiplier {
            inner.insert("load_multiplier".into(), number(CALL, m)?);
        }
        if let Some(tag) = server.tag {
            inner.insert("tag".into(), Value::String(tag));
        }
        let body = json!({ "server": Value::Object(inner) });
        let (resp, _) = self
            .request(CALL, Method::Post, &[], Some(body), false)
            .await?;
        match resp.status {
            200 | 201 => self.server_body(CALL, &resp),
            _ => Err(error_status(CALL, &resp, Method::Post)),
        }
    }

    /// `POST updateServer`: applies `update` (state, load multiplier, secret, tag) and returns
    /// the server as Scalelite reports it afterwards. Retried on transport errors and 5xx (the
    /// update sets absolute values, so repeating it is harmless).
    pub async fn update_server(
        &self,
        id: &str,
        update: ServerUpdate,
    ) -> Result<Server, ScaleliteError> {
        const CALL: &str = "updateServer";
        let mut inner = Map::new();
        if let Some(state) = update.state {
            inner.insert("state".into(), Value::String(state.as_str().to_owned()));
        }
        if let Some(m) = update.load_multiplier {
            if m == 0.0 {
                return Err(ScaleliteError::InvalidArgument {
                    call: CALL.to_owned(),
                    reason: "load_multiplier must be a non-zero number".to_owned(),
                });
            }
            inner.insert("load_multiplier".into(), number(CALL, m)?);
        }
        if let Some(secret) = update.secret {
            inner.insert("secret".into(), Value::String(secret.expose().to_owned()));
        }
        if let Some(tag) = update.tag {
            inner.insert("tag".into(), Value::String(tag));
        }
        if inner.is_empty() {
            // Scalelite refuses an empty `server` object; answer with the current state instead.
            return self
                .get_server(id)
                .await?
                .ok_or_else(|| ScaleliteError::NotFound {
                    call: CALL.to_owned(),
                    error: format!("Couldn't find server with id={id}"),
                });
        }
        let body = json!({ "id": id, "server": Value::Object(inner) });
        let (resp, _) = self
            .request(CALL, Method::Post, &[], Some(body), true)
            .await?;
        match resp.status {
            200 => self.server_body(CALL, &resp),
            _ => Err(error_status(CALL, &resp, Method::Post)),
        }
    }

    /// `POST deleteServer`. Scalelite does not end the meetings it placed there: cordon the
    /// server and wait for it to drain first. Retried on transport errors and 5xx; a 404 on a
    /// retry counts as success (an earlier attempt deleted it).
    pub async fn delete_server(&self, id: &str) -> Result<(), ScaleliteError> {
        const CALL: &str = "deleteServer";
        let body = json!({ "id": id });
        let (resp, attempts) = self
            .request(CALL, Method::Post, &[], Some(body), true)
            .await?;
        match resp.status {
            200 => success_body(CALL, &resp),
            404 if attempts > 1 && json_error(&resp).is_some() => Ok(()),
            _ => Err(error_status(CALL, &resp, Method::Post)),
        }
    }

    /// `POST panicServer`: Scalelite forgets the server's meetings (ending them on BBB) and
    /// disables it, unless `keep_state`. Not retried.
    pub async fn panic_server(&self, id: &str, keep_state: bool) -> Result<(), ScaleliteError> {
        const CALL: &str = "panicServer";
        // Scalelite reads `keep_state` at the top level (`params.permit(:keep_state)`).
        let body = json!({ "id": id, "keep_state": keep_state });
        let (resp, _) = self
            .request(CALL, Method::Post, &[], Some(body), false)
            .await?;
        match resp.status {
            200 => success_body(CALL, &resp),
            _ => Err(error_status(CALL, &resp, Method::Post)),
        }
    }

    fn server_body(&self, call: &str, resp: &RawResponse) -> Result<Server, ScaleliteError> {
        let v = json_body(call, resp)?;
        server_from_json(&v).map_err(|e| unexpected(call, resp, e))
    }

    /// Sends one call; returns any HTTP answer that is not a 5xx or an XML FAILED document.
    async fn request(
        &self,
        call: &'static str,
        method: Method,
        query: &[(&str, &str)],
        body: Option<Value>,
        retryable: bool,
    ) -> Result<(RawResponse, u32), ScaleliteError> {
        let signed = checksum::encode_query(query);
        let sum = checksum::checksum(self.algorithm, call, &signed, &self.secret);
        let full_query = if signed.is_empty() {
            format!("checksum={sum}")
        } else {
            format!("{signed}&checksum={sum}")
        };
        let url = format!("{}{call}?{full_query}", self.api_base);
        let outcome = http::send("scalelite", call, retryable, self.policy, || {
            let builder = match method {
                Method::Get => self.http.get(&url),
                Method::Post => self.http.post(&url),
            };
            match &body {
                Some(b) => builder.json(b),
                None => builder,
            }
        })
        .await;
        let attempts = outcome.attempts;
        let resp = match outcome.result {
            Ok(resp) => resp,
            Err(TransportFailure::Timeout) => {
                return Err(ScaleliteError::Timeout {
                    call: call.to_owned(),
                    timeout: self.timeout,
                    attempts,
                })
            }
            Err(TransportFailure::Other(message)) => {
                return Err(ScaleliteError::Transport {
                    call: call.to_owned(),
                    message,
                    attempts,
                })
            }
        };
        if resp.status >= 500 {
            // A crashing Rails app in development mode echoes the request's parameters, and a
            // POST's carry BBB secrets: only a GET's body (which never does) is excerpted.
            let body = match method {
                Method::Get => http::excerpt(&resp.body, 200),
                Method::Post => "(body of the answer to a POST not shown)".to_owned(),
            };
            return Err(ScaleliteError::Server {
                call: call.to_owned(),
                status: resp.status,
                body,
                attempts,
            });
        }
        if resp.body.trim_start().starts_with('<') {
            if let Some(Err(failure)) = http::parse_response_xml(&resp.body) {
                return Err(ScaleliteError::Failed {
                    call: call.to_owned(),
                    message_key: failure.message_key,
                    message: failure.message,
                });
            }
        }
        Ok((resp, attempts))
    }
}

fn number(call: &str, value: f64) -> Result<Value, ScaleliteError> {
    serde_json::Number::from_f64(value)
        .map(Value::Number)
        .ok_or_else(|| ScaleliteError::InvalidArgument {
            call: call.to_owned(),
            reason: "load_multiplier must be a finite number".to_owned(),
        })
}

fn json_body(call: &str, resp: &RawResponse) -> Result<Value, ScaleliteError> {
    serde_json::from_str(&resp.body)
        .map_err(|e| unexpected(call, resp, format!("body is not JSON ({e})")))
}

/// The `error` string of a `{"error": "..."}` body.
fn json_error(resp: &RawResponse) -> Option<String> {
    let v: Value = serde_json::from_str(&resp.body).ok()?;
    v.get("error")?.as_str().map(str::to_owned)
}

fn success_body(call: &str, resp: &RawResponse) -> Result<(), ScaleliteError> {
    let v = json_body(call, resp)?;
    if v.get("success").is_some_and(Value::is_string) {
        Ok(())
    } else {
        Err(unexpected(
            call,
            resp,
            "expected {\"success\": ...}".to_owned(),
        ))
    }
}

/// Detail of a successful answer whose shape is wrong. Only describes the shape: the body of a
/// successful answer carries BBB secrets.
fn unexpected(call: &str, resp: &RawResponse, detail: String) -> ScaleliteError {
    ScaleliteError::UnexpectedResponse {
        call: call.to_owned(),
        status: resp.status,
        detail,
    }
}

/// Maps a 4xx (or otherwise unexpected) answer to an error. The body of an unexpected answer
/// is excerpted for a GET only: an error page answering a POST may echo its secret.
fn error_status(call: &str, resp: &RawResponse, method: Method) -> ScaleliteError {
    match (resp.status, json_error(resp)) {
        (404, Some(error)) => ScaleliteError::NotFound {
            call: call.to_owned(),
            error,
        },
        (400..=499, Some(error)) => ScaleliteError::Rejected {
            call: call.to_owned(),
            status: resp.status,
            error,
        },
        (status, _) if (200..300).contains(&status) => unexpected(
            call,
            resp,
            format!("HTTP {status} is not an answer Scalelite gives to {call}"),
        ),
        _ => unexpected(
            call,
            resp,
            format!(
                "{} body: {}",
                resp.content_type.as_deref().unwrap_or("untyped"),
                match method {
                    Method::Get => http::excerpt(&resp.body, 200),
                    Method::Post => format!("{} bytes, not shown", resp.body.len()),
                }
            ),
        ),
    }
}
