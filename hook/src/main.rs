//! `bbb-hook`: the on-instance lifecycle hook of a `bbb_fleet` BBB server, run by systemd.
//!
//! `launch` points the instance's DNS name at it and registers it in Scalelite; `protect` (a
//! timer) keeps scale-in protection on while it hosts meetings; `drain` takes it out of the
//! fleet without dropping a meeting; `status` shows where it stands.

mod cadence;
mod commands;
mod config;
mod context;
mod error;
mod imds;
mod local_bbb;
mod logging;
mod media;
mod recording_steps;
mod recordings;
mod shutdown;
mod state;
mod tls;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::context::Context;
use crate::error::{HookError, EXIT_TEMPFAIL, EXIT_USAGE};

#[derive(Parser, Debug)]
#[command(
    name = "bbb-hook",
    version,
    about = "Lifecycle hook of a bbb_fleet BBB server: DNS, Scalelite, scale-in protection, drain",
    after_help = "Exit codes: 0 done, 64 usage, 75 temporary failure (retry), 78 configuration error, launch refused on a terminating instance, or launch given up (instance reported Unhealthy for replacement), 1 other.\nSettings come from the environment (see ami/README.md)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create the A record, register the server in Scalelite, complete the launching lifecycle
    /// action, then, once the instance is in service and protected, enable the server. Running
    /// it again changes nothing.
    Launch {
        /// Only create the A record and wait until Route53 reports it in sync.
        #[arg(long)]
        dns_only: bool,
    },
    /// Keep scale-in protection on while meetings run or recordings are processed; repair a
    /// vanished Scalelite registration.
    Protect,
    /// Cordon, wait for meetings and recordings, deregister, delete the record, complete the
    /// terminating lifecycle action.
    Drain {
        /// Wait for the instance's terminating lifecycle signal (instance metadata), then drain.
        #[arg(long)]
        on_lifecycle_signal: bool,
    },
    /// Show the instance's DNS record, Scalelite registration, protection and meetings.
    Status {
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the instance's DNS name.
    RecordName,
    /// As root, before BBB starts: this instance's IPs (IMDS) into FreeSWITCH, bbb-webrtc-sfu
    /// and sip.nginx, the public IP on lo, bbb-web's STUN/TURN file. Needs no fleet document.
    Configure,
    /// Print the systemd time limits that follow from the fleet's drain.max_wait (KEY=VALUE).
    Timeouts,
    /// The server's certificate (BBB_TLS_MODE).
    Tls {
        #[command(subcommand)]
        action: TlsAction,
    },
}

#[derive(Subcommand, Debug)]
enum TlsAction {
    /// Install the fleet's shared certificate from BBB_TLS_CERTIFICATE_PARAMETER (first boot).
    Install,
    /// Record a Let's Encrypt request for this server's name, or refuse (exit 78) when the
    /// fleet used up BBB_LETSENCRYPT_WEEKLY_BUDGET in the last 7 days.
    Budget,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    logging::init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return ExitCode::from(1);
        }
    };
    let command = format!("{:?}", cli.command);
    match runtime.block_on(run_until_stopped(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            tracing::error!(command = %command, error = %e, exit_code = e.exit_code(), "failed");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs `command` until it ends or a SIGTERM/SIGINT stops it. The drain and the lifecycle
/// watcher stop at their next wait (saving how far they got); the short commands are abandoned
/// where they are (every state write is atomic and each step is idempotent, so running them
/// again finishes the work).
async fn run_until_stopped(command: Command) -> Result<u8, HookError> {
    if let Err(e) = shutdown::install() {
        tracing::warn!(error = %e, "cannot listen for SIGTERM/SIGINT");
    }
    if matches!(command, Command::Drain { .. }) {
        return run(command).await;
    }
    tokio::select! {
        r = run(command) => r,
        () = shutdown::wait() => Err(HookError::Interrupted("the command was abandoned; running it again finishes it")),
    }
}

async fn run(command: Command) -> Result<u8, HookError> {
    let settings = Settings::from_vars(|name| std::env::var(name).ok())?;
    if let Command::Configure = command {
        return commands::configure::run(&settings).await;
    }
    let refresh = matches!(command, Command::Launch { .. });
    let ctx = Context::build(settings, refresh).await?;
    match command {
        Command::Launch { dns_only } => commands::launch::run(&ctx, dns_only).await.map(|()| 0),
        Command::Protect => commands::protect::run(&ctx).await.map(|()| 0),
        Command::Drain {
            on_lifecycle_signal,
        } => {
            let outcome = if on_lifecycle_signal {
                commands::drain::on_lifecycle_signal(&ctx).await?
            } else {
                commands::drain::run(&ctx, false).await?
            };
            if outcome.scalelite_failures.is_empty() {
                Ok(0)
            } else {
                tracing::warn!(failures = ?outcome.scalelite_failures, "drained without scalelite: dns removed and lifecycle completed, registration left for terraform apply");
                Ok(EXIT_TEMPFAIL)
            }
        }
        Command::Status { json } => {
            let status = commands::status::collect(&ctx).await;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&status)
                        .map_err(|e| HookError::Io(e.to_string()))?
                );
            } else {
                print!("{}", commands::status::render(&status));
            }
            Ok(0)
        }
        Command::Timeouts => {
            commands::timeouts::run(&ctx);
            Ok(0)
        }
        Command::Configure => Ok(0),
        Command::RecordName => {
            println!("{}", ctx.record_name());
            Ok(0)
        }
        Command::Tls { action } => match action {
            TlsAction::Install => commands::tls::install(&ctx).await.map(|()| 0),
            TlsAction::Budget => commands::tls::budget(&ctx).await.map(|()| 0),
        },
    }
}
