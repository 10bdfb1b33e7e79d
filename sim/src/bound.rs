//! What perfect knowledge would bill: a reference for the targets, not a policy.
//!
//! [`clairvoyant_hours`] places every meeting, at its start, knowing its final size, its end and
//! its recording: on the server with room (final sizes summing to at most the capacity; a
//! meeting larger than a server gets one of its own) whose own end (last meeting's expiry or
//! recording done) is closest to the meeting's, else on a new server that is there at once. A
//! server leaves when its meetings have expired and its recordings are processed; one server
//! stays at all times (the group's minimum). No over-capacity, no launch delay, no meeting
//! moved. A heuristic (bin packing is NP-hard), so an upper bound on the clairvoyant optimum;
//! the ideal with the one-server floor is the lower bound every policy pays.

use crate::policy::Config;
use crate::trace::MeetingSpec;

struct Bin {
    /// (expires at, final size) of the meetings on it.
    meetings: Vec<(u64, u32)>,
    /// When its last meeting expires and its last recording is processed.
    busy_until: u64,
    /// Its recording workers (BBB's one by default).
    rap: crate::rap::RecordingQueue,
}

/// Server-hours of the clairvoyant placement over `horizon_s`, billed per minute.
pub fn clairvoyant_hours(c: &Config, specs: &[MeetingSpec], horizon_s: u64) -> f64 {
    let mut order: Vec<&MeetingSpec> = specs.iter().collect();
    order.sort_by_key(|m| m.start_s);
    let mut bins: Vec<Bin> = Vec::new();
    let mut next = 0usize;
    let mut minutes = 0u64;
    for minute in 0..horizon_s.div_ceil(60) {
        let t = minute * 60;
        for b in &mut bins {
            b.meetings.retain(|&(end, _)| end > t);
        }
        bins.retain(|b| !b.meetings.is_empty() || b.busy_until > t);
        while let Some(m) = order.get(next).filter(|m| m.start_s <= t) {
            next += 1;
            let end = m.expire_s();
            let busy = if m.recorded() && m.participants > 0 {
                end + c.recording_processing_s(m.duration_s)
            } else {
                end
            };
            let fits = |b: &Bin| {
                let load: u32 = b.meetings.iter().map(|&(_, p)| p).sum();
                b.meetings.is_empty() || load + m.participants <= c.capacity
            };
            let best = bins
                .iter_mut()
                .filter(|b| fits(b))
                .min_by_key(|b| b.busy_until.max(t).abs_diff(busy));
            let bin = match best {
                Some(b) => b,
                None => {
                    bins.push(Bin {
                        meetings: Vec::new(),
                        busy_until: end,
                        rap: crate::rap::RecordingQueue::new(c.recording_workers),
                    });
                    let Some(b) = bins.last_mut() else { break };
                    b
                }
            };
            bin.meetings.push((end, m.participants));
            // The recording joins the server's queue (queued as placed: a schedule BBB could
            // beat by taking recordings as they become ready, so still an upper bound).
            let done = if busy > end {
                bin.rap.schedule(end, busy - end)
            } else {
                end
            };
            bin.busy_until = bin.busy_until.max(done);
        }
        minutes += (bins.len() as u64).max(u64::from(c.min_size));
    }
    minutes as f64 / 60.0
}

/// The ideal with the group's minimum: per minute `max(min_size, ideal)`, in hours.
pub fn floor_hours(c: &Config, specs: &[MeetingSpec], horizon_s: u64) -> f64 {
    let minutes: u64 = crate::report::ideal_servers(c, specs, horizon_s)
        .into_iter()
        .map(|n| u64::from(n.max(c.min_size)))
        .sum();
    minutes as f64 / 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sizes_share_a_server_up_to_capacity_and_recordings_keep_it() {
        let c = Config::for_capacity(100);
        // Two 50s fit one server for an hour; a third 50 needs a second one.
        let specs = vec![
            MeetingSpec::new(0, 3540, 50, ""),
            MeetingSpec::new(0, 3540, 50, ""),
            MeetingSpec::new(0, 3540, 50, ""),
        ];
        // 60 minutes (expiry one minute after the 59): 2 servers, then the floor of 1.
        let h = clairvoyant_hours(&c, &specs, 7200);
        assert!((h - (2.0 + 1.0)).abs() < 0.05, "{h}");
        // Recorded, two 80s need two servers, and each stays until its recording is processed
        // (expiry at 3,600 s plus 5 min plus half the meeting: 5,670 s, 95 minutes).
        let rec = vec![
            MeetingSpec::new(0, 3540, 80, "rec"),
            MeetingSpec::new(0, 3540, 80, "rec"),
        ];
        let h = clairvoyant_hours(&c, &rec, 7200);
        assert!((h - (95.0 * 2.0 + 25.0) / 60.0).abs() < 0.02, "{h}");
        // The ideal: 150 participants (after the ramp) need 2 servers; the floor 1 otherwise.
        let floor = floor_hours(&c, &specs, 7200);
        assert!(floor > 1.9 && floor < 3.0, "{floor}");
    }
}
