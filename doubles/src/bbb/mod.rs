//! A BBB double: the API root, `getMeetings`, `create` and `end` with bbb-web's checksum rules
//! (SHA-1/256/384/512 by length, case-insensitive), plus hooks to start and end meetings, and
//! BBB's recording pipeline (status files) for meetings created with `record=true`.

mod api;
mod model;
mod recording;

pub use model::DoubleMeeting;
pub use recording::{Pace, PipelineStage, RecordingOutcome, RecordingPipeline};

use crate::common::{lock, Instrumentation, Running, Shared};
use axum::Router;
use bbb_core::checksum::ChecksumAlgorithm;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct State {
    meetings: Vec<DoubleMeeting>,
    secret: String,
    allowed_algorithms: Vec<ChecksumAlgorithm>,
    bbb_version: String,
    instrumentation: Instrumentation,
    pipeline: Option<RecordingPipeline>,
    /// Stepped pace: the steps still to play, by internal meeting id.
    pending: BTreeMap<String, VecDeque<recording::Step>>,
}

/// Removes a meeting and its breakout rooms; `false` when there is no such meeting.
pub(crate) fn end_meeting_locked(state: &mut State, meeting_id: &str) -> bool {
    let Some(idx) = state
        .meetings
        .iter()
        .position(|m| m.meeting_id == meeting_id)
    else {
        return false;
    };
    // bbb-web writes the recorded mark before it drops the meeting from its list.
    if state.meetings[idx].record {
        let id = state.meetings[idx].internal_meeting_id.clone();
        start_recording(state, &id);
    }
    let ended = state.meetings.remove(idx);
    // Its breakout rooms end with it; bbb-web handles each room's end like any meeting's
    // (`processRemoveEndedMeeting`): a recorded room gets its own recorded mark.
    let rooms: Vec<String> = state
        .meetings
        .iter()
        .filter(|m| {
            m.record && m.parent_internal_id.as_deref() == Some(ended.internal_meeting_id.as_str())
        })
        .map(|m| m.internal_meeting_id.clone())
        .collect();
    for room in rooms {
        start_recording(state, &room);
    }
    state
        .meetings
        .retain(|m| m.parent_internal_id.as_deref() != Some(ended.internal_meeting_id.as_str()));
    true
}

/// Runs the recording pipeline for a recorded meeting that just ended (none configured: the
/// recording goes nowhere, as on a BBB whose recording directory nobody watches).
fn start_recording(state: &mut State, id: &str) {
    let Some(p) = state.pipeline.clone() else {
        return;
    };
    if let Err(e) = recording::apply(&p.recording_dir, &recording::recorded_mark(id)) {
        eprintln!("bbb double: cannot write the recorded mark of {id}: {e}");
        return;
    }
    let steps = recording::steps(&p, id);
    match p.pace {
        Pace::Timed { scale } => recording::play_timed(p.recording_dir.clone(), steps, scale),
        Pace::Stepped => {
            state.pending.insert(id.to_owned(), steps);
        }
    }
}

/// A running BBB double on 127.0.0.1 (ephemeral port). Stops when dropped.
#[derive(Debug)]
pub struct BbbDouble {
    state: Shared<State>,
    running: Running,
}

impl BbbDouble {
    /// Starts a double with shared secret `secret`, accepting every checksum algorithm.
    pub async fn start(secret: impl Into<String>) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            meetings: Vec::new(),
            secret: secret.into(),
            allowed_algorithms: ChecksumAlgorithm::ALL.to_vec(),
            bbb_version: "3.0.4".to_owned(),
            instrumentation: Instrumentation::default(),
            pipeline: None,
            pending: BTreeMap::new(),
        }));
        let router = Router::new()
            .fallback(api::handle)
            .with_state(state.clone());
        let running = Running::serve(router).await?;
        Ok(Self { state, running })
    }

    /// The API URL, `http://127.0.0.1:<port>/bigbluebutton/api`.
    pub fn url(&self) -> String {
        format!("http://{}/bigbluebutton/api", self.running.addr)
    }

    /// The shared secret.
    pub fn secret(&self) -> String {
        lock(&self.state).secret.clone()
    }

    /// Restricts `supportedChecksumAlgorithms`.
    pub fn set_allowed_algorithms(&self, algorithms: &[ChecksumAlgorithm]) {
        lock(&self.state).allowed_algorithms = algorithms.to_vec();
    }

    /// The `bbbVersion` the API root reports (empty: not revealed).
    pub fn set_bbb_version(&self, version: impl Into<String>) {
        lock(&self.state).bbb_version = version.into();
    }

    /// Stops serving; later requests fail to connect.
    pub async fn stop(&mut self) {
        self.running.stop().await;
    }

    // ---- meetings ----

    /// Every meeting (breakout rooms included), in creation order.
    pub fn meetings(&self) -> Vec<DoubleMeeting> {
        lock(&self.state).meetings.clone()
    }

    /// Adds a meeting directly (as if created through another front end); replaces one with the
    /// same meeting id. Returns its internal id.
    pub fn add_meeting(&self, meeting: DoubleMeeting) -> String {
        let iid = meeting.internal_meeting_id.clone();
        let mut st = lock(&self.state);
        match st
            .meetings
            .iter_mut()
            .find(|m| m.meeting_id == meeting.meeting_id)
        {
            Some(existing) => *existing = meeting,
            None => st.meetings.push(meeting),
        }
        iid
    }

    /// Starts a breakout room of `parent_meeting_id` with `participants` users; returns the
    /// room's meeting id, `None` when the parent does not exist.
    pub fn add_breakout(&self, parent_meeting_id: &str, participants: u32) -> Option<String> {
        let mut st = lock(&self.state);
        let parent = st
            .meetings
            .iter()
            .find(|m| m.meeting_id == parent_meeting_id && !m.is_breakout)?
            .clone();
        let sequence = 1 + st
            .meetings
            .iter()
            .filter(|m| {
                m.parent_internal_id.as_deref() == Some(parent.internal_meeting_id.as_str())
            })
            .count() as u32;
        let id = format!("{}-breakout-{sequence}", parent.meeting_id);
        let mut room = DoubleMeeting::new(id.clone(), format!("{} (Room {sequence})", parent.name))
            .with_participants(participants, 0);
        room.is_breakout = true;
        room.parent_internal_id = Some(parent.internal_meeting_id);
        room.sequence = sequence;
        st.meetings.push(room);
        Some(id)
    }

    /// Sets the people in a meeting (`running` follows); `false` when there is no such meeting.
    pub fn set_participants(&self, meeting_id: &str, participants: u32, moderators: u32) -> bool {
        let mut st = lock(&self.state);
        match st.meetings.iter_mut().find(|m| m.meeting_id == meeting_id) {
            Some(m) => {
                m.set_participants(participants, moderators);
                true
            }
            None => false,
        }
    }

    /// Ends a meeting and its breakout rooms; `false` when there is no such meeting.
    pub fn end_meeting(&self, meeting_id: &str) -> bool {
        end_meeting_locked(&mut lock(&self.state), meeting_id)
    }

    /// Total users over all meetings, as Scalelite's poller counts load.
    pub fn attendees(&self) -> u32 {
        lock(&self.state)
            .meetings
            .iter()
            .map(|m| m.participant_count + m.moderator_count)
            .sum()
    }

    // ---- recordings ----

    /// Plays BBB's recording pipeline for every meeting created with `record=true` that ends
    /// from now on (`None`: no pipeline).
    pub fn set_recording_pipeline(&self, pipeline: Option<RecordingPipeline>) {
        lock(&self.state).pipeline = pipeline;
    }

    /// Stepped pace: applies the next step of the recording `internal_id` and says what it was;
    /// `None` when its pipeline is over (or it has none).
    pub fn advance_recording(&self, internal_id: &str) -> Option<String> {
        let mut st = lock(&self.state);
        let root = st.pipeline.as_ref()?.recording_dir.clone();
        let queue = st.pending.get_mut(internal_id)?;
        let step = queue.pop_front()?;
        if let Err(e) = recording::apply(&root, &step.op) {
            eprintln!("bbb double: recording step {} failed: {e}", step.what);
        }
        Some(step.what)
    }

    /// Stepped pace: how many steps of the recording `internal_id` are still to play.
    pub fn recording_steps_left(&self, internal_id: &str) -> usize {
        lock(&self.state)
            .pending
            .get(internal_id)
            .map_or(0, VecDeque::len)
    }

    // ---- instrumentation ----

    /// Requests received for `call` (`getMeetings`, `create`, `end`, `version` for the root).
    pub fn calls(&self, call: &str) -> u64 {
        lock(&self.state).instrumentation.calls(call)
    }

    /// Zeroes the counters.
    pub fn reset_calls(&self) {
        lock(&self.state).instrumentation.reset_calls();
    }

    /// The next `n` requests answer HTTP `status` without doing anything.
    pub fn fail_next(&self, n: u32, status: u16) {
        lock(&self.state).instrumentation.fail_next(n, status);
    }

    /// The next `n` requests wait `delay` before being handled.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        lock(&self.state).instrumentation.delay_next(n, delay);
    }
}
