//! The instance metadata service, IMDSv2 only: a session token first, then every read with it.

use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::HookError;

/// The longest session token EC2 issues (6 h), the default.
pub const MAX_TOKEN_TTL_SECONDS: u64 = 21600;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Who this instance is, as the metadata service says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub instance_id: String,
    pub region: String,
    /// The public address when the instance has one, else the private one: the address the
    /// server's A record points at.
    pub address: Ipv4Addr,
    pub public: bool,
}

/// The Auto Scaling target lifecycle state of the instance (`autoscaling/target-lifecycle-state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetState {
    InService,
    /// The terminating lifecycle hook holds the instance (or it is about to terminate).
    Terminated,
    /// On standby (from `EnteringStandby` on): in the group, but to take no traffic.
    Standby,
    /// Detached from the group, still running.
    Detached,
    /// Any other value (`Pending`, `Warmed:*`, ...).
    Other(String),
}

impl TargetState {
    fn parse(value: &str) -> Self {
        match value {
            "InService" => Self::InService,
            "Terminated" => Self::Terminated,
            "Standby" => Self::Standby,
            "Detached" => Self::Detached,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::InService => "InService",
            Self::Terminated => "Terminated",
            Self::Standby => "Standby",
            Self::Detached => "Detached",
            Self::Other(s) => s,
        }
    }
}

/// A session token and when it was issued.
struct Token {
    value: String,
    issued: Instant,
}

/// An IMDSv2 session. The token is renewed before its TTL runs out (at three quarters of it)
/// and once on a 401 (an expired or revoked token), so a process may live longer than a TTL.
pub struct Imds {
    http: reqwest::Client,
    base: String,
    ttl: Duration,
    token: Mutex<Option<Token>>,
}

impl Imds {
    /// Opens a session (`PUT /latest/api/token`) asking for tokens of `ttl` (1 s to 6 h, as
    /// EC2 accepts).
    pub async fn connect(
        endpoint: &str,
        timeout: Duration,
        ttl: Duration,
    ) -> Result<Self, HookError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| HookError::Metadata(format!("HTTP client: {e}")))?;
        let imds = Self {
            http,
            base: endpoint.trim_end_matches('/').to_owned(),
            ttl,
            token: Mutex::new(None),
        };
        imds.renew().await?;
        Ok(imds)
    }

    /// A new token. Retries a few times: the metadata service can be slow to answer right
    /// after boot.
    async fn renew(&self) -> Result<String, HookError> {
        let base = &self.base;
        let mut last = String::new();
        for attempt in 0..4u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            let issued = Instant::now();
            let resp = self
                .http
                .put(format!("{base}/latest/api/token"))
                .header(
                    "X-aws-ec2-metadata-token-ttl-seconds",
                    self.ttl.as_secs().to_string(),
                )
                .send()
                .await;
            match resp {
                Ok(r) if r.status().is_success() => {
                    let value = r
                        .text()
                        .await
                        .map_err(|e| HookError::Metadata(format!("token: {e}")))?;
                    *lock(&self.token) = Some(Token {
                        value: value.clone(),
                        issued,
                    });
                    tracing::debug!(ttl_s = self.ttl.as_secs(), "metadata session token issued");
                    return Ok(value);
                }
                Ok(r) => last = format!("token request answered HTTP {}", r.status().as_u16()),
                Err(e) => last = format!("token request failed: {e}"),
            }
        }
        Err(HookError::Metadata(format!("{last} (at {base})")))
    }

    /// The current token, renewed first when three quarters of its TTL have passed.
    async fn token(&self) -> Result<String, HookError> {
        let current = lock(&self.token)
            .as_ref()
            .filter(|t| t.issued.elapsed() < self.ttl * 3 / 4)
            .map(|t| t.value.clone());
        match current {
            Some(t) => Ok(t),
            None => self.renew().await,
        }
    }

    /// One metadata value; `Ok(None)` when the path does not exist (HTTP 404). A 401 (token
    /// expired or revoked) is retried once with a fresh token.
    pub async fn get(&self, path: &str) -> Result<Option<String>, HookError> {
        let url = format!("{}/latest/{path}", self.base);
        let mut last = String::new();
        let mut renewed = false;
        let mut token = self.token().await?;
        let mut attempt = 0u32;
        while attempt < 3 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            attempt += 1;
            match self
                .http
                .get(&url)
                .header("X-aws-ec2-metadata-token", &token)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => {
                    return r
                        .text()
                        .await
                        .map(|t| Some(t.trim().to_owned()))
                        .map_err(|e| HookError::Metadata(format!("{path}: {e}")))
                }
                Ok(r) if r.status().as_u16() == 404 => return Ok(None),
                Ok(r) if r.status().as_u16() == 401 && !renewed => {
                    tracing::info!(path, "metadata session token refused (expired?), renewing");
                    renewed = true;
                    attempt -= 1;
                    token = self.renew().await?;
                }
                Ok(r) if r.status().as_u16() == 401 => {
                    return Err(HookError::Metadata(format!(
                        "{path}: HTTP 401, a fresh session token was refused too"
                    )))
                }
                Ok(r) => last = format!("{path}: HTTP {}", r.status().as_u16()),
                Err(e) => last = format!("{path}: {e}"),
            }
        }
        Err(HookError::Metadata(last))
    }

    async fn require(&self, path: &str) -> Result<String, HookError> {
        self.get(path)
            .await?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| HookError::Metadata(format!("{path}: not present")))
    }

    /// Instance id, region and address, read concurrently.
    pub async fn identity(&self) -> Result<Identity, HookError> {
        let (id, region, public, local) = tokio::try_join!(
            self.require("meta-data/instance-id"),
            self.require("meta-data/placement/region"),
            self.get("meta-data/public-ipv4"),
            self.require("meta-data/local-ipv4"),
        )?;
        let parse = |what: &str, v: &str| {
            v.parse::<Ipv4Addr>()
                .map_err(|_| HookError::Metadata(format!("{what} is not an IPv4 address: {v:?}")))
        };
        let (address, public) = match public.filter(|p| !p.is_empty()) {
            Some(p) => (parse("public-ipv4", &p)?, true),
            None => (parse("local-ipv4", &local)?, false),
        };
        Ok(Identity {
            instance_id: id,
            region,
            address,
            public,
        })
    }

    /// The Auto Scaling target lifecycle state; `None` outside an Auto Scaling group.
    pub async fn target_lifecycle_state(&self) -> Result<Option<TargetState>, HookError> {
        Ok(self
            .get("meta-data/autoscaling/target-lifecycle-state")
            .await?
            .map(|s| TargetState::parse(&s)))
    }
}
