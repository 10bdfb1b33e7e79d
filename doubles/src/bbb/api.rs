//! Request handling of the BBB double: the API root, getMeetings, create and end.

use super::model::DoubleMeeting;
use super::State;
use crate::common::{apply_fault, lock, xml_escape, xml_response, Shared};
use axum::extract;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bbb_core::checksum::{self, Flavor};
use bbb_core::Secret;

const XML: &str = "text/xml;charset=utf-8";

fn success(inner: &str) -> Response {
    xml_response(
        XML,
        format!("<response><returncode>SUCCESS</returncode>{inner}</response>"),
    )
}

fn failed(key: &str, message: &str) -> Response {
    xml_response(
        XML,
        format!(
            "<response><returncode>FAILED</returncode><messageKey>{}</messageKey>\
             <message>{}</message></response>",
            xml_escape(key),
            xml_escape(message)
        ),
    )
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        "<html><body><h1>404 Not Found</h1></body></html>",
    )
        .into_response()
}

pub(super) async fn handle(
    extract::State(state): extract::State<Shared<State>>,
    method: Method,
    uri: Uri,
) -> Response {
    let path = uri.path().trim_end_matches('/');
    let Some(rest) = path.strip_prefix("/bigbluebutton/api") else {
        return not_found();
    };
    let call = rest.trim_start_matches('/');
    let counted = if call.is_empty() { "version" } else { call };
    let fault = lock(&state).instrumentation.record(counted);
    if let Some(resp) = apply_fault(&fault).await {
        return resp;
    }
    if method != Method::GET
        && method != Method::HEAD
        && !(call == "create" && method == Method::POST)
    {
        return not_found();
    }
    let raw_query = uri.query().unwrap_or_default();
    match call {
        "" => {
            let version = lock(&state).bbb_version.clone();
            success(&format!(
                "<version>2.0</version><apiVersion>2.0</apiVersion><bbbVersion>{}</bbbVersion>",
                xml_escape(&version)
            ))
        }
        "getMeetings" | "create" | "end" => {
            if let Some(refusal) = verify(&state, call, raw_query) {
                return refusal;
            }
            match call {
                "getMeetings" => get_meetings(&state),
                "create" => create(&state, raw_query),
                _ => end(&state, raw_query),
            }
        }
        _ => not_found(),
    }
}

/// `None` when the checksum passes, else bbb-web's refusal.
fn verify(state: &Shared<State>, call: &str, raw_query: &str) -> Option<Response> {
    let provided = checksum::parse_query(raw_query)
        .into_iter()
        .find(|(k, _)| k == "checksum")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty());
    let Some(provided) = provided else {
        return Some(failed("checksumError", "You must provide the checksum"));
    };
    let (secret, allowed) = {
        let st = lock(state);
        (
            Secret::new(st.secret.clone()),
            st.allowed_algorithms.clone(),
        )
    };
    let signed = checksum::bbb_signed_query(raw_query, &provided);
    if checksum::verify(Flavor::Bbb, &allowed, call, &signed, &provided, &[secret]) {
        None
    } else {
        Some(failed("checksumError", "Checksums do not match"))
    }
}

fn get_meetings(state: &Shared<State>) -> Response {
    let st = lock(state);
    if st.meetings.is_empty() {
        return success(
            "<meetings/><messageKey>noMeetings</messageKey>\
             <message>no meetings were found on this server</message>",
        );
    }
    let list: String = st.meetings.iter().map(DoubleMeeting::to_xml).collect();
    success(&format!("<meetings>{list}</meetings>"))
}

fn param(raw_query: &str, name: &str) -> Option<String> {
    checksum::parse_query(raw_query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.trim().is_empty())
}

fn create(state: &Shared<State>, raw_query: &str) -> Response {
    let Some(meeting_id) = param(raw_query, "meetingID") else {
        return failed(
            "missingParamMeetingID",
            "You must specify a meeting ID for the meeting.",
        );
    };
    let mut st = lock(state);
    let (meeting, duplicate) = match st.meetings.iter().find(|m| m.meeting_id == meeting_id) {
        Some(existing) => (existing.clone(), true),
        None => {
            let name = param(raw_query, "name").unwrap_or_else(|| meeting_id.clone());
            let mut m = DoubleMeeting::new(meeting_id, name);
            if let Some(pw) = param(raw_query, "attendeePW") {
                m.attendee_pw = pw;
            }
            if let Some(pw) = param(raw_query, "moderatorPW") {
                m.moderator_pw = pw;
            }
            // bbb-web's `record` create parameter (ApiParams.RECORD): "true" records.
            m.record = param(raw_query, "record").is_some_and(|v| v.eq_ignore_ascii_case("true"));
            st.meetings.push(m.clone());
            (m, false)
        }
    };
    let (key, message) = if duplicate {
        (
            "duplicateWarning",
            "This conference was already in existence and may currently be in progress.",
        )
    } else {
        ("", "")
    };
    success(&format!(
        "<meetingID>{}</meetingID><internalMeetingID>{}</internalMeetingID>\
         <parentMeetingID>bbb-none</parentMeetingID><attendeePW>{}</attendeePW>\
         <moderatorPW>{}</moderatorPW><createTime>{}</createTime><voiceBridge>{}</voiceBridge>\
         <dialNumber>613-555-1234</dialNumber><createDate>{}</createDate>\
         <hasUserJoined>{}</hasUserJoined><duration>0</duration>\
         <hasBeenForciblyEnded>false</hasBeenForciblyEnded><messageKey>{key}</messageKey>\
         <message>{message}</message>",
        xml_escape(&meeting.meeting_id),
        xml_escape(&meeting.internal_meeting_id),
        xml_escape(&meeting.attendee_pw),
        xml_escape(&meeting.moderator_pw),
        meeting.create_time,
        meeting.voice_bridge,
        meeting.create_time / 1000,
        meeting.has_user_joined,
    ))
}

fn end(state: &Shared<State>, raw_query: &str) -> Response {
    let Some(meeting_id) = param(raw_query, "meetingID") else {
        return failed(
            "missingParamMeetingID",
            "You must specify a meeting ID for the meeting.",
        );
    };
    if !super::end_meeting_locked(&mut lock(state), &meeting_id) {
        return failed(
            "notFound",
            concat!(
                "We could not find a meeting with that meeting ID - ",
                "perhaps the meeting is not yet running?"
            ),
        );
    }
    success(
        "<messageKey>sentEndMeetingRequest</messageKey><message>A request to end the meeting was \
         sent.  Please wait a few seconds, and then use the getMeetingInfo or isMeetingRunning API \
         calls to verify that it was ended.</message>",
    )
}
