//! `bbb_schedule`'s plan: the computed values (group, action names, capacity, the scale-up
//! and scale-down times or crons, the sizes to return to), the plan-time time checks, and the
//! checks that need the group (its max size, overlapping schedules).

use bbb_core::aws::{AutoScalingGroup, ScheduledAction};
use bbb_core::time::format_rfc3339;

use crate::framework::{AttrPath, Diagnostics, Plan, Value};
use crate::provider::ProviderData;

use super::cron::shift_cron;
use super::model::{
    down_name, format_minutes, from_system_time, now_secs, parse_duration, parse_rfc3339, up_name,
};

pub(super) fn known_str<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).as_str()
}

pub(super) fn set_if(planned: &mut Value, name: &str, v: Option<Value>, unknown: bool) {
    planned.set(
        name,
        if unknown {
            Value::Unknown
        } else {
            v.unwrap_or(Value::Null)
        },
    );
}

/// The capacity the configuration asks for: `Err(())` when unknown, `Ok(None)` when unset.
pub(super) fn capacity_of(v: &Value) -> Result<Option<f64>, ()> {
    let (c, e, p) = (
        v.get("capacity"),
        v.get("expected_participants"),
        v.get("participants_per_server"),
    );
    if c.is_unknown() || e.is_unknown() || p.is_unknown() {
        return Err(());
    }
    if let Some(c) = c.as_f64() {
        return Ok(Some(c));
    }
    match (e.as_f64(), p.as_f64()) {
        (Some(e), Some(p)) if p > 0.0 => Ok(Some((e / p).ceil())),
        _ => Ok(None),
    }
}

pub(super) fn capacity_path(v: &Value) -> AttrPath {
    if v.get("capacity").is_null() {
        AttrPath::attr("expected_participants")
    } else {
        AttrPath::attr("capacity")
    }
}

/// Plan-time checks and warnings that need the group: its max size, and other bbb
/// schedules of the same group overlapping this one.
fn check_against_group(plan: &mut Plan, group: &AutoScalingGroup, diags: &mut Diagnostics) {
    let planned = &plan.planned;
    if let Ok(Some(capacity)) = capacity_of(planned) {
        let raise = planned.get("raise_max_size").as_bool().unwrap_or(false);
        if !raise && capacity > f64::from(group.max_size) {
            let path = capacity_path(&plan.config);
            diags.error_at(
                path.clone(),
                format!("Capacity above the group's max size in {path}"),
                format!(
                    "The schedule asks for {capacity} instances, but Auto Scaling group {} has max_size {}. Lower {path}, raise the group's max_size, or set raise_max_size = true.",
                    group.name, group.max_size
                ),
            );
        }
    }
}

fn warn_overlaps(plan: &Plan, actions: &[ScheduledAction], diags: &mut Diagnostics) {
    let planned = &plan.planned;
    let Some(name) = known_str(planned, "name") else {
        return;
    };
    let (Some(up), Some(down)) = (
        known_str(planned, "scale_up_time"),
        known_str(planned, "scale_down_time"),
    ) else {
        return;
    };
    let (Ok(up), Ok(down)) = (parse_rfc3339(up), parse_rfc3339(down)) else {
        return;
    };
    let mut others: Vec<(String, i64, i64)> = Vec::new();
    for a in actions {
        let Some(other) = a
            .name
            .strip_prefix("bbb-")
            .and_then(|n| n.strip_suffix("-up"))
        else {
            continue;
        };
        if other == name || a.recurrence.is_some() {
            continue;
        }
        let Some(start) = a.start_time.map(from_system_time) else {
            continue;
        };
        let end = actions
            .iter()
            .find(|d| d.name == down_name(other))
            .and_then(|d| d.start_time.map(from_system_time))
            .unwrap_or(start);
        others.push((other.to_string(), start, end));
    }
    for (other, start, end) in others {
        if start < down && up < end {
            diags.warning_at(
                AttrPath::attr("start_time"),
                "Overlapping schedules",
                format!(
                    "Schedule {name:?} ({} to {}) overlaps schedule {other:?} ({} to {}) of the same Auto Scaling group; whichever action runs last sets the capacity.",
                    format_rfc3339(up),
                    format_rfc3339(down),
                    format_rfc3339(start),
                    format_rfc3339(end)
                ),
            );
        }
    }
}

pub(super) async fn modify_plan(data: &ProviderData, plan: &mut Plan, diags: &mut Diagnostics) {
    let creating = plan.is_create();
    let prior = plan.prior.clone();
    let config = plan.config.clone();
    let p = &mut plan.planned;

    // The group: autoscaling_group_name, or the alias fleet.
    if config.get("autoscaling_group_name").is_null() {
        let fleet = config.get("fleet").clone();
        p.set("autoscaling_group_name", fleet);
    }
    let asg = p.get("autoscaling_group_name").clone();
    let name = p.get("name").clone();
    plan.requires_replace
        .retain(|path| *path != AttrPath::attr("autoscaling_group_name"));
    if !creating && prior.get("autoscaling_group_name") != &asg {
        plan.requires_replace
            .push(AttrPath::attr("autoscaling_group_name"));
    }
    let replacing = !plan.requires_replace.is_empty();
    match (asg.as_str(), name.as_str()) {
        (Some(a), Some(n)) => p.set("id", Value::string(format!("{a}/{n}"))),
        _ => p.set("id", Value::Unknown),
    }
    set_if(
        p,
        "scale_up_action_name",
        name.as_str().map(|n| Value::string(up_name(n))),
        name.is_unknown(),
    );
    set_if(
        p,
        "scale_down_action_name",
        name.as_str().map(|n| Value::string(down_name(n))),
        name.is_unknown(),
    );

    // Capacity.
    match capacity_of(p) {
        Ok(c) => p.set(
            "desired_capacity",
            c.map(Value::Number).unwrap_or(Value::Null),
        ),
        Err(()) => p.set("desired_capacity", Value::Unknown),
    }

    // Times.
    let lead = p.get("lead_time").clone();
    let lead_minutes = lead
        .as_str()
        .and_then(|s| parse_duration(s).ok())
        .map(|d| (d.as_secs() / 60) as i64);
    let (start, end) = (p.get("start_time").clone(), p.get("end_time").clone());
    let (rec, dur) = (p.get("recurrence").clone(), p.get("duration").clone());
    for n in [
        "scale_up_time",
        "scale_down_time",
        "scale_up_recurrence",
        "scale_down_recurrence",
    ] {
        p.set(n, Value::Null);
    }
    if !start.is_null() || !end.is_null() {
        let s = start.as_str().and_then(|s| parse_rfc3339(s).ok());
        let e = end.as_str().and_then(|s| parse_rfc3339(s).ok());
        set_if(
            p,
            "scale_up_time",
            s.zip(lead_minutes)
                .map(|(s, l)| Value::string(format_rfc3339(s - l * 60))),
            start.is_unknown() || lead.is_unknown(),
        );
        set_if(
            p,
            "scale_down_time",
            e.map(|e| Value::string(format_rfc3339(e))),
            end.is_unknown(),
        );
        if let (Some(s), Some(e)) = (s, e) {
            if e <= s {
                diags.error_at(
                    AttrPath::attr("end_time"),
                    "end_time before start_time",
                    format!(
                        "end_time ({}) must be after start_time ({}).",
                        format_rfc3339(e),
                        format_rfc3339(s)
                    ),
                );
            }
        }
        // A start in the past is refused when the event is new or moved; an event that
        // already happened can stay in state unchanged.
        let moved = creating
            || replacing
            || prior.get("start_time") != &start
            || prior.get("lead_time") != &lead;
        if let (Some(s), true) = (s, moved) {
            let now = now_secs();
            if s <= now {
                diags.error_at(
                    AttrPath::attr("start_time"),
                    "start_time in the past",
                    format!(
                        "start_time ({}) is not in the future (now is {}).",
                        format_rfc3339(s),
                        format_rfc3339(now)
                    ),
                );
            } else if let Some(l) = lead_minutes.filter(|l| s - l * 60 <= now) {
                diags.error_at(
                    AttrPath::attr("lead_time"),
                    "Scale-up time in the past",
                    format!("start_time - lead_time ({}) is in the past (now is {}); shorten lead_time to at most {}.", format_rfc3339(s - l * 60), format_rfc3339(now), format_minutes(((s - now) / 60 - 1).max(0))),
                );
            }
        }
    } else if !rec.is_null() || !dur.is_null() {
        let dur_minutes = dur
            .as_str()
            .and_then(|s| parse_duration(s).ok())
            .map(|d| (d.as_secs() / 60) as i64);
        if let (Some(r), Some(l), Some(d)) = (rec.as_str(), lead_minutes, dur_minutes) {
            match (shift_cron(r, -l), shift_cron(r, d)) {
                (Ok(up), Ok(down)) => {
                    p.set("scale_up_recurrence", Value::string(up));
                    p.set("scale_down_recurrence", Value::string(down));
                }
                (Err(e), _) | (_, Err(e)) => diags.error_at(
                    AttrPath::attr("recurrence"),
                    "Unsupported recurrence",
                    format!("recurrence {r:?} cannot be shifted by lead_time ({}) and duration ({}): {e}.", format_minutes(l), format_minutes(d)),
                ),
            }
        } else {
            let unknown = rec.is_unknown() || lead.is_unknown() || dur.is_unknown();
            p.set(
                "scale_up_recurrence",
                if unknown { Value::Unknown } else { Value::Null },
            );
            p.set(
                "scale_down_recurrence",
                if unknown { Value::Unknown } else { Value::Null },
            );
        }
    }

    // Sizes after the event: configured, else kept from state, else the group's now.
    let ret = config.get("return_to").clone();
    let mut missing = false;
    for (inner, outer) in [
        ("min_size", "return_min_size"),
        ("max_size", "return_max_size"),
        ("desired_capacity", "return_desired_capacity"),
    ] {
        let configured = ret.get(inner);
        let value = if !configured.is_null() {
            configured.clone()
        } else if !creating && !replacing && !prior.get(outer).is_null() {
            prior.get(outer).clone()
        } else {
            missing = true;
            Value::Unknown
        };
        p.set(outer, value);
    }

    // What needs the group: its sizes, max-size check, overlapping schedules.
    let Some(asg_name) = asg.as_str().map(str::to_string) else {
        return;
    };
    let Ok(aws) = data.aws().await else { return };
    let group = match aws.describe_auto_scaling_group(&asg_name).await {
        Ok(g) => g,
        Err(e) => {
            // The group may be created by this same apply; checks wait for apply then.
            tracing::debug!(error = %e, "bbb_schedule: group not readable at plan");
            return;
        }
    };
    if missing {
        let p = &mut plan.planned;
        for (outer, v) in [
            ("return_min_size", group.min_size),
            ("return_max_size", group.max_size),
            ("return_desired_capacity", group.desired_capacity),
        ] {
            if p.get(outer).is_unknown() {
                p.set(outer, Value::Number(f64::from(v)));
            }
        }
    }
    check_against_group(plan, &group, diags);
    match aws.describe_scheduled_actions(&asg_name).await {
        Ok(actions) => warn_overlaps(plan, &actions, diags),
        Err(e) => {
            tracing::debug!(error = %e, "bbb_schedule: scheduled actions not readable at plan")
        }
    }
}
