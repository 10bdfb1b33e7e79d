//! `fleet-demo [--servers N]`: the fleet sandbox scenario of scripts/demo. Starts the sandbox
//! (moto, the Scalelite double, simulated instances running the real bbb-hook), applies
//! `examples/local` with the provider, plays the scenario while printing what happens, prints a
//! summary, then plays a compressed day on a fresh fleet (`day_scenario`), and stops everything
//! it started. Expects `bbb-hook` and `terraform-provider-bbb`
//! beside itself (a `cargo build --release` of the workspace).

use std::process::ExitCode;
use std::time::Duration;

use bbb_acceptance_tests::{day_scenario, fleet_scenario};
use bbb_sandbox::{Options, Sandbox};

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let servers = match args.iter().position(|a| a == "--servers") {
        None => 4,
        Some(i) => match args.get(i + 1).and_then(|v| v.parse::<usize>().ok()) {
            Some(n) if n >= 3 => n,
            _ => {
                eprintln!("fleet-demo: --servers must be a whole number of at least 3");
                return ExitCode::from(64);
            }
        },
    };
    let dir = match std::env::current_exe() {
        Ok(p) => p.parent().map(|d| d.to_path_buf()).unwrap_or_default(),
        Err(e) => {
            eprintln!("fleet-demo: {e}");
            return ExitCode::from(1);
        }
    };
    let (hook, provider) = (dir.join("bbb-hook"), dir.join("terraform-provider-bbb"));
    for p in [&hook, &provider] {
        if !p.exists() {
            eprintln!("fleet-demo: {} not found: run `cargo build --release -p bbb-hook -p terraform-provider-bbb` first", p.display());
            return ExitCode::from(1);
        }
    }
    let sb = match Sandbox::start(Options {
        hook_binary: hook.clone(),
        print_events: true,
        protect_every: Duration::from_secs(1),
        poll_interval: Duration::from_millis(500),
        max_size: (servers + 2) as i32,
        withheld_instance_actions: Vec::new(),
    })
    .await
    {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("fleet-demo: cannot start the sandbox: {e}");
            return ExitCode::from(1);
        }
    };
    let out = fleet_scenario::play(&sb, &provider.display().to_string(), servers).await;
    println!();
    println!("Summary of the fleet scenario");
    println!(
        "  servers launched by the group      {}",
        out.servers_launched
    );
    println!(
        "  servers drained on scale-in        {}",
        out.servers_drained
    );
    println!(
        "  meetings started / kept / dropped  {} / {} / {}",
        out.meetings_started, out.meetings_kept, out.meetings_dropped
    );
    println!(
        "  crash leftovers (records, servers) {:?} -> after terraform apply {:?}",
        out.crash_leftovers, out.leftovers_after_apply
    );
    println!(
        "  event capacity in service          {} of {}, {} s before its start",
        out.event_capacity.0, out.event_capacity.1, out.event_ahead_seconds
    );
    drop(sb);
    let mut failures = out.failures.clone();

    // A compressed day on a fresh fleet: target tracking on the published participants, meetings
    // through Scalelite's routing, consolidation when demand falls.
    println!();
    println!("==> a compressed day: participants scale the fleet out, consolidation shrinks it");
    let day = day_scenario::Day::default();
    let sb = match Sandbox::start(Options {
        hook_binary: hook.clone(),
        print_events: true,
        protect_every: Duration::from_secs(1),
        poll_interval: Duration::from_millis(500),
        max_size: day.max_servers,
        withheld_instance_actions: Vec::new(),
    })
    .await
    {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("fleet-demo: cannot start the sandbox: {e}");
            return ExitCode::from(1);
        }
    };
    let d = day_scenario::play(&sb, &day).await;
    println!();
    println!("Summary of the day");
    println!("  peak servers                        {}", d.peak_servers);
    println!(
        "  meetings created / ended / lost     {} / {} / {}",
        d.traffic.created,
        d.traffic.ended,
        d.traffic.lost + d.meetings_dropped
    );
    println!(
        "  meetings per server                 {}",
        d.meetings_per_server
            .values()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "  consolidation cordons (busy)        {} ({})",
        d.cordons, d.cordoned_while_busy
    );
    println!("  servers at the end of the day       {}", d.final_servers);
    drop(sb);
    failures.extend(d.failures);
    if d.traffic.lost + d.meetings_dropped > 0 {
        failures.push("a meeting was dropped during the day".into());
    }
    if failures.is_empty() {
        println!("  every step as expected; everything the demo started is stopped");
        ExitCode::SUCCESS
    } else {
        println!("  FAILED steps: {}", failures.join("; "));
        ExitCode::from(1)
    }
}
