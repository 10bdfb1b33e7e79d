//! Client for one BBB server's API (`https://host/bigbluebutton/api`).

use super::error::BbbError;
use super::types::{meeting_from_xml, ApiVersion, Meeting};
use crate::checksum::{self, ChecksumAlgorithm};
use crate::http::{self, child_text, RawResponse, RetryPolicy, TransportFailure};
use crate::secret::Secret;
use crate::server_url::{normalize_bbb_api_url, BBB_API_PATH};
use std::time::Duration;

/// How to reach one BBB server.
#[derive(Clone, Debug)]
pub struct BbbConfig {
    /// The API URL, ending with `/bigbluebutton/api` (normalised by [`BbbClient::new`]).
    pub api_url: String,
    /// The server's shared secret (`securitySalt`).
    pub secret: Secret,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Checksum algorithm; must be in the server's `supportedChecksumAlgorithms`.
    pub checksum_algorithm: ChecksumAlgorithm,
}

impl BbbConfig {
    /// A configuration with a 10 s timeout and SHA-256 checksums.
    pub fn new(api_url: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self {
            api_url: api_url.into(),
            secret: secret.into(),
            timeout: Duration::from_secs(10),
            checksum_algorithm: ChecksumAlgorithm::Sha256,
        }
    }
}

/// Outcome of `create`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedMeeting {
    pub meeting_id: String,
    pub internal_meeting_id: Option<String>,
    /// `true` when the meeting already existed (`messageKey` `duplicateWarning`).
    pub duplicate: bool,
}

/// A client for one BBB server. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BbbClient {
    http: reqwest::Client,
    api_url: String,
    secret: Secret,
    algorithm: ChecksumAlgorithm,
    timeout: Duration,
    policy: RetryPolicy,
}

impl BbbClient {
    /// Validates the configuration (the URL is normalised to end with `/bigbluebutton/api`).
    /// Read-only calls are retried twice on transport errors and 5xx.
    pub fn new(config: BbbConfig) -> Result<Self, BbbError> {
        let api_url =
            normalize_bbb_api_url(&config.api_url).map_err(|e| BbbError::Config(e.to_string()))?;
        debug_assert!(api_url.ends_with(BBB_API_PATH));
        if config.secret.is_empty() {
            return Err(BbbError::Config("secret is empty".to_owned()));
        }
        if config.timeout.is_zero() {
            return Err(BbbError::Config("timeout must be positive".to_owned()));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| BbbError::Config(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self {
            http,
            api_url,
            secret: config.secret,
            algorithm: config.checksum_algorithm,
            timeout: config.timeout,
            policy: RetryPolicy {
                max_retries: 2,
                base_delay: Duration::from_millis(250),
            },
        })
    }

    /// Sets how often read-only calls are retried and the first backoff delay.
    pub fn with_retries(mut self, max_retries: u32, base_delay: Duration) -> Self {
        self.policy = RetryPolicy {
            max_retries,
            base_delay,
        };
        self
    }

    /// The normalised API URL.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The API root: version information. No checksum needed.
    pub async fn api_version(&self) -> Result<ApiVersion, BbbError> {
        let body = self.request("version", None, &[], true).await?;
        let doc = parse_success("version", &body)?;
        let root = doc.root_element();
        let version = child_text(root, "version").ok_or_else(|| BbbError::UnexpectedResponse {
            call: "version".to_owned(),
            detail: "no <version> element".to_owned(),
        })?;
        Ok(ApiVersion {
            version,
            api_version: child_text(root, "apiVersion").filter(|v| !v.is_empty()),
            bbb_version: child_text(root, "bbbVersion").filter(|v| !v.is_empty()),
        })
    }

    /// `getMeetings`: every meeting on the server, breakout rooms and created-but-unjoined
    /// meetings included. `noMeetings` becomes an empty list.
    pub async fn get_meetings(&self) -> Result<Vec<Meeting>, BbbError> {
        const CALL: &str = "getMeetings";
        let body = self.request(CALL, Some(CALL), &[], true).await?;
        let doc = parse_success(CALL, &body)?;
        let root = doc.root_element();
        let Some(meetings) = root
            .children()
            .find(|c| c.is_element() && c.tag_name().name() == "meetings")
        else {
            return if child_text(root, "messageKey").as_deref() == Some("noMeetings") {
                Ok(Vec::new())
            } else {
                Err(BbbError::UnexpectedResponse {
                    call: CALL.to_owned(),
                    detail: "no <meetings> element".to_owned(),
                })
            };
        };
        meetings
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "meeting")
            .map(|m| {
                meeting_from_xml(m).map_err(|detail| BbbError::UnexpectedResponse {
                    call: CALL.to_owned(),
                    detail,
                })
            })
            .collect()
    }

    /// `create`: starts (creates) a meeting. Not retried.
    pub async fn create_meeting(
        &self,
        meeting_id: &str,
        name: &str,
    ) -> Result<CreatedMeeting, BbbError> {
        const CALL: &str = "create";
        let body = self
            .request(
                CALL,
                Some(CALL),
                &[("meetingID", meeting_id), ("name", name)],
                false,
            )
            .await?;
        let doc = parse_success(CALL, &body)?;
        let root = doc.root_element();
        Ok(CreatedMeeting {
            meeting_id: child_text(root, "meetingID").unwrap_or_else(|| meeting_id.to_owned()),
            internal_meeting_id: child_text(root, "internalMeetingID").filter(|v| !v.is_empty()),
            duplicate: child_text(root, "messageKey").as_deref() == Some("duplicateWarning"),
        })
    }

    /// `end`: ends a meeting (and its breakout rooms). Unknown meetings fail with `notFound`.
    pub async fn end_meeting(&self, meeting_id: &str) -> Result<(), BbbError> {
        const CALL: &str = "end";
        let body = self
            .request(CALL, Some(CALL), &[("meetingID", meeting_id)], false)
            .await?;
        parse_success(CALL, &body).map(|_| ())
    }

    /// Sends a GET; `signed_call` is `None` for the unsigned API root.
    async fn request(
        &self,
        call: &'static str,
        signed_call: Option<&str>,
        query: &[(&str, &str)],
        retryable: bool,
    ) -> Result<String, BbbError> {
        let url = match signed_call {
            None => self.api_url.clone(),
            Some(name) => {
                let q = checksum::encode_query(query);
                let sum = checksum::checksum(self.algorithm, name, &q, &self.secret);
                if q.is_empty() {
                    format!("{}/{name}?checksum={sum}", self.api_url)
                } else {
                    format!("{}/{name}?{q}&checksum={sum}", self.api_url)
                }
            }
        };
        let outcome = http::send("bbb", call, retryable, self.policy, || self.http.get(&url)).await;
        let attempts = outcome.attempts;
        match outcome.result {
            Err(TransportFailure::Timeout) => Err(BbbError::Timeout {
                call: call.to_owned(),
                timeout: self.timeout,
                attempts,
            }),
            Err(TransportFailure::Other(message)) => Err(BbbError::Transport {
                call: call.to_owned(),
                message,
                attempts,
            }),
            Ok(RawResponse { status, body, .. }) if status != 200 => {
                // A FAILED document is still a FAILED document, whatever the status.
                if let Some(Err(f)) = http::parse_response_xml(&body) {
                    return Err(BbbError::Failed {
                        call: call.to_owned(),
                        message_key: f.message_key,
                        message: f.message,
                    });
                }
                Err(BbbError::Http {
                    call: call.to_owned(),
                    status,
                    body: http::excerpt(&body, 200),
                })
            }
            Ok(resp) => Ok(resp.body),
        }
    }
}

fn parse_success<'a>(call: &str, body: &'a str) -> Result<roxmltree::Document<'a>, BbbError> {
    match http::parse_response_xml(body) {
        Some(Ok(doc)) => Ok(doc),
        Some(Err(f)) => Err(BbbError::Failed {
            call: call.to_owned(),
            message_key: f.message_key,
            message: f.message,
        }),
        None => Err(BbbError::UnexpectedResponse {
            call: call.to_owned(),
            detail: format!(
                "not a BBB <response> document: {}",
                http::excerpt(body, 200)
            ),
        }),
    }
}
