//! Keeps a cordoned server's meetings joinable, as far as Scalelite lets it. Scalelite's poller
//! turns a cordoned server `disabled` when its polled load reads zero (`lib/tasks/poll.rake`:
//! `server.state = 'disabled' if server.cordoned? && server.load.to_f.zero?`; `docs/rake-README.md`,
//! "Cordon a server"), and `join` refuses a disabled server (`ServerDisabledError`) but not a
//! cordoned one. A load of zero does not mean the meetings are over: a meeting older than
//! `LOAD_JOIN_BUFFER_TIME` whose users all dropped at once (a network blip) reads zero, and they
//! are refused when they come back. So while the hook holds a cordon of its own (consolidation's,
//! the health check's, the drain's, the standby's) and the local BBB still runs meetings, a server Scalelite
//! disabled is cordoned again, and the joins are accepted again.
//!
//! What this cannot do: a server cordoned from `disabled` has no load, so the next poll that
//! still reads no user disables it again. Joins are then accepted from each re-cordon (every
//! protect pass, 30 s; every drain poll) to the next poll (60 s by default): a user who retries
//! gets in, and once one is in, the poll reads a load and the server stays cordoned. It repeats
//! until the users are back or BBB ends the meeting
//! (`meetingExpireWhenLastUserLeftInMinutes`), one event and one `getServers` per re-cordon.
//! Scalelite's state does not say who disabled a server, so an operator's `disable` of a server
//! the hook had cordoned is undone too while meetings run (Scalelite's own `servers:disable`
//! and `panic` end the meetings first, and then nothing is re-cordoned).

use bbb_core::scalelite::{ScaleliteClient, Server, ServerState, StateChange};

use super::registration;
use crate::context::Context;
use crate::error::HookError;
use crate::local_bbb::Activity;
use crate::state::now_millis;

/// Whose cordon the hook holds, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Consolidation,
    Health,
    Drain,
    Standby,
}

impl Holder {
    pub fn as_str(self) -> &'static str {
        match self {
            Holder::Consolidation => "consolidation",
            Holder::Health => "health",
            Holder::Drain => "drain",
            Holder::Standby => "standby",
        }
    }
}

/// Checks a cordon the hook holds, once the local BBB's `activity` shows meetings (one
/// `getServers`; nothing when no meeting runs): [`keep`]s it joinable, and takes the server out of
/// Scalelite's routing again when a meeting created since `cordoned_since_ms` shows it is still
/// routed ([`super::cordon_leak`]). Keeps `cordoned_since_ms` (Unix ms): 0 while the server reads
/// enabled (the cordon is not in force), now when it reads cordoned with none recorded (a cordon
/// found, not made) and when the hook cordons it again. `true` when it cordoned the server again.
pub async fn check(
    ctx: &Context,
    activity: &Activity,
    holder: Holder,
    cordoned_since_ms: &mut u64,
) -> Result<bool, HookError> {
    if activity.meetings == 0 {
        return Ok(false);
    }
    let scalelite = ctx.scalelite().await?;
    let Some(server) = registration::find(ctx, &scalelite).await? else {
        return Ok(false);
    };
    check_server(
        ctx,
        &scalelite,
        &server,
        activity,
        holder,
        cordoned_since_ms,
    )
    .await
}

/// [`check`] on `server` as the caller read it this pass (no `getServers` of its own).
pub async fn check_server(
    ctx: &Context,
    scalelite: &ScaleliteClient,
    server: &Server,
    activity: &Activity,
    holder: Holder,
    cordoned_since_ms: &mut u64,
) -> Result<bool, HookError> {
    if activity.meetings == 0 {
        return Ok(false);
    }
    let recordoned = match server.state {
        ServerState::Enabled => {
            *cordoned_since_ms = 0;
            false
        }
        ServerState::Disabled => keep(scalelite, server, activity.meetings, holder)
            .await?
            .is_some(),
        ServerState::Cordoned if *cordoned_since_ms == 0 => {
            *cordoned_since_ms = now_millis();
            false
        }
        ServerState::Cordoned => {
            let in_flight = ctx.settings.create_in_flight;
            super::cordon_leak::repair(
                scalelite,
                server,
                activity,
                holder,
                *cordoned_since_ms,
                in_flight,
            )
            .await?
        }
    };
    if recordoned {
        *cordoned_since_ms = now_millis();
    }
    Ok(recordoned)
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
    let why = registration::Why {
        step: "cordon again the server Scalelite disabled while it hosts meetings",
        message: "scalelite disabled the cordoned server while it hosts meetings (its load read zero): cordoned again so their joins are accepted",
        reason: "disabled_while_hosting_meetings",
        cordon: Some(holder.as_str()),
        meetings: Some(meetings),
        decision: None,
        warn: true,
    };
    let updated = registration::write_state(scalelite, server, StateChange::Cordon, &why).await?;
    Ok(Some(updated))
}
