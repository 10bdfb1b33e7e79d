//! Scalelite's poller saves each server from the view it read at the start of its poll
//! (`lib/tasks/poll.rake`, `poll:servers`): a cordon a hook makes in between leaves the server in
//! `server_load`, so `create` keeps routing to it although its state says cordoned. The hooks
//! take it out again (`disable`, then `cordon`) once a meeting created past the cordon shows it
//! (`hook/src/commands/cordon_leak.rs`).

use bbb_fleet_sim::policy::{Config, Kind, Scheduled};
use bbb_fleet_sim::trace::MeetingSpec;

/// Two servers held by a schedule until 3650 s. The poller polls at 0 s and every 61 s after, so
/// its 61st poll (3660 s) falls on the hooks' consolidation pass: the pass reads the fleet
/// after the poll's read and cordons the surplus server (a lecture of 100 on one server, a
/// meeting of 5 and one created at 3630 s on the other), and the poll's save, a second later,
/// writes the second server's changed load back into `server_load`. Two rooms come later, at
/// 3760 s and 3900 s.
fn cordon_during_a_poll() -> (Config, Vec<MeetingSpec>) {
    let mut c = Config::for_capacity(200);
    c.initial = 2;
    c.min_size = 1;
    c.poll_phase_s = 0;
    c.schedules.push(Scheduled {
        up_s: 0,
        down_s: 3650,
        capacity: 2,
    });
    let specs = vec![
        MeetingSpec::new(5, 6 * 3600, 100, "lecture"),
        MeetingSpec::new(10, 3 * 3600, 5, "seminar"),
        MeetingSpec::new(3630, 3600, 4, "tutorial"),
        MeetingSpec::new(3760, 3600, 3, "room-1"),
        MeetingSpec::new(3900, 3600, 3, "room-2"),
    ];
    (c, specs)
}

#[test]
fn a_cordon_the_poller_undid_routes_until_the_hook_repairs_it() {
    let (c, specs) = cordon_during_a_poll();
    let r = bbb_fleet_sim::run(Kind::Consolidating, &c, &specs);
    let [undone, routed, repaired] = r.write_backs;
    assert!(undone >= 1, "{:?}", r.write_backs);
    assert_eq!(
        (routed, repaired),
        (1, 1),
        "the first room goes to the cordoned server, the hook repairs it, the second room goes elsewhere"
    );
    assert_eq!(r.meetings_dropped, 0);
}

#[test]
fn without_the_repair_the_cordoned_server_keeps_taking_meetings() {
    let (mut c, specs) = cordon_during_a_poll();
    c.cordon_repair = false;
    let r = bbb_fleet_sim::run(Kind::Consolidating, &c, &specs);
    assert_eq!(r.write_backs[1..], [2, 0], "{:?}", r.write_backs);
}

#[test]
fn a_poll_read_and_saved_at_once_leaves_the_cordon_alone() {
    let (mut c, specs) = cordon_during_a_poll();
    c.poll_write_back = false;
    let r = bbb_fleet_sim::run(Kind::Consolidating, &c, &specs);
    assert!(
        r.decisions[0] >= 1,
        "the surplus server is cordoned: {:?}",
        r.decisions
    );
    assert_eq!(r.write_backs, [0, 0, 0]);
    let on = bbb_fleet_sim::run(Kind::Consolidating, &cordon_during_a_poll().0, &specs);
    assert_eq!(
        r.decisions[0], on.decisions[0],
        "the same cordons, only the poller's timing differs"
    );
}
