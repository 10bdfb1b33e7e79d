//! Users of the sandbox's fleet, in compressed time: meetings are created through the Scalelite
//! double's routing ([`ScaleliteDouble::route_create`]: the least loaded enabled server, its
//! load raised by each create and join until the next poll), land on the chosen instance's BBB
//! double and end on their own after their duration. [`Traffic::poll`] plays Scalelite's poller
//! over the instances' BBB doubles. The group's target-tracking policy on the load the hooks
//! publish is [`crate::TargetTracking`].

use std::time::{Duration, Instant};

use bbb_doubles::{DoubleMeeting, DoubleServer, PolledMeeting, ScaleliteDouble};

use crate::Sandbox;

/// A meeting the traffic created and has not ended yet.
#[derive(Debug, Clone)]
struct Live {
    instance_id: String,
    meeting_id: String,
    ends_at: Instant,
}

/// What the traffic did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TrafficCounts {
    pub created: u64,
    /// `create`s Scalelite had no server for.
    pub refused: u64,
    /// Meetings that ended at their time.
    pub ended: u64,
    /// Meetings gone before their end (their instance terminated or crashed under them).
    pub lost: u64,
}

/// The users: meetings created through Scalelite, ended on their own.
pub struct Traffic {
    live: Vec<Live>,
    counts: TrafficCounts,
    /// Scalelite's `LOAD_JOIN_BUFFER_TIME`, compressed like the rest of the day.
    join_buffer: Duration,
}

/// The instance whose Scalelite registration `server` is (its URL names the instance).
fn instance_of(sb: &Sandbox, server: &DoubleServer) -> Option<String> {
    let url = server.url.to_ascii_lowercase();
    sb.fleet
        .views()
        .into_iter()
        .find(|v| url.contains(&v.instance_id.to_ascii_lowercase()))
        .map(|v| v.instance_id)
}

impl Traffic {
    pub fn new(join_buffer: Duration) -> Self {
        Self {
            live: Vec::new(),
            counts: TrafficCounts::default(),
            join_buffer,
        }
    }

    pub fn counts(&self) -> TrafficCounts {
        self.counts
    }

    /// Meetings running now.
    pub fn live(&self) -> usize {
        self.live.len()
    }

    /// One pass of Scalelite's poller: every registered server of a running instance is online
    /// with the load of its BBB's meetings (a cordoned one at zero becomes disabled), each saved
    /// from the view read at the pass's start.
    pub fn poll(&self, sb: &Sandbox) {
        poll(sb, &sb.scalelite, self.join_buffer);
    }

    /// A meeting of `participants` (one of them the moderator) for `duration`, created through
    /// Scalelite and joined by each participant: the instance it landed on, or `None` when
    /// Scalelite had no server.
    pub fn create(
        &mut self,
        sb: &Sandbox,
        participants: u32,
        duration: Duration,
    ) -> Option<String> {
        let Some(server) = sb.scalelite.route_create(None) else {
            self.counts.refused += 1;
            return None;
        };
        let Some(instance_id) = instance_of(sb, &server) else {
            self.counts.refused += 1;
            return None;
        };
        self.counts.created += 1;
        let meeting_id = format!("day-meeting-{}", self.counts.created);
        let created = sb.fleet.with_instance(&instance_id, |i| {
            i.bbb.add_meeting(
                DoubleMeeting::new(meeting_id.clone(), "Sandbox day meeting")
                    .with_participants(participants.max(1), 1),
            )
        });
        if created.is_none() {
            self.counts.refused += 1;
            return None;
        }
        for _ in 0..participants.max(1) {
            sb.scalelite.route_join(&server.id);
        }
        self.live.push(Live {
            instance_id: instance_id.clone(),
            meeting_id,
            ends_at: Instant::now() + duration,
        });
        Some(instance_id)
    }

    /// Ends the meetings whose time has come; counts those whose instance is gone as lost.
    pub fn end_due(&mut self, sb: &Sandbox) {
        let now = Instant::now();
        let mut kept = Vec::with_capacity(self.live.len());
        for m in self.live.drain(..) {
            let present = sb
                .fleet
                .with_instance(&m.instance_id, |i| {
                    i.bbb
                        .meetings()
                        .iter()
                        .any(|x| x.meeting_id == m.meeting_id)
                })
                .unwrap_or(false);
            if !present {
                self.counts.lost += 1;
            } else if now >= m.ends_at {
                sb.fleet
                    .with_instance(&m.instance_id, |i| i.bbb.end_meeting(&m.meeting_id));
                self.counts.ended += 1;
            } else {
                kept.push(m);
            }
        }
        self.live = kept;
    }
}

/// Scalelite's poller over the sandbox's instances (see [`Traffic::poll`]).
fn poll(sb: &Sandbox, scalelite: &ScaleliteDouble, join_buffer: Duration) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // `Server.all` first, then each server's `getMeetings` and the save of what was read: a
    // hook's state change in between meets the poller's older view, as in Scalelite.
    let read: Vec<_> = scalelite
        .servers()
        .into_iter()
        .filter_map(|s| scalelite.poll_read(&s.id).map(|r| (s, r)))
        .collect();
    for (server, read) in read {
        let Some(instance_id) = instance_of(sb, &server) else {
            continue;
        };
        let meetings = sb.fleet.with_instance(&instance_id, |i| {
            i.bbb
                .meetings()
                .iter()
                .map(|m| {
                    PolledMeeting::of(
                        m,
                        Duration::from_millis(now_ms.saturating_sub(m.create_time)),
                    )
                })
                .collect::<Vec<_>>()
        });
        if let Some(meetings) = meetings {
            scalelite.poll_save(&read, &meetings, join_buffer);
        }
    }
}

/// Instances past their launch: not terminating, registered in Scalelite and polled online
/// (cordoned ones included: they are in service, and their load is in the average).
pub(crate) fn in_service(sb: &Sandbox) -> usize {
    let servers = sb.scalelite.servers();
    sb.fleet
        .views()
        .iter()
        .filter(|v| !v.terminating)
        .filter(|v| {
            let id = v.instance_id.to_ascii_lowercase();
            servers
                .iter()
                .any(|s| s.online && s.url.to_ascii_lowercase().contains(&id))
        })
        .count()
}
