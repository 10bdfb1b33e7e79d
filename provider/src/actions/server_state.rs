//! `bbb_scalelite_server_state`: enable or cordon one Scalelite server, at once (no wait).

use async_trait::async_trait;
use bbb_core::scalelite::{ServerUpdate, StateChange};

use super::{find_server, plan_server, server_attribute};
use crate::provider::ProviderData;
use crate::scalelite_pool::scalelite_error;
use tfplugin_framework::validators::one_of;
use tfplugin_framework::{Action, Attribute, Block, Diagnostics, Progress, Schema, Value};

const STATES: &[&str] = &["enabled", "cordoned"];

pub struct ServerState;

fn change(state: &str) -> Option<StateChange> {
    match state {
        "enabled" => Some(StateChange::Enable),
        "cordoned" => Some(StateChange::Cordon),
        _ => None,
    }
}

#[async_trait]
impl Action<ProviderData> for ServerState {
    fn type_name(&self) -> &'static str {
        "bbb_scalelite_server_state"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description("Enables or cordons one Scalelite server at once. `cordoned`: no new meetings, the running ones go on (Scalelite disables the server once its load reads zero). `enabled`: back in service. For a drain that waits for the meetings to end, use `bbb_scalelite_server_drain`.")
                .attribute(server_attribute())
                .attribute(Attribute::string("state").required().validate(one_of(STATES)).description("`enabled` or `cordoned`.")),
        )
    }

    async fn plan(&self, data: &ProviderData, config: &Value, diags: &mut Diagnostics) {
        plan_server(data, config, diags).await;
    }

    async fn invoke(&self, data: &ProviderData, config: Value, progress: &Progress) -> Diagnostics {
        match set_state(data, &config, progress).await {
            Ok(d) | Err(d) => d,
        }
    }
}

async fn set_state(
    data: &ProviderData,
    config: &Value,
    progress: &Progress,
) -> Result<Diagnostics, Diagnostics> {
    let wanted = config.get("state").as_str().unwrap_or_default();
    let change = change(wanted).ok_or_else(|| {
        Diagnostics::from_error("Invalid state", format!("state must be one of {STATES:?}."))
    })?;
    let server = find_server(data, config).await?;
    let before = server.state.as_str();
    // A cordoned server Scalelite disabled once idle is still cordoned.
    let already = server.state == change.resulting_state()
        || (wanted == "cordoned" && server.state == bbb_core::scalelite::ServerState::Disabled);
    if already {
        progress.send(format!(
            "Server {} ({}) is already {before}: nothing to change",
            server.id, server.url
        ));
        return Ok(Diagnostics::new());
    }
    let pool = data.scalelite().await?;
    let update = ServerUpdate {
        state: Some(change),
        ..Default::default()
    };
    let after = pool
        .client()
        .update_server(&server.id, update)
        .await
        .map_err(|e| scalelite_error(&format!("set the server's state to {wanted}"), &e))?;
    pool.invalidate().await;
    progress.send(format!(
        "Server {} ({}): {before} -> {}",
        server.id,
        server.url,
        after.state.as_str()
    ));
    Ok(Diagnostics::new())
}
