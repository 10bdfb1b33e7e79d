//! Where a run's over-capacity participant-minutes and server-hours come from (diagnostics the
//! benchmark prints under the table; they do not change the metrics).

use std::fmt::Write as _;

/// Why a server above capacity with more than one meeting got there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverCause {
    /// One of its meetings alone is larger than a server, and it shares the server.
    BigMeeting,
    /// It took two or more `create`s of one burst (created within [`BURST_WINDOW_S`] of each
    /// other) whose sizes were unknown when Scalelite placed them.
    Burst,
    /// Its meetings were placed at different times: they grew after the server was chosen.
    Growth,
}

/// `create`s this close together count as one burst.
pub const BURST_WINDOW_S: u64 = 300;

impl OverCause {
    /// Classifies a server above capacity from its live meetings: (created at, final size).
    pub fn classify(capacity: u32, meetings: &[(u64, u32)]) -> Self {
        if meetings.iter().any(|&(_, size)| size > capacity) {
            return Self::BigMeeting;
        }
        let mut starts: Vec<u64> = meetings.iter().map(|&(s, _)| s).collect();
        starts.sort_unstable();
        if starts.windows(2).any(|w| w[1] - w[0] <= BURST_WINDOW_S) {
            Self::Burst
        } else {
            Self::Growth
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What a billed instance was doing during a minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerUse {
    /// Launching (not yet in service).
    Launching,
    /// In service, enabled, hosting meetings.
    Serving,
    /// In service, enabled, no meeting (pre-warmed or waiting for scale-in).
    Idle,
    /// In service, cordoned or disabled (steered away from, reserve, or surplus draining).
    Cordoned,
    /// Terminating: the drain waits for its meetings and recordings.
    Draining,
}

/// The breakdown accumulators of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Breakdown {
    /// Over-capacity participant-minutes by [`OverCause`].
    pub over: [u64; 3],
    /// Server-minutes by [`ServerUse`].
    pub uses: [u64; 5],
}

impl Breakdown {
    pub fn over(&mut self, cause: OverCause, participants: u32) {
        self.over[cause.index()] += u64::from(participants);
    }

    pub fn server_minute(&mut self, u: ServerUse) {
        self.uses[u as usize] += 1;
    }

    /// One line: over-capacity shares of all participant-minutes by cause, server-hours by use.
    pub fn line(&self, participant_minutes: u64) -> String {
        let pm = participant_minutes.max(1) as f64;
        let mut s = String::new();
        let _ = write!(
            s,
            "over-cap big-meeting {:.2}% burst {:.2}% growth {:.2}%; server-hours",
            100.0 * self.over[0] as f64 / pm,
            100.0 * self.over[1] as f64 / pm,
            100.0 * self.over[2] as f64 / pm,
        );
        for (name, m) in ["launching", "serving", "idle", "cordoned", "draining"]
            .iter()
            .zip(self.uses)
        {
            let _ = write!(s, " {name} {:.1}", m as f64 / 60.0);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_big_meeting_then_burst_then_growth() {
        assert_eq!(
            OverCause::classify(200, &[(0, 300), (0, 5)]),
            OverCause::BigMeeting
        );
        assert_eq!(
            OverCause::classify(200, &[(0, 120), (3600, 10), (3660, 100)]),
            OverCause::Burst
        );
        assert_eq!(
            OverCause::classify(200, &[(0, 120), (3600, 100)]),
            OverCause::Growth
        );
    }
}
