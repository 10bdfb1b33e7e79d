//! The BBB double: the core BBB client end to end, and bbb-web's checksum rules.

use bbb_core::bbb::{BbbClient, BbbConfig, BbbError};
use bbb_core::checksum::{checksum, ChecksumAlgorithm};
use bbb_core::Secret;
use bbb_doubles::{BbbDouble, DoubleMeeting};
use std::time::Duration;

const SALT: &str = "bbb-salt";

fn client(double: &BbbDouble, alg: ChecksumAlgorithm) -> BbbClient {
    let mut config = BbbConfig::new(double.url(), double.secret());
    config.checksum_algorithm = alg;
    config.timeout = Duration::from_millis(800);
    BbbClient::new(config)
        .expect("client")
        .with_retries(2, Duration::from_millis(5))
}

#[tokio::test]
async fn meetings_start_and_end() {
    let double = BbbDouble::start(SALT).await.expect("start");
    let c = client(&double, ChecksumAlgorithm::Sha256);

    let v = c.api_version().await.expect("version");
    assert_eq!(v.version, "2.0");
    assert_eq!(v.bbb_version.as_deref(), Some("3.0.4"));
    assert!(c.get_meetings().await.expect("none").is_empty());

    let created = c
        .create_meeting("physics-101", "Physics <101>")
        .await
        .expect("create");
    assert!(!created.duplicate);
    let again = c
        .create_meeting("physics-101", "Physics <101>")
        .await
        .expect("dup");
    assert!(again.duplicate);
    assert_eq!(again.internal_meeting_id, created.internal_meeting_id);

    let meetings = c.get_meetings().await.expect("list");
    assert_eq!(meetings.len(), 1);
    assert_eq!(meetings[0].name, "Physics <101>");
    assert!(!meetings[0].running, "created but nobody joined");

    assert!(double.set_participants("physics-101", 5, 1));
    let room = double.add_breakout("physics-101", 2).expect("breakout");
    let meetings = c.get_meetings().await.expect("list");
    assert_eq!(meetings.len(), 2);
    let parent = &meetings[0];
    assert!(parent.running);
    assert_eq!((parent.participant_count, parent.moderator_count), (5, 1));
    let b = &meetings[1];
    assert_eq!(b.meeting_id, room);
    assert!(b.is_breakout && b.running);
    assert_eq!(b.parent_meeting_id, created.internal_meeting_id);
    assert_eq!(double.attendees(), 8);

    // Ending the parent ends its breakout rooms.
    c.end_meeting("physics-101").await.expect("end");
    assert!(c.get_meetings().await.expect("list").is_empty());
    let err = c.end_meeting("physics-101").await.unwrap_err();
    assert_eq!(err.message_key(), Some("notFound"));

    // A breakout room alone still counts as live work.
    double.add_meeting(DoubleMeeting::new("m2", "Two").with_participants(0, 0));
    double.add_breakout("m2", 3).expect("breakout");
    assert!(double.end_meeting("m2"));
    assert!(double.meetings().is_empty());
    double.add_meeting(DoubleMeeting::new("m3", "Three"));
    double.add_breakout("m3", 1).expect("breakout");
    let listed = c.get_meetings().await.expect("list");
    assert!(listed.iter().any(|m| m.is_breakout));
    assert_eq!(double.calls("getMeetings"), 5);
    assert_eq!(double.calls("create"), 2);
    assert_eq!(double.calls("version"), 1);
}

#[tokio::test]
async fn every_algorithm_and_case_insensitive_checksums() {
    let double = BbbDouble::start(SALT).await.expect("start");
    for alg in ChecksumAlgorithm::ALL {
        client(&double, alg).get_meetings().await.expect("accepted");
    }
    let http = reqwest::Client::new();
    let sum = checksum(
        ChecksumAlgorithm::Sha384,
        "getMeetings",
        "",
        &Secret::new(SALT),
    );
    let body = http
        .get(format!(
            "{}/getMeetings?checksum={}",
            double.url(),
            sum.to_uppercase()
        ))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(body.contains("<returncode>SUCCESS</returncode>"), "{body}");
    assert!(
        body.contains("<messageKey>noMeetings</messageKey>"),
        "{body}"
    );

    // The raw query string is signed, parameters in the order sent.
    let q = "meetingID=a%20b&name=x";
    let sum = checksum(ChecksumAlgorithm::Sha1, "create", q, &Secret::new(SALT));
    let body = http
        .get(format!("{}/create?{q}&checksum={sum}", double.url()))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(body.contains("<meetingID>a b</meetingID>"), "{body}");
    let swapped = "name=x&meetingID=a%20b";
    let body = http
        .get(format!("{}/create?{swapped}&checksum={sum}", double.url()))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        body.contains("<messageKey>checksumError</messageKey>"),
        "{body}"
    );
}

#[tokio::test]
async fn checksum_failures() {
    let double = BbbDouble::start(SALT).await.expect("start");
    let mut config = BbbConfig::new(double.url(), "wrong-salt");
    config.checksum_algorithm = ChecksumAlgorithm::Sha256;
    let err = BbbClient::new(config)
        .expect("client")
        .get_meetings()
        .await
        .unwrap_err();
    assert_eq!(
        err,
        BbbError::Failed {
            call: "getMeetings".into(),
            message_key: "checksumError".into(),
            message: "Checksums do not match".into()
        }
    );
    double.set_allowed_algorithms(&[ChecksumAlgorithm::Sha256, ChecksumAlgorithm::Sha512]);
    let err = client(&double, ChecksumAlgorithm::Sha1)
        .get_meetings()
        .await
        .unwrap_err();
    assert!(err.is_checksum_error());
    client(&double, ChecksumAlgorithm::Sha512)
        .get_meetings()
        .await
        .expect("allowed");
    let body = reqwest::get(format!("{}/getMeetings", double.url()))
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(body.contains("You must provide the checksum"), "{body}");
    let resp = reqwest::get(format!("{}/isMeetingRunning", double.url()))
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 404);
}

#[tokio::test]
async fn fault_injection() {
    let double = BbbDouble::start(SALT).await.expect("start");
    let c = client(&double, ChecksumAlgorithm::Sha256);
    double.fail_next(2, 502);
    assert!(c.get_meetings().await.expect("third try").is_empty());
    assert_eq!(double.calls("getMeetings"), 3);
    double.fail_next(1, 500);
    let err = c.create_meeting("m", "M").await.unwrap_err();
    assert!(matches!(err, BbbError::Http { status: 500, .. }), "{err:?}");
    assert!(double.meetings().is_empty());
    double.delay_next(3, Duration::from_secs(2));
    let err = c.get_meetings().await.unwrap_err();
    assert!(
        matches!(err, BbbError::Timeout { attempts: 3, .. }),
        "{err:?}"
    );
}
