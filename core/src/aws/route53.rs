//! Route53: the A records of the fleet's instances in a hosted zone, and their TXT ownership marks.

use std::future::Future;
use std::net::Ipv4Addr;
use std::time::Duration;

use aws_sdk_route53::types::{Change, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};
use tokio::time::Instant;

use super::config::AwsClients;
use super::counters::Service;
use super::error::AwsError;

/// The most `ResourceRecord` elements one `ChangeResourceRecordSets` call may hold (an UPSERT
/// counts twice); longer batches are split.
pub const CHANGE_BATCH_MAX_RECORDS: usize = 1000;

/// A record set of a hosted zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// Lower case, without the trailing dot, as Route53 spells it (special characters escaped
    /// as `\ooo`).
    pub name: String,
    /// `A`, `AAAA`, `CNAME`, ...
    pub record_type: String,
    pub ttl: Option<i64>,
    pub values: Vec<String>,
    pub set_identifier: Option<String>,
    /// Whether the record is an alias (then `values` is empty).
    pub alias: bool,
}

/// What a change does to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeAction {
    /// Create the record or replace its value and TTL.
    Upsert,
    /// Delete the record; name, value and TTL must match it exactly.
    Delete,
}

/// A change to the A record of one host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ARecordChange {
    pub action: ChangeAction,
    /// Fully qualified, with or without the trailing dot.
    pub name: String,
    pub address: Ipv4Addr,
    pub ttl: u32,
}

impl ARecordChange {
    /// Create or update `name` to point at `address`.
    pub fn upsert(name: impl Into<String>, address: Ipv4Addr, ttl: u32) -> Self {
        Self {
            action: ChangeAction::Upsert,
            name: name.into(),
            address,
            ttl,
        }
    }

    /// Delete the record `name` pointing at `address` with `ttl`.
    pub fn delete(name: impl Into<String>, address: Ipv4Addr, ttl: u32) -> Self {
        Self {
            action: ChangeAction::Delete,
            name: name.into(),
            address,
            ttl,
        }
    }
}

/// A change to the TXT record of one name (such as the fleet's ownership mark, see
/// [`super::ownership`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtRecordChange {
    pub action: ChangeAction,
    /// Fully qualified, with or without the trailing dot.
    pub name: String,
    /// The record's value as Route53 holds it: one or more quoted character strings.
    pub value: String,
    pub ttl: u32,
}

/// A change to an A or a TXT record; one batch of them is applied atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordChange {
    A(ARecordChange),
    Txt(TxtRecordChange),
}

impl From<ARecordChange> for RecordChange {
    fn from(c: ARecordChange) -> Self {
        Self::A(c)
    }
}

impl From<TxtRecordChange> for RecordChange {
    fn from(c: TxtRecordChange) -> Self {
        Self::Txt(c)
    }
}

impl RecordChange {
    fn action(&self) -> ChangeAction {
        match self {
            Self::A(c) => c.action,
            Self::Txt(c) => c.action,
        }
    }

    /// The record's name as written (with or without the trailing dot).
    pub fn name(&self) -> &str {
        match self {
            Self::A(c) => &c.name,
            Self::Txt(c) => &c.name,
        }
    }

    fn weight(&self) -> usize {
        match self.action() {
            ChangeAction::Upsert => 2,
            ChangeAction::Delete => 1,
        }
    }
}

/// The status of a submitted change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeStatus {
    Pending,
    InSync,
    Other(String),
}

impl ChangeStatus {
    fn parse(s: &str) -> Self {
        match s {
            "PENDING" => Self::Pending,
            "INSYNC" => Self::InSync,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Route53's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "PENDING",
            Self::InSync => "INSYNC",
            Self::Other(s) => s,
        }
    }
}

/// The zone id without the `/hostedzone/` prefix.
fn zone_id(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/")
}

/// The change id without the `/change/` prefix.
fn change_id(id: &str) -> &str {
    id.trim_start_matches("/change/")
}

/// `name` in lower case without the trailing dot.
fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Route53's sort key of a name: labels reversed, trailing dot (`www.example.com` ->
/// `com.example.www.`).
fn sort_key(name: &str) -> String {
    let name = normalize_name(name);
    let mut key: String = name.rsplit('.').collect::<Vec<_>>().join(".");
    key.push('.');
    key
}

/// Whether `name` is `suffix` or a name below it.
fn has_suffix(name: &str, suffix: &str) -> bool {
    let name = normalize_name(name);
    let suffix = normalize_name(suffix);
    suffix.is_empty() || name == suffix || name.ends_with(&format!(".{suffix}"))
}

/// Whether a record with name `name`, met while listing from `suffix` on, lies past every
/// name under `suffix` in Route53's order (so listing can stop).
fn past_suffix(name: &str, suffix: &str) -> bool {
    let prefix = sort_key(suffix);
    let key = sort_key(name);
    !key.starts_with(&prefix) && key > prefix
}

impl AwsClients {
    /// The record sets of hosted zone `zone_id` whose name is `suffix` or lies under it (all
    /// pages; one call per page). Listing starts at `suffix` and stops after the last name under
    /// it, using Route53's reversed-label order. An empty `suffix` lists the whole zone.
    pub async fn list_records(
        &self,
        zone_id_or_path: &str,
        suffix: &str,
    ) -> Result<Vec<DnsRecord>, AwsError> {
        let zone = zone_id(zone_id_or_path);
        let suffix = normalize_name(suffix);
        let mut out = Vec::new();
        let mut start: Option<(String, RrType, Option<String>)> = None;
        let mut first = true;
        loop {
            let log = self.begin(
                Service::Route53,
                "ListResourceRecordSets",
                format!("{zone} *.{suffix}"),
            );
            let mut req = self
                .route53
                .list_resource_record_sets()
                .hosted_zone_id(zone);
            if let Some((name, rtype, ident)) = start.take() {
                req = req
                    .start_record_name(name)
                    .start_record_type(rtype)
                    .set_start_record_identifier(ident);
            } else if first && !suffix.is_empty() {
                req = req.start_record_name(format!("{suffix}."));
            }
            first = false;
            let page = req.send().await.map_err(|e| log.ctx.sdk_error(e));
            let page = log.finish(page)?;
            let mut done = !page.is_truncated();
            for rrs in page.resource_record_sets() {
                if !suffix.is_empty() && past_suffix(rrs.name(), &suffix) {
                    done = true;
                    break;
                }
                if has_suffix(rrs.name(), &suffix) {
                    out.push(record_from_sdk(rrs));
                }
            }
            if done {
                return Ok(out);
            }
            match (page.next_record_name(), page.next_record_type()) {
                (Some(name), Some(rtype)) => {
                    start = Some((
                        name.to_owned(),
                        rtype.clone(),
                        page.next_record_identifier().map(str::to_owned),
                    ))
                }
                _ => return Ok(out),
            }
        }
    }

    /// Applies A record changes to hosted zone `zone_id`: one `ChangeResourceRecordSets` call
    /// per [`CHANGE_BATCH_MAX_RECORDS`] records (each call is atomic on its own). Returns the
    /// change id of each call, for [`AwsClients::wait_for_change`].
    pub async fn change_a_records(
        &self,
        zone_id_or_path: &str,
        changes: &[ARecordChange],
    ) -> Result<Vec<String>, AwsError> {
        let changes: Vec<RecordChange> = changes.iter().cloned().map(RecordChange::A).collect();
        self.change_records(zone_id_or_path, &changes).await
    }

    /// Applies A and TXT record changes to hosted zone `zone_id`, as
    /// [`AwsClients::change_a_records`] does: one atomic `ChangeResourceRecordSets` call per
    /// [`CHANGE_BATCH_MAX_RECORDS`] records.
    pub async fn change_records(
        &self,
        zone_id_or_path: &str,
        changes: &[RecordChange],
    ) -> Result<Vec<String>, AwsError> {
        let zone = zone_id(zone_id_or_path);
        let mut ids = Vec::new();
        for batch in split_batches(changes) {
            let resource = match batch {
                [one] => format!(
                    "{zone} {} {}",
                    match one.action() {
                        ChangeAction::Upsert => "UPSERT",
                        ChangeAction::Delete => "DELETE",
                    },
                    normalize_name(one.name())
                ),
                _ => format!("{zone} {} changes", batch.len()),
            };
            let log = self.begin(Service::Route53, "ChangeResourceRecordSets", resource);
            let change_batch = match build_batch(batch) {
                Ok(b) => b,
                Err(e) => {
                    let err = log.ctx.request(e.to_string());
                    return log.finish(Err(err));
                }
            };
            let result = self
                .route53
                .change_resource_record_sets()
                .hosted_zone_id(zone)
                .change_batch(change_batch)
                .send()
                .await
                .map_err(|e| log.ctx.sdk_error(e))
                .and_then(|out| {
                    out.change_info()
                        .map(|i| change_id(i.id()).to_owned())
                        .filter(|id| !id.is_empty())
                        .ok_or_else(|| log.ctx.invalid("no ChangeInfo id"))
                });
            let id = log.finish(result)?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// The status of change `change_id` (`GetChange`).
    pub async fn change_status(&self, change_id_or_path: &str) -> Result<ChangeStatus, AwsError> {
        let id = change_id(change_id_or_path);
        let log = self.begin(Service::Route53, "GetChange", id);
        let result = self
            .route53
            .get_change()
            .id(id)
            .send()
            .await
            .map_err(|e| log.ctx.sdk_error(e))
            .and_then(|out| {
                out.change_info()
                    .map(|i| ChangeStatus::parse(i.status().as_str()))
                    .ok_or_else(|| log.ctx.invalid("no ChangeInfo"))
            });
        log.finish(result)
    }

    /// Polls change `change_id` every `poll_interval` until it is INSYNC;
    /// [`AwsError::ChangeNotInSync`] once `timeout` has passed.
    pub async fn wait_for_change(
        &self,
        change_id_or_path: &str,
        timeout: Duration,
        poll_interval: Duration,
    ) -> Result<(), AwsError> {
        let id = change_id(change_id_or_path);
        wait_until_insync(id, timeout, poll_interval, || self.change_status(id)).await
    }
}

/// The polling loop of [`AwsClients::wait_for_change`], separate so it can be tested with a
/// scripted status sequence.
pub(crate) async fn wait_until_insync<F, Fut>(
    change_id: &str,
    timeout: Duration,
    poll_interval: Duration,
    mut status: F,
) -> Result<(), AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<ChangeStatus, AwsError>>,
{
    let started = Instant::now();
    loop {
        let s = status().await?;
        if s == ChangeStatus::InSync {
            return Ok(());
        }
        let waited = started.elapsed();
        if waited + poll_interval > timeout {
            return Err(AwsError::ChangeNotInSync {
                change_id: change_id.to_owned(),
                last_status: s.as_str().to_owned(),
                waited,
            });
        }
        tokio::time::sleep(poll_interval).await;
    }
}

/// Splits `changes` into batches of at most [`CHANGE_BATCH_MAX_RECORDS`] weighted records.
fn split_batches(changes: &[RecordChange]) -> Vec<&[RecordChange]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut weight = 0;
    for (i, c) in changes.iter().enumerate() {
        if weight + c.weight() > CHANGE_BATCH_MAX_RECORDS {
            out.push(&changes[start..i]);
            start = i;
            weight = 0;
        }
        weight += c.weight();
    }
    if start < changes.len() {
        out.push(&changes[start..]);
    }
    out
}

fn build_batch(batch: &[RecordChange]) -> Result<ChangeBatch, aws_sdk_route53::error::BuildError> {
    let mut changes = Vec::with_capacity(batch.len());
    for c in batch {
        let (rtype, value, ttl) = match c {
            RecordChange::A(a) => (RrType::A, a.address.to_string(), a.ttl),
            RecordChange::Txt(t) => (RrType::Txt, t.value.clone(), t.ttl),
        };
        let rrs = ResourceRecordSet::builder()
            .name(format!("{}.", normalize_name(c.name())))
            .r#type(rtype)
            .ttl(i64::from(ttl))
            .resource_records(ResourceRecord::builder().value(value).build()?)
            .build()?;
        let action = match c.action() {
            ChangeAction::Upsert => aws_sdk_route53::types::ChangeAction::Upsert,
            ChangeAction::Delete => aws_sdk_route53::types::ChangeAction::Delete,
        };
        changes.push(
            Change::builder()
                .action(action)
                .resource_record_set(rrs)
                .build()?,
        );
    }
    ChangeBatch::builder().set_changes(Some(changes)).build()
}

fn record_from_sdk(rrs: &ResourceRecordSet) -> DnsRecord {
    DnsRecord {
        name: normalize_name(rrs.name()),
        record_type: rrs.r#type().as_str().to_owned(),
        ttl: rrs.ttl(),
        values: rrs
            .resource_records()
            .iter()
            .map(|r| r.value().to_owned())
            .collect(),
        set_identifier: rrs.set_identifier().map(str::to_owned),
        alias: rrs.alias_target().is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn names_and_suffixes() {
        assert_eq!(zone_id("/hostedzone/Z123"), "Z123");
        assert_eq!(zone_id("Z123"), "Z123");
        assert_eq!(change_id("/change/C1"), "C1");
        assert_eq!(normalize_name("WWW.Example.com."), "www.example.com");
        assert_eq!(sort_key("www.example.com."), "com.example.www.");
        assert!(has_suffix("a.bbb.example.com.", "bbb.example.com"));
        assert!(has_suffix("bbb.example.com.", "bbb.example.com."));
        assert!(!has_suffix("xbbb.example.com.", "bbb.example.com"));
        assert!(!has_suffix("bbb-x.example.com.", "bbb.example.com"));
        assert!(has_suffix("anything.", ""));
        // Route53 order: com.example.bbb-x. < com.example.bbb. < com.example.bbb.a. < com.example.c.
        assert!(!past_suffix("bbb-x.example.com.", "bbb.example.com"));
        assert!(!past_suffix("a.bbb.example.com.", "bbb.example.com"));
        assert!(!past_suffix("bbb.example.com.", "bbb.example.com"));
        assert!(past_suffix("c.example.com.", "bbb.example.com"));
        assert!(past_suffix("bbbb.example.com.", "bbb.example.com"));
    }

    #[test]
    fn batches_respect_the_record_limit() {
        let ip = Ipv4Addr::new(10, 0, 0, 1);
        let upserts: Vec<RecordChange> = (0..1201)
            .map(|i| ARecordChange::upsert(format!("h{i}.example.com"), ip, 60).into())
            .collect();
        let batches = split_batches(&upserts);
        assert_eq!(
            batches.iter().map(|b| b.len()).collect::<Vec<_>>(),
            vec![500, 500, 201]
        );
        let deletes: Vec<RecordChange> = (0..1000)
            .map(|i| ARecordChange::delete(format!("h{i}.example.com"), ip, 60).into())
            .collect();
        assert_eq!(split_batches(&deletes).len(), 1);
        assert!(split_batches(&[]).is_empty());
        let b = build_batch(&upserts[..2]).unwrap();
        assert_eq!(b.changes().len(), 2);
        assert_eq!(
            b.changes()[0].resource_record_set().unwrap().name(),
            "h0.example.com."
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waits_until_insync() {
        let polls = AtomicU32::new(0);
        let r = wait_until_insync(
            "C1",
            Duration::from_secs(60),
            Duration::from_secs(5),
            || {
                let n = polls.fetch_add(1, Ordering::SeqCst);
                async move {
                    Ok(if n < 3 {
                        ChangeStatus::Pending
                    } else {
                        ChangeStatus::InSync
                    })
                }
            },
        )
        .await;
        assert!(r.is_ok());
        assert_eq!(polls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_timeout() {
        let polls = AtomicU32::new(0);
        let started = Instant::now();
        let r = wait_until_insync(
            "C2",
            Duration::from_secs(12),
            Duration::from_secs(5),
            || {
                polls.fetch_add(1, Ordering::SeqCst);
                async { Ok(ChangeStatus::Pending) }
            },
        )
        .await;
        match r {
            Err(AwsError::ChangeNotInSync {
                change_id,
                last_status,
                ..
            }) => {
                assert_eq!(change_id, "C2");
                assert_eq!(last_status, "PENDING");
            }
            other => panic!("unexpected {other:?}"),
        }
        // Polls at 0 s, 5 s, 10 s; a fourth poll (15 s) would pass the 12 s timeout.
        assert_eq!(polls.load(Ordering::SeqCst), 3);
        assert!(started.elapsed() <= Duration::from_secs(12));
    }
}
