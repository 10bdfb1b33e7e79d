//! BBB processes a server's recordings with one Resque worker (`bbb-rap-resque-worker.service`:
//! `rake resque:work`, `COUNT=1`), one after the other: a server whose recorded lectures end
//! together stays until the last is processed, and its protection holds it that long.

use bbb_fleet_sim::policy::{Config, Kind};
use bbb_fleet_sim::trace::MeetingSpec;

/// Two recorded lectures of an hour on one server, from the first minute, then nothing: the group may
/// shrink to none once the recordings are processed.
fn two_recorded_lectures(workers: u32) -> (Config, Vec<MeetingSpec>) {
    let mut c = Config::for_capacity(200);
    c.min_size = 0;
    c.initial = 1;
    c.recording_workers = workers;
    let specs = (0..2)
        .map(|_| MeetingSpec::new(60, 3600, 20, "rec"))
        .collect();
    (c, specs)
}

#[test]
fn a_server_stays_until_its_one_worker_has_processed_every_recording() {
    let (c, specs) = two_recorded_lectures(1);
    let expire = specs[0].expire_s();
    let work = c.recording_processing_s(specs[0].duration_s);
    let queued = bbb_fleet_sim::run(Kind::Consolidating, &c, &specs);
    assert_eq!(queued.recordings_lost, 0);
    assert_eq!(queued.recordings_unfinished, 0);
    let held_s = queued.server_hours * 3600.0;
    assert!(
        held_s >= (expire + 2 * work) as f64,
        "the server left after {held_s} s, before its second recording was processed at {} s",
        expire + 2 * work
    );

    let (c, specs) = two_recorded_lectures(2);
    let parallel = bbb_fleet_sim::run(Kind::Consolidating, &c, &specs);
    assert_eq!(parallel.recordings_lost, 0);
    assert!(
        parallel.server_hours * 3600.0 + (work / 2) as f64 <= held_s,
        "two workers process both at once: {} h against {} h",
        parallel.server_hours,
        queued.server_hours
    );
}
