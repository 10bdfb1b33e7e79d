//! An instance the group has in `Standby` takes no new meeting, and takes them again once back in
//! service.
//!
//! "Instances that are on standby are still part of the Auto Scaling group, but they do not
//! actively handle load balancer traffic" (EC2 Auto Scaling user guide, "Temporarily remove
//! instances from your Auto Scaling group"): an operator puts an instance on standby to update,
//! troubleshoot or reboot it, and the group neither health-checks nor scales it in meanwhile.
//! Scalelite is this fleet's load balancer, so the hook does what a load balancer does:
//! - the first `protect` pass that reads the target lifecycle state `Standby` (the metadata
//!   service shows it from `EnteringStandby` on) cordons the server in Scalelite. Cordoned, not
//!   disabled: its meetings go on and keep their joins ([`super::joinable`] keeps them joinable
//!   while they run), and no meeting is ended here; `create` goes elsewhere;
//! - a launch (a reboot on standby) that finds the instance on standby registers the server
//!   and leaves it disabled;
//! - the first pass back `InService` enables the server again, protected first as every enable
//!   (`protect::protect_for_routing`), but only a cordon made for the standby: a server found
//!   cordoned or disabled (an operator's maintenance, consolidation's or the health check's
//!   cordon) is left as it is. When FreeSWITCH died meanwhile the cordon becomes the health
//!   check's, lifted when FreeSWITCH is back ([`super::health_cordon`]).
//!
//! On standby the pass does nothing else: no scale-in protection change (the group does not
//! scale in an instance on standby), no health report (the group does not health-check it), no
//! consolidation (the rule counts only instances in service), no metrics.

use bbb_core::scalelite::{ScaleliteClient, Server, ServerState, StateChange};
use serde::{Deserialize, Serialize};

use super::registration::{self, Why};
use crate::context::Context;
use crate::error::HookError;
use crate::local_bbb;
use crate::state::HookState;

/// What the hook did to the server in Scalelite for the instance's standby.
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

/// A `protect` pass with the instance on standby: the first cordons the enabled server; every
/// pass keeps that cordon's meetings joinable while they run.
pub async fn hold(ctx: &Context, state: &mut HookState) -> Result<(), HookError> {
    match state.standby {
        Standby::No => {
            let scalelite = ctx.scalelite().await?;
            let server = registration::find(ctx, &scalelite).await?;
            take_out(&scalelite, server.as_ref(), state, false).await
        }
        Standby::Made => {
            let secret = local_bbb::read_secret(&ctx.settings.bbb_properties)?;
            let bbb = local_bbb::client(&ctx.settings, secret)?;
            let meetings = local_bbb::activity(&bbb, &ctx.settings).await?.meetings;
            super::joinable::check(ctx, meetings, super::joinable::Holder::Standby).await
        }
        Standby::Found => Ok(()),
    }
}

/// Takes the server out of Scalelite's routing for the standby: an enabled server is cordoned;
/// any other is left as it is, and enabled once back in service only when it is `launch`'s
/// own registration (which the launch would have enabled).
pub async fn take_out(
    scalelite: &ScaleliteClient,
    server: Option<&Server>,
    state: &mut HookState,
    launch: bool,
) -> Result<(), HookError> {
    state.standby = match server {
        Some(server) if server.state == ServerState::Enabled => {
            let why = Why {
                message: "instance on standby: cordoned in scalelite, its meetings go on and new ones go elsewhere",
                cordon: Some("standby"),
                ..Why::new(StateChange::Cordon, "instance_on_standby")
            };
            registration::write_state(scalelite, server, StateChange::Cordon, &why).await?;
            state.set_routable(false);
            Standby::Made
        }
        Some(server) if launch => {
            tracing::info!(server_id = %server.id, state = server.state.as_str(), "instance on standby: registered, not enabled until the group puts the instance back in service");
            Standby::Made
        }
        Some(server) => {
            tracing::info!(server_id = %server.id, state = server.state.as_str(), "instance on standby: server not enabled in scalelite, left as it is");
            Standby::Found
        }
        None => {
            tracing::info!("instance on standby: server not registered in scalelite");
            Standby::Found
        }
    };
    Ok(())
}

/// The first `protect` pass back in service after a standby: enables a server the hook took
/// out for it (protected first), unless the health check holds a cordon now.
pub async fn release(ctx: &Context, state: &mut HookState) -> Result<(), HookError> {
    if state.standby != Standby::Made {
        if state.standby == Standby::Found {
            tracing::info!("instance back in service from standby; the server was not taken out for it, left as it is");
        }
        state.standby = Standby::No;
        return Ok(());
    }
    if state.health.holds_cordon(ctx.settings.health_failures) {
        // FreeSWITCH died on standby: the health check's cordon now, lifted when it is back.
        state.health.cordon = super::health_cordon::Cordon::Made;
        state.standby = Standby::No;
        tracing::warn!(
            freeswitch_failures = state.health.freeswitch_failures,
            "instance back in service from standby: left cordoned, FreeSWITCH is not answering"
        );
        return Ok(());
    }
    let scalelite = ctx.scalelite().await?;
    if let Some(server) = registration::find(ctx, &scalelite).await? {
        if server.state != ServerState::Enabled {
            super::protect::protect_for_routing(ctx, state).await?;
            let why = Why {
                message: "instance back in service from standby: enabled in scalelite",
                ..Why::new(StateChange::Enable, "instance_back_in_service")
            };
            registration::write_state(&scalelite, &server, StateChange::Enable, &why).await?;
        }
        state.set_routable(true);
    }
    // Not registered: the registration repair re-adds it, enabled.
    state.standby = Standby::No;
    Ok(())
}
