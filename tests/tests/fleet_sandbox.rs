//! The fleet scenario of scripts/demo, shortened (three servers): examples/local applied
//! against the sandbox, whose instances run the real bbb-hook. Asserts the demo's outcomes.

use std::path::PathBuf;
use std::time::Duration;

use bbb_acceptance_tests::{fleet_scenario, repo_root};
use bbb_sandbox::{Options, Sandbox};

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-bbb-acc");

/// Newest modification time under `dir`.
fn newest(dir: &std::path::Path) -> std::time::SystemTime {
    let mut t = std::time::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        let m = if p.is_dir() {
            newest(&p)
        } else {
            entry.metadata().and_then(|m| m.modified()).unwrap_or(t)
        };
        t = t.max(m);
    }
    t
}

/// The debug `bbb-hook` of this workspace. `cargo test --workspace` builds it (the hook's own
/// tests need it); a missing or stale binary is an error rather than a silent old hook.
fn hook_binary() -> PathBuf {
    let root = repo_root();
    let bin = root.join("target/debug/bbb-hook");
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `cargo build -p bbb-hook` (or `cargo test --workspace`)",
                bin.display()
            )
        });
    for src in ["hook/src", "core/src"] {
        assert!(
            newest(&root.join(src)) <= built,
            "{} is older than {src}: run `cargo build -p bbb-hook` (or `cargo test --workspace`)",
            bin.display()
        );
    }
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fleet_scenario_keeps_meetings_heals_crashes_and_scales_ahead_of_events() {
    let sb = Sandbox::start(Options {
        hook_binary: hook_binary(),
        print_events: true,
        protect_every: Duration::from_millis(700),
        poll_interval: Duration::from_millis(300),
        max_size: 6,
    })
    .await
    .expect("sandbox");
    let out = fleet_scenario::play(&sb, PROVIDER, 3).await;
    assert!(out.failures.is_empty(), "failed steps: {:?}", out.failures);
    assert_eq!(out.servers_launched, 3);
    assert_eq!(out.meetings_dropped, 0);
    assert_eq!(out.servers_drained, 2);
    assert_eq!(out.crash_leftovers, (1, 1));
    assert_eq!(out.leftovers_after_apply, (0, 0));
    assert_eq!(out.event_capacity, (3, 3));
    assert!(out.event_ahead_seconds > 0);
    let drains = sb
        .events
        .all()
        .iter()
        .filter(|e| e.text.contains("drain complete"))
        .count();
    assert_eq!(drains, 2, "each drained server ran its hook's drain");
}
