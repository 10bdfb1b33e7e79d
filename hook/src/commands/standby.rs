//! An instance the group has in `Standby` takes no new meeting, and takes them again once back in
//! service. So does an instance detached from the group (`Detached`: "If there is a Classic Load
//! Balancer attached to the Auto Scaling group, the instances are deregistered from the load
//! balancer", DetachInstances), until it is attached again; it is no longer the group's to
//! protect, and a reboot's launch of it registers the server disabled and waits until the instance
//! is attached again (AWS runs no launching hook on `AttachInstances`; `super::join`). What
//! follows says standby for both.
//!
//! "Instances that are on standby are still part of the Auto Scaling group, but they do not
//! actively handle load balancer traffic" (EC2 Auto Scaling user guide, "Temporarily remove
//! instances from your Auto Scaling group"): an operator puts an instance on standby to update,
//! troubleshoot or reboot it, and the group neither health-checks nor scales it in meanwhile.
//! Scalelite is this fleet's load balancer, so the hook does what a load balancer does:
//! - every `protect` pass that reads the target lifecycle state `Standby` (the metadata service
//!   shows it from `EnteringStandby` on) keeps the server cordoned in Scalelite: the first one
//!   cordons it, a later one again when the cordon was lost or the server enabled meanwhile.
//!   Cordoned, not disabled: its meetings go on and keep their joins ([`super::joinable`] keeps
//!   them joinable while they run), and no meeting is ended here. New meetings go elsewhere; as
//!   for any cordon, a `create` for a meeting id Scalelite still maps to this server and that
//!   still runs here comes here (`app/controllers/bigbluebutton_api_controller.rb`). A cordon
//!   Scalelite's poller undid (its save of the server read enabled puts it back into
//!   `server_load`) shows as a meeting created here past the cordon: the server is taken out of
//!   the routing again, disabled then cordoned ([`super::cordon_leak`]);
//! - a launch (a reboot on standby) that finds the instance on standby registers the server
//!   and leaves it disabled, and a launch that keeps failing there is not reported unhealthy
//!   (standby is for rebooting "without worrying about Amazon EC2 Auto Scaling terminating the
//!   instances as part of its health checks");
//! - the first pass that reads `InService` again (not one that cannot read the state) enables
//!   the server, protected first as every enable (`protect::protect_for_routing`), but only when
//!   the hook took it out: a server found cordoned or disabled when the standby began (an
//!   operator's maintenance, consolidation's or the health check's cordon) is left as it is.
//!   When FreeSWITCH died meanwhile the cordon becomes the health check's, lifted when
//!   FreeSWITCH is back ([`super::health_cordon`]).
//!
//! On standby the pass does nothing else but protect an instance that hosts meetings (never
//! lowering protection): the group does not scale in an instance on standby, but may as soon as
//! it is back in service, before the next pass. No health report (the group does not
//! health-check it), no consolidation (the rule counts only instances in service), no metrics.
//! BBB unreadable (stopped for the maintenance) only skips the meetings' part.

use bbb_core::scalelite::{ScaleliteClient, Server, ServerState, StateChange};
use serde::{Deserialize, Serialize};

use super::registration::{self, Why};
use crate::context::Context;
use crate::error::HookError;
use crate::local_bbb;
use crate::state::{now_millis, HookState};

/// Why the instance is out of the group's service while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Away {
    /// On standby (target lifecycle state `Standby`).
    Standby,
    /// Detached from the group (`Detached`): "If there is a Classic Load Balancer attached to
    /// the Auto Scaling group, the instances are deregistered from the load balancer"
    /// (DetachInstances). Attached again, it is `InService`.
    Detached,
}

impl Away {
    pub fn as_str(self) -> &'static str {
        match self {
            Away::Standby => "standby",
            Away::Detached => "detached",
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Away::Standby => "instance_on_standby",
            Away::Detached => "instance_detached",
        }
    }

    fn cordon_message(self) -> &'static str {
        match self {
            Away::Standby => "instance on standby: cordoned in scalelite, its meetings go on and new ones go elsewhere",
            Away::Detached => "instance detached from the group: cordoned in scalelite, its meetings go on and new ones go elsewhere",
        }
    }
}

/// What the hook did to the server in Scalelite for the instance's standby (or detachment).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standby {
    /// Not on standby (as the hook last saw it).
    #[default]
    No,
    /// On standby: the hook took the server out of Scalelite's routing (cordoned it, or the
    /// launch left it disabled), and enables it once the instance is back in service.
    Made,
    /// On standby: the server was not enabled (or not registered) then, and is left as it is.
    Found,
}

/// A `protect` pass with the instance on standby: takes the server out of Scalelite's routing
/// (again, when a write was lost or the server enabled since), keeps the meetings of a cordon
/// the hook holds joinable and that cordon out of the routing ([`super::joinable::check`]),
/// and protects an instance that hosts meetings. BBB unreadable (down for the maintenance the
/// standby is for) only skips the meetings' part.
pub async fn hold(ctx: &Context, state: &mut HookState, away: Away) -> Result<(), HookError> {
    if away == Away::Detached {
        // "If you detach an instance that is protected from scale-in, its … protection setting
        // is lost"; attached again it takes the group's: unknown until read or set again.
        state.protected = None;
        state.protection_checked_at = 0;
    }
    let activity = match local_bbb::read_activity(&ctx.settings).await {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(error = %e, away = away.as_str(), "instance out of service: BBB unreadable, its meetings not looked at");
            local_bbb::Activity::default()
        }
    };
    let meetings = activity.meetings;
    let scalelite = ctx.scalelite().await?;
    let server = registration::find(ctx, &scalelite).await?;
    let server = take_out(&scalelite, server.as_ref(), state, away, false).await?;
    match (state.standby, server) {
        // On the server as `take_out` left it: no `getServers` of its own.
        (Standby::Made, Some(server)) => {
            super::joinable::check_server(
                ctx,
                &scalelite,
                &server,
                &activity,
                super::joinable::Holder::Standby,
                &mut state.cordon_held_since_ms,
            )
            .await?;
        }
        (Standby::Found, _) => super::protect::keep_joinable(ctx, state, &activity).await?,
        _ => {}
    }
    // After the cordon, which a failed protection must not hold back.
    // A detached instance is no longer the group's to protect (or scale in).
    if away == Away::Standby
        && meetings > 0
        && ctx.config.protect_live_meetings
        && state.protected != Some(true)
    {
        // Back in service the group may scale in at once (ExitStandby raises the desired
        // capacity, which the group may have filled meanwhile): a meeting here is protected now,
        // as AWS accepts on standby.
        super::protect::write_protection(ctx, true).await?;
        state.protected = Some(true);
        tracing::info!(
            protected = true,
            meetings,
            "instance on standby hosts meetings: scale-in protection set"
        );
    }
    Ok(())
}

/// Takes the server out of Scalelite's routing for the standby: an enabled server is cordoned
/// (recorded as the hook's before the write, so that a cordon Scalelite applied but answered
/// with an error is still lifted back in service). Any other is left as it is, and enabled
/// back in service only when it is the launch's own registration (`launch`, which would have
/// enabled it) or the hook took it out already. Answers the server as Scalelite now has it.
pub async fn take_out(
    scalelite: &ScaleliteClient,
    server: Option<&Server>,
    state: &mut HookState,
    away: Away,
    launch: bool,
) -> Result<Option<Server>, HookError> {
    let Some(server) = server else {
        if state.standby == Standby::No {
            tracing::info!(
                away = away.as_str(),
                "instance out of service: server not registered in scalelite"
            );
            state.standby = Standby::Found;
        }
        return Ok(None);
    };
    if server.state == ServerState::Enabled {
        let first = state.standby != Standby::Made;
        state.standby = Standby::Made;
        let why = Why {
            message: away.cordon_message(),
            cordon: Some("standby"),
            warn: !first,
            ..Why::new(StateChange::Cordon, away.reason())
        };
        // A cordon made now: a meeting created here past it was routed here despite it
        // (`super::cordon_leak`).
        state.cordon_held_since_ms = now_millis();
        let server =
            registration::write_state(scalelite, server, StateChange::Cordon, &why).await?;
        state.set_routable(false);
        return Ok(Some(server));
    }
    if state.standby == Standby::No {
        state.standby = if launch {
            tracing::info!(server_id = %server.id, state = server.state.as_str(), away = away.as_str(), "instance out of service: registered, not enabled until the group puts the instance back in service");
            Standby::Made
        } else {
            tracing::info!(server_id = %server.id, state = server.state.as_str(), away = away.as_str(), "instance out of service: server not enabled in scalelite, left as it is");
            Standby::Found
        };
    }
    Ok(Some(server.clone()))
}

/// The first `protect` pass that reads the instance `InService` after a standby: enables a
/// server the hook took out for it (protected first), unless the health check holds a cordon
/// now (FreeSWITCH died: the cordon becomes the health check's, lifted when it is back).
pub async fn release(ctx: &Context, state: &mut HookState) -> Result<(), HookError> {
    if state.standby != Standby::Made {
        if state.standby == Standby::Found {
            tracing::info!("instance back in service from standby; the server was not taken out for it, left as it is");
        }
        state.standby = Standby::No;
        return Ok(());
    }
    let scalelite = ctx.scalelite().await?;
    match registration::find(ctx, &scalelite).await? {
        // Not registered: the registration repair re-adds it, enabled.
        None => {}
        Some(server) if server.state == ServerState::Enabled => state.set_routable(true),
        Some(_) if state.health.holds_cordon(ctx.settings.health_failures) => {
            state.health.cordon = super::health_cordon::Cordon::Made;
            state.cordon_held_since_ms = now_millis();
            tracing::warn!(
                freeswitch_failures = state.health.freeswitch_failures,
                "instance back in service from standby: left cordoned, FreeSWITCH is not answering"
            );
        }
        Some(server) => {
            super::protect::protect_for_routing(ctx, state).await?;
            let why = Why {
                message: "instance back in service from standby: enabled in scalelite",
                ..Why::new(StateChange::Enable, "instance_back_in_service")
            };
            registration::write_state(&scalelite, &server, StateChange::Enable, &why).await?;
            state.set_routable(true);
        }
    }
    state.standby = Standby::No;
    Ok(())
}
