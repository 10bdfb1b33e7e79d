//! `bbb_fleet` under the real Terraform CLI, against moto (ASG, EC2, Route53) and the Scalelite
//! double: hooks, hook_config, instances, orphan healing, import, destroy, refresh cost.

use std::collections::BTreeMap;

use bbb_acceptance_tests::fleet_env::{Env, LB_SECRET};
use bbb_acceptance_tests::Workspace;
use bbb_core::testing::unique;
use serde_json::json;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

#[test]
fn fleet_hooks_instances_orphans_import_destroy() {
    let env = Env::new(PROVIDER);
    let group = env.group(2);
    let name = unique("f");
    let ws = env.workspace();
    ws.write_config(&env.config(&name, &group.name, 600));

    // hook_config is known at plan time.
    let change = ws.planned_change("bbb_fleet.f");
    assert_eq!(change["change"]["actions"], json!(["create"]));
    let planned_doc = change["change"]["after"]["hook_config"]
        .as_str()
        .expect("hook_config known at plan")
        .to_string();
    ws.apply();

    let hooks = env.hooks(&group.name);
    assert_eq!(
        hooks.get(&format!("bbb-{name}-launching")),
        Some(&(
            "autoscaling:EC2_INSTANCE_LAUNCHING".to_string(),
            900,
            "ABANDON".to_string()
        )),
        "{hooks:?}"
    );
    assert_eq!(
        hooks.get(&format!("{name}-drain")),
        Some(&(
            "autoscaling:EC2_INSTANCE_TERMINATING".to_string(),
            600,
            "CONTINUE".to_string()
        )),
        "{hooks:?}"
    );

    let values = ws.resource_values("bbb_fleet.f");
    assert_eq!(values["hook_config"].as_str(), Some(planned_doc.as_str()));
    let doc: serde_json::Value = serde_json::from_str(&planned_doc).expect("hook_config JSON");
    assert_eq!(doc["fleet_name"], json!(name));
    assert_eq!(doc["autoscaling_group_name"], json!(group.name));
    assert_eq!(doc["hosted_zone_id"], json!(env.zone_id));
    assert_eq!(doc["domain"], json!(env.domain));
    assert_eq!(doc["record_name_template"], json!("bbb-{instance_id}"));
    assert_eq!(doc["record_ttl"], json!(60));
    assert_eq!(doc["scalelite_url"], json!(env.scalelite.url()));
    assert_eq!(doc["scalelite_tag"], json!("main"));
    assert_eq!(doc["load_multiplier"], json!(1.5));
    assert_eq!(
        doc["scalelite_secret_parameter"],
        json!("/bbb/test/scalelite-secret")
    );
    assert_eq!(doc["protect_live_meetings"], json!(true));
    assert_eq!(doc["terminating_hook_name"], json!(format!("{name}-drain")));
    assert_eq!(doc["heartbeat_timeout"], json!(600));
    assert_eq!(doc["max_wait_seconds"], json!(7200));
    assert_eq!(doc["region"], json!("us-east-1"));
    assert!(!planned_doc.contains(LB_SECRET), "a secret in hook_config");
    assert!(!ws.raw_state().contains(LB_SECRET), "a secret in state");

    let ids = env.instance_ids(&group.name);
    assert_eq!(ids.len(), 2);
    let instances = values["instances"].as_array().expect("instances");
    assert_eq!(instances.len(), 2);
    for i in instances {
        assert_eq!(i["lifecycle_state"], json!("InService"));
        assert_eq!(i["protected_from_scale_in"], json!(false));
        let id = i["instance_id"].as_str().expect("id");
        assert_eq!(i["dns_name"], json!(env.record_name(id)));
        assert!(i["private_ip"].is_string(), "{i}");
        assert_eq!(i["scalelite_server_id"], json!(null));
    }
    ws.assert_no_changes();

    // Live instances register (as the on-instance hook would); one gets protection.
    let live_server = env.register(&env.record_name(&ids[0]), Some("main"));
    env.upsert_owned(&env.record_name(&ids[0]), 1, &group.name);
    env.upsert_owned(&env.record_name(&ids[1]), 2, &group.name);
    env.rt
        .block_on(
            env.aws
                .set_instance_protection(&group.name, &ids[..1], true),
        )
        .expect("protect");
    // Leftovers of an instance that no longer exists...
    let gone = "i-0deadbeef0000001";
    env.upsert_owned(&env.record_name(gone), 3, &group.name);
    let orphan_server = env.register(&env.record_name(gone), Some("main"));
    // ...and what is not the fleet's: other names, another tag.
    let other_name = format!("other-{gone}.{}", env.domain);
    env.upsert(&other_name, 4);
    env.upsert(&format!("scalelite.{}", env.domain), 5);
    let other_tag = env.register(&env.record_name("i-0deadbeef0000002"), Some("other"));
    let foreign = env.register(&format!("bbb-{gone}.elsewhere.example.org"), Some("main"));

    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    let values = ws.resource_values("bbb_fleet.f");
    let by_id: BTreeMap<&str, &serde_json::Value> = values["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| (i["instance_id"].as_str().unwrap_or(""), i))
        .collect();
    assert_eq!(
        by_id[ids[0].as_str()]["protected_from_scale_in"],
        json!(true)
    );
    assert_eq!(
        by_id[ids[0].as_str()]["scalelite_server_id"],
        json!(live_server)
    );
    assert_eq!(by_id[ids[0].as_str()]["scalelite_state"], json!("enabled"));
    assert_eq!(
        by_id[ids[1].as_str()]["protected_from_scale_in"],
        json!(false)
    );
    assert_eq!(
        values["orphaned_records"].as_array().map(Vec::len),
        Some(1),
        "{}",
        values["orphaned_records"]
    );
    assert_eq!(
        values["orphaned_records"][0]["name"],
        json!(env.record_name(gone))
    );
    assert_eq!(values["orphaned_records"][0]["value"], json!("10.0.9.3"));
    assert_eq!(
        values["orphaned_servers"],
        json!([{
            "id": orphan_server,
            "url": format!("https://{}/bigbluebutton/api", env.record_name(gone)),
            "instance_id": gone,
        }])
    );

    // The plan shows the orphans going away; apply removes exactly them.
    let change = ws.planned_change("bbb_fleet.f");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    assert_eq!(change["change"]["after"]["orphaned_records"], json!([]));
    assert_eq!(change["change"]["after"]["orphaned_servers"], json!([]));
    ws.apply();
    let records = env.records();
    assert!(!records.contains(&env.record_name(gone)), "{records:?}");
    assert!(
        !env.marks().contains(&env.record_name(gone)),
        "the orphan's ownership mark went with it"
    );
    for kept in [
        env.record_name(&ids[0]),
        env.record_name(&ids[1]),
        other_name.clone(),
        format!("scalelite.{}", env.domain),
    ] {
        assert!(records.contains(&kept), "{kept} removed: {records:?}");
    }
    assert!(
        env.scalelite.server(&orphan_server).is_none(),
        "orphaned server kept"
    );
    for kept in [&live_server, &other_tag, &foreign] {
        assert!(
            env.scalelite.server(kept).is_some(),
            "server {kept} removed"
        );
    }
    ws.assert_no_changes();

    // An update changes the hooks in place.
    ws.write_config(&env.config(&name, &group.name, 1200));
    assert_eq!(
        ws.planned_change("bbb_fleet.f")["change"]["actions"],
        json!(["update"])
    );
    ws.apply();
    assert_eq!(env.hooks(&group.name)[&format!("{name}-drain")].1, 1200);
    ws.assert_no_changes();

    // A hook deleted outside Terraform is put back.
    env.rt
        .block_on(
            env.aws
                .delete_lifecycle_hook(&group.name, &format!("bbb-{name}-launching")),
        )
        .expect("delete hook");
    assert_eq!(
        ws.planned_change("bbb_fleet.f")["change"]["actions"],
        json!(["update"])
    );
    ws.apply();
    assert!(env
        .hooks(&group.name)
        .contains_key(&format!("bbb-{name}-launching")));

    // Import into a fresh workspace by <asg>/<name>, reading the hooks back.
    let ws2 = env.workspace();
    ws2.write_config(&env.config(&name, &group.name, 1200));
    ws2.ok(&[
        "import",
        "-no-color",
        "bbb_fleet.f",
        &format!("{}/{name}", group.name),
    ]);
    let imported = ws2.resource_values("bbb_fleet.f");
    assert_eq!(imported["id"], json!(format!("{}/{name}", group.name)));
    assert_eq!(
        imported["terminating_hook_name"],
        json!(format!("{name}-drain"))
    );
    assert_eq!(imported["drain"]["heartbeat_timeout"], json!(1200));
    assert_eq!(imported["instances"].as_array().map(Vec::len), Some(2));
    ws2.apply();
    ws2.assert_no_changes();
    let text = ws2
        .fails(&["import", "-no-color", "bbb_fleet.g", "no-such-group/x"])
        .flat();
    assert!(
        text.contains("bbb_fleet.g") || text.contains("Cannot import") || text.contains("not"),
        "{text}"
    );

    // Destroy removes the hooks and leaves the group.
    ws.destroy();
    assert!(
        env.hooks(&group.name).is_empty(),
        "hooks left: {:?}",
        env.hooks(&group.name)
    );
    assert_eq!(
        env.instance_ids(&group.name).len(),
        2,
        "the group is left alone"
    );
}

#[test]
fn bad_input_is_rejected_at_plan_naming_the_attribute() {
    let env = Env::new(PROVIDER);
    let ws = env.workspace();
    ws.write_config(&format!(
        r#"{}
resource "bbb_fleet" "f" {{
  name                       = "bad"
  autoscaling_group_name     = "g"
  hosted_zone_id             = "not-a-zone"
  domain                     = "Not A Domain"
  record_name_template       = "bbb"
  record_ttl                 = 5
  load_multiplier            = 0
  scalelite_secret_parameter = "bad name!"
  drain {{
    heartbeat_timeout = 10
    max_wait          = "soon"
  }}
}}
"#,
        env.provider_block()
    ));
    let text = ws.fails(&["plan", "-no-color"]).flat();
    for expected in [
        "hosted_zone_id must be a Route53 hosted zone ID",
        "domain must be a lowercase DNS name",
        "record_name_template must be one DNS label containing {instance_id} once",
        "record_ttl must be at least 10; got 5.",
        "load_multiplier must be greater than 0; got 0.",
        "scalelite_secret_parameter must be an SSM parameter name",
        "drain.heartbeat_timeout must be at least 30; got 10.",
        "Invalid duration in drain.max_wait",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

/// Runs `terraform plan` with the provider's AWS call log and returns the calls per service.
fn refresh_calls(env: &Env, ws: &mut Workspace) -> (BTreeMap<String, usize>, u64) {
    let log = ws.path().join("tf.log");
    let _ = std::fs::remove_file(&log);
    ws.set_env("TF_LOG_PROVIDER", "DEBUG");
    ws.set_env("TF_LOG_PROVIDER_BBB", "info");
    ws.set_env("TF_LOG_PATH", &log.display().to_string());
    env.scalelite.reset_calls();
    ws.assert_no_changes();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let mut calls = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains("aws call")) {
        if let Some(op) = line
            .split("operation=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
        {
            *calls.entry(op.trim_matches('"').to_string()).or_insert(0) += 1;
        }
    }
    (calls, env.scalelite.total_calls())
}

#[test]
fn refresh_cost_does_not_grow_with_the_fleet() {
    let env = Env::new(PROVIDER);
    let mut results = Vec::new();
    for size in [2, 8] {
        let group = env.group(size);
        let name = unique("cost");
        let mut ws = env.workspace();
        ws.write_config(&env.config(&name, &group.name, 600));
        ws.apply();
        assert_eq!(
            ws.resource_values("bbb_fleet.f")["instances"]
                .as_array()
                .map(Vec::len),
            Some(size as usize)
        );
        results.push(refresh_calls(&env, &mut ws));
        ws.destroy();
    }
    let (small, large) = (&results[0], &results[1]);
    assert!(!small.0.is_empty(), "no AWS calls logged");
    assert_eq!(
        small, large,
        "refresh calls grew with the fleet: 2 instances {small:?}, 8 instances {large:?}"
    );
    assert_eq!(
        small.0.get("DescribeAutoScalingGroups"),
        Some(&1),
        "{small:?}"
    );
    assert_eq!(small.0.get("DescribeInstances"), Some(&1), "{small:?}");
    assert_eq!(small.0.get("ListResourceRecordSets"), Some(&1), "{small:?}");
    assert_eq!(small.1, 1, "one getServers");
}
