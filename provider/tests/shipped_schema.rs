//! The binary cargo builds for `terraform-provider-bbb` (the one a user installs) serves exactly
//! the documented resources and data sources, and never a test-only `bbb_test_*` type, however
//! the workspace was built (`cargo build --workspace`, `cargo test --workspace`, `-p` of any
//! set of packages). Asked through the real Terraform CLI (`scripts/terraform providers schema
//! -json`, the provider wired in by `dev_overrides`), as `scripts/gen-docs` asks it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb");
const SOURCE: &str = "bbb-platform/bbb";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn schema_of(binary: &str) -> serde_json::Value {
    let dir = tempfile::Builder::new()
        .prefix("bbb-shipped-")
        .tempdir()
        .expect("temp dir");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    // dev_overrides wants a folder holding `terraform-provider-<name>`.
    std::os::unix::fs::symlink(binary, plugins.join("terraform-provider-bbb")).expect("link");
    let rc = dir.path().join("terraformrc");
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            plugins.display()
        ),
    )
    .expect("cli config");
    std::fs::write(
        dir.path().join("main.tf"),
        format!("terraform {{\n  required_providers {{\n    bbb = {{ source = \"{SOURCE}\" }}\n  }}\n}}\n"),
    )
    .expect("main.tf");
    let out = Command::new(repo_root().join("scripts/terraform"))
        .args(["providers", "schema", "-json"])
        .current_dir(dir.path())
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env_remove("TF_LOG")
        .env_remove("TF_CLI_ARGS")
        .env_remove("TF_DATA_DIR")
        .output()
        .expect("run scripts/terraform");
    assert!(
        out.status.success(),
        "terraform providers schema -json over {binary} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("schema JSON")
}

fn type_names(schema: &serde_json::Value, key: &str) -> BTreeSet<String> {
    schema[key]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The types with a generated page in `docs/<folder>/` (`docs/resources/fleet.md`: `bbb_fleet`).
fn documented(folder: &str) -> BTreeSet<String> {
    std::fs::read_dir(repo_root().join("docs").join(folder))
        .expect("docs folder")
        .filter_map(|e| {
            let name = e.expect("entry").file_name().into_string().expect("utf-8");
            name.strip_suffix(".md").map(|short| format!("bbb_{short}"))
        })
        .collect()
}

#[test]
fn user_binary_serves_no_test_only_type() {
    let doc = schema_of(PROVIDER);
    let provider = &doc["provider_schemas"][format!("registry.terraform.io/{SOURCE}")];
    assert!(provider.is_object(), "no schema for {SOURCE} in {doc:#}");
    let resources = type_names(provider, "resource_schemas");
    let data_sources = type_names(provider, "data_source_schemas");
    let test_only: Vec<&String> = resources
        .iter()
        .chain(&data_sources)
        .filter(|t| t.starts_with("bbb_test_"))
        .collect();
    assert!(
        test_only.is_empty(),
        "{PROVIDER} serves test-only types {test_only:?}: a test-only resource reached the user's build"
    );
    // Not vacuous: the user's binary serves exactly what docs/ documents.
    assert_eq!(
        resources,
        documented("resources"),
        "resources of {PROVIDER}"
    );
    assert_eq!(
        data_sources,
        documented("data-sources"),
        "data sources of {PROVIDER}"
    );
}
