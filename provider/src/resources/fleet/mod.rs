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

mod heal;
mod hooks;
mod naming;
mod observe;
mod retire;
mod schema;

use async_trait::async_trait;
use bbb_core::aws::{LifecycleHook, LifecycleTransition};
use serde::{Deserialize, Serialize};

use std::time::Duration;

use crate::aws_access::aws_error;
use crate::provider::ProviderData;
use tfplugin_framework::timeouts::{show, Op, Timeouts};
use tfplugin_framework::Private;
use tfplugin_framework::{
    Applied, ApplyRequest, AttrPath, Diagnostics, Plan, Resource, Schema, Value,
};

use heal::{OrphanRecord, OrphanServer};
use naming::Naming;
use observe::Instance;

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
    retired_hook_names: Option<Vec<String>>,
    timeouts: Option<Timeouts>,
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

    /// How long a destroy waits for instances to leave their lifecycle wait:
    /// `timeouts.delete`, else `drain.max_wait` plus the drain's finish.
    fn delete_timeout(&self) -> Duration {
        Timeouts::get(self.timeouts.as_ref(), Op::Delete).unwrap_or_else(|| {
            let max_wait = humantime::parse_duration(&self.max_wait())
                .unwrap_or(Duration::from_secs(4 * 3600));
            max_wait + Duration::from_secs(super::drain_limits::DRAIN_FINISH_SECONDS)
        })
    }

    /// Every hook name the fleet may have put on the group: the two in use and the retired.
    fn all_hook_names(&self) -> Vec<String> {
        let mut names = vec![
            self.launch_hook(),
            self.terminating_hook_name
                .clone()
                .unwrap_or_else(|| self.wanted_terminating_hook()),
        ];
        names.extend(self.retired_hook_names.iter().flatten().cloned());
        names
    }

    /// Reads a hook changed outside Terraform in what no attribute shows (its transition,
    /// its default result, the terminating heartbeat without a `drain` block) as missing, so
    /// the next plan shows the hook's name coming back and its apply puts the hook again.
    fn forget_drifted_hooks(&mut self, hooks: &[LifecycleHook]) {
        let [launching, terminating] = self.hook_specs();
        let drifted =
            |name: &Option<String>, spec: &bbb_core::aws::LifecycleHookSpec, heartbeat: bool| {
                name.as_ref().is_some_and(|n| {
                    hooks.iter().any(|h| {
                        &h.hook_name == n
                            && (h.transition != spec.transition
                                || h.default_result.as_ref() != Some(&spec.default_result)
                                || (heartbeat && h.heartbeat_timeout != spec.heartbeat_timeout))
                    })
                })
            };
        if drifted(&self.launch_hook_name, &launching, false) {
            self.launch_hook_name = None;
        }
        if drifted(
            &self.terminating_hook_name,
            &terminating,
            self.drain.is_none(),
        ) {
            self.terminating_hook_name = None;
        }
    }

    /// Keeps the retired hook names that are still on the group.
    fn keep_present_retired(&mut self, hooks: &[LifecycleHook]) {
        let retired = self.retired_hook_names.take().unwrap_or_default();
        self.retired_hook_names = Some(
            retired
                .into_iter()
                .filter(|n| hooks.iter().any(|h| &h.hook_name == n))
                .collect(),
        );
    }

    fn naming(&self) -> Option<Naming> {
        Naming::new(&self.template(), self.domain.as_deref()?)
    }
}

impl Fleet {
    fn encode(&self, model: &Model) -> Result<Value, Diagnostics> {
        Value::encode(model, &self.schema().ty())
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
        model.keep_present_retired(&seen.hooks);
        model.id = Some(format!("{}/{}", model.autoscaling_group_name, model.name));
        model.hook_config = Self::hook_config(data, &model, None).await?;
        Ok(Applied::new(self.encode(&model)?).with_warnings(seen.warnings))
    }
}

#[async_trait]
impl Resource<ProviderData> for Fleet {
    fn type_name(&self) -> &'static str {
        "bbb_fleet"
    }

    fn schema(&self) -> Schema {
        schema::schema()
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
                "retired_hook_names",
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
        // Retired hooks no instance waits on any more: the apply deletes them.
        let retired = plan.prior.get("retired_hook_names").as_list();
        let waiting = plan.prior.get("instances").as_list().is_some_and(|l| {
            l.iter()
                .any(|i| i.get("lifecycle_state").as_str().is_some_and(retire::waits))
        });
        if retired.is_some_and(|l| !l.is_empty()) && !waiting {
            plan.planned.set("retired_hook_names", Value::Unknown);
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
        model.keep_present_retired(&seen.hooks);
        model.forget_drifted_hooks(&seen.hooks);
        Ok(Some(
            Applied::with_private(self.encode(&model)?, current.private)
                .with_warnings(seen.warnings),
        ))
    }

    async fn update(&self, data: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        let prior: Model = req.prior.decode()?;
        let mut model: Model = req.planned.decode()?;
        let aws = data.aws().await?;
        let asg = &model.autoscaling_group_name;
        let old = prior.hook_specs();
        let new = model.hook_specs();
        let hooks_missing =
            prior.terminating_hook_name.is_none() || prior.launch_hook_name.is_none();
        let mut retired = prior.retired_hook_names.clone().unwrap_or_default();
        if old != new || hooks_missing {
            Self::put_hooks(aws, &model).await?;
            let (delete_now, retire) = retire::renamed(&old, &new);
            for name in delete_now {
                Self::delete_hook(aws, asg, &name).await?;
            }
            for name in retire {
                if !retired.contains(&name) {
                    retired.push(name);
                }
            }
        }
        retired.retain(|r| !new.iter().any(|n| &n.hook_name == r));
        model.retired_hook_names = Some(Self::release_retired(aws, asg, &retired).await?);
        if heal::planned(&prior, &req.planned) {
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
        let names = model.all_hook_names();
        let doomed: Vec<&LifecycleHook> = hooks
            .iter()
            .filter(|h| names.contains(&h.hook_name))
            .collect();
        if doomed.is_empty() {
            return Ok(());
        }
        // Deleting a hook completes the actions waiting on it: wait until none does.
        Self::wait_for_release(aws, asg, &doomed, model.delete_timeout()).await?;
        for hook in doomed {
            Self::delete_hook(aws, asg, &hook.hook_name).await?;
        }
        Ok(())
    }

    /// Warns, when a destroy is planned, about the instances it will wait for and about the
    /// servers it leaves without a drain.
    async fn plan_destroy(
        &self,
        data: &ProviderData,
        prior: &Value,
        _private: &Private,
        diags: &mut Diagnostics,
    ) {
        let Ok(model) = prior.decode::<Model>() else {
            return;
        };
        let Ok(aws) = data.aws().await else { return };
        let asg = &model.autoscaling_group_name;
        let Ok(group) = aws.describe_auto_scaling_group(asg).await else {
            return;
        };
        let state = |i: &&bbb_core::aws::AsgInstance| i.lifecycle_state.as_str().to_string();
        let waiting: Vec<_> = group
            .instances
            .iter()
            .filter(|i| retire::waits(&state(i)))
            .collect();
        let running = group
            .instances
            .iter()
            .filter(|i| {
                let s = state(i);
                !retire::waits(&s) && !s.starts_with("Terminat") && !s.starts_with("Detach")
            })
            .count();
        if !waiting.is_empty() {
            let ids: Vec<String> = waiting
                .iter()
                .map(|i| format!("{} ({})", i.instance_id, i.lifecycle_state.as_str()))
                .collect();
            diags.warning(
                format!("{} instance(s) are draining or launching; destroy will wait up to {}", waiting.len(), show(model.delete_timeout())),
                format!(
                    "{} wait on the fleet's lifecycle hooks. Deleting the hooks would complete their lifecycle actions, so destroy waits until they are done (at most timeouts.delete) and fails, deleting nothing, if they are not.",
                    ids.join(", ")
                ),
            );
        }
        if running > 0 {
            diags.warning(
                format!("Auto Scaling group {asg:?} still runs {running} server(s) that will not drain"),
                "Once destroy deletes the fleet's lifecycle hooks, terminating these servers (deleting the group, a scale-in) ends their meetings at once. To keep meetings, scale the group to 0 and let it drain before destroying the fleet."
                    .to_string(),
            );
        }
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
