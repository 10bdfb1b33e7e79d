//! The test-only resources (`bbb_test_*`). They live in this crate, not in the provider crate,
//! so no build of `terraform-provider-bbb` (whatever packages or features are selected) can
//! contain them: only `terraform-provider-bbb-acc` serves them, through
//! [`terraform_provider_bbb::main_with_resources`].

use std::sync::Arc;

use terraform_provider_bbb::provider::ProviderData;
use tfplugin_framework::Resource;

pub mod echo;
pub mod item;

/// `bbb_test_item` and `bbb_test_echo`.
pub fn all() -> Vec<Arc<dyn Resource<ProviderData>>> {
    vec![Arc::new(item::TestItem), Arc::new(echo::TestEcho)]
}
