//! Benchmark: Scalelite calls and wall time of a refresh (`terraform plan` with nothing to
//! change) of 1, 50 and 500 `bbb_scalelite_server` resources, against the Scalelite double.
//! Prints figures; asserts nothing. Run: `scripts/bench-scalelite-refresh`.

use std::time::Instant;

use bbb_acceptance_tests::Workspace;
use bbb_doubles::scalelite::ScaleliteDouble;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1, 50, 500]
    } else {
        sizes
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let provider = std::env::current_exe()
        .unwrap_or_default()
        .with_file_name("terraform-provider-bbb-acc");
    println!("refresh of N bbb_scalelite_server resources (terraform plan, no changes), Scalelite double on 127.0.0.1");
    println!(
        "{:>6} {:>14} {:>14} {:>12}",
        "N", "getServers", "all calls", "wall time"
    );
    for n in sizes {
        let scalelite = rt
            .block_on(ScaleliteDouble::start("bench-secret"))
            .expect("double");
        let mut ws = Workspace::new(&provider.display().to_string());
        ws.set_env("BBB_SCALELITE_URL", &scalelite.url());
        ws.set_env("BBB_SCALELITE_SECRET", "bench-secret");
        ws.write_config(&format!(
            "resource \"bbb_scalelite_server\" \"s\" {{\n  count  = {n}\n  url    = \"https://bbb${{count.index}}.example.com\"\n  secret = \"s-${{count.index}}\"\n}}\n"
        ));
        ws.ok(&["apply", "-auto-approve", "-no-color", "-parallelism=20"]);
        scalelite.reset_calls();
        let start = Instant::now();
        ws.ok(&["plan", "-no-color", "-detailed-exitcode"]);
        let wall = start.elapsed();
        println!(
            "{n:>6} {:>14} {:>14} {:>11.3}s",
            scalelite.calls("getServers"),
            scalelite.total_calls(),
            wall.as_secs_f64()
        );
    }
}
