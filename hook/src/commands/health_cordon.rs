//! The health check's cordon: a server whose FreeSWITCH died is cordoned in Scalelite at once,
//! long before it may be reported unhealthy. bbb-web still answers `getMeetings`, so Scalelite's
//! poller keeps the server online, and its least-loaded routing keeps sending new meetings to it
//! (a server whose meetings lose their users looks lighter and draws even more), all without
//! audio; the Unhealthy report itself waits for a moment with no meeting ([`super::health`]),
//! which those new meetings may never leave.
//!
//! Cordoned, not disabled: Scalelite's `join` refuses a server that is offline or disabled, not a
//! cordoned one (`app/controllers/bigbluebutton_api_controller.rb`), so the meetings it runs
//! keep their joins, and no meeting is ended here. `create` only picks enabled servers
//! (`Server.find_available`). The poller turns the cordoned server `disabled` once its load
//! reads zero (`lib/tasks/poll.rake`); the Unhealthy report follows as before.
//!
//! The threshold: [`CORDON_FAILURES`] consecutive failed FreeSWITCH probes (two passes, 30 to 60
//! s of a dead event socket; fewer when `BBB_HOOK_HEALTH_FAILURES` is lower, none when it is 0).
//! One failed probe can be a `systemctl restart freeswitch` (a few seconds); a second one 30 s
//! later is not. The cordon is cheap and reversible (running meetings are untouched, only new
//! ones go elsewhere), and every pass it waits routes more meetings without audio to the server,
//! so it acts sooner than the report (4 passes), whose replacement can only wait anyway.
//!
//! bbb-web dead alone needs no cordon: Scalelite's poller cannot read `getMeetings`, sets the
//! server offline after `SERVER_UNHEALTHY_THRESHOLD` failed polls and drops its load
//! (`poll.rake`), and `create` only picks servers with a load.
//!
//! FreeSWITCH back before the meetings end: the cordon is lifted (the server enabled again), but
//! only a cordon this check made, and not when consolidation wants the server cordoned too (it
//! takes the cordon over, `cordoned_for_consolidation`, and enables it when the group wants it
//! back), nor once the
//! instance was reported unhealthy (the group replaces it). Until a pass reads the server enabled
//! the lift is watched ([`Cordon::Lifting`], one `getServers` a pass): Scalelite's poller can
//! write `disabled` over the enable ([`super::cordon_leak`]), and the next pass enables it again;
//! a cordon read then is someone else's (the poller never writes one), left as it is; FreeSWITCH
//! failing again cordons the server again. A server found cordoned or disabled
//! already (consolidation, an operator) is left as it is; the drain's own cordon is never seen
//! (`protect` does not run while draining). While the check holds a cordon
//! ([`HealthState::holds_cordon`]) consolidation does not enable the server and registration
//! repair re-adds a vanished registration cordoned.
//!
//! Each decision (cordon, uncordon, leave) is one `health decision` event with its inputs and
//! reason as JSON.

use bbb_core::scalelite::{ScaleliteClient, Server, ServerState, StateChange};
use serde::{Deserialize, Serialize};

use super::health::HealthState;
use super::registration;
use crate::context::Context;
use crate::error::HookError;
use crate::state::{now_millis, HookState};

/// Consecutive failed FreeSWITCH probes before the cordon (see the module documentation).
pub const CORDON_FAILURES: u32 = 2;

/// The cordon threshold for `BBB_HOOK_HEALTH_FAILURES` = `threshold`: never later than the
/// report, 0 (off) when the check is off.
pub fn cordon_after(threshold: u32) -> u32 {
    CORDON_FAILURES.min(threshold)
}

/// What the health check holds on the server in Scalelite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cordon {
    /// Nothing.
    #[default]
    None,
    /// It cordoned the enabled server: lifted when FreeSWITCH is back.
    Made,
    /// It found the server cordoned or disabled already: left as it is when FreeSWITCH is back.
    Found,
    /// It lifted its cordon (enabled the server, FreeSWITCH back) and no pass has read the server
    /// enabled since: Scalelite's poller may have written `disabled` over the enable (enabled
    /// again). Not a cordon: FreeSWITCH failing again cordons the server at once.
    Lifting,
}

impl HealthState {
    /// Whether the health check keeps the server out of Scalelite's routing: its cordon is in
    /// place, or FreeSWITCH failed past the cordon threshold (the cordon itself may have failed).
    /// Consolidation and registration repair then never enable the server.
    pub fn holds_cordon(&self, threshold: u32) -> bool {
        matches!(self.cordon, Cordon::Made | Cordon::Found)
            || (threshold > 0 && self.freeswitch_failures >= cordon_after(threshold))
    }
}

/// Everything [`decide`] looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inputs {
    /// This pass's FreeSWITCH probe failure, `None` when it passed (or is off).
    pub freeswitch: Option<String>,
    /// Consecutive failed FreeSWITCH probes, this one included.
    pub freeswitch_failures: u32,
    /// [`cordon_after`] of `BBB_HOOK_HEALTH_FAILURES`.
    pub cordon_after: u32,
    /// The cordon held so far.
    pub cordon: Cordon,
    /// The server's state in Scalelite, `None` when not registered.
    pub server_state: Option<&'static str>,
    pub cordoned_for_consolidation: bool,
    pub reported: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing to do (no event).
    None,
    /// Cordon the server.
    Cordon,
    /// Enable the server again.
    Uncordon,
    /// Record the cordon as held without changing Scalelite (found cordoned or disabled).
    Adopt,
    /// Drop the cordon without changing Scalelite (it is someone else's now).
    Release,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Healthy,
    Flap,
    Held,
    FreeswitchDead,
    AlreadyCordoned,
    NotRegistered,
    FreeswitchBack,
    CheckOff,
    CordonedForConsolidation,
    NotOurs,
    ReportedUnhealthy,
}

/// Whether [`decide`] needs the server's state this pass (a `getServers`): only when it may
/// cordon or lift.
pub fn needs_server(h: &HealthState, freeswitch_failing: bool, threshold: u32) -> bool {
    let after = cordon_after(threshold);
    match h.cordon {
        Cordon::None => after > 0 && freeswitch_failing && h.freeswitch_failures >= after,
        Cordon::Made | Cordon::Found => after == 0 || !freeswitch_failing,
        Cordon::Lifting => true,
    }
}

/// The rule (see the module documentation).
pub fn decide(i: &Inputs) -> (Action, Reason) {
    let failing = i.freeswitch.is_some() && i.cordon_after > 0;
    if failing {
        if i.freeswitch_failures < i.cordon_after {
            return (Action::None, Reason::Flap);
        }
        return match (i.cordon, i.server_state) {
            (Cordon::Made | Cordon::Found, _) => (Action::None, Reason::Held),
            (Cordon::None | Cordon::Lifting, Some("enabled")) => {
                (Action::Cordon, Reason::FreeswitchDead)
            }
            // Its own enable the poller wrote `disabled` over: cordoned, its meetings joinable.
            (Cordon::Lifting, Some("disabled")) => (Action::Cordon, Reason::FreeswitchDead),
            (Cordon::None | Cordon::Lifting, Some(_)) => (Action::Adopt, Reason::AlreadyCordoned),
            (Cordon::None, None) => (Action::None, Reason::NotRegistered),
            (Cordon::Lifting, None) => (Action::Release, Reason::NotRegistered),
        };
    }
    let back = if i.cordon_after == 0 {
        Reason::CheckOff
    } else {
        Reason::FreeswitchBack
    };
    match i.cordon {
        Cordon::None => (Action::None, Reason::Healthy),
        Cordon::Found => (Action::Release, Reason::NotOurs),
        Cordon::Made if i.reported => (Action::None, Reason::ReportedUnhealthy),
        Cordon::Made if i.cordoned_for_consolidation => {
            (Action::Release, Reason::CordonedForConsolidation)
        }
        Cordon::Made => match i.server_state {
            Some("cordoned" | "disabled") => (Action::Uncordon, back),
            // Enabled by someone else already, or no longer registered.
            _ => (Action::Release, back),
        },
        // Reported unhealthy since the lift: the group replaces the instance, not enabled again.
        Cordon::Lifting if i.reported => (Action::Release, Reason::ReportedUnhealthy),
        Cordon::Lifting if i.cordoned_for_consolidation => {
            (Action::Release, Reason::CordonedForConsolidation)
        }
        Cordon::Lifting => match i.server_state {
            // The poller's save of the server it read cordoned with no user left
            // (`lib/tasks/poll.rake`, the only state it writes).
            Some("disabled") => (Action::Uncordon, back),
            // The poller never writes `cordoned`: someone else's cordon, left as it is.
            Some("cordoned") => (Action::Release, Reason::NotOurs),
            // Read enabled (the lift holds), or no longer registered.
            _ => (Action::Release, back),
        },
    }
}

/// One pass, after `state.health.freeswitch_failures` was counted: cordons or lifts as
/// [`decide`] says. A Scalelite failure is logged and retried next pass.
pub async fn run(ctx: &Context, state: &mut HookState, freeswitch: Option<String>) {
    let threshold = ctx.settings.health_failures;
    if !needs_server(&state.health, freeswitch.is_some(), threshold) {
        return;
    }
    let found = async {
        let scalelite = ctx.scalelite().await?;
        let server = registration::find(ctx, &scalelite).await?;
        Ok::<_, HookError>((scalelite, server))
    };
    let (scalelite, server) = match found.await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "health decision: scalelite unreadable, the cordon is retried next pass");
            return;
        }
    };
    if let Some(s) = &server {
        state.set_routable(s.state == ServerState::Enabled);
    }
    let h = &state.health;
    let inputs = Inputs {
        freeswitch,
        freeswitch_failures: h.freeswitch_failures,
        cordon_after: cordon_after(threshold),
        cordon: h.cordon,
        server_state: server.as_ref().map(|s| s.state.as_str()),
        cordoned_for_consolidation: state.cordoned_for_consolidation,
        reported: h.reported,
    };
    let (action, reason) = decide(&inputs);
    let change = match action {
        Action::None => return,
        Action::Cordon => Some((StateChange::Cordon, Cordon::Made)),
        // `Lifting` until a pass reads the server enabled (then `Release`): Scalelite's poller,
        // saving a view of the server it read cordoned with no user left, can write `disabled`
        // over this enable (`lib/tasks/poll.rake`), and the next pass then enables it again.
        Action::Uncordon => Some((StateChange::Enable, Cordon::Lifting)),
        Action::Adopt => {
            state.health.cordon = Cordon::Found;
            None
        }
        Action::Release => {
            state.health.cordon = Cordon::None;
            None
        }
    };
    let record = serde_json::json!({
        "event": "health_decision",
        "instance_id": ctx.identity.instance_id,
        "action": action,
        "reason": reason,
        "inputs": inputs,
    });
    let (action_s, reason_s) = (name(&action), name(&reason));
    if let (Some((step, after)), Some(server)) = (change, server) {
        if step == StateChange::Enable {
            if let Err(e) = super::protect::protect_for_routing(ctx, state).await {
                tracing::warn!(error = %e, action = %action_s, reason = %reason_s, decision = %record, "health decision: not protected from scale-in, so not enabled; retried next pass");
                return;
            }
        }
        if let Err(e) = registration::set_state(&scalelite, &server, step, &reason_s).await {
            tracing::warn!(error = %e, action = %action_s, reason = %reason_s, decision = %record, "health decision: scalelite refused; retried next pass");
            return;
        }
        state.health.cordon = after;
        state.cordon_held_since_ms = match step {
            StateChange::Cordon => now_millis(),
            _ => 0,
        };
        state.set_routable(step == StateChange::Enable);
    }
    tracing::warn!(action = %action_s, reason = %reason_s, decision = %record, "health decision");
}

fn name(v: &impl Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A vanished registration that registration repair re-adds while the check holds a cordon:
/// cordoned instead of enabled, the cordon the check's own.
pub async fn readd_cordoned(
    ctx: &Context,
    state: &mut HookState,
    scalelite: &ScaleliteClient,
    server: &Server,
) -> Result<Server, HookError> {
    let record = serde_json::json!({
        "event": "health_decision",
        "instance_id": ctx.identity.instance_id,
        "action": Action::Cordon,
        "reason": Reason::FreeswitchDead,
        "inputs": {
            "freeswitch_failures": state.health.freeswitch_failures,
            "server_state": ServerState::Disabled.as_str(),
            "registration": "re-added",
        },
    });
    let why = registration::Why {
        message: "health decision: registration re-added cordoned",
        cordon: Some("health"),
        decision: Some(&record),
        warn: true,
        ..registration::Why::new(StateChange::Cordon, "freeswitch_dead")
    };
    // `write_state`, not `set_state`, which counts the new registration's `disabled` as
    // cordoned: disabled, the meetings it still runs could not be joined.
    let server = registration::write_state(scalelite, server, StateChange::Cordon, &why).await?;
    state.health.cordon = Cordon::Made;
    state.cordon_held_since_ms = now_millis();
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            freeswitch: Some("event socket: refused".into()),
            freeswitch_failures: 2,
            cordon_after: 2,
            cordon: Cordon::None,
            server_state: Some("enabled"),
            cordoned_for_consolidation: false,
            reported: false,
        }
    }

    #[test]
    fn a_dead_freeswitch_cordons_an_enabled_server_after_two_passes() {
        assert_eq!(cordon_after(4), 2);
        assert_eq!(cordon_after(1), 1);
        assert_eq!(cordon_after(0), 0);
        let i = inputs();
        assert_eq!(decide(&i), (Action::Cordon, Reason::FreeswitchDead));
        let flap = Inputs {
            freeswitch_failures: 1,
            ..i.clone()
        };
        assert_eq!(decide(&flap), (Action::None, Reason::Flap));
        let held = Inputs {
            cordon: Cordon::Made,
            ..i.clone()
        };
        assert_eq!(decide(&held), (Action::None, Reason::Held));
        for state in ["cordoned", "disabled"] {
            let found = Inputs {
                server_state: Some(state),
                ..i.clone()
            };
            assert_eq!(decide(&found), (Action::Adopt, Reason::AlreadyCordoned));
        }
        let gone = Inputs {
            server_state: None,
            ..i
        };
        assert_eq!(decide(&gone), (Action::None, Reason::NotRegistered));
    }

    #[test]
    fn freeswitch_back_lifts_only_the_checks_own_cordon() {
        let back = Inputs {
            freeswitch: None,
            freeswitch_failures: 0,
            cordon: Cordon::Made,
            server_state: Some("cordoned"),
            ..inputs()
        };
        assert_eq!(decide(&back), (Action::Uncordon, Reason::FreeswitchBack));
        let emptied = Inputs {
            server_state: Some("disabled"),
            ..back.clone()
        };
        assert_eq!(decide(&emptied), (Action::Uncordon, Reason::FreeswitchBack));
        let consolidation = Inputs {
            cordoned_for_consolidation: true,
            ..back.clone()
        };
        assert_eq!(
            decide(&consolidation),
            (Action::Release, Reason::CordonedForConsolidation)
        );
        let found = Inputs {
            cordon: Cordon::Found,
            ..back.clone()
        };
        assert_eq!(decide(&found), (Action::Release, Reason::NotOurs));
        let reported = Inputs {
            reported: true,
            ..back.clone()
        };
        assert_eq!(decide(&reported), (Action::None, Reason::ReportedUnhealthy));
        let enabled_meanwhile = Inputs {
            server_state: Some("enabled"),
            ..back.clone()
        };
        assert_eq!(
            decide(&enabled_meanwhile),
            (Action::Release, Reason::FreeswitchBack)
        );
        let off = Inputs {
            freeswitch: Some("refused".into()),
            cordon_after: 0,
            ..back
        };
        assert_eq!(decide(&off), (Action::Uncordon, Reason::CheckOff));
    }

    #[test]
    fn a_lift_is_watched_until_read_enabled() {
        let lifting = Inputs {
            freeswitch: None,
            freeswitch_failures: 0,
            cordon: Cordon::Lifting,
            server_state: Some("disabled"),
            ..inputs()
        };
        assert_eq!(
            decide(&lifting),
            (Action::Uncordon, Reason::FreeswitchBack),
            "the poller wrote disabled over the enable"
        );
        let cordoned = Inputs {
            server_state: Some("cordoned"),
            ..lifting.clone()
        };
        assert_eq!(decide(&cordoned), (Action::Release, Reason::NotOurs));
        let enabled = Inputs {
            server_state: Some("enabled"),
            ..lifting.clone()
        };
        assert_eq!(decide(&enabled), (Action::Release, Reason::FreeswitchBack));
        for state in ["enabled", "disabled"] {
            let dead_again = Inputs {
                freeswitch: Some("refused".into()),
                freeswitch_failures: 2,
                server_state: Some(state),
                ..lifting.clone()
            };
            assert_eq!(
                decide(&dead_again),
                (Action::Cordon, Reason::FreeswitchDead),
                "{state}"
            );
        }
        let h = HealthState {
            cordon: Cordon::Lifting,
            freeswitch_failures: 2,
            ..HealthState::default()
        };
        assert!(needs_server(&h, true, 4), "FreeSWITCH dead again is seen");
        assert!(!h.holds_cordon(0), "not a cordon");
        let healthy = HealthState {
            freeswitch_failures: 0,
            ..h
        };
        assert!(!healthy.holds_cordon(4), "consolidation may enable it");
        let reported = Inputs {
            reported: true,
            ..lifting
        };
        assert_eq!(
            decide(&reported),
            (Action::Release, Reason::ReportedUnhealthy),
            "not enabled again once reported"
        );
    }

    #[test]
    fn scalelite_is_read_only_when_the_cordon_may_change() {
        let mut h = HealthState::default();
        assert!(!needs_server(&h, false, 4));
        h.freeswitch_failures = 1;
        assert!(!needs_server(&h, true, 4), "a flap");
        h.freeswitch_failures = 2;
        assert!(needs_server(&h, true, 4));
        assert!(!needs_server(&h, true, 0), "check off");
        assert!(h.holds_cordon(4));
        assert!(!h.holds_cordon(0));
        h.cordon = Cordon::Made;
        assert!(!needs_server(&h, true, 4), "held");
        assert!(needs_server(&h, false, 4), "back");
        assert!(needs_server(&h, true, 0), "check turned off");
        h.freeswitch_failures = 0;
        assert!(h.holds_cordon(4));
    }
}
