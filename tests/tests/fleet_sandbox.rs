//! The fleet scenario of scripts/demo, shortened (three servers): examples/local applied
//! against the sandbox, whose instances run the real bbb-hook. Asserts the demo's outcomes.

use std::path::PathBuf;
use std::time::Duration;

use bbb_acceptance_tests::{fleet_scenario, repo_root};
use bbb_sandbox::{Options, Sandbox};

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

/// Newest modification time under `dir`.
fn newest(dir: &std::path::Path) -> std::time::SystemTime {
    let mut t = std::time::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        let m = if p.is_dir() {
            newest(&p)
        } else {
            entry.metadata().and_then(|m| m.modified()).unwrap_or(t)
        };
        t = t.max(m);
    }
    t
}

/// The debug `bbb-hook` of this workspace, in cargo's target directory (`CARGO_TARGET_DIR`
/// when set, relative to the workspace when relative; `target/` otherwise). `cargo test
/// --workspace` builds it (the hook's own tests need it); a missing or stale binary is an error
/// rather than a silent old hook.
fn hook_binary() -> PathBuf {
    let root = repo_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| root.join("target"), |d| root.join(d));
    let bin = target.join("debug/bbb-hook");
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `cargo build -p bbb-hook` (or `cargo test --workspace`)",
                bin.display()
            )
        });
    for src in ["hook/src", "core/src"] {
        assert!(
            newest(&root.join(src)) <= built,
            "{} is older than {src}: run `cargo build -p bbb-hook` (or `cargo test --workspace`)",
            bin.display()
        );
    }
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fleet_scenario_keeps_meetings_heals_crashes_and_scales_ahead_of_events() {
    let sb = Sandbox::start(Options {
        hook_binary: hook_binary(),
        print_events: true,
        protect_every: Duration::from_millis(700),
        poll_interval: Duration::from_millis(300),
        max_size: 6,
        withheld_instance_actions: Vec::new(),
    })
    .await
    .expect("sandbox");
    let out = fleet_scenario::play(&sb, PROVIDER, 3).await;
    assert!(out.failures.is_empty(), "failed steps: {:?}", out.failures);
    assert_eq!(out.servers_launched, 3);
    assert_eq!(out.meetings_dropped, 0);
    assert_eq!(out.servers_drained, 2);
    assert_eq!(out.crash_leftovers, (1, 1));
    assert_eq!(out.leftovers_after_apply, (0, 0));
    assert_eq!(out.event_capacity, (3, 3));
    assert!(out.event_ahead_seconds > 0);
    // The drains' last lines come as the terminated instances shut down.
    sb.fleet.shutdowns_done().await;
    let drains = sb
        .events
        .all()
        .iter()
        .filter(|e| e.text.contains("drain complete"))
        .count();
    assert_eq!(drains, 2, "each drained server ran its hook's drain");
}

/// Clients signing with `creds`, whose Auto Scaling calls go to the sandbox's Auto Scaling
/// endpoint, without retries.
async fn signing_as(
    sb: &Sandbox,
    creds: bbb_core::aws::StaticCredentials,
) -> bbb_core::aws::AwsClients {
    let moto = url::Url::parse(&sb.endpoints.moto_url).expect("moto URL");
    let mut config = bbb_core::aws::AwsConfig::emulator(&moto, &sb.endpoints.region);
    config.endpoints.autoscaling =
        Some(url::Url::parse(&sb.endpoints.autoscaling_url).expect("endpoint URL"));
    config.credentials = Some(creds);
    config.max_retries = 0;
    bbb_core::aws::AwsClients::new(&config)
        .await
        .expect("clients")
}

/// The sandbox's moto enforces IAM, and its instances' hooks sign with keys bound to the fleet
/// module's instance policy: a policy without `route53:ListResourceRecordSets` keeps an instance
/// from launching; the Auto Scaling endpoint checks the lifecycle calls it answers itself
/// against the policy, and forwards the others with their signatures intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sandbox_enforces_the_instance_policy() {
    let sb = Sandbox::start(Options {
        hook_binary: hook_binary(),
        print_events: true,
        protect_every: Duration::from_millis(700),
        poll_interval: Duration::from_millis(300),
        max_size: 2,
        withheld_instance_actions: vec![
            "route53:ListResourceRecordSets".into(),
            "autoscaling:RecordLifecycleActionHeartbeat".into(),
        ],
    })
    .await
    .expect("sandbox");
    let group = sb.endpoints.autoscaling_group_name.clone();

    // A call the endpoint forwards to moto, signed by the instances' key: moto verifies the
    // signature over the Host the client signed.
    let instance = signing_as(&sb, sb.instance_credentials.clone()).await;
    instance
        .describe_auto_scaling_group(&group)
        .await
        .expect("DescribeAutoScalingGroups through the endpoint, signed by the instances' key");

    // The lifecycle calls the endpoint answers itself: allowed ones reach the group's logic
    // (no action in progress), withheld ones and unknown keys are refused.
    let asg = instance.autoscaling_sdk();
    let complete = asg
        .complete_lifecycle_action()
        .auto_scaling_group_name(&group)
        .lifecycle_hook_name("sandbox-drain")
        .instance_id("i-0123456789abcdef0")
        .lifecycle_action_result("CONTINUE")
        .send()
        .await
        .expect_err("no lifecycle action in progress");
    assert!(
        format!("{complete:?}").contains("ValidationError"),
        "{complete:?}"
    );
    let heartbeat = asg
        .record_lifecycle_action_heartbeat()
        .auto_scaling_group_name(&group)
        .lifecycle_hook_name("sandbox-drain")
        .instance_id("i-0123456789abcdef0")
        .send()
        .await
        .expect_err("the heartbeat is not in the policy");
    assert!(
        format!("{heartbeat:?}").contains("AccessDenied"),
        "{heartbeat:?}"
    );
    let stranger = signing_as(
        &sb,
        bbb_core::aws::StaticCredentials {
            access_key_id: "AKIASTRANGER".into(),
            secret_access_key: bbb_core::Secret::new("stranger"),
            session_token: None,
        },
    )
    .await;
    let refused = stranger
        .autoscaling_sdk()
        .set_desired_capacity()
        .auto_scaling_group_name(&group)
        .desired_capacity(2)
        .send()
        .await
        .expect_err("an unknown key");
    assert!(
        format!("{refused:?}").contains("InvalidClientTokenId"),
        "{refused:?}"
    );
    assert_ne!(
        sb.fleet.desired(),
        Some(2),
        "the refused call changed nothing"
    );

    // An instance whose policy lacks route53:ListResourceRecordSets does not launch.
    let config = serde_json::json!({
        "version": 1, "fleet_name": bbb_sandbox::FLEET_NAME, "region": sb.endpoints.region,
        "autoscaling_group_name": group, "hosted_zone_id": sb.endpoints.hosted_zone_id,
        "domain": sb.endpoints.domain, "record_name_template": bbb_sandbox::RECORD_NAME_TEMPLATE,
        "record_ttl": 60, "scalelite_url": sb.endpoints.scalelite_url, "scalelite_tag": null,
        "load_multiplier": 2.0,
        "scalelite_secret_parameter": sb.endpoints.scalelite_secret_parameter,
        "protect_live_meetings": true, "launching_hook_name": "",
        "launching_heartbeat_timeout": 900, "terminating_hook_name": "",
        "heartbeat_timeout": 60, "max_wait": "60s", "max_wait_seconds": 60
    });
    sb.publish_hook_config(&config.to_string()).await;
    sb.fleet.set_desired(1);
    let refused_launch = || {
        sb.events.all().iter().any(|e| {
            e.source.starts_with("i-")
                && e.text.starts_with("hook launch:")
                && (e.text.contains("AccessDenied") || e.text.contains("not authorized"))
        })
    };
    let seen = sb
        .wait_for(Duration::from_secs(90), || {
            let seen = refused_launch();
            async move { seen }
        })
        .await;
    assert!(seen, "no instance's launch was refused a permission");
    assert!(
        sb.events
            .all()
            .iter()
            .any(|e| e.text.contains("bbb-hook launch exited")),
        "the launch did not fail"
    );
    assert!(
        sb.records().await.is_empty(),
        "no record without the launch"
    );
    assert!(
        fleet_scenario::fleet_servers_of(&sb).is_empty(),
        "no fleet server registered in Scalelite"
    );
}

/// A compressed day (tests/src/day_scenario.rs): the participants the hooks publish scale the
/// fleet out through target tracking, meetings created through Scalelite's routing land on every
/// server, and when demand falls the hooks' consolidation shrinks the fleet to what the remaining
/// meetings need, without dropping a meeting.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_day_scales_out_on_participants_and_consolidates_without_dropping_a_meeting() {
    let day = bbb_acceptance_tests::day_scenario::Day::default();
    let sb = Sandbox::start(Options {
        hook_binary: hook_binary(),
        print_events: true,
        protect_every: Duration::from_millis(700),
        poll_interval: Duration::from_millis(300),
        max_size: day.max_servers,
        withheld_instance_actions: Vec::new(),
    })
    .await
    .expect("sandbox");
    let out = bbb_acceptance_tests::day_scenario::play(&sb, &day).await;
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert!(
        out.peak_servers >= 3,
        "the metric scaled the fleet out: {out:?}"
    );
    for id in &out.servers_at_peak {
        assert!(
            out.meetings_per_server.get(id).copied().unwrap_or(0) > 0,
            "no meeting landed on {id}: {out:?}"
        );
    }
    assert_eq!(out.traffic.lost, 0, "{out:?}");
    assert_eq!(out.meetings_dropped, 0, "{out:?}");
    assert_eq!(out.traffic.refused, 0, "{out:?}");
    assert!(
        out.traffic.ended >= u64::from(day.morning_meetings),
        "{out:?}"
    );
    assert!(
        out.cordoned_while_busy > 0,
        "a surplus server was cordoned while it still hosted meetings: {out:?}"
    );
    assert_eq!(out.final_desired, Some(1), "{out:?}");
    assert_eq!(
        out.final_servers, 1,
        "the fleet shrank to what is left: {out:?}"
    );
}
