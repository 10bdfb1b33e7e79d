//! The instance metadata service, IMDSv2 only: a session token first, then every read with it.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::error::HookError;

const TOKEN_TTL_SECONDS: &str = "21600";

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

/// An IMDSv2 session.
pub struct Imds {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Imds {
    /// Opens a session (`PUT /latest/api/token`). Retries a few times: the metadata service
    /// can be slow to answer right after boot.
    pub async fn connect(endpoint: &str, timeout: Duration) -> Result<Self, HookError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| HookError::Metadata(format!("HTTP client: {e}")))?;
        let base = endpoint.trim_end_matches('/').to_owned();
        let mut last = String::new();
        for attempt in 0..4u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            let resp = http
                .put(format!("{base}/latest/api/token"))
                .header("X-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS)
                .send()
                .await;
            match resp {
                Ok(r) if r.status().is_success() => {
                    let token = r
                        .text()
                        .await
                        .map_err(|e| HookError::Metadata(format!("token: {e}")))?;
                    return Ok(Self { http, base, token });
                }
                Ok(r) => last = format!("token request answered HTTP {}", r.status().as_u16()),
                Err(e) => last = format!("token request failed: {e}"),
            }
        }
        Err(HookError::Metadata(format!("{last} (at {base})")))
    }

    /// One metadata value; `Ok(None)` when the path does not exist (HTTP 404).
    pub async fn get(&self, path: &str) -> Result<Option<String>, HookError> {
        let url = format!("{}/latest/{path}", self.base);
        let mut last = String::new();
        for attempt in 0..3u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            match self
                .http
                .get(&url)
                .header("X-aws-ec2-metadata-token", &self.token)
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
                Ok(r) if r.status().as_u16() == 401 => {
                    return Err(HookError::Metadata(format!(
                        "{path}: HTTP 401, the session token was refused"
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

    /// The Auto Scaling target lifecycle state (`InService`, `Terminated`, ...); `None` outside
    /// an Auto Scaling group.
    pub async fn target_lifecycle_state(&self) -> Result<Option<String>, HookError> {
        self.get("meta-data/autoscaling/target-lifecycle-state")
            .await
    }
}
