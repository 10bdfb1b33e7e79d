//! `bbb_schedule` under the real Terraform CLI against moto's Auto Scaling: one-off and
//! recurring schedules created, moved and destroyed, capacity from participants, import,
//! drift, plan-time errors and the overlap warning.

use std::time::{Duration, SystemTime};

use bbb_acceptance_tests::rfc3339;
use bbb_acceptance_tests::schedule_env::{future, ScheduleEnv};
use bbb_core::testing;
use serde_json::json;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

/// moto's Auto Scaling behind the front that refuses past start times as AWS does.
type Env = ScheduleEnv;

/// Whether Terraform's diagnostic points at attribute `attr` of `bbb_schedule.res` (the
/// source line shown under it starts with the attribute).
fn names(flat: &str, res: &str, attr: &str) -> bool {
    let marker = format!("in resource \"bbb_schedule\" \"{res}\": ");
    flat.match_indices(&marker).any(|(i, _)| {
        let rest = &flat[i + marker.len()..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        digits > 0 && rest[digits..].starts_with(&format!(": {attr} "))
    })
}

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

fn one_off(
    label: &str,
    asg: &str,
    name: &str,
    start: SystemTime,
    end: SystemTime,
    extra: &str,
) -> String {
    format!(
        r#"
resource "bbb_schedule" "{label}" {{
  autoscaling_group_name = "{asg}"
  name                   = "{name}"
  start_time             = "{}"
  end_time               = "{}"
{extra}
}}
"#,
        rfc3339(start),
        rfc3339(end)
    )
}

#[test]
fn one_off_created_moved_drifted_destroyed() {
    let env = Env::new(PROVIDER);
    let group = env.group(1); // min 0, desired 1, max 3
    let name = testing::unique("exam");
    let ws = env.workspace();
    let start = future(2);
    let end = start + hours(4);
    env.write(
        &ws,
        &one_off(
            "s",
            &group.name,
            &name,
            start,
            end,
            "  capacity  = 3\n  lead_time = \"30m\"",
        ),
    );

    let change = ws.planned_change("bbb_schedule.s");
    assert_eq!(change["change"]["actions"], json!(["create"]));
    let after = &change["change"]["after"];
    assert_eq!(
        after["scale_up_time"],
        json!(rfc3339(start - mins(30))),
        "computed at plan"
    );
    assert_eq!(after["scale_down_time"], json!(rfc3339(end)));
    assert_eq!(after["desired_capacity"], json!(3));
    assert_eq!(
        after["scale_up_action_name"],
        json!(format!("bbb-{name}-up"))
    );
    assert_eq!(
        after["scale_down_action_name"],
        json!(format!("bbb-{name}-down"))
    );
    assert_eq!(
        (
            &after["return_min_size"],
            &after["return_max_size"],
            &after["return_desired_capacity"]
        ),
        (&json!(0), &json!(3), &json!(null)),
        "the group's bounds, read at plan; the desired capacity is left to the scaling policies"
    );
    assert_eq!(after["id"], json!(format!("{}/{name}", group.name)));
    ws.apply();

    let up = env
        .action(&group.name, &format!("bbb-{name}-up"))
        .expect("up action");
    assert_eq!(up.start_time, Some(start - mins(30)));
    assert_eq!(
        (up.min_size, up.desired_capacity, up.max_size),
        (Some(3), Some(3), None)
    );
    assert_eq!(up.recurrence, None);
    let down = env
        .action(&group.name, &format!("bbb-{name}-down"))
        .expect("down action");
    assert_eq!(down.start_time, Some(end));
    assert_eq!(
        (down.min_size, down.max_size, down.desired_capacity),
        (Some(0), Some(3), None)
    );
    ws.assert_no_changes();

    // Moved by a day, sized down, explicit return sizes: updated in place.
    let (start2, end2) = (start + hours(24), end + hours(26));
    env.write(
        &ws,
        &one_off(
            "s",
            &group.name,
            &name,
            start2,
            end2,
            "  capacity  = 2\n  lead_time = \"30m\"\n  return_to {\n    min_size = 1\n  }",
        ),
    );
    let change = ws.planned_change("bbb_schedule.s");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    assert_eq!(
        change["change"]["after"]["scale_up_time"],
        json!(rfc3339(start2 - mins(30)))
    );
    assert_eq!(change["change"]["after"]["return_min_size"], json!(1));
    assert_eq!(
        change["change"]["after"]["return_max_size"],
        json!(3),
        "the group's"
    );
    ws.apply();
    let up = env
        .action(&group.name, &format!("bbb-{name}-up"))
        .expect("up action");
    assert_eq!(
        (up.start_time, up.desired_capacity),
        (Some(start2 - mins(30)), Some(2))
    );
    let down = env
        .action(&group.name, &format!("bbb-{name}-down"))
        .expect("down action");
    assert_eq!(
        (down.start_time, down.min_size, down.max_size),
        (Some(end2), Some(1), Some(3))
    );
    ws.assert_no_changes();

    // Drift: the up action deleted outside Terraform is put back by the next apply.
    env.delete_action(&group.name, &format!("bbb-{name}-up"));
    let change = ws.planned_change("bbb_schedule.s");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    ws.apply();
    assert!(
        env.action(&group.name, &format!("bbb-{name}-up")).is_some(),
        "re-created"
    );
    // Drift: changed outside Terraform, shown and repaired.
    env.rt
        .block_on(
            env.clients
                .put_scheduled_action(&bbb_core::aws::ScheduledActionSpec {
                    asg_name: group.name.clone(),
                    name: format!("bbb-{name}-up"),
                    recurrence: None,
                    start_time: Some(start2 - mins(30)),
                    end_time: None,
                    time_zone: None,
                    min_size: Some(1),
                    max_size: None,
                    desired_capacity: Some(1),
                }),
        )
        .expect("put");
    let change = ws.planned_change("bbb_schedule.s");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    assert_eq!(change["change"]["before"]["desired_capacity"], json!(1));
    assert_eq!(change["change"]["after"]["desired_capacity"], json!(2));
    ws.apply();
    assert_eq!(
        env.action(&group.name, &format!("bbb-{name}-up"))
            .and_then(|a| a.desired_capacity),
        Some(2)
    );
    // Both gone: forgotten, then created again.
    env.delete_action(&group.name, &format!("bbb-{name}-up"));
    env.delete_action(&group.name, &format!("bbb-{name}-down"));
    assert_eq!(
        ws.planned_change("bbb_schedule.s")["change"]["actions"],
        json!(["create"])
    );

    // A new name replaces the schedule.
    let name2 = testing::unique("exam");
    env.write(
        &ws,
        &one_off(
            "s",
            &group.name,
            &name2,
            start2,
            end2,
            "  capacity  = 2\n  lead_time = \"30m\"",
        ),
    );
    ws.apply();
    assert!(env
        .action(&group.name, &format!("bbb-{name2}-up"))
        .is_some());

    ws.destroy();
    assert!(
        env.actions(&group.name).is_empty(),
        "actions removed: {:?}",
        env.actions(&group.name)
    );
}

#[test]
fn recurring_created_moved_destroyed_with_participants() {
    let env = Env::new(PROVIDER);
    let group = env.group(1); // max 3
    let name = testing::unique("lectures");
    let ws = env.workspace();
    let config = |rec: &str| {
        format!(
            r#"
resource "bbb_schedule" "r" {{
  fleet                   = "{}"
  name                    = "{name}"
  recurrence              = "{rec}"
  time_zone               = "Europe/Berlin"
  duration                = "10h"
  expected_participants   = 1100
  participants_per_server = 150
  lead_time               = "20m"
  raise_max_size          = true
}}
"#,
            group.name
        )
    };
    env.write(&ws, &config("0 8 * * MON-FRI"));
    let change = ws.planned_change("bbb_schedule.r");
    let after = &change["change"]["after"];
    assert_eq!(after["desired_capacity"], json!(8), "ceil(1100 / 150)");
    assert_eq!(after["scale_up_recurrence"], json!("40 7 * * MON-FRI"));
    assert_eq!(after["scale_down_recurrence"], json!("0 18 * * MON-FRI"));
    assert_eq!(
        after["autoscaling_group_name"],
        json!(group.name),
        "from fleet"
    );
    assert_eq!(after["scale_up_time"], json!(null));
    ws.apply();
    let up = env
        .action(&group.name, &format!("bbb-{name}-up"))
        .expect("up action");
    assert_eq!(up.recurrence.as_deref(), Some("40 7 * * MON-FRI"));
    assert_eq!(up.time_zone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(
        (up.min_size, up.desired_capacity, up.max_size),
        (Some(8), Some(8), Some(8)),
        "max raised"
    );
    let down = env
        .action(&group.name, &format!("bbb-{name}-down"))
        .expect("down action");
    assert_eq!(down.recurrence.as_deref(), Some("0 18 * * MON-FRI"));
    assert_eq!(
        (down.min_size, down.max_size, down.desired_capacity),
        (Some(0), Some(3), None)
    );
    ws.assert_no_changes();

    // Moved to 00:05: the scale-up falls on the day before.
    env.write(&ws, &config("5 0 * * MON-FRI"));
    let change = ws.planned_change("bbb_schedule.r");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    ws.apply();
    let up = env
        .action(&group.name, &format!("bbb-{name}-up"))
        .expect("up action");
    assert_eq!(up.recurrence.as_deref(), Some("45 23 * * 0-4"));
    let down = env
        .action(&group.name, &format!("bbb-{name}-down"))
        .expect("down action");
    assert_eq!(down.recurrence.as_deref(), Some("5 10 * * MON-FRI"));
    ws.assert_no_changes();

    ws.destroy();
    assert!(env.actions(&group.name).is_empty());
}

#[test]
fn import_by_group_and_name() {
    let env = Env::new(PROVIDER);
    let group = env.group(1);
    let name = testing::unique("webinar");
    let start = future(3);
    let end = start + hours(2);
    let body = one_off("s", &group.name, &name, start, end, "  capacity = 2");
    let first = env.workspace();
    env.write(&first, &body);
    first.apply();

    let second = env.workspace();
    env.write(&second, &body);
    let run = second.fails(&[
        "import",
        "-no-color",
        "bbb_schedule.s",
        &format!("{}/nope", group.name),
    ]);
    assert!(
        run.flat().contains("Cannot import non-existent schedule"),
        "{}",
        run.text()
    );
    second.ok(&[
        "import",
        "-no-color",
        "bbb_schedule.s",
        &format!("{}/{name}", group.name),
    ]);
    let values = second.resource_values("bbb_schedule.s");
    assert_eq!(values["start_time"], json!(rfc3339(start)));
    assert_eq!(values["end_time"], json!(rfc3339(end)));
    assert_eq!(values["capacity"], json!(2));
    second.assert_no_changes();
    first.destroy();
}

#[test]
fn bad_inputs_are_named_at_plan() {
    let env = Env::new(PROVIDER);
    let group = env.group(1); // max 3
    let g = &group.name;
    let ws = env.workspace();
    let start = future(2);
    // Checked on the configuration alone.
    env.write(
        &ws,
        &format!(
            r#"
resource "bbb_schedule" "both_styles" {{
  autoscaling_group_name = "{g}"
  name       = "a"
  start_time = "{s}"
  end_time   = "{e}"
  recurrence = "0 8 * * *"
  duration   = "1h"
  capacity   = 1
}}
resource "bbb_schedule" "no_style" {{
  autoscaling_group_name = "{g}"
  name     = "b"
  capacity = 1
}}
resource "bbb_schedule" "both_capacities" {{
  autoscaling_group_name = "{g}"
  name                    = "c"
  start_time              = "{s}"
  end_time                = "{e}"
  capacity                = 1
  expected_participants   = 100
  participants_per_server = 50
}}
resource "bbb_schedule" "no_capacity" {{
  autoscaling_group_name = "{g}"
  name       = "d"
  start_time = "{s}"
  end_time   = "{e}"
}}
resource "bbb_schedule" "bad_values" {{
  autoscaling_group_name = "{g}"
  name       = "e"
  recurrence = "0 8 * *"
  time_zone  = "Mars/Olympus"
  duration   = "soon"
  lead_time  = "-5"
  capacity   = 1.5
}}
resource "bbb_schedule" "both_groups" {{
  autoscaling_group_name = "{g}"
  fleet      = "{g}"
  name       = "m"
  start_time = "{s}"
  end_time   = "{e}"
  capacity   = 1
}}
resource "bbb_schedule" "bad_time" {{
  fleet      = "{g}"
  name       = "f"
  start_time = "tomorrow"
  end_time   = "{e}"
  capacity   = 1
}}
"#,
            s = rfc3339(start),
            e = rfc3339(start + hours(1))
        ),
    );
    let run = ws.fails(&["plan", "-no-color"]);
    let out = run.flat();
    for expected in [
        "Conflicting schedule styles",
        "Missing schedule",
        "Conflicting capacity",
        "Missing capacity",
        "recurrence must be a 5-field cron expression",
        "time_zone must be an IANA time zone name",
        "duration must be a duration",
        "lead_time must be a duration",
        "capacity must be a whole number",
        "start_time must be an RFC 3339 date-time",
        "Set either autoscaling_group_name or fleet (its alias), not both.",
    ] {
        assert!(
            out.contains(expected),
            "missing {expected:?} in:\n{}",
            run.text()
        );
    }
    for (res, attr) in [
        ("both_styles", "recurrence"),
        ("both_capacities", "expected_participants"),
        ("bad_values", "recurrence"),
        ("bad_values", "time_zone"),
        ("bad_values", "duration"),
        ("bad_values", "lead_time"),
        ("bad_values", "capacity"),
        ("bad_time", "start_time"),
        ("both_groups", "fleet"),
    ] {
        assert!(
            names(&out, res, attr),
            "{res}.{attr} not named:\n{}",
            run.text()
        );
    }

    // Checked when planning (times, the group's max size, shiftable recurrence).
    let ws = env.workspace();
    let crons = format!(
        r#"
resource "bbb_schedule" "cron_shape" {{
  autoscaling_group_name = "{g}"
  name       = "k"
  recurrence = "*/15 8 * * *"
  duration   = "1h"
  capacity   = 1
}}
resource "bbb_schedule" "cron_dom" {{
  autoscaling_group_name = "{g}"
  name       = "l"
  recurrence = "0 0 1 * *"
  duration   = "1h"
  capacity   = 1
}}
"#
    );
    env.write(
        &ws,
        &[
            one_off(
                "end_first",
                g,
                "g",
                start,
                start - hours(1),
                "  capacity = 1",
            ),
            one_off(
                "past",
                g,
                "h",
                SystemTime::now() - hours(1),
                SystemTime::now() + hours(1),
                "  capacity = 1",
            ),
            one_off(
                "lead_past",
                g,
                "i",
                SystemTime::now() + mins(5),
                SystemTime::now() + hours(1),
                "  capacity  = 1\n  lead_time = \"10m\"",
            ),
            one_off(
                "too_big",
                g,
                "j",
                start,
                start + hours(1),
                "  expected_participants = 1000\n  participants_per_server = 100",
            ),
            crons,
        ]
        .concat(),
    );
    let run = ws.fails(&["plan", "-no-color"]);
    let out = run.flat();
    for expected in [
        "end_time before start_time",
        "start_time in the past",
        "Scale-up time in the past",
        "Capacity above the group's max size in expected_participants",
        "asks for 10 instances",
        "recurrence \"*/15 8 * * *\" cannot be shifted",
        "recurrence \"0 0 1 * *\" cannot be shifted",
    ] {
        assert!(
            out.contains(expected),
            "missing {expected:?} in:\n{}",
            run.text()
        );
    }
    for (res, attr) in [
        ("end_first", "end_time"),
        ("past", "start_time"),
        ("lead_past", "lead_time"),
        ("too_big", "expected_participants"),
        ("cron_shape", "recurrence"),
        ("cron_dom", "recurrence"),
    ] {
        assert!(
            names(&out, res, attr),
            "{res}.{attr} not named:\n{}",
            run.text()
        );
    }
}

#[test]
fn overlapping_schedules_warn() {
    let env = Env::new(PROVIDER);
    let group = env.group(1);
    let (a, b, c) = (
        testing::unique("ov"),
        testing::unique("ov"),
        testing::unique("ov"),
    );
    let start = future(4);
    let ws = env.workspace();
    let first = one_off(
        "a",
        &group.name,
        &a,
        start,
        start + hours(3),
        "  capacity = 2",
    );
    env.write(&ws, &first);
    ws.apply();
    // b overlaps a; c is a day later.
    env.write(
        &ws,
        &format!(
            "{first}{}{}",
            one_off(
                "b",
                &group.name,
                &b,
                start + hours(2),
                start + hours(5),
                "  capacity = 3"
            ),
            one_off(
                "c",
                &group.name,
                &c,
                start + hours(24),
                start + hours(25),
                "  capacity = 3"
            )
        ),
    );
    let run = ws.ok(&["plan", "-no-color"]);
    let out = run.flat();
    assert!(out.contains("Overlapping schedules"), "{}", run.text());
    assert!(
        out.contains(&format!("Schedule \"{b}\"")) && out.contains(&format!("schedule \"{a}\"")),
        "{}",
        run.text()
    );
    assert!(
        !out.contains(&format!("Schedule \"{c}\"")),
        "c does not overlap:\n{}",
        run.text()
    );
    ws.destroy();
}
