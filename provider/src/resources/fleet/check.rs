//! The fleet check (`bbb_fleet_check` action): one refresh of a fleet (`observe`), read for
//! disagreements between the group, Route53 and Scalelite, changing nothing. An in-service
//! instance should have its A record on one of its addresses, a Scalelite registration, and
//! scale-in protection while Scalelite reports load on it (when the fleet protects live
//! meetings); names and registrations of gone instances (what `bbb_fleet`'s apply heals) are
//! reported too.

use bbb_core::aws::DnsRecord;
use bbb_core::scalelite::Server;

use super::observe::{Instance, Observed};
use super::{Fleet, Model};
use crate::provider::ProviderData;
use tfplugin_framework::Diagnostics;

/// Which fleet to check: the attributes of `bbb_fleet` the refresh needs.
#[derive(Debug, Clone, Default)]
pub struct FleetRef {
    pub autoscaling_group_name: String,
    pub hosted_zone_id: Option<String>,
    pub domain: Option<String>,
    pub record_name_template: Option<String>,
    pub scalelite_tag: Option<String>,
    pub protect_live_meetings: bool,
}

/// What the check found.
#[derive(Debug, Default)]
pub struct Report {
    /// Instances in service, and in another lifecycle state (not judged).
    pub in_service: usize,
    pub in_transition: usize,
    /// One line per disagreement.
    pub findings: Vec<String>,
    /// What the refresh itself warns about (Scalelite unreachable, duplicates, unmarked leftovers).
    pub warnings: Diagnostics,
}

/// Checks the fleet; `Err` when the group cannot be read (or does not exist).
pub async fn check(data: &ProviderData, fleet: &FleetRef) -> Result<Report, Diagnostics> {
    let model = Model {
        autoscaling_group_name: fleet.autoscaling_group_name.clone(),
        hosted_zone_id: fleet.hosted_zone_id.clone(),
        domain: fleet.domain.clone(),
        record_name_template: fleet.record_name_template.clone(),
        scalelite_tag: fleet.scalelite_tag.clone(),
        ..Default::default()
    };
    let Some(seen) = Fleet::observe(data, &model).await? else {
        return Err(Diagnostics::from_error(
            "No such Auto Scaling group",
            format!(
                "Auto Scaling group {:?} does not exist.",
                fleet.autoscaling_group_name
            ),
        ));
    };
    let servers = if seen.scalelite_seen && model.naming().is_some() {
        Some(data.scalelite().await?.servers().await?)
    } else {
        None
    };
    Ok(judge(fleet, &seen, servers.as_deref().map(Vec::as_slice)))
}

/// Reads one refresh for disagreements. `servers`: Scalelite's list, when it answered.
fn judge(fleet: &FleetRef, seen: &Observed, servers: Option<&[Server]>) -> Report {
    let mut report = Report::default();
    if fleet.protect_live_meetings && !seen.new_instances_protected {
        report.findings.push(format!(
            "{}: the group does not protect new instances from scale-in (protect_from_scale_in = false): a new server is unprotected from InService until its hook protects it; set protect_from_scale_in = true on the aws_autoscaling_group, as modules/fleet does",
            fleet.autoscaling_group_name
        ));
    }
    for i in &seen.instances {
        if i.lifecycle_state != "InService" {
            report.in_transition += 1;
            continue;
        }
        report.in_service += 1;
        if let Some(name) = &i.dns_name {
            dns_finding(i, name, &seen.records, &mut report.findings);
        }
        if let Some(servers) = servers {
            scalelite_findings(fleet, i, servers, &mut report.findings);
        }
    }
    for o in &seen.orphaned_records {
        report.findings.push(format!(
            "{}: A record {} -> {} is left from instance {}, which is gone (the next bbb_fleet apply removes it)",
            o.orphan.name, o.orphan.name, o.orphan.value, o.orphan.instance_id
        ));
    }
    for o in &seen.orphaned_servers {
        report.findings.push(format!(
            "{}: Scalelite server {} is left from instance {}, which is gone (the next bbb_fleet apply removes it)",
            o.url, o.id, o.instance_id
        ));
    }
    report.warnings = seen.warnings.clone();
    report
}

fn dns_finding(i: &Instance, name: &str, records: &[DnsRecord], findings: &mut Vec<String>) {
    let addresses: Vec<&str> = [i.public_ip.as_deref(), i.private_ip.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let a = records
        .iter()
        .find(|r| r.record_type == "A" && r.name.eq_ignore_ascii_case(name));
    match a {
        None => findings.push(format!(
            "{}: no A record {name} in Route53 (clients and Scalelite cannot reach it by name)",
            i.instance_id
        )),
        Some(r) if !r.values.iter().any(|v| addresses.contains(&v.as_str())) => {
            findings.push(format!(
                "{}: A record {name} -> {} is not one of the instance's addresses ({})",
                i.instance_id,
                r.values.join(", "),
                if addresses.is_empty() {
                    "none known".to_string()
                } else {
                    addresses.join(", ")
                }
            ))
        }
        Some(_) => {}
    }
}

fn scalelite_findings(fleet: &FleetRef, i: &Instance, servers: &[Server], out: &mut Vec<String>) {
    let Some(id) = &i.scalelite_server_id else {
        out.push(format!(
            "{}: not registered in Scalelite (it takes no meetings)",
            i.instance_id
        ));
        return;
    };
    let load = servers
        .iter()
        .find(|s| &s.id == id)
        .and_then(|s| s.load)
        .filter(|l| *l > 0.0);
    if let (Some(load), false, true) =
        (load, i.protected_from_scale_in, fleet.protect_live_meetings)
    {
        out.push(format!(
            "{}: Scalelite reports load {load} on server {id}, but the instance is not protected from scale-in (a scale-in may end its meetings)",
            i.instance_id
        ));
    }
}
