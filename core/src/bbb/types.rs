//! Typed values of the BBB API.

use crate::http::child_text;

/// One meeting as `getMeetings` lists it (created-but-unjoined and breakout rooms included).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Meeting {
    pub meeting_id: String,
    pub internal_meeting_id: Option<String>,
    pub name: String,
    /// Milliseconds since the epoch.
    pub create_time: u64,
    pub running: bool,
    pub has_user_joined: bool,
    pub participant_count: u32,
    pub moderator_count: u32,
    pub listener_count: u32,
    pub voice_participant_count: u32,
    pub video_count: u32,
    pub is_breakout: bool,
    /// For a breakout room: its parent's meeting id (`breakout/parentMeetingID`).
    pub parent_meeting_id: Option<String>,
    pub recording: bool,
}

/// What the API root (`/bigbluebutton/api`) reports; it needs no checksum.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ApiVersion {
    /// `version` (`2.0`).
    pub version: String,
    /// `apiVersion`, when present.
    pub api_version: Option<String>,
    /// `bbbVersion`, when the server reveals it.
    pub bbb_version: Option<String>,
}

fn num<T: std::str::FromStr + Default>(node: roxmltree::Node<'_, '_>, name: &str) -> T {
    child_text(node, name)
        .and_then(|t| t.parse().ok())
        .unwrap_or_default()
}

fn flag(node: roxmltree::Node<'_, '_>, name: &str) -> bool {
    child_text(node, name).is_some_and(|t| t.eq_ignore_ascii_case("true"))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

pub(crate) fn meeting_from_xml(node: roxmltree::Node<'_, '_>) -> Result<Meeting, String> {
    let meeting_id = non_empty(child_text(node, "meetingID"))
        .ok_or_else(|| "a <meeting> has no meetingID".to_owned())?;
    let parent_meeting_id = node
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "breakout")
        .and_then(|b| non_empty(child_text(b, "parentMeetingID")));
    Ok(Meeting {
        internal_meeting_id: non_empty(child_text(node, "internalMeetingID")),
        name: child_text(node, "meetingName").unwrap_or_default(),
        create_time: num(node, "createTime"),
        running: flag(node, "running"),
        has_user_joined: flag(node, "hasUserJoined"),
        participant_count: num(node, "participantCount"),
        moderator_count: num(node, "moderatorCount"),
        listener_count: num(node, "listenerCount"),
        voice_participant_count: num(node, "voiceParticipantCount"),
        video_count: num(node, "videoCount"),
        is_breakout: flag(node, "isBreakout"),
        parent_meeting_id,
        recording: flag(node, "recording"),
        meeting_id,
    })
}
