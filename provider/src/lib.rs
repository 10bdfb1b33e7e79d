//! terraform-provider-bbb: a Terraform/OpenTofu provider (plugin protocol 6) for
//! BigBlueButton fleets behind Scalelite on AWS.
//!
//! Built on `tfplugin-framework` (the `framework/` crate: schema, values, planning, the
//! protocol and the go-plugin process), as providers are on terraform-plugin-framework.
//!
//! - [`config`]: the provider's own configuration.
//! - [`provider`]: the `bbb` provider: its resources and data sources.
//! - [`resources`]: one file per resource or data source.
//! - [`aws_access`]: the AWS clients built from the provider's settings.
//! - [`scalelite_pool`]: the Scalelite client and the shared server list.

pub mod asg_cache;
pub mod aws_access;
pub mod config;
pub mod provider;
pub mod resources;
pub mod scalelite_pool;

/// Entry point of the provider binary.
pub fn main() -> std::process::ExitCode {
    tfplugin_framework::plugin::run(provider::BbbProvider::default())
}

/// Entry point of a provider binary that also serves `extra` resources (the acceptance crate's
/// `terraform-provider-bbb-acc` with its test-only `bbb_test_*`). The shipped binary never
/// calls this.
pub fn main_with_resources(
    extra: Vec<std::sync::Arc<dyn tfplugin_framework::Resource<provider::ProviderData>>>,
) -> std::process::ExitCode {
    match provider::BbbProvider::with_resources(extra) {
        Ok(p) => tfplugin_framework::plugin::run(p),
        Err(e) => {
            eprintln!("terraform-provider-bbb: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
