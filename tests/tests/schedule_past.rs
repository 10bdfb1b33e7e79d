//! `bbb_schedule` after AWS has run its actions (review D2, D7), under the real Terraform CLI
//! against moto's Auto Scaling behind a front that refuses a start time in the past as AWS
//! does ("Given start time is in the past"). Events start within a minute; when their time
//! comes the test plays AWS's part: the group takes the action's sizes and the one-off action
//! is gone.

use std::time::Duration;

use bbb_acceptance_tests::rfc3339;
use bbb_acceptance_tests::schedule_env::{in_secs, one_off, wait_until, ScheduleEnv};
use bbb_core::testing;
use serde_json::json;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

#[test]
fn events_whose_scale_up_ran() {
    let env = ScheduleEnv::new(PROVIDER);
    let group = env.group(1); // min 0, desired 1, max 3
    let g = &group.name;
    let (extend, passed, down_gone) = (
        testing::unique("extend"),
        testing::unique("passed"),
        testing::unique("downgone"),
    );
    let start = in_secs(50);
    let passed_end = start + Duration::from_secs(25);
    let config = |extend_end| {
        [
            one_off(
                "extend",
                g,
                &extend,
                start,
                extend_end,
                "  capacity  = 2\n  lead_time = \"0m\"",
            ),
            one_off(
                "passed",
                g,
                &passed,
                start,
                passed_end,
                "  capacity  = 3\n  lead_time = \"0m\"",
            ),
            one_off(
                "down_gone",
                g,
                &down_gone,
                start,
                start + hours(3),
                "  capacity  = 2\n  lead_time = \"0m\"",
            ),
        ]
        .concat()
    };
    let ws = env.workspace();
    env.write(&ws, &config(start + hours(2)));
    ws.apply();

    // The scale-ups run; the short event also ends.
    wait_until(passed_end);
    let mut ran = env.run_due_actions(g);
    ran.sort();
    let mut expected = vec![
        format!("bbb-{extend}-up"),
        format!("bbb-{passed}-up"),
        format!("bbb-{down_gone}-up"),
        format!("bbb-{passed}-down"),
    ];
    expected.sort();
    assert_eq!(ran, expected);
    // Afterwards the group's max size is lowered below the finished event's capacity (D7),
    // and one running event's scale-down is deleted outside Terraform.
    env.set_sizes(g, 0, 2, 2);
    env.delete_action(g, &format!("bbb-{down_gone}-down"));

    let plan = ws.ok(&["plan", "-no-color"]);
    assert!(!plan.flat().contains("Error"), "{}", plan.text());
    assert_eq!(
        ws.planned_change("bbb_schedule.passed")["change"]["actions"],
        json!(["no-op"]),
        "a finished event plans clean, whatever the group's max size is now"
    );
    assert_eq!(
        ws.planned_change("bbb_schedule.extend")["change"]["actions"],
        json!(["no-op"])
    );
    let change = ws.planned_change("bbb_schedule.down_gone");
    assert_eq!(
        change["change"]["actions"],
        json!(["update"]),
        "the deleted scale-down is put back, not a create refused for its past start"
    );

    // The running exam runs over: its end moves; the scale-up that ran is not sent again.
    let new_end = start + hours(4);
    env.write(&ws, &config(new_end));
    env.reset_calls();
    ws.apply();
    let puts: Vec<String> = env
        .calls()
        .into_iter()
        .filter(|c| c.action == "PutScheduledUpdateGroupAction")
        .filter_map(|c| c.scheduled_action)
        .collect();
    assert!(
        !puts.iter().any(|n| n.ends_with("-up")),
        "a scale-up that ran was sent again: {puts:?}"
    );
    let down = env
        .action(g, &format!("bbb-{extend}-down"))
        .expect("extended scale-down");
    assert_eq!(down.start_time, Some(new_end));
    assert!(env.action(g, &format!("bbb-{extend}-up")).is_none());
    let down = env
        .action(g, &format!("bbb-{down_gone}-down"))
        .expect("scale-down put back");
    assert_eq!(down.start_time, Some(start + hours(3)));
    ws.assert_no_changes();

    // The finished event reads as done: its state is kept as it was.
    let values = ws.resource_values("bbb_schedule.passed");
    assert_eq!(values["scale_up_time"], json!(rfc3339(start)));
    assert_eq!(values["scale_down_time"], json!(rfc3339(passed_end)));
    assert_eq!(
        values["scale_down_action_name"],
        json!(format!("bbb-{passed}-down"))
    );

    // Ending a running event in the past is refused at plan, naming end_time.
    env.write(&ws, &config(in_secs(0) - Duration::from_secs(5)));
    let run = ws.fails(&["plan", "-no-color"]);
    assert!(
        run.flat().contains("end_time in the past"),
        "{}",
        run.text()
    );

    env.write(&ws, &config(new_end));
    ws.destroy();
    assert!(env.actions(g).is_empty(), "{:?}", env.actions(g));
}
