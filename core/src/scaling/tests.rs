use super::*;

pub(super) fn server(id: &str, pool: PoolState, participants: u32, meetings: u32) -> ServerView {
    let mut s = ServerView::new(id, Phase::InService, pool, 1_000);
    s.participants = participants;
    s.meetings = meetings;
    s.protected = meetings > 0;
    s
}

pub(super) fn view(desired: u32, servers: Vec<ServerView>) -> FleetView {
    FleetView {
        desired_capacity: desired,
        servers,
    }
}

pub(super) fn no_steering() -> Policy {
    let mut p = Policy::for_capacity(200);
    p.steer_cordon_at = None;
    p
}

/// The view once the plan's cordons and enables are applied (the next pass's pool).
pub(super) fn applied(v: &FleetView, plan: &Plan) -> FleetView {
    let mut next = v.clone();
    for s in &mut next.servers {
        for d in plan.for_instance(&s.instance_id) {
            match d.action {
                Action::Cordon => s.pool = PoolState::Cordoned,
                Action::Enable => s.pool = PoolState::Enabled,
                _ => {}
            }
        }
    }
    next
}

pub(super) fn actions(plan: &Plan, id: &str) -> Vec<(Action, Reason)> {
    plan.for_instance(id)
        .map(|d| (d.action, d.reason))
        .collect()
}

#[test]
fn no_surplus_keeps_every_server_serving() {
    let v = view(
        3,
        vec![
            server("i-a", PoolState::Enabled, 50, 2),
            server("i-b", PoolState::Enabled, 10, 1),
            server("i-c", PoolState::Enabled, 0, 0),
        ],
    );
    let plan = decide(&v, &no_steering());
    assert_eq!(plan.summary.surplus, 0);
    assert_eq!(plan.changes().count(), 0);
    assert!(plan.decisions.iter().all(|d| d.reason == Reason::Serving));
}

#[test]
fn surplus_cordons_the_least_loaded_servers_in_rank_order() {
    let v = view(
        2,
        vec![
            server("i-a", PoolState::Enabled, 120, 4),
            server("i-b", PoolState::Enabled, 7, 1),
            server("i-c", PoolState::Enabled, 60, 2),
            server("i-d", PoolState::Enabled, 3, 1),
        ],
    );
    let plan = decide(&v, &no_steering());
    assert_eq!(plan.summary.surplus, 2);
    assert_eq!(
        actions(&plan, "i-d"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
    assert_eq!(
        actions(&plan, "i-b"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
    assert_eq!(actions(&plan, "i-a"), vec![(Action::Keep, Reason::Serving)]);
    assert_eq!(actions(&plan, "i-c"), vec![(Action::Keep, Reason::Serving)]);
    let rank = |id| plan.for_instance(id).next().and_then(|d| d.surplus_rank);
    assert_eq!(rank("i-d"), Some(0));
    assert_eq!(rank("i-b"), Some(1));
    assert_eq!(rank("i-a"), None);
    assert_eq!(plan.summary.enabled_after, 2);
}

#[test]
fn an_idle_surplus_server_is_cordoned_then_unprotected() {
    let mut idle = server("i-idle", PoolState::Enabled, 0, 0);
    idle.protected = true;
    let v = view(1, vec![server("i-busy", PoolState::Enabled, 80, 3), idle]);
    let plan = decide(&v, &no_steering());
    assert_eq!(
        actions(&plan, "i-idle"),
        vec![
            (Action::Cordon, Reason::Surplus),
            (Action::Unprotect, Reason::SurplusIdle)
        ]
    );
}

#[test]
fn a_cordoned_surplus_server_keeps_its_meetings_until_empty() {
    let v = view(
        1,
        vec![
            server("i-a", PoolState::Enabled, 80, 3),
            server("i-b", PoolState::Cordoned, 12, 1),
        ],
    );
    let plan = decide(&v, &no_steering());
    assert_eq!(
        actions(&plan, "i-b"),
        vec![(Action::Keep, Reason::SurplusDraining)]
    );
    assert_eq!(plan.changes().count(), 0);
}

#[test]
fn pending_recordings_keep_protection() {
    let mut s = server("i-rec", PoolState::Cordoned, 0, 0);
    s.protected = true;
    s.recordings_pending = 1;
    let v = view(1, vec![server("i-a", PoolState::Enabled, 80, 3), s]);
    let plan = decide(&v, &no_steering());
    assert_eq!(
        actions(&plan, "i-rec"),
        vec![(Action::Keep, Reason::SurplusDraining)]
    );
}

#[test]
fn an_idle_unprotected_surplus_server_waits_for_the_group() {
    let v = view(
        1,
        vec![
            server("i-a", PoolState::Enabled, 80, 3),
            server("i-b", PoolState::Disabled, 0, 0),
        ],
    );
    let plan = decide(&v, &no_steering());
    assert_eq!(
        actions(&plan, "i-b"),
        vec![(Action::Keep, Reason::SurplusAwaitingTermination)]
    );
}

#[test]
fn demand_returning_re_enables_cordoned_servers_keeping_the_emptiest_draining() {
    // Two cordoned for surplus; desired rises by one: one stays surplus, the fuller one returns.
    let v = view(
        3,
        vec![
            server("i-a", PoolState::Enabled, 100, 3),
            server("i-b", PoolState::Enabled, 90, 3),
            server("i-c", PoolState::Cordoned, 40, 1),
            server("i-d", PoolState::Cordoned, 5, 1),
        ],
    );
    let plan = decide(&v, &no_steering());
    assert_eq!(plan.summary.surplus, 1);
    assert_eq!(
        actions(&plan, "i-d"),
        vec![(Action::Keep, Reason::SurplusDraining)]
    );
    assert_eq!(
        actions(&plan, "i-c"),
        vec![(Action::Enable, Reason::DemandReturned)]
    );
    // Desired at the count: nothing launches until both are enabled again.
    let v = view(4, v.servers);
    let plan = decide(&v, &no_steering());
    assert_eq!(plan.summary.surplus, 0);
    assert_eq!(
        actions(&plan, "i-d"),
        vec![(Action::Enable, Reason::DemandReturned)]
    );
    assert_eq!(plan.summary.enabled_after, 4);
}

#[test]
fn a_disabled_server_that_is_not_surplus_is_enabled() {
    // Scalelite's poller disables a cordoned server whose load reads zero.
    let v = view(
        2,
        vec![
            server("i-a", PoolState::Enabled, 100, 3),
            server("i-b", PoolState::Disabled, 0, 0),
        ],
    );
    let plan = decide(&v, &no_steering());
    assert_eq!(
        actions(&plan, "i-b"),
        vec![(Action::Enable, Reason::DemandReturned)]
    );
}

#[test]
fn hysteresis_keeps_a_cordoned_server_unless_an_enabled_one_is_much_emptier() {
    let policy = no_steering(); // hysteresis 20
    let v = view(
        1,
        vec![
            server("i-cordoned", PoolState::Cordoned, 25, 1),
            server("i-enabled", PoolState::Enabled, 10, 1),
        ],
    );
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-cordoned"),
        vec![(Action::Keep, Reason::SurplusDraining)]
    );
    assert_eq!(
        actions(&plan, "i-enabled"),
        vec![(Action::Keep, Reason::Serving)]
    );

    let v = view(
        1,
        vec![
            server("i-cordoned", PoolState::Cordoned, 45, 2),
            server("i-enabled", PoolState::Enabled, 10, 1),
        ],
    );
    let plan = decide(&v, &policy);
    assert_eq!(
        actions(&plan, "i-cordoned"),
        vec![(Action::Enable, Reason::DemandReturned)]
    );
    // The swap takes two passes: the enabled one stays until the other takes `create`s.
    assert_eq!(
        actions(&plan, "i-enabled"),
        vec![(Action::Keep, Reason::LastEnabled)]
    );
    let plan = decide(&applied(&v, &plan), &policy);
    assert_eq!(
        actions(&plan, "i-enabled"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
}

#[test]
fn an_empty_server_leaves_before_a_cordoned_one_with_meetings() {
    let v = view(
        1,
        vec![
            server("i-cordoned", PoolState::Cordoned, 15, 1),
            server("i-empty", PoolState::Enabled, 0, 0),
        ],
    );
    let plan = decide(&v, &no_steering());
    assert_eq!(
        actions(&plan, "i-cordoned"),
        vec![(Action::Enable, Reason::DemandReturned)]
    );
    // i-empty is the surplus, but the last server taking `create`s until i-cordoned does.
    assert_eq!(
        actions(&plan, "i-empty"),
        vec![(Action::Keep, Reason::LastEnabled)]
    );
    let plan = decide(&applied(&v, &plan), &no_steering());
    assert_eq!(
        actions(&plan, "i-empty"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
    assert_eq!(
        actions(&plan, "i-cordoned"),
        vec![(Action::Keep, Reason::Serving)]
    );
}

#[test]
fn launching_servers_count_but_are_never_touched_and_leaving_ones_do_not_count() {
    let mut launching = server("i-new", PoolState::Disabled, 0, 0);
    launching.phase = Phase::Launching;
    // Flagged at launch by the group's setting, yet the group can still take it (protection
    // starts in service): it counts against the surplus, which is 2 here.
    launching.protected = true;
    let mut leaving = server("i-old", PoolState::Cordoned, 0, 0);
    leaving.phase = Phase::Leaving;
    let v = view(
        1,
        vec![
            server("i-a", PoolState::Enabled, 100, 3),
            server("i-b", PoolState::Enabled, 20, 1),
            launching,
            leaving,
        ],
    );
    let plan = decide(&v, &no_steering());
    assert_eq!(plan.summary.counted, 3);
    assert_eq!(plan.summary.surplus, 2);
    assert_eq!(
        actions(&plan, "i-new"),
        vec![(Action::Keep, Reason::NotInService)]
    );
    assert_eq!(
        actions(&plan, "i-old"),
        vec![(Action::Keep, Reason::NotInService)]
    );
    assert_eq!(
        actions(&plan, "i-b"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
}

#[test]
fn unregistered_servers_are_left_to_the_launch_hook() {
    let v = view(0, vec![server("i-x", PoolState::Unregistered, 0, 0)]);
    let plan = decide(&v, &no_steering());
    assert_eq!(
        actions(&plan, "i-x"),
        vec![(Action::Keep, Reason::Unregistered)]
    );
}

#[test]
fn the_plan_does_not_depend_on_the_order_of_the_servers() {
    let servers = vec![
        server("i-a", PoolState::Enabled, 30, 1),
        server("i-b", PoolState::Enabled, 30, 1),
        server("i-c", PoolState::Cordoned, 30, 1),
        server("i-d", PoolState::Enabled, 0, 0),
        server("i-e", PoolState::Enabled, 170, 3),
    ];
    let policy = Policy::default();
    let mut reference: Vec<Decision> = decide(&view(3, servers.clone()), &policy).decisions;
    reference.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    let mut reversed = servers.clone();
    reversed.reverse();
    let mut rotated = servers;
    rotated.rotate_left(2);
    for order in [reversed, rotated] {
        let mut got = decide(&view(3, order), &policy).decisions;
        got.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        assert_eq!(got, reference);
    }
}

#[test]
fn equal_loads_send_the_newest_server_first() {
    let mut old = server("i-old", PoolState::Enabled, 10, 1);
    old.launched_at_s = 100;
    let mut new = server("i-new", PoolState::Enabled, 10, 1);
    new.launched_at_s = 200;
    let plan = decide(&view(1, vec![old, new]), &no_steering());
    assert_eq!(
        actions(&plan, "i-new"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
}

#[test]
fn each_decision_is_one_json_event_with_its_inputs() {
    let v = view(
        1,
        vec![
            server("i-a", PoolState::Enabled, 80, 3),
            server("i-b", PoolState::Enabled, 4, 1),
        ],
    );
    let plan = decide(&v, &no_steering());
    let events: Vec<DecisionEvent> = plan.events(&v.servers).collect();
    assert_eq!(events.len(), 2);
    let line = events[1].to_json();
    assert!(!line.contains('\n'));
    let json: serde_json::Value = serde_json::from_str(&line).expect("json");
    assert_eq!(json["event"], DECISION_EVENT);
    assert_eq!(json["instance_id"], "i-b");
    assert_eq!(json["action"], "cordon");
    assert_eq!(json["reason"], "surplus");
    assert_eq!(json["surplus_rank"], 0);
    assert_eq!(json["pool"], "enabled");
    assert_eq!(json["participants"], 4);
    assert_eq!(json["desired_capacity"], 1);
    assert_eq!(json["counted"], 2);
    assert_eq!(json["surplus"], 1);
    assert_eq!(events[1].to_string(), line);
    assert_eq!(
        Reason::SurplusAwaitingTermination.as_str(),
        "surplus_awaiting_termination"
    );
}

#[test]
fn launching_instances_are_left_to_the_group_whatever_their_protection_flag() {
    let mut launching = server("i-new", PoolState::Unregistered, 0, 0);
    launching.phase = Phase::Launching;
    for flag in [false, true] {
        // `true`: the group's `NewInstancesProtectedFromScaleIn` sets the flag at launch, but
        // protection "starts when the instance state is InService" (EC2 Auto Scaling user
        // guide): the group can still take the launching one, so no server in service is
        // cordoned for it.
        launching.protected = flag;
        let v = view(
            2,
            vec![
                server("i-a", PoolState::Enabled, 100, 3),
                server("i-b", PoolState::Enabled, 20, 1),
                launching.clone(),
            ],
        );
        let plan = decide(&v, &no_steering());
        assert_eq!(plan.summary.surplus, 1);
        assert_eq!(
            plan.changes().count(),
            0,
            "flag {flag}: the group terminates the launching one"
        );
    }
    // Had the group let it come in service instead, it is the surplus at the next pass.
    launching.phase = Phase::InService;
    launching.pool = PoolState::Enabled;
    launching.awaiting_poll = true;
    let v = view(
        2,
        vec![
            server("i-a", PoolState::Enabled, 100, 3),
            server("i-b", PoolState::Enabled, 20, 1),
            launching,
        ],
    );
    let plan = decide(&v, &no_steering());
    assert_eq!(
        actions(&plan, "i-new")[0],
        (Action::Cordon, Reason::Surplus)
    );
    assert_eq!(actions(&plan, "i-b"), vec![(Action::Keep, Reason::Serving)]);
}

#[test]
fn surplus_never_cordons_the_last_enabled_server() {
    let mut launching = server("i-new", PoolState::Unregistered, 0, 0);
    launching.phase = Phase::Launching;
    launching.protected = true;
    let mut launching2 = launching.clone();
    launching2.instance_id = "i-new2".into();
    let v = view(
        1,
        vec![
            server("i-a", PoolState::Enabled, 10, 1),
            launching,
            launching2,
        ],
    );
    let plan = decide(&v, &no_steering());
    assert_eq!(plan.summary.surplus, 2);
    assert_eq!(actions(&plan, "i-a"), vec![(Action::Keep, Reason::Serving)]);
    // Scaled to zero on purpose: everything may go.
    let v = view(0, vec![server("i-a", PoolState::Enabled, 10, 1)]);
    let plan = decide(&v, &no_steering());
    assert_eq!(
        actions(&plan, "i-a"),
        vec![(Action::Cordon, Reason::Surplus)]
    );
}
