//! One refresh of a fleet: what the group, its hooks, EC2, Route53 and Scalelite report.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use bbb_core::aws::{DnsRecord, LifecycleHook, LifecycleState};
use bbb_core::scalelite::Server;
use serde::{Deserialize, Serialize};

use crate::aws_access::aws_error;
use crate::framework::Diagnostics;
use crate::provider::ProviderData;

use super::heal::{OrphanRecord, OrphanServer};
use super::{Fleet, Model};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Instance {
    pub(super) instance_id: String,
    pub(super) lifecycle_state: String,
    pub(super) health_status: String,
    pub(super) protected_from_scale_in: bool,
    pub(super) availability_zone: Option<String>,
    pub(super) private_ip: Option<String>,
    pub(super) public_ip: Option<String>,
    pub(super) dns_name: Option<String>,
    pub(super) scalelite_server_id: Option<String>,
    pub(super) scalelite_state: Option<String>,
}

/// Everything one refresh observed.
pub(super) struct Observed {
    pub(super) hooks: Vec<LifecycleHook>,
    pub(super) instances: Vec<Instance>,
    pub(super) orphaned_records: Vec<(OrphanRecord, DnsRecord)>,
    pub(super) orphaned_servers: Vec<OrphanServer>,
}

impl Fleet {
    /// One refresh: the group, the two hooks, the instances' addresses, the fleet's records
    /// and the shared Scalelite server list. `Ok(None)` when the group is gone.
    pub(super) async fn observe(
        data: &ProviderData,
        model: &Model,
    ) -> Result<Option<Observed>, Diagnostics> {
        let aws = data.aws().await?;
        let asg_name = &model.autoscaling_group_name;
        let group = match aws.describe_auto_scaling_group(asg_name).await {
            Ok(g) => g,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(aws_error("describe the Auto Scaling group", &e)),
        };
        let hooks = aws
            .describe_lifecycle_hooks(asg_name, &[])
            .await
            .map_err(|e| aws_error("describe the lifecycle hooks", &e))?;
        let ids: Vec<String> = group
            .instances
            .iter()
            .map(|i| i.instance_id.clone())
            .collect();
        let ec2 = if ids.is_empty() {
            Vec::new()
        } else {
            aws.describe_instances(&ids)
                .await
                .map_err(|e| aws_error("describe the fleet's instances", &e))?
        };
        let ec2: HashMap<&str, _> = ec2.iter().map(|i| (i.instance_id.as_str(), i)).collect();
        let naming = model.naming();
        let (records, servers) = match (&naming, &model.hosted_zone_id) {
            (Some(n), Some(zone)) => {
                let records = aws
                    .list_records(zone, &n.domain)
                    .await
                    .map_err(|e| aws_error("list the fleet's Route53 records", &e))?;
                let servers = data.scalelite().await?.servers().await?;
                (records, Some(servers))
            }
            _ => (Vec::new(), None),
        };
        let servers_by_url: HashMap<String, &Server> = servers
            .iter()
            .flat_map(|s| s.iter())
            .map(|s| (s.url.trim_end_matches('/').to_ascii_lowercase(), s))
            .collect();

        let mut alive = HashSet::new();
        let mut instances = Vec::with_capacity(group.instances.len());
        for i in &group.instances {
            let described = ec2.get(i.instance_id.as_str());
            let ec2_gone = described.is_some_and(|d| d.state == "terminated");
            if i.lifecycle_state != LifecycleState::Terminated && !ec2_gone {
                alive.insert(i.instance_id.to_ascii_lowercase());
            }
            let dns_name = naming.as_ref().map(|n| n.record_name(&i.instance_id));
            let server = naming.as_ref().and_then(|n| {
                servers_by_url.get(&n.server_url(&i.instance_id).to_ascii_lowercase())
            });
            instances.push(Instance {
                instance_id: i.instance_id.clone(),
                lifecycle_state: i.lifecycle_state.as_str().to_string(),
                health_status: match &i.health_status {
                    bbb_core::aws::HealthStatus::Healthy => "Healthy".to_string(),
                    bbb_core::aws::HealthStatus::Unhealthy => "Unhealthy".to_string(),
                    bbb_core::aws::HealthStatus::Other(s) => s.clone(),
                },
                protected_from_scale_in: i.protected_from_scale_in,
                availability_zone: i.availability_zone.clone(),
                private_ip: described.and_then(|d| d.private_ip).map(|a| a.to_string()),
                public_ip: described.and_then(|d| d.public_ip).map(|a| a.to_string()),
                dns_name,
                scalelite_server_id: server.map(|s| s.id.clone()),
                scalelite_state: server.map(|s| s.state.as_str().to_string()),
            });
        }

        let mut orphaned_records = Vec::new();
        let mut orphaned_servers = Vec::new();
        if let Some(n) = &naming {
            for r in &records {
                // Only plain single-value A records: exactly what the hook writes.
                if r.record_type != "A"
                    || r.alias
                    || r.set_identifier.is_some()
                    || r.values.len() != 1
                {
                    continue;
                }
                let Some(id) = n.instance_of(&r.name) else {
                    continue;
                };
                if alive.contains(&id) || r.values[0].parse::<Ipv4Addr>().is_err() {
                    continue;
                }
                let orphan = OrphanRecord {
                    name: r.name.clone(),
                    instance_id: id,
                    ttl: r.ttl.unwrap_or(0) as f64,
                    value: r.values[0].clone(),
                };
                orphaned_records.push((orphan, r.clone()));
            }
            for s in servers.iter().flat_map(|s| s.iter()) {
                let Some(id) = n.instance_of_url(&s.url) else {
                    continue;
                };
                if alive.contains(&id) {
                    continue;
                }
                if let Some(tag) = &model.scalelite_tag {
                    if s.tag.as_deref() != Some(tag.as_str()) {
                        continue;
                    }
                }
                orphaned_servers.push(OrphanServer {
                    id: s.id.clone(),
                    url: s.url.clone(),
                    instance_id: id,
                });
            }
        }
        orphaned_records.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        orphaned_servers.sort_by(|a, b| a.url.cmp(&b.url).then(a.id.cmp(&b.id)));
        Ok(Some(Observed {
            hooks,
            instances,
            orphaned_records,
            orphaned_servers,
        }))
    }

    /// Fills the observed values into `model`.
    pub(super) fn fill(model: &mut Model, seen: &Observed) {
        let hook = |name: &str| seen.hooks.iter().find(|h| h.hook_name == name);
        let terminating = model
            .terminating_hook_name
            .clone()
            .unwrap_or_else(|| model.wanted_terminating_hook());
        // A hook deleted outside Terraform reads as null, so the next plan puts it back.
        model.terminating_hook_name = hook(&terminating).map(|h| h.hook_name.clone());
        if let Some(h) = hook(&terminating) {
            if let (Some(d), Some(t)) = (model.drain.as_mut(), h.heartbeat_timeout) {
                d.heartbeat_timeout = Some(t.as_secs() as f64);
            }
        }
        let launching = model.launch_hook();
        match hook(&launching) {
            Some(h) => {
                model.launch_hook_name = Some(h.hook_name.clone());
                if let Some(t) = h.heartbeat_timeout {
                    model.launch_heartbeat_timeout = Some(t.as_secs() as f64);
                }
            }
            None => model.launch_hook_name = None,
        }
        model.instances = Some(seen.instances.clone());
        model.orphaned_records = Some(
            seen.orphaned_records
                .iter()
                .map(|(o, _)| o.clone())
                .collect(),
        );
        model.orphaned_servers = Some(seen.orphaned_servers.clone());
    }
}
