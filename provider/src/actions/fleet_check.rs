//! `bbb_fleet_check`: reports the in-service instances of a fleet whose Route53 record,
//! Scalelite registration or scale-in protection disagree, and the leftovers of gone
//! instances, as progress lines and one warning. Changes nothing. The reading is
//! `bbb_fleet`'s own refresh (`resources::fleet::check`).

use async_trait::async_trait;

use crate::provider::ProviderData;
use crate::resources::fleet::check::{check, FleetRef};
use tfplugin_framework::validators::not_blank;
use tfplugin_framework::{Action, Attribute, Block, Diagnostics, Progress, Schema, Value};

/// At most this many findings are listed in the warning (all go to progress).
const LISTED: usize = 20;

pub struct FleetCheck;

fn fleet_ref(config: &Value) -> FleetRef {
    let text = |name: &str| config.get(name).as_str().map(str::to_string);
    FleetRef {
        autoscaling_group_name: text("autoscaling_group_name").unwrap_or_default(),
        hosted_zone_id: text("hosted_zone_id"),
        domain: text("domain"),
        record_name_template: text("record_name_template"),
        scalelite_tag: text("scalelite_tag"),
        protect_live_meetings: config
            .get("protect_live_meetings")
            .as_bool()
            .unwrap_or(true),
    }
}

#[async_trait]
impl Action<ProviderData> for FleetCheck {
    fn type_name(&self) -> &'static str {
        "bbb_fleet_check"
    }

    fn schema(&self) -> Schema {
        let text = |name: &str, about: &str| {
            Attribute::string(name)
                .optional()
                .validate(not_blank())
                .description(about)
        };
        Schema::new(
            Block::new()
                .description("Checks a fleet without changing anything: every in-service instance should have its A record on one of its addresses, a Scalelite registration, and scale-in protection while Scalelite reports load on it; names and Scalelite servers left by gone instances are listed too, and, while it protects live meetings, a group that does not protect new instances as they enter service (`protect_from_scale_in`). Each disagreement is a progress line, and all of them one warning. Give the same values as the fleet's `bbb_fleet` (e.g. `bbb_fleet.f.autoscaling_group_name`).")
                .attribute(Attribute::string("autoscaling_group_name").required().validate(not_blank()).description("The fleet's Auto Scaling group."))
                .attribute(text("hosted_zone_id", "The fleet's Route53 hosted zone. Without it and `domain`, records and Scalelite are not checked."))
                .attribute(text("domain", "The domain the instances' names are under."))
                .attribute(text("record_name_template", "The fleet's name template; default `bbb-{instance_id}`."))
                .attribute(text("scalelite_tag", "The fleet's Scalelite tag: only servers with it count as the fleet's leftovers."))
                .attribute(Attribute::bool("protect_live_meetings").optional().description("Whether the fleet protects instances with live meetings from scale-in (`bbb_fleet`'s `protect_live_meetings`); default `true`. When `false`, protection is not checked.")),
        )
    }

    async fn plan(&self, data: &ProviderData, config: &Value, diags: &mut Diagnostics) {
        let group = config.get("autoscaling_group_name");
        let Some(group) = group.as_str() else { return };
        let aws = match data.aws().await {
            Ok(aws) => aws,
            Err(e) => return diags.extend(e),
        };
        match aws.describe_auto_scaling_group(group).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => diags.error_at(
                tfplugin_framework::AttrPath::attr("autoscaling_group_name"),
                "No such Auto Scaling group",
                format!("Auto Scaling group {group:?} does not exist."),
            ),
            Err(e) => diags.extend(crate::aws_access::aws_error(
                "describe the Auto Scaling group",
                &e,
            )),
        }
    }

    async fn invoke(&self, data: &ProviderData, config: Value, progress: &Progress) -> Diagnostics {
        let fleet = fleet_ref(&config);
        let report = match check(data, &fleet).await {
            Ok(r) => r,
            Err(e) => return e,
        };
        for line in &report.findings {
            progress.send(line.clone());
        }
        let group = &fleet.autoscaling_group_name;
        let summary = format!(
            "{group}: {} instance(s) in service checked, {} in another lifecycle state not judged; {} disagreement(s)",
            report.in_service,
            report.in_transition,
            report.findings.len()
        );
        progress.send(summary.clone());
        let mut diags = report.warnings;
        if !report.findings.is_empty() {
            let mut listed: Vec<String> = report.findings.iter().take(LISTED).cloned().collect();
            if report.findings.len() > LISTED {
                listed.push(format!("and {} more", report.findings.len() - LISTED));
            }
            diags.warning(
                format!(
                    "Fleet {group} disagrees with itself in {} place(s)",
                    report.findings.len()
                ),
                format!(
                    "{summary}:\n- {}\n\nNothing was changed.",
                    listed.join("\n- ")
                ),
            );
        }
        diags
    }
}
