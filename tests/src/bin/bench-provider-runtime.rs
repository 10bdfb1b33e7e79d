//! Benchmark of the provider runtime: wall time of plan, apply, refresh-plan and destroy for
//! N `terraform_data` resources (Terraform's built-in provider), N `bbb_test_echo` (the same
//! shape served by this provider) and N `bbb_test_item` (a richer schema backed by files), in
//! the same run. Prints figures; asserts nothing.
//!
//! Run: `scripts/bench-provider-runtime [N] [ROUNDS]` (release build; default 200 and 3).

use std::time::{Duration, Instant};

use bbb_acceptance_tests::Workspace;

fn provider_bin() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.with_file_name("terraform-provider-bbb-acc")
        .display()
        .to_string()
}

fn timed(ws: &Workspace, args: &[&str]) -> Duration {
    let start = Instant::now();
    ws.ok(args);
    start.elapsed()
}

/// Median plan, apply, no-op plan and destroy times over `rounds` fresh runs.
fn measure(body: &str, rounds: usize) -> [Duration; 4] {
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for _ in 0..rounds {
        let ws = Workspace::new(&provider_bin());
        ws.write_config(body);
        ws.ok(&["version"]); // warm the page cache for Terraform itself
        samples[0].push(timed(&ws, &["plan", "-no-color", "-input=false"]));
        samples[1].push(timed(
            &ws,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
        ));
        samples[2].push(timed(
            &ws,
            &["plan", "-no-color", "-input=false", "-detailed-exitcode"],
        ));
        samples[3].push(timed(
            &ws,
            &["destroy", "-auto-approve", "-no-color", "-input=false"],
        ));
    }
    samples.map(|mut s| {
        s.sort();
        s[s.len() / 2]
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3).max(1);
    let ours = format!(
        "provider \"bbb\" {{}}\n\nresource \"bbb_test_item\" \"x\" {{\n  count = {n}\n  name  = \"item-${{count.index}}\"\n  value = \"v\"\n}}\n"
    );
    let builtin = format!("resource \"terraform_data\" \"x\" {{\n  count = {n}\n  input = \"item-${{count.index}}\"\n}}\n");

    let echo = format!(
        "provider \"bbb\" {{}}\n\nresource \"bbb_test_echo\" \"x\" {{\n  count = {n}\n  input = \"item-${{count.index}}\"\n}}\n"
    );

    println!("provider runtime benchmark: {n} resources, median of {rounds} runs, Terraform via scripts/terraform");
    let theirs = measure(&builtin, rounds);
    let rows = [
        ("bbb_test_echo", measure(&echo, rounds)),
        ("bbb_test_item", measure(&ours, rounds)),
    ];
    let targets = ["<= 2.0", "<= 1.5", "", ""];
    for (name, mine) in rows {
        println!();
        println!(
            "{:<22} {:>14} {:>16} {:>8} {:>8}",
            "step", "terraform_data", name, "ratio", "target"
        );
        for (i, step) in ["plan (create)", "apply", "plan (no changes)", "destroy"]
            .iter()
            .enumerate()
        {
            let ratio = mine[i].as_secs_f64() / theirs[i].as_secs_f64().max(1e-9);
            println!(
                "{step:<22} {:>13.3}s {:>15.3}s {ratio:>8.2} {:>8}",
                theirs[i].as_secs_f64(),
                mine[i].as_secs_f64(),
                targets[i]
            );
        }
    }
}
