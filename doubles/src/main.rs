//! `bbb-doubles`: serves one Scalelite double and N BBB doubles on 127.0.0.1, prints their URLs
//! and secrets as one JSON line, and runs until SIGTERM or Ctrl-C.

use bbb_doubles::{BbbDouble, ScaleliteDouble};
use clap::Parser;
use serde_json::json;

#[derive(Parser, Debug)]
#[command(name = "bbb-doubles", about = "Local Scalelite and BBB API doubles")]
struct Args {
    /// Scalelite load-balancer secret.
    #[arg(
        long,
        env = "SCALELITE_SECRET",
        default_value = "scalelite-double-secret"
    )]
    scalelite_secret: String,
    /// Number of BBB doubles.
    #[arg(long, default_value_t = 2)]
    bbb_count: u32,
    /// Shared secret of the BBB doubles (the index is appended: `<secret>-0`, `<secret>-1`, ...).
    #[arg(long, env = "BBB_SECRET", default_value = "bbb-double-secret")]
    bbb_secret: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let scalelite = ScaleliteDouble::start(args.scalelite_secret).await?;
    let mut bbbs = Vec::new();
    for i in 0..args.bbb_count {
        bbbs.push(BbbDouble::start(format!("{}-{i}", args.bbb_secret)).await?);
    }
    let line = json!({
        "scalelite": { "url": scalelite.url(), "secret": scalelite.secret() },
        "bbb": bbbs
            .iter()
            .map(|b| json!({ "url": b.url(), "secret": b.secret() }))
            .collect::<Vec<_>>(),
    });
    println!("{line}");

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(bbbs);
    drop(scalelite);
    Ok(())
}
