//! Every way a BBB API call can fail.

use std::time::Duration;
use thiserror::Error;

/// A failed BBB API call. The text never contains the secret, a checksum or a request URL.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BbbError {
    #[error("invalid BBB client configuration: {0}")]
    Config(String),

    #[error("BBB {call}: no answer within {timeout:?} (after {attempts} attempt(s))")]
    Timeout {
        call: String,
        timeout: Duration,
        attempts: u32,
    },

    #[error("BBB {call}: transport error after {attempts} attempt(s): {message}")]
    Transport {
        call: String,
        message: String,
        attempts: u32,
    },

    /// A non-200 HTTP status (bbb-web down behind nginx: 502; unknown call: 404; ...).
    #[error("BBB {call}: HTTP {status}: {body}")]
    Http {
        call: String,
        status: u16,
        body: String,
    },

    /// `<returncode>FAILED</returncode>` with its `messageKey` (`checksumError`, `notFound`,
    /// `missingParamMeetingID`, ...).
    #[error("BBB {call}: FAILED {message_key}: {message}")]
    Failed {
        call: String,
        message_key: String,
        message: String,
    },

    #[error("BBB {call}: unexpected response: {detail}")]
    UnexpectedResponse { call: String, detail: String },
}

impl BbbError {
    /// The `messageKey` of a FAILED answer.
    pub fn message_key(&self) -> Option<&str> {
        match self {
            Self::Failed { message_key, .. } => Some(message_key),
            _ => None,
        }
    }

    /// Whether BBB refused the checksum (wrong secret or algorithm).
    pub fn is_checksum_error(&self) -> bool {
        self.message_key() == Some("checksumError")
    }

    /// Whether the failure is transient (transport, timeout, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Transport { .. } => true,
            Self::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}
