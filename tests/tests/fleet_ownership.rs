//! `bbb_fleet`'s orphan heal under the real Terraform CLI (review D3, G9, G11): it removes only
//! the records and Scalelite servers its own group's instances left behind (the hook's
//! ownership mark on the name, and EC2 reporting the instance gone), never another fleet's on
//! the same domain, a detached instance's, or unmarked ones (reported); and a Scalelite outage
//! turns the refresh into a warning.

use std::collections::BTreeMap;

use bbb_acceptance_tests::fleet_env::Env;
use bbb_core::testing::{unique, TestGroup};
use serde_json::{json, Value};

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

fn orphan_names(values: &Value) -> Vec<String> {
    values["orphaned_records"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn orphan_server_ids(values: &Value) -> Vec<String> {
    values["orphaned_servers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn two_fleets_on_one_domain_heal_only_their_own_gone_instances() {
    let env = Env::new(PROVIDER);
    let main = env.group(2);
    let exams: TestGroup = env.group(1);
    let main_ids = env.instance_ids(&main.name);
    let exams_ids = env.instance_ids(&exams.name);
    assert_eq!((main_ids.len(), exams_ids.len()), (2, 1));

    // One of main's instances is detached for debugging: EC2 still runs it.
    env.rt
        .block_on(
            env.aws
                .autoscaling_sdk()
                .detach_instances()
                .auto_scaling_group_name(&main.name)
                .instance_ids(&main_ids[1])
                .should_decrement_desired_capacity(true)
                .send(),
        )
        .expect("DetachInstances");
    let detached = main_ids[1].clone();
    let live = main_ids[0].clone();

    // What the hooks wrote: each name with its group's mark...
    env.upsert_owned(&env.record_name(&live), 1, &main.name);
    env.upsert_owned(&env.record_name(&detached), 2, &main.name);
    env.upsert_owned(&env.record_name(&exams_ids[0]), 3, &exams.name);
    // ...and what instances EC2 no longer knows left: one of each fleet's, and one from a
    // hook older than the mark.
    let gone_main = "i-0deadbeef00000a1";
    let gone_exams = "i-0deadbeef00000b1";
    let gone_unmarked = "i-0deadbeef00000c1";
    env.upsert_owned(&env.record_name(gone_main), 4, &main.name);
    env.upsert_owned(&env.record_name(gone_exams), 5, &exams.name);
    env.upsert(&env.record_name(gone_unmarked), 6);
    let servers: BTreeMap<&str, String> = [
        ("live", live.as_str()),
        ("detached", detached.as_str()),
        ("gone_main", gone_main),
        ("gone_exams", gone_exams),
        ("gone_unmarked", gone_unmarked),
    ]
    .into_iter()
    .map(|(k, id)| (k, env.register(&env.record_name(id), Some("main"))))
    .collect();

    let name_main = unique("main");
    let ws_main = env.workspace();
    ws_main.write_config(&env.config(&name_main, &main.name, 600));
    ws_main.apply();
    let values = ws_main.resource_values("bbb_fleet.f");
    assert_eq!(orphan_names(&values), vec![env.record_name(gone_main)]);
    assert_eq!(
        orphan_server_ids(&values),
        vec![servers["gone_main"].clone()]
    );
    let ids: Vec<&str> = values["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .filter_map(|i| i["instance_id"].as_str())
        .collect();
    assert_eq!(
        ids,
        vec![live.as_str()],
        "the detached instance left the group"
    );

    // The unmarked leftovers are reported, not planned away.
    let plan = ws_main.ok(&["plan", "-no-color"]).flat();
    assert!(
        plan.contains("Leftovers without an ownership mark are not removed"),
        "{plan}"
    );
    assert!(plan.contains(&env.record_name(gone_unmarked)), "{plan}");
    ws_main.apply();

    let records = env.records();
    assert!(
        !records.contains(&env.record_name(gone_main)),
        "{records:?}"
    );
    assert!(!env.marks().contains(&env.record_name(gone_main)));
    for kept in [
        &live,
        &detached,
        &exams_ids[0],
        &gone_exams.to_string(),
        &gone_unmarked.to_string(),
    ] {
        assert!(
            records.contains(&env.record_name(kept)),
            "{kept}'s record was removed: {records:?}"
        );
    }
    assert!(env.scalelite.server(&servers["gone_main"]).is_none());
    for kept in ["live", "detached", "gone_exams", "gone_unmarked"] {
        assert!(
            env.scalelite.server(&servers[kept]).is_some(),
            "{kept}'s server was removed"
        );
    }

    // The other fleet, on the same domain, heals its own gone instance and nothing of main's.
    let ws_exams = env.workspace();
    ws_exams.write_config(&env.config(&unique("exams"), &exams.name, 600));
    ws_exams.apply();
    let values = ws_exams.resource_values("bbb_fleet.f");
    assert_eq!(orphan_names(&values), vec![env.record_name(gone_exams)]);
    ws_exams.apply();
    let records = env.records();
    assert!(
        !records.contains(&env.record_name(gone_exams)),
        "{records:?}"
    );
    assert!(records.contains(&env.record_name(&detached)), "{records:?}");
    assert!(env.scalelite.server(&servers["gone_exams"]).is_none());
    assert!(env.scalelite.server(&servers["detached"]).is_some());
    ws_main.assert_no_changes();
}

#[test]
fn scalelite_down_makes_the_refresh_a_warning_keeping_the_last_known_registrations() {
    let env = Env::new(PROVIDER);
    let group = env.group(1);
    let id = env.instance_ids(&group.name)[0].clone();
    env.upsert_owned(&env.record_name(&id), 1, &group.name);
    let server = env.register(&env.record_name(&id), Some("main"));
    let ws = env.workspace();
    ws.write_config(&env.config(&unique("f"), &group.name, 600));
    ws.apply();
    let instance = |ws: &bbb_acceptance_tests::Workspace| {
        ws.resource_values("bbb_fleet.f")["instances"][0].clone()
    };
    assert_eq!(instance(&ws)["scalelite_server_id"], json!(server));

    // A second registration of the same server, spelled with an upper-case host: reported.
    let upper = env.record_name(&id).to_ascii_uppercase();
    let duplicate = env.register(&upper, Some("main"));
    let plan = ws.ok(&["plan", "-no-color"]).flat();
    assert!(plan.contains("Duplicate Scalelite registrations"), "{plan}");
    assert!(plan.contains(&duplicate), "{plan}");
    assert!(env.scalelite.remove_server(&duplicate));

    env.scalelite.set_available(false);
    let plan = ws.ok(&["plan", "-no-color"]).flat();
    assert!(
        plan.contains("Scalelite did not answer; its values are the last known ones"),
        "{plan}"
    );
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(
        instance(&ws)["scalelite_server_id"],
        json!(server),
        "the last known registration is kept"
    );
    assert_eq!(instance(&ws)["scalelite_state"], json!("enabled"));

    env.scalelite.set_available(true);
    ws.assert_no_changes();
}

/// Route53 refuses a whole batch when one DELETE no longer matches (the instance's own drain,
/// or a retried call, removed that record meanwhile): the heal lists the records again and
/// sends the change once more without those gone, instead of failing the apply.
#[test]
fn a_refused_record_batch_is_listed_again_and_retried() {
    let env = Env::new(PROVIDER);
    let group = env.group(1);
    let gone = ["i-0deadbeef00000d1", "i-0deadbeef00000d2"];
    for (n, id) in gone.iter().enumerate() {
        env.upsert_owned(&env.record_name(id), 10 + n as u8, &group.name);
    }
    let front = env.rt.block_on(bbb_core::testing::LifecycleStub::start(
        &url::Url::parse(&env.moto_url).expect("moto url"),
    ));
    let config = env.config(&unique("f"), &group.name, 600).replacen(
        &format!("route53     = \"{}\"", env.moto_url),
        &format!("route53     = \"{}\"", front.url()),
        1,
    );
    assert!(config.contains(&front.url()), "{config}");
    let ws = env.workspace();
    ws.write_config(&config);
    ws.apply();
    let values = ws.resource_values("bbb_fleet.f");
    assert_eq!(orphan_names(&values).len(), 2, "{values}");

    env.rt
        .block_on(front.refuse_next_record_change(&env.record_name(gone[0])));
    let before = env.rt.block_on(front.posts_to("/rrset"));
    ws.apply();
    let changes = env.rt.block_on(front.posts_to("/rrset")) - before;
    assert_eq!(changes, 2, "one refused change, one retried");
    let records = env.records();
    for id in gone {
        assert!(!records.contains(&env.record_name(id)), "{records:?}");
    }
    ws.assert_no_changes();
}
