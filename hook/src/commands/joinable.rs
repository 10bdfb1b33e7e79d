//! Keeps a cordoned server's meetings joinable. Scalelite's poller turns a cordoned server
//! `disabled` once its load reads zero (its README, "Cordon a server": "The server state will be
//! updated to disabled by the poller once the load in server becomes zero or nil"), and its
//! `join` refuses a disabled server (`ServerDisabledError`), while a cordoned one keeps its joins.
//! A load of zero does not mean the meetings are over: a meeting older than
//! `LOAD_JOIN_BUFFER_TIME` whose users all dropped at once (a network blip, a reconnect) reads
//! zero until they are back, and they are refused when they come back. So when the hook holds a
//! cordon of its own (consolidation's, the health check's, the drain's) and the local BBB still
//! runs meetings, a server Scalelite disabled is cordoned again: Scalelite polls it again, the
//! joins are accepted, and the server goes back to `disabled` only once it really is empty
//! (BBB ends a meeting its last user left after `meetingExpireWhenLastUserLeftInMinutes`, so
//! this repeats for a few passes at most). One event per re-cordon, with its inputs.

use bbb_core::scalelite::{ScaleliteClient, Server, ServerState, ServerUpdate, StateChange};

use super::registration;
use crate::context::Context;
use crate::error::HookError;

/// Whose cordon the hook holds, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Consolidation,
    Health,
    Drain,
}

impl Holder {
    pub fn as_str(self) -> &'static str {
        match self {
            Holder::Consolidation => "consolidation",
            Holder::Health => "health",
            Holder::Drain => "drain",
        }
    }
}

/// Reads this server's registration and [`keep`]s it joinable while `meetings` run (one
/// `getServers`; nothing when no meeting runs).
pub async fn check(ctx: &Context, meetings: usize, holder: Holder) -> Result<(), HookError> {
    if meetings == 0 {
        return Ok(());
    }
    let scalelite = ctx.scalelite().await?;
    if let Some(server) = registration::find(ctx, &scalelite).await? {
        keep(&scalelite, &server, meetings, holder).await?;
    }
    Ok(())
}

/// Cordons `server` again when Scalelite disabled it while the local BBB runs `meetings`;
/// answers the server as it now is in Scalelite, `None` when nothing was sent.
pub async fn keep(
    scalelite: &ScaleliteClient,
    server: &Server,
    meetings: usize,
    holder: Holder,
) -> Result<Option<Server>, HookError> {
    if server.state != ServerState::Disabled || meetings == 0 {
        return Ok(None);
    }
    let update = ServerUpdate {
        state: Some(StateChange::Cordon),
        ..ServerUpdate::default()
    };
    let updated =
        scalelite
            .update_server(&server.id, update)
            .await
            .map_err(HookError::scalelite(
                "cordon again the server Scalelite disabled while it hosts meetings",
            ))?;
    tracing::warn!(
        server_id = %server.id,
        meetings,
        cordon = holder.as_str(),
        state = updated.state.as_str(),
        "scalelite disabled the cordoned server while it hosts meetings (its load read zero): cordoned again so their joins are accepted"
    );
    Ok(Some(updated))
}
