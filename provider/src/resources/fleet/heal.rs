//! Removing what instances that no longer exist left behind: the fleet's A records and
//! Scalelite servers, in two phases (the refresh shows them, the apply deletes those still
//! orphaned).

use std::collections::HashSet;

use bbb_core::aws::ARecordChange;
use serde::{Deserialize, Serialize};

use crate::aws_access::aws_error;
use crate::framework::{Diagnostics, Value};
use crate::provider::ProviderData;
use crate::scalelite_pool::scalelite_error;

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
    /// current values (a DELETE must match them exactly).
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
        let changes: Vec<ARecordChange> = now
            .orphaned_records
            .iter()
            .filter(|(o, _)| approved_records.contains(&(o.name.as_str(), o.instance_id.as_str())))
            .filter_map(|(_, r)| {
                let address = r.values.first()?.parse().ok()?;
                Some(ARecordChange::delete(
                    r.name.clone(),
                    address,
                    r.ttl.unwrap_or(0).try_into().unwrap_or(0),
                ))
            })
            .collect();
        if !changes.is_empty() {
            let aws = data.aws().await?;
            aws.change_a_records(zone, &changes)
                .await
                .map_err(|e| aws_error("delete orphaned Route53 records", &e))?;
        }
        let approved_servers: HashSet<&str> = prior
            .orphaned_servers
            .iter()
            .flatten()
            .map(|o| o.id.as_str())
            .collect();
        let doomed: Vec<&OrphanServer> = now
            .orphaned_servers
            .iter()
            .filter(|o| approved_servers.contains(o.id.as_str()))
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
