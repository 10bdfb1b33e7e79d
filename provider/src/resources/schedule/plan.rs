//! `bbb_schedule`'s plan: the computed values (group, action names, capacity, the scale-up
//! and scale-down times or crons, the sizes to return to), the time checks, and the checks
//! that need the group (`checks`).
//!
//! Remote checks run only when the schedule is new or its configuration changed, and never
//! for a one-off event whose scale-up has run (review D7): a plan that changes nothing, or a
//! finished event, never fails on the group's state today.

use bbb_core::time::format_rfc3339;

use crate::provider::ProviderData;
use tfplugin_framework::{AttrPath, Diagnostics, Plan, Value};

use super::checks::{check_max_size, event_in_progress, refuse_existing, warn_overlaps};
use super::cron::shift_cron;
use super::model::{
    down_name, format_minutes, has_run, now_secs, parse_duration, parse_rfc3339, up_name,
};

/// The attributes a user sets; a change of any of them is a change of the schedule.
const CONFIGURED: [&str; 13] = [
    "autoscaling_group_name",
    "name",
    "start_time",
    "end_time",
    "recurrence",
    "time_zone",
    "duration",
    "capacity",
    "expected_participants",
    "participants_per_server",
    "lead_time",
    "raise_max_size",
    "return_to",
];

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

/// Where a one-off event stands, from the prior state: what AWS has run already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// New, replaced, recurring, or its scale-up is still ahead.
    Ahead,
    /// Scaled up, not yet down.
    Running,
    /// Both actions ran.
    Over,
}

pub(super) async fn modify_plan(data: &ProviderData, plan: &mut Plan, diags: &mut Diagnostics) {
    resolve_group(plan);
    let fresh = plan.is_create() || !plan.requires_replace.is_empty();
    plan_capacity(&mut plan.planned);
    let changed = fresh
        || CONFIGURED
            .iter()
            .any(|a| plan.planned.get(a) != plan.prior.get(a));
    let one_off =
        !plan.planned.get("start_time").is_null() || !plan.planned.get("end_time").is_null();
    let stage = if one_off {
        plan_one_off(plan, fresh, diags)
    } else {
        plan_recurring(&mut plan.planned, diags);
        Stage::Ahead
    };
    let sizes = plan_return_sizes(plan, fresh, stage);
    if stage == Stage::Ahead && (changed || sizes != Sizes::Known) {
        remote_checks(data, plan, fresh, changed, sizes, diags).await;
    }
}

/// The group (`autoscaling_group_name`, or the alias `fleet`), the id and the action names.
fn resolve_group(plan: &mut Plan) {
    let creating = plan.is_create();
    let p = &mut plan.planned;
    if plan.config.get("autoscaling_group_name").is_null() {
        p.set("autoscaling_group_name", plan.config.get("fleet").clone());
    }
    let asg = p.get("autoscaling_group_name").clone();
    let name = p.get("name").clone();
    // Optional + computed + requires_replace: replace only when the group really changes.
    plan.requires_replace
        .retain(|path| *path != AttrPath::attr("autoscaling_group_name"));
    if !creating && plan.prior.get("autoscaling_group_name") != &asg {
        plan.requires_replace
            .push(AttrPath::attr("autoscaling_group_name"));
    }
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
}

fn plan_capacity(p: &mut Value) {
    match capacity_of(p) {
        Ok(c) => p.set(
            "desired_capacity",
            c.map(Value::Number).unwrap_or(Value::Null),
        ),
        Err(()) => p.set("desired_capacity", Value::Unknown),
    }
}

fn minutes_of(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|s| parse_duration(s).ok())
        .map(|d| (d.as_secs() / 60) as i64)
}

fn clear_times(p: &mut Value) {
    for n in [
        "scale_up_time",
        "scale_down_time",
        "scale_up_recurrence",
        "scale_down_recurrence",
    ] {
        p.set(n, Value::Null);
    }
}

/// A one-off event: its scale-up and scale-down times, and what may change once AWS has run
/// one of its actions (review D2): a start time in the past is never planned, and a change
/// after the scale-up ran reaches AWS only through the scale-down that is still ahead.
fn plan_one_off(plan: &mut Plan, fresh: bool, diags: &mut Diagnostics) -> Stage {
    let prior = &plan.prior;
    let p = &mut plan.planned;
    let lead = p.get("lead_time").clone();
    let lead_minutes = minutes_of(&lead);
    let (start, end) = (p.get("start_time").clone(), p.get("end_time").clone());
    clear_times(p);
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
    let recurring_before = !fresh && !prior.get("recurrence").is_null();
    let stage = if fresh || recurring_before {
        Stage::Ahead
    } else if has_run(known_str(prior, "scale_down_time")) {
        Stage::Over
    } else if has_run(known_str(prior, "scale_up_time")) {
        Stage::Running
    } else {
        Stage::Ahead
    };
    let now = now_secs();
    // A start in the past is refused when the event is new or moved.
    let moved = fresh
        || recurring_before
        || prior.get("start_time") != &start
        || prior.get("lead_time") != &lead;
    if moved {
        if let Some(s) = s {
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
        return Stage::Ahead;
    }
    let end_moved = prior.get("end_time") != &end;
    match stage {
        Stage::Running if end_moved && e.is_some_and(|e| e <= now) => diags.error_at(
            AttrPath::attr("end_time"),
            "end_time in the past",
            format!(
                "This event is running; its scale-down cannot be scheduled in the past (end_time {}, now is {}). Set end_time a few minutes ahead to end it soon.",
                e.map(format_rfc3339).unwrap_or_default(),
                format_rfc3339(now)
            ),
        ),
        Stage::Running if CONFIGURED.iter().any(|a| *a != "end_time" && *a != "return_to" && p.get(a) != prior.get(a)) => {
            diags.warning(
                "This event has already scaled up",
                format!(
                    "The scale-up of this one-off event ran at {}; the change is kept in state, but only end_time and return_to still reach Auto Scaling (through the scale-down at {}). Change the group itself to resize the running event.",
                    known_str(prior, "scale_up_time").unwrap_or("its scale-up time"),
                    known_str(p, "scale_down_time").unwrap_or("end_time"),
                ),
            );
        }
        Stage::Over if CONFIGURED.iter().any(|a| p.get(a) != prior.get(a)) => diags.warning(
            "This event is over",
            "Both scheduled actions of this one-off event have run; the change is kept in state only. Move start_time and end_time to the future to schedule a new event.",
        ),
        _ => {}
    }
    stage
}

/// A recurring event: the scale-up and scale-down crons.
fn plan_recurring(p: &mut Value, diags: &mut Diagnostics) {
    let lead = p.get("lead_time").clone();
    let (rec, dur) = (p.get("recurrence").clone(), p.get("duration").clone());
    clear_times(p);
    if let (Some(r), Some(l), Some(d)) = (rec.as_str(), minutes_of(&lead), minutes_of(&dur)) {
        match (shift_cron(r, -l), shift_cron(r, d)) {
            (Ok(up), Ok(down)) => {
                p.set("scale_up_recurrence", Value::string(up));
                p.set("scale_down_recurrence", Value::string(down));
            }
            (Err(e), _) | (_, Err(e)) => diags.error_at(
                AttrPath::attr("recurrence"),
                "Unsupported recurrence",
                format!(
                    "recurrence {r:?} cannot be shifted by lead_time ({}) and duration ({}): {e}.",
                    format_minutes(l),
                    format_minutes(d)
                ),
            ),
        }
    } else {
        let unknown = rec.is_unknown() || lead.is_unknown() || dur.is_unknown();
        for n in ["scale_up_recurrence", "scale_down_recurrence"] {
            p.set(n, if unknown { Value::Unknown } else { Value::Null });
        }
    }
}

/// Whether the min and max sizes to return to are settled without the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sizes {
    /// Configured, or kept from state for an event AWS has started.
    Known,
    /// Kept from state for now; the group's when no event is running.
    FromGroupAtRest,
    /// Not known yet: the group's at plan, or at apply when it cannot be read.
    FromGroup,
}

/// The sizes the scale-down returns to (review D4). `return_to` when configured. Otherwise
/// the group's min and max size, read at plan while no event runs on the group (not frozen
/// at creation), and kept from state once this one-off event has scaled up. The desired
/// capacity only when configured: without it the scale-down sets the bounds only and leaves
/// the desired capacity to the scaling policies.
fn plan_return_sizes(plan: &mut Plan, fresh: bool, stage: Stage) -> Sizes {
    let ret = plan.config.get("return_to").clone();
    let p = &mut plan.planned;
    let desired = ret.get("desired_capacity");
    p.set(
        "return_desired_capacity",
        if desired.is_null() && stage != Stage::Ahead {
            plan.prior.get("return_desired_capacity").clone()
        } else {
            desired.clone()
        },
    );
    let mut sizes = Sizes::Known;
    for (inner, outer) in [
        ("min_size", "return_min_size"),
        ("max_size", "return_max_size"),
    ] {
        let configured = ret.get(inner);
        let kept = plan.prior.get(outer);
        let value = if !configured.is_null() {
            configured.clone()
        } else if fresh || kept.is_null() {
            sizes = Sizes::FromGroup;
            Value::Unknown
        } else {
            if stage == Stage::Ahead && sizes == Sizes::Known {
                sizes = Sizes::FromGroupAtRest;
            }
            kept.clone()
        };
        p.set(outer, value);
    }
    sizes
}

/// What needs the group and its scheduled actions (one shared describe each per process):
/// the sizes to return to, the max-size check, names taken already, overlapping schedules.
async fn remote_checks(
    data: &ProviderData,
    plan: &mut Plan,
    fresh: bool,
    changed: bool,
    sizes: Sizes,
    diags: &mut Diagnostics,
) {
    let Some(asg) = plan
        .planned
        .get("autoscaling_group_name")
        .as_str()
        .map(str::to_string)
    else {
        return;
    };
    let Ok(aws) = data.aws().await else { return };
    let cache = data.asg_cache();
    let group = match cache.group(aws, &asg).await {
        Ok(g) => g,
        Err(e) => {
            tracing::debug!(error = %e, "bbb_schedule: group not readable at plan");
            if changed && e.is_not_found() {
                diags.warning_at(
                    AttrPath::attr("autoscaling_group_name"),
                    "Auto Scaling group not found",
                    format!("Auto Scaling group {asg:?} does not exist (yet). If this apply creates it, ignore this; otherwise check autoscaling_group_name: it takes the group's name (e.g. bbb_fleet.main.autoscaling_group_name), not the bbb_fleet's name or id."),
                );
            }
            return;
        }
    };
    let actions = match cache.scheduled_actions(aws, &asg).await {
        Ok(a) => Some(a),
        Err(e) => {
            tracing::debug!(error = %e, "bbb_schedule: scheduled actions not readable at plan");
            None
        }
    };
    let at_rest = actions
        .as_deref()
        .is_some_and(|a| !event_in_progress(&group, a));
    if sizes == Sizes::FromGroup || (sizes == Sizes::FromGroupAtRest && at_rest) {
        let p = &mut plan.planned;
        let configured = plan.config.get("return_to");
        for (inner, outer, v) in [
            ("min_size", "return_min_size", group.min_size),
            ("max_size", "return_max_size", group.max_size),
        ] {
            if configured.get(inner).is_null()
                && (sizes == Sizes::FromGroupAtRest || p.get(outer).is_unknown())
            {
                p.set(outer, Value::Number(f64::from(v)));
            }
        }
    }
    check_max_size(plan, &group, changed, diags);
    if let Some(actions) = actions {
        if plan.is_create() {
            if let Some(name) = known_str(&plan.planned, "name") {
                if let Err(e) = refuse_existing(&asg, name, &actions) {
                    diags.extend(e);
                }
            }
        }
        if changed || fresh {
            warn_overlaps(plan, &actions, diags);
        }
    }
}
