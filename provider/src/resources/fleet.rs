//! `bbb_fleet`: one Auto Scaling group, one Route53 zone and domain, and the Scalelite pool,
//! bound into a fleet. The fleet owns the group's launching and terminating lifecycle hooks
//! (the on-instance `bbb-hook` completes them), reports every instance with its record and
//! Scalelite registration, and removes what instances that no longer exist left behind
//! (A records and Scalelite servers of the fleet's own naming scheme).
//!
//! A refresh costs a fixed number of calls whatever the fleet's size: one
//! DescribeAutoScalingGroups, one DescribeLifecycleHooks, one batched DescribeInstances, one
//! Route53 listing of the names under `domain`, and the provider's shared `getServers`.
//!
//! Import ID: `<autoscaling_group_name>/<fleet_name>`.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::time::Duration;

use async_trait::async_trait;
use bbb_core::aws::{
    ARecordChange, AwsClients, AwsError, DnsRecord, LifecycleActionResult, LifecycleHook,
    LifecycleHookSpec, LifecycleState, LifecycleTransition,
};
use bbb_core::scalelite::Server;
use serde::{Deserialize, Serialize};

use crate::aws_access::aws_error;
use crate::config::Setting;
use crate::framework::validators::{
    at_least, greater_than, http_url, matches, not_blank, whole_number, Validator,
};
use crate::framework::{
    Applied, ApplyRequest, AttrPath, Attribute, Block, Diagnostics, NestedBlock, Nesting, Plan,
    Resource, Schema, Type, Value,
};
use crate::provider::ProviderData;
use crate::scalelite_pool::scalelite_error;

const PLACEHOLDER: &str = "{instance_id}";
const DEFAULT_HEARTBEAT: f64 = 900.0;
const DEFAULT_MAX_WAIT: &str = "4h";
const DEFAULT_TEMPLATE: &str = "bbb-{instance_id}";
const DEFAULT_TTL: f64 = 60.0;

pub struct Fleet;

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
struct Drain {
    lifecycle_hook_name: Option<String>,
    heartbeat_timeout: Option<f64>,
    max_wait: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Instance {
    instance_id: String,
    lifecycle_state: String,
    health_status: String,
    protected_from_scale_in: bool,
    availability_zone: Option<String>,
    private_ip: Option<String>,
    public_ip: Option<String>,
    dns_name: Option<String>,
    scalelite_server_id: Option<String>,
    scalelite_state: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct OrphanRecord {
    name: String,
    instance_id: String,
    ttl: f64,
    value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct OrphanServer {
    id: String,
    url: String,
    instance_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Model {
    id: Option<String>,
    name: String,
    autoscaling_group_name: String,
    hosted_zone_id: Option<String>,
    domain: Option<String>,
    record_name_template: Option<String>,
    record_ttl: Option<f64>,
    scalelite_url: Option<String>,
    scalelite_tag: Option<String>,
    load_multiplier: Option<f64>,
    scalelite_secret_parameter: Option<String>,
    protect_live_meetings: Option<bool>,
    launch_hook_name: Option<String>,
    launch_heartbeat_timeout: Option<f64>,
    terminating_hook_name: Option<String>,
    drain: Option<Drain>,
    hook_config: Option<String>,
    instances: Option<Vec<Instance>>,
    orphaned_records: Option<Vec<OrphanRecord>>,
    orphaned_servers: Option<Vec<OrphanServer>>,
}

impl Model {
    fn default_launch_hook(&self) -> String {
        format!("bbb-{}-launching", self.name)
    }

    fn default_terminating_hook(&self) -> String {
        format!("bbb-{}-terminating", self.name)
    }

    fn launch_hook(&self) -> String {
        self.launch_hook_name
            .clone()
            .unwrap_or_else(|| self.default_launch_hook())
    }

    /// The terminating hook's name the configuration asks for.
    fn wanted_terminating_hook(&self) -> String {
        self.drain
            .as_ref()
            .and_then(|d| d.lifecycle_hook_name.clone())
            .unwrap_or_else(|| self.default_terminating_hook())
    }

    fn heartbeat(&self) -> f64 {
        self.drain
            .as_ref()
            .and_then(|d| d.heartbeat_timeout)
            .unwrap_or(DEFAULT_HEARTBEAT)
    }

    fn max_wait(&self) -> String {
        self.drain
            .as_ref()
            .and_then(|d| d.max_wait.clone())
            .unwrap_or_else(|| DEFAULT_MAX_WAIT.into())
    }

    fn launch_heartbeat(&self) -> f64 {
        self.launch_heartbeat_timeout.unwrap_or(DEFAULT_HEARTBEAT)
    }

    fn template(&self) -> String {
        self.record_name_template
            .clone()
            .unwrap_or_else(|| DEFAULT_TEMPLATE.into())
    }

    fn naming(&self) -> Option<Naming> {
        Naming::new(&self.template(), self.domain.as_deref()?)
    }

    fn hook_specs(&self) -> [LifecycleHookSpec; 2] {
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

/// The fleet's record naming scheme: `<prefix><instance id><suffix>.<domain>`.
struct Naming {
    prefix: String,
    suffix: String,
    domain: String,
    pattern: regex::Regex,
}

impl Naming {
    fn new(template: &str, domain: &str) -> Option<Self> {
        let (prefix, suffix) = template.split_once(PLACEHOLDER)?;
        let (prefix, suffix, domain) = (
            prefix.to_ascii_lowercase(),
            suffix.to_ascii_lowercase(),
            domain.trim_end_matches('.').to_ascii_lowercase(),
        );
        let pattern = format!(
            "^{}(i-[0-9a-f]{{8,17}}){}\\.{}$",
            regex::escape(&prefix),
            regex::escape(&suffix),
            regex::escape(&domain)
        );
        Some(Self {
            prefix,
            suffix,
            domain,
            pattern: regex::Regex::new(&pattern).ok()?,
        })
    }

    fn record_name(&self, instance_id: &str) -> String {
        format!(
            "{}{}{}.{}",
            self.prefix,
            instance_id.to_ascii_lowercase(),
            self.suffix,
            self.domain
        )
    }

    /// The instance id in `name` when the name follows the scheme.
    fn instance_of(&self, name: &str) -> Option<String> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.pattern
            .captures(&name)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
    }

    fn server_url(&self, instance_id: &str) -> String {
        format!(
            "https://{}/bigbluebutton/api",
            self.record_name(instance_id)
        )
    }

    /// The instance id of a Scalelite server URL whose host follows the scheme.
    fn instance_of_url(&self, url: &str) -> Option<String> {
        let host = url::Url::parse(url).ok()?.host_str()?.to_string();
        self.instance_of(&host)
    }
}

/// Everything one refresh observed.
struct Observed {
    hooks: Vec<LifecycleHook>,
    instances: Vec<Instance>,
    orphaned_records: Vec<(OrphanRecord, DnsRecord)>,
    orphaned_servers: Vec<OrphanServer>,
}

fn domain_name() -> impl Validator {
    matches(
        r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        "a lowercase DNS name without trailing dot, such as bbb.example.org",
    )
}

fn template_validator() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        let Some(s) = value.as_str() else { return };
        let ok_label = regex::Regex::new(r"^[a-z0-9-]*\{instance_id\}[a-z0-9-]*$")
            .is_ok_and(|re| re.is_match(s));
        if s.matches(PLACEHOLDER).count() != 1 || !ok_label {
            diags.error_at(
                path.clone(),
                format!("Invalid value for {path}"),
                format!("{path} must be one DNS label containing {{instance_id}} once, such as \"bbb-{{instance_id}}\"; got {s:?}."),
            );
        }
    }
}

fn at_most(max: f64) -> impl Validator {
    move |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(n) = value.as_f64() {
            if n > max {
                diags.error_at(
                    path.clone(),
                    format!("Value out of range for {path}"),
                    format!("{path} must be at most {max}; got {n}."),
                );
            }
        }
    }
}

fn duration() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(s) = value.as_str() {
            match humantime::parse_duration(s) {
                Ok(d) if d.as_secs() > 0 => {}
                Ok(_) => diags.error_at(
                    path.clone(),
                    format!("Invalid duration in {path}"),
                    format!("{path} must be longer than zero; got {s:?}."),
                ),
                Err(e) => diags.error_at(
                    path.clone(),
                    format!("Invalid duration in {path}"),
                    format!("{path} must be a duration such as \"4h\" or \"90m\": {e}."),
                ),
            }
        }
    }
}

fn hook_name_validator() -> impl Validator {
    matches(
        r"^[A-Za-z0-9_./-]{1,255}$",
        "1-255 letters, digits, dot, dash, underscore or slash",
    )
}

fn heartbeat(name: &str, default: f64, what: &str) -> Attribute {
    Attribute::number(name)
        .default(default)
        .validate(whole_number())
        .validate(at_least(30.0))
        .validate(at_most(7200.0))
        .description(what)
}

fn instance_type() -> Type {
    let s = |n: &str| (n.to_string(), Type::String);
    Type::Object(
        [
            s("instance_id"),
            s("lifecycle_state"),
            s("health_status"),
            ("protected_from_scale_in".to_string(), Type::Bool),
            s("availability_zone"),
            s("private_ip"),
            s("public_ip"),
            s("dns_name"),
            s("scalelite_server_id"),
            s("scalelite_state"),
        ]
        .into_iter()
        .collect(),
    )
}

fn orphan_record_type() -> Type {
    Type::Object(
        [
            ("name".to_string(), Type::String),
            ("instance_id".to_string(), Type::String),
            ("ttl".to_string(), Type::Number),
            ("value".to_string(), Type::String),
        ]
        .into_iter()
        .collect(),
    )
}

fn orphan_server_type() -> Type {
    Type::Object(
        [
            ("id".to_string(), Type::String),
            ("url".to_string(), Type::String),
            ("instance_id".to_string(), Type::String),
        ]
        .into_iter()
        .collect(),
    )
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
    fn encode(&self, model: &Model) -> Result<Value, Diagnostics> {
        Value::encode(model, &self.schema().ty())
    }

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
    async fn hook_config(
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

    /// One refresh: the group, the two hooks, the instances' addresses, the fleet's records
    /// and the shared Scalelite server list. `Ok(None)` when the group is gone.
    async fn observe(data: &ProviderData, model: &Model) -> Result<Option<Observed>, Diagnostics> {
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
    fn fill(model: &mut Model, seen: &Observed) {
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

    async fn put_hooks(aws: &AwsClients, model: &Model) -> Result<(), Diagnostics> {
        for spec in model.hook_specs() {
            aws.put_lifecycle_hook(&spec)
                .await
                .map_err(|e| aws_error(&format!("put lifecycle hook {}", spec.hook_name), &e))?;
        }
        Ok(())
    }

    async fn delete_hook(aws: &AwsClients, asg: &str, name: &str) -> Result<(), Diagnostics> {
        match aws.delete_lifecycle_hook(asg, name).await {
            Ok(()) => Ok(()),
            Err(e) if is_missing_hook(&e) => Ok(()),
            Err(e) => Err(aws_error(&format!("delete lifecycle hook {name}"), &e)),
        }
    }

    /// Deletes the orphans the plan showed that are still orphans now, with the records'
    /// current values (a DELETE must match them exactly).
    async fn heal(
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

    async fn state_after_apply(
        &self,
        data: &ProviderData,
        mut model: Model,
    ) -> Result<Applied, Diagnostics> {
        let seen = Self::observe(data, &model).await?.ok_or_else(|| {
            Diagnostics::from_error_at(
                AttrPath::attr("autoscaling_group_name"),
                "Auto Scaling group not found",
                format!(
                    "Auto Scaling group {:?} does not exist.",
                    model.autoscaling_group_name
                ),
            )
        })?;
        model.terminating_hook_name = Some(model.wanted_terminating_hook());
        model.launch_hook_name = Some(model.launch_hook());
        Self::fill(&mut model, &seen);
        model.id = Some(format!("{}/{}", model.autoscaling_group_name, model.name));
        model.hook_config = Self::hook_config(data, &model, None).await?;
        Ok(Applied::new(self.encode(&model)?))
    }
}

#[async_trait]
impl Resource<ProviderData> for Fleet {
    fn type_name(&self) -> &'static str {
        "bbb_fleet"
    }

    fn schema(&self) -> Schema {
        let drain = Block::new()
            .description("Draining on termination: the terminating lifecycle hook that waits for the last meeting.")
            .attribute(
                Attribute::string("lifecycle_hook_name")
                    .optional()
                    .validate(hook_name_validator())
                    .description("Name of the terminating lifecycle hook (default `bbb-<name>-terminating`)."),
            )
            .attribute(heartbeat("heartbeat_timeout", DEFAULT_HEARTBEAT, "Heartbeat timeout of the terminating hook in seconds (30 to 7200); the hook records a heartbeat while meetings run. On timeout termination goes on (CONTINUE)."))
            .attribute(
                Attribute::string("max_wait")
                    .default(DEFAULT_MAX_WAIT)
                    .validate(duration())
                    .description("Longest wait for the last meeting to end before termination goes on, e.g. `4h`. At most the terminating hook's global timeout, min(48h, 100 x `heartbeat_timeout`), minus the 5 minutes the drain needs after it; the AMI derives its systemd stop timeouts from it."),
            );
        Schema::new(
            Block::new()
                .description("A fleet of BBB servers: an Auto Scaling group, its per-instance Route53 A records and Scalelite registrations (made by the on-instance hook), and the lifecycle hooks that hook completes. Import with `<autoscaling_group_name>/<name>`.")
                .attribute(Attribute::string("id").computed().use_state_for_unknown().description("`<autoscaling_group_name>/<name>`."))
                .attribute(
                    Attribute::string("name")
                        .required()
                        .requires_replace()
                        .validate(matches(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", "1-128 letters, digits, dot, dash or underscore, starting with a letter or digit"))
                        .description("Name of the fleet."),
                )
                .attribute(Attribute::string("autoscaling_group_name").required().requires_replace().validate(not_blank()).description("The Auto Scaling group of the fleet's BBB servers. Left alone on destroy."))
                .attribute(
                    Attribute::string("hosted_zone_id")
                        .required()
                        .validate(matches(r"^(/hostedzone/)?[0-9A-Z]{1,32}$", "a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ"))
                        .description("Route53 hosted zone holding the per-instance records."),
                )
                .attribute(Attribute::string("domain").required().validate(domain_name()).description("Domain of the per-instance records, e.g. `bbb.example.org`."))
                .attribute(
                    Attribute::string("record_name_template")
                        .default(DEFAULT_TEMPLATE)
                        .validate(template_validator())
                        .description("Record name of each server under `domain`; `{instance_id}` is replaced by the EC2 instance ID."),
                )
                .attribute(
                    Attribute::number("record_ttl")
                        .default(DEFAULT_TTL)
                        .validate(whole_number())
                        .validate(at_least(10.0))
                        .validate(at_most(86400.0))
                        .description("TTL in seconds of the per-instance records (10 to 86400)."),
                )
                .attribute(Attribute::string("scalelite_url").optional().validate(http_url()).description("Scalelite URL the servers register with, when it differs from the provider's (e.g. an internal URL)."))
                .attribute(Attribute::string("scalelite_tag").optional().validate(not_blank()).description("Scalelite tag of the fleet's servers; orphaned servers are only those with this tag when set."))
                .attribute(Attribute::number("load_multiplier").default(1.0).validate(greater_than(0.0)).description("Scalelite load multiplier of the fleet's servers."))
                .attribute(
                    Attribute::string("scalelite_secret_parameter")
                        .required()
                        .validate(matches(r"^(/[A-Za-z0-9_.-]+)+$|^[A-Za-z0-9_.-]+$", "an SSM parameter name such as /bbb/prod/scalelite-secret"))
                        .description("Name of the SSM SecureString parameter the hook reads Scalelite's secret from (a name, never the secret)."),
                )
                .attribute(Attribute::bool("protect_live_meetings").default(true).description("The hook sets scale-in protection on servers while they host meetings."))
                .attribute(
                    Attribute::string("launch_hook_name")
                        .optional()
                        .computed()
                        .validate(hook_name_validator())
                        .description("Name of the launching lifecycle hook (default `bbb-<name>-launching`). On timeout the launch is abandoned (ABANDON), so a broken server never serves."),
                )
                .attribute(heartbeat("launch_heartbeat_timeout", DEFAULT_HEARTBEAT, "Heartbeat timeout of the launching hook in seconds (30 to 7200)."))
                .attribute(Attribute::string("terminating_hook_name").computed().description("Name of the terminating lifecycle hook in use."))
                .attribute(Attribute::string("hook_config").computed().description("JSON configuration document of the on-instance hook (no secret)."))
                .attribute(Attribute::new("instances", Type::list(instance_type())).computed().description("The group's instances with their record name and Scalelite registration."))
                .attribute(
                    Attribute::new("orphaned_records", Type::list(orphan_record_type()))
                        .computed()
                        .description("A records of the fleet's naming scheme whose instance no longer exists; apply deletes them."),
                )
                .attribute(
                    Attribute::new("orphaned_servers", Type::list(orphan_server_type()))
                        .computed()
                        .description("Scalelite servers of the fleet's naming scheme (and tag) whose instance no longer exists; apply removes them."),
                )
                .block(NestedBlock::new("drain", Nesting::Single, drain)),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // drain.max_wait must fit the terminating hook's global timeout.
        super::drain_limits::validate(config, DEFAULT_HEARTBEAT, DEFAULT_MAX_WAIT, diags);
    }

    async fn modify_plan(&self, data: &ProviderData, plan: &mut Plan, diags: &mut Diagnostics) {
        let planned = &mut plan.planned;
        let name_known = planned.get("name").as_str().map(str::to_string);
        if let Some(name) = &name_known {
            let launch = planned.get("launch_hook_name");
            if (launch.is_null() || launch.is_unknown())
                && plan.config.get("launch_hook_name").is_null()
            {
                planned.set(
                    "launch_hook_name",
                    Value::String(format!("bbb-{name}-launching")),
                );
            }
            let wanted = match planned.get("drain").get("lifecycle_hook_name") {
                Value::Unknown => Value::Unknown,
                Value::String(s) => Value::String(s.clone()),
                _ => Value::String(format!("bbb-{name}-terminating")),
            };
            planned.set("terminating_hook_name", wanted);
        }
        if let (Some(asg), Some(name)) =
            (planned.get("autoscaling_group_name").as_str(), &name_known)
        {
            let id = format!("{asg}/{name}");
            planned.set("id", Value::String(id));
        }
        // hook_config is known whenever its inputs are.
        let inputs_known = planned.is_wholly_known() || {
            let mut probe = planned.clone();
            for computed in [
                "hook_config",
                "instances",
                "orphaned_records",
                "orphaned_servers",
                "id",
            ] {
                probe.set(computed, Value::Null);
            }
            probe.is_wholly_known()
        };
        if inputs_known {
            match planned.decode::<Model>() {
                Ok(model) => match Self::hook_config(data, &model, Some(planned)).await {
                    Ok(Some(doc)) => planned.set("hook_config", Value::String(doc)),
                    Ok(None) => planned.set("hook_config", Value::Unknown),
                    Err(d) => diags.extend(d),
                },
                Err(d) => diags.extend(d),
            }
        } else {
            planned.set("hook_config", Value::Unknown);
        }
        if plan.prior.is_null() {
            return;
        }
        // Orphans found by the refresh are planned away: the plan shows them as a change.
        let mut heals = false;
        for list in ["orphaned_records", "orphaned_servers"] {
            if plan
                .prior
                .get(list)
                .as_list()
                .is_some_and(|l| !l.is_empty())
            {
                plan.planned.set(list, Value::List(Vec::new()));
                heals = true;
            }
        }
        if heals || plan.planned != plan.prior {
            // The instances are read again after apply.
            plan.planned.set("instances", Value::Unknown);
            for list in ["orphaned_records", "orphaned_servers"] {
                if plan
                    .prior
                    .get(list)
                    .as_list()
                    .is_none_or(<[Value]>::is_empty)
                {
                    plan.planned.set(list, Value::List(Vec::new()));
                }
            }
        }
    }

    async fn create(&self, data: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        let model: Model = req.planned.decode()?;
        let aws = data.aws().await?;
        match aws
            .describe_auto_scaling_group(&model.autoscaling_group_name)
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {
                return Err(Diagnostics::from_error_at(
                    AttrPath::attr("autoscaling_group_name"),
                    "Auto Scaling group not found",
                    format!(
                        "Auto Scaling group {:?} does not exist; create it first.",
                        model.autoscaling_group_name
                    ),
                ))
            }
            Err(e) => return Err(aws_error("describe the Auto Scaling group", &e)),
        }
        Self::put_hooks(aws, &model).await?;
        let mut applied = self.state_after_apply(data, model).await?;
        // Orphans were unknown in the plan: report what the first read finds (the next plan
        // removes them).
        applied.private = req.private;
        Ok(applied)
    }

    async fn read(
        &self,
        data: &ProviderData,
        current: Applied,
    ) -> Result<Option<Applied>, Diagnostics> {
        let mut model: Model = current.state.decode()?;
        let Some(seen) = Self::observe(data, &model).await? else {
            return Ok(None);
        };
        Self::fill(&mut model, &seen);
        Ok(Some(Applied::with_private(
            self.encode(&model)?,
            current.private,
        )))
    }

    async fn update(&self, data: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        let prior: Model = req.prior.decode()?;
        let model: Model = req.planned.decode()?;
        let aws = data.aws().await?;
        let asg = &model.autoscaling_group_name;
        let old = prior.hook_specs();
        let new = model.hook_specs();
        let hooks_missing =
            prior.terminating_hook_name.is_none() || prior.launch_hook_name.is_none();
        if old != new || hooks_missing {
            Self::put_hooks(aws, &model).await?;
            for o in &old {
                if !new.iter().any(|n| n.hook_name == o.hook_name) {
                    Self::delete_hook(aws, asg, &o.hook_name).await?;
                }
            }
        }
        let heal = req
            .planned
            .get("orphaned_records")
            .as_list()
            .is_some_and(<[Value]>::is_empty)
            && prior
                .orphaned_records
                .as_ref()
                .is_some_and(|l| !l.is_empty())
            || req
                .planned
                .get("orphaned_servers")
                .as_list()
                .is_some_and(<[Value]>::is_empty)
                && prior
                    .orphaned_servers
                    .as_ref()
                    .is_some_and(|l| !l.is_empty());
        if heal {
            let now = Self::observe(data, &model).await?.ok_or_else(|| {
                Diagnostics::from_error(
                    "Auto Scaling group not found",
                    format!("Auto Scaling group {asg:?} disappeared during apply."),
                )
            })?;
            let zone = model.hosted_zone_id.clone().unwrap_or_default();
            Self::heal(data, &prior, &now, &zone).await?;
        }
        let mut applied = self.state_after_apply(data, model).await?;
        // Orphans were planned as empty lists: new ones show at the next refresh.
        applied
            .state
            .set("orphaned_records", Value::List(Vec::new()));
        applied
            .state
            .set("orphaned_servers", Value::List(Vec::new()));
        Ok(applied)
    }

    async fn delete(&self, data: &ProviderData, req: ApplyRequest) -> Result<(), Diagnostics> {
        let model: Model = req.prior.decode()?;
        let aws = data.aws().await?;
        let asg = &model.autoscaling_group_name;
        let hooks = match aws.describe_lifecycle_hooks(asg, &[]).await {
            Ok(h) => h,
            Err(e) if e.is_not_found() || e.to_string().contains("not found") => return Ok(()),
            Err(e) => return Err(aws_error("describe the lifecycle hooks", &e)),
        };
        let names = [
            model.launch_hook(),
            model
                .terminating_hook_name
                .clone()
                .unwrap_or_else(|| model.wanted_terminating_hook()),
        ];
        for name in names {
            if hooks.iter().any(|h| h.hook_name == name) {
                Self::delete_hook(aws, asg, &name).await?;
            }
        }
        Ok(())
    }

    /// Imports by `<autoscaling_group_name>/<name>`, reading the hooks back; settings that
    /// live only in Terraform (zone, domain, Scalelite) come from the configuration at the
    /// next apply.
    async fn import(&self, data: &ProviderData, id: &str) -> Result<Applied, Diagnostics> {
        let Some((asg, name)) = id
            .rsplit_once('/')
            .filter(|(a, n)| !a.is_empty() && !n.is_empty())
        else {
            return Err(Diagnostics::from_error(
                "Invalid import ID",
                format!("Expected <autoscaling_group_name>/<fleet_name>; got {id:?}."),
            ));
        };
        let aws = data.aws().await?;
        let hooks = aws
            .describe_lifecycle_hooks(asg, &[])
            .await
            .map_err(|e| aws_error("describe the lifecycle hooks", &e))?;
        let mut model = Model {
            name: name.to_string(),
            autoscaling_group_name: asg.to_string(),
            ..Default::default()
        };
        let pick = |transition: LifecycleTransition, default: String| -> Option<&LifecycleHook> {
            hooks.iter().find(|h| h.hook_name == default).or_else(|| {
                let of_kind: Vec<_> = hooks
                    .iter()
                    .filter(|h| h.transition == transition)
                    .collect();
                (of_kind.len() == 1).then(|| of_kind[0])
            })
        };
        let launching = pick(LifecycleTransition::Launching, model.default_launch_hook());
        let terminating = pick(
            LifecycleTransition::Terminating,
            model.default_terminating_hook(),
        );
        let (Some(launching), Some(terminating)) = (launching, terminating) else {
            return Err(Diagnostics::from_error(
                "Cannot import non-existent fleet",
                format!("Auto Scaling group {asg:?} has no launching and terminating lifecycle hooks of fleet {name:?}."),
            ));
        };
        model.launch_hook_name = Some(launching.hook_name.clone());
        model.launch_heartbeat_timeout = launching
            .heartbeat_timeout
            .map(|d| d.as_secs() as f64)
            .or(Some(DEFAULT_HEARTBEAT));
        model.terminating_hook_name = Some(terminating.hook_name.clone());
        let heartbeat = terminating
            .heartbeat_timeout
            .map(|d| d.as_secs() as f64)
            .unwrap_or(DEFAULT_HEARTBEAT);
        let default_name = terminating.hook_name == model.default_terminating_hook();
        if !default_name || heartbeat != DEFAULT_HEARTBEAT {
            model.drain = Some(Drain {
                lifecycle_hook_name: (!default_name).then(|| terminating.hook_name.clone()),
                heartbeat_timeout: Some(heartbeat),
                max_wait: Some(DEFAULT_MAX_WAIT.to_string()),
            });
        }
        model.record_name_template = Some(DEFAULT_TEMPLATE.into());
        model.record_ttl = Some(DEFAULT_TTL);
        model.load_multiplier = Some(1.0);
        model.protect_live_meetings = Some(true);
        model.id = Some(format!("{asg}/{name}"));
        Ok(Applied::new(self.encode(&model)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_matches_only_the_fleets_scheme() {
        let n = Naming::new("bbb-{instance_id}", "bbb.example.org").expect("naming");
        assert_eq!(
            n.record_name("i-0123456789abcdef0"),
            "bbb-i-0123456789abcdef0.bbb.example.org"
        );
        assert_eq!(
            n.instance_of("bbb-i-0123456789abcdef0.bbb.example.org.")
                .as_deref(),
            Some("i-0123456789abcdef0")
        );
        assert_eq!(
            n.instance_of("other-i-0123456789abcdef0.bbb.example.org"),
            None
        );
        assert_eq!(
            n.instance_of("bbb-i-0123456789abcdef0.other.example.org"),
            None
        );
        assert_eq!(
            n.instance_of("bbb-i-0123456789abcdef0.x.bbb.example.org"),
            None
        );
        assert_eq!(
            n.instance_of_url("https://bbb-i-0123456789abcdef0.bbb.example.org/bigbluebutton/api")
                .as_deref(),
            Some("i-0123456789abcdef0")
        );
        assert_eq!(
            n.instance_of_url("https://scalelite.bbb.example.org/bigbluebutton/api"),
            None
        );
    }

    #[test]
    fn template_must_hold_the_placeholder_once() {
        let check = |s: &str| {
            let mut d = Diagnostics::new();
            template_validator().validate(
                &AttrPath::attr("record_name_template"),
                &Value::from(s),
                &mut d,
            );
            d.has_errors()
        };
        assert!(!check("bbb-{instance_id}"));
        assert!(check("bbb"));
        assert!(check("{instance_id}-{instance_id}"));
        assert!(check("a.{instance_id}"));
    }
}
