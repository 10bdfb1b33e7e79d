//! Benchmark: AWS and Scalelite calls and wall time of a `bbb_fleet` refresh (`terraform plan`
//! with nothing to change) for fleets of 10, 100 and 500 instances, against moto and the
//! Scalelite double. Every instance has its A record and Scalelite registration. Prints
//! figures; asserts nothing. Run: `scripts/bench-fleet-refresh [N ...]`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Instant;

use bbb_acceptance_tests::Workspace;
use bbb_core::aws::ARecordChange;
use bbb_core::aws::AwsClients;
use bbb_core::scalelite::ServerState;
use bbb_core::testing::{unique, xml_text, MotoServer};
use bbb_doubles::scalelite::{DoubleServer, ScaleliteDouble};

fn main() {
    let sizes: Vec<i32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10, 100, 500]
    } else {
        sizes
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let provider = std::env::current_exe()
        .unwrap_or_default()
        .with_file_name("terraform-provider-bbb-acc");
    let moto = MotoServer::start().expect("moto");
    let moto_url = moto.url().as_str().trim_end_matches('/').to_string();
    let aws = rt.block_on(moto.clients());
    println!("refresh of one bbb_fleet of N instances (terraform plan, no changes), moto + Scalelite double on 127.0.0.1");
    println!(
        "{:>6} {:>12} {:>9} {:>9} {:>11} {:>10} {:>12}",
        "N", "autoscaling", "ec2", "route53", "aws total", "scalelite", "wall time"
    );
    for n in sizes {
        let scalelite = rt
            .block_on(ScaleliteDouble::start("bench-secret"))
            .expect("double");
        let domain = format!("{}.example.org", unique("bench"));
        let zone = rt
            .block_on(
                aws.route53_sdk()
                    .create_hosted_zone()
                    .name(&domain)
                    .caller_reference(unique("ref"))
                    .send(),
            )
            .expect("CreateHostedZone");
        let zone_id = zone
            .hosted_zone()
            .expect("zone")
            .id()
            .trim_start_matches("/hostedzone/")
            .to_owned();
        let group_name = rt.block_on(big_group(&aws, n));
        let ids: Vec<String> = rt
            .block_on(aws.describe_auto_scaling_group(&group_name))
            .expect("group")
            .instances
            .into_iter()
            .map(|i| i.instance_id)
            .collect();
        // What the on-instance hook would have made: a record and a registration each.
        let changes: Vec<ARecordChange> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| {
                ARecordChange::upsert(
                    format!("bbb-{id}.{domain}"),
                    Ipv4Addr::new(10, 1, (k / 250) as u8, (k % 250) as u8 + 1),
                    60,
                )
            })
            .collect();
        rt.block_on(aws.change_a_records(&zone_id, &changes))
            .expect("records");
        for id in &ids {
            let mut s =
                DoubleServer::new(format!("https://bbb-{id}.{domain}/bigbluebutton/api"), "s");
            s.state = ServerState::Enabled;
            scalelite.insert_server(s);
        }

        let mut ws = Workspace::new(&provider.display().to_string());
        ws.set_env("BBB_SCALELITE_URL", &scalelite.url());
        ws.set_env("BBB_SCALELITE_SECRET", "bench-secret");
        ws.set_env("AWS_ACCESS_KEY_ID", "testing");
        ws.set_env("AWS_SECRET_ACCESS_KEY", "testing");
        let u = &moto_url;
        ws.write_config(&format!(
            r#"provider "bbb" {{
  region = "us-east-1"
  endpoints {{
    autoscaling = "{u}"
    route53     = "{u}"
    ec2         = "{u}"
    ssm         = "{u}"
  }}
}}

resource "bbb_fleet" "f" {{
  name                       = "{name}"
  autoscaling_group_name     = "{asg}"
  hosted_zone_id             = "{zone_id}"
  domain                     = "{domain}"
  scalelite_secret_parameter = "/bbb/bench/scalelite-secret"
}}
"#,
            name = unique("bench"),
            asg = group_name,
        ));
        ws.ok(&["apply", "-auto-approve", "-no-color"]);

        let log = ws.path().join("tf.log");
        ws.set_env("TF_LOG_PROVIDER", "DEBUG");
        ws.set_env("TF_LOG_PROVIDER_BBB", "info");
        ws.set_env("TF_LOG_PATH", &log.display().to_string());
        scalelite.reset_calls();
        let start = Instant::now();
        ws.ok(&["plan", "-no-color", "-detailed-exitcode"]);
        let wall = start.elapsed();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let mut per_service: BTreeMap<String, u64> = BTreeMap::new();
        for line in text.lines().filter(|l| l.contains("aws call")) {
            if let Some(s) = line
                .split("service=")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
            {
                *per_service
                    .entry(s.trim_matches('"').to_string())
                    .or_insert(0) += 1;
            }
        }
        let get = |k: &str| per_service.get(k).copied().unwrap_or(0);
        println!(
            "{n:>6} {:>12} {:>9} {:>9} {:>11} {:>10} {:>11.3}s",
            get("autoscaling"),
            get("ec2"),
            get("route53"),
            per_service.values().sum::<u64>(),
            scalelite.total_calls(),
            wall.as_secs_f64()
        );
        ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    }
}

/// An Auto Scaling group of `size` instances in a subnet large enough for 500 (the test
/// support's group uses a /24).
async fn big_group(aws: &AwsClients, size: i32) -> String {
    let name = unique("bench");
    let p = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect::<Vec<_>>()
    };
    let ec2 = aws.ec2_query();
    let vpc = ec2
        .call("CreateVpc", &name, &p(&[("CidrBlock", "10.0.0.0/16")]))
        .await
        .expect("CreateVpc");
    let vpc_id = xml_text(&vpc, "vpcId").expect("vpcId");
    let subnet = ec2
        .call(
            "CreateSubnet",
            &name,
            &p(&[
                ("VpcId", &vpc_id),
                ("CidrBlock", "10.0.0.0/20"),
                ("AvailabilityZone", "us-east-1a"),
            ]),
        )
        .await
        .expect("CreateSubnet");
    let subnet_id = xml_text(&subnet, "subnetId").expect("subnetId");
    let lc = format!("{name}-lc");
    aws.autoscaling_sdk()
        .create_launch_configuration()
        .launch_configuration_name(&lc)
        .image_id("ami-12c6146b")
        .instance_type("c5.xlarge")
        .send()
        .await
        .expect("CreateLaunchConfiguration");
    aws.autoscaling_sdk()
        .create_auto_scaling_group()
        .auto_scaling_group_name(&name)
        .launch_configuration_name(&lc)
        .min_size(0)
        .max_size(size + 2)
        .desired_capacity(size)
        .vpc_zone_identifier(&subnet_id)
        .send()
        .await
        .expect("CreateAutoScalingGroup");
    name
}
