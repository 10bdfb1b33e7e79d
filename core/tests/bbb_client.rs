//! The BBB client against wiremock stubs shaped like bbb-web's answers.

use bbb_core::bbb::{BbbClient, BbbConfig, BbbError};
use bbb_core::checksum::ChecksumAlgorithm;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const SALT: &str = "8cd8ef52e8e101574e400365b55e11a6";

/// bbb-web's check: the raw query string with `checksum=<value>` cut out, digest picked by
/// length (SHA-1/256/384/512), compared case-insensitively.
struct BbbChecksum {
    call: &'static str,
}

impl Match for BbbChecksum {
    fn matches(&self, request: &Request) -> bool {
        let raw = request.url.query().unwrap_or_default().to_owned();
        let Some(provided) = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "checksum")
            .map(|(_, v)| v.into_owned())
        else {
            return false;
        };
        let rest = raw
            .replace(&format!("&checksum={provided}"), "")
            .replace(&format!("checksum={provided}&"), "")
            .replace(&format!("checksum={provided}"), "");
        let data = format!("{}{}{}", self.call, rest, SALT);
        let ours = match provided.len() {
            40 => hex::encode(Sha1::digest(data.as_bytes())),
            64 => hex::encode(Sha256::digest(data.as_bytes())),
            96 => hex::encode(sha2::Sha384::digest(data.as_bytes())),
            128 => hex::encode(Sha512::digest(data.as_bytes())),
            _ => return false,
        };
        ours.eq_ignore_ascii_case(&provided)
    }
}

fn client(server: &MockServer, alg: ChecksumAlgorithm) -> BbbClient {
    let mut config = BbbConfig::new(format!("{}/bigbluebutton/api/", server.uri()), SALT);
    config.checksum_algorithm = alg;
    config.timeout = Duration::from_millis(500);
    BbbClient::new(config)
        .expect("client")
        .with_retries(2, Duration::from_millis(2))
}

const MEETINGS: &str = r#"<response>
<returncode>SUCCESS</returncode>
<meetings>
<meeting>
<meetingName>Physics 101</meetingName>
<meetingID>physics-101</meetingID>
<internalMeetingID>183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1531240585189</internalMeetingID>
<createTime>1531240585189</createTime>
<createDate>Tue Jul 10 16:36:25 UTC 2018</createDate>
<voiceBridge>70066</voiceBridge>
<dialNumber>613-555-1234</dialNumber>
<attendeePW>ap</attendeePW>
<moderatorPW>mp</moderatorPW>
<running>true</running>
<duration>0</duration>
<hasUserJoined>true</hasUserJoined>
<recording>false</recording>
<hasBeenForciblyEnded>false</hasBeenForciblyEnded>
<startTime>1531240585239</startTime>
<endTime>0</endTime>
<participantCount>7</participantCount>
<listenerCount>1</listenerCount>
<voiceParticipantCount>2</voiceParticipantCount>
<videoCount>3</videoCount>
<maxUsers>0</maxUsers>
<moderatorCount>2</moderatorCount>
<attendees><attendee><userID>w_1</userID><fullName>A</fullName><role>MODERATOR</role></attendee></attendees>
<metadata/>
<isBreakout>false</isBreakout>
</meeting>
<meeting>
<meetingName>Physics 101 (Room 1)</meetingName>
<meetingID>c9a4b4bc-room-1</meetingID>
<internalMeetingID>c9a4b4bc0ac9f7a0e0e0e0b1-1531240600000</internalMeetingID>
<createTime>1531240600000</createTime>
<running>false</running>
<hasUserJoined>false</hasUserJoined>
<participantCount>0</participantCount>
<moderatorCount>0</moderatorCount>
<isBreakout>true</isBreakout>
<breakout><parentMeetingID>183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1531240585189</parentMeetingID><sequence>1</sequence><freeJoin>false</freeJoin></breakout>
</meeting>
</meetings>
</response>"#;

#[tokio::test]
async fn get_meetings_parses_bbb_xml_with_every_algorithm() {
    for alg in ChecksumAlgorithm::ALL {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/bigbluebutton/api/getMeetings"))
            .and(BbbChecksum {
                call: "getMeetings",
            })
            .respond_with(ResponseTemplate::new(200).set_body_raw(MEETINGS, "text/xml"))
            .expect(1)
            .mount(&server)
            .await;
        let meetings = client(&server, alg).get_meetings().await.expect("meetings");
        assert_eq!(meetings.len(), 2, "{alg}");
        let m = &meetings[0];
        assert_eq!(m.meeting_id, "physics-101");
        assert_eq!(m.name, "Physics 101");
        assert!(m.running && m.has_user_joined && !m.is_breakout);
        assert_eq!((m.participant_count, m.moderator_count), (7, 2));
        assert_eq!(
            (m.listener_count, m.voice_participant_count, m.video_count),
            (1, 2, 3)
        );
        assert_eq!(m.create_time, 1_531_240_585_189);
        let b = &meetings[1];
        assert!(b.is_breakout && !b.running);
        assert_eq!(
            b.parent_meeting_id.as_deref(),
            Some("183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1531240585189")
        );
    }
}

#[tokio::test]
async fn no_meetings_is_empty() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/bigbluebutton/api/getMeetings"))
        .and(BbbChecksum {
            call: "getMeetings",
        })
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<response><returncode>SUCCESS</returncode><meetings/><messageKey>noMeetings</messageKey>\
             <message>no meetings were found on this server</message></response>",
            "text/xml",
        ))
        .mount(&server)
        .await;
    let meetings = client(&server, ChecksumAlgorithm::Sha256)
        .get_meetings()
        .await
        .expect("ok");
    assert!(meetings.is_empty());
}

#[tokio::test]
async fn failed_answers_keep_message_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey>\
             <message>Checksums do not match</message></response>",
            "text/xml",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server, ChecksumAlgorithm::Sha1)
        .get_meetings()
        .await
        .unwrap_err();
    assert!(err.is_checksum_error(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "BBB getMeetings: FAILED checksumError: Checksums do not match"
    );
}

#[tokio::test]
async fn api_root_needs_no_checksum() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/bigbluebutton/api"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<response><returncode>SUCCESS</returncode><version>2.0</version>\
             <apiVersion>2.0</apiVersion><bbbVersion>3.0.4</bbbVersion></response>",
            "text/xml",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let v = client(&server, ChecksumAlgorithm::Sha256)
        .api_version()
        .await
        .expect("version");
    assert_eq!(v.version, "2.0");
    assert_eq!(v.api_version.as_deref(), Some("2.0"));
    assert_eq!(v.bbb_version.as_deref(), Some("3.0.4"));
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests[0].url.query(), None);
}

#[tokio::test]
async fn bad_gateway_is_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .expect(3)
        .mount(&server)
        .await;
    let err = client(&server, ChecksumAlgorithm::Sha256)
        .get_meetings()
        .await
        .unwrap_err();
    assert_eq!(
        err,
        BbbError::Http {
            call: "getMeetings".into(),
            status: 502,
            body: "Bad Gateway".into()
        }
    );
    assert!(err.is_transient());
}

#[test]
fn config_is_normalised_and_validated() {
    let c = BbbClient::new(BbbConfig::new("https://bbb1.example.com/", SALT)).expect("ok");
    assert_eq!(c.api_url(), "https://bbb1.example.com/bigbluebutton/api");
    assert!(BbbClient::new(BbbConfig::new("bbb1.example.com", SALT)).is_err());
    assert!(BbbClient::new(BbbConfig::new("https://bbb1.example.com", "")).is_err());
    assert!(!format!("{c:?}").contains(SALT));
}
