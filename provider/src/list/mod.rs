//! The provider's list resources (`terraform query`, Terraform 1.14+), one file each.

use std::sync::Arc;

use crate::provider::ProviderData;
use tfplugin_framework::ListResource;

pub mod scalelite_server;

pub fn all() -> Vec<Arc<dyn ListResource<ProviderData>>> {
    vec![Arc::new(scalelite_server::ScaleliteServerList)]
}
