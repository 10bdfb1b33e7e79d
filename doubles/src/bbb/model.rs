//! Meetings of the BBB double and their XML rendering (shaped like bbb-web's).

use crate::common::xml_escape;
use std::time::{SystemTime, UNIX_EPOCH};

/// A meeting on the BBB double.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoubleMeeting {
    pub meeting_id: String,
    pub internal_meeting_id: String,
    pub name: String,
    /// Milliseconds since the epoch.
    pub create_time: u64,
    pub attendee_pw: String,
    pub moderator_pw: String,
    pub voice_bridge: u32,
    pub running: bool,
    pub has_user_joined: bool,
    pub participant_count: u32,
    pub moderator_count: u32,
    pub is_breakout: bool,
    /// For a breakout room: the parent's internal meeting id.
    pub parent_internal_id: Option<String>,
    pub sequence: u32,
    /// Created with `record=true`: when it ends, BBB's recording pipeline runs for it.
    pub record: bool,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

fn sha1_hex(s: &str) -> String {
    bbb_core::checksum::ChecksumAlgorithm::Sha1.hex_digest(s.as_bytes())
}

impl DoubleMeeting {
    /// A created, not yet joined meeting (`running=false`), as `create` makes it.
    pub fn new(meeting_id: impl Into<String>, name: impl Into<String>) -> Self {
        let meeting_id = meeting_id.into();
        let create_time = now_ms();
        let internal_meeting_id = format!("{}-{create_time}", sha1_hex(&meeting_id));
        let voice_bridge = 70000 + (create_time % 9999) as u32;
        Self {
            meeting_id,
            internal_meeting_id,
            name: name.into(),
            create_time,
            attendee_pw: "ap".to_owned(),
            moderator_pw: "mp".to_owned(),
            voice_bridge,
            running: false,
            has_user_joined: false,
            participant_count: 0,
            moderator_count: 0,
            is_breakout: false,
            parent_internal_id: None,
            sequence: 0,
            record: false,
        }
    }

    /// Sets who is in the meeting; a meeting with people in it is running.
    pub fn with_participants(mut self, participants: u32, moderators: u32) -> Self {
        self.set_participants(participants, moderators);
        self
    }

    /// Created with `record=true`.
    pub fn recorded(mut self) -> Self {
        self.record = true;
        self
    }

    pub(crate) fn set_participants(&mut self, participants: u32, moderators: u32) {
        self.participant_count = participants;
        self.moderator_count = moderators;
        if participants > 0 {
            self.running = true;
            self.has_user_joined = true;
        } else {
            self.running = false;
        }
    }

    fn create_date(&self) -> String {
        // bbb-web prints java.util.Date#toString; the exact text is not interpreted by clients.
        format!("{}", self.create_time / 1000)
    }

    /// `<meeting>` element as listed by getMeetings.
    pub(crate) fn to_xml(&self) -> String {
        let breakout = if self.is_breakout {
            format!(
                "<breakout><parentMeetingID>{}</parentMeetingID><sequence>{}</sequence>\
                 <freeJoin>false</freeJoin></breakout>",
                xml_escape(self.parent_internal_id.as_deref().unwrap_or_default()),
                self.sequence
            )
        } else {
            String::new()
        };
        format!(
            "<meeting><meetingName>{name}</meetingName><meetingID>{id}</meetingID>\
             <internalMeetingID>{iid}</internalMeetingID><createTime>{ct}</createTime>\
             <createDate>{cd}</createDate><voiceBridge>{vb}</voiceBridge>\
             <dialNumber>613-555-1234</dialNumber><attendeePW>{ap}</attendeePW>\
             <moderatorPW>{mp}</moderatorPW><running>{running}</running><duration>0</duration>\
             <hasUserJoined>{joined}</hasUserJoined><recording>false</recording>\
             <hasBeenForciblyEnded>false</hasBeenForciblyEnded><startTime>{ct}</startTime>\
             <endTime>0</endTime><participantCount>{pc}</participantCount>\
             <listenerCount>0</listenerCount><voiceParticipantCount>0</voiceParticipantCount>\
             <videoCount>0</videoCount><maxUsers>0</maxUsers><moderatorCount>{mc}</moderatorCount>\
             <attendees/><metadata/><isBreakout>{brk}</isBreakout>{breakout}</meeting>",
            name = xml_escape(&self.name),
            id = xml_escape(&self.meeting_id),
            iid = xml_escape(&self.internal_meeting_id),
            ct = self.create_time,
            cd = self.create_date(),
            vb = self.voice_bridge,
            ap = xml_escape(&self.attendee_pw),
            mp = xml_escape(&self.moderator_pw),
            running = self.running,
            joined = self.has_user_joined,
            pc = self.participant_count,
            mc = self.moderator_count,
            brk = self.is_breakout,
        )
    }
}
