//! `bbb_fleet`'s resource identity under the real Terraform CLI, against moto and the Scalelite
//! double: stored on create, and an `import` block naming the identity instead of an ID.

use bbb_acceptance_tests::fleet_env::Env;
use bbb_core::testing::unique;
use serde_json::json;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

#[test]
fn identity_is_stored_and_imports_the_fleet() {
    let env = Env::new(PROVIDER);
    let group = env.group(1);
    let name = unique("fid");
    let ws = env.workspace();
    ws.write_config(&env.config(&name, &group.name, 600));
    ws.apply();
    let state: serde_json::Value = serde_json::from_str(&ws.raw_state()).expect("state");
    let instance = &state["resources"][0]["instances"][0];
    assert_eq!(
        instance["identity"],
        json!({"autoscaling_group_name": group.name, "name": name}),
        "{instance}"
    );
    ws.assert_no_changes();

    // Another workspace adopts the fleet by identity: the import only, then nothing to change.
    let ws2 = env.workspace();
    let config = env.config(&name, &group.name, 600);
    ws2.write_config(&format!(
        "{config}\nimport {{\n  to = bbb_fleet.f\n  identity = {{\n    autoscaling_group_name = \"{}\"\n    name = \"{name}\"\n  }}\n}}\n",
        group.name
    ));
    let run = ws2.ok(&["plan", "-no-color"]);
    assert!(run.stdout.contains("1 to import"), "{}", run.text());
    ws2.apply();
    assert_eq!(
        ws2.resource_values("bbb_fleet.f")["id"],
        json!(format!("{}/{name}", group.name))
    );
    ws2.assert_no_changes();

    // An identity naming a group without the fleet's hooks is refused. (A group with one hook
    // of each kind imports under any fleet name: import's fallback for renamed hooks.)
    let bare = env.group(0);
    let ws3 = env.workspace();
    ws3.write_config(&format!(
        "{}\nimport {{\n  to = bbb_fleet.f\n  identity = {{\n    autoscaling_group_name = \"{}\"\n    name = \"other\"\n  }}\n}}\n",
        env.config("other", &bare.name, 600),
        bare.name
    ));
    let text = ws3.fails(&["plan", "-no-color"]).flat();
    assert!(text.contains("Cannot import non-existent fleet"), "{text}");
    ws.destroy();
}
