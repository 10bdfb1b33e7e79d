//! The instance's A record, with the fleet's ownership mark next to it: a TXT record
//! `"heritage=bbb-fleet,bbb-fleet/owner=<group>"` on the same name (`bbb_core::aws::ownership`),
//! written and deleted in the same atomic change as the A record. `bbb_fleet` heals only names
//! carrying its own group's mark.

use bbb_core::aws::{ownership, ARecordChange, DnsRecord, RecordChange};

use crate::context::Context;
use crate::error::HookError;

/// The records of this instance's name: its A record, if any, as (values, ttl), and the TXT
/// record holding a fleet mark, if any.
async fn current(
    ctx: &Context,
) -> Result<(Option<(Vec<String>, i64)>, Option<DnsRecord>), HookError> {
    let name = ctx.record_name();
    let records = ctx
        .aws
        .list_records(&ctx.config.hosted_zone_id, &name)
        .await
        .map_err(HookError::aws("read the instance's DNS record"))?;
    let mark = ownership::mark_of(&records, &name).cloned();
    let a = records
        .into_iter()
        .find(|r| r.name == name && r.record_type == "A" && !r.alias)
        .map(|r| (r.values, r.ttl.unwrap_or_default()));
    Ok((a, mark))
}

/// Points the record at this instance, with this group's mark, and waits until Route53 reports
/// it in sync. Makes no change when both already are in place.
pub async fn ensure(ctx: &Context) -> Result<(), HookError> {
    if !ctx.config.manages_dns() {
        tracing::info!("dns not managed by the fleet, skipped");
        return Ok(());
    }
    let name = ctx.record_name();
    let address = ctx.identity.address;
    let ttl = ctx.config.record_ttl;
    let owner = &ctx.config.autoscaling_group_name;
    let (a, mark) = current(ctx).await?;
    let marked = mark.is_some_and(|m| {
        m.values.len() == 1 && ownership::owner_of(&m.values[0]).as_deref() == Some(owner.as_str())
    });
    if let Some((values, current_ttl)) = a {
        if values == [address.to_string()] && current_ttl == i64::from(ttl) && marked {
            tracing::info!(record = %name, %address, "dns record already in place");
            return Ok(());
        }
    }
    let changes = [
        RecordChange::A(ARecordChange::upsert(name.clone(), address, ttl)),
        RecordChange::Txt(ownership::upsert(name.clone(), owner, ttl)),
    ];
    let ids = ctx
        .aws
        .change_records(&ctx.config.hosted_zone_id, &changes)
        .await
        .map_err(HookError::aws("upsert the instance's DNS record"))?;
    for id in &ids {
        ctx.aws
            .wait_for_change(
                id,
                ctx.settings.dns_timeout,
                std::time::Duration::from_secs(2),
            )
            .await
            .map_err(HookError::aws("wait for the DNS change to be in sync"))?;
    }
    tracing::info!(record = %name, %address, ttl, "dns record in sync");
    Ok(())
}

/// Deletes the record, and its ownership mark, if it still points at this instance. Returns
/// whether it deleted one.
/// `keep_mark`: leave the ownership mark (when the Scalelite registration was left behind, so
/// that `bbb_fleet`'s heal, which only removes servers whose host carries the group's mark, can
/// still remove it; the lone TXT record is left after that).
pub async fn remove(ctx: &Context, keep_mark: bool) -> Result<bool, HookError> {
    if !ctx.config.manages_dns() {
        return Ok(false);
    }
    let name = ctx.record_name();
    let address = ctx.identity.address;
    let (a, mark) = current(ctx).await?;
    let Some((values, ttl)) = a else {
        tracing::info!(record = %name, "dns record already gone");
        return Ok(false);
    };
    if values != [address.to_string()] {
        tracing::warn!(record = %name, values = ?values, "dns record points elsewhere, left alone");
        return Ok(false);
    }
    let ttl = u32::try_from(ttl).unwrap_or(ctx.config.record_ttl);
    let mut changes = vec![RecordChange::A(ARecordChange::delete(
        name.clone(),
        address,
        ttl,
    ))];
    // Only this group's own mark goes with the record.
    if let Some(m) = mark.filter(|_| !keep_mark).filter(|m| {
        m.values.iter().any(|v| {
            ownership::owner_of(v).as_deref() == Some(ctx.config.autoscaling_group_name.as_str())
        })
    }) {
        changes.extend(ownership::delete(&m).map(RecordChange::Txt));
    }
    ctx.aws
        .change_records(&ctx.config.hosted_zone_id, &changes)
        .await
        .map_err(HookError::aws("delete the instance's DNS record"))?;
    tracing::info!(record = %name, "dns record deleted");
    Ok(true)
}

/// The record's value for `status`.
pub async fn describe(ctx: &Context) -> Result<Option<String>, HookError> {
    if !ctx.config.manages_dns() {
        return Ok(None);
    }
    Ok(current(ctx).await?.0.map(|(v, _)| v.join(",")))
}
