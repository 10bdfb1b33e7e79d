//! The BBB double's recording pipeline: the status files after each step, in the order BBB 3.0
//! and Scalelite write and delete them (rap-starter.rb, workers/archive_worker.rb,
//! sanity_worker.rb, process_worker.rb, publish_worker.rb, scalelite_post_publish.rb).

use bbb_core::checksum::{checksum, ChecksumAlgorithm};
use bbb_core::Secret;
use bbb_doubles::{BbbDouble, Pace, PipelineStage, RecordingOutcome, RecordingPipeline};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SALT: &str = "bbb-salt";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bbb-double-rec-{name}-{}-{}",
        std::process::id(),
        uuid_like()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Every file and directory below `root`, relative, sorted.
fn tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() {
                stack.push(p);
                if rel.starts_with("raw/") {
                    out.push(format!("{rel}/"));
                }
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

async fn call(double: &BbbDouble, name: &str, q: &str) -> String {
    let sum = checksum(ChecksumAlgorithm::Sha1, name, q, &Secret::new(SALT));
    reqwest::get(format!("{}/{name}?{q}&checksum={sum}", double.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_recorded_meeting_ended_through_the_api_walks_the_real_sequence() {
    let double = BbbDouble::start(SALT).await.unwrap();
    let root = scratch("api");
    double.set_recording_pipeline(Some(RecordingPipeline::new(&root, Pace::Stepped)));
    let body = call(&double, "create", "meetingID=lecture&name=L&record=true").await;
    assert!(body.contains("SUCCESS"), "{body}");
    let id = double.meetings()[0].internal_meeting_id.clone();
    let body = call(&double, "create", "meetingID=plain&name=P").await;
    assert!(body.contains("SUCCESS"), "{body}");
    assert!(call(&double, "end", "meetingID=plain")
        .await
        .contains("SUCCESS"));
    assert!(
        tree(&root).iter().all(|f| !f.contains("recorded/")),
        "no record, no mark"
    );
    assert!(call(&double, "end", "meetingID=lecture")
        .await
        .contains("SUCCESS"));

    let mut seen = vec![tree(&root)];
    while double.advance_recording(&id).is_some() {
        let t = tree(&root);
        if seen.last() != Some(&t) {
            seen.push(t);
        }
    }
    let s = |v: &[&str]| v.iter().map(|f| f.replace("ID", &id)).collect::<Vec<_>>();
    let expected = vec![
        s(&["status/recorded/ID.done"]),
        s(&["raw/ID/", "status/recorded/ID.done"]),
        s(&["raw/ID/"]),
        s(&["raw/ID/", "status/archived/ID.done"]),
        s(&[
            "raw/ID/",
            "status/archived/ID.done",
            "status/sanity/ID.done",
        ]),
        s(&[
            "raw/ID/",
            "status/archived/ID.done",
            "status/processed/ID-presentation.done",
            "status/sanity/ID.done",
        ]),
        s(&[
            "raw/ID/",
            "status/archived/ID.done",
            "status/processed/ID-presentation.done",
            "status/published/ID-presentation.done",
            "status/sanity/ID.done",
        ]),
        s(&[
            "raw/ID/",
            "status/archived/ID.done",
            "status/processed/ID-presentation.done",
            "status/published/ID-presentation.done",
            "status/published/ID-sender.done",
            "status/sanity/ID.done",
        ]),
    ];
    assert_eq!(seen, expected);
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn outcomes_end_with_their_marks() {
    for (outcome, last) in [
        (RecordingOutcome::NoRecord, "status/archived/ID.norecord"),
        (
            RecordingOutcome::Fails(PipelineStage::Archive),
            "status/archived/ID.fail",
        ),
        (
            RecordingOutcome::Fails(PipelineStage::Sanity),
            "status/sanity/ID.fail",
        ),
        (
            RecordingOutcome::Fails(PipelineStage::Process),
            "status/processed/ID-presentation.fail",
        ),
        (
            RecordingOutcome::Fails(PipelineStage::Publish),
            "status/published/ID-presentation.fail",
        ),
        (
            RecordingOutcome::TransferFails,
            "status/published/ID-presentation.done",
        ),
    ] {
        let double = BbbDouble::start(SALT).await.unwrap();
        let root = scratch("outcome");
        let mut p = RecordingPipeline::new(&root, Pace::Stepped);
        p.outcome = outcome.clone();
        double.set_recording_pipeline(Some(p));
        let id = double.add_meeting(
            bbb_doubles::DoubleMeeting::new("m", "M")
                .with_participants(1, 1)
                .recorded(),
        );
        assert!(double.end_meeting("m"));
        let mut last_written = String::new();
        while let Some(what) = double.advance_recording(&id) {
            last_written = what;
        }
        let files = tree(&root);
        assert!(
            files.contains(&last.replace("ID", &id)),
            "{outcome:?}: {files:?}"
        );
        assert!(
            files.iter().all(|f| !f.ends_with("sender.done")),
            "{outcome:?}: {files:?} ({last_written})"
        );
        std::fs::remove_dir_all(&root).ok();
    }
}

#[tokio::test]
async fn timed_pace_compresses_the_pipeline() {
    let double = BbbDouble::start(SALT).await.unwrap();
    let root = scratch("timed");
    double.set_recording_pipeline(Some(RecordingPipeline::new(
        &root,
        Pace::Timed { scale: 0.005 },
    )));
    let id = double.add_meeting(
        bbb_doubles::DoubleMeeting::new("m", "M")
            .with_participants(1, 1)
            .recorded(),
    );
    assert!(double.end_meeting("m"));
    let sender = root.join(format!("status/published/{id}-sender.done"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !sender.exists() {
        assert!(std::time::Instant::now() < deadline, "{:?}", tree(&root));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!root.join(format!("status/recorded/{id}.done")).exists());
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn recorded_breakout_rooms_get_their_own_recording_when_the_parent_ends() {
    // bbb-web handles each breakout room's MeetingEnded like any meeting's
    // (MeetingService.processRemoveEndedMeeting -> processRecording when the room is recorded;
    // a room's `record` comes from the parent's CreateBreakoutRoom message).
    let double = BbbDouble::start(SALT).await.unwrap();
    let root = scratch("breakout");
    double.set_recording_pipeline(Some(RecordingPipeline::new(&root, Pace::Stepped)));
    let parent = double.add_meeting(
        bbb_doubles::DoubleMeeting::new("class", "Class")
            .with_participants(2, 1)
            .recorded(),
    );
    let mut room = bbb_doubles::DoubleMeeting::new("class-breakout-1", "Class (Room 1)")
        .with_participants(1, 0)
        .recorded();
    room.is_breakout = true;
    room.parent_internal_id = Some(parent.clone());
    room.sequence = 1;
    let room_id = double.add_meeting(room);
    assert!(double.end_meeting("class"));
    assert!(double.meetings().is_empty());
    let files = tree(&root);
    for id in [&parent, &room_id] {
        assert!(
            files.contains(&format!("status/recorded/{id}.done")),
            "{id}: {files:?}"
        );
        assert!(double.recording_steps_left(id) > 0, "{id}");
    }
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn a_timed_pipeline_stops_when_its_recording_dir_is_gone() {
    // A sandbox instance's directory is removed with the instance; the pipeline's thread must
    // not bring it back.
    let double = BbbDouble::start(SALT).await.unwrap();
    let root = scratch("gone");
    double.set_recording_pipeline(Some(RecordingPipeline::new(
        &root,
        Pace::Timed { scale: 0.002 },
    )));
    double.add_meeting(
        bbb_doubles::DoubleMeeting::new("m", "M")
            .with_participants(1, 1)
            .recorded(),
    );
    assert!(double.end_meeting("m"));
    // The pipeline's thread may be writing meanwhile: retry until the directory is gone.
    while root.exists() {
        std::fs::remove_dir_all(&root).ok();
    }
    // The whole pipeline takes about 0.4 s at this scale.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!root.exists(), "recreated: {:?}", tree(&root));
}
