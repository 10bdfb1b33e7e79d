//! The `bbb_fleet` acceptance tests' environment: moto (Auto Scaling, EC2, Route53), a hosted
//! zone with its own domain, and the Scalelite double; workspaces and configurations for it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::Workspace;
use bbb_core::aws::{ownership, ARecordChange, AwsClients, RecordChange};
use bbb_core::scalelite::ServerState;
use bbb_core::testing::{shared, unique, TestGroup};
use bbb_doubles::scalelite::{DoubleServer, ScaleliteDouble};

/// Scalelite's load-balancer secret in the double.
pub const LB_SECRET: &str = "scalelite-lb-secret-fleet";

pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub scalelite: ScaleliteDouble,
    pub aws: AwsClients,
    pub moto_url: String,
    pub zone_id: String,
    pub domain: String,
    provider: String,
}

impl Env {
    /// `provider` is the provider binary the workspaces run (in tests:
    /// `env!("CARGO_BIN_EXE_terraform-provider-bbb-acc")`).
    pub fn new(provider: &str) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let scalelite = rt
            .block_on(ScaleliteDouble::start(LB_SECRET))
            .expect("scalelite double");
        let moto = shared();
        let aws = rt.block_on(moto.clients());
        let domain = format!("{}.example.org", unique("fleet"));
        let out = rt
            .block_on(
                aws.route53_sdk()
                    .create_hosted_zone()
                    .name(&domain)
                    .caller_reference(unique("ref"))
                    .send(),
            )
            .expect("CreateHostedZone");
        let zone_id = out
            .hosted_zone()
            .expect("zone")
            .id()
            .trim_start_matches("/hostedzone/")
            .to_owned();
        let moto_url = moto.url().as_str().trim_end_matches('/').to_string();
        Self {
            rt,
            scalelite,
            aws,
            moto_url,
            zone_id,
            domain,
            provider: provider.to_string(),
        }
    }

    pub fn group(&self, size: i32) -> TestGroup {
        self.rt
            .block_on(TestGroup::create(&self.aws, "fleet", size))
    }

    pub fn workspace(&self) -> Workspace {
        let mut ws = Workspace::new(&self.provider);
        ws.set_env("BBB_SCALELITE_URL", &self.scalelite.url());
        ws.set_env("BBB_SCALELITE_SECRET", LB_SECRET);
        ws.set_env("BBB_MAX_RETRIES", "0");
        ws.set_env("AWS_ACCESS_KEY_ID", "testing");
        ws.set_env("AWS_SECRET_ACCESS_KEY", "testing");
        ws
    }

    pub fn provider_block(&self) -> String {
        let u = &self.moto_url;
        format!(
            "provider \"bbb\" {{\n  region = \"us-east-1\"\n  endpoints {{\n    autoscaling = \"{u}\"\n    route53     = \"{u}\"\n    ec2         = \"{u}\"\n    ssm         = \"{u}\"\n  }}\n}}\n"
        )
    }

    pub fn config(&self, name: &str, asg: &str, heartbeat: u32) -> String {
        format!(
            r#"{}
resource "bbb_fleet" "f" {{
  name                       = "{name}"
  autoscaling_group_name     = "{asg}"
  hosted_zone_id             = "{zone}"
  domain                     = "{domain}"
  record_name_template       = "bbb-{{instance_id}}"
  record_ttl                 = 60
  scalelite_tag              = "main"
  load_multiplier            = 1.5
  scalelite_secret_parameter = "/bbb/test/scalelite-secret"
  protect_live_meetings      = true

  drain {{
    lifecycle_hook_name = "{name}-drain"
    heartbeat_timeout   = {heartbeat}
    max_wait            = "2h"
  }}
}}
"#,
            self.provider_block(),
            zone = self.zone_id,
            domain = self.domain,
        )
    }

    /// The group's hooks: name -> (transition, heartbeat seconds, default result).
    pub fn hooks(&self, asg: &str) -> BTreeMap<String, (String, u64, String)> {
        let hooks = self
            .rt
            .block_on(self.aws.describe_lifecycle_hooks(asg, &[]))
            .expect("hooks");
        hooks
            .into_iter()
            .map(|h| {
                let result = h
                    .default_result
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default();
                (
                    h.hook_name,
                    (
                        h.transition.as_str().to_string(),
                        h.heartbeat_timeout.map_or(0, |d| d.as_secs()),
                        result,
                    ),
                )
            })
            .collect()
    }

    pub fn instance_ids(&self, asg: &str) -> Vec<String> {
        let g = self
            .rt
            .block_on(self.aws.describe_auto_scaling_group(asg))
            .expect("group");
        g.instances.into_iter().map(|i| i.instance_id).collect()
    }

    pub fn record_name(&self, id: &str) -> String {
        format!("bbb-{id}.{}", self.domain)
    }

    pub fn upsert(&self, name: &str, last: u8) {
        self.rt
            .block_on(self.aws.change_a_records(
                &self.zone_id,
                &[ARecordChange::upsert(
                    name,
                    Ipv4Addr::new(10, 0, 9, last),
                    60,
                )],
            ))
            .expect("upsert record");
    }

    /// Upserts `name` as the on-instance hook does: the A record and, next to it, the ownership
    /// mark of group `owner` (`bbb_core::aws::ownership`), in one change.
    pub fn upsert_owned(&self, name: &str, last: u8, owner: &str) {
        let changes = [
            RecordChange::A(ARecordChange::upsert(
                name,
                Ipv4Addr::new(10, 0, 9, last),
                60,
            )),
            RecordChange::Txt(ownership::upsert(name, owner, 60)),
        ];
        self.rt
            .block_on(self.aws.change_records(&self.zone_id, &changes))
            .expect("upsert record and mark");
    }

    /// The names of the zone's TXT records holding a fleet mark.
    pub fn marks(&self) -> Vec<String> {
        let records = self
            .rt
            .block_on(self.aws.list_records(&self.zone_id, &self.domain))
            .expect("records");
        let mut names: Vec<String> = records
            .iter()
            .filter(|r| ownership::mark_of(&records, &r.name).is_some_and(|m| m == *r))
            .map(|r| r.name.clone())
            .collect();
        names.sort();
        names
    }

    pub fn records(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .rt
            .block_on(self.aws.list_records(&self.zone_id, &self.domain))
            .expect("records")
            .into_iter()
            .filter(|r| r.record_type == "A")
            .map(|r| r.name)
            .collect();
        names.sort();
        names
    }

    pub fn register(&self, host: &str, tag: Option<&str>) -> String {
        let mut s = DoubleServer::new(format!("https://{host}/bigbluebutton/api"), "bbb-secret");
        s.state = ServerState::Enabled;
        s.tag = tag.map(str::to_string);
        self.scalelite.insert_server(s)
    }
}
