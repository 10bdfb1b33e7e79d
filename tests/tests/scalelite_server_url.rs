//! `bbb_scalelite_server` URLs compared as Scalelite uses them (review D5), under the real
//! Terraform CLI against the Scalelite double, which stores a URL exactly as addServer got it.
//!
//! Scalelite calls a server at `url + "/" + action` after adding a slash only when missing
//! (blindsidenetworks/scalelite app/controllers/concerns/api_helper.rb `encode_bbb_uri`),
//! and connects by host name: a trailing slash and the case of scheme and host name the
//! same server.

use bbb_acceptance_tests::Doubles;
use bbb_core::scalelite::ServerState;
use serde_json::json;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");
const LB_SECRET: &str = "scalelite-lb-secret-0123456789";

fn config(url: &str, secret: &str) -> String {
    format!(
        r#"
resource "bbb_scalelite_server" "s" {{
  url    = "{url}"
  secret = "{secret}"
}}
"#
    )
}

/// Imports `import_id`, then checks the short URL of the docs plans an in-place update of
/// the spelling only, applies cleanly, and leaves nothing to change.
fn import_then_short_url(env: &Doubles, import_id: &str, short: &str, id: &str, secret: &str) {
    let ws = env.workspace();
    ws.write_config(&config(short, secret));
    ws.ok(&["import", "-no-color", "bbb_scalelite_server.s", import_id]);
    assert_eq!(
        ws.resource_values("bbb_scalelite_server.s")["id"],
        json!(id)
    );

    let change = ws.planned_change("bbb_scalelite_server.s");
    assert_eq!(
        change["change"]["actions"],
        json!(["update"]),
        "the same server under another spelling is not replaced: {change}"
    );
    assert_eq!(change["change"]["after"]["url"], json!(short));
    ws.apply();
    let servers = env.scalelite.servers();
    assert_eq!(servers.len(), 1, "no second registration");
    assert_eq!(servers[0].id, id, "the server was not replaced");
    let values = ws.resource_values("bbb_scalelite_server.s");
    assert_eq!(values["url"], json!(short), "the configuration's spelling");
    assert_eq!(
        values["api_url"],
        json!(format!("{short}/bigbluebutton/api"))
    );
    ws.assert_no_changes();
}

#[test]
fn import_then_the_documented_short_url_plans_no_replacement() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let id = env.insert_server(
        "https://bbb7.example.com/bigbluebutton/api",
        "s7",
        ServerState::Enabled,
        None,
        false,
    );
    for import_id in [id.as_str(), "https://bbb7.example.com"] {
        import_then_short_url(&env, import_id, "https://bbb7.example.com", &id, "s7");
    }
}

#[test]
fn foreign_spelling_with_slash_and_upper_case_host_converges() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let id = env.insert_server(
        "HTTPS://BBB8.Example.COM/bigbluebutton/api/",
        "s8",
        ServerState::Enabled,
        None,
        false,
    );
    // By ID, by URL (found whatever the host's case), and a refresh after apply.
    for import_id in [id.as_str(), "https://bbb8.example.com"] {
        import_then_short_url(&env, import_id, "https://bbb8.example.com", &id, "s8");
    }

    // A create of the same server in another spelling points at import: no duplicate.
    let ws = env.workspace();
    ws.write_config(&config("https://bbb8.example.com/bigbluebutton/api", "s8"));
    let text = ws.fails(&["apply", "-auto-approve", "-no-color"]).flat();
    assert!(
        text.contains(&format!("is already registered as server {id}")),
        "{text}"
    );
    assert_eq!(
        env.scalelite.servers().len(),
        1,
        "no duplicate registration"
    );
}

/// Scalelite does not add `/bigbluebutton/api`: a server registered as the bare host is
/// called at `https://host/<action>` (api_helper.rb `encode_bbb_uri`), which is not the API
/// the short `url` names. Importing it must plan a replacement that registers the API URL,
/// not report an `api_url` Scalelite does not hold.
#[test]
fn a_registration_without_the_api_path_is_replaced_not_hidden() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let id = env.insert_server(
        "https://bbb9.example.com",
        "s9",
        ServerState::Enabled,
        None,
        false,
    );
    // Import by the URL exactly as held finds it too.
    let by_url = env.workspace();
    by_url.write_config(&config("https://bbb9.example.com", "s9"));
    by_url.ok(&[
        "import",
        "-no-color",
        "bbb_scalelite_server.s",
        "https://BBB9.example.com/",
    ]);
    assert_eq!(
        by_url.resource_values("bbb_scalelite_server.s")["id"],
        json!(id)
    );

    let ws = env.workspace();
    ws.write_config(&config("https://bbb9.example.com", "s9"));
    ws.ok(&["import", "-no-color", "bbb_scalelite_server.s", &id]);
    assert_eq!(
        ws.resource_values("bbb_scalelite_server.s")["api_url"],
        json!("https://bbb9.example.com"),
        "api_url is what Scalelite holds"
    );
    let change = ws.planned_change("bbb_scalelite_server.s");
    assert_eq!(
        change["change"]["actions"],
        json!(["delete", "create"]),
        "Scalelite holds another URL than the configured API: {change}"
    );
    ws.apply();
    let servers = env.scalelite.servers();
    assert_eq!(servers.len(), 1, "{servers:?}");
    assert_eq!(servers[0].url, "https://bbb9.example.com/bigbluebutton/api");
    ws.assert_no_changes();
}
