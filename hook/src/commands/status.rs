//! `bbb-hook status`: what this instance is in the fleet, for a person or (`--json`) a script.
//! Each part is read independently; a part that cannot be read says why.

use serde::Serialize;
use serde_json::{json, Value};

use super::{dns, registration};
use crate::context::Context;
use crate::error::HookError;
use crate::local_bbb;

#[derive(Serialize)]
pub struct Status {
    pub instance_id: String,
    pub address: String,
    pub fleet: String,
    pub record_name: String,
    pub server_url: String,
    pub dns: Value,
    pub scalelite: Value,
    pub autoscaling: Value,
    pub bbb: Value,
    pub tls: Value,
    /// This instance's IPs in the media configuration (`configure`), each disagreement listed.
    pub media: Value,
    pub hook: Value,
}

fn part<T: Serialize>(r: Result<T, HookError>) -> Value {
    match r {
        Ok(v) => serde_json::to_value(v).unwrap_or(Value::Null),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

pub async fn collect(ctx: &Context) -> Status {
    let scalelite = async {
        let client = ctx.scalelite().await?;
        Ok(registration::find(ctx, &client).await?.map(|s| {
            json!({ "id": s.id, "state": s.state.as_str(), "online": s.online, "load": s.load,
                    "load_multiplier": s.load_multiplier, "tag": s.tag })
        }))
    };
    let autoscaling = async {
        let group = ctx
            .aws
            .describe_auto_scaling_group(&ctx.config.autoscaling_group_name)
            .await
            .map_err(HookError::aws("describe the Auto Scaling group"))?;
        Ok(group.instance(&ctx.identity.instance_id).map(|i| {
            json!({ "group": group.name, "lifecycle_state": i.lifecycle_state.as_str(),
                    "protected_from_scale_in": i.protected_from_scale_in })
        }))
    };
    let bbb = local_bbb::read_activity(&ctx.settings);
    let (dns, scalelite, autoscaling, bbb, media) = tokio::join!(
        dns::describe(ctx),
        scalelite,
        autoscaling,
        bbb,
        super::configure::check(&ctx.imds)
    );
    let state = ctx.state.load();
    Status {
        instance_id: ctx.identity.instance_id.clone(),
        address: ctx.identity.address.to_string(),
        fleet: ctx.config.fleet_name.clone(),
        record_name: ctx.record_name(),
        server_url: ctx.server_url(),
        dns: part(dns),
        scalelite: part(scalelite),
        autoscaling: part(autoscaling),
        bbb: part(bbb),
        tls: super::tls::describe(ctx),
        media: part(media),
        hook: part(state),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("error") => {
            format!(
                "unknown ({})",
                o.get("error").and_then(Value::as_str).unwrap_or("")
            )
        }
        Value::Object(o) => o
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                Value::Array(a) => format!("{k}={}", a.len()),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// `ok`, or each file and key whose IP disagrees with IMDS.
fn show_media(v: &Value) -> String {
    match v.get("mismatches").and_then(Value::as_array) {
        Some(m) if m.is_empty() => "ok (IPs match IMDS)".into(),
        Some(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|x| {
                    let s = |k: &str| x.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
                    format!(
                        "{} {} is {}, want {}",
                        s("file"),
                        s("key"),
                        s("found"),
                        s("want")
                    )
                })
                .collect();
            format!("MISMATCH (run bbb-hook configure): {}", items.join("; "))
        }
        None => show(v),
    }
}

/// The human form: one aligned line per part.
pub fn render(s: &Status) -> String {
    let rows = [
        ("instance", format!("{} ({})", s.instance_id, s.address)),
        ("fleet", s.fleet.clone()),
        ("dns", format!("{} -> {}", s.record_name, show(&s.dns))),
        ("scalelite", show(&s.scalelite)),
        ("autoscaling", show(&s.autoscaling)),
        ("bbb", show(&s.bbb)),
        ("tls", show(&s.tls)),
        ("media", show_media(&s.media)),
        ("hook", show(&s.hook)),
    ];
    rows.iter().map(|(k, v)| format!("{k:<12} {v}\n")).collect()
}
