//! Each hook consolidates at its own pass, :00 or :30 (its timer fires on the wall clock's half
//! minutes, and it consolidates every other pass from the one it went in service), and applies
//! only its own decisions. Scalelite must always have a server to route a `create` to.

use bbb_fleet_sim::generate::flat_day;
use bbb_fleet_sim::policy::{Config, Kind};

#[test]
fn hooks_at_their_own_phases_never_leave_scalelite_without_a_server() {
    let c = Config::for_capacity(200);
    let day = flat_day(1);
    let r = bbb_fleet_sim::run(Kind::Consolidating, &c, &day);
    assert_eq!(r.creates_refused, 0, "creates refused");
    assert_eq!(r.meetings_dropped, 0);
    assert!(r.decisions[0] > 100, "consolidation ran: {:?}", r.decisions);
}
