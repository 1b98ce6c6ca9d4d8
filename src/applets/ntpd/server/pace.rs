//! Transmit timestamps for a batch of replies. One sendmmsg sends its
//! replies one after the other: on this kind of machine each takes a few
//! microseconds in the kernel, so the 30th reply of a batch leaves about
//! 100 us after the first. Stamping every reply with the same time would
//! make late replies look early and shift the client's offset by half that.
//! Instead reply k is stamped `start + k * per_reply`, where `per_reply` is
//! the measured time one reply of a batch takes to go out.

/// The weight of each new measurement in the running estimate: about the
/// last eight batches count.
const GAIN: f64 = 1.0 / 8.0;
/// The first estimate, before anything was measured (seconds).
const INITIAL_PER_REPLY: f64 = 3e-6;
/// A measurement above this is an interruption (the loop was preempted in
/// the middle of a batch), not the cost of sending: it is left out.
const MAX_PER_REPLY: f64 = 50e-6;

/// The running estimate of the time each reply of a batch takes to leave.
#[derive(Debug)]
pub struct SendPace {
    per_reply: f64,
}

impl Default for SendPace {
    fn default() -> SendPace {
        SendPace {
            per_reply: INITIAL_PER_REPLY,
        }
    }
}

impl SendPace {
    /// Seconds after the batch's start at which reply `k` leaves.
    pub fn offset_of(&self, k: usize) -> f64 {
        k as f64 * self.per_reply
    }

    /// A batch of `sent` replies took `elapsed` seconds from its start
    /// (stamping included) to the end of sendmmsg.
    pub fn measured(&mut self, sent: usize, elapsed: f64) {
        if sent == 0 || elapsed <= 0.0 {
            return;
        }
        let per_reply = elapsed / sent as f64;
        if per_reply <= MAX_PER_REPLY {
            self.per_reply += GAIN * (per_reply - self.per_reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_follows_what_batches_take() {
        let mut pace = SendPace::default();
        assert_eq!(pace.offset_of(0), 0.0);
        for _ in 0..100 {
            pace.measured(32, 32.0 * 4e-6);
        }
        assert!((pace.offset_of(10) - 40e-6).abs() < 1e-9);
    }

    #[test]
    fn interruptions_and_empty_batches_are_left_out() {
        let mut pace = SendPace::default();
        pace.measured(10, 10e-3);
        pace.measured(0, 1.0);
        pace.measured(4, 0.0);
        assert_eq!(pace.offset_of(1), INITIAL_PER_REPLY);
    }
}
