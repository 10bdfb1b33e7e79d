//! The JSON encoding of `DynamicValue` (used for raw state; never carries unknowns).

use super::diagnostics::Diagnostics;
use super::types::Type;
use super::value::Value;

pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, Diagnostics> {
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        Diagnostics::from_error(
            "Provider could not decode a value from Terraform",
            format!("invalid JSON: {e}"),
        )
    })?;
    Value::from_json(&json, ty)
        .map_err(|e| Diagnostics::from_error("Provider could not decode a value from Terraform", e))
}
