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
/// from BBB's and the fleet's.
pub async fn ensure(
    ctx: &Context,
    scalelite: &ScaleliteClient,
    bbb_secret: &Secret,
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
    if (server.load_multiplier - cfg.load_multiplier).abs() > 1e-9 {
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

/// Why the hook writes a server's state: the error's context when Scalelite refuses, and what
/// the write's one event says (its inputs and reason).
#[derive(Debug, Clone, Copy)]
pub struct Why<'a> {
    /// What the write does ("cordon the server in Scalelite"), the error's context.
    pub step: &'static str,
    /// The event's message.
    pub message: &'static str,
    /// Why the state is written (`reason`).
    pub reason: &'a str,
    /// Whose cordon the write keeps (`cordon`), when it is one the hook holds.
    pub cordon: Option<&'a str>,
    /// The meetings the local BBB runs (`meetings`), when the decision read them.
    pub meetings: Option<usize>,
    /// The decision's record with its inputs, as JSON (`decision`), when it has one.
    pub decision: Option<&'a serde_json::Value>,
    /// Logged as a warning (a repair of what someone else changed), not as information.
    pub warn: bool,
}

impl<'a> Why<'a> {
    /// A write for `reason`, logged as "scalelite state set" with its context from `change`.
    pub fn new(change: StateChange, reason: &'a str) -> Self {
        Self {
            step: step(change),
            message: "scalelite state set",
            reason,
            cordon: None,
            meetings: None,
            decision: None,
            warn: false,
        }
    }
}

/// The error's context of a write of `change`.
fn step(change: StateChange) -> &'static str {
    match change {
        StateChange::Enable => "enable the server in Scalelite",
        StateChange::Cordon => "cordon the server in Scalelite",
        StateChange::Disable => "disable the server in Scalelite",
    }
}

/// Sets the server's state unless it already has it (see [`write_state`]).
pub async fn set_state(
    scalelite: &ScaleliteClient,
    server: &Server,
    change: StateChange,
    reason: &str,
) -> Result<Server, HookError> {
    if in_place(server, change) {
        return Ok(server.clone());
    }
    write_state(scalelite, server, change, &Why::new(change, reason)).await
}

/// Whether `server` is in the state `change` makes already. Scalelite's poller turns a cordoned
/// server without meetings into `disabled`: that counts as cordoned.
fn in_place(server: &Server, change: StateChange) -> bool {
    server.state == change.resulting_state()
        || (change == StateChange::Cordon && server.state == ServerState::Disabled)
}

/// A decision's write: [`write_state`] unless the server is in that state already, and one
/// event either way (the write's, or `why`'s with the state found and `written=false`).
pub async fn decide_state(
    scalelite: &ScaleliteClient,
    server: &Server,
    change: StateChange,
    why: &Why<'_>,
) -> Result<Server, HookError> {
    if in_place(server, change) {
        log(server, change, why, false);
        return Ok(server.clone());
    }
    write_state(scalelite, server, change, why).await
}

/// Writes the server's state in Scalelite (`updateServer`), whatever it is now, and logs the
/// write as one event: the server, the change, the state Scalelite answers and `why`. The only
/// place the hook writes a state; answers the server as Scalelite now has it.
pub async fn write_state(
    scalelite: &ScaleliteClient,
    server: &Server,
    change: StateChange,
    why: &Why<'_>,
) -> Result<Server, HookError> {
    let update = ServerUpdate {
        state: Some(change),
        ..ServerUpdate::default()
    };
    let s = scalelite
        .update_server(&server.id, update)
        .await
        .map_err(HookError::scalelite(why.step))?;
    log(&s, change, why, true);
    Ok(s)
}

/// The one event of a state decision: the server, the change, the state Scalelite has, whether
/// it was written, and `why`.
fn log(s: &Server, change: StateChange, why: &Why<'_>, written: bool) {
    macro_rules! event {
        ($level:expr) => {
            tracing::event!(
                $level,
                server_id = %s.id,
                action = %change.as_str(),
                state = s.state.as_str(),
                written,
                reason = %why.reason,
                cordon = why.cordon,
                meetings = why.meetings,
                decision = why.decision.map(tracing::field::display),
                "{}",
                why.message
            )
        };
    }
    if why.warn {
        event!(tracing::Level::WARN);
    } else {
        event!(tracing::Level::INFO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bbb_core::scalelite::ScaleliteConfig;
    use bbb_doubles::{DoubleServer, ScaleliteDouble};

    async fn disabled_server() -> (ScaleliteDouble, ScaleliteClient, Server) {
        let double = ScaleliteDouble::start("scalelite-secret").await.unwrap();
        let mut record = DoubleServer::new("https://bbb-i-a.example.org/bigbluebutton/api", "s");
        record.state = ServerState::Disabled;
        double.insert_server(record);
        let config = ScaleliteConfig {
            max_retries: 0,
            ..ScaleliteConfig::new(double.url(), "scalelite-secret")
        };
        let client = ScaleliteClient::new(config).unwrap();
        let server = client.get_servers().await.unwrap().remove(0);
        (double, client, server)
    }

    /// `set_state` counts a disabled server as cordoned and sends nothing; `write_state` (the
    /// re-cordon of a server Scalelite disabled, a re-added registration) cordons it.
    #[tokio::test]
    async fn set_state_skips_what_is_in_place_and_write_state_always_writes() {
        let (double, client, server) = disabled_server().await;
        let same = set_state(&client, &server, StateChange::Cordon, "test")
            .await
            .unwrap();
        assert_eq!(same.state, ServerState::Disabled);
        assert_eq!(double.calls("updateServer"), 0);

        let why = Why::new(StateChange::Cordon, "test");
        let cordoned = write_state(&client, &server, StateChange::Cordon, &why)
            .await
            .unwrap();
        assert_eq!(cordoned.state, ServerState::Cordoned);
        assert_eq!(double.calls("updateServer"), 1);
        assert_eq!(double.servers()[0].state, ServerState::Cordoned);
    }

    /// A refused write names what it was doing (the caller's step).
    #[tokio::test]
    async fn a_refused_write_carries_its_step() {
        let (double, client, server) = disabled_server().await;
        double.fail_next_calls("updateServer", 1, 500);
        let why = Why {
            step: "cordon again the server Scalelite disabled while it hosts meetings",
            ..Why::new(StateChange::Cordon, "test")
        };
        let e = write_state(&client, &server, StateChange::Cordon, &why)
            .await
            .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "cordon again the server Scalelite disabled while it hosts meetings: "
            ),
            "{e}"
        );
        let e = set_state(&client, &server, StateChange::Enable, "test")
            .await
            .map(|_| ())
            .err();
        assert!(e.is_none(), "the failure was for one call only: {e:?}");
        assert_eq!(double.servers()[0].state, ServerState::Enabled);
    }
}
