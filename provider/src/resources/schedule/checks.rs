//! What `bbb_schedule` checks against the group and its other scheduled actions: the group's
//! max size, overlapping schedules, action names taken already (review G12), and whether an
//! event of any bbb schedule is running on the group now (so the sizes to return to are not
//! read while an event has raised them, review D4).

use bbb_core::aws::{AutoScalingGroup, ScheduledAction};
use bbb_core::time::format_rfc3339;

use tfplugin_framework::{AttrPath, Diagnostics, Plan};

use super::model::{down_name, from_system_time, now_secs, parse_rfc3339, up_name};
use super::plan::{capacity_of, capacity_path, known_str};

/// The group's max size against the capacity. An error when the schedule is new or changed;
/// a warning on a plan that changes nothing (the scale-up is already in AWS as it is).
pub(super) fn check_max_size(
    plan: &Plan,
    group: &AutoScalingGroup,
    changed: bool,
    diags: &mut Diagnostics,
) {
    let planned = &plan.planned;
    let Ok(Some(capacity)) = capacity_of(planned) else {
        return;
    };
    let raise = planned.get("raise_max_size").as_bool().unwrap_or(false);
    if raise || capacity <= f64::from(group.max_size) {
        return;
    }
    let path = capacity_path(&plan.config);
    let summary = format!("Capacity above the group's max size in {path}");
    let detail = format!(
        "The schedule asks for {capacity} instances, but Auto Scaling group {} has max_size {}. Lower {path}, raise the group's max_size, or set raise_max_size = true.",
        group.name, group.max_size
    );
    if changed {
        diags.error_at(path, summary, detail);
    } else {
        diags.warning_at(path, summary, detail);
    }
}

/// Warns about other bbb one-off schedules of the group whose events overlap this one's.
pub(super) fn warn_overlaps(plan: &Plan, actions: &[ScheduledAction], diags: &mut Diagnostics) {
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

/// A new schedule must not take over scheduled actions that already exist: another
/// configuration or workspace would silently lose them (review G12).
pub(super) fn refuse_existing(
    asg: &str,
    name: &str,
    actions: &[ScheduledAction],
) -> Result<(), Diagnostics> {
    let taken: Vec<String> = [up_name(name), down_name(name)]
        .into_iter()
        .filter(|n| actions.iter().any(|a| &a.name == n))
        .collect();
    if taken.is_empty() {
        return Ok(());
    }
    Err(Diagnostics::from_error_at(
        AttrPath::attr("name"),
        "Scheduled actions already exist",
        format!(
            "Auto Scaling group {asg} already has scheduled action(s) {}. Another configuration or workspace may manage them. \
             To manage them with this resource, import them (terraform import <address> {asg}/{name}, or an import block with that id); \
             otherwise choose another name.",
            taken.join(" and ")
        ),
    ))
}

/// Whether an event of some bbb schedule has raised the group right now: a one-off scale-down
/// still pending whose scale-up has run (it is gone, or its time passed), or a recurring
/// scale-up whose min size is the group's min size now.
pub(super) fn event_in_progress(group: &AutoScalingGroup, actions: &[ScheduledAction]) -> bool {
    let now = now_secs();
    actions.iter().any(|a| {
        let Some(base) = a.name.strip_prefix("bbb-") else {
            return false;
        };
        if let Some(schedule) = base.strip_suffix("-down") {
            if a.recurrence.is_some() {
                return false;
            }
            let pending = a.start_time.map(from_system_time).is_some_and(|t| t > now);
            let up = actions.iter().find(|u| u.name == up_name(schedule));
            let up_ran = up.is_none_or(|u| {
                u.recurrence.is_none()
                    && u.start_time.map(from_system_time).is_some_and(|t| t <= now)
            });
            return pending && up_ran;
        }
        base.ends_with("-up") && a.recurrence.is_some() && a.min_size == Some(group.min_size)
    })
}
