//! `bbb_schedule`: scheduled capacity of a fleet's Auto Scaling group for a planned event
//! (exam, webinar, lecture), one-off or recurring: two scheduled actions, `bbb-<name>-up`
//! (lead time before the start) and `bbb-<name>-down` (at the end, back to `return_to`).
//!
//! `model` (state, action specs, times), `cron` (recurrences), `validate` (configuration
//! checks), `plan` (computed values and plan-time checks), `actions` (putting the pair).

mod actions;
mod checks;
mod cron;
mod model;
mod plan;
mod validate;

use std::time::SystemTime;

use async_trait::async_trait;
use bbb_core::time::format_rfc3339;

use crate::aws_access::aws_error;
use crate::provider::ProviderData;
use tfplugin_framework::validators::{greater_than, matches};
use tfplugin_framework::{
    Applied, ApplyRequest, Attribute, Block, Diagnostics, NestedBlock, Nesting, Plan, Resource,
    Schema, Value,
};
use validate::group_name;

use cron::{cron_minutes_between, shift_cron};
use model::{
    down_name, format_minutes, from_system_time, has_run, is_gone, parse_duration, up_name, Model,
    DEFAULT_LEAD_TIME,
};
use validate::{capacity_number, cron, duration, rfc3339, time_zone};

pub struct Schedule;

impl Schedule {
    fn encode(&self, model: &Model) -> Result<Value, Diagnostics> {
        Value::encode(model, &self.schema().ty())
    }

    /// Puts what the plan asks of both actions; see `actions` for what is sent, in which
    /// order, and what a failed create leaves.
    async fn put(&self, data: &ProviderData, req: &ApplyRequest) -> Result<Applied, Diagnostics> {
        let aws = data.aws().await?;
        let cache = data.asg_cache();
        let mut model: Model = req.planned.decode()?;
        if model.autoscaling_group_name.is_none() {
            model.autoscaling_group_name = model.fleet.clone();
        }
        let asg = model.group()?;
        let creating = req.prior.is_null();
        let before = if creating {
            None
        } else {
            let mut prior: Model = req.prior.decode()?;
            prior.autoscaling_group_name = Some(asg.clone());
            Some(prior.specs()?)
        };
        if creating {
            let actions = cache
                .scheduled_actions(aws, &asg)
                .await
                .map_err(|e| aws_error(&format!("read the scheduled actions of {asg}"), &e))?;
            checks::refuse_existing(&asg, &model.name, &actions)?;
        }
        model.fill_return_sizes(cache, aws).await?;
        let (up, down) = model.specs()?;
        let now = SystemTime::now();
        let up_step = actions::step(&up, before.as_ref().map(|b| &b.0), now)?;
        let down_step = actions::step(&down, before.as_ref().map(|b| &b.1), now)?;
        let sent = actions::put_pair(aws, (&up, up_step), (&down, down_step), creating).await;
        cache.forget(&asg);
        sent?;
        model.id = Some(format!("{asg}/{}", model.name));
        model.scale_up_action_name = Some(up.name);
        model.scale_down_action_name = Some(down.name);
        Ok(Applied::new(self.encode(&model)?))
    }
}

#[async_trait]
impl Resource<ProviderData> for Schedule {
    fn type_name(&self) -> &'static str {
        "bbb_schedule"
    }

    fn schema(&self) -> Schema {
        let size = |name: &str, what: &str| {
            Attribute::number(name)
                .optional()
                .validate(capacity_number())
                .description(what)
        };
        Schema::new(
            Block::new()
                .description("Scheduled capacity of a fleet's Auto Scaling group for a planned event (exam, webinar, lecture), one-off or recurring: servers are launched `lead_time` before the start and the group returns to `return_to` at the end. Two scheduled actions, `bbb-<name>-up` and `bbb-<name>-down`.")
                .attribute(Attribute::string("id").computed().use_state_for_unknown().description("`<autoscaling_group_name>/<name>`; also the import ID."))
                .attribute(
                    Attribute::string("autoscaling_group_name")
                        .optional()
                        .computed()
                        .requires_replace()
                        .validate(group_name())
                        .description("The name of the fleet's Auto Scaling group, e.g. `bbb_fleet.main.autoscaling_group_name` or the `fleet` module's `autoscaling_group_name` output (not the `bbb_fleet`'s name or id). Changing it replaces the schedule."),
                )
                .attribute(
                    Attribute::string("fleet")
                        .optional()
                        .deprecated()
                        .validate(group_name())
                        .description("Deprecated: use `autoscaling_group_name`. An alias of it that takes the Auto Scaling group's name, not the `bbb_fleet`'s name; set one of the two."),
                )
                .attribute(
                    Attribute::string("name")
                        .required()
                        .requires_replace()
                        .validate(matches(r"^[A-Za-z0-9_.\-]{1,240}$", "letters, digits, '.', '_' or '-' (at most 240)"))
                        .description("Names the scheduled actions `bbb-<name>-up` and `bbb-<name>-down`. Changing it replaces the schedule."),
                )
                .attribute(Attribute::string("start_time").optional().validate(rfc3339()).description("One-off: when the event starts (RFC 3339). With `end_time`; instead of `recurrence`."))
                .attribute(Attribute::string("end_time").optional().validate(rfc3339()).description("One-off: when the event ends (RFC 3339); the group returns to `return_to` then."))
                .attribute(Attribute::string("recurrence").optional().validate(cron()).description("Recurring: when each event starts, a 5-field cron expression (UTC unless `time_zone`), e.g. `0 8 * * MON-FRI`. Its minute and hour must be single numbers. With `duration`; instead of `start_time`/`end_time`."))
                .attribute(Attribute::string("time_zone").optional().validate(time_zone()).description("IANA time zone of `recurrence`, e.g. `Europe/Berlin`."))
                .attribute(Attribute::string("duration").optional().validate(duration(true)).description("Recurring: how long each event lasts, e.g. `2h`."))
                .attribute(size("capacity", "Instances during the event. Or `expected_participants` with `participants_per_server`."))
                .attribute(size("expected_participants", "Participants expected; capacity is `ceil(expected_participants / participants_per_server)`."))
                .attribute(Attribute::number("participants_per_server").optional().validate(greater_than(0.0)).description("Participants one server takes, with `expected_participants`."))
                .attribute(Attribute::string("lead_time").default(DEFAULT_LEAD_TIME).validate(duration(false)).description("How long before the start the group scales up, so servers are registered and warm (an instance takes about 3 minutes to launch)."))
                .attribute(Attribute::bool("raise_max_size").default(false).description("Raise the group's max size to the capacity during the event when it is lower; otherwise a capacity above max size is an error."))
                .block(NestedBlock::new(
                    "return_to",
                    Nesting::Single,
                    Block::new()
                        .description("The group's sizes after the event. A min or max size left out is the group's own, read at plan while no event runs on the group. Recommended for recurring schedules.")
                        .attribute(size("min_size", "Minimum size after the event."))
                        .attribute(size("max_size", "Maximum size after the event."))
                        .attribute(size("desired_capacity", "Desired capacity after the event. Left out (recommended with scaling policies), the scale-down sets only the min and max size and leaves the desired capacity to the scaling policies.")),
                ))
                .attribute(Attribute::number("desired_capacity").computed().description("Instances during the event (min size and desired capacity of the scale-up action)."))
                .attribute(Attribute::string("scale_up_time").computed().description("One-off: when the group scales up (`start_time` - `lead_time`, RFC 3339 UTC)."))
                .attribute(Attribute::string("scale_down_time").computed().description("One-off: when the group scales down (`end_time`, RFC 3339 UTC)."))
                .attribute(Attribute::string("scale_up_recurrence").computed().description("Recurring: cron of the scale-up action (`recurrence` shifted by `lead_time`)."))
                .attribute(Attribute::string("scale_down_recurrence").computed().description("Recurring: cron of the scale-down action (`recurrence` shifted by `duration`)."))
                .attribute(Attribute::string("scale_up_action_name").computed().description("`bbb-<name>-up`."))
                .attribute(Attribute::string("scale_down_action_name").computed().description("`bbb-<name>-down`."))
                .attribute(Attribute::number("return_min_size").computed().description("Min size the scale-down action sets."))
                .attribute(Attribute::number("return_max_size").computed().description("Max size the scale-down action sets."))
                .attribute(Attribute::number("return_desired_capacity").computed().description("Desired capacity the scale-down action sets; null when `return_to.desired_capacity` is not set (the scaling policies keep it).")),
        )
    }
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate::validate(config, diags);
    }

    async fn modify_plan(&self, data: &ProviderData, plan: &mut Plan, diags: &mut Diagnostics) {
        plan::modify_plan(data, plan, diags).await;
    }

    async fn create(&self, data: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        self.put(data, &req).await
    }

    async fn read(
        &self,
        data: &ProviderData,
        current: Applied,
    ) -> Result<Option<Applied>, Diagnostics> {
        let aws = data.aws().await?;
        let mut model: Model = current.state.decode()?;
        let Ok(asg) = model.group() else {
            return Ok(None);
        };
        let actions = data
            .asg_cache()
            .scheduled_actions(aws, &asg)
            .await
            .map_err(|e| aws_error(&format!("read the scheduled actions of {asg}"), &e))?;
        let find = |n: &str| actions.iter().find(|a| a.name == n && a.asg_name == asg);
        let (up, down) = (find(&up_name(&model.name)), find(&down_name(&model.name)));
        let one_off = model.recurrence.is_none();
        let up_ran = one_off && has_run(model.scale_up_time.as_deref());
        let down_ran = one_off && has_run(model.scale_down_time.as_deref());
        if up.is_none() && down.is_none() {
            if down_ran {
                // A past one-off event: its actions ran and Auto Scaling removed them.
                return Ok(Some(current));
            }
            if !up_ran {
                // Both deleted outside Terraform before the event: created again.
                return Ok(None);
            }
            // The event is running and its scale-down was deleted: put back below.
        }
        match up {
            Some(a) => {
                model.desired_capacity = a.desired_capacity.map(f64::from);
                model.scale_up_time = a
                    .start_time
                    .filter(|_| a.recurrence.is_none())
                    .map(|t| format_rfc3339(from_system_time(t)));
                model.scale_up_recurrence = a.recurrence.clone();
                model.scale_up_action_name = Some(a.name.clone());
            }
            None if up_ran => {}
            // Deleted outside Terraform: the next plan puts it back.
            None => model.scale_up_action_name = None,
        }
        match down {
            Some(a) => {
                model.scale_down_time = a
                    .start_time
                    .filter(|_| a.recurrence.is_none())
                    .map(|t| format_rfc3339(from_system_time(t)));
                model.scale_down_recurrence = a.recurrence.clone();
                model.return_min_size = a.min_size.map(f64::from);
                model.return_max_size = a.max_size.map(f64::from);
                model.return_desired_capacity = a.desired_capacity.map(f64::from);
                model.scale_down_action_name = Some(a.name.clone());
            }
            None if down_ran => {}
            None => model.scale_down_action_name = None,
        }
        Ok(Some(Applied::with_private(
            self.encode(&model)?,
            current.private,
        )))
    }

    async fn update(&self, data: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        self.put(data, &req).await
    }

    async fn delete(&self, data: &ProviderData, req: ApplyRequest) -> Result<(), Diagnostics> {
        let aws = data.aws().await?;
        let model: Model = req.prior.decode()?;
        let Ok(asg) = model.group() else {
            return Ok(());
        };
        for name in [up_name(&model.name), down_name(&model.name)] {
            let deleted = aws.delete_scheduled_action(&asg, &name).await;
            data.asg_cache().forget(&asg);
            match deleted {
                Ok(()) => {}
                Err(e) if is_gone(&e) => {}
                Err(e) => return Err(aws_error(&format!("delete scheduled action {name}"), &e)),
            }
        }
        Ok(())
    }

    /// Imports `<autoscaling_group_name>/<name>`. The lead time cannot be told from the
    /// actions: the default (10m) is assumed.
    async fn import(&self, data: &ProviderData, id: &str) -> Result<Applied, Diagnostics> {
        let Some((asg, name)) = id
            .rsplit_once('/')
            .filter(|(a, n)| !a.is_empty() && !n.is_empty())
        else {
            return Err(Diagnostics::from_error(
                "Invalid import ID",
                format!("Expected <autoscaling_group_name>/<name>, got {id:?}."),
            ));
        };
        let aws = data.aws().await?;
        let actions = aws
            .describe_scheduled_actions(asg)
            .await
            .map_err(|e| aws_error(&format!("read the scheduled actions of {asg}"), &e))?;
        let find = |n: &str| actions.iter().find(|a| a.name == n && a.asg_name == asg);
        let (Some(up), Some(down)) = (find(&up_name(name)), find(&down_name(name))) else {
            return Err(Diagnostics::from_error(
                "Cannot import non-existent schedule",
                format!(
                    "Auto Scaling group {asg} has no scheduled actions {} and {}.",
                    up_name(name),
                    down_name(name)
                ),
            ));
        };
        let lead = parse_duration(DEFAULT_LEAD_TIME)
            .map(|d| (d.as_secs() / 60) as i64)
            .unwrap_or(10);
        let mut model = Model {
            id: Some(format!("{asg}/{name}")),
            autoscaling_group_name: Some(asg.to_string()),
            name: name.to_string(),
            capacity: up.desired_capacity.map(f64::from),
            lead_time: Some(DEFAULT_LEAD_TIME.to_string()),
            raise_max_size: Some(up.max_size.is_some()),
            ..Default::default()
        };
        match (&up.recurrence, &down.recurrence) {
            (Some(ur), Some(dr)) => {
                let start = shift_cron(ur, lead).map_err(|e| {
                    Diagnostics::from_error(
                        "Cannot import this schedule",
                        format!("{}: recurrence {ur:?}: {e}", up.name),
                    )
                })?;
                model.duration = cron_minutes_between(&start, dr).map(format_minutes);
                model.recurrence = Some(start);
                model.time_zone = up.time_zone.clone();
            }
            _ => {
                let up_t = up.start_time.map(from_system_time);
                model.start_time = up_t.map(|t| format_rfc3339(t + lead * 60));
                model.end_time = down.start_time.map(|t| format_rfc3339(from_system_time(t)));
            }
        }
        // read() fills the computed values from the actions.
        model.scale_up_action_name = Some(up.name.clone());
        model.scale_down_action_name = Some(down.name.clone());
        model.desired_capacity = model.capacity;
        model.scale_up_time = up
            .start_time
            .filter(|_| up.recurrence.is_none())
            .map(|t| format_rfc3339(from_system_time(t)));
        model.scale_down_time = down
            .start_time
            .filter(|_| down.recurrence.is_none())
            .map(|t| format_rfc3339(from_system_time(t)));
        model.scale_up_recurrence = up.recurrence.clone();
        model.scale_down_recurrence = down.recurrence.clone();
        model.return_min_size = down.min_size.map(f64::from);
        model.return_max_size = down.max_size.map(f64::from);
        model.return_desired_capacity = down.desired_capacity.map(f64::from);
        Ok(Applied::new(self.encode(&model)?))
    }
}
