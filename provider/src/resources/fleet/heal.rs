//! Removing what instances that no longer exist left behind: the fleet's A records (with their
//! ownership marks) and Scalelite servers, in two phases (the refresh shows them, the apply
//! deletes those still orphaned). What counts as an orphan: see `observe`.

use std::collections::HashSet;

use bbb_core::aws::{ownership, ARecordChange, DnsRecord, RecordChange};
use serde::{Deserialize, Serialize};

use crate::aws_access::aws_error;
use crate::provider::ProviderData;
use crate::scalelite_pool::scalelite_error;
use tfplugin_framework::{Diagnostics, Value};

use super::observe::Observed;
use super::{Fleet, Model};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct OrphanRecord {
    pub(super) name: String,
    pub(super) instance_id: String,
    pub(super) ttl: f64,
    pub(super) value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct OrphanServer {
    pub(super) id: String,
    pub(super) url: String,
    pub(super) instance_id: String,
}

/// Whether the plan heals: it empties an orphan list the refresh had filled.
pub(super) fn planned(prior: &Model, planned: &Value) -> bool {
    let emptied = |list: &str, before: usize| {
        before > 0 && planned.get(list).as_list().is_some_and(<[Value]>::is_empty)
    };
    emptied(
        "orphaned_records",
        prior.orphaned_records.as_ref().map_or(0, Vec::len),
    ) || emptied(
        "orphaned_servers",
        prior.orphaned_servers.as_ref().map_or(0, Vec::len),
    )
}

impl Fleet {
    /// Deletes the orphans the plan showed that are still orphans now, with the records'
    /// current values (a DELETE must match them exactly): each orphaned name's A record and
    /// ownership mark, and the orphaned Scalelite servers.
    pub(super) async fn heal(
        data: &ProviderData,
        prior: &Model,
        now: &Observed,
        zone: &str,
    ) -> Result<(), Diagnostics> {
        let approved_records: HashSet<(&str, &str)> = prior
            .orphaned_records
            .iter()
            .flatten()
            .map(|o| (o.name.as_str(), o.instance_id.as_str()))
            .collect();
        let doomed: Vec<&DnsRecord> = now
            .orphaned_records
            .iter()
            .filter(|o| {
                approved_records.contains(&(o.orphan.name.as_str(), o.orphan.instance_id.as_str()))
            })
            .flat_map(|o| o.records.iter())
            .collect();
        if !doomed.is_empty() {
            delete_records(data, zone, &doomed, prior.domain.as_deref().unwrap_or("")).await?;
        }
        let approved_servers: HashSet<&str> = prior
            .orphaned_servers
            .iter()
            .flatten()
            .map(|o| o.id.as_str())
            .collect();
        // Without Scalelite's answer, no server is known to be an orphan now.
        let doomed: Vec<&OrphanServer> = now
            .orphaned_servers
            .iter()
            .filter(|o| now.scalelite_seen && approved_servers.contains(o.id.as_str()))
            .collect();
        if !doomed.is_empty() {
            let pool = data.scalelite().await?;
            for s in doomed {
                match pool.client().delete_server(&s.id).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        pool.invalidate().await;
                        return Err(scalelite_error(
                            &format!("remove orphaned server {} ({})", s.id, s.url),
                            &e,
                        ));
                    }
                }
            }
            pool.invalidate().await;
        }
        Ok(())
    }
}

/// The change deleting `record` as Route53 holds it; `None` for a record that is neither a
/// plain A record nor a fleet mark.
fn deletion(record: &DnsRecord) -> Option<RecordChange> {
    match record.record_type.as_str() {
        "A" => {
            let address = record.values.first()?.parse().ok()?;
            let ttl = record.ttl.unwrap_or(0).try_into().unwrap_or(0);
            Some(ARecordChange::delete(record.name.clone(), address, ttl).into())
        }
        "TXT" => ownership::delete(record).map(RecordChange::from),
        _ => None,
    }
}

/// Deletes `doomed` in one atomic change. Route53 refuses the whole batch when one record is
/// no longer as listed (InvalidChangeBatch "not found": the instance's own drain, or a retried
/// call, deleted it meanwhile); then the records are listed again and the change is sent once
/// more without those gone, so one record does not keep the others.
async fn delete_records(
    data: &ProviderData,
    zone: &str,
    doomed: &[&DnsRecord],
    domain: &str,
) -> Result<(), Diagnostics> {
    let aws = data.aws().await?;
    let changes: Vec<RecordChange> = doomed.iter().filter_map(|r| deletion(r)).collect();
    match aws.change_records(zone, &changes).await {
        Ok(_) => return Ok(()),
        Err(e) if e.is_not_found() => {
            tracing::info!(error = %e, "orphaned records changed meanwhile; listing them again");
        }
        Err(e) => return Err(aws_error("delete orphaned Route53 records", &e)),
    }
    let current = aws
        .list_records(zone, domain)
        .await
        .map_err(|e| aws_error("list the fleet's Route53 records", &e))?;
    let still: Vec<RecordChange> = doomed
        .iter()
        .filter(|r| current.contains(r))
        .filter_map(|r| deletion(r))
        .collect();
    if still.is_empty() {
        return Ok(());
    }
    aws.change_records(zone, &still)
        .await
        .map(|_| ())
        .map_err(|e| aws_error("delete orphaned Route53 records", &e))
}
