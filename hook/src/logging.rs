//! Logs: one line per event on stderr, `key=value` fields. Under systemd (`JOURNAL_STREAM`
//! set) without timestamps or colours, since journald adds its own. `BBB_HOOK_LOG` sets the
//! level (`error`, `warn`, `info`, `debug`, `trace`; default `info`).

use tracing::level_filters::LevelFilter;

pub fn init() {
    let level = std::env::var("BBB_HOOK_LOG")
        .ok()
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .with_ansi(false);
    if journald {
        builder.without_time().init();
    } else {
        builder.init();
    }
}
