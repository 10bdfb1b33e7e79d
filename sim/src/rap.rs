//! BBB's recording processing on one server: a queue, not one job per recording.
//!
//! Upstream (bigbluebutton/bigbluebutton, `record-and-playback/core/systemd/
//! bbb-rap-resque-worker.service`, BBB 3.0): `ExecStart=/usr/bin/bundle exec rake -f Rakefile
//! resque:workers` with `QUEUE=rap:archive,rap:publish,rap:process,rap:sanity,rap:captions,
//! rap:events` and `COUNT=1`: one Resque worker takes every step of every recording of the
//! server. It takes jobs by queue priority, so the steps of different recordings interleave,
//! but the work is done one step at a time: recordings that end together (a lecture block's)
//! finish no sooner than one after the other would, so a server hosting several holds its last
//! one until the whole queue is through, which this plays. [`Config::recording_workers`](crate::Config) plays an
//! image that runs more workers.

/// The workers of one server, each free from a second on.
#[derive(Clone, Debug, Default)]
pub struct RecordingQueue {
    free_at: Vec<u64>,
}

impl RecordingQueue {
    /// A server with `workers` recording workers (at least one).
    pub fn new(workers: u32) -> Self {
        Self {
            free_at: vec![0; workers.max(1) as usize],
        }
    }

    /// Queues a recording ready at `ready_at` (its meeting ended) that takes `work_s` of one
    /// worker: it goes to the worker free first. Answers when it is done.
    pub fn schedule(&mut self, ready_at: u64, work_s: u64) -> u64 {
        let Some(worker) = self.free_at.iter_mut().min() else {
            return ready_at + work_s;
        };
        let done = (*worker).max(ready_at) + work_s;
        *worker = done;
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_worker_processes_recordings_that_end_together_one_after_the_other() {
        let mut q = RecordingQueue::new(1);
        assert_eq!(q.schedule(1000, 600), 1600);
        assert_eq!(q.schedule(1000, 600), 2200);
        // A recording ready after the queue emptied starts at once.
        assert_eq!(q.schedule(5000, 100), 5100);
    }

    #[test]
    fn two_workers_take_two_at_a_time() {
        let mut q = RecordingQueue::new(2);
        assert_eq!(q.schedule(1000, 600), 1600);
        assert_eq!(q.schedule(1000, 600), 1600);
        assert_eq!(q.schedule(1000, 600), 2200);
    }
}
