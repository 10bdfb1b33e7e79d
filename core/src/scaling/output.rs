//! What the decision rule answers: one decision per action, each with a machine-readable reason,
//! and the structured log event that records it.

use super::input::{Phase, PoolState, ServerView};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What to do to one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Scalelite `updateServer` state `cordon`: keeps its meetings, takes no new ones.
    Cordon,
    /// Scalelite `updateServer` state `enable`: takes new meetings again.
    Enable,
    /// `SetInstanceProtection` off: the group may terminate it (the drain still checks idle).
    Unprotect,
    /// Nothing to change.
    Keep,
}

impl Action {
    /// The wire form (`cordon`, `enable`, `unprotect`, `keep`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cordon => "cordon",
            Self::Enable => "enable",
            Self::Unprotect => "unprotect",
            Self::Keep => "keep",
        }
    }
}

/// Why. Stable snake_case names (`reason=` in the log event), for queries and dashboards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// Cordon: among the `surplus` least-loaded servers the group wants gone.
    Surplus,
    /// Keep: a surplus server, already cordoned, still hosting meetings (never ended by us).
    SurplusDraining,
    /// Unprotect: a surplus server with no meeting and no recording in flight.
    SurplusIdle,
    /// Keep: a surplus server, idle and unprotected, waiting for the group to terminate it.
    SurplusAwaitingTermination,
    /// Enable: cordoned or disabled, no longer surplus (demand returned): re-enabled before the
    /// group launches anything new.
    DemandReturned,
    /// Cordon: at or above the steering threshold, so new meetings go to servers with room.
    NearCapacity,
    /// Keep: cordoned for steering, still above the re-enable threshold.
    StillNearCapacity,
    /// Keep or enable: near capacity, but steering may not leave fewer than `min_enabled`
    /// servers enabled.
    LastEnabled,
    /// Keep: enabled, not surplus, below the steering threshold.
    Serving,
    /// Cordon or keep cordoned: has room, but packing (`pack_enabled`) sends new meetings to
    /// fuller servers with room first, so this one can empty and leave.
    Reserve,
    /// Keep: launching, leaving or in another lifecycle state; not the rule's to touch.
    NotInService,
    /// Keep: in service but not registered in Scalelite (the launch hook registers it).
    Unregistered,
}

impl Reason {
    /// The wire form, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Surplus => "surplus",
            Self::SurplusDraining => "surplus_draining",
            Self::SurplusIdle => "surplus_idle",
            Self::SurplusAwaitingTermination => "surplus_awaiting_termination",
            Self::DemandReturned => "demand_returned",
            Self::NearCapacity => "near_capacity",
            Self::StillNearCapacity => "still_near_capacity",
            Self::LastEnabled => "last_enabled",
            Self::Serving => "serving",
            Self::Reserve => "reserve",
            Self::NotInService => "not_in_service",
            Self::Unregistered => "unregistered",
        }
    }
}

/// One decision about one server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Decision {
    pub instance_id: String,
    pub action: Action,
    pub reason: Reason,
    /// The server's place in the surplus ranking (0 = leaves first), when it is surplus.
    pub surplus_rank: Option<u32>,
}

impl Decision {
    /// Whether the decision changes something (anything but `keep`).
    pub fn is_change(&self) -> bool {
        self.action != Action::Keep
    }
}

/// The fleet-wide figures the decisions were taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FleetSummary {
    pub desired_capacity: u32,
    /// Launching plus in-service instances: what the group compares with its desired capacity.
    pub counted: u32,
    /// `counted - desired_capacity`, at least 0: how many servers the group wants gone.
    pub surplus: u32,
    /// Enabled servers once the decisions are applied.
    pub enabled_after: u32,
    /// Participants over the fleet.
    pub participants: u32,
}

/// The rule's answer: decisions in the order the runtime applies them (for one server, a
/// `cordon` comes before its `unprotect`), servers in input order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    pub summary: FleetSummary,
    pub decisions: Vec<Decision>,
}

impl Plan {
    /// The decisions about one instance (what a hook applies to itself).
    pub fn for_instance<'a>(&'a self, instance_id: &'a str) -> impl Iterator<Item = &'a Decision> {
        self.decisions
            .iter()
            .filter(move |d| d.instance_id == instance_id)
    }

    /// The decisions that change something.
    pub fn changes(&self) -> impl Iterator<Item = &Decision> {
        self.decisions.iter().filter(|d| d.is_change())
    }

    /// One log event per decision, with the server's and the fleet's inputs.
    pub fn events<'a>(
        &'a self,
        view: &'a [ServerView],
    ) -> impl Iterator<Item = DecisionEvent> + 'a {
        self.decisions.iter().map(move |d| {
            let server = view.iter().find(|s| s.instance_id == d.instance_id);
            DecisionEvent::new(d, server, &self.summary)
        })
    }
}

/// The audit record of one decision: its inputs and reason, as one flat JSON object (one log
/// line; Loki and CloudWatch Logs Insights query its fields). `Display` renders the JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionEvent {
    pub event: String,
    pub instance_id: String,
    pub action: Action,
    pub reason: Reason,
    pub surplus_rank: Option<u32>,
    pub phase: Option<Phase>,
    pub pool: Option<PoolState>,
    pub protected: Option<bool>,
    pub participants: Option<u32>,
    pub meetings: Option<u32>,
    pub recordings_pending: Option<u32>,
    pub desired_capacity: u32,
    pub counted: u32,
    pub surplus: u32,
    pub enabled_after: u32,
    pub fleet_participants: u32,
}

/// The `event` field of every decision record.
pub const DECISION_EVENT: &str = "scaling_decision";

impl DecisionEvent {
    /// The record of `decision`, taken with `server`'s inputs and the fleet's summary.
    pub fn new(decision: &Decision, server: Option<&ServerView>, summary: &FleetSummary) -> Self {
        Self {
            event: DECISION_EVENT.to_owned(),
            instance_id: decision.instance_id.clone(),
            action: decision.action,
            reason: decision.reason,
            surplus_rank: decision.surplus_rank,
            phase: server.map(|s| s.phase),
            pool: server.map(|s| s.pool),
            protected: server.map(|s| s.protected),
            participants: server.map(|s| s.participants),
            meetings: server.map(|s| s.meetings),
            recordings_pending: server.map(|s| s.recordings_pending),
            desired_capacity: summary.desired_capacity,
            counted: summary.counted,
            surplus: summary.surplus,
            enabled_after: summary.enabled_after,
            fleet_participants: summary.participants,
        }
    }

    /// The record as one line of JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain fields cannot fail; fall back to the reason alone if it ever did.
        serde_json::to_string(self).unwrap_or_else(|_| {
            format!(
                "{{\"event\":\"{DECISION_EVENT}\",\"instance_id\":{:?},\"action\":\"{}\",\"reason\":\"{}\"}}",
                self.instance_id,
                self.action.as_str(),
                self.reason.as_str()
            )
        })
    }

    /// The record as a JSON value, for a log event that carries it as a field.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::Value::String(self.to_json()))
    }
}

impl fmt::Display for DecisionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}
