//! The hook's errors and the exit codes systemd sees (sysexits.h values).

use bbb_core::aws::AwsError;
use bbb_core::bbb::BbbError;
use bbb_core::scalelite::ScaleliteError;
use thiserror::Error;

/// Exit code of a bad command line (`EX_USAGE`).
pub const EXIT_USAGE: u8 = 64;
/// Exit code of a temporary failure worth a restart (`EX_TEMPFAIL`).
pub const EXIT_TEMPFAIL: u8 = 75;
/// Exit code of a configuration error that a restart cannot fix (`EX_CONFIG`); also of a
/// launch refused because the instance is being terminated, or given up after reporting the
/// instance unhealthy, which a restart cannot fix either (the units' `RestartPreventExitStatus=`
/// lists it).
pub const EXIT_CONFIG: u8 = 78;

/// Why a command failed. The text never carries a secret.
#[derive(Debug, Error)]
pub enum HookError {
    /// The fleet configuration, the environment or BBB's configuration is unusable.
    #[error("configuration error: {0}")]
    Config(String),

    /// Launch refused: the instance's terminating lifecycle action drained it, it never joins
    /// the fleet again. Not a configuration error, but no restart can change it either.
    #[error("launch refused: {0}")]
    Terminating(String),

    /// Stopped by SIGTERM or SIGINT before the work was done; what was done is saved, and
    /// running the command again goes on from there.
    #[error("stopped by a signal before finishing: {0}")]
    Interrupted(&'static str),

    /// The group did not put the instance in service in time after its launching action was
    /// completed; a restart waits again.
    #[error("not in service: {0}")]
    NotInService(String),

    /// The instance is in no Auto Scaling group (detached, or launched outside the group): it
    /// joins the fleet once attached, as AWS runs no launching hook on `AttachInstances`.
    #[error("outside the Auto Scaling group: {0}")]
    OutOfGroup(String),

    /// Launch could not join the fleet in time after the launching action and reported the
    /// instance unhealthy, so that the group replaces it; no restart can change that.
    #[error("could not join the fleet: {0}")]
    ReportedUnhealthy(String),

    /// The instance metadata service failed.
    #[error("instance metadata: {0}")]
    Metadata(String),

    #[error("{step}: {source}")]
    Aws {
        step: &'static str,
        #[source]
        source: Box<AwsError>,
    },

    #[error("{step}: {source}")]
    Scalelite {
        step: &'static str,
        #[source]
        source: Box<ScaleliteError>,
    },

    #[error("{step}: {source}")]
    Bbb {
        step: &'static str,
        #[source]
        source: Box<BbbError>,
    },

    /// Local files (the state directory, BBB's recording status).
    #[error("{0}")]
    Io(String),
}

impl HookError {
    pub fn aws(step: &'static str) -> impl FnOnce(AwsError) -> Self {
        move |source| Self::Aws {
            step,
            source: Box::new(source),
        }
    }

    pub fn scalelite(step: &'static str) -> impl FnOnce(ScaleliteError) -> Self {
        move |source| Self::Scalelite {
            step,
            source: Box::new(source),
        }
    }

    pub fn bbb(step: &'static str) -> impl FnOnce(BbbError) -> Self {
        move |source| Self::Bbb {
            step,
            source: Box::new(source),
        }
    }

    /// Whether Scalelite refused the secret the request was signed with.
    pub fn is_checksum_error(&self) -> bool {
        matches!(self, Self::Scalelite { source, .. } if source.is_checksum_error())
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Terminating(_) | Self::ReportedUnhealthy(_) => EXIT_CONFIG,
            Self::Interrupted(_) | Self::NotInService(_) | Self::OutOfGroup(_) => EXIT_TEMPFAIL,
            Self::Scalelite { .. } if self.is_checksum_error() => EXIT_CONFIG,
            Self::Aws { source, .. } if matches!(**source, AwsError::Config(_)) => EXIT_CONFIG,
            Self::Metadata(_) | Self::Aws { .. } | Self::Scalelite { .. } | Self::Bbb { .. } => {
                EXIT_TEMPFAIL
            }
            Self::Io(_) => 1,
        }
    }
}
