//! The instance's A record.

use bbb_core::aws::ARecordChange;

use crate::context::Context;
use crate::error::HookError;

/// The A record of this instance's name, if any: (values, ttl).
async fn current(ctx: &Context) -> Result<Option<(Vec<String>, i64)>, HookError> {
    let name = ctx.record_name();
    let records = ctx
        .aws
        .list_records(&ctx.config.hosted_zone_id, &name)
        .await
        .map_err(HookError::aws("read the instance's DNS record"))?;
    Ok(records
        .into_iter()
        .find(|r| r.name == name && r.record_type == "A" && !r.alias)
        .map(|r| (r.values, r.ttl.unwrap_or_default())))
}

/// Points the record at this instance and waits until Route53 reports it in sync. Makes no
/// change when it already does.
pub async fn ensure(ctx: &Context) -> Result<(), HookError> {
    if !ctx.config.manages_dns() {
        tracing::info!("dns not managed by the fleet, skipped");
        return Ok(());
    }
    let name = ctx.record_name();
    let address = ctx.identity.address;
    let ttl = ctx.config.record_ttl;
    if let Some((values, current_ttl)) = current(ctx).await? {
        if values == [address.to_string()] && current_ttl == i64::from(ttl) {
            tracing::info!(record = %name, %address, "dns record already in place");
            return Ok(());
        }
    }
    let ids = ctx
        .aws
        .change_a_records(
            &ctx.config.hosted_zone_id,
            &[ARecordChange::upsert(name.clone(), address, ttl)],
        )
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

/// Deletes the record if it still points at this instance. Returns whether it deleted one.
pub async fn remove(ctx: &Context) -> Result<bool, HookError> {
    if !ctx.config.manages_dns() {
        return Ok(false);
    }
    let name = ctx.record_name();
    let address = ctx.identity.address;
    let Some((values, ttl)) = current(ctx).await? else {
        tracing::info!(record = %name, "dns record already gone");
        return Ok(false);
    };
    if values != [address.to_string()] {
        tracing::warn!(record = %name, values = ?values, "dns record points elsewhere, left alone");
        return Ok(false);
    }
    let ttl = u32::try_from(ttl).unwrap_or(ctx.config.record_ttl);
    ctx.aws
        .change_a_records(
            &ctx.config.hosted_zone_id,
            &[ARecordChange::delete(name.clone(), address, ttl)],
        )
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
    Ok(current(ctx).await?.map(|(v, _)| v.join(",")))
}
