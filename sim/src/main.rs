//! `bbb-fleet-sim`: see `scripts/bench-fleet-efficiency --help`.

use bbb_fleet_sim::{generate, report, run_all, trace, Config};
use std::process::ExitCode;

const USAGE: &str =
    "usage: bbb-fleet-sim (--trace FILE | --builtin lecture-week|flat-day) [--seed N]
       [--capacity N] [--target N] [--launch-s N] [--write-trace FILE] [--check]
  --trace FILE       CSV with header start_s,duration_s,participants[,tag], one meeting per row
  --builtin NAME     lecture-week (default) or flat-day, generated from --seed (default 1)
  --capacity N       participants per server, for every policy and the ideal (default 200)
  --target N         target-tracking participants per server for (b) and (c) (default 7/10 capacity: modules/fleet's participants_per_server, 140)
  --launch-s N       launch to in service, seconds (default 180)
  --write-trace FILE write the trace played as CSV
  --check            exit 1 when (c) misses a target
  --set KEY=VALUE    override a parameter (see Config::set: forecast_days, rule_interval_s,
                     steer_cordon_at, steer_enable_below, young_meeting_participants,
                     spread_meeting_participants, keep_pinned, forecast_participants, ...)";

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bbb-fleet-sim: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<ExitCode, String> {
    let mut args = std::env::args().skip(1);
    let mut trace_file: Option<String> = None;
    let mut builtin = "lecture-week".to_owned();
    let mut seed = 1u64;
    let mut capacity: Option<u32> = None;
    let mut target: Option<u32> = None;
    let mut launch_s: Option<u64> = None;
    let mut write: Option<String> = None;
    let mut check = false;
    let mut sets: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--trace" => trace_file = Some(value("--trace")?),
            "--builtin" => builtin = value("--builtin")?,
            "--seed" => seed = number(&value("--seed")?)?,
            "--capacity" => capacity = Some(number(&value("--capacity")?)?),
            "--target" => target = Some(number(&value("--target")?)?),
            "--launch-s" => launch_s = Some(number(&value("--launch-s")?)?),
            "--write-trace" => write = Some(value("--write-trace")?),
            "--check" => check = true,
            "--set" => sets.push(value("--set")?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let (name, specs) = match &trace_file {
        Some(f) => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?;
            (
                f.clone(),
                trace::parse_csv(&text).map_err(|e| format!("{f}: {e}"))?,
            )
        }
        None => match builtin.as_str() {
            "lecture-week" => (
                format!("builtin lecture-week seed {seed}"),
                generate::lecture_week(seed),
            ),
            "flat-day" => (
                format!("builtin flat-day seed {seed}"),
                generate::flat_day(seed),
            ),
            other => return Err(format!("unknown builtin {other:?}")),
        },
    };
    if let Some(w) = &write {
        std::fs::write(w, trace::to_csv(&specs)).map_err(|e| format!("{w}: {e}"))?;
    }
    let mut c =
        Config::for_capacity(capacity.unwrap_or(bbb_core::scaling::DEFAULT_CAPACITY_PARTICIPANTS));
    if let Some(t) = target {
        c.target_participants = t.max(1);
    }
    if let Some(l) = launch_s {
        c.launch_s = l;
    }
    c.seed = seed;
    for kv in &sets {
        let (k, v) = kv
            .split_once('=')
            .ok_or(format!("--set {kv:?}: expected key=value"))?;
        c.set(k, v)?;
    }
    if trace_file.is_none() && builtin == "lecture-week" {
        // The fleet's metric history: a regular week before (no exams), another seed.
        let before = generate::lecture_week_with(seed.wrapping_add(1000), false);
        c.prior_demand = report::demand(&before, 7 * generate::DAY_S);
        let exam = generate::exam_schedule(&specs);
        println!(
            "bbb_schedule for Thursday's exams, every policy: {} servers from {} s to {} s",
            exam.capacity, exam.up_s, exam.down_s
        );
        c.schedules.push(exam);
        println!(
            "forecast history for (c): the week before (seed {}, no exams)",
            seed.wrapping_add(1000)
        );
    }
    let started = std::time::Instant::now();
    let (horizon, reports) = run_all(&c, &specs);
    let participant_hours: f64 = specs
        .iter()
        .map(|m| f64::from(m.participants) * m.duration_s as f64 / 3600.0)
        .sum();
    println!(
        "trace: {name}: {} meetings, {:.0} participant-hours, {} recorded; capacity {} participants/server, target {}, launch {} s",
        specs.len(),
        participant_hours,
        specs.iter().filter(|m| m.recorded()).count(),
        c.capacity,
        c.target_participants,
        c.launch_s
    );
    print!("{}", report::table(&reports));
    for r in &reports {
        println!(
            "{:<22} {}; meetings caught by a scale-in {}; cordons undone by the poller {} ({} creates routed to them, {} repaired)",
            r.kind.label(),
            r.breakdown.line(r.participant_minutes),
            r.caught_by_scale_in,
            r.write_backs[0],
            r.write_backs[1],
            r.write_backs[2]
        );
        if r.recordings_unfinished > 0 {
            println!(
                "{:<22} WARNING: {} recordings still queued when the simulated span ended: its figures leave out their servers' last hours",
                r.kind.label(),
                r.recordings_unfinished
            );
        }
    }
    if let Some(r) = reports
        .iter()
        .find(|r| r.kind == bbb_fleet_sim::Kind::Consolidating)
    {
        println!(
            "(c) decisions: {} cordon, {} enable, {} unprotect; {} load_multiplier updates",
            r.decisions[0], r.decisions[1], r.decisions[2], r.multiplier_updates
        );
    }
    let clairvoyant = bbb_fleet_sim::bound::clairvoyant_hours(&c, &specs, horizon);
    let ideal = reports.first().map_or(0.0, |r| r.ideal_hours);
    println!(
        "reference: ideal with the group's minimum {:.1} h; perfect knowledge (sizes, ends, recordings known at create; instant launch; best fit, no over-capacity) {:.1} h = {:.2}x ideal",
        bbb_fleet_sim::bound::floor_hours(&c, &specs, horizon),
        clairvoyant,
        if ideal > 0.0 { clairvoyant / ideal } else { 0.0 },
    );
    let targets = report::targets(&reports);
    let mut all = true;
    for (what, met) in &targets {
        println!(
            "target {}: {what}",
            if *met { "met    " } else { "MISSED " }
        );
        all &= *met;
    }
    println!(
        "simulated {} policies in {:.2} s",
        reports.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(if check && !all {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("{s:?} is not a number"))
}
