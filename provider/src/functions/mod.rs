//! The provider's functions (`provider::bbb::<name>(...)`, Terraform 1.8+, OpenTofu 1.7+), each
//! a thin call into the code the resources and the hook use, never a copy of it:
//! - `servers_needed`: `bbb_schedule`'s capacity rule ([`servers_needed`]).
//! - `api_checksum`: the BBB/Scalelite API checksum (`bbb_core::checksum`, [`api_checksum`]).
//! - `instance_record_name`: `bbb_fleet`'s record naming scheme ([`record_name`]).
//!
//! Arguments are checked with the same validators as the resources' attributes, so a bad value
//! gets the same words, with the argument named.

use std::sync::Arc;

use tfplugin_framework::validators::Validator;
use tfplugin_framework::{Args, AttrPath, Diagnostics, Function, FunctionError, Severity};

pub mod api_checksum;
pub mod record_name;
pub mod servers_needed;

/// Every function the provider serves.
pub fn all() -> Vec<Arc<dyn Function>> {
    vec![
        Arc::new(servers_needed::ServersNeeded),
        Arc::new(api_checksum::ApiChecksum),
        Arc::new(record_name::InstanceRecordName),
    ]
}

/// Runs an attribute validator on argument `name`; its first error becomes a FunctionError
/// naming the argument.
fn check(args: &Args, name: &str, validator: impl Validator) -> Result<(), FunctionError> {
    let value = args.get(name);
    if value.is_null() {
        return Ok(());
    }
    let mut diags = Diagnostics::new();
    validator.validate(&AttrPath::attr(name), value, &mut diags);
    let first = diags
        .iter()
        .find(|d| d.severity == Severity::Error)
        .map(|d| d.detail.clone());
    match first {
        Some(detail) => Err(args.error(name, detail)),
        None => Ok(()),
    }
}
