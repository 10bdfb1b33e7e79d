//! Issue #7's benchmark: the size of the stripped release `bbb-hook`, and the wall time of
//! `bbb-hook launch` beside the same launch done the way the old scripts did it
//! (`hook/benches/legacy-launch.sh`: bash, curl and the AWS CLI v1), both against the doubles of
//! the hook's integration tests (moto, the lifecycle stub, Scalelite, IMDS) with the same
//! environment. Every run starts from a fresh fixture (no record, no Scalelite server, a new state
//! directory) and is checked afterwards: the record points at the instance, the server is
//! registered and enabled, the launching lifecycle action was completed. A run that did not
//! launch fails the benchmark; a missed target is only reported.
//!
//! Run it with `scripts/bench-hook` (installs the pinned AWS CLI into .tools/bench-venv and puts it
//! on PATH). `BENCH_ITERATIONS` (default 5) timed runs of each way, after `BENCH_WARMUP`
//! (default 1) untimed ones; the two ways alternate, each on its own fixture.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bbb_core::scalelite::ServerState;
use support::{Instance, BBB_SECRET, LAUNCHING_HOOK, SCALELITE_SECRET};

/// The binary measured: `BBB_HOOK_BINARY` (scripts/bench-hook passes the shipped
/// `hook-release` build), else the bench profile's.
fn hook() -> String {
    std::env::var("BBB_HOOK_BINARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_bbb-hook").to_owned())
}
const LEGACY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/legacy-launch.sh");
/// Target: the stripped binary under 8 MB.
const SIZE_TARGET_BYTES: u64 = 8_000_000;
/// Target: the launch at least this many times faster than the script way.
const SPEEDUP_TARGET: f64 = 10.0;
/// Linux reports children's CPU time in /proc in USER_HZ ticks, 100 a second.
const TICK: Duration = Duration::from_millis(10);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Hook,
    Legacy,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Hook => "bbb-hook launch",
            Way::Legacy => "legacy-launch.sh",
        }
    }
}

/// One verified run.
struct Sample {
    wall: Duration,
    /// User + system CPU time of the process and everything it ran (in ticks).
    cpu_ticks: u64,
    /// The hook's own `launch complete duration_ms` (the steps after its context is built).
    internal_ms: Option<u64>,
}

fn env_usize(name: &str, default: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a whole number, got {v:?}")),
        Err(_) => Ok(default),
    }
}

/// CPU ticks (user + system) of this process's waited-for children so far (`cutime`+`cstime`).
fn children_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name in parentheses start at field 3; cutime/cstime are 16/17.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(16) + field(17)
}

/// `duration_ms` of the hook's "launch complete" log line.
fn internal_duration_ms(stderr: &str) -> Option<u64> {
    let line = stderr.lines().find(|l| l.contains("launch complete"))?;
    let value = line.split("duration_ms=").nth(1)?;
    value
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// Checks that the run launched the instance: record, enabled registration, lifecycle action.
async fn verify_launched(i: &Instance) -> Result<(), String> {
    let record = i.record().await;
    if record != Some(vec![i.address.to_string()]) {
        return Err(format!(
            "A record {} is {record:?}, expected [{}]",
            i.record_name(),
            i.address
        ));
    }
    let server = i
        .server()
        .ok_or_else(|| format!("{} is not registered in Scalelite", i.server_url()))?;
    if server.state != ServerState::Enabled {
        return Err(format!(
            "Scalelite server is {:?}, not enabled",
            server.state
        ));
    }
    if server.secret != BBB_SECRET {
        return Err("Scalelite server registered with the wrong secret".into());
    }
    if i.scalelite.servers().len() != 1 {
        return Err(format!(
            "{} Scalelite servers, expected 1",
            i.scalelite.servers().len()
        ));
    }
    let calls = i.lifecycle.calls().await;
    // Launching-hook heartbeats may come first (launch keeps the action alive while it waits);
    // exactly one completion, CONTINUE, last.
    let completions: Vec<_> = calls
        .iter()
        .filter(|c| c.action == "CompleteLifecycleAction")
        .collect();
    let completed_last = calls.last().is_some_and(|c| {
        c.action == "CompleteLifecycleAction"
            && c.hook_name == LAUNCHING_HOOK
            && c.instance_id == i.instance_id
            && c.result.as_deref() == Some("CONTINUE")
    });
    let others_are_heartbeats = calls.iter().all(|c| {
        c.action == "CompleteLifecycleAction"
            || (c.action == "RecordLifecycleActionHeartbeat" && c.hook_name == LAUNCHING_HOOK)
    });
    if !completed_last || completions.len() != 1 || !others_are_heartbeats {
        return Err(format!(
            "expected launching-hook heartbeats, then one CompleteLifecycleAction {LAUNCHING_HOOK} CONTINUE for {}, got {calls:?}",
            i.instance_id
        ));
    }
    Ok(())
}

/// One run of `way` on a fresh fixture, timed from process start to exit, then verified.
async fn run_once(way: Way) -> Result<Sample, String> {
    let i = Instance::new(60).await;
    if i.record().await.is_some() || !i.scalelite.servers().is_empty() {
        return Err("the fresh fixture is not fresh".into());
    }
    let mut cmd = match way {
        Way::Hook => i.command_for(hook(), &["launch"]),
        Way::Legacy => i.command_for("bash", &[LEGACY]),
    };
    let cpu_before = children_cpu_ticks();
    let started = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(180), cmd.output())
        .await
        .map_err(|_| format!("{} did not finish within 180 s", way.name()))?
        .map_err(|e| format!("cannot run {}: {e}", way.name()))?;
    let wall = started.elapsed();
    let cpu_ticks = children_cpu_ticks().saturating_sub(cpu_before);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "{} exited with {}:\n{stdout}{stderr}",
            way.name(),
            out.status
        ));
    }
    for secret in [BBB_SECRET, SCALELITE_SECRET] {
        if stdout.contains(secret) || stderr.contains(secret) {
            return Err(format!("a secret leaked into the output of {}", way.name()));
        }
    }
    verify_launched(&i)
        .await
        .map_err(|e| format!("{} exited 0 but did not launch: {e}\n{stderr}", way.name()))?;
    let internal_ms = match way {
        Way::Hook => Some(internal_duration_ms(&stderr).ok_or_else(|| {
            format!("no 'launch complete ... duration_ms=' in the hook's log:\n{stderr}")
        })?),
        Way::Legacy => None,
    };
    Ok(Sample {
        wall,
        cpu_ticks,
        internal_ms,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "MISS"
    }
}

/// Names of the ELF sections of `path` (64-bit little-endian ELF only).
fn elf_sections(path: &Path) -> Result<Vec<String>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 || data[5] != 1 {
        return Err(format!(
            "{} is not a 64-bit little-endian ELF file",
            path.display()
        ));
    }
    let u16_at = |o: usize| data.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        data.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        data.get(o..o + 8).map(|b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            u64::from_le_bytes(a) as usize
        })
    };
    let bad = || format!("{}: truncated ELF section table", path.display());
    let shoff = u64_at(0x28).ok_or_else(bad)?;
    let shentsize = usize::from(u16_at(0x3a).ok_or_else(bad)?);
    let shnum = usize::from(u16_at(0x3c).ok_or_else(bad)?);
    let shstrndx = usize::from(u16_at(0x3e).ok_or_else(bad)?);
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 0x18).ok_or_else(bad)?;
    (0..shnum)
        .map(|i| {
            let name = strtab + u32_at(header(i)).ok_or_else(bad)? as usize;
            let bytes = data.get(name..).ok_or_else(bad)?;
            let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
            Ok(String::from_utf8_lossy(&bytes[..end]).into_owned())
        })
        .collect()
}

/// The size `strip` leaves of a copy of `path`, if `strip` is installed.
fn stripped_copy_size(path: &Path) -> Option<u64> {
    let dir = tempfile::tempdir().ok()?;
    let copy = dir.path().join("bbb-hook");
    std::fs::copy(path, &copy).ok()?;
    let status = std::process::Command::new("strip")
        .arg(&copy)
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    status
        .success()
        .then(|| std::fs::metadata(&copy).ok().map(|m| m.len()))?
}

fn on_path(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

fn version_of(program: &str, arg: &str) -> String {
    std::process::Command::new(program)
        .arg(arg)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|| "not found".into())
}

async fn bench() -> Result<bool, String> {
    let iterations = env_usize("BENCH_ITERATIONS", 5)?.max(1);
    let warmup = env_usize("BENCH_WARMUP", 1)?;
    if on_path("aws").is_none() {
        return Err(
            "no `aws` on PATH: run this benchmark with scripts/bench-hook, which installs \
                    the pinned AWS CLI (scripts/requirements-bench.txt) into .tools/bench-venv"
                .into(),
        );
    }

    // --- the binary ---------------------------------------------------------------------------
    let hook_path = hook();
    let binary = Path::new(&hook_path);
    let size = std::fs::metadata(binary)
        .map_err(|e| format!("{hook_path}: {e}"))?
        .len();
    let sections = elf_sections(binary)?;
    let symtab = sections.iter().any(|s| s == ".symtab");
    let debug = sections.iter().filter(|s| s.starts_with(".debug")).count();
    let stripped_size = stripped_copy_size(binary);

    println!("bbb-hook benchmark (issue #7)");
    println!("  binary            {hook_path}");
    println!(
        "  size              {size} bytes ({:.2} MiB)",
        size as f64 / (1024.0 * 1024.0)
    );
    println!(
        "  stripped          {} (.symtab {}, {debug} .debug* sections){}",
        if symtab || debug > 0 { "no" } else { "yes" },
        if symtab { "present" } else { "absent" },
        match stripped_size {
            Some(s) if s == size => "; `strip` on a copy leaves it unchanged".to_owned(),
            Some(s) => format!("; `strip` on a copy: {s} bytes"),
            None => "; `strip` not available for a cross-check".to_owned(),
        }
    );
    println!("  aws               {}", version_of("aws", "--version"));
    println!(
        "  json in script    {}",
        if on_path("jq").is_some() {
            version_of("jq", "--version")
        } else {
            "python3 (no jq)".into()
        }
    );
    println!("  runs              {warmup} warm-up + {iterations} timed of each way, alternating, a fresh fixture each");
    println!();

    // --- the launches -------------------------------------------------------------------------
    let mut hook: Vec<Sample> = Vec::new();
    let mut legacy: Vec<Sample> = Vec::new();
    for round in 0..warmup + iterations {
        let timed = round >= warmup;
        for way in [Way::Hook, Way::Legacy] {
            let s = run_once(way).await?;
            eprintln!(
                "  {} {:<17} {:>8.1} ms wall{}",
                if timed { "run   " } else { "warmup" },
                way.name(),
                ms(s.wall),
                s.internal_ms
                    .map(|m| format!(", launch complete duration_ms={m}"))
                    .unwrap_or_default()
            );
            if timed {
                match way {
                    Way::Hook => hook.push(s),
                    Way::Legacy => legacy.push(s),
                }
            }
        }
    }

    let walls = |v: &[Sample]| v.iter().map(|s| ms(s.wall)).collect::<Vec<_>>();
    let cpu_mean = |v: &[Sample]| {
        ms(TICK) * v.iter().map(|s| s.cpu_ticks).sum::<u64>() as f64 / v.len() as f64
    };
    let (hook_wall, legacy_wall) = (walls(&hook), walls(&legacy));
    let internal: Vec<f64> = hook
        .iter()
        .filter_map(|s| s.internal_ms.map(|m| m as f64))
        .collect();
    let (hook_median, legacy_median) = (median(hook_wall.clone()), median(legacy_wall.clone()));
    let ratio = legacy_median / hook_median;

    println!("launch, wall time from process start to exit ({iterations} runs each; ms)");
    println!(
        "  {:<44} {:>9} {:>9} {:>12}",
        "", "median", "min", "CPU (mean)"
    );
    println!(
        "  {:<44} {:>9.1} {:>9.1} {:>12.1}",
        "bbb-hook launch (process)",
        hook_median,
        min(&hook_wall),
        cpu_mean(&hook)
    );
    println!(
        "  {:<44} {:>9.1} {:>9.1}",
        "  of which launch steps (duration_ms)",
        median(internal.clone()),
        min(&internal)
    );
    let before: Vec<f64> = hook_wall
        .iter()
        .zip(&internal)
        .map(|(w, i)| w - i)
        .collect();
    println!(
        "  {:<44} {:>9.1} {:>9.1}",
        "  of which start, IMDS, config (the rest)",
        median(before.clone()),
        min(&before)
    );
    println!(
        "  {:<44} {:>9.1} {:>9.1} {:>12.1}",
        "legacy-launch.sh (bash + curl + aws CLI)",
        legacy_median,
        min(&legacy_wall),
        cpu_mean(&legacy)
    );
    println!(
        "  CPU: user + system of the process and all it ran, in {} ms ticks; the rest of the wall time",
        TICK.as_millis()
    );
    println!("  is spent waiting, mostly on the doubles (moto is Python; the script's aws CLI calls block on it too).");
    println!(
        "  bbb-hook waits {:.1} ms of its median {:.1} ms (wall - mean CPU)",
        (hook_median - cpu_mean(&hook)).max(0.0),
        hook_median
    );
    println!();

    let size_ok = size < SIZE_TARGET_BYTES;
    let speed_ok = ratio >= SPEEDUP_TARGET;
    println!("targets");
    println!(
        "  {} binary under 8 MB ({SIZE_TARGET_BYTES} bytes): {size} bytes",
        verdict(size_ok)
    );
    println!(
        "  {} launch at least {SPEEDUP_TARGET:.0}x faster than the script way: {ratio:.1}x (median {legacy_median:.1} ms / {hook_median:.1} ms)",
        verdict(speed_ok)
    );
    Ok(size_ok && speed_ok)
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then there is nothing to
    // test (the benchmark needs the AWS CLI of scripts/bench-hook).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("launch: a benchmark; run it with scripts/bench-hook (cargo bench -p bbb-hook --bench launch)");
        return ExitCode::SUCCESS;
    }
    if let Some(other) = args.iter().find(|a| *a != "--bench" && !a.is_empty()) {
        eprintln!("launch: unexpected argument {other:?}; settings come from BENCH_ITERATIONS and BENCH_WARMUP");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench()) {
        // A missed target is a figure, not a failure.
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}
