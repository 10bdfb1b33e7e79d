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
    /// Launch finished (DNS in sync, registered, lifecycle action completed, in service,
    /// protected and enabled).
    #[serde(default)]
    pub launched: bool,
    /// The scale-in protection the hook last set; `None` when unknown.
    #[serde(default)]
    pub protected: Option<bool>,
    /// Unix seconds of the last Scalelite registration check by `protect`.
    #[serde(default)]
    pub registration_checked_at: u64,
    /// Unix seconds of the last comparison of `protected` with the group's real value.
    #[serde(default)]
    pub protection_checked_at: u64,
    /// Unix milliseconds of the last `PutMetricData` by `protect`.
    #[serde(default)]
    pub metrics_published_at_ms: u64,
    /// Unix milliseconds of the last consolidation pass by `protect`.
    #[serde(default)]
    pub consolidated_at_ms: u64,
    /// This instance cordoned itself in Scalelite to consolidate the fleet (not an operator):
    /// `protect` enables it again when the group wants it back.
    #[serde(default)]
    pub cordoned_for_consolidation: bool,
    /// Consolidation enabled the server and no pass has read it enabled since: a `disabled` read
    /// then is Scalelite's poller writing over the enable (enabled again), a `cordoned` one
    /// someone else's cordon (the poller never writes one), which consolidation leaves.
    #[serde(default)]
    pub consolidation_enable_unread: bool,
    /// Unix milliseconds since when a cordon of `protect`'s own (the health check's,
    /// consolidation's or the standby's) is in force: when it was made, first read cordoned, or
    /// last made again (`commands::cordon_leak`); 0 when none is.
    #[serde(default)]
    pub cordon_held_since_ms: u64,
    /// Whether Scalelite could route a new meeting here (the registration enabled) when
    /// consolidation last read or wrote its state; `None` until then. With consolidation on,
    /// `protect` keeps a routable server protected even when idle (see `commands::protect`).
    #[serde(default)]
    pub routable: Option<bool>,
    /// Unix seconds when `routable` was last read from Scalelite or written by the hook.
    #[serde(default)]
    pub routable_at: u64,
    /// Unix milliseconds of the first `protect` pass that read no meeting on BBB since it last
    /// read one; 0 while meetings run (or BBB could not be read).
    #[serde(default)]
    pub no_meeting_since_ms: u64,
    /// A drain started: launch and protect leave the instance alone from now on.
    #[serde(default)]
    pub draining: bool,
    /// Unix seconds when the drain under way began (its first run, across restarts): its
    /// `max_wait` and finishing time count from then. 0 when no drain is under way.
    #[serde(default)]
    pub drain_started_at: u64,
    /// A drain finished.
    #[serde(default)]
    pub drained: bool,
    /// A launch ran since the drain finished (a reboot's) and may have made the record and a
    /// registration again before it failed: a drain found finished takes them out.
    #[serde(default)]
    pub launched_since_drain: bool,
    /// The drain was for the instance's termination (the terminating lifecycle hook): the
    /// instance never comes back. A drain at shutdown without it (a reboot) lets the next boot
    /// launch again.
    #[serde(default)]
    pub terminating: bool,
    /// BBB's health as `protect` saw it (see `commands::health`).
    #[serde(default)]
    pub health: crate::commands::health::HealthState,
    /// The instance whose launching lifecycle action launch completed: a launch run again on it
    /// (after a failure past that point, or at a reboot) neither heartbeats nor completes it
    /// again. An instance id, so that a state carried into an image made from a server is not
    /// taken for this instance's. (A warm pool's two waits, `Warmed:Pending:Wait` then
    /// `Pending:Wait`, are the same instance's: warm pools are not supported, see
    /// `modules/fleet/README.md`.)
    #[serde(default)]
    pub launch_action_completed_by: Option<String>,
    /// Since when (Unix seconds) launch has been trying to join the fleet once the launching
    /// action was completed (or since a reboot's launch began); 0 once joined. Kept across runs,
    /// so that restarts do not start the `BBB_HOOK_JOIN_TIMEOUT` again.
    #[serde(default)]
    pub join_started_at: u64,
    /// Whether the group has the instance in `Standby`, as the last `protect` pass or the launch
    /// saw it, and what the hook did to the server then (see `commands::standby`).
    #[serde(default)]
    pub standby: crate::commands::standby::Standby,
}

impl HookState {
    /// Records whether Scalelite can route a new meeting here, as read or written just now.
    pub fn set_routable(&mut self, routable: bool) {
        self.routable = Some(routable);
        self.routable_at = now_secs();
    }

    /// Consolidation holds the server's cordon (made, adopted, or made again by the joinable
    /// check), its enable no longer pending a read.
    pub fn consolidation_holds_cordon(&mut self) {
        self.cordoned_for_consolidation = true;
        self.consolidation_enable_unread = false;
    }

    /// Consolidation holds nothing of the server's state any more: read enabled, or cordoned by
    /// someone else since its enable.
    pub fn consolidation_lets_go(&mut self) {
        self.cordoned_for_consolidation = false;
        self.consolidation_enable_unread = false;
    }
}

pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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
    /// treated as empty (every step re-checks the real world anyway); any other read error
    /// (permissions, I/O) is an error: acting on an empty state could drop protection.
    pub fn load(&self) -> Result<HookState, HookError> {
        match std::fs::read_to_string(self.file()) {
            Ok(text) => Ok(serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(file = %self.file().display(), error = %e, "state file unreadable, starting afresh");
                HookState::default()
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HookState::default()),
            Err(e) => Err(HookError::Io(format!(
                "cannot read {}: {e}",
                self.file().display()
            ))),
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

    fn open_lock(&self) -> Result<(File, PathBuf), HookError> {
        let path = self.dir.join("state.lock");
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| HookError::Io(format!("cannot open {}: {e}", path.display())))?;
        Ok((f, path))
    }

    /// Takes the state lock, waiting while another command holds it. Launch and drain hold it
    /// for their whole run, protect for its whole pass: none of them reads, changes and writes
    /// the state (or writes to Scalelite) while another does. Released when dropped.
    pub async fn lock(&self) -> Result<File, HookError> {
        let (f, path) = self.open_lock()?;
        tokio::task::spawn_blocking(move || {
            f.lock()
                .map_err(|e| HookError::Io(format!("cannot lock {}: {e}", path.display())))?;
            Ok(f)
        })
        .await
        .map_err(|e| HookError::Io(format!("state lock task: {e}")))?
    }

    /// Takes the state lock if nobody holds it; `Ok(None)` when another command does.
    pub fn try_lock(&self) -> Result<Option<File>, HookError> {
        let (f, path) = self.open_lock()?;
        match f.try_lock() {
            Ok(()) => Ok(Some(f)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(HookError::Io(format!(
                "cannot lock {}: {e}",
                path.display()
            ))),
        }
    }
}

/// Writes `path` through a temporary file that is flushed to disk before it replaces `path`;
/// the directory is flushed after the rename, so a crash leaves the old or the new file.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), HookError> {
    use std::io::Write;
    // One temporary file per writer: launch and the drain watcher start together at boot and both
    // cache the configuration; with one shared name, the second rename found the file gone.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp.{}.{seq}", std::process::id()));
    let err = |e: std::io::Error| HookError::Io(format!("cannot write {}: {e}", path.display()));
    let mut f = File::create(&tmp).map_err(err)?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(err)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(err)?;
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writers_of_one_file_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let s = std::sync::Arc::new(StateDir::open(&dir.path().join("state")).unwrap());
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let s = s.clone();
                std::thread::spawn(move || {
                    (0..200)
                        .map(|i| s.write("hook-config.json", format!("{w}-{i}").as_bytes()))
                        .filter(Result::is_err)
                        .count()
                })
            })
            .collect();
        let failed: usize = writers.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(failed, 0, "writes failed");
        let leftovers = std::fs::read_dir(dir.path().join("state"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .map(|e| e.file_name().to_string_lossy().contains(".tmp"))
                    .unwrap_or(false)
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[tokio::test]
    async fn round_trip_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateDir::open(&dir.path().join("state")).unwrap();
        assert_eq!(s.load().unwrap(), HookState::default());
        let st = HookState {
            server_id: Some("abc".into()),
            protected: Some(true),
            ..HookState::default()
        };
        s.save(&st).unwrap();
        assert_eq!(s.load().unwrap(), st);
        std::fs::write(dir.path().join("state/state.json"), "{").unwrap();
        assert_eq!(s.load().unwrap(), HookState::default());
        let held = s.lock().await.unwrap();
        let second = tokio::time::timeout(std::time::Duration::from_millis(200), s.lock()).await;
        assert!(second.is_err(), "a second command must wait for the first");
        assert!(s.try_lock().unwrap().is_none(), "try_lock sees the holder");
        drop(held);
        s.lock().await.unwrap();
        // A state file that cannot be read (here: a directory) is an error, not an empty state.
        std::fs::remove_file(dir.path().join("state/state.json")).unwrap();
        std::fs::create_dir(dir.path().join("state/state.json")).unwrap();
        assert!(s.load().is_err());
    }
}
