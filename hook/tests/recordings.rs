//! The real `bbb-hook` against the BBB double playing BBB 3.0's recording pipeline (status files
//! written and deleted in upstream's order, see `doubles/src/bbb/recording.rs`): protection and
//! the drain hold from the meeting's end until Scalelite's `sender.done`, and let go on a
//! failure or a meeting without recording marks.

mod support;

use std::time::Duration;

use bbb_core::scalelite::ServerState;
use bbb_doubles::{DoubleMeeting, Pace, PipelineStage, RecordingOutcome, RecordingPipeline};
use support::{Instance, TERMINATING_HOOK};

/// Starts a recorded meeting and ends it through the double; returns its internal id.
fn record_and_end(i: &Instance, meeting_id: &str) -> String {
    let iid = i.bbb.add_meeting(
        DoubleMeeting::new(meeting_id, "Recorded")
            .with_participants(3, 1)
            .recorded(),
    );
    assert!(i.bbb.end_meeting(meeting_id));
    assert!(
        i.path(&format!("status/recorded/{iid}.done")).exists(),
        "bbb-web writes the recorded mark as the meeting ends"
    );
    iid
}

fn pipeline(i: &Instance, outcome: RecordingOutcome) {
    let mut p = RecordingPipeline::new(i.recording_dir(), Pace::Stepped);
    p.outcome = outcome;
    i.bbb.set_recording_pipeline(Some(p));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protect_holds_from_the_meetings_end_until_scalelite_has_the_recording() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    pipeline(&i, RecordingOutcome::Transferred);
    let iid = record_and_end(&i, "lecture");
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(
        i.protected().await,
        "protected as soon as the meeting ended"
    );
    while i.bbb.recording_steps_left(&iid) > 1 {
        let step = i.bbb.advance_recording(&iid).expect("a step");
        i.hook_with(&["protect"], &support::MEETINGS_ONLY)
            .await
            .ok();
        assert!(i.protected().await, "protection dropped after: {step}");
    }
    assert!(
        !i.path(&format!("status/recorded/{iid}.done")).exists(),
        "rap-starter removed the recorded mark long ago"
    );
    let last = i.bbb.advance_recording(&iid).expect("the last step");
    assert!(last.contains("sender.done"), "{last}");
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(!i.protected().await, "released once Scalelite has it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protect_lets_go_on_failure_or_no_recording_marks_but_not_on_a_failed_transfer() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    for (n, outcome) in [
        RecordingOutcome::NoRecord,
        RecordingOutcome::Fails(PipelineStage::Archive),
        RecordingOutcome::Fails(PipelineStage::Sanity),
        RecordingOutcome::Fails(PipelineStage::Process),
        RecordingOutcome::Fails(PipelineStage::Publish),
    ]
    .into_iter()
    .enumerate()
    {
        pipeline(&i, outcome.clone());
        let iid = record_and_end(&i, &format!("m{n}"));
        while i.bbb.recording_steps_left(&iid) > 1 {
            i.bbb.advance_recording(&iid);
        }
        i.hook_with(&["protect"], &support::MEETINGS_ONLY)
            .await
            .ok();
        assert!(
            i.protected().await,
            "{outcome:?}: held before the last step"
        );
        i.bbb.advance_recording(&iid);
        let run = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
        run.ok();
        assert!(
            !i.protected().await,
            "{outcome:?}: released\n{}",
            run.stderr
        );
    }
    // Scalelite's copy failing writes no mark: the recording exists only here, keep it.
    pipeline(&i, RecordingOutcome::TransferFails);
    let iid = record_and_end(&i, "lost-transfer");
    while i.bbb.advance_recording(&iid).is_some() {}
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(
        i.protected().await,
        "a recording Scalelite does not have holds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_format_in_the_steps_holds_past_the_first_transfer() {
    // BBB's documented recording.yml for the video format: both process jobs are queued after
    // captions; presentation is published and sent to Scalelite before video is processed.
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    std::fs::write(
        i.path("recording.yml"),
        "steps:\n  archive: \"sanity\"\n  sanity: \"captions\"\n  captions:\n    \
         - process:presentation\n    - process:video\n  \
         process:presentation: publish:presentation\n  process:video: publish:video\n",
    )
    .unwrap();
    std::fs::write(i.path("scripts/publish/video.rb"), "").unwrap();
    let mut p = RecordingPipeline::new(i.recording_dir(), Pace::Stepped);
    p.formats = vec!["presentation".into(), "video".into()];
    i.bbb.set_recording_pipeline(Some(p));
    let iid = record_and_end(&i, "lecture");
    let mut sent = 0;
    while i.bbb.recording_steps_left(&iid) > 1 {
        let step = i.bbb.advance_recording(&iid).expect("a step");
        sent += usize::from(step.contains("sender.done"));
        let run = i.hook_with(&["protect"], &support::MEETINGS_ONLY).await;
        run.ok();
        assert!(
            i.protected().await,
            "protection dropped after: {step}\n{}",
            run.stderr
        );
    }
    assert_eq!(sent, 1, "presentation was sent to Scalelite on the way");
    let last = i.bbb.advance_recording(&iid).expect("the last step");
    assert!(last.contains("sender.done"), "{last}");
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(!i.protected().await, "released once Scalelite has both");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_scalelite_a_published_recording_is_done() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    std::fs::remove_file(i.path("scalelite_post_publish.rb")).unwrap();
    let mut p = RecordingPipeline::new(i.recording_dir(), Pace::Stepped);
    p.scalelite = false;
    i.bbb.set_recording_pipeline(Some(p));
    let iid = record_and_end(&i, "local");
    while i.bbb.recording_steps_left(&iid) > 1 {
        i.bbb.advance_recording(&iid);
    }
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(i.protected().await, "held while publishing");
    let last = i.bbb.advance_recording(&iid).expect("last step");
    assert!(last.starts_with("published"), "{last}");
    i.hook_with(&["protect"], &support::MEETINGS_ONLY)
        .await
        .ok();
    assert!(!i.protected().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drain_waits_for_every_stage_until_sender_done() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    pipeline(&i, RecordingOutcome::Transferred);
    let iid = record_and_end(&i, "lecture");
    let child = i
        .command(&["drain"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    i.eventually("cordoned", || {
        i.server().is_some_and(|s| s.state == ServerState::Cordoned)
    })
    .await;
    while i.bbb.recording_steps_left(&iid) > 0 {
        // Polls every 0.2 s: three polls per stage.
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(
            i.server().is_some(),
            "deregistered while the recording was still in the works"
        );
        i.bbb.advance_recording(&iid);
    }
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("drain finishes")
        .expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("waiting for the Scalelite transfer"),
        "{stderr}"
    );
    assert!(i.server().is_none());
    assert_eq!(i.record().await, None);
    assert!(i
        .lifecycle
        .calls()
        .await
        .iter()
        .all(|c| c.hook_name != TERMINATING_HOOK));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drain_with_the_pipeline_in_compressed_time() {
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    // About 3.5 simulated minutes at 1/100: roughly 2 s.
    i.bbb.set_recording_pipeline(Some(RecordingPipeline::new(
        i.recording_dir(),
        Pace::Timed { scale: 0.01 },
    )));
    let iid = record_and_end(&i, "timed");
    let out = tokio::time::timeout(Duration::from_secs(40), i.hook(&["drain"]))
        .await
        .expect("drain finishes");
    out.ok();
    assert!(
        i.path(&format!("status/published/{iid}-sender.done"))
            .exists(),
        "the drain ended before Scalelite had the recording\n{}",
        out.stderr
    );
}

/// The default (consolidation on) on a server consolidation has cordoned: Scalelite routes
/// nothing here, so protection is held by the recording alone, until Scalelite has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cordoned_server_is_held_by_its_recording_until_scalelite_has_it() {
    let consolidating = support::CONSOLIDATING;
    let i = Instance::new(60).await;
    i.hook(&["launch"]).await.ok();
    pipeline(&i, RecordingOutcome::Transferred);
    let iid = record_and_end(&i, "lecture");
    i.cordon_as_surplus().await;
    while i.bbb.recording_steps_left(&iid) > 0 {
        i.hook_with(&["protect"], &consolidating).await.ok();
        assert!(i.protected().await, "cordoned, the recording in the works");
        i.bbb.advance_recording(&iid).expect("a step");
    }
    i.hook_with(&["protect"], &consolidating).await.ok();
    assert!(!i.protected().await, "cordoned, idle, the recording sent");
}
