//! The provider's ephemeral resources (Terraform 1.10+, OpenTofu 1.11+): values opened for one
//! run that never enter a plan or state file.

use std::sync::Arc;

use crate::provider::ProviderData;
use tfplugin_framework::EphemeralResource;

pub mod scalelite_secret;

pub fn all() -> Vec<Arc<dyn EphemeralResource<ProviderData>>> {
    vec![Arc::new(scalelite_secret::ScaleliteSecret)]
}
