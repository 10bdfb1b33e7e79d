//! `soak-fleet [--decisions N] [--seed S]`: the scale-in soak and fault figures of the fleet
//! sandbox (scripts/bench-fleet-soak). Random meeting loads and capacities drive at least N
//! scale-in decisions; then each fault (Scalelite 5xx, Scalelite timeouts, Auto Scaling
//! throttling, an instance killed without its drain, the hook killed mid-launch) gets its own
//! rounds, and what it left behind is counted before and after the next `terraform apply`.
//! Finally the launch time (instance start to registered and enabled) is split into the hook's
//! own time and its waiting on the doubles and moto. Prints figures; asserts nothing.

use std::collections::BTreeSet;
use std::time::Duration;

use bbb_acceptance_tests::fleet_scenario::{apply_fleet, fleet_servers_of, tfvars, workspace};
use bbb_core::scalelite::ServerState;
use bbb_doubles::BbbDouble;
use bbb_sandbox::{Options, Sandbox};

/// Injects one fault into the sandbox.
type Inject = dyn Fn(&Sandbox, &mut Rng);

/// A small deterministic generator (xorshift64*), so a seed replays a soak.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Leftovers {
    /// A records whose instance is gone.
    records: usize,
    /// Scalelite registrations whose instance is gone.
    servers: usize,
    /// Registrations left cordoned or disabled on a live, settled instance.
    cordoned: usize,
}

async fn leftovers(sb: &Sandbox) -> Leftovers {
    let live: BTreeSet<String> = sb
        .fleet
        .views()
        .into_iter()
        .map(|v| v.instance_id)
        .collect();
    let id_of = |host: &str| {
        host.strip_prefix("bbb-")
            .and_then(|h| h.split('.').next())
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let records = sb
        .records()
        .await
        .iter()
        .filter(|(name, _)| !live.contains(&id_of(name)))
        .count();
    let servers = fleet_servers_of(sb);
    let host = |url: &str| {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    };
    Leftovers {
        records,
        servers: servers
            .iter()
            .filter(|s| !live.contains(&id_of(&host(&s.url))))
            .count(),
        cordoned: servers
            .iter()
            .filter(|s| live.contains(&id_of(&host(&s.url))) && s.state != ServerState::Enabled)
            .count(),
    }
}

/// Random meetings on the servers in service, then a random capacity.
fn round(sb: &Sandbox, rng: &mut Rng, max: u64) {
    for v in sb.fleet.views().into_iter().filter(|v| !v.terminating) {
        match rng.below(10) {
            0..=2 => {
                let people = 2 + rng.below(60) as u32;
                sb.fleet
                    .with_instance(&v.instance_id, |i| i.start_meeting(people));
            }
            3..=6 => {
                sb.fleet.with_instance(&v.instance_id, |i| i.end_meetings());
            }
            _ => {}
        }
    }
    sb.fleet.set_desired(rng.below(max + 1) as i32);
}

/// Ends every meeting and scales to zero; `false` if instances are still there after 3 min.
async fn drain_all(sb: &Sandbox) -> bool {
    for v in sb.fleet.views() {
        sb.fleet.with_instance(&v.instance_id, |i| i.end_meetings());
    }
    sb.fleet.set_desired(0);
    sb.wait_for(Duration::from_secs(180), || async {
        sb.fleet.views().is_empty()
    })
    .await
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let (target, seed) = (arg("--decisions", 200), arg("--seed", 7).max(1));
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.to_path_buf()))
        .unwrap_or_default();
    let (hook, provider) = (dir.join("bbb-hook"), dir.join("terraform-provider-bbb"));
    let max = 6u64;
    let sb = match Sandbox::start(Options {
        hook_binary: hook,
        print_events: false,
        protect_every: Duration::from_millis(500),
        poll_interval: Duration::from_millis(300),
        max_size: max as i32 + 2,
        withheld_instance_actions: Vec::new(),
    })
    .await
    {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("soak-fleet: cannot start the sandbox: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let legacy = match BbbDouble::start("legacy-bbb-secret-0123456789").await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("soak-fleet: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let ws = match workspace(&sb, &provider.display().to_string()) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("soak-fleet: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    ws.write_file(
        "terraform.tfvars.json",
        &tfvars(&sb, &legacy, serde_json::json!({})),
    );
    if let Err(e) = apply_fleet(&sb, &ws).await {
        eprintln!("soak-fleet: {e}");
        return std::process::ExitCode::from(1);
    }
    let mut rng = Rng(seed);

    println!("fleet soak (seed {seed}): random meetings and capacities 0..={max} until {target} scale-in decisions");
    let started = std::time::Instant::now();
    let mut rounds = 0;
    while sb.fleet.stats().scale_in_decisions < target {
        round(&sb, &mut rng, max);
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        if rounds % 10 == 0 {
            let s = sb.fleet.stats();
            println!(
                "  round {rounds:>3}: {} decisions, {} terminated, {} kept for protection",
                s.scale_in_decisions, s.terminated, s.kept_for_protection
            );
        }
    }
    let settled = drain_all(&sb).await;
    let s = sb.fleet.stats();
    let left = leftovers(&sb).await;
    println!();
    println!(
        "scale-in safety ({rounds} rounds, {:.0} s)",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  scale-in decisions                  {:>5}  ({} terminated, {} kept for protection)",
        s.scale_in_decisions, s.terminated, s.kept_for_protection
    );
    println!(
        "  live meetings dropped               {:>5}  (target 0)",
        s.meetings_dropped
    );
    println!(
        "  servers left cordoned               {:>5}  (target 0)",
        left.cordoned
    );
    println!(
        "  servers left orphaned in Scalelite  {:>5}  (target 0)",
        left.servers
    );
    println!(
        "  DNS records without an instance     {:>5}  (target 0)",
        left.records
    );
    println!(
        "  group emptied at the end            {:>5}",
        if settled { "yes" } else { "NO" }
    );

    println!();
    println!("faults: 5 rounds each, then every meeting ends and the group scales to 0; leftovers (records, servers, cordoned) before -> after the next terraform apply");
    let faults: [(&str, &Inject); 5] = [
        ("Scalelite answers 503", &|sb, _| {
            sb.scalelite.fail_next(4, 503)
        }),
        ("Scalelite times out", &|sb, _| {
            sb.scalelite.delay_next(3, Duration::from_secs(6))
        }),
        ("Auto Scaling throttles", &|sb, _| sb.fleet.throttle_next(8)),
        ("instance killed without its drain", &|sb, rng| {
            let views: Vec<String> = sb
                .fleet
                .views()
                .into_iter()
                .filter(|v| !v.terminating)
                .map(|v| v.instance_id)
                .collect();
            if !views.is_empty() {
                let victim = views[rng.below(views.len() as u64) as usize].clone();
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(sb.fleet.crash(&sb.aws, &victim))
                });
            }
        }),
        ("hook killed mid-launch", &|sb, rng| {
            sb.fleet
                .interrupt_next_launch(Duration::from_millis(20 + rng.below(60)));
        }),
    ];
    let mut all_clean = true;
    for (name, inject) in faults {
        let dropped_before = sb.fleet.stats().meetings_dropped;
        sb.fleet.set_desired(3);
        let _ = sb
            .wait_for(Duration::from_secs(60), || async {
                sb.fleet.views().len() >= 3
            })
            .await;
        for _ in 0..5 {
            inject(&sb, &mut rng);
            round(&sb, &mut rng, max);
            tokio::time::sleep(Duration::from_millis(2500)).await;
        }
        let settled = drain_all(&sb).await;
        let before = leftovers(&sb).await;
        let applied = apply_fleet(&sb, &ws).await;
        let after = leftovers(&sb).await;
        let dropped = sb.fleet.stats().meetings_dropped - dropped_before;
        all_clean &= after == Leftovers::default() && applied.is_ok();
        println!(
            "  {name:<36} before ({}, {}, {}) -> after ({}, {}, {}); meetings dropped {dropped}{}{}",
            before.records, before.servers, before.cordoned, after.records, after.servers, after.cordoned,
            if settled { "" } else { "; group not emptied" },
            applied.err().map(|e| format!("; apply failed: {e}")).unwrap_or_default(),
        );
    }
    println!(
        "  nothing left after the apply: {}",
        if all_clean { "yes (target)" } else { "NO" }
    );

    let launches = sb.events.launches();
    let wall: Vec<f64> = launches.iter().map(|l| l.timing.wall_ms).collect();
    let process: Vec<f64> = launches.iter().map(|l| l.process_ms).collect();
    let calls: Vec<f64> = launches.iter().map(|l| l.timing.calls_ms).collect();
    let own: Vec<f64> = launches
        .iter()
        .map(|l| (l.process_ms - l.timing.calls_ms).max(0.0))
        .collect();
    println!();
    println!(
        "launch to registered and enabled in Scalelite ({} launches, medians, ms)",
        launches.len()
    );
    println!(
        "  instance start -> enabled           {:>8.1}",
        median(wall)
    );
    println!(
        "  the successful bbb-hook launch      {:>8.1}",
        median(process)
    );
    println!(
        "    waiting on the doubles and moto   {:>8.1}  (sum of its API calls' durations)",
        median(calls)
    );
    println!(
        "    the hook's own time               {:>8.1}  (process start, IMDS, config, the rest)",
        median(own)
    );
    let _ = ws.terraform(&["destroy", "-auto-approve", "-no-color"]);
    std::process::ExitCode::SUCCESS
}
