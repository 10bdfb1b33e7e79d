//! What the hook remembers between runs, in its state directory: the registration it made,
//! the last protection it set, and how far a drain got. Written atomically (temporary file,
//! then rename).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::HookError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookState {
    /// The Scalelite server id of this instance's registration.
    #[serde(default)]
    pub server_id: Option<String>,
    /// Launch finished (DNS in sync, registered and enabled, lifecycle action completed).
    #[serde(default)]
    pub launched: bool,
    /// The scale-in protection the hook last set; `None` when unknown.
    #[serde(default)]
    pub protected: Option<bool>,
    /// Unix seconds of the last Scalelite registration check by `protect`.
    #[serde(default)]
    pub registration_checked_at: u64,
    /// A drain started: launch and protect leave the instance alone from now on.
    #[serde(default)]
    pub draining: bool,
    /// A drain finished.
    #[serde(default)]
    pub drained: bool,
    /// The drain was for the instance's termination (the terminating lifecycle hook): the
    /// instance never comes back. A drain at shutdown without it (a reboot) lets the next boot
    /// launch again.
    #[serde(default)]
    pub terminating: bool,
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The state directory.
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// Opens (and creates) the directory.
    pub fn open(dir: &Path) -> Result<Self, HookError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            HookError::Io(format!(
                "cannot create state directory {}: {e}",
                dir.display()
            ))
        })?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    fn file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The remembered state; empty when there is none yet. A damaged file is reported and
    /// treated as empty (every step re-checks the real world anyway).
    pub fn load(&self) -> HookState {
        match std::fs::read_to_string(self.file()) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(file = %self.file().display(), error = %e, "state file unreadable, starting afresh");
                HookState::default()
            }),
            Err(_) => HookState::default(),
        }
    }

    pub fn save(&self, state: &HookState) -> Result<(), HookError> {
        let text = serde_json::to_vec_pretty(state)
            .map_err(|e| HookError::Io(format!("cannot encode the state: {e}")))?;
        write_atomically(&self.file(), &text)
    }

    /// Writes a file of the state directory atomically.
    pub fn write(&self, name: &str, contents: &[u8]) -> Result<(), HookError> {
        write_atomically(&self.dir.join(name), contents)
    }

    /// Takes the drain lock, waiting while another drain holds it. Released when dropped.
    pub async fn lock_drain(&self) -> Result<File, HookError> {
        let path = self.dir.join("drain.lock");
        tokio::task::spawn_blocking(move || {
            let f = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| HookError::Io(format!("cannot open {}: {e}", path.display())))?;
            f.lock()
                .map_err(|e| HookError::Io(format!("cannot lock {}: {e}", path.display())))?;
            Ok(f)
        })
        .await
        .map_err(|e| HookError::Io(format!("drain lock task: {e}")))?
    }
}

fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), HookError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| HookError::Io(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateDir::open(&dir.path().join("state")).unwrap();
        assert_eq!(s.load(), HookState::default());
        let st = HookState {
            server_id: Some("abc".into()),
            protected: Some(true),
            ..HookState::default()
        };
        s.save(&st).unwrap();
        assert_eq!(s.load(), st);
        std::fs::write(dir.path().join("state/state.json"), "{").unwrap();
        assert_eq!(s.load(), HookState::default());
        let held = s.lock_drain().await.unwrap();
        let second =
            tokio::time::timeout(std::time::Duration::from_millis(200), s.lock_drain()).await;
        assert!(second.is_err(), "a second drain must wait for the first");
        drop(held);
        s.lock_drain().await.unwrap();
    }
}
