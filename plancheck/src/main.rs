//! `terraform-provider-plancheck`: the test-only provider of the modules' plan check
//! (scripts/plan_check.py). It serves one real provider's schema, generated from its pinned
//! cdktn-provider-* package (scripts/provider_schemas.py), under that provider's own source
//! address, so `terraform init`, `validate` and `plan` run on the modules with no network and no
//! provider binary from a registry.
//!
//! Which provider it is comes from the executable's name, as Terraform installs it from the
//! check's filesystem mirror: `terraform-provider-<name>_v<version>` (a link to this binary)
//! serves `$BBB_PLANCHECK_SCHEMAS/<name>.json`. Terraform starts it, never a person.
//!
//! It runs on the project's own plugin server (tfplugin_framework::plugin: handshake,
//! AutoMTLS, gRPC, graceful stop) with its own `tfplugin6.Provider` service: the framework's
//! schema types have no `dynamic` type, no nested attributes and no ephemeral resources, which
//! the real providers' schemas use.

mod known_at_plan;
mod schema;
mod service;
mod values;

use std::path::PathBuf;
use std::process::ExitCode;

/// `terraform-provider-aws_v6.69.1` -> `aws`.
fn provider_name(arg0: &str) -> Option<String> {
    let file = std::path::Path::new(arg0).file_name()?.to_str()?;
    let rest = file.strip_prefix("terraform-provider-")?;
    let name = rest.split('_').next()?;
    (!name.is_empty() && name != "plancheck").then(|| name.to_string())
}

fn main() -> ExitCode {
    let arg0 = std::env::args().next().unwrap_or_default();
    let Some(name) = provider_name(&arg0) else {
        eprintln!(
            "terraform-provider-plancheck: run it as terraform-provider-<name>_v<version> (a link), as the plan check's mirror installs it"
        );
        return ExitCode::from(2);
    };
    let Some(dir) = std::env::var_os("BBB_PLANCHECK_SCHEMAS") else {
        eprintln!("terraform-provider-plancheck: BBB_PLANCHECK_SCHEMAS (the directory of <name>.json schemas) is not set");
        return ExitCode::from(2);
    };
    let path = PathBuf::from(dir).join(format!("{name}.json"));
    let schema = match schema::ProviderSchema::load(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("terraform-provider-plancheck: {e}");
            return ExitCode::from(1);
        }
    };
    tracing::debug!(provider = %schema.source, "serving the plan check's schema");
    tfplugin_framework::plugin::run_rpc(move || service::SchemaProvider::new(schema))
}

#[cfg(test)]
mod tests {
    use super::provider_name;

    #[test]
    fn the_provider_comes_from_the_executable_name() {
        assert_eq!(provider_name("/m/registry.terraform.io/hashicorp/aws/6.69.1/linux_amd64/terraform-provider-aws_v6.69.1").as_deref(), Some("aws"));
        assert_eq!(
            provider_name("terraform-provider-bbb").as_deref(),
            Some("bbb")
        );
        assert_eq!(provider_name("terraform-provider-plancheck"), None);
        assert_eq!(provider_name("something-else"), None);
    }
}
