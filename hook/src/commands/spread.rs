//! Spreading a burst through Scalelite's weights, run by the consolidation pass (see
//! ARCHITECTURE.md, "Consolidation"): the hook sets its own server's `load_multiplier` to what
//! [`bbb_core::scaling::load_multipliers`] computes, so Scalelite's least-loaded choice gives each
//! server about as many `create`s of a burst as it has room for.
//!
//! A server's multiplier depends only on its own figures, so each hook computes its own from
//! its local BBB's `getMeetings` (meetings, participants, and by `createTime` the young
//! meetings Scalelite's poller counts as at least 15 and the old ones that pin the server) and
//! every hook's choice agrees with the others'. `updateServer` is sent only when the multiplier
//! differs from the one Scalelite holds (one call per real change, not per pass), and each one
//! is logged as one `consolidation decision` event with its inputs and reason.

use bbb_core::bbb::Meeting;
use bbb_core::scalelite::{ScaleliteClient, Server, ServerUpdate};
use bbb_core::scaling::{self, FleetView, Policy, ServerView, OLD_MEETING_S};
use serde::Serialize;

use crate::error::HookError;

/// Scalelite's `LOAD_JOIN_BUFFER_TIME` default: a meeting younger than this is still filling up.
pub const JOIN_BUFFER_S: u64 = 15 * 60;

/// Multipliers closer than this to Scalelite's are left alone (the rule rounds to 1/1000).
const SAME_MULTIPLIER: f64 = 5e-4;

/// `base` (the server's entry in the fleet view) with its counts from its own BBB's
/// `getMeetings` at `now_ms` (milliseconds since the epoch, as BBB's `createTime`).
pub fn with_local_meetings(base: &ServerView, meetings: &[Meeting], now_ms: u64) -> ServerView {
    let mut view = base.clone();
    let age_s = |m: &Meeting| now_ms.saturating_sub(m.create_time) / 1000;
    let count = |f: &dyn Fn(&Meeting) -> bool| meetings.iter().filter(|m| f(m)).count() as u32;
    view.meetings = meetings.len() as u32;
    view.participants = meetings.iter().map(|m| m.participant_count).sum();
    view.young_meetings = count(&|m| age_s(m) < JOIN_BUFFER_S);
    view.young_participants = meetings
        .iter()
        .filter(|m| age_s(m) < JOIN_BUFFER_S)
        .map(|m| m.participant_count)
        .sum();
    view.old_meetings = count(&|m| age_s(m) >= OLD_MEETING_S);
    view
}

/// The record of one multiplier decision: what it was computed from and why.
#[derive(Debug, Serialize)]
pub struct MultiplierEvent<'a> {
    pub instance_id: &'a str,
    pub action: &'static str,
    pub reason: &'static str,
    pub participants: u32,
    pub meetings: u32,
    pub young_meetings: u32,
    pub young_participants: u32,
    pub old_meetings: u32,
    /// What Scalelite's poller counts before the multiplier.
    pub scalelite_attendees: u32,
    pub predicted_participants: u32,
    pub spread_meeting_participants: Option<u32>,
    pub from: f64,
    pub to: f64,
}

/// The multiplier `own` should carry, computed from the fleet `view` with `own` in place of the
/// view's entry for the same instance; `None` when the policy does not spread or the server
/// is not an in-service, registered one.
pub fn wanted_multiplier(view: &FleetView, own: &ServerView, policy: &Policy) -> Option<f64> {
    let mut view = view.clone();
    for s in view
        .servers
        .iter_mut()
        .filter(|s| s.instance_id == own.instance_id)
    {
        *s = own.clone();
    }
    scaling::load_multipliers(&view, policy)
        .into_iter()
        .find(|w| w.instance_id == own.instance_id)
        .map(|w| w.load_multiplier)
}

/// Sends `updateServer` with the wanted multiplier when it differs from the one Scalelite holds
/// for `server`; answers the updated server, or `None` when nothing was sent.
pub async fn apply(
    scalelite: &ScaleliteClient,
    server: &Server,
    view: &FleetView,
    own: &ServerView,
    policy: &Policy,
) -> Result<Option<Server>, HookError> {
    let Some(to) = wanted_multiplier(view, own, policy) else {
        return Ok(None);
    };
    if (to - server.load_multiplier).abs() < SAME_MULTIPLIER {
        return Ok(None);
    }
    let update = ServerUpdate {
        load_multiplier: Some(to),
        ..ServerUpdate::default()
    };
    let updated =
        scalelite
            .update_server(&server.id, update)
            .await
            .map_err(HookError::scalelite(
                "set the server's load multiplier in Scalelite",
            ))?;
    let event = MultiplierEvent {
        instance_id: &own.instance_id,
        action: "load_multiplier",
        reason: "spread",
        participants: own.participants,
        meetings: own.meetings,
        young_meetings: own.young_meetings,
        young_participants: own.young_participants,
        old_meetings: own.old_meetings,
        scalelite_attendees: scaling::scalelite_attendees(own),
        predicted_participants: own.predicted_participants(policy),
        spread_meeting_participants: policy.spread_meeting_participants,
        from: server.load_multiplier,
        to,
    };
    let decision = serde_json::to_string(&event).unwrap_or_default();
    tracing::info!(action = "load_multiplier", reason = "spread", from = server.load_multiplier, to, decision = %decision, "consolidation decision");
    Ok(Some(updated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bbb_core::scalelite::{ScaleliteConfig, ServerState};
    use bbb_core::scaling::{Phase, PoolState};
    use bbb_doubles::{DoubleServer, ScaleliteDouble};

    const NOW_MS: u64 = 1_800_000_000_000;

    fn meeting(participants: u32, age_s: u64) -> Meeting {
        Meeting {
            meeting_id: format!("m-{participants}-{age_s}"),
            create_time: NOW_MS - age_s * 1000,
            participant_count: participants,
            ..Meeting::default()
        }
    }

    fn in_service(id: &str) -> ServerView {
        ServerView::new(id, Phase::InService, PoolState::Enabled, 0)
    }

    #[test]
    fn local_meetings_by_create_time() {
        let meetings = [
            meeting(3, 60),
            meeting(40, 20 * 60),
            meeting(2, 3 * 3600),
            meeting(0, 0),
        ];
        let v = with_local_meetings(&in_service("i-a"), &meetings, NOW_MS);
        assert_eq!(
            (
                v.meetings,
                v.participants,
                v.young_meetings,
                v.young_participants,
                v.old_meetings
            ),
            (4, 45, 2, 3, 1)
        );
    }

    #[tokio::test]
    async fn the_computed_multiplier_is_sent_once_and_not_again_while_unchanged() {
        let double = ScaleliteDouble::start("scalelite-secret").await.unwrap();
        let mut record = DoubleServer::new("https://bbb-i-a.example.org/bigbluebutton/api", "s");
        record.state = ServerState::Enabled;
        record.load = Some(0.0);
        record.online = true;
        double.insert_server(record);
        let client =
            ScaleliteClient::new(ScaleliteConfig::new(double.url(), "scalelite-secret")).unwrap();
        // Spreading is off by default (Policy::for_capacity): turned on here.
        let mut policy = Policy::for_capacity(200);
        policy.spread_meeting_participants = Some(100);
        // A busy server beside a fresh one: the fresh one (free room 160 to the steering
        // threshold, 1.6 creates of half a server) carries 100 / 1.6.
        let view = FleetView {
            desired_capacity: 2,
            servers: vec![in_service("i-a"), in_service("i-b")],
        };
        let own = with_local_meetings(&view.servers[0], &[], NOW_MS);
        let expected = scaling::load_multipliers(&view, &policy);
        assert_eq!(expected[0].load_multiplier, 62.5);

        let server = client.get_servers().await.unwrap().remove(0);
        let updated = apply(&client, &server, &view, &own, &policy)
            .await
            .unwrap()
            .expect("sent");
        assert_eq!(double.calls("updateServer"), 1);
        assert_eq!(double.servers()[0].load_multiplier, 62.5);
        assert_eq!(updated.load_multiplier, 62.5);

        // Unchanged: nothing is sent.
        let server = client.get_servers().await.unwrap().remove(0);
        assert!(apply(&client, &server, &view, &own, &policy)
            .await
            .unwrap()
            .is_none());
        assert_eq!(double.calls("updateServer"), 1);

        // Two young meetings of 10 arrive: Scalelite counts 2 x 15 and the room shrinks to
        // 160 - 2 x 100 = 0, so the multiplier rises to 100 / 30.
        let own = with_local_meetings(&own, &[meeting(10, 30), meeting(10, 90)], NOW_MS);
        let server = client.get_servers().await.unwrap().remove(0);
        apply(&client, &server, &view, &own, &policy)
            .await
            .unwrap()
            .expect("sent again");
        assert_eq!(double.calls("updateServer"), 2);
        assert_eq!(double.servers()[0].load_multiplier, 3.333);
    }

    #[test]
    fn no_spreading_no_multiplier() {
        let mut policy = Policy::for_capacity(200);
        policy.spread_meeting_participants = None;
        let view = FleetView {
            desired_capacity: 1,
            servers: vec![in_service("i-a")],
        };
        assert_eq!(wanted_multiplier(&view, &view.servers[0], &policy), None);
        let unregistered = ServerView::new("i-a", Phase::InService, PoolState::Unregistered, 0);
        assert_eq!(
            wanted_multiplier(&view, &unregistered, &Policy::for_capacity(200)),
            None
        );
    }
}
