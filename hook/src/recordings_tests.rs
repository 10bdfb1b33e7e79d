//! The stage of a recording after each step of BBB 3.0's pipeline, written from the upstream
//! sequence (see the module documentation for the files and where upstream writes them).

use super::*;
use std::fs;
use std::time::Duration;

const ID: &str = "5f0e4c1a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f-1700000000000";

struct Disk {
    dir: tempfile::TempDir,
}

impl Disk {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("status/recorded")).unwrap();
        Self { dir }
    }
    fn status(&self) -> PathBuf {
        self.dir.path().join("status")
    }
    fn raw(&self) -> PathBuf {
        self.dir.path().join("raw")
    }
    fn touch(&self, rel: &str) {
        let p = self.status().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, "").unwrap();
    }
    fn touch_at(&self, rel: &str, secs: u64) {
        self.touch(rel);
        let f = fs::File::options()
            .write(true)
            .open(self.status().join(rel))
            .unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
            .unwrap();
    }
    fn rm(&self, rel: &str) {
        fs::remove_file(self.status().join(rel)).unwrap();
    }
    fn stage_with(&self, transfer_expected: bool) -> Option<Stage> {
        self.stage_expecting(transfer_expected, &[])
    }
    fn stage_expecting(&self, transfer_expected: bool, formats: &[&str]) -> Option<Stage> {
        let status = self.status();
        let raw = self.raw();
        let expected_formats: Vec<String> = formats.iter().map(|f| f.to_string()).collect();
        let src = Sources {
            status_dir: &status,
            raw_dir: &raw,
            transfer_expected,
            expected_formats: &expected_formats,
        };
        stages(&src).unwrap().remove(ID)
    }
    fn stage(&self) -> Stage {
        self.stage_with(true).expect("the recording is known")
    }
    /// bbb-web at the meeting's end, then rap-starter: raw dir, queue, delete the mark.
    fn ended_and_started(&self) {
        self.touch(&format!("recorded/{ID}.done"));
        assert_eq!(self.stage(), Stage::Recorded);
        fs::create_dir_all(self.raw().join(ID)).unwrap();
        self.rm(&format!("recorded/{ID}.done"));
    }
}

#[test]
fn nothing_recorded() {
    let d = Disk::new();
    assert_eq!(d.stage_with(true), None);
}

#[test]
fn every_step_of_a_transferred_recording() {
    let d = Disk::new();
    d.ended_and_started();
    // The archive job is queued or running: no status mark at all, only raw/<id>/.
    assert_eq!(d.stage(), Stage::Archiving);
    assert!(d.stage().in_progress());
    d.touch(&format!("archived/{ID}.done"));
    assert_eq!(d.stage(), Stage::Archived);
    d.touch(&format!("sanity/{ID}.done"));
    // Captions and the presentation process job leave no mark until processed.
    assert_eq!(d.stage(), Stage::Processing);
    d.touch(&format!("processed/{ID}-presentation.done"));
    assert_eq!(d.stage(), Stage::Publishing("presentation".into()));
    d.touch(&format!("published/{ID}-presentation.done"));
    // post_publish runs after the mark: Scalelite's copy is still to come.
    assert_eq!(d.stage(), Stage::AwaitingTransfer);
    assert!(d.stage().in_progress());
    d.touch(&format!("published/{ID}-sender.done"));
    assert_eq!(d.stage(), Stage::Transferred);
    assert!(!d.stage().in_progress());
}

#[test]
fn without_scalelite_publishing_is_the_end() {
    let d = Disk::new();
    d.ended_and_started();
    d.touch(&format!("archived/{ID}.done"));
    d.touch(&format!("sanity/{ID}.done"));
    d.touch(&format!("processed/{ID}-presentation.done"));
    assert!(d.stage_with(false).unwrap().in_progress());
    d.touch(&format!("published/{ID}-presentation.done"));
    assert_eq!(d.stage_with(false), Some(Stage::Published));
}

#[test]
fn no_recording_marks_ends_at_archive() {
    let d = Disk::new();
    d.ended_and_started();
    d.touch(&format!("archived/{ID}.norecord"));
    assert_eq!(d.stage(), Stage::NoRecord);
    assert!(!d.stage().in_progress());
}

#[test]
fn a_failure_at_any_stage_ends_it() {
    for (marks, at) in [
        (vec![format!("archived/{ID}.fail")], "archive"),
        (
            vec![format!("archived/{ID}.done"), format!("sanity/{ID}.fail")],
            "sanity check",
        ),
        (
            vec![
                format!("archived/{ID}.done"),
                format!("sanity/{ID}.done"),
                format!("processed/{ID}-presentation.fail"),
            ],
            "process presentation",
        ),
        (
            vec![
                format!("archived/{ID}.done"),
                format!("sanity/{ID}.done"),
                format!("processed/{ID}-presentation.done"),
                format!("published/{ID}-presentation.fail"),
            ],
            "publish presentation",
        ),
    ] {
        let d = Disk::new();
        d.ended_and_started();
        for m in &marks {
            d.touch(m);
        }
        assert_eq!(d.stage(), Stage::Failed(at.into()), "{marks:?}");
        assert!(!d.stage().in_progress());
    }
}

#[test]
fn a_failed_transfer_keeps_it_here() {
    // scalelite_post_publish.rb raises when tar or rsync fails: no sender.done, no .fail.
    let d = Disk::new();
    d.ended_and_started();
    d.touch(&format!("archived/{ID}.done"));
    d.touch(&format!("sanity/{ID}.done"));
    d.touch(&format!("processed/{ID}-presentation.done"));
    d.touch(&format!("published/{ID}-presentation.done"));
    assert_eq!(d.stage(), Stage::AwaitingTransfer);
}

#[test]
fn a_second_format_published_after_the_transfer_is_sent_again() {
    let d = Disk::new();
    d.ended_and_started();
    d.touch(&format!("archived/{ID}.done"));
    d.touch(&format!("sanity/{ID}.done"));
    d.touch_at(&format!("processed/{ID}-presentation.done"), 1_000);
    d.touch_at(&format!("processed/{ID}-video.done"), 1_001);
    d.touch_at(&format!("published/{ID}-presentation.done"), 1_002);
    d.touch_at(&format!("published/{ID}-sender.done"), 1_003);
    assert_eq!(d.stage(), Stage::Publishing("video".into()));
    d.touch_at(&format!("published/{ID}-video.done"), 1_004);
    // The copy made after presentation does not hold video.
    assert_eq!(d.stage(), Stage::AwaitingTransfer);
    d.touch_at(&format!("published/{ID}-sender.done"), 1_005);
    assert_eq!(d.stage(), Stage::Transferred);
}

#[test]
fn one_failed_format_does_not_hold_the_others() {
    let d = Disk::new();
    d.ended_and_started();
    d.touch(&format!("archived/{ID}.done"));
    d.touch(&format!("sanity/{ID}.done"));
    d.touch(&format!("processed/{ID}-video.fail"));
    d.touch(&format!("processed/{ID}-presentation.done"));
    d.touch(&format!("published/{ID}-presentation.done"));
    d.touch(&format!("published/{ID}-sender.done"));
    assert_eq!(d.stage(), Stage::Transferred);
}

#[test]
fn scalelite_delete_recording_leaves_only_sender_done() {
    // bbb-record --delete removes raw/<id> and every mark, then sender.done is written.
    let d = Disk::new();
    d.touch(&format!("published/{ID}-sender.done"));
    assert_eq!(d.stage(), Stage::Transferred);
}

#[test]
fn a_stray_sender_failure_is_not_a_recording() {
    let d = Disk::new();
    d.touch(&format!("published/{ID}-sender.fail"));
    assert_eq!(d.stage_with(true), None);
}

#[test]
fn raw_files_that_are_not_directories_are_ignored() {
    let d = Disk::new();
    fs::create_dir_all(d.raw()).unwrap();
    fs::write(d.raw().join(ID), "").unwrap();
    assert_eq!(d.stage_with(true), None);
}

#[test]
fn default_raw_dir_is_next_to_status() {
    assert_eq!(
        default_raw_dir(Path::new("/var/bigbluebutton/recording/status")),
        PathBuf::from("/var/bigbluebutton/recording/raw")
    );
}

#[test]
fn a_format_still_queued_holds_the_recording() {
    // BBB's documented way to add the video format lists two process steps after captions; with
    // the one default resque worker (queues archive, publish, process in that order) presentation
    // is published, and Scalelite's copy made, while process:video is still queued: no mark.
    let d = Disk::new();
    d.ended_and_started();
    d.touch(&format!("archived/{ID}.done"));
    d.touch(&format!("sanity/{ID}.done"));
    d.touch_at(&format!("processed/{ID}-presentation.done"), 1_000);
    d.touch_at(&format!("published/{ID}-presentation.done"), 1_001);
    d.touch_at(&format!("published/{ID}-sender.done"), 1_002);
    let both = ["presentation", "video"];
    assert_eq!(
        d.stage_expecting(true, &both),
        Some(Stage::Processing),
        "video is still to come"
    );
    assert_eq!(
        d.stage_expecting(true, &["presentation"]),
        Some(Stage::Transferred)
    );
    d.touch_at(&format!("processed/{ID}-video.done"), 1_003);
    assert_eq!(
        d.stage_expecting(true, &both),
        Some(Stage::Publishing("video".into()))
    );
    d.touch_at(&format!("published/{ID}-video.done"), 1_004);
    assert_eq!(
        d.stage_expecting(true, &both),
        Some(Stage::AwaitingTransfer)
    );
    d.touch_at(&format!("published/{ID}-sender.done"), 1_005);
    assert_eq!(d.stage_expecting(true, &both), Some(Stage::Transferred));
}

#[test]
fn an_expected_format_that_failed_does_not_hold() {
    let d = Disk::new();
    d.ended_and_started();
    d.touch(&format!("archived/{ID}.done"));
    d.touch(&format!("sanity/{ID}.done"));
    d.touch(&format!("processed/{ID}-video.fail"));
    d.touch(&format!("processed/{ID}-presentation.done"));
    d.touch(&format!("published/{ID}-presentation.done"));
    d.touch(&format!("published/{ID}-sender.done"));
    assert_eq!(
        d.stage_expecting(true, &["presentation", "video"]),
        Some(Stage::Transferred)
    );
}
