//! `bbb-hook timeouts`: the systemd time limits that follow from the fleet's `drain.max_wait`, so
//! the drain, the units' stop timeouts and the shutdown's job timeout come from one setting.
//! First boot feeds them to `write-dropins` (ami/scripts/write-dropins.sh).

use crate::context::Context;

/// Time after `max_wait` for the drain to deregister, delete the record and complete the
/// lifecycle action (the provider keeps `max_wait` this far below the lifecycle hook's global
/// timeout, provider/src/resources/drain_limits.rs).
pub const DRAIN_FINISH_SECONDS: u64 = 300;
/// Time after the drain's stop timeout for the rest of the shutdown.
pub const SHUTDOWN_REST_SECONDS: u64 = 300;

/// The limits for a `max_wait` of `max_wait_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub max_wait_seconds: u64,
    /// `TimeoutStopSec=` of bbb-hook-launch.service and bbb-hook-lifecycle.service.
    pub unit_stop_seconds: u64,
    /// `JobTimeoutSec=` of poweroff/reboot/halt/kexec.target.
    pub shutdown_job_seconds: u64,
}

impl Timeouts {
    pub fn for_max_wait(max_wait_seconds: u64) -> Self {
        let unit_stop_seconds = max_wait_seconds.saturating_add(DRAIN_FINISH_SECONDS);
        Timeouts {
            max_wait_seconds,
            unit_stop_seconds,
            shutdown_job_seconds: unit_stop_seconds.saturating_add(SHUTDOWN_REST_SECONDS),
        }
    }

    /// `KEY=VALUE` lines, one a line, for first boot.
    pub fn render(&self) -> String {
        format!(
            "DRAIN_MAX_WAIT_SEC={}\nUNIT_TIMEOUT_STOP_SEC={}\nSHUTDOWN_JOB_TIMEOUT_SEC={}\n",
            self.max_wait_seconds, self.unit_stop_seconds, self.shutdown_job_seconds
        )
    }
}

/// Prints the limits of the fleet's configuration.
pub fn run(ctx: &Context) -> Timeouts {
    let t = Timeouts::for_max_wait(ctx.config.max_wait_seconds);
    tracing::info!(
        max_wait_s = t.max_wait_seconds,
        unit_stop_s = t.unit_stop_seconds,
        shutdown_job_s = t.shutdown_job_seconds,
        "systemd time limits from drain.max_wait"
    );
    print!("{}", t.render());
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_four_hours_give_the_image_defaults() {
        // ami/systemd: TimeoutStopSec=4h 5min, JobTimeoutSec=4h 10min.
        let t = Timeouts::for_max_wait(4 * 3600);
        assert_eq!(t.unit_stop_seconds, 4 * 3600 + 5 * 60);
        assert_eq!(t.shutdown_job_seconds, 4 * 3600 + 10 * 60);
    }

    #[test]
    fn every_limit_follows_max_wait_and_the_shutdown_outlasts_the_drain() {
        for max_wait in [60, 600, 7200, 30 * 3600] {
            let t = Timeouts::for_max_wait(max_wait);
            assert!(t.unit_stop_seconds > t.max_wait_seconds);
            assert!(t.shutdown_job_seconds > t.unit_stop_seconds);
        }
        assert_eq!(
            Timeouts::for_max_wait(7200).render(),
            "DRAIN_MAX_WAIT_SEC=7200\nUNIT_TIMEOUT_STOP_SEC=7500\nSHUTDOWN_JOB_TIMEOUT_SEC=7800\n"
        );
    }
}
