//! The provider's actions (Terraform 1.14+: `terraform apply -invoke=action.<type>.<name>`, or
//! a resource's `action_trigger`), one file each: operations an operator runs without editing
//! the configuration. OpenTofu does not run actions.

use std::sync::Arc;

use bbb_core::scalelite::Server;

use crate::provider::ProviderData;
use tfplugin_framework::{Action, AttrPath, Attribute, Diagnostics, Value};

pub mod fleet_check;
pub mod server_drain;
pub mod server_state;

pub fn all() -> Vec<Arc<dyn Action<ProviderData>>> {
    vec![
        Arc::new(server_drain::ServerDrain),
        Arc::new(server_state::ServerState),
        Arc::new(fleet_check::FleetCheck),
    ]
}

/// The `server` attribute of the server actions: which Scalelite server they act on.
fn server_attribute() -> Attribute {
    Attribute::string("server")
        .required()
        .validate(tfplugin_framework::validators::not_blank())
        .description("The Scalelite server: its Scalelite ID, or its BBB URL (e.g. `https://bbb1.example.com`; `/bigbluebutton/api` may be left out, any spelling of the same URL matches).")
}

/// The Scalelite server `config.server` names, or an error on `server` saying Scalelite has none.
async fn find_server(data: &ProviderData, config: &Value) -> Result<Server, Diagnostics> {
    let name = config.get("server").as_str().unwrap_or_default();
    let pool = data.scalelite().await?;
    pool.find_by_id_or_url(name).await?.ok_or_else(|| {
        Diagnostics::from_error_at(
            AttrPath::attr("server"),
            "No such Scalelite server",
            format!("Scalelite has no server with ID or URL {name:?}."),
        )
    })
}

/// At plan: the server must be known to Scalelite (nothing checked while `server` is unknown).
async fn plan_server(data: &ProviderData, config: &Value, diags: &mut Diagnostics) {
    if config.get("server").is_unknown() {
        return;
    }
    if let Err(e) = find_server(data, config).await {
        diags.extend(e);
    }
}
