//! The BBB server on this instance: its shared secret from bbb-web's properties, its live
//! meetings from its own API, and its recording pipeline from the recording status directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bbb_core::bbb::{BbbClient, BbbConfig};
use bbb_core::Secret;

use crate::config::Settings;
use crate::error::HookError;

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
    pub participants: u64,
    /// Recordings recorded here and not yet published (processing, or copying to the shared
    /// recordings volume as part of publishing).
    pub recordings_in_progress: Vec<String>,
    /// Recordings whose processing failed (they will not progress; kept for the record).
    pub recordings_failed: Vec<String>,
}

impl Activity {
    /// Whether the instance must not go away: a live meeting or a recording still in the works.
    pub fn is_busy(&self) -> bool {
        self.meetings > 0 || !self.recordings_in_progress.is_empty()
    }
}

/// Reads the meetings and the recording pipeline.
pub async fn activity(bbb: &BbbClient, status_dir: &Path) -> Result<Activity, HookError> {
    let meetings = bbb
        .get_meetings()
        .await
        .map_err(HookError::bbb("ask the local BBB for its meetings"))?;
    let (in_progress, failed) = recordings(status_dir)?;
    Ok(Activity {
        meetings: meetings.len(),
        breakout_rooms: meetings.iter().filter(|m| m.is_breakout).count(),
        participants: meetings
            .iter()
            .map(|m| u64::from(m.participant_count))
            .sum(),
        recordings_in_progress: in_progress,
        recordings_failed: failed,
    })
}

fn names(dir: &Path, suffix: &str) -> Result<Vec<String>, HookError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(HookError::Io(format!("cannot list {}: {e}", dir.display()))),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| HookError::Io(format!("{}: {e}", dir.display())))?;
        if let Some(stem) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.strip_suffix(suffix))
        {
            out.push(stem.to_owned());
        }
    }
    Ok(out)
}

/// BBB's record-and-playback pipeline marks each stage of a recording with a file:
/// `recorded/<id>.done` when the meeting ended with a recording, `archived/`, `sanity/`,
/// `processed/<id>-<format>.done`, `published/<id>-<format>.done`, and `<stage>/...fail` when a
/// stage failed. A recording is in progress from `recorded` until a `published` mark (the
/// Scalelite post-publish copy to the shared volume runs inside the publish stage).
pub fn recordings(status_dir: &Path) -> Result<(Vec<String>, Vec<String>), HookError> {
    let recorded: BTreeSet<String> = names(&status_dir.join("recorded"), ".done")?
        .into_iter()
        .collect();
    let published: BTreeSet<String> = names(&status_dir.join("published"), ".done")?
        .into_iter()
        .filter_map(|n| n.rsplit_once('-').map(|(id, _format)| id.to_owned()))
        .collect();
    let mut failed = BTreeSet::new();
    for stage in ["recorded", "archived", "sanity", "processed", "published"] {
        for n in names(&status_dir.join(stage), ".fail")? {
            let id = recorded
                .iter()
                .find(|id| n == **id || n.starts_with(&format!("{id}-")))
                .cloned()
                .unwrap_or(n);
            failed.insert(id);
        }
    }
    let in_progress = recorded
        .iter()
        .filter(|id| !published.contains(*id) && !failed.contains(*id))
        .cloned()
        .collect();
    Ok((in_progress, failed.into_iter().collect()))
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

    #[test]
    fn recording_pipeline() {
        let dir = tempfile::tempdir().unwrap();
        let touch = |p: &str| {
            let p = dir.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        };
        assert_eq!(recordings(dir.path()).unwrap(), (vec![], vec![]));
        touch("recorded/m1-1700000000000.done");
        touch("recorded/m2-1700000000001.done");
        touch("recorded/m3-1700000000002.done");
        touch("archived/m1-1700000000000.done");
        touch("published/m2-1700000000001-presentation.done");
        touch("processed/m3-1700000000002-presentation.fail");
        let (busy, failed) = recordings(dir.path()).unwrap();
        assert_eq!(busy, vec!["m1-1700000000000".to_string()]);
        assert_eq!(failed, vec!["m3-1700000000002".to_string()]);
    }
}
