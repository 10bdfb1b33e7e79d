//! BBB's record-and-playback pipeline as the double plays it: the status files BBB 3.0 writes and
//! deletes under `recording_dir` after a recorded meeting ends, in upstream's order, with the
//! time compressed (or one step at a time, for tests).
//!
//! Upstream (bigbluebutton/bigbluebutton), step by step:
//! - bbb-web writes `status/recorded/<id>.done` before it drops the ended meeting
//!   (`bigbluebutton-web/src/java/org/bigbluebutton/api/MeetingService.java`,
//!   `processRemoveEndedMeeting`).
//! - `record-and-playback/core/scripts/rap-starter.rb` (inotify on `status/recorded/`) creates
//!   `raw/<id>/`, queues the archive job and deletes `recorded/<id>.done` at once.
//! - `record-and-playback/core/lib/recordandplayback/workers/archive_worker.rb` deletes
//!   `archived/<id>.{done,norecord,fail}`, runs `core/scripts/archive/archive.rb` (which writes
//!   `archived/<id>.done`, or `.norecord` without recording marks, and then halts), or touches
//!   `archived/<id>.fail`.
//! - `workers/sanity_worker.rb` deletes and writes `sanity/<id>.{done,fail}`
//!   (`core/scripts/sanity/sanity.rb`); `workers/captions_worker.rb` writes nothing.
//! - per format (`steps:` in `core/scripts/bigbluebutton.yml`): `workers/process_worker.rb`
//!   deletes and writes `processed/<id>-<format>.{done,fail}`; `workers/publish_worker.rb`
//!   deletes and writes `published/<id>-<format>.{done,fail}` and, after a success, runs the
//!   `post_publish/*.rb` scripts.
//! - blindsidenetworks/scalelite `bigbluebutton/scalelite_post_publish.rb` (a post_publish
//!   script) copies the published formats to the spool, then writes
//!   `published/<id>-sender.done`; when the copy fails it raises and writes nothing.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a recording's trip through the pipeline ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordingOutcome {
    /// Every stage succeeds (and Scalelite's copy, when installed).
    Transferred,
    /// The meeting had no recording marks: `archived/<id>.norecord`, nothing more.
    NoRecord,
    /// The stage fails with its `.fail` mark and the pipeline stops.
    Fails(PipelineStage),
    /// Publishing succeeds but Scalelite's copy fails: no `sender.done`, no mark at all.
    TransferFails,
}

/// A pipeline stage that can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipelineStage {
    Archive,
    Sanity,
    Process,
    Publish,
}

/// How the double plays the steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// Upstream-like durations multiplied by `scale` (e.g. 0.01: three minutes take ~2 s).
    Timed { scale: f64 },
    /// Nothing happens until [`crate::BbbDouble::advance_recording`] applies the next step.
    Stepped,
}

/// The pipeline a recorded meeting goes through when it ends.
#[derive(Clone, Debug)]
pub struct RecordingPipeline {
    /// BBB's `recording_dir` (`status/` and `raw/` below it).
    pub recording_dir: PathBuf,
    /// Playback formats processed and published (BBB 3.0's default steps: `presentation`).
    pub formats: Vec<String>,
    /// Whether Scalelite's post_publish script is installed.
    pub scalelite: bool,
    pub outcome: RecordingOutcome,
    pub pace: Pace,
}

impl RecordingPipeline {
    /// The default BBB 3.0 pipeline (presentation format, Scalelite installed, success).
    pub fn new(recording_dir: impl Into<PathBuf>, pace: Pace) -> Self {
        Self {
            recording_dir: recording_dir.into(),
            formats: vec!["presentation".to_owned()],
            scalelite: true,
            outcome: RecordingOutcome::Transferred,
            pace,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Touch(String),
    Remove(String),
    Mkdir(String),
}

/// One thing the pipeline does, `after` (upstream-like time) the previous one.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub after: Duration,
    pub op: Op,
    pub what: String,
}

fn step(after_secs: u64, op: Op, what: impl Into<String>) -> Step {
    Step {
        after: Duration::from_secs(after_secs),
        op,
        what: what.into(),
    }
}

/// What bbb-web does as the meeting ends (before the meeting leaves `getMeetings`).
pub(crate) fn recorded_mark(id: &str) -> Op {
    Op::Touch(format!("status/recorded/{id}.done"))
}

/// The steps after `recorded/<id>.done`, in upstream's order.
pub(crate) fn steps(p: &RecordingPipeline, id: &str) -> VecDeque<Step> {
    use Op::{Mkdir, Remove, Touch};
    let fails = |s| p.outcome == RecordingOutcome::Fails(s);
    let mut out = VecDeque::new();
    out.push_back(step(0, Mkdir(format!("raw/{id}")), "rap-starter: raw dir"));
    out.push_back(step(
        0,
        Remove(format!("status/recorded/{id}.done")),
        "rap-starter: archive queued, recorded mark removed",
    ));
    for k in ["done", "norecord", "fail"] {
        out.push_back(step(
            1,
            Remove(format!("status/archived/{id}.{k}")),
            "archive starts",
        ));
    }
    if fails(PipelineStage::Archive) {
        out.push_back(step(
            30,
            Touch(format!("status/archived/{id}.fail")),
            "archive failed",
        ));
        return out;
    }
    if p.outcome == RecordingOutcome::NoRecord {
        out.push_back(step(
            30,
            Touch(format!("status/archived/{id}.norecord")),
            "archived, no marks",
        ));
        return out;
    }
    out.push_back(step(
        30,
        Touch(format!("status/archived/{id}.done")),
        "archived",
    ));
    for k in ["done", "fail"] {
        out.push_back(step(
            1,
            Remove(format!("status/sanity/{id}.{k}")),
            "sanity starts",
        ));
    }
    if fails(PipelineStage::Sanity) {
        out.push_back(step(
            2,
            Touch(format!("status/sanity/{id}.fail")),
            "sanity failed",
        ));
        return out;
    }
    out.push_back(step(
        2,
        Touch(format!("status/sanity/{id}.done")),
        "sanity checked",
    ));
    // The captions worker runs next and leaves no mark.
    let mut wait = 5;
    for f in &p.formats {
        for k in ["done", "fail"] {
            out.push_back(step(
                wait,
                Remove(format!("status/processed/{id}-{f}.{k}")),
                format!("process {f} starts"),
            ));
            wait = 0;
        }
        if fails(PipelineStage::Process) {
            out.push_back(step(
                120,
                Touch(format!("status/processed/{id}-{f}.fail")),
                format!("process {f} failed"),
            ));
            continue;
        }
        out.push_back(step(
            120,
            Touch(format!("status/processed/{id}-{f}.done")),
            format!("processed {f}"),
        ));
        for k in ["done", "fail"] {
            out.push_back(step(
                1,
                Remove(format!("status/published/{id}-{f}.{k}")),
                format!("publish {f} starts"),
            ));
        }
        if fails(PipelineStage::Publish) {
            out.push_back(step(
                10,
                Touch(format!("status/published/{id}-{f}.fail")),
                format!("publish {f} failed"),
            ));
            continue;
        }
        out.push_back(step(
            10,
            Touch(format!("status/published/{id}-{f}.done")),
            format!("published {f}"),
        ));
        if p.scalelite && p.outcome != RecordingOutcome::TransferFails {
            out.push_back(step(
                20,
                Touch(format!("status/published/{id}-sender.done")),
                "scalelite_post_publish: sender.done",
            ));
        }
    }
    out
}

/// Applies one operation below `root`.
pub(crate) fn apply(root: &Path, op: &Op) -> std::io::Result<()> {
    match op {
        Op::Touch(rel) => {
            let p = root.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(p, "")
        }
        Op::Remove(rel) => match std::fs::remove_file(root.join(rel)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        },
        Op::Mkdir(rel) => std::fs::create_dir_all(root.join(rel)),
    }
}

/// [`apply`] without ever creating `root` itself: the directories below it one at a time, so
/// that a `root` removed meanwhile fails with `NotFound` instead of being created again.
fn apply_below(root: &Path, op: &Op) -> std::io::Result<()> {
    let dir = match op {
        Op::Touch(rel) => Path::new(rel).parent().map(Path::to_path_buf),
        Op::Mkdir(rel) => Some(PathBuf::from(rel)),
        Op::Remove(_) => None,
    };
    if let Some(dir) = dir {
        let mut at = root.to_path_buf();
        for part in dir.components() {
            at.push(part);
            match std::fs::create_dir(&at) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
        }
    }
    match op {
        Op::Touch(rel) => std::fs::write(root.join(rel), ""),
        Op::Mkdir(_) => Ok(()),
        Op::Remove(_) => apply(root, op),
    }
}

/// Plays `steps` on a thread of its own, scaled by `scale`; stops when `root` is gone (the
/// instance it belonged to was removed), rather than create it again.
pub(crate) fn play_timed(root: PathBuf, steps: VecDeque<Step>, scale: f64) {
    std::thread::spawn(move || {
        for s in steps {
            std::thread::sleep(s.after.mul_f64(scale.max(0.0)));
            match apply_below(&root, &s.op) {
                Ok(()) => {}
                Err(_) if !root.is_dir() => return,
                Err(e) => eprintln!("bbb double: recording step {} failed: {e}", s.what),
            }
        }
    });
}
