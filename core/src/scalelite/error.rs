//! Every way a Scalelite server-API call can fail.

use std::time::Duration;
use thiserror::Error;

/// A failed Scalelite call. The text never contains a secret, a checksum or a request URL.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScaleliteError {
    /// The client configuration is unusable (bad base URL, empty secret, ...).
    #[error("invalid Scalelite client configuration: {0}")]
    Config(String),

    /// A value the caller passed cannot be sent (for example a non-finite load multiplier).
    #[error("invalid argument for Scalelite {call}: {reason}")]
    InvalidArgument { call: String, reason: String },

    /// No answer within the configured timeout.
    #[error("Scalelite {call}: no answer within {timeout:?} (after {attempts} attempt(s))")]
    Timeout {
        call: String,
        timeout: Duration,
        attempts: u32,
    },

    /// The connection failed (DNS, refused, TLS, reset, ...).
    #[error("Scalelite {call}: transport error after {attempts} attempt(s): {message}")]
    Transport {
        call: String,
        message: String,
        attempts: u32,
    },

    /// HTTP 5xx (Scalelite crashed, or a proxy in front of it failed).
    #[error("Scalelite {call}: HTTP {status} after {attempts} attempt(s): {body}")]
    Server {
        call: String,
        status: u16,
        body: String,
        attempts: u32,
    },

    /// An HTTP 200 XML document with `returncode` FAILED: `checksumError` (wrong secret or
    /// checksum), `unsupportedRequest` (wrong method or path), `unsupportedContentType` (body not
    /// JSON), `internalError` (for example a missing `server` key on addServer), ...
    #[error("Scalelite {call}: FAILED {message_key}: {message}")]
    Failed {
        call: String,
        message_key: String,
        message: String,
    },

    /// HTTP 404 `{"error": ...}`: no server with that id.
    #[error("Scalelite {call}: not found: {error}")]
    NotFound { call: String, error: String },

    /// HTTP 400 (or another 4xx) `{"error": ...}`: a value Scalelite refused, such as a zero load
    /// multiplier or an unknown state.
    #[error("Scalelite {call}: HTTP {status}: {error}")]
    Rejected {
        call: String,
        status: u16,
        error: String,
    },

    /// An answer of a shape Scalelite does not send for this call.
    #[error("Scalelite {call}: unexpected response (HTTP {status}): {detail}")]
    UnexpectedResponse {
        call: String,
        status: u16,
        detail: String,
    },
}

impl ScaleliteError {
    /// The call name (`getServers`, `addServer`, ...), when the error belongs to a call.
    pub fn call(&self) -> Option<&str> {
        match self {
            Self::Config(_) => None,
            Self::InvalidArgument { call, .. }
            | Self::Timeout { call, .. }
            | Self::Transport { call, .. }
            | Self::Server { call, .. }
            | Self::Failed { call, .. }
            | Self::NotFound { call, .. }
            | Self::Rejected { call, .. }
            | Self::UnexpectedResponse { call, .. } => Some(call),
        }
    }

    /// The `messageKey` of a FAILED document.
    pub fn message_key(&self) -> Option<&str> {
        match self {
            Self::Failed { message_key, .. } => Some(message_key),
            _ => None,
        }
    }

    /// Whether Scalelite answered with a checksum error (wrong secret).
    pub fn is_checksum_error(&self) -> bool {
        self.message_key() == Some("checksumError")
    }

    /// Whether this is a 404 for an unknown server id.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Whether the failure is transient (transport, timeout, 5xx): worth retrying later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. } | Self::Transport { .. } | Self::Server { .. }
        )
    }
}
