//! What can be checked on the configuration alone: the attribute validators and the
//! cross-attribute rules (`validate`).

use tfplugin_framework::validators::{self, at_least, whole_number, Validator};
use tfplugin_framework::{AttrPath, Diagnostics, Value};

use super::cron::check_cron;
use super::model::parse_rfc3339;

pub(super) fn rfc3339() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(s) = value.as_str() {
            if let Err(e) = parse_rfc3339(s) {
                diags.error_at(path.clone(), format!("Invalid time in {path}"), format!("{path} must be an RFC 3339 date-time such as \"2026-02-10T08:30:00Z\": {e}; got {s:?}."));
            }
        }
    }
}

/// A whole-minute duration (Auto Scaling's schedules take minutes); `positive` refuses zero.
pub(super) fn duration(positive: bool) -> impl Validator {
    let d = validators::duration().whole_minutes();
    if positive {
        d.positive()
    } else {
        d
    }
}

pub(super) fn cron() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        if let Some(s) = value.as_str() {
            if let Err(e) = check_cron(s) {
                diags.error_at(path.clone(), format!("Invalid cron expression in {path}"), format!("{path} must be a 5-field cron expression such as \"0 8 * * MON-FRI\": {e}."));
            }
        }
    }
}

/// An IANA time zone name: `UTC`, `GMT`, or `<area>/<location>` in one of the IANA areas
/// (review P8: the same answer on every host, with no zone database; AWS checks the
/// location itself).
pub(super) fn time_zone() -> impl Validator {
    const AREAS: [&str; 11] = [
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
        "Etc",
    ];
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        let Some(s) = value.as_str() else { return };
        let part = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-'))
        };
        let known = matches!(s, "UTC" | "GMT")
            || s.split_once('/')
                .is_some_and(|(area, rest)| AREAS.contains(&area) && rest.split('/').all(part));
        if !known {
            diags.error_at(path.clone(), format!("Invalid time zone in {path}"), format!("{path} must be an IANA time zone name such as \"Europe/Berlin\" or \"UTC\"; got {s:?}."));
        }
    }
}

/// An Auto Scaling group's name as AWS allows it (1 to 255 characters, spaces included, no
/// control characters), without spaces around it (review P7).
pub(super) fn group_name() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        let Some(s) = value.as_str() else { return };
        let ok = (1..=255).contains(&s.chars().count())
            && !s.chars().any(char::is_control)
            && s.trim() == s;
        if !ok {
            diags.error_at(path.clone(), format!("Invalid Auto Scaling group name in {path}"), format!("{path} must be an Auto Scaling group's name: 1 to 255 characters, no control characters, no spaces around it; got {s:?}."));
        }
    }
}

pub(super) fn capacity_number() -> impl Validator {
    |path: &AttrPath, value: &Value, diags: &mut Diagnostics| {
        whole_number().validate(path, value, diags);
        at_least(0.0).validate(path, value, diags);
    }
}

/// The rules between attributes: one group, one schedule style, one way to give capacity.
pub(super) fn validate(config: &Value, diags: &mut Diagnostics) {
    let set = |n: &str| !config.get(n).is_null();
    match (set("autoscaling_group_name"), set("fleet")) {
        (true, true) => diags.error_at(
            AttrPath::attr("fleet"),
            "Conflicting fleet",
            "Set either autoscaling_group_name or fleet (its alias), not both.",
        ),
        (false, false) => diags.error_at(
            AttrPath::attr("autoscaling_group_name"),
            "Missing autoscaling_group_name",
            "Set autoscaling_group_name (or its alias fleet) to the fleet's Auto Scaling group.",
        ),
        _ => {}
    }
    let one_off = set("start_time") || set("end_time");
    let recurring = set("recurrence") || set("duration");
    if one_off && recurring {
        let at = if set("recurrence") {
            "recurrence"
        } else {
            "duration"
        };
        diags.error_at(AttrPath::attr(at), "Conflicting schedule styles", "Set either start_time and end_time (one-off) or recurrence and duration (recurring), not both.");
    } else if !one_off && !recurring {
        diags.error_at(AttrPath::attr("start_time"), "Missing schedule", "Set start_time and end_time (one-off event) or recurrence and duration (recurring event).");
    } else if one_off {
        for (a, b) in [("start_time", "end_time"), ("end_time", "start_time")] {
            if !set(a) {
                diags.error_at(
                    AttrPath::attr(a),
                    format!("Missing {a}"),
                    format!("A one-off schedule needs {a} with {b}."),
                );
            }
        }
    } else {
        for (a, b) in [("recurrence", "duration"), ("duration", "recurrence")] {
            if !set(a) {
                diags.error_at(
                    AttrPath::attr(a),
                    format!("Missing {a}"),
                    format!("A recurring schedule needs {a} with {b}."),
                );
            }
        }
    }
    if set("time_zone") && !set("recurrence") && one_off {
        diags.error_at(AttrPath::attr("time_zone"), "time_zone without recurrence", "time_zone applies to recurrence only; give start_time and end_time with a UTC offset instead.");
    }
    let by_participants = set("expected_participants") || set("participants_per_server");
    if set("capacity") && by_participants {
        let at = if set("expected_participants") {
            "expected_participants"
        } else {
            "participants_per_server"
        };
        diags.error_at(
            AttrPath::attr(at),
            "Conflicting capacity",
            "Set either capacity or expected_participants with participants_per_server, not both.",
        );
    } else if !set("capacity") && !by_participants {
        diags.error_at(
            AttrPath::attr("capacity"),
            "Missing capacity",
            "Set capacity (instances) or expected_participants with participants_per_server.",
        );
    } else if by_participants {
        for (a, b) in [
            ("expected_participants", "participants_per_server"),
            ("participants_per_server", "expected_participants"),
        ] {
            if !set(a) {
                diags.error_at(
                    AttrPath::attr(a),
                    format!("Missing {a}"),
                    format!("{b} needs {a}."),
                );
            }
        }
    }
}
