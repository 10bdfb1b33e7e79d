//! The BBB server on this instance: its shared secret from bbb-web's properties, its live
//! meetings from its own API, and its recording pipeline from the files BBB's recording workers
//! and Scalelite's post_publish script write (see [`crate::recordings`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use bbb_core::bbb::{BbbClient, BbbConfig};
use bbb_core::Secret;

use crate::config::Settings;
use crate::error::HookError;
use crate::recording_steps;
use crate::recordings::{self, Sources, Stage};

const SECRET_KEY: &str = "securitySalt";

/// The value of `key` in a Java properties text (`key=value`, `key: value`, comments with `#`
/// or `!`, `\` line continuations).
pub fn property(text: &str, key: &str) -> Option<String> {
    let mut logical = String::new();
    let mut lines = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            logical.push_str(cont);
            continue;
        }
        logical.push_str(line);
        lines.push(std::mem::take(&mut logical));
    }
    lines.into_iter().find_map(|l| {
        let split = l.find(['=', ':']).unwrap_or(l.len());
        let (k, rest) = l.split_at(split);
        (k.trim() == key).then(|| rest.get(1..).unwrap_or_default().trim().to_owned())
    })
}

/// BBB's shared secret: `securitySalt` from the first properties file that sets it.
pub fn read_secret(files: &[PathBuf]) -> Result<Secret, HookError> {
    let mut read_any = false;
    for path in files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(HookError::Config(format!(
                    "cannot read BBB's properties {}: {e}",
                    path.display()
                )))
            }
        };
        read_any = true;
        if let Some(v) = property(&text, SECRET_KEY).filter(|v| !v.is_empty()) {
            return Ok(Secret::new(v));
        }
    }
    let list = files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Err(HookError::Config(if read_any {
        format!("BBB's {SECRET_KEY} is not set in {list} (BBB_WEB_PROPERTIES)")
    } else {
        format!("none of BBB's properties files exists: {list} (BBB_WEB_PROPERTIES)")
    }))
}

/// A client for the local BBB API.
pub fn client(settings: &Settings, secret: Secret) -> Result<BbbClient, HookError> {
    let mut cfg = BbbConfig::new(settings.bbb_api_url.clone(), secret);
    cfg.timeout = settings.request_timeout;
    BbbClient::new(cfg).map_err(|e| HookError::Config(format!("BBB_HOOK_BBB_API_URL: {e}")))
}

/// What the local BBB is doing right now.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Activity {
    /// Meetings `getMeetings` lists, breakout rooms included.
    pub meetings: usize,
    /// Of those, breakout rooms.
    pub breakout_rooms: usize,
    /// BBB's `participantCount` summed over every listed meeting (moderators included, as
    /// Scalelite's `users` figure counts them).
    pub participants: u64,
    /// `moderatorCount` summed.
    pub moderators: u64,
    /// `videoCount` summed (webcam streams).
    pub video_streams: u64,
    /// The newest `createTime` (Unix milliseconds) of a meeting that is not a breakout room
    /// (those BBB creates itself, not through Scalelite); 0 when none runs.
    pub newest_create_ms: u64,
    /// Recordings BBB's pipeline still works on here, from the meeting's end until Scalelite's
    /// transfer marker (or until published, when this instance has no Scalelite transfer).
    pub recordings_in_progress: Vec<String>,
    /// Where each of those stands (`archiving`, `publishing presentation`, ...).
    pub recording_stages: BTreeMap<String, String>,
    /// Recordings whose processing failed (they will not progress; kept for the record).
    pub recordings_failed: Vec<String>,
}

impl Activity {
    /// Whether the instance must not go away: a live meeting or a recording still in the works.
    pub fn is_busy(&self) -> bool {
        self.meetings > 0 || !self.recordings_in_progress.is_empty()
    }
}

/// [`activity`] of the local BBB, with the secret read from its properties now.
pub async fn read_activity(settings: &Settings) -> Result<Activity, HookError> {
    let secret = read_secret(&settings.bbb_properties)?;
    activity(&client(settings, secret)?, settings).await
}

/// Reads the meetings and the recording pipeline.
pub async fn activity(bbb: &BbbClient, settings: &Settings) -> Result<Activity, HookError> {
    let meetings = bbb
        .get_meetings()
        .await
        .map_err(HookError::bbb("ask the local BBB for its meetings"))?;
    Ok(Activity {
        meetings: meetings.len(),
        breakout_rooms: meetings.iter().filter(|m| m.is_breakout).count(),
        participants: meetings
            .iter()
            .map(|m| u64::from(m.participant_count))
            .sum(),
        moderators: meetings.iter().map(|m| u64::from(m.moderator_count)).sum(),
        video_streams: meetings.iter().map(|m| u64::from(m.video_count)).sum(),
        newest_create_ms: meetings
            .iter()
            .filter(|m| !m.is_breakout)
            .map(|m| m.create_time)
            .max()
            .unwrap_or(0),
        ..recording_activity(settings)?
    })
}

/// The recording part of [`Activity`] alone (also used when BBB's API cannot be asked): every
/// recording on disk judged by [`recordings::stages`].
pub fn recording_activity(settings: &Settings) -> Result<Activity, HookError> {
    let expected_formats = recording_steps::expected_formats(
        &settings.recording_scripts_dir,
        &settings.recording_override,
    );
    let src = Sources {
        status_dir: &settings.recording_status_dir,
        raw_dir: &settings.recording_raw_dir,
        transfer_expected: settings.scalelite_post_publish.exists(),
        expected_formats: &expected_formats,
    };
    let mut activity = Activity::default();
    for (id, stage) in recordings::stages(&src)? {
        if stage.in_progress() {
            activity
                .recording_stages
                .insert(id.clone(), stage.describe());
            activity.recordings_in_progress.push(id);
        } else if let Stage::Failed(_) = stage {
            activity.recordings_failed.push(id);
        }
    }
    Ok(activity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties() {
        let text = "# securitySalt=commented\n! also\nserverURL = https://x\nsecuritySalt=abc\\\n  def\nother: 1\n";
        assert_eq!(property(text, "securitySalt").as_deref(), Some("abcdef"));
        assert_eq!(property(text, "other").as_deref(), Some("1"));
        assert_eq!(property(text, "serverURL").as_deref(), Some("https://x"));
        assert_eq!(property(text, "missing"), None);
    }

    #[test]
    fn secret_from_the_override_first() {
        let dir = tempfile::tempdir().unwrap();
        let over = dir.path().join("bbb-web.properties");
        let default = dir.path().join("bigbluebutton.properties");
        std::fs::write(&default, "securitySalt=from-default\n").unwrap();
        let files = vec![over.clone(), default.clone()];
        assert_eq!(read_secret(&files).unwrap().expose(), "from-default");
        std::fs::write(&over, "securitySalt=from-override\n").unwrap();
        assert_eq!(read_secret(&files).unwrap().expose(), "from-override");
        std::fs::write(&over, "x=1\n").unwrap();
        std::fs::write(&default, "y=1\n").unwrap();
        let e = read_secret(&files).unwrap_err().to_string();
        assert!(e.contains("securitySalt is not set"), "{e}");
        let e = read_secret(&[dir.path().join("none")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("none of BBB's properties files exists"), "{e}");
    }
}
