//! Where each recording on this instance stands in BBB's record-and-playback pipeline, judged
//! from the files the pipeline writes and deletes, and whether Scalelite has its copy yet.
//!
//! The sequence, as BigBlueButton 3.0 writes it (upstream bigbluebutton/bigbluebutton):
//! 1. bbb-web writes `status/recorded/<id>.done` when a meeting created with `record=true`
//!    ends, before it drops the meeting from `getMeetings`
//!    (`bigbluebutton-web/src/java/org/bigbluebutton/api/MeetingService.java`,
//!    `processRemoveEndedMeeting` -> `RecordingService.startIngestAndProcessing`).
//! 2. `rap-starter.rb` watches `status/recorded/` with inotify: it creates `raw/<meeting id>/`,
//!    queues the archive job (resque queue `rap:archive`) and deletes `recorded/<id>.done` at
//!    once (`record-and-playback/core/scripts/rap-starter.rb`; the old 120 s
//!    `ARCHIVE_DELAY_SECONDS` polling starter is gone since BBB 2.3).
//! 3. The archive worker deletes `archived/<id>.{done,norecord,fail}`, runs `archive.rb`, which
//!    writes `archived/<id>.done`, or `archived/<id>.norecord` when the meeting had no
//!    recording marks (the worker then halts the pipeline); a failure touches
//!    `archived/<id>.fail` (`record-and-playback/core/lib/recordandplayback/workers/
//!    archive_worker.rb`, `core/scripts/archive/archive.rb`).
//! 4. The sanity worker deletes `sanity/<id>.{done,fail}` and writes one of them
//!    (`workers/sanity_worker.rb`, `core/scripts/sanity/sanity.rb`).
//! 5. The captions worker writes no status file (`workers/captions_worker.rb`); then one
//!    process job per format (`steps:` in `core/scripts/bigbluebutton.yml`; `presentation` by
//!    default) deletes `processed/<id>-<format>.{done,fail}` and writes one of them
//!    (`workers/process_worker.rb`).
//! 6. The publish job of that format deletes `published/<id>-<format>.{done,fail}`, writes one of
//!    them, and after a success runs the `post_publish/*.rb` scripts (`workers/
//!    publish_worker.rb`).
//! 7. Scalelite's `scalelite_post_publish.rb` (a post_publish script) tars the published formats,
//!    copies them to the shared spool and then writes `published/<id>-sender.done`
//!    (blindsidenetworks/scalelite `bigbluebutton/scalelite_post_publish.rb`, since v1.1.6). When
//!    the copy fails it writes nothing. With Scalelite's `delete_recording` it first runs
//!    `bbb-record --delete`, so only `sender.done` is left.
//!
//! At every moment from step 1 on, some file says the recording exists: `recorded/<id>.done`,
//! then `raw/<id>/` (created before the job is queued), then the stage marks. That is why the
//! resque queues in Redis are not read: a queued job is always visible as the mark of the stage
//! before it. The one thing files cannot show is a second format whose process job is still
//! queued while the first is already published (BBB's documented way to add the video format
//! queues both process jobs at once): the formats BBB's `steps:` publish are read for that
//! ([`crate::recording_steps`]), and once the sanity check is done each must have a mark.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::HookError;

/// Where a recording stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// `recorded/<id>.done`: rap-starter has not picked it up yet.
    Recorded,
    /// `raw/<id>/` without an archive mark: the archive job is queued or running.
    Archiving,
    /// `archived/<id>.done`: the sanity check is queued or running.
    Archived,
    /// `sanity/<id>.done`, no format mark yet: captions and processing are queued or running.
    Processing,
    /// A format is processed and not yet published (its publish job is queued or running).
    Publishing(String),
    /// Published locally; Scalelite's post_publish copy has not written `sender.done` (still
    /// copying, or the copy failed and the recording exists only on this instance).
    AwaitingTransfer,
    /// Final: Scalelite's `published/<id>-sender.done` is newer than every published format.
    Transferred,
    /// Final: published, and this instance has no Scalelite transfer to wait for.
    Published,
    /// Final: `archived/<id>.norecord`, the meeting had no recording marks.
    NoRecord,
    /// Final: a stage failed (`.fail`), named here.
    Failed(String),
}

impl Stage {
    /// Whether the pipeline still works on it (the instance must stay).
    pub fn in_progress(&self) -> bool {
        !matches!(
            self,
            Stage::Transferred | Stage::Published | Stage::NoRecord | Stage::Failed(_)
        )
    }

    pub fn describe(&self) -> String {
        match self {
            Stage::Recorded => "recorded, waiting for rap-starter".into(),
            Stage::Archiving => "archiving".into(),
            Stage::Archived => "archived, sanity check".into(),
            Stage::Processing => "processing".into(),
            Stage::Publishing(f) => format!("publishing {f}"),
            Stage::AwaitingTransfer => "published, waiting for the Scalelite transfer".into(),
            Stage::Transferred => "transferred to Scalelite".into(),
            Stage::Published => "published".into(),
            Stage::NoRecord => "no recording marks".into(),
            Stage::Failed(s) => format!("failed at {s}"),
        }
    }
}

/// Where BBB keeps a recording's traces on this instance.
#[derive(Debug, Clone)]
pub struct Sources<'a> {
    /// `/var/bigbluebutton/recording/status`.
    pub status_dir: &'a Path,
    /// `/var/bigbluebutton/recording/raw`.
    pub raw_dir: &'a Path,
    /// Whether Scalelite's post_publish script is installed, so `sender.done` will come.
    pub transfer_expected: bool,
    /// The formats BBB's `steps:` publish (see [`crate::recording_steps`]); each must reach a
    /// final mark once the sanity check is done. Empty: unknown, judged from the marks alone.
    pub expected_formats: &'a [String],
}

/// File names in `dir` (missing dir: none), with their modification times.
fn entries(dir: &Path) -> Result<Vec<(String, Option<SystemTime>)>, HookError> {
    let list = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(HookError::Io(format!("cannot list {}: {e}", dir.display()))),
    };
    let mut out = Vec::new();
    for entry in list {
        let entry = entry.map_err(|e| HookError::Io(format!("{}: {e}", dir.display())))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let mtime = entry.metadata().ok().and_then(|m| m.modified().ok());
        out.push((name, mtime));
    }
    Ok(out)
}

/// One format's marks: `processed/<id>-<format>.*` and `published/<id>-<format>.*` (with its
/// time).
#[derive(Default, Debug)]
struct FormatMarks {
    processed: Option<&'static str>,
    published: Option<(&'static str, Option<SystemTime>)>,
}

#[derive(Default, Debug)]
struct Marks {
    recorded: bool,
    raw: bool,
    archived: Option<&'static str>,
    sanity: Option<&'static str>,
    formats: BTreeMap<String, FormatMarks>,
    sender: Option<Option<SystemTime>>,
}

fn kind(name: &str) -> Option<(&str, &'static str)> {
    for k in ["done", "fail", "norecord"] {
        if let Some(stem) = name.strip_suffix(k).and_then(|s| s.strip_suffix('.')) {
            return Some((stem, k));
        }
    }
    None
}

/// Every recording known on disk and its stage.
pub fn stages(src: &Sources) -> Result<BTreeMap<String, Stage>, HookError> {
    let mut marks: BTreeMap<String, Marks> = BTreeMap::new();
    for (name, _) in entries(&src.status_dir.join("recorded"))? {
        if let Some(id) = name.strip_suffix(".done") {
            marks.entry(id.to_owned()).or_default().recorded = true;
        }
    }
    for (name, _) in entries(src.raw_dir)? {
        if src.raw_dir.join(&name).is_dir() {
            marks.entry(name).or_default().raw = true;
        }
    }
    for (stage, dir) in [("archived", true), ("sanity", false)] {
        for (name, _) in entries(&src.status_dir.join(stage))? {
            if let Some((id, k)) = kind(&name) {
                let m = marks.entry(id.to_owned()).or_default();
                let slot = if dir { &mut m.archived } else { &mut m.sanity };
                // A failure outranks a done mark left from an earlier run.
                if slot.is_none() || k == "fail" {
                    *slot = Some(k);
                }
            }
        }
    }
    for (name, _) in entries(&src.status_dir.join("processed"))? {
        if let Some(((id, format), k)) =
            kind(&name).and_then(|(s, k)| Some((s.rsplit_once('-')?, k)))
        {
            let slot = &mut marks.entry(id.to_owned()).or_default().formats;
            let f = slot.entry(format.to_owned()).or_default();
            if f.processed.is_none() || k == "fail" {
                f.processed = Some(k);
            }
        }
    }
    for (name, mtime) in entries(&src.status_dir.join("published"))? {
        let Some(((id, format), k)) = kind(&name).and_then(|(s, k)| Some((s.rsplit_once('-')?, k)))
        else {
            continue;
        };
        if format == "sender" {
            if k == "done" {
                marks.entry(id.to_owned()).or_default().sender = Some(mtime);
            }
            continue;
        }
        let m = marks.entry(id.to_owned()).or_default();
        let f = m.formats.entry(format.to_owned()).or_default();
        if f.published.is_none() || k == "fail" {
            f.published = Some((k, mtime));
        }
    }
    Ok(marks
        .into_iter()
        .map(|(id, m)| {
            let stage = judge(&m, src.transfer_expected, src.expected_formats);
            (id, stage)
        })
        .collect())
}

fn judge(m: &Marks, transfer_expected: bool, expected_formats: &[String]) -> Stage {
    if m.recorded {
        return Stage::Recorded;
    }
    match m.archived {
        Some("fail") => return Stage::Failed("archive".into()),
        Some("norecord") => return Stage::NoRecord,
        _ => {}
    }
    if m.sanity == Some("fail") {
        return Stage::Failed("sanity check".into());
    }
    if !m.formats.is_empty() {
        let mut published = Vec::new();
        let mut failed = Vec::new();
        for (format, f) in &m.formats {
            match (f.processed, f.published) {
                (_, Some(("done", t))) => published.push(t),
                (_, Some(("fail", _))) => failed.push(format!("publish {format}")),
                (Some("fail"), _) => failed.push(format!("process {format}")),
                (Some(_), _) => return Stage::Publishing(format.clone()),
                // Only a stray mark: nothing to wait for.
                _ => {}
            }
        }
        // A format the steps publish without any mark yet: its process job is still queued
        // (the one default worker takes publish jobs before process jobs).
        if m.sanity == Some("done")
            && expected_formats
                .iter()
                .any(|f| !m.formats.contains_key(f.as_str()))
        {
            return Stage::Processing;
        }
        if published.is_empty() {
            return Stage::Failed(failed.join(", "));
        }
        if !transfer_expected {
            return Stage::Published;
        }
        return match m.sender {
            // Scalelite's script runs after each format's publish and rewrites sender.done:
            // it covers the recording once it is at least as new as every published format.
            Some(sent)
                if published.iter().all(|p| match (sent, p) {
                    (Some(s), Some(p)) => s >= *p,
                    _ => true,
                }) =>
            {
                Stage::Transferred
            }
            _ => Stage::AwaitingTransfer,
        };
    }
    if m.sanity.is_some() {
        return Stage::Processing;
    }
    if m.archived.is_some() {
        return Stage::Archived;
    }
    if m.sender.is_some() && !m.raw {
        // `delete_recording`: Scalelite removed the local copy and every other mark.
        return Stage::Transferred;
    }
    // `raw/<id>/` alone: the archive job is queued or running.
    Stage::Archiving
}

/// Default raw directory next to the status directory (BBB's `recording_dir/raw`).
pub fn default_raw_dir(status_dir: &Path) -> PathBuf {
    status_dir
        .parent()
        .map(|p| p.join("raw"))
        .unwrap_or_else(|| PathBuf::from("raw"))
}

#[cfg(test)]
#[path = "recordings_tests.rs"]
mod tests;
