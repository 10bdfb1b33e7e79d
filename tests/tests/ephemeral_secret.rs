//! Ephemeral resource `bbb_scalelite_secret` under the real Terraform CLI, against moto (SSM
//! Parameter Store, Secrets Manager) and the Scalelite double: the secrets it reads feed the
//! provider block and a write-only argument, reach their consumers, and are in neither the
//! saved plan file nor the state file.

use bbb_acceptance_tests::Workspace;
use bbb_core::testing::{create_secret, put_parameter, shared, unique};
use bbb_doubles::scalelite::ScaleliteDouble;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

/// Every byte of `path` and, for a zip archive (a saved plan), every member uncompressed.
fn contents(ws: &Workspace, name: &str) -> Vec<u8> {
    let path = ws.path().join(name);
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    if bytes.starts_with(b"PK") {
        let out = std::process::Command::new("unzip")
            .arg("-p")
            .arg(&path)
            .output()
            .expect("unzip");
        assert!(out.status.success(), "unzip {name}");
        assert!(!out.stdout.is_empty(), "{name} has members");
        bytes.extend(out.stdout);
    }
    bytes
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn secrets_feed_the_provider_and_a_write_only_argument_and_are_never_stored() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let moto = shared();
    let aws = rt.block_on(moto.clients());
    let lb_secret = unique("lb-secret-ephemeral");
    let server_secret = unique("server-secret-ephemeral");
    let parameter = format!("/{}/scalelite-secret", unique("bbb"));
    let secret_id = unique("bbb-server");
    rt.block_on(put_parameter(&aws, &parameter, &lb_secret, true));
    rt.block_on(create_secret(
        &aws,
        &secret_id,
        &format!(r#"{{"secret":"{server_secret}","other":"x"}}"#),
    ));
    let scalelite = rt
        .block_on(ScaleliteDouble::start(lb_secret.clone()))
        .expect("scalelite double");

    let mut ws = Workspace::new(PROVIDER);
    ws.set_env("BBB_MAX_RETRIES", "0");
    ws.set_env("AWS_ACCESS_KEY_ID", "testing");
    ws.set_env("AWS_SECRET_ACCESS_KEY", "testing");
    // The provider's whole log, AWS SDK included, must not hold the secrets either.
    let log = ws.path().join("provider.log");
    ws.set_env("TF_LOG_PROVIDER", "TRACE");
    ws.set_env("TF_LOG_PATH", &log.display().to_string());
    let moto_url = moto.url().as_str().trim_end_matches('/');
    let config = format!(
        r#"
provider "bbb" {{
  alias  = "secrets"
  region = "us-east-1"
  endpoints {{
    ssm            = "{moto_url}"
    secretsmanager = "{moto_url}"
  }}
}}

ephemeral "bbb_scalelite_secret" "scalelite" {{
  provider           = bbb.secrets
  ssm_parameter_name = "{parameter}"
}}

ephemeral "bbb_scalelite_secret" "server" {{
  provider                  = bbb.secrets
  secrets_manager_secret_id = "{secret_id}"
  json_key                  = "secret"
}}

provider "bbb" {{
  scalelite_url    = "{scalelite}"
  scalelite_secret = ephemeral.bbb_scalelite_secret.scalelite.value
}}

resource "bbb_scalelite_server" "s" {{
  url               = "https://bbb-ephemeral.example.com"
  secret_wo         = ephemeral.bbb_scalelite_secret.server.value
  secret_wo_version = 1
}}
"#,
        scalelite = scalelite.url()
    );
    ws.write_config(&config);
    ws.ok(&["init", "-no-color"]);
    let plan = ws.ok(&["plan", "-no-color", "-out=tfplan"]);
    assert!(!plan.text().contains(&lb_secret) && !plan.text().contains(&server_secret));
    let plan_file = contents(&ws, "tfplan");
    assert!(
        !holds(&plan_file, &lb_secret),
        "Scalelite secret in the plan file"
    );
    assert!(
        !holds(&plan_file, &server_secret),
        "server secret in the plan file"
    );

    let applied = ws.ok(&["apply", "-no-color", "tfplan"]);
    assert!(!applied.text().contains(&lb_secret) && !applied.text().contains(&server_secret));
    // The provider authenticated with the secret from SSM (the double refuses any other), and
    // the registration carries the one from Secrets Manager.
    let servers = scalelite.servers();
    assert_eq!(servers.len(), 1, "{servers:?}");
    assert_eq!(servers[0].secret, server_secret);
    let state = contents(&ws, "terraform.tfstate");
    assert!(
        !holds(&state, &lb_secret),
        "Scalelite secret in the state file"
    );
    assert!(
        !holds(&state, &server_secret),
        "server secret in the state file"
    );
    let logged = std::fs::read(&log).expect("provider log");
    assert!(
        holds(&logged, "GetSecretValue"),
        "the log holds the provider's AWS calls"
    );
    assert!(
        !holds(&logged, &lb_secret),
        "Scalelite secret in the provider log"
    );
    assert!(
        !holds(&logged, &server_secret),
        "server secret in the provider log"
    );

    // A wrong key names the attribute; nothing is created.
    ws.write_config(&config.replace(
        r#"json_key                  = "secret""#,
        r#"json_key = "missing""#,
    ));
    let run = ws.fails(&["plan", "-no-color"]);
    assert!(
        run.flat().contains("the secret has no key \"missing\""),
        "{}",
        run.text()
    );
    assert!(!run.text().contains(&server_secret), "{}", run.text());
    ws.write_config(&config);
    ws.destroy();
    assert!(scalelite.servers().is_empty());
}

/// The documentation's example validates as it is (ValidateEphemeralResourceConfig and the
/// provider blocks; opening it needs AWS).
#[test]
fn ephemeral_example_validates() {
    let ws = Workspace::new(PROVIDER);
    let file = bbb_acceptance_tests::repo_root()
        .join("examples/ephemeral-resources/bbb_scalelite_secret/ephemeral-resource.tf");
    ws.write_config(&std::fs::read_to_string(&file).expect("example"));
    ws.ok(&["init", "-no-color"]);
    ws.ok(&["validate", "-no-color"]);
    // Both sources, or none, are refused at validation, naming the attribute.
    ws.write_config(
        "ephemeral \"bbb_scalelite_secret\" \"x\" {\n  ssm_parameter_name = \"/a\"\n  secrets_manager_secret_id = \"b\"\n}\n",
    );
    let run = ws.fails(&["validate", "-no-color"]);
    assert!(run.flat().contains("Conflicting sources"), "{}", run.text());
    ws.write_config("ephemeral \"bbb_scalelite_secret\" \"x\" {\n  json_key = \"k\"\n}\n");
    let run = ws.fails(&["validate", "-no-color"]);
    assert!(run.flat().contains("Missing source"), "{}", run.text());
    assert!(
        run.flat()
            .contains("json_key needs secrets_manager_secret_id"),
        "{}",
        run.text()
    );
}
