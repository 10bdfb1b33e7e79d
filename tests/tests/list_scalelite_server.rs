//! `terraform query` over `list "bbb_scalelite_server"` and resource identity, under the real
//! Terraform CLI against the Scalelite double: adopting a pool of 50 servers with
//! `-generate-config-out`, then planning and applying the imports with no other change.

use bbb_acceptance_tests::{Doubles, Workspace};
use bbb_core::scalelite::ServerState;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");
const LB_SECRET: &str = "scalelite-lb-secret-0123456789";

/// 50 servers on example.com (every fifth tagged `exam`; states by the last digit) and 3 on
/// example.org, as registered outside Terraform.
fn pool(env: &Doubles) {
    for i in 0..50 {
        let state = match i % 10 {
            3 => ServerState::Cordoned,
            7 => ServerState::Disabled,
            _ => ServerState::Enabled,
        };
        let tag = (i % 5 == 0).then_some("exam");
        let url = format!("https://bbb{i}.example.com/bigbluebutton/api");
        env.insert_server(&url, &format!("pool-secret-{i}"), state, tag, true);
    }
    for i in 0..3 {
        let url = format!("https://other{i}.example.org/bigbluebutton/api");
        env.insert_server(
            &url,
            &format!("pool-secret-org-{i}"),
            ServerState::Enabled,
            None,
            true,
        );
    }
}

fn query_file(ws: &Workspace, config: &str, extra: &str) {
    ws.write_file(
        "servers.tfquery.hcl",
        &format!(
            "list \"bbb_scalelite_server\" \"found\" {{\n  provider = bbb\n{extra}\n  config {{\n{config}\n  }}\n}}\n"
        ),
    );
}

/// The lines `terraform query` printed for the list: `<address>  url=<identity>  <display name>`.
fn listed(run: &str) -> Vec<String> {
    run.lines()
        .filter(|l| l.starts_with("list.bbb_scalelite_server.found"))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn query_generates_config_that_imports_fifty_servers_with_no_other_change() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    pool(&env);
    let ws = env.workspace();
    ws.write_config("");
    query_file(
        &ws,
        r#"    url_pattern = "^https://bbb[0-9]+\\.example\\.com/""#,
        "  include_resource = true\n  limit = 1000",
    );
    env.scalelite.reset_calls();
    let run = ws.ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    assert_eq!(listed(&run.stdout).len(), 50, "{}", run.text());
    assert_eq!(
        env.scalelite.calls("getServers"),
        1,
        "one getServers call per list"
    );
    assert_eq!(env.scalelite.total_calls(), 1, "nothing but getServers");
    let generated = std::fs::read_to_string(ws.path().join("generated.tf")).expect("generated");
    assert_eq!(generated.matches("import {").count(), 50, "{generated}");
    assert!(
        !generated.contains("example.org"),
        "the pattern filters: {generated}"
    );
    assert!(
        !generated.contains("pool-secret"),
        "a secret was written: {generated}"
    );

    let run = ws.ok(&["plan", "-no-color"]);
    assert!(
        run.stdout
            .contains("Plan: 50 to import, 0 to add, 0 to change, 0 to destroy."),
        "{}",
        run.text()
    );
    ws.apply();
    let state = ws.state_json();
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .expect("resources");
    assert_eq!(resources.len(), 50);
    let raw = ws.raw_state();
    assert!(!raw.contains("pool-secret"), "a secret reached the state");
    assert!(
        raw.contains("\"identity\"") && raw.contains("https://bbb17.example.com/bigbluebutton/api"),
        "identities are stored"
    );
    assert_eq!(
        env.scalelite.servers().len(),
        53,
        "nothing registered or removed"
    );
    assert!(
        env.scalelite
            .servers()
            .iter()
            .all(|s| s.secret.starts_with("pool-secret")),
        "no secret changed"
    );
    ws.assert_no_changes();
}

#[test]
fn filters_limit_and_an_invalid_pattern() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    pool(&env);
    let ws = env.workspace();
    ws.write_config("");

    // Tag and state together: bbb0, bbb10, ..., bbb40 are tagged; none of them ends in 3 or 7.
    query_file(&ws, "    tag = \"exam\"\n    state = \"enabled\"", "");
    env.scalelite.reset_calls();
    let run = ws.ok(&["query", "-no-color"]);
    let found = listed(&run.stdout);
    let want: Vec<String> = [0, 10, 20, 30, 40, 5, 15, 25, 35, 45]
        .iter()
        .map(|i| format!("https://bbb{i}.example.com/bigbluebutton/api"))
        .collect();
    assert_eq!(found.len(), want.len(), "{}", run.text());
    for url in &want {
        let line = format!("url={url} {url} (enabled, tag exam)");
        assert!(found.contains(&line), "missing {line:?} in {found:#?}");
    }
    assert_eq!(env.scalelite.calls("getServers"), 1);

    // Cordoned servers, at most 3 (of 5): the limit.
    query_file(&ws, "    state = \"cordoned\"", "  limit = 3");
    let run = ws.ok(&["query", "-no-color"]);
    let found = listed(&run.stdout);
    assert_eq!(found.len(), 3, "{}", run.text());
    assert!(found.iter().all(|l| l.contains("(cordoned")), "{found:#?}");

    // An invalid pattern or state is refused before Scalelite is asked, naming the attribute.
    env.scalelite.reset_calls();
    query_file(&ws, "    url_pattern = \"bbb[0-9\"", "");
    let text = ws.fails(&["query", "-no-color"]).flat();
    assert!(
        text.contains("Invalid url_pattern")
            && text.contains("url_pattern must be a regular expression"),
        "{text}"
    );
    query_file(&ws, "    state = \"draining\"", "");
    let text = ws.fails(&["query", "-no-color"]).flat();
    assert!(
        text.contains(r#"state must be one of "enabled", "cordoned", "disabled"; got "draining"."#),
        "{text}"
    );
    assert_eq!(env.scalelite.total_calls(), 0, "nothing reached Scalelite");
}

/// `bbb_scalelite_server.s` with `body`, imported by an `import` block naming `url` as identity.
fn imported_by_identity(url: &str, body: &str) -> String {
    format!(
        "import {{\n  to       = bbb_scalelite_server.s\n  identity = {{ url = \"{url}\" }}\n}}\n\nresource \"bbb_scalelite_server\" \"s\" {{\n  {body}\n}}\n"
    )
}

#[test]
fn identity_import_block_and_a_state_written_before_identities() {
    let env = Doubles::start(PROVIDER, LB_SECRET);
    let id = env.insert_server(
        "https://bbb9.example.com/bigbluebutton/api",
        "s9",
        ServerState::Enabled,
        Some("lecture"),
        true,
    );
    let ws = env.workspace();
    // An import block naming the server by its URL (another spelling of it), the secret set
    // in configuration: imported, then the secret is sent once (imports by identity leave it
    // to Scalelite).
    ws.write_config(&imported_by_identity(
        "https://BBB9.example.com/bigbluebutton/api/",
        "url = \"https://bbb9.example.com/bigbluebutton/api\"\n  secret = \"s9\"\n  tag = \"lecture\"",
    ));
    let run = ws.ok(&["plan", "-no-color"]);
    assert!(
        run.stdout
            .contains("1 to import, 0 to add, 1 to change, 0 to destroy."),
        "{}",
        run.text()
    );
    ws.apply();
    assert_eq!(
        ws.resource_values("bbb_scalelite_server.s")["id"],
        serde_json::json!(id)
    );
    ws.assert_no_changes();

    // A state written before the provider had identities: the next refresh fills it.
    let path = ws.path().join("terraform.tfstate");
    let mut state: serde_json::Value = serde_json::from_str(&ws.raw_state()).expect("state");
    let instance = &mut state["resources"][0]["instances"][0];
    let object = instance.as_object_mut().expect("instance");
    assert!(
        object.remove("identity").is_some(),
        "identity stored: {state}"
    );
    object.remove("identity_schema_version");
    std::fs::write(&path, state.to_string()).expect("write state");
    ws.assert_no_changes();
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    let state: serde_json::Value = serde_json::from_str(&ws.raw_state()).expect("state");
    assert_eq!(
        state["resources"][0]["instances"][0]["identity"]["url"],
        serde_json::json!("https://bbb9.example.com/bigbluebutton/api"),
        "{state}"
    );

    // An identity naming no server is refused with the URL.
    let ws = env.workspace();
    ws.write_config(&imported_by_identity(
        "https://nowhere.example.com",
        "url = \"https://nowhere.example.com\"",
    ));
    let text = ws.fails(&["plan", "-no-color"]).flat();
    assert!(
        text.contains("Scalelite has no server with ID or URL \"https://nowhere.example.com\""),
        "{text}"
    );
}
