//! UpgradeResourceState (stored JSON state through the resource's own upgrade into the
//! current schema) and MoveResourceState (refused: no resource of this framework moves).

use tfplugin_proto::tfplugin6 as pb;
use tonic::{Response, Status};

use super::wire::encode;
use super::ProviderServer;
use crate::diagnostics::Diagnostics;
use crate::resource::Provider;
use crate::value::Value;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn upgrade_state_response(
        &self,
        req: pb::upgrade_resource_state::Request,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let respond = |d: &Diagnostics, state: Option<pb::DynamicValue>| {
            pb::upgrade_resource_state::Response {
                upgraded_state: state,
                diagnostics: d.to_proto(),
            }
        };
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            if !raw.flatmap.is_empty() {
                diags.error("Unsupported state format", "This provider never wrote flatmap state; the state file is not this provider's.");
            }
            return Ok(Response::new(respond(&diags, None)));
        }
        let json: serde_json::Value = attempt!(
            serde_json::from_slice(&raw.json).map_err(|e| Diagnostics::from_error(
                "Unreadable state",
                format!("The stored state is not JSON: {e}.")
            )),
            diags,
            respond(&diags, None)
        );
        let upgraded = attempt!(
            entry.imp.upgrade_state(req.version, json),
            diags,
            respond(&diags, None)
        );
        let value = attempt!(
            Value::from_json(&upgraded, &entry.ty).map_err(|e| Diagnostics::from_error(
                "State does not match the schema",
                format!(
                    "The stored state of {} does not fit its schema: {e}.",
                    req.type_name
                )
            )),
            diags,
            respond(&diags, None)
        );
        Ok(Response::new(respond(&diags, encode(&value, &entry.ty))))
    }
}

pub(super) fn move_state_response(
    req: pb::move_resource_state::Request,
) -> pb::move_resource_state::Response {
    let diags = Diagnostics::from_error(
        "Move not supported",
        format!(
            "{} cannot be moved from {}.",
            req.target_type_name, req.source_type_name
        ),
    );
    pb::move_resource_state::Response {
        diagnostics: diags.to_proto(),
        ..Default::default()
    }
}
