//! The provider runtime under the real Terraform CLI, through the test-only `bbb_test_item`:
//! plan, apply, refresh, drift, import, state upgrade, write-only and sensitive values,
//! validation diagnostics, unknown provider configuration, destroy.

use bbb_acceptance_tests::{Workspace, PROVIDER_SOURCE};
use serde_json::json;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

fn item(name: &str, value: &str) -> String {
    format!(
        r#"
provider "bbb" {{}}

resource "bbb_test_item" "a" {{
  name              = "{name}"
  value             = "{value}"
  labels            = {{ env = "dev" }}
  secret            = "kept-in-state"
  secret_wo         = "never-in-state"
  secret_wo_version = 1

  settings {{
    mode = "fast"
  }}

  rule {{
    port     = 443
    protocol = "tcp"
  }}
}}
"#
    )
}

fn stored_items(ws: &Workspace) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    for entry in std::fs::read_dir(ws.item_store()).expect("store").flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("item");
        items.push(serde_json::from_str(&text).expect("item JSON"));
    }
    items
}

#[test]
fn full_lifecycle_plan_apply_refresh_drift_import_destroy() {
    let ws = Workspace::new(PROVIDER);
    ws.write_config(&item("alpha", "one"));

    // Create plan: computed values unknown, defaults planned, write-only never planned.
    let change = ws.planned_change("bbb_test_item.a");
    assert_eq!(change["change"]["actions"], json!(["create"]));
    assert_eq!(change["change"]["after_unknown"]["id"], json!(true));
    assert_eq!(change["change"]["after_unknown"]["revision"], json!(true));
    assert_eq!(change["change"]["after"]["size"], json!(1));
    assert_eq!(change["change"]["after"]["secret_wo"], json!(null));
    assert_eq!(change["change"]["after_sensitive"]["secret"], json!(true));

    ws.apply();
    let values = ws.resource_values("bbb_test_item.a");
    let id = values["id"].as_str().expect("id").to_string();
    assert_eq!(values["revision"], json!(1));
    assert_eq!(values["value"], json!("one"));
    assert_eq!(values["rule"], json!([{"port": 443, "protocol": "tcp"}]));
    assert_eq!(values["settings"], json!({"mode": "fast", "retries": null}));
    // The write-only value reached the provider but not the state.
    let stored = stored_items(&ws);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["secret_wo"], json!("never-in-state"));
    assert!(
        !ws.raw_state().contains("never-in-state"),
        "write-only value leaked into state"
    );
    ws.assert_no_changes();

    // In-place update: id kept (use-state-for-unknown), revision recomputed.
    ws.write_config(&item("alpha", "two"));
    let change = ws.planned_change("bbb_test_item.a");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    assert_eq!(change["change"]["after"]["id"], json!(id));
    assert_eq!(change["change"]["after_unknown"]["revision"], json!(true));
    ws.apply();
    let values = ws.resource_values("bbb_test_item.a");
    assert_eq!(
        (values["id"].as_str(), values["revision"].as_f64()),
        (Some(id.as_str()), Some(2.0))
    );

    // Drift: a change outside Terraform shows in the next plan and apply reverts it.
    let path = ws.item_store().join(format!("{id}.json"));
    let mut outside: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    outside["value"] = json!("changed-outside");
    std::fs::write(&path, outside.to_string()).expect("write");
    let change = ws.planned_change("bbb_test_item.a");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    assert_eq!(
        change["change"]["before"]["value"],
        json!("changed-outside")
    );
    assert_eq!(change["change"]["after"]["value"], json!("two"));
    ws.apply();
    ws.assert_no_changes();

    // Requires-replace: a new name destroys and re-creates.
    ws.write_config(&item("beta", "two"));
    let change = ws.planned_change("bbb_test_item.a");
    assert_eq!(change["change"]["actions"], json!(["delete", "create"]));
    assert_eq!(change["change"]["replace_paths"], json!([["name"]]));
    ws.apply();
    let new_id = ws.resource_values("bbb_test_item.a")["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_ne!(new_id, id);
    assert_eq!(stored_items(&ws).len(), 1, "the replaced item is gone");

    // Import: forget the item, import it by ID, and nothing is left to change.
    ws.ok(&["state", "rm", "bbb_test_item.a"]);
    ws.ok(&["import", "-no-color", "bbb_test_item.a", &new_id]);
    assert_eq!(ws.resource_values("bbb_test_item.a")["name"], json!("beta"));
    // The write-only secret is not importable; it is sent again only when its version changes.
    ws.assert_no_changes();

    // Removed outside Terraform: refresh forgets it, the plan creates it again.
    std::fs::remove_file(ws.item_store().join(format!("{new_id}.json"))).expect("remove");
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(ws.resource_values("bbb_test_item.a"), json!(null));
    let change = ws.planned_change("bbb_test_item.a");
    assert_eq!(change["change"]["actions"], json!(["create"]));

    ws.apply();
    ws.destroy();
    assert!(stored_items(&ws).is_empty(), "destroy removed every item");
    assert_eq!(ws.resource_values("bbb_test_item.a"), json!(null));
}

#[test]
fn import_block_and_missing_object() {
    let ws = Workspace::new(PROVIDER);
    ws.write_config(&item("gamma", "x"));
    ws.apply();
    let id = ws.resource_values("bbb_test_item.a")["id"]
        .as_str()
        .expect("id")
        .to_string();

    // A second working directory adopts the same object with an import block.
    let other = Workspace::new(PROVIDER);
    std::fs::copy(
        ws.item_store().join(format!("{id}.json")),
        other.item_store().join(format!("{id}.json")),
    )
    .expect("copy");
    other.write_config(&format!(
        "{}\nimport {{\n  to = bbb_test_item.a\n  id = \"{id}\"\n}}\n",
        item("gamma", "x")
    ));
    let change = other.planned_change("bbb_test_item.a");
    assert_eq!(change["change"]["importing"]["id"], json!(id));
    other.apply();
    assert_eq!(other.resource_values("bbb_test_item.a")["id"], json!(id));

    let run = other.fails(&["import", "-no-color", "bbb_test_item.b", "does-not-exist"]);
    // An import target missing from the configuration is Terraform's own error.
    assert!(
        run.flat()
            .contains("resource address \"bbb_test_item.b\" does not exist in the configuration"),
        "{}",
        run.text()
    );
    let missing = Workspace::new(PROVIDER);
    missing.write_config(&item("delta", "x"));
    let run = missing.fails(&["import", "-no-color", "bbb_test_item.a", "0123abcd"]);
    assert!(
        run.flat()
            .contains("There is no bbb_test_item with ID \"0123abcd\""),
        "{}",
        run.text()
    );
}

#[test]
fn bad_input_is_rejected_at_plan_naming_the_attribute() {
    let ws = Workspace::new(PROVIDER);
    ws.write_config(
        r#"
resource "bbb_test_item" "bad" {
  name      = "Not Valid"
  size      = -1
  secret_wo = "s"

  settings {
    mode = "reckless"
  }

  rule {
    port = 443
  }
  rule {
    port     = 0
    protocol = "icmp"
  }
}
"#,
    );
    let run = ws.fails(&["plan", "-no-color"]);
    let text = run.text();
    let flat = run.flat();
    for expected in [
        r#"name must be lower-case letters, digits and dashes; got "Not Valid"."#,
        "size must be at least 0; got -1.",
        r#"settings.mode must be one of "fast", "safe"; got "reckless"."#,
        "rule[1].port must be at least 1; got 0.",
        r#"rule[1].protocol must be one of "tcp", "udp"; got "icmp"."#,
        "Missing secret_wo_version",
    ] {
        assert!(flat.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Terraform points at the offending lines of the configuration.
    assert!(text.contains(r#"name      = "Not Valid""#), "{text}");
    // The write-only value is never echoed.
    assert!(!ws
        .item_store()
        .read_dir()
        .map(|mut d| d.next().is_some())
        .unwrap_or(false));
}

#[test]
fn state_written_by_schema_version_0_is_upgraded() {
    let ws = Workspace::new(PROVIDER);
    let id = "00aa11bb22cc33dd";
    let stored = json!({"id": id, "name": "old", "value": "from-v0", "size": 1.0, "labels": null, "secret": null,
        "secret_wo_version": null, "revision": 7.0, "settings": null, "rule": [], "secret_wo": null});
    std::fs::write(
        ws.item_store().join(format!("{id}.json")),
        stored.to_string(),
    )
    .expect("store");
    let state = json!({
        "version": 4, "terraform_version": "1.5.0", "serial": 1, "lineage": "9b1e6bd2-0000-4000-8000-000000000000",
        "outputs": {},
        "resources": [{
            "mode": "managed", "type": "bbb_test_item", "name": "a",
            "provider": format!("provider[\"registry.terraform.io/{PROVIDER_SOURCE}\"]"),
            "instances": [{"schema_version": 0, "attributes": {"id": id, "name": "old", "val": "from-v0", "size": 1,
                "revision": 7, "rule": []}}]
        }]
    });
    ws.write_file("terraform.tfstate", &state.to_string());
    ws.write_config(
        "resource \"bbb_test_item\" \"a\" {\n  name  = \"old\"\n  value = \"from-v0\"\n}\n",
    );
    ws.assert_no_changes();
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(
        ws.resource_values("bbb_test_item.a")["value"],
        json!("from-v0")
    );
    assert!(
        ws.raw_state().contains("\"schema_version\": 1"),
        "{}",
        ws.raw_state()
    );
}

#[test]
fn unknown_provider_configuration_plans_and_applies() {
    let ws = Workspace::new(PROVIDER);
    ws.write_config(
        r#"
resource "terraform_data" "scalelite" {
  input = "https://scalelite.example.com"
}

provider "bbb" {
  scalelite_url   = terraform_data.scalelite.output
  request_timeout = "10s"
}

resource "bbb_test_item" "a" {
  name = "after-unknown"
}
"#,
    );
    let change = ws.planned_change("bbb_test_item.a");
    assert_eq!(change["change"]["actions"], json!(["create"]));
    ws.apply();
    ws.assert_no_changes();
}

#[test]
fn invalid_provider_configuration_is_named() {
    let ws = Workspace::new(PROVIDER);
    ws.write_config(
        r#"
provider "bbb" {
  scalelite_url   = "ftp://scalelite.example.com"
  request_timeout = "soon"
  max_retries     = 1.5
}

resource "bbb_test_item" "a" {
  name = "x"
}
"#,
    );
    let text = ws.fails(&["plan", "-no-color"]).flat();
    for expected in [
        r#"scalelite_url must be an http or https URL with a host; got scheme "ftp"."#,
        r#"request_timeout must be a duration such as "30s" or "2m""#,
        "max_retries must be a whole number; got 1.5.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn providers_schema_json_lists_the_schema() {
    let ws = Workspace::new(PROVIDER);
    ws.write_config("provider \"bbb\" {}\n");
    let run = ws.ok(&["providers", "schema", "-json"]);
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).expect("schema JSON");
    let provider = &schema["provider_schemas"][format!("registry.terraform.io/{PROVIDER_SOURCE}")];
    let provider_attrs = &provider["provider"]["block"]["attributes"];
    assert_eq!(provider_attrs["scalelite_secret"]["sensitive"], json!(true));
    assert!(provider["provider"]["block"]["block_types"]["endpoints"].is_object());
    let item = &provider["resource_schemas"]["bbb_test_item"];
    assert_eq!(item["version"], json!(1));
    assert_eq!(
        item["block"]["attributes"]["secret_wo"]["write_only"],
        json!(true)
    );
    assert_eq!(item["block"]["attributes"]["name"]["required"], json!(true));
    assert_eq!(
        item["block"]["block_types"]["rule"]["nesting_mode"],
        json!("list")
    );
}

#[test]
fn hand_started_binary_explains_itself() {
    let out = std::process::Command::new(PROVIDER)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("This binary is a plugin for Terraform and OpenTofu. It is not meant to be run by hand."), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout, where Terraform reads the handshake"
    );

    let out = std::process::Command::new(PROVIDER)
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("speaks only version 6"));
}
