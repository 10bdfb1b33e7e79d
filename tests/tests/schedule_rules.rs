//! `bbb_schedule` and the group it schedules, under the real Terraform CLI against moto's Auto
//! Scaling behind a front that records every call: the sizes an event returns to (review D4),
//! plan-time checks on a plan that changes nothing (D7), a changed recurrence (G2), names taken
//! already (G12) and the calls a plan of many schedules costs (G14).

use bbb_acceptance_tests::schedule_env::{future, one_off, ScheduleEnv};
use bbb_core::testing;
use serde_json::json;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

fn hours(h: u64) -> std::time::Duration {
    std::time::Duration::from_secs(h * 3600)
}

fn recurring(asg: &str, name: &str, recurrence: &str, extra: &str) -> String {
    format!(
        r#"
resource "bbb_schedule" "r" {{
  autoscaling_group_name = "{asg}"
  name                   = "{name}"
  recurrence             = "{recurrence}"
  duration               = "2h"
  capacity               = 3
{extra}
}}
"#
    )
}

/// The scale-down sets the bounds only, read from the group while no event runs, never
/// frozen at creation; an event that has raised the group is not read as its bounds.
#[test]
fn return_sizes_follow_the_group_at_rest() {
    let env = ScheduleEnv::new(PROVIDER);
    let group = env.group(1); // min 0, desired 1, max 3
    let g = &group.name;
    let name = testing::unique("lect");
    let ws = env.workspace();
    env.write(&ws, &recurring(g, &name, "0 8 * * MON-FRI", ""));
    let after = &ws.planned_change("bbb_schedule.r")["change"]["after"];
    assert_eq!(
        (
            &after["return_min_size"],
            &after["return_max_size"],
            &after["return_desired_capacity"]
        ),
        (&json!(0), &json!(3), &json!(null)),
        "the desired capacity is left to the scaling policies"
    );
    ws.apply();
    let down = env.action(g, &format!("bbb-{name}-down")).expect("down");
    assert_eq!(
        (down.min_size, down.max_size, down.desired_capacity),
        (Some(0), Some(3), None)
    );
    ws.assert_no_changes();

    // An event is running: the group is raised to the capacity. Nothing changes.
    env.set_sizes(g, 3, 3, 3);
    ws.assert_no_changes();

    // At rest again, with new bounds set on the group: the scale-down follows them.
    env.set_sizes(g, 1, 4, 1);
    let change = ws.planned_change("bbb_schedule.r");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    assert_eq!(change["change"]["after"]["return_min_size"], json!(1));
    assert_eq!(change["change"]["after"]["return_max_size"], json!(4));
    ws.apply();
    let down = env.action(g, &format!("bbb-{name}-down")).expect("down");
    assert_eq!((down.min_size, down.max_size), (Some(1), Some(4)));
    ws.assert_no_changes();
    ws.destroy();
}

/// A changed recurrence deletes the action and puts it again, never an in-place put that
/// could keep AWS's old next start (aws #41200).
#[test]
fn a_changed_recurrence_deletes_then_puts() {
    let env = ScheduleEnv::new(PROVIDER);
    let group = env.group(1);
    let g = &group.name;
    let name = testing::unique("lect");
    let ws = env.workspace();
    env.write(&ws, &recurring(g, &name, "0 8 * * MON-FRI", ""));
    ws.apply();
    env.write(&ws, &recurring(g, &name, "30 9 * * MON-FRI", ""));
    env.reset_calls();
    ws.apply();
    let writes: Vec<(String, String)> = env
        .calls()
        .into_iter()
        .filter(|c| {
            c.action == "DeleteScheduledAction" || c.action == "PutScheduledUpdateGroupAction"
        })
        .filter_map(|c| Some((c.action, c.scheduled_action?)))
        .collect();
    let up = format!("bbb-{name}-up");
    let down = format!("bbb-{name}-down");
    let expected = [
        ("DeleteScheduledAction", &down),
        ("PutScheduledUpdateGroupAction", &down),
        ("DeleteScheduledAction", &up),
        ("PutScheduledUpdateGroupAction", &up),
    ]
    .map(|(a, n)| (a.to_string(), n.clone()));
    assert_eq!(writes, expected);
    let action = env.action(g, &up).expect("up");
    assert_eq!(action.recurrence.as_deref(), Some("20 9 * * MON-FRI"));
    ws.assert_no_changes();
    ws.destroy();
}

/// A new schedule whose action names exist already on the group is refused with an import
/// hint, and the actions stay as they were.
#[test]
fn a_create_over_existing_actions_is_refused() {
    let env = ScheduleEnv::new(PROVIDER);
    let group = env.group(1);
    let g = &group.name;
    let name = testing::unique("exam");
    let start = future(2);
    let body = one_off("s", g, &name, start, start + hours(2), "  capacity = 2");
    let first = env.workspace();
    env.write(&first, &body);
    first.apply();

    let second = env.workspace();
    env.write(
        &second,
        &one_off(
            "s",
            g,
            &name,
            start + hours(24),
            start + hours(25),
            "  capacity = 3",
        ),
    );
    let run = second.fails(&["apply", "-auto-approve", "-no-color"]);
    let text = run.flat();
    assert!(
        text.contains("Scheduled actions already exist"),
        "{}",
        run.text()
    );
    assert!(
        text.contains(&format!("terraform import <address> {g}/{name}")),
        "{}",
        run.text()
    );
    let up = env.action(g, &format!("bbb-{name}-up")).expect("up kept");
    assert_eq!(up.desired_capacity, Some(2), "not overwritten");
    first.destroy();
}

/// A plan that changes nothing does not fail on the group's state today: a max size lowered
/// below the capacity after the apply is no plan error (the check runs when the schedule is
/// created or changed).
#[test]
fn a_no_op_plan_has_no_remote_error() {
    let env = ScheduleEnv::new(PROVIDER);
    let group = env.group(1); // max 3
    let g = &group.name;
    let name = testing::unique("exam");
    let start = future(2);
    let ws = env.workspace();
    let sized = "  capacity = 3\n  return_to {\n    min_size = 0\n    max_size = 3\n  }";
    env.write(&ws, &one_off("s", g, &name, start, start + hours(2), sized));
    ws.apply();
    env.set_sizes(g, 0, 2, 1);
    let run = ws.terraform(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(!run.flat().contains("Error"), "{}", run.text());
    ws.destroy();
}

/// N schedules of one group: a plan (refresh included) costs one DescribeAutoScalingGroups
/// and one DescribeScheduledActions, not a few per schedule.
#[test]
fn many_schedules_of_one_group_share_their_describes() {
    const N: u64 = 6;
    let env = ScheduleEnv::new(PROVIDER);
    let group = env.group(1);
    let g = &group.name;
    let start = future(3);
    let body: String = (0..N)
        .map(|i| {
            one_off(
                &format!("s{i}"),
                g,
                &testing::unique("ev"),
                start + hours(24 * i),
                start + hours(24 * i + 2),
                "  capacity = 2",
            )
        })
        .collect();
    let ws = env.workspace();
    env.write(&ws, &body);
    ws.apply();
    env.reset_calls();
    ws.assert_no_changes();
    let calls = env.calls();
    let count = |action: &str| calls.iter().filter(|c| c.action == action).count();
    let (groups, actions) = (
        count("DescribeAutoScalingGroups"),
        count("DescribeScheduledActions"),
    );
    eprintln!("plan of {N} schedules: {groups} DescribeAutoScalingGroups, {actions} DescribeScheduledActions");
    assert!(groups <= 1, "{groups} DescribeAutoScalingGroups");
    assert_eq!(actions, 1, "DescribeScheduledActions");
    ws.destroy();
}
