//! Predictive scaling's servers, launched ahead of an hour, are there when its burst starts:
//! target tracking's scale-in (its alarm in ALARM since the quiet night) waits for their warm-up,
//! as AWS documents for the group's default instance warmup; or, read as a floor for its hour
//! (`forecast_holds_hour`), the forecast keeps them whatever the warm-up.

use bbb_fleet_sim::policy::{Config, Kind};
use bbb_fleet_sim::trace::MeetingSpec;

const DAY_MIN: usize = 1440;

/// A day whose 09:00 brings 20 meetings of 60 for an hour, and the same day before it as the
/// metric's history.
fn day() -> (Config, Vec<MeetingSpec>) {
    let mut c = Config::for_capacity(200);
    let mut history = vec![0u32; DAY_MIN];
    history[540..600].fill(1200);
    c.prior_demand = history;
    let specs = (0..20)
        .map(|k| MeetingSpec::new(9 * 3600 + k * 5, 3600, 60, "lecture"))
        .collect();
    (c, specs)
}

#[test]
fn the_hours_forecast_keeps_the_pre_warmed_servers_for_the_burst() {
    let (mut c, specs) = day();
    c.instance_warmup_s = 0;
    c.forecast_holds_hour = true;
    let held = bbb_fleet_sim::run(Kind::Consolidating, &c, &specs);
    // Played as a scale-out at the action time only, with no warm-up to hold them, target
    // tracking takes them back before 09:00.
    c.forecast_holds_hour = false;
    let undone = bbb_fleet_sim::run(Kind::Consolidating, &c, &specs);
    assert!(
        held.over_capacity_share + 0.2 < undone.over_capacity_share,
        "held for the hour {:.3} vs scaled out once {:.3}",
        held.over_capacity_share,
        undone.over_capacity_share
    );
    // The warm-up alone holds them too when the forecast is read as a one-off scale-out.
    c.instance_warmup_s = 600;
    let warm = bbb_fleet_sim::run(Kind::Consolidating, &c, &specs);
    assert!(warm.over_capacity_share + 0.2 < undone.over_capacity_share);
    // Without the predictive policy the burst meets the night's one server either way.
    let (c, _) = day();
    let none = bbb_fleet_sim::run(Kind::ConsolidatingOnly, &c, &specs);
    assert!(held.over_capacity_share + 0.2 < none.over_capacity_share);
}
