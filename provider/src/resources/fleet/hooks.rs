//! The fleet's two lifecycle hooks and the configuration document the on-instance hook reads.

use std::time::Duration;

use bbb_core::aws::{
    AwsClients, AwsError, LifecycleActionResult, LifecycleHookSpec, LifecycleTransition,
};
use serde::Serialize;

use crate::aws_access::aws_error;
use crate::config::Setting;
use crate::provider::ProviderData;
use tfplugin_framework::{AttrPath, Diagnostics, Value};

use super::{Fleet, Model, DEFAULT_TTL};

impl Model {
    pub(super) fn hook_specs(&self) -> [LifecycleHookSpec; 2] {
        let spec = |hook_name: String, transition, secs: f64, default_result| LifecycleHookSpec {
            asg_name: self.autoscaling_group_name.clone(),
            hook_name,
            transition,
            heartbeat_timeout: Some(Duration::from_secs(secs as u64)),
            default_result,
            notification_target_arn: None,
            role_arn: None,
            notification_metadata: None,
        };
        [
            // A server that does not finish its start in time must not serve: ABANDON.
            spec(
                self.launch_hook(),
                LifecycleTransition::Launching,
                self.launch_heartbeat(),
                LifecycleActionResult::Abandon,
            ),
            // A draining server whose hook stops answering is terminated anyway: CONTINUE.
            spec(
                self.wanted_terminating_hook(),
                LifecycleTransition::Terminating,
                self.heartbeat(),
                LifecycleActionResult::Continue,
            ),
        ]
    }
}

/// The document the on-instance hook reads: every setting it needs, no secret. Field order
/// is the key order of the JSON text.
#[derive(Serialize)]
struct HookConfig<'a> {
    version: u32,
    fleet_name: &'a str,
    region: &'a str,
    autoscaling_group_name: &'a str,
    hosted_zone_id: &'a str,
    domain: &'a str,
    record_name_template: &'a str,
    record_ttl: u64,
    scalelite_url: &'a str,
    scalelite_tag: Option<&'a str>,
    load_multiplier: f64,
    scalelite_secret_parameter: &'a str,
    protect_live_meetings: bool,
    launching_hook_name: &'a str,
    launching_heartbeat_timeout: u64,
    terminating_hook_name: &'a str,
    heartbeat_timeout: u64,
    max_wait: &'a str,
    max_wait_seconds: u64,
}

fn is_missing_hook(e: &AwsError) -> bool {
    e.is_not_found() || e.to_string().to_ascii_lowercase().contains("not found")
}

impl Fleet {
    /// The Scalelite URL the hook registers with: the override, else the provider's.
    /// `Ok(None)` while unknown.
    fn scalelite_url(
        data: &ProviderData,
        model: &Model,
        planned: Option<&Value>,
    ) -> Result<Option<String>, Diagnostics> {
        if let Some(v) = planned {
            if v.get("scalelite_url").is_unknown() {
                return Ok(None);
            }
        }
        if let Some(u) = &model.scalelite_url {
            return Ok(Some(u.clone()));
        }
        match &data.settings.scalelite_url {
            Setting::Known(u) => Ok(Some(u.clone())),
            Setting::Unknown => Ok(None),
            Setting::Unset => Err(Diagnostics::from_error_at(
                AttrPath::attr("scalelite_url"),
                "No Scalelite URL for the fleet",
                "The on-instance hook needs Scalelite's URL: set the provider's scalelite_url (or BBB_SCALELITE_URL), or this resource's scalelite_url.",
            )),
        }
    }

    async fn region(data: &ProviderData) -> Result<Option<String>, Diagnostics> {
        match &data.settings.region {
            Setting::Known(r) => Ok(Some(r.clone())),
            Setting::Unknown => Ok(None),
            Setting::Unset => Ok(Some(data.aws().await?.region().to_string())),
        }
    }

    /// The hook configuration; `Ok(None)` while an input is unknown.
    pub(super) async fn hook_config(
        data: &ProviderData,
        model: &Model,
        planned: Option<&Value>,
    ) -> Result<Option<String>, Diagnostics> {
        let Some(url) = Self::scalelite_url(data, model, planned)? else {
            return Ok(None);
        };
        let Some(region) = Self::region(data).await? else {
            return Ok(None);
        };
        let max_wait = model.max_wait();
        let doc = HookConfig {
            version: 1,
            fleet_name: &model.name,
            region: &region,
            autoscaling_group_name: &model.autoscaling_group_name,
            hosted_zone_id: model.hosted_zone_id.as_deref().unwrap_or_default(),
            domain: model.domain.as_deref().unwrap_or_default(),
            record_name_template: &model.template(),
            record_ttl: model.record_ttl.unwrap_or(DEFAULT_TTL) as u64,
            scalelite_url: &url,
            scalelite_tag: model.scalelite_tag.as_deref(),
            load_multiplier: model.load_multiplier.unwrap_or(1.0),
            scalelite_secret_parameter: model
                .scalelite_secret_parameter
                .as_deref()
                .unwrap_or_default(),
            protect_live_meetings: model.protect_live_meetings.unwrap_or(true),
            launching_hook_name: &model.launch_hook(),
            launching_heartbeat_timeout: model.launch_heartbeat() as u64,
            terminating_hook_name: &model.wanted_terminating_hook(),
            heartbeat_timeout: model.heartbeat() as u64,
            max_wait_seconds: humantime::parse_duration(&max_wait)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            max_wait: &max_wait,
        };
        serde_json::to_string(&doc)
            .map(Some)
            .map_err(|e| Diagnostics::from_error("Could not encode hook_config", e.to_string()))
    }

    pub(super) async fn put_hooks(aws: &AwsClients, model: &Model) -> Result<(), Diagnostics> {
        for spec in model.hook_specs() {
            aws.put_lifecycle_hook(&spec)
                .await
                .map_err(|e| aws_error(&format!("put lifecycle hook {}", spec.hook_name), &e))?;
        }
        Ok(())
    }

    pub(super) async fn delete_hook(
        aws: &AwsClients,
        asg: &str,
        name: &str,
    ) -> Result<(), Diagnostics> {
        match aws.delete_lifecycle_hook(asg, name).await {
            Ok(()) => Ok(()),
            Err(e) if is_missing_hook(&e) => Ok(()),
            Err(e) => Err(aws_error(&format!("delete lifecycle hook {name}"), &e)),
        }
    }
}
