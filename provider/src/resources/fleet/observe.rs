//! One refresh of a fleet: what the group, its hooks, EC2, Route53 and Scalelite report.
//!
//! What is an orphan (healed by the next apply): an A record on a name of the fleet's naming
//! scheme that carries this group's ownership mark (`bbb_core::aws::ownership`, written by the
//! hook next to the record), and a Scalelite server whose host is such a name (and whose tag
//! is the fleet's), when the name's instance is gone: not a live member of the group, and
//! terminated or unknown by EC2. So another fleet's names on the same domain (another mark), an
//! instance detached from the group or waiting in a warm pool (EC2 still runs it), and names
//! someone else made that merely follow the scheme (no mark: older hooks, or by hand) are never
//! touched; the last are reported in a warning.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;

use bbb_core::aws::{ownership, DnsRecord, LifecycleHook, LifecycleState};
use bbb_core::canonical_registered_url;
use bbb_core::scalelite::Server;
use serde::{Deserialize, Serialize};

use crate::aws_access::aws_error;
use crate::provider::ProviderData;
use tfplugin_framework::Diagnostics;

use super::heal::{OrphanRecord, OrphanServer};
use super::naming::Naming;
use super::{Fleet, Model};

/// At most this many names are listed in a warning.
const LISTED: usize = 10;

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

/// An orphaned name: what the state shows, and the records to delete (the A record, and its
/// ownership mark when there is one).
pub(super) struct OrphanedName {
    pub(super) orphan: OrphanRecord,
    pub(super) records: Vec<DnsRecord>,
}

/// Everything one refresh observed.
pub(super) struct Observed {
    pub(super) hooks: Vec<LifecycleHook>,
    pub(super) instances: Vec<Instance>,
    pub(super) orphaned_records: Vec<OrphanedName>,
    pub(super) orphaned_servers: Vec<OrphanServer>,
    /// Whether Scalelite answered; without it, orphaned servers were not looked for.
    pub(super) scalelite_seen: bool,
    /// What the refresh wants the user to know: Scalelite unreachable, duplicate
    /// registrations, leftovers without an ownership mark.
    pub(super) warnings: Diagnostics,
    /// The records under the fleet's domain, as listed (for the fleet check).
    pub(super) records: Vec<DnsRecord>,
    /// The group protects new instances from scale-in as they enter service (its
    /// `NewInstancesProtectedFromScaleIn`, `protect_from_scale_in` in Terraform).
    pub(super) new_instances_protected: bool,
}

/// A name of the fleet's scheme whose instance is not a live member of the group.
struct Candidate<'a> {
    instance_id: String,
    record: &'a DnsRecord,
    owned: bool,
}

impl Fleet {
    /// One refresh: the group, the two hooks, the instances' addresses, the fleet's records
    /// and the shared Scalelite server list (plus one DescribeInstances of the names whose
    /// instances left the group, when there are any). `Ok(None)` when the group is gone.
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
        let mut warnings = Diagnostics::new();
        let naming = model.naming();
        let (records, servers) = match (&naming, &model.hosted_zone_id) {
            (Some(n), Some(zone)) => {
                let records = aws
                    .list_records(zone, &n.domain)
                    .await
                    .map_err(|e| aws_error("list the fleet's Route53 records", &e))?;
                let servers = match data.scalelite().await?.servers().await {
                    Ok(servers) => Some(servers),
                    Err(e) => {
                        warnings.extend(scalelite_unavailable(&e));
                        None
                    }
                };
                (records, servers)
            }
            _ => (Vec::new(), None),
        };
        let scalelite_seen = servers.is_some() || naming.is_none();
        let by_url = registrations(servers.as_deref());
        if let Some(n) = &naming {
            warn_duplicates(n, &by_url, &mut warnings);
        }
        let prior: HashMap<&str, &Instance> = model
            .instances
            .iter()
            .flatten()
            .map(|i| (i.instance_id.as_str(), i))
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
            let (server_id, server_state) = if servers.is_some() {
                let server = naming.as_ref().and_then(|n| {
                    canonical_registered_url(&n.server_url(&i.instance_id))
                        .and_then(|u| by_url.get(&u))
                        .and_then(|list| list.first())
                });
                (
                    server.map(|s| s.id.clone()),
                    server.map(|s| s.state.as_str().to_string()),
                )
            } else {
                // Scalelite did not answer: the last known registration stays.
                let last = prior.get(i.instance_id.as_str());
                (
                    last.and_then(|p| p.scalelite_server_id.clone()),
                    last.and_then(|p| p.scalelite_state.clone()),
                )
            };
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
                scalelite_server_id: server_id,
                scalelite_state: server_state,
            });
        }
        // Sorted, so outputs do not reorder between runs.
        instances.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));

        let mut orphaned_records = Vec::new();
        let mut orphaned_servers = Vec::new();
        if let Some(n) = &naming {
            let candidates = candidates(n, &records, &alive, asg_name);
            let server_candidates: Vec<(&Server, String)> = servers
                .iter()
                .flat_map(|s| s.iter())
                .filter(|s| {
                    model
                        .scalelite_tag
                        .as_ref()
                        .is_none_or(|tag| s.tag.as_deref() == Some(tag.as_str()))
                })
                .filter_map(|s| Some((s, n.instance_of_url(&s.url)?)))
                .filter(|(_, id)| !alive.contains(id))
                .collect();
            // EC2 decides whether an instance outside the group is gone: a detached or
            // warm-pool instance still runs.
            let mut asked: Vec<String> = candidates
                .iter()
                .map(|c| c.instance_id.clone())
                .chain(server_candidates.iter().map(|(_, id)| id.clone()))
                .collect();
            asked.sort();
            asked.dedup();
            let gone = gone_instances(data, &asked).await?;
            let mut unowned: Vec<String> = Vec::new();
            for c in candidates.iter().filter(|c| gone.contains(&c.instance_id)) {
                if !c.owned {
                    unowned.push(c.record.name.clone());
                    continue;
                }
                let r = c.record;
                let mut doomed = vec![r.clone()];
                doomed.extend(ownership::mark_of(&records, &r.name).cloned());
                orphaned_records.push(OrphanedName {
                    orphan: OrphanRecord {
                        name: r.name.clone(),
                        instance_id: c.instance_id.clone(),
                        ttl: r.ttl.unwrap_or(0) as f64,
                        value: r.values[0].clone(),
                    },
                    records: doomed,
                });
            }
            for (s, id) in server_candidates.iter().filter(|(_, id)| gone.contains(id)) {
                let host = n.record_name(id);
                if ownership::owned_by(&records, &host, asg_name) {
                    orphaned_servers.push(OrphanServer {
                        id: s.id.clone(),
                        url: s.url.clone(),
                        instance_id: id.clone(),
                    });
                } else if ownership::mark_of(&records, &host).is_none() {
                    unowned.push(s.url.clone());
                }
            }
            warn_unowned(&unowned, &mut warnings);
        }
        orphaned_records.sort_by(|a, b| a.orphan.name.cmp(&b.orphan.name));
        orphaned_servers.sort_by(|a, b| a.url.cmp(&b.url).then(a.id.cmp(&b.id)));
        Ok(Some(Observed {
            hooks,
            instances,
            orphaned_records,
            orphaned_servers,
            scalelite_seen,
            warnings,
            records,
            new_instances_protected: group.new_instances_protected_from_scale_in,
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
                .map(|o| o.orphan.clone())
                .collect(),
        );
        model.orphaned_servers = Some(seen.orphaned_servers.clone());
    }
}

/// The plain single-value A records of the fleet's scheme whose instance is not a live member
/// of the group, with whether `owner`'s mark is on their name. A name carrying another
/// group's mark is another fleet's: left out.
fn candidates<'a>(
    n: &Naming,
    records: &'a [DnsRecord],
    alive: &HashSet<String>,
    owner: &str,
) -> Vec<Candidate<'a>> {
    records
        .iter()
        // Only plain single-value A records: exactly what the hook writes.
        .filter(|r| {
            r.record_type == "A"
                && !r.alias
                && r.set_identifier.is_none()
                && r.values.len() == 1
                && r.values[0].parse::<Ipv4Addr>().is_ok()
        })
        .filter_map(|r| {
            let instance_id = n.instance_of(&r.name)?;
            if alive.contains(&instance_id) {
                return None;
            }
            let owned = ownership::owned_by(records, &r.name, owner);
            let marked = ownership::mark_of(records, &r.name).is_some();
            (owned || !marked).then_some(Candidate {
                instance_id,
                record: r,
                owned,
            })
        })
        .collect()
}

/// Of `ids` (instances outside the group), those EC2 reports terminated or does not know.
async fn gone_instances(
    data: &ProviderData,
    ids: &[String],
) -> Result<HashSet<String>, Diagnostics> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let aws = data.aws().await?;
    let what = "describe the instances of the fleet's leftover names";
    let described = match aws.describe_instances(ids).await {
        Ok(d) => d,
        // EC2 names the ids it does not know, and the call retries once without them; when
        // more remain unknown (an emulator names one at a time), each id is asked alone.
        Err(e) if e.is_not_found() => {
            let mut found = Vec::new();
            for id in ids {
                match aws.describe_instances(std::slice::from_ref(id)).await {
                    Ok(d) => found.extend(d),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(aws_error(what, &e)),
                }
            }
            found
        }
        Err(e) => return Err(aws_error(what, &e)),
    };
    let running: HashSet<String> = described
        .iter()
        .filter(|i| i.state != "terminated")
        .map(|i| i.instance_id.to_ascii_lowercase())
        .collect();
    Ok(ids
        .iter()
        .filter(|id| !running.contains(&id.to_ascii_lowercase()))
        .cloned()
        .collect())
}

/// Scalelite's servers by their URL spelled canonically, in Scalelite's order.
fn registrations(servers: Option<&Vec<Server>>) -> BTreeMap<String, Vec<&Server>> {
    let mut by_url: BTreeMap<String, Vec<&Server>> = BTreeMap::new();
    for s in servers.into_iter().flatten() {
        let key = canonical_registered_url(&s.url).unwrap_or_else(|| s.url.to_ascii_lowercase());
        by_url.entry(key).or_default().push(s);
    }
    by_url
}

fn scalelite_unavailable(e: &Diagnostics) -> Diagnostics {
    let why = e
        .iter()
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect::<Vec<_>>()
        .join("; ");
    let mut d = Diagnostics::new();
    d.warning(
        "Scalelite did not answer; its values are the last known ones",
        format!(
            "{why}\n\nThe instances keep their last known Scalelite registrations, and orphaned Scalelite \
             servers were not looked for (none will be removed until Scalelite answers again)."
        ),
    );
    d
}

/// Warns about a URL of the fleet's scheme that Scalelite holds more than once.
fn warn_duplicates(
    n: &Naming,
    by_url: &BTreeMap<String, Vec<&Server>>,
    warnings: &mut Diagnostics,
) {
    for (url, list) in by_url.iter().filter(|(_, l)| l.len() > 1) {
        if n.instance_of_url(url).is_none() {
            continue;
        }
        let ids = list.iter().map(|s| s.id.as_str()).collect::<Vec<_>>();
        warnings.warning(
            "Duplicate Scalelite registrations",
            format!(
                "Scalelite holds {url} {} times (servers {}). Scalelite counts each registration's load \
                 on its own, so the server takes more meetings than it should. Keep one and remove the \
                 others, e.g. with Scalelite's `rake servers:remove[ID]` (the fleet reports the first, {}).",
                list.len(),
                ids.join(", "),
                ids[0]
            ),
        );
    }
}

/// Warns about leftovers of gone instances that carry no ownership mark.
fn warn_unowned(unowned: &[String], warnings: &mut Diagnostics) {
    if unowned.is_empty() {
        return;
    }
    let mut listed = unowned.iter().take(LISTED).cloned().collect::<Vec<_>>();
    if unowned.len() > LISTED {
        listed.push(format!("and {} more", unowned.len() - LISTED));
    }
    warnings.warning(
        "Leftovers without an ownership mark are not removed",
        format!(
            "These follow the fleet's naming scheme and their instances are gone, but their names carry \
             no ownership mark of this fleet (made by a bbb-hook older than the mark, or by hand), so \
             bbb_fleet does not remove them: {}. Delete them yourself if they are this fleet's.",
            listed.join(", ")
        ),
    );
}
