//! Cases taken from Scalelite's source and its own specs (spec/models/server_spec.rb,
//! lib/tasks/poll.rake, the create and join actions).

use super::*;

fn pool(loads: &[(&str, f64)]) -> Scalelite {
    let mut s = Scalelite::new();
    for (id, load) in loads {
        s.add_server(id, 1.0);
        s.set_state(id, State::Enabled);
        s.poll_server(id, 0, &[]);
        s.servers.get_mut(*id).expect("added").load = Some(*load);
    }
    s
}

fn meeting(created_s: u64, participants: u32) -> PolledMeeting {
    PolledMeeting {
        created_s,
        participants,
        moderators: u32::from(participants > 0),
        breakout: false,
    }
}

#[test]
fn create_goes_to_the_lowest_load_and_ties_to_the_smaller_id() {
    let mut s = pool(&[("b", 3.0), ("a", 3.0), ("c", 1.0)]);
    assert_eq!(s.find_available(), Some("c"));
    assert_eq!(s.create("m1").expect("placed"), "c");
    assert_eq!(s.server("c").and_then(|x| x.load), Some(2.0));
    assert_eq!(s.create("m2").expect("placed"), "c");
    // c now at 3: a three-way tie goes to "a" (ZRANGE orders equal scores by member).
    assert_eq!(s.create("m3").expect("placed"), "a");
}

#[test]
fn create_adds_one_times_the_multiplier_and_a_known_meeting_stays_put() {
    // server_spec "increment load": load 2, increment -> 2 + 1 x multiplier.
    let mut s = pool(&[("x", 2.0), ("y", 50.0)]);
    s.servers.get_mut("x").expect("x").load_multiplier = 2.5;
    assert_eq!(s.create("m").expect("placed"), "x");
    assert_eq!(s.server("x").and_then(|v| v.load), Some(4.5));
    // A second create of the same meetingID goes to its server even if it is no longer lowest.
    s.servers.get_mut("x").expect("x").load = Some(100.0);
    assert_eq!(s.create("m").expect("placed"), "x");
    assert_eq!(s.server("x").and_then(|v| v.load), Some(102.5));
}

#[test]
fn a_fresh_server_takes_every_create_until_the_increments_lift_it() {
    // Scalelite issues #538/#706/#1048: load 0 against loads of 40.
    let mut s = pool(&[("old1", 40.0), ("old2", 40.0), ("new", 0.0)]);
    let placed: Vec<String> = (0..40)
        .map(|i| s.create(&format!("m{i}")).expect("placed"))
        .collect();
    assert!(placed.iter().all(|p| p == "new"), "{placed:?}");
    assert_eq!(s.create("m40").expect("placed"), "new"); // 40 = 40, "new" < "old1"
    assert_eq!(s.create("m41").expect("placed"), "old1");
}

#[test]
fn no_routable_server_refuses_the_create() {
    let mut s = Scalelite::new();
    assert_eq!(s.create("m"), Err(Refusal::NoAvailableServer));
    // Added and enabled but never polled: no load, not in server_load.
    s.add_server("a", 1.0);
    s.set_state("a", State::Enabled);
    assert_eq!(s.create("m"), Err(Refusal::NoAvailableServer));
    s.poll_server("a", 0, &[]);
    assert_eq!(s.create("m").expect("placed"), "a");
}

#[test]
fn the_poller_counts_young_meetings_as_at_least_fifteen_and_skips_breakouts() {
    let now = 10_000;
    let young = meeting(now - 60, 2); // 2 + 1 moderator -> max(3, 15)
    let old = meeting(now - 20 * 60, 7); // 7 + 1
    let mut breakout = meeting(now - 60, 30);
    breakout.breakout = true;
    assert_eq!(
        Scalelite::new().attendees_load(now, &[young, old, breakout]),
        15 + 8
    );
    // Exactly LOAD_JOIN_BUFFER_TIME old is no longer young (created_time > 15.minutes.ago).
    assert_eq!(
        Scalelite::new().attendees_load(now, &[meeting(now - 900, 2)]),
        3
    );
    let mut s = pool(&[("a", 0.0)]);
    s.servers.get_mut("a").expect("a").load_multiplier = 2.0;
    s.poll_server("a", now, &[young, old]);
    assert_eq!(s.server("a").and_then(|v| v.load), Some(46.0));
}

#[test]
fn a_cordoned_server_reading_zero_becomes_disabled_and_refuses_joins() {
    let mut s = pool(&[("a", 0.0), ("b", 0.0)]);
    assert_eq!(s.create("m").expect("placed"), "a");
    s.set_state("a", State::Cordoned);
    // Cordoned: no new meetings, joins still go through.
    assert_eq!(s.create("n").expect("placed"), "b");
    assert_eq!(s.join("m", 1), Ok("a"));
    s.poll_server("a", 100, &[meeting(0, 5)]);
    assert_eq!(s.server("a").map(|v| v.state), Some(State::Cordoned));
    s.poll_server("a", 2000, &[]);
    assert_eq!(s.server("a").map(|v| v.state), Some(State::Disabled));
    assert_eq!(s.server("a").and_then(|v| v.load), None);
    assert_eq!(s.join("m", 1), Err(Refusal::ServerUnavailable));
    assert_eq!(s.join("nope", 1), Err(Refusal::MeetingNotFound));
}

#[test]
fn state_changes_move_the_load_between_sets_and_disabled_has_none() {
    let mut s = pool(&[("a", 30.0), ("b", 50.0)]);
    s.set_state("a", State::Cordoned);
    assert_eq!(s.server("a").and_then(|v| v.load), Some(30.0));
    assert_eq!(s.find_available(), Some("b"));
    // Cordoned -> enabled: back in server_load at once, with its load.
    s.set_state("a", State::Enabled);
    assert_eq!(s.find_available(), Some("a"));
    // Disabled -> enabled: no load until the next poll, so not routable.
    s.set_state("a", State::Disabled);
    s.set_state("a", State::Enabled);
    assert_eq!(s.server("a").and_then(|v| v.load), None);
    assert_eq!(s.find_available(), Some("b"));
    s.poll_server("a", 0, &[]);
    assert_eq!(s.find_available(), Some("a"));
}

#[test]
fn an_added_server_is_disabled_offline_and_comes_online_after_one_good_poll() {
    let mut s = Scalelite::new();
    s.add_server("a", 1.0);
    let a = s.server("a").expect("a").clone();
    assert_eq!((a.state, a.online, a.load), (State::Disabled, false, None));
    s.poll_server("a", 0, &[]);
    let a = s.server("a").expect("a");
    assert!(a.online);
    assert_eq!(a.load, None, "a disabled server keeps no load");
}

#[test]
fn update_server_multiplier_applies_to_the_next_increment_and_to_the_score_at_the_next_poll() {
    // servers_controller#update_server -> Server#save! writes `load_multiplier` only; the score in
    // `server_load` is unchanged until the poller recomputes it; `increment_load` multiplies.
    let mut s = pool(&[("a", 0.0), ("b", 20.0)]);
    s.set_load_multiplier("a", 12.5);
    assert_eq!(
        s.server("a").and_then(|x| x.load),
        Some(0.0),
        "score unchanged"
    );
    assert_eq!(s.create("m1"), Ok("a".to_owned()));
    assert_eq!(s.server("a").and_then(|x| x.load), Some(12.5));
    assert_eq!(s.create("m2"), Ok("a".to_owned()));
    // 25 > 20: the third create goes to b, where a multiplier of 1 would have let a take 20.
    assert_eq!(s.create("m3"), Ok("b".to_owned()));
    s.poll_server("a", 60, &[meeting(0, 9), meeting(0, 0)]);
    // Two young meetings: max(9 + 1, 15) + 15 attendees, times 12.5.
    assert_eq!(s.server("a").and_then(|x| x.load), Some(375.0));
    s.set_load_multiplier("a", 0.0);
    assert_eq!(
        s.server("a").map(|x| x.load_multiplier),
        Some(12.5),
        "0 is refused"
    );
}

#[test]
fn the_poller_reads_its_own_settings() {
    let now = 10_000;
    let s = Scalelite::with_settings(Settings {
        poll_interval_s: 10,
        load_min_user_count: 40,
        load_join_buffer_s: 5 * 60,
    });
    // Young (4 minutes): max(3, 40); 6 minutes old: no longer young with a 5-minute buffer.
    assert_eq!(
        s.attendees_load(now, &[meeting(now - 240, 2), meeting(now - 360, 2)]),
        40 + 3
    );
}

/// Why the poll interval matters for `create`s nobody has joined yet: between two polls each adds
/// 1 to its server's score, so a fresh server (score 0) beside a busy one (score 30) takes every
/// one until a poll shows what it was given (each `join` adds 1 too, so joins narrow this). `creates` arrive 5 s apart; the poller runs every `interval_s`.
fn burst_on_a_fresh_server(interval_s: u64, creates: u64) -> usize {
    let mut s = pool(&[("busy", 30.0), ("fresh", 0.0)]);
    let mut on_fresh: Vec<PolledMeeting> = Vec::new();
    for i in 0..creates {
        let t = 1_200 + i * 5;
        if t % interval_s == 0 {
            s.poll_server("fresh", t, &on_fresh);
        }
        if s.create(&format!("m{i}")).expect("placed") == "fresh" {
            on_fresh.push(meeting(t, 0));
        }
    }
    on_fresh.len()
}

#[test]
fn a_shorter_poll_interval_stops_a_burst_piling_onto_a_fresh_server() {
    // Twelve creates in a minute: with the 60 s default the fresh server takes them all; polled
    // every 10 s it reads 15 per young meeting and the busy server takes its share.
    assert_eq!(burst_on_a_fresh_server(60, 12), 12);
    let fresh = burst_on_a_fresh_server(10, 12);
    assert!(fresh <= 4, "{fresh} of 12 on the fresh server");
}

#[test]
fn each_join_raises_an_enabled_servers_score_and_a_cordoned_ones_not() {
    // #join: `server.increment_load(1)` (ZADD server_load XX INCR 1 x multiplier).
    let mut s = pool(&[("a", 0.0), ("b", 10.0)]);
    assert_eq!(s.create("m").expect("placed"), "a");
    assert_eq!(s.join("m", 12), Ok("a"));
    assert_eq!(s.server("a").and_then(|v| v.load), Some(13.0));
    assert_eq!(s.create("n").expect("placed"), "b", "a is fuller now");
    s.set_state("a", State::Cordoned);
    assert_eq!(s.join("m", 5), Ok("a"));
    assert_eq!(
        s.server("a").and_then(|v| v.load),
        Some(13.0),
        "not in server_load"
    );
}

/// `poll:servers` reads a server enabled, a hook cordons it, the save writes its new load into
/// `server_load`: routed though cordoned, the same cordon again changes nothing, a disable then
/// a cordon take it out. Read cordoned with no user left and enabled meanwhile: `disabled`.
#[test]
fn the_poller_saves_the_view_it_read() {
    let mut s = pool(&[("a", 10.0), ("b", 30.0)]);
    let read = s.read("a").expect("a");
    s.set_state("a", State::Cordoned);
    assert!(s.save_polled("a", &read, 1000, &[meeting(0, 4)]));
    assert_eq!(s.server("a").and_then(|x| x.stale_server_load), Some(5.0));
    assert_eq!(s.create("m1"), Ok("a".to_owned()));
    s.poll_server("a", 1060, &[meeting(0, 4)]);
    s.set_state("a", State::Cordoned);
    assert_eq!(s.find_available(), Some("a"), "the same state: no change");
    s.set_state("a", State::Disabled);
    s.set_state("a", State::Cordoned);
    assert_eq!(s.find_available(), Some("b"));

    let read = s.read("a").expect("a");
    assert_eq!(read.state, State::Cordoned);
    s.set_state("a", State::Enabled);
    assert!(!s.save_polled("a", &read, 1200, &[]));
    assert_eq!(s.server("a").map(|x| x.state), Some(State::Disabled));
}
