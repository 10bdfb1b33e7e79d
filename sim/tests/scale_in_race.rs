//! A scale-in never takes a server Scalelite can still route a `create` to.
//!
//! Scalelite sends each `create` to the least-loaded enabled server, and an idle server (load 0)
//! is exactly that one; EC2 Auto Scaling's scale-in terminates an unprotected instance. When the
//! hooks lift protection from every idle server, a `create` that lands on one in the seconds
//! before the group scales in puts its meeting on a terminating instance: the drain waits for it
//! up to its `max_wait`, then the instance goes and a longer meeting with it.

use bbb_fleet_sim::policy::{Config, Kind, Scheduled};
use bbb_fleet_sim::trace::MeetingSpec;

/// Two servers held by a schedule until 00:30; a 6-hour meeting from the first minute, and a
/// 5-hour room (longer than the drain's 4-hour `max_wait`) created 5 s before the group scales
/// in, so Scalelite puts it on the idle server.
fn scale_in_after_a_late_create() -> (Config, Vec<MeetingSpec>) {
    let mut c = Config::for_capacity(200);
    c.initial = 2;
    c.min_size = 1;
    c.schedules.push(Scheduled {
        up_s: 0,
        down_s: 1800,
        capacity: 2,
    });
    let specs = vec![
        MeetingSpec::new(60, 6 * 3600, 100, "lecture"),
        MeetingSpec::new(1795, 5 * 3600, 3, "open-room"),
    ];
    (c, specs)
}

#[test]
fn the_consolidating_fleet_keeps_a_meeting_created_just_before_a_scale_in() {
    let (c, specs) = scale_in_after_a_late_create();
    assert!(
        c.drain_max_wait_s < specs[1].duration_s,
        "the room outlasts the drain"
    );
    for kind in [Kind::Consolidating, Kind::ConsolidatingOnly] {
        let r = bbb_fleet_sim::run(kind, &c, &specs);
        assert_eq!(r.meetings_dropped, 0, "{}", kind.label());
        assert_eq!(r.creates_refused, 0, "{}", kind.label());
    }
}

#[test]
fn without_consolidation_an_idle_server_is_unprotected_and_the_race_drops_the_room() {
    // (b), the benchmark's baseline, protects only busy servers (no consolidation would ever
    // let an idle enabled server go), so the same scale-in takes the room's server.
    let (c, specs) = scale_in_after_a_late_create();
    let r = bbb_fleet_sim::run(Kind::Target, &c, &specs);
    assert_eq!(r.meetings_dropped, 1);
}

/// A new server in its first seconds in service: a schedule adds a second server (launched at
/// 70 s, in service at 250 s), Scalelite's poller reads it at 255 s (its phase is its own, not
/// the hooks'), a 5-hour room is created at 256 s and goes to it (load 0 against the lecture's
/// server), and the schedule scales in at 260 s, before the new server's hook has run its
/// first protect pass (270 s).
fn scale_in_before_the_first_protect_pass() -> (Config, Vec<MeetingSpec>) {
    let mut c = Config::for_capacity(200);
    c.initial = 1;
    c.min_size = 1;
    c.poll_phase_s = 15;
    c.poll_duration_s = 0;
    c.schedules.push(Scheduled {
        up_s: 70,
        down_s: 260,
        capacity: 2,
    });
    let specs = vec![
        MeetingSpec::new(5, 6 * 3600, 100, "lecture"),
        MeetingSpec::new(256, 5 * 3600, 3, "open-room"),
    ];
    (c, specs)
}

#[test]
fn a_new_server_is_protected_from_the_moment_it_is_in_service() {
    let (mut c, specs) = scale_in_before_the_first_protect_pass();
    assert!(c.protect_new_instances, "the module's default");
    for kind in [Kind::Consolidating, Kind::ConsolidatingOnly] {
        let r = bbb_fleet_sim::run(kind, &c, &specs);
        assert_eq!(r.meetings_dropped, 0, "{}", kind.label());
        assert_eq!(r.caught_by_scale_in, 0, "{}", kind.label());
    }
    // Protected only by its hook's first protect pass (the group without
    // `protect_from_scale_in`), the new server is the one unprotected instance when the group
    // scales in, and the room goes with it.
    c.protect_new_instances = false;
    let r = bbb_fleet_sim::run(Kind::Consolidating, &c, &specs);
    assert_eq!(r.caught_by_scale_in, 1);
    assert_eq!(r.meetings_dropped, 1);
}
