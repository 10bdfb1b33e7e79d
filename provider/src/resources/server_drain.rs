//! Draining one Scalelite server: cordon it, then wait until its own BBB API lists no meetings.
//! Shared by `bbb_scalelite_server`'s drain on destroy and the `bbb_scalelite_server_drain`
//! action; each words the outcome for its own caller. Nothing here ends a meeting.

use std::time::{Duration, Instant};

use bbb_core::bbb::{BbbClient, BbbConfig, Meeting};
use bbb_core::scalelite::{Server, ServerState, ServerUpdate, StateChange};

use crate::provider::ProviderData;
use crate::scalelite_pool::scalelite_error;
use tfplugin_framework::{stop, Diagnostics};

/// How often a draining server's meetings are checked.
pub const DRAIN_POLL: Duration = Duration::from_secs(5);

/// One look at the server's meetings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// What `getMeetings` listed (breakout rooms included).
    Meetings { meetings: usize, participants: u64 },
    /// BBB did not answer; that counts as busy.
    Unanswered(String),
}

impl Reading {
    fn of(outcome: &Result<Vec<Meeting>, bbb_core::bbb::BbbError>) -> Self {
        match outcome {
            Ok(list) => Reading::Meetings {
                meetings: list.len(),
                participants: list.iter().map(|m| u64::from(m.participant_count)).sum(),
            },
            Err(e) => Reading::Unanswered(e.to_string()),
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Reading::Meetings { meetings: 0, .. })
    }

    /// "3 meetings, 41 participants" or "its BBB API did not answer: ...".
    pub fn describe(&self) -> String {
        match self {
            Reading::Meetings {
                meetings,
                participants,
            } => format!(
                "{meetings} meeting{}, {participants} participant{}",
                plural(*meetings as u64),
                plural(*participants)
            ),
            Reading::Unanswered(e) => format!("its BBB API did not answer: {e}"),
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited {
    /// BBB lists no meeting.
    Empty,
    /// The timeout passed; the last reading.
    TimedOut(Reading),
    /// Terraform asked the provider to stop (Ctrl-C); the last reading, if any.
    Stopped(Option<Reading>),
}

/// Cordons `server` when it is enabled (a cordoned or disabled server takes no new meetings
/// already). Returns whether this call cordoned it.
pub async fn cordon(data: &ProviderData, server: &Server) -> Result<bool, Diagnostics> {
    if server.state != ServerState::Enabled {
        return Ok(false);
    }
    let pool = data.scalelite().await?;
    let update = ServerUpdate {
        state: Some(StateChange::Cordon),
        ..Default::default()
    };
    pool.client()
        .update_server(&server.id, update)
        .await
        .map_err(|e| scalelite_error("cordon the server", &e))?;
    pool.invalidate().await;
    Ok(true)
}

/// Waits until `server`'s BBB API lists no meetings, at most `timeout`, reading every
/// [`DRAIN_POLL`]; `each` sees every reading. Meetings are judged from BBB itself: Scalelite's
/// load reads zero while breakout rooms still run.
pub async fn wait_until_empty(
    data: &ProviderData,
    server: &Server,
    timeout: Duration,
    mut each: impl FnMut(&Reading),
) -> Result<Waited, Diagnostics> {
    let mut config = BbbConfig::new(server.url.clone(), server.secret.clone());
    config.timeout = data.settings.timeout;
    let bbb = BbbClient::new(config)
        .map_err(|e| Diagnostics::from_error("Could not reach the BBB server", e.to_string()))?;
    let deadline = Instant::now() + timeout;
    let what = format!("the meetings on {} to end", server.url);
    let mut last = None;
    loop {
        let Ok(outcome) = stop::interruptible(bbb.get_meetings(), &what).await else {
            return Ok(Waited::Stopped(last));
        };
        let reading = Reading::of(&outcome);
        match &reading {
            Reading::Meetings { meetings, .. } => {
                tracing::info!(server = %server.id, meetings, "draining: meetings on the server")
            }
            Reading::Unanswered(e) => {
                tracing::warn!(server = %server.id, error = %e, "draining: BBB did not answer getMeetings")
            }
        }
        each(&reading);
        if reading.is_empty() {
            return Ok(Waited::Empty);
        }
        if Instant::now() >= deadline {
            return Ok(Waited::TimedOut(reading));
        }
        last = Some(reading);
        let pause = DRAIN_POLL.min(deadline.saturating_duration_since(Instant::now()));
        if stop::sleep(pause, &what).await.is_err() {
            return Ok(Waited::Stopped(last));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_read_as_a_person_would_say_them() {
        let r = Reading::Meetings {
            meetings: 3,
            participants: 41,
        };
        assert_eq!(r.describe(), "3 meetings, 41 participants");
        let one = Reading::Meetings {
            meetings: 1,
            participants: 1,
        };
        assert_eq!(one.describe(), "1 meeting, 1 participant");
        assert!(!one.is_empty());
        assert!(Reading::Meetings {
            meetings: 0,
            participants: 0
        }
        .is_empty());
        assert!(!Reading::Unanswered("timeout".into()).is_empty());
    }
}
