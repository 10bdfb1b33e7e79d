//! The provider functions (`provider::bbb::...`) under the real Terraform CLI: each result as an
//! output, a bad argument's error naming the argument, and the checksum accepted by the BBB double
//! (which verifies checksums as bbb-web does).

use bbb_acceptance_tests::{Doubles, Workspace};
use serde_json::json;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");
const BBB_SECRET: &str = "bbb-function-secret-0123456789";

/// A sensitive variable holding the BBB secret, for the checksum calls.
fn secret_variable() -> String {
    format!(
        "variable \"bbb_secret\" {{\n  type      = string\n  sensitive = true\n  default   = \"{BBB_SECRET}\"\n}}\n"
    )
}

fn outputs(ws: &Workspace) -> serde_json::Value {
    let run = ws.ok(&["output", "-json"]);
    serde_json::from_str(&run.stdout).expect("output JSON")
}

#[test]
fn functions_answer_through_terraform_and_name_bad_arguments() {
    let env = Doubles::start(PROVIDER, "lb-secret-unused-here");
    let bbb = env.bbb(BBB_SECRET);
    let ws = env.workspace();
    let secret_variable = secret_variable();
    ws.write_config(&format!(
        r#"{secret_variable}

output "servers" {{
  value = provider::bbb::servers_needed(250, 100)
}}

output "servers_exact" {{
  value = provider::bbb::servers_needed(200, 100)
}}

output "record" {{
  value = provider::bbb::instance_record_name("i-0123456789ABCDEF0", "bbb.example.org", null)
}}

output "record_templated" {{
  value = provider::bbb::instance_record_name("i-0123456789abcdef0", "bbb.example.org", "{{instance_id}}-media")
}}

output "checksum" {{
  value     = provider::bbb::api_checksum("getMeetings", "", var.bbb_secret, "sha256")
  sensitive = true
}}

output "checksum_plain" {{
  value = provider::bbb::api_checksum("join", "meetingID=abc&fullName=Alice", "s3cr3t", "sha1")
}}
"#
    ));
    ws.ok(&["init", "-no-color"]);
    ws.apply();
    let out = outputs(&ws);
    assert_eq!(out["servers"]["value"], json!(3));
    assert_eq!(out["servers_exact"]["value"], json!(2));
    assert_eq!(
        out["record"]["value"],
        json!("bbb-i-0123456789abcdef0.bbb.example.org")
    );
    assert_eq!(
        out["record_templated"]["value"],
        json!("i-0123456789abcdef0-media.bbb.example.org")
    );
    // sha1("joinmeetingID=abc&fullName=Alices3cr3t"), computed outside this code.
    assert_eq!(
        out["checksum_plain"]["value"],
        json!("cbe4ab7295c5a15c43b7341da1bf1e2ce31610fa")
    );
    // A sensitive secret makes the result sensitive (Terraform's rule for function results).
    assert_eq!(out["checksum"]["sensitive"], json!(true));
    let checksum = out["checksum"]["value"]
        .as_str()
        .expect("checksum")
        .to_string();
    assert_eq!(checksum.len(), 64);
    // The BBB double verifies it as bbb-web does: the signed call succeeds.
    let answer = env
        .rt
        .block_on(async {
            reqwest::get(format!("{}/getMeetings?checksum={checksum}", bbb.url()))
                .await?
                .text()
                .await
        })
        .expect("getMeetings");
    assert!(
        answer.contains("<returncode>SUCCESS</returncode>"),
        "{answer}"
    );

    // The same result without `sensitive = true` is refused: Terraform marked it sensitive.
    ws.write_config(&format!(
        r#"{secret_variable}

output "checksum" {{
  value = provider::bbb::api_checksum("getMeetings", "", var.bbb_secret, null)
}}
"#
    ));
    let run = ws.fails(&["plan", "-no-color"]);
    assert!(
        run.flat().contains("Output refers to sensitive values"),
        "{}",
        run.text()
    );
    assert!(!run.text().contains(BBB_SECRET), "{}", run.text());

    // Bad arguments: the error names the argument.
    for (call, argument, why) in [
        (
            "servers_needed(100, 0)",
            "participants_per_server",
            "greater than 0",
        ),
        ("servers_needed(1.5, 10)", "participants", "whole number"),
        (
            "api_checksum(\"getMeetings\", \"\", var.bbb_secret, \"md5\")",
            "algorithm",
            "sha1, sha256, sha384 or sha512",
        ),
        (
            "instance_record_name(\"web-1\", \"bbb.example.org\", null)",
            "instance_id",
            "EC2 instance ID",
        ),
        (
            "instance_record_name(\"i-0123456789abcdef0\", \"bbb.example.org\", \"bbb\")",
            "record_name_template",
            "{instance_id}",
        ),
    ] {
        ws.write_config(&format!(
            "{}\noutput \"x\" {{\n  value = provider::bbb::{call}\n  sensitive = true\n}}\n",
            secret_variable
        ));
        let run = ws.fails(&["plan", "-no-color"]);
        let text = run.flat();
        assert!(
            text.contains(&format!("Invalid value for \"{argument}\" parameter")),
            "{call}: {}",
            run.text()
        );
        assert!(text.contains(why), "{call}: {}", run.text());
        assert!(!text.contains(BBB_SECRET), "{call}: {}", run.text());
    }
}

/// The documentation's examples (examples/functions/<name>/function.tf) run as they are.
#[test]
fn function_examples_apply() {
    let env = Doubles::start(PROVIDER, "lb-secret-unused-here");
    let root = bbb_acceptance_tests::repo_root().join("examples/functions");
    let mut seen = Vec::new();
    for f in terraform_provider_bbb::functions::all() {
        let file = root.join(f.name()).join("function.tf");
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let ws = env.workspace();
        ws.write_config(&text);
        ws.ok(&["init", "-no-color"]);
        ws.apply();
        seen.push((f.name(), outputs(&ws)));
    }
    let out = |name: &str| {
        seen.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, o)| o.clone())
            .expect("example ran")
    };
    assert_eq!(out("servers_needed")["exam_servers"]["value"], json!(3));
    assert_eq!(
        out("instance_record_name")["media_record"]["value"],
        json!("i-0123456789abcdef0-media.bbb.example.org")
    );
    let join = out("api_checksum");
    assert_eq!(join["join_url"]["sensitive"], json!(true));
    let url = join["join_url"]["value"].as_str().expect("join URL");
    let checksum = url.rsplit("&checksum=").next().unwrap_or_default();
    assert_eq!(checksum.len(), 64, "{url}");
}
