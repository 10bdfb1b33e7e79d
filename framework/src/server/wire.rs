//! How the server's RPCs read and write Terraform's wire values: DynamicValue decoding and
//! encoding, the shared configuration validation, a change's decoded values, and the answer to a
//! create that keeps a partial state.

use tfplugin_proto::tfplugin6 as pb;

use crate::diagnostics::Diagnostics;
use crate::path::AttrPath;
use crate::plan;
use crate::private::Private;
use crate::resource::Applied;
use crate::schema::Schema;
use crate::types::Type;
use crate::value::Value;
use crate::{json_dynamic, msgpack};

pub(super) fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

/// Decodes a DynamicValue of type `ty`: msgpack normally, JSON when that is what was sent.
pub(super) fn decode(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Diagnostics> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    if !dv.msgpack.is_empty() {
        msgpack::decode(&dv.msgpack, ty).map_err(|e| {
            Diagnostics::from_error(
                "Provider could not decode a value from Terraform",
                e.to_string(),
            )
        })
    } else if !dv.json.is_empty() {
        json_dynamic::decode(&dv.json, ty)
    } else {
        Ok(Value::Null)
    }
}

/// Validation shared by provider, resource and data-source configurations: each attribute's
/// validators, then the implementation's own cross-attribute checks.
pub(super) fn validate(
    schema: &Schema,
    ty: &Type,
    config: Option<&pb::DynamicValue>,
    own_checks: impl FnOnce(&Value, &mut Diagnostics),
) -> Diagnostics {
    let config = match decode(config, ty) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let mut diags = Diagnostics::new();
    plan::validate_config(&schema.block, &config, &AttrPath::root(), &mut diags);
    own_checks(&config, &mut diags);
    diags
}

pub(super) fn encode(value: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(value, ty),
        json: Vec::new(),
    })
}

/// The values of a planned or applied change, decoded with the resource's type.
pub(super) struct Change {
    pub(super) prior: Value,
    pub(super) planned: Value,
    pub(super) config: Value,
    pub(super) private: Private,
}

/// Decodes a PlanResourceChange or ApplyResourceChange request's values.
pub(super) fn decode_change(
    ty: &Type,
    prior: Option<&pb::DynamicValue>,
    planned: Option<&pb::DynamicValue>,
    config: Option<&pb::DynamicValue>,
    private: &[u8],
) -> Result<Change, Diagnostics> {
    Ok(Change {
        prior: decode(prior, ty)?,
        planned: decode(planned, ty)?,
        config: decode(config, ty)?,
        private: Private::from_bytes(private)?,
    })
}

/// The answer to a create that failed after making something it could not undo: the state of
/// that object with the errors, so Terraform records it as tainted and replaces it next time.
pub(super) fn kept_after_failed_create(
    block: &crate::schema::Block,
    ty: &Type,
    mut kept: Applied,
    mut diags: Diagnostics,
) -> pb::apply_resource_change::Response {
    if !diags.has_errors() {
        diags.error(
            "Create failed",
            "The create kept a partial state without saying why. This is a bug in the provider.",
        );
    }
    diags.extend(std::mem::take(&mut kept.warnings));
    plan::clear_write_only(block, &mut kept.state);
    plan::clear_unknowns(&mut kept.state);
    pb::apply_resource_change::Response {
        new_state: encode(&kept.state, ty),
        private: kept.private.to_bytes(),
        diagnostics: diags.to_proto(),
        ..Default::default()
    }
}
