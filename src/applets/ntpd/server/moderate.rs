//! Request moderation: under heavy load, wait a little after answering a
//! batch so that the next wake finds many requests queued, not one.
//!
//! At 100k requests/s a server that wakes for every datagram spends most
//! of its time in the scheduler and in per-call system call overhead
//! (poll, recvmmsg, sendmmsg), not in answering. Network cards solve the
//! same problem with interrupt moderation; this is its socket-level form.
//!
//! It costs an NTP client nothing in accuracy: the receive timestamp is the
//! kernel's (taken when the datagram arrived, so the daemon only moderates
//! sockets that have kernel timestamps) and the transmit timestamp is taken
//! right before sending, so the time a request waits is inside T3 - T2 and
//! drops out of the client's offset and delay. Below `MODERATE_FROM`
//! requests/s the loop never waits, so latency at ordinary loads is what it
//! was.

use std::time::Duration;

/// The arrival rate (requests/s) from which the loop waits between
/// batches. Well above what a large site's clients send (a client polls
/// every 64 s or slower: 25k/s is 1.6 million clients at the fastest poll).
const MODERATE_FROM: f64 = 25_000.0;
/// The batch size a wait aims for: half of the recvmmsg batch, so a burst
/// still fits in one call.
const TARGET_BATCH: f64 = 32.0;
/// The longest wait: bounds the extra round-trip time a client sees, and
/// keeps what queues up meanwhile (at 300k/s, 60 datagrams) far below the
/// socket's receive buffer.
const MAX_WAIT: Duration = Duration::from_micros(200);
/// How often the arrival rate is measured.
const WINDOW: f64 = 0.050;

/// The measured arrival rate and the wait it calls for.
#[derive(Debug)]
pub struct Moderation {
    window_start: f64,
    served: u64,
    wait: Option<Duration>,
}

impl Moderation {
    pub fn new(now: f64) -> Moderation {
        Moderation {
            window_start: now,
            served: 0,
            wait: None,
        }
    }

    /// Counts `n` requests taken at monotonic time `now` (seconds), and at
    /// the end of each window recomputes the wait from their rate.
    pub fn taken(&mut self, n: usize, now: f64) {
        self.served += n as u64;
        let elapsed = now - self.window_start;
        if elapsed < WINDOW {
            return;
        }
        let rate = self.served as f64 / elapsed;
        self.wait = (rate >= MODERATE_FROM)
            .then(|| Duration::from_secs_f64(TARGET_BATCH / rate).min(MAX_WAIT));
        self.window_start = now;
        self.served = 0;
    }

    /// How long to wait before looking for the next batch, after a wake
    /// that took `taken` requests: not at all when that wake already found
    /// a batch (under saturation requests queue up by themselves, and an
    /// idle wait would only lose throughput).
    pub fn wait_after(&self, taken: usize) -> Option<Duration> {
        self.wait.filter(|_| (taken as f64) < TARGET_BATCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `rate` requests/s in batches of `batch` for `seconds`.
    fn feed(m: &mut Moderation, start: f64, rate: f64, batch: usize, seconds: f64) -> f64 {
        let step = batch as f64 / rate;
        let mut t = start;
        while t < start + seconds {
            t += step;
            m.taken(batch, t);
        }
        t
    }

    #[test]
    fn ordinary_loads_never_wait() {
        let mut m = Moderation::new(0.0);
        feed(&mut m, 0.0, 10_000.0, 1, 1.0);
        assert_eq!(m.wait_after(1), None);
    }

    #[test]
    fn heavy_loads_wait_for_a_batch_and_no_longer_than_the_bound() {
        let mut m = Moderation::new(0.0);
        let t = feed(&mut m, 0.0, 100_000.0, 1, 0.2);
        // 32 requests at 100k/s arrive in 320 us: more than the bound.
        assert_eq!(m.wait_after(1), Some(MAX_WAIT));
        feed(&mut m, t, 400_000.0, 8, 0.2);
        assert_eq!(m.wait_after(8), Some(Duration::from_micros(80)));
    }

    #[test]
    fn a_wake_that_found_a_batch_does_not_wait() {
        let mut m = Moderation::new(0.0);
        feed(&mut m, 0.0, 250_000.0, 64, 0.2);
        assert_eq!(m.wait_after(64), None);
        assert!(m.wait_after(3).is_some());
    }

    #[test]
    fn the_wait_ends_when_the_load_does() {
        let mut m = Moderation::new(0.0);
        let t = feed(&mut m, 0.0, 100_000.0, 4, 0.2);
        assert!(m.wait_after(4).is_some());
        // One request after a long quiet spell: the window's rate is tiny.
        m.taken(1, t + 1.0);
        assert_eq!(m.wait_after(1), None);
    }
}
