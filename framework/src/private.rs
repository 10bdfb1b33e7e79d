//! Private state: provider-only data Terraform stores beside a resource's state.

use serde_json::{Map, Value as Json};

use super::diagnostics::Diagnostics;

/// A JSON object stored as the resource's private bytes. Never shown to users.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Private(Map<String, Json>);

impl Private {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Diagnostics> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_slice(bytes).map(Self).map_err(|e| {
            Diagnostics::from_error(
                "Unreadable private state",
                format!("The provider's private data for this resource is not a JSON object: {e}."),
            )
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        if self.0.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(&self.0).unwrap_or_default()
        }
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0.get(key)
    }

    pub fn set(&mut self, key: &str, value: impl Into<Json>) {
        self.0.insert(key.to_string(), value.into());
    }
}
