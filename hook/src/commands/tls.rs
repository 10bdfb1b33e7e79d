//! The server's certificate: `launch` and `bbb-hook tls install` install the fleet's shared
//! certificate, `protect` re-reads it every `BBB_TLS_CHECK_INTERVAL` and installs a renewal,
//! `status` shows it, and `bbb-hook tls budget` guards the fleet's Let's Encrypt quota when
//! every server asks for its own certificate.
//!
//! A document that fails a check (PEM, key, name, dates, older than the installed one) never
//! replaces the installed file; the error names the parameter and the reason.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::context::Context;
use crate::error::HookError;
use crate::state::now_secs;
use crate::tls::cert::{self, LeafInfo};
use crate::tls::{store, TlsMode};

/// The state file holding when `protect` last read the document.
const CHECK_STAMP: &str = "tls-checked-at";
const WEEK: u64 = 7 * 86_400;

/// What a sync did.
#[derive(Debug, PartialEq, Eq)]
pub enum Synced {
    Installed,
    Unchanged,
}

fn parameter(ctx: &Context) -> Result<&str, HookError> {
    ctx.settings.tls.parameter.as_deref().ok_or_else(|| {
        HookError::Config("BBB_TLS_CERTIFICATE_PARAMETER is not set (BBB_TLS_MODE=shared)".into())
    })
}

fn now() -> i64 {
    i64::try_from(now_secs()).unwrap_or(i64::MAX)
}

/// The installed certificate, if it serves this server now.
fn installed_usable(ctx: &Context) -> Option<LeafInfo> {
    match store::read(&ctx.settings.tls.dir) {
        Some(Ok(b)) if cert::check_usable(&b.leaf, &ctx.record_name(), now()).is_ok() => {
            Some(b.leaf)
        }
        _ => None,
    }
}

/// Reads the document and installs it when it is valid for this server and newer than the
/// installed certificate.
pub async fn sync(ctx: &Context) -> Result<Synced, HookError> {
    let param = parameter(ctx)?;
    let host = ctx.record_name();
    let bad = |reason: String| {
        HookError::Config(format!(
            "BBB_TLS_CERTIFICATE_PARAMETER {param}: {reason}; the installed certificate is left in place"
        ))
    };
    let text = match ctx.aws.get_secure_parameter(param).await {
        Ok(t) => t,
        Err(e) if e.is_not_found() => return Err(bad("the SSM parameter does not exist".into())),
        Err(e) => return Err(HookError::aws("read the fleet's certificate")(e)),
    };
    let new = cert::parse(text.expose()).map_err(bad)?;
    drop(text);
    cert::check_usable(&new.leaf, &host, now()).map_err(bad)?;
    let dir = &ctx.settings.tls.dir;
    if let Some(Ok(old)) = store::read(dir) {
        let old_usable = cert::check_usable(&old.leaf, &host, now()).is_ok();
        if old.pem == new.pem {
            tracing::debug!(serial = %new.leaf.serial, "certificate already installed");
            return Ok(Synced::Unchanged);
        }
        if old_usable && new.leaf.not_after < old.leaf.not_after {
            return Err(bad(format!(
                "the certificate (serial {}, valid until {}) is older than the installed one (serial {}, valid until {})",
                new.leaf.serial,
                cert::utc(new.leaf.not_after),
                old.leaf.serial,
                cert::utc(old.leaf.not_after)
            )));
        }
        if old_usable
            && new.leaf.not_after == old.leaf.not_after
            && new.leaf.serial == old.leaf.serial
        {
            tracing::debug!(serial = %new.leaf.serial, "same certificate already installed");
            return Ok(Synced::Unchanged);
        }
    }
    store::write(dir, &new)?;
    tracing::info!(
        parameter = %param,
        file = %store::path(dir).display(),
        names = %new.leaf.names.join(","),
        serial = %new.leaf.serial,
        not_after = %cert::utc(new.leaf.not_after),
        "certificate installed (bbb-fleet-tls-reload.path reloads nginx)"
    );
    Ok(Synced::Installed)
}

/// `launch`: with `BBB_TLS_MODE=shared`, the certificate is in place before the server is
/// enabled in Scalelite. A bad document does not stop a launch that has a usable certificate.
pub async fn on_launch(ctx: &Context) -> Result<(), HookError> {
    ctx.settings.tls.check()?;
    if ctx.settings.tls.mode != TlsMode::Shared {
        return Ok(());
    }
    match sync(ctx).await {
        Ok(_) => {}
        Err(e) => match installed_usable(ctx) {
            Some(leaf) => tracing::warn!(
                error = %e,
                serial = %leaf.serial,
                not_after = %cert::utc(leaf.not_after),
                "certificate not renewed, launching with the installed one"
            ),
            None => return Err(e),
        },
    }
    let _ = ctx
        .state
        .write(CHECK_STAMP, now_secs().to_string().as_bytes());
    Ok(())
}

/// `protect`: every `BBB_TLS_CHECK_INTERVAL`, installs a renewal of the shared certificate.
pub async fn on_protect(ctx: &Context) -> Result<(), HookError> {
    ctx.settings.tls.check()?;
    if ctx.settings.tls.mode != TlsMode::Shared {
        return Ok(());
    }
    let stamp = ctx.settings.state_dir.join(CHECK_STAMP);
    let last: u64 = std::fs::read_to_string(&stamp)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    if now_secs().saturating_sub(last) < ctx.settings.tls.check_interval.as_secs() {
        return Ok(());
    }
    // Recorded before the check: a bad document fails one pass per interval, not every pass.
    ctx.state
        .write(CHECK_STAMP, now_secs().to_string().as_bytes())?;
    let result = sync(ctx).await;
    if let Some(leaf) = installed_usable(ctx) {
        let days_left = (leaf.not_after - now()) / 86_400;
        if days_left < 14 {
            tracing::warn!(
                days_left,
                not_after = %cert::utc(leaf.not_after),
                "the installed certificate expires soon: renew the fleet's certificate"
            );
        }
    }
    result.map(|_| ())
}

/// `bbb-hook tls install` (first boot, before nginx is reloaded).
pub async fn install(ctx: &Context) -> Result<(), HookError> {
    ctx.settings.tls.check()?;
    if ctx.settings.tls.mode != TlsMode::Shared {
        return Err(HookError::Config(
            "BBB_TLS_MODE is letsencrypt: there is no shared certificate to install".into(),
        ));
    }
    sync(ctx).await?;
    let _ = ctx
        .state
        .write(CHECK_STAMP, now_secs().to_string().as_bytes());
    Ok(())
}

/// The `tls` part of `status`.
pub fn describe(ctx: &Context) -> Value {
    let tls = &ctx.settings.tls;
    let installed = match store::read(&tls.dir) {
        None => Value::Null,
        Some(Err(e)) => json!({ "error": e }),
        Some(Ok(b)) => {
            let usable = cert::check_usable(&b.leaf, &ctx.record_name(), now());
            json!({
                "names": b.leaf.names,
                "not_after": cert::utc(b.leaf.not_after),
                "days_left": (b.leaf.not_after - now()) / 86_400,
                "serial": b.leaf.serial,
                "issuer": b.leaf.issuer,
                "problem": usable.err(),
            })
        }
    };
    json!({
        "problem": tls.problem,
        "mode": tls.mode,
        "parameter": tls.parameter,
        "file": store::path(&tls.dir).display().to_string(),
        "installed": installed,
    })
}

fn system_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `bbb-hook tls budget`: before first boot asks Let's Encrypt for this server's name, records
/// the request under the fleet's SSM path and refuses (a configuration error, exit 78, so the
/// launch is abandoned rather than retried) when the fleet already asked
/// `BBB_LETSENCRYPT_WEEKLY_BUDGET` times in the last 7 days. A name already recorded is allowed
/// again (the same server retrying), and records older than 7 days are deleted.
pub async fn budget(ctx: &Context) -> Result<(), HookError> {
    ctx.settings.tls.check()?;
    let tls = &ctx.settings.tls;
    let path = tls.issuance_path.clone().unwrap_or_else(|| {
        format!(
            "/bbb/fleets/{}/letsencrypt-issuances",
            ctx.config.fleet_name
        )
    });
    let name = ctx.record_name();
    let mine = format!("{path}/{name}");
    let entries = ctx
        .aws
        .list_parameters(&path)
        .await
        .map_err(HookError::aws("list the fleet's Let's Encrypt requests"))?;
    let now = now_secs();
    let (recent, stale): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| {
        e.last_modified
            .is_none_or(|t| now.saturating_sub(system_secs(t)) < WEEK)
    });
    if recent.iter().any(|e| e.name == mine) {
        tracing::info!(record = %name, recent = recent.len(), budget = tls.weekly_budget, "let's encrypt request already recorded for this name");
        return Ok(());
    }
    if recent.len() >= tls.weekly_budget as usize {
        let frees_at = recent
            .iter()
            .filter_map(|e| e.last_modified.map(system_secs))
            .min()
            .map(|t| cert::utc(i64::try_from(t + WEEK).unwrap_or(i64::MAX)))
            .unwrap_or_else(|| "unknown".into());
        return Err(HookError::Config(format!(
            "Let's Encrypt budget used up: the fleet asked for {} certificates in the last 7 days (BBB_LETSENCRYPT_WEEKLY_BUDGET={}, records under SSM path {path}); no certificate requested for {name}. The next slot frees at {frees_at}. Use a shared wildcard certificate (BBB_TLS_MODE=shared) to stop asking per server",
            recent.len(),
            tls.weekly_budget
        )));
    }
    if stale.iter().any(|e| e.name == mine) {
        // This name asked more than 7 days ago: the new request gets a fresh record.
        ctx.aws
            .delete_parameters(std::slice::from_ref(&mine))
            .await
            .map_err(HookError::aws(
                "replace this server's old Let's Encrypt record",
            ))?;
    }
    ctx.aws
        .create_parameter(&mine, &cert::utc(i64::try_from(now).unwrap_or(i64::MAX)))
        .await
        .map_err(HookError::aws("record the Let's Encrypt request"))?;
    tracing::info!(record = %name, used = recent.len() + 1, budget = tls.weekly_budget, "let's encrypt request recorded");
    if stale.iter().any(|e| e.name != mine) {
        let names: Vec<String> = stale
            .into_iter()
            .map(|e| e.name)
            .filter(|n| *n != mine)
            .collect();
        match ctx.aws.delete_parameters(&names).await {
            Ok(()) => tracing::info!(deleted = names.len(), "old let's encrypt records deleted"),
            Err(e) => tracing::warn!(error = %e, "old let's encrypt records not deleted"),
        }
    }
    Ok(())
}
