//! The instance's registration in Scalelite.

use bbb_core::scalelite::{
    NewServer, ScaleliteClient, Server, ServerState, ServerUpdate, StateChange,
};
use bbb_core::Secret;

use crate::context::{find_server, Context};
use crate::error::HookError;

/// This instance's server in Scalelite, if registered.
pub async fn find(ctx: &Context, scalelite: &ScaleliteClient) -> Result<Option<Server>, HookError> {
    let servers = scalelite
        .get_servers()
        .await
        .map_err(HookError::scalelite("list Scalelite's servers"))?;
    Ok(find_server(&servers, &ctx.server_url()).cloned())
}

/// Registers the instance (or reuses its registration) with the fleet's settings and BBB's
/// secret, without enabling it. Corrects a registration whose secret, multiplier or tag differ
/// (the multiplier not when `keep_multiplier`: spreading set it, see `consolidate`).
pub async fn ensure(
    ctx: &Context,
    scalelite: &ScaleliteClient,
    bbb_secret: &Secret,
    keep_multiplier: bool,
) -> Result<Server, HookError> {
    let url = ctx.server_url();
    let cfg = &ctx.config;
    let Some(server) = find(ctx, scalelite).await? else {
        let server = scalelite
            .add_server(NewServer {
                url: url.clone(),
                secret: bbb_secret.clone(),
                load_multiplier: Some(cfg.load_multiplier),
                tag: cfg.scalelite_tag.clone(),
            })
            .await
            .map_err(HookError::scalelite("register the server in Scalelite"))?;
        tracing::info!(server_id = %server.id, %url, "registered in scalelite");
        return Ok(server);
    };
    let mut update = ServerUpdate::default();
    if server.secret.expose() != bbb_secret.expose() {
        update.secret = Some(bbb_secret.clone());
    }
    if !keep_multiplier && (server.load_multiplier - cfg.load_multiplier).abs() > 1e-9 {
        update.load_multiplier = Some(cfg.load_multiplier);
    }
    if server.tag != cfg.scalelite_tag {
        update.tag = Some(cfg.scalelite_tag.clone().unwrap_or_default());
    }
    if update.is_empty() {
        tracing::info!(server_id = %server.id, %url, "registration already in place");
        return Ok(server);
    }
    let changed = [
        update.secret.as_ref().map(|_| "secret"),
        update.load_multiplier.map(|_| "load_multiplier"),
        update.tag.as_ref().map(|_| "tag"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(",");
    let server = scalelite
        .update_server(&server.id, update)
        .await
        .map_err(HookError::scalelite("correct the Scalelite registration"))?;
    tracing::info!(server_id = %server.id, changed = %changed, "registration corrected");
    Ok(server)
}

/// Sets the server's state unless it already has it.
pub async fn set_state(
    scalelite: &ScaleliteClient,
    server: &Server,
    change: StateChange,
) -> Result<Server, HookError> {
    let wanted = change.resulting_state();
    // Scalelite's poller turns a cordoned server without meetings into `disabled`: that
    // counts as cordoned.
    let already = server.state == wanted
        || (change == StateChange::Cordon && server.state == ServerState::Disabled);
    if already {
        return Ok(server.clone());
    }
    let step = match change {
        StateChange::Enable => "enable the server in Scalelite",
        StateChange::Cordon => "cordon the server in Scalelite",
        StateChange::Disable => "disable the server in Scalelite",
    };
    let s = scalelite
        .update_server(
            &server.id,
            ServerUpdate {
                state: Some(change),
                ..ServerUpdate::default()
            },
        )
        .await
        .map_err(HookError::scalelite(step))?;
    tracing::info!(server_id = %s.id, state = s.state.as_str(), "scalelite state set");
    Ok(s)
}
