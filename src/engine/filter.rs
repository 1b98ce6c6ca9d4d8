//! The clock filter of RFC 5905 §10: the last eight samples of one
//! association, the one with the lowest delay picked as the peer's offset,
//! and the popcorn spike suppressor.
//!
//! What it yields is what `ntpq -p` shows (offset, delay, dispersion,
//! jitter) and what the selection algorithm judges peers by. The clock
//! discipline itself feeds on every sample through `estimator`, which makes
//! better use of them than "keep the lowest delay".

/// Stages of the filter.
pub const NSTAGES: usize = 8;
/// RFC 5905 MAXDISP: the dispersion of an empty stage, seconds.
pub const MAX_DISPERSION: f64 = 16.0;
/// RFC 5905 PHI: the frequency tolerance of a clock, 15 ppm. Dispersion
/// grows at this rate as a sample ages.
pub const PHI: f64 = 15e-6;
/// RFC 5905 SGATE: an offset this many jitters away from the last one,
/// coming sooner than two poll intervals after it, is a popcorn spike.
const SPIKE_GATE: f64 = 3.0;

/// One measurement: what an exchange says about the peer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Peer minus us, seconds.
    pub offset: f64,
    /// Round trip, seconds.
    pub delay: f64,
    /// Error budget of the measurement itself (precisions and the time
    /// the exchange took at PHI), seconds.
    pub dispersion: f64,
    /// When it was taken (engine time, seconds).
    pub epoch: f64,
}

impl Sample {
    fn empty(epoch: f64) -> Sample {
        Sample {
            offset: 0.0,
            delay: 0.0,
            dispersion: MAX_DISPERSION,
            epoch,
        }
    }

    fn is_valid(&self) -> bool {
        self.dispersion < MAX_DISPERSION
    }

    fn dispersion_at(&self, now: f64) -> f64 {
        (self.dispersion + PHI * (now - self.epoch).max(0.0)).min(MAX_DISPERSION)
    }
}

/// What adding a sample did to the peer's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new best sample: the peer's offset changed.
    Updated,
    /// The best sample is one already used (or older): nothing new.
    Stale,
    /// The best sample jumps more than SGATE jitters: ignored for now.
    Popcorn,
}

#[derive(Clone, Debug)]
pub struct ClockFilter {
    /// Newest first.
    stages: [Sample; NSTAGES],
    /// The peer's figures from the best stage.
    pub offset: f64,
    pub delay: f64,
    /// At `updated`.
    pub dispersion: f64,
    pub jitter: f64,
    /// Epoch of the sample the figures come from (engine time).
    pub updated: f64,
    /// Whether `offset` comes from a real sample yet.
    pub primed: bool,
    /// The phase correction (`Timescale::phase_at`) the offsets refer to.
    phase: f64,
}

impl ClockFilter {
    pub fn new(now: f64) -> ClockFilter {
        ClockFilter {
            stages: [Sample::empty(now); NSTAGES],
            offset: 0.0,
            delay: 0.0,
            dispersion: MAX_DISPERSION,
            jitter: 0.0,
            updated: now,
            primed: false,
            phase: 0.0,
        }
    }

    /// Brings the offsets up to date with the phase corrected since they
    /// were taken: `phase` is the phase correction now.
    pub fn catch_up(&mut self, phase: f64) {
        let delta = phase - self.phase;
        if delta != 0.0 {
            self.shift(-delta);
        }
        self.phase = phase;
    }

    /// The peer offset as of phase correction `phase`, without updating.
    pub fn offset_at_phase(&self, phase: f64) -> f64 {
        self.offset - (phase - self.phase)
    }

    /// Newest first, for mode 6 (`filtoffset`, ...), with dispersions aged
    /// to `now`.
    pub fn stages(&self, now: f64) -> [Sample; NSTAGES] {
        let mut out = self.stages;
        for s in &mut out {
            s.dispersion = s.dispersion_at(now);
        }
        out
    }

    /// The peer dispersion as it has grown until `now`.
    pub fn dispersion_at(&self, now: f64) -> f64 {
        (self.dispersion + PHI * (now - self.updated).max(0.0)).min(MAX_DISPERSION)
    }

    /// Shifts `sample` in and recomputes the peer's figures. `precision`
    /// (seconds) floors the jitter; `poll` (seconds) is the spike window.
    pub fn add(&mut self, sample: Sample, precision: f64, poll: f64) -> Outcome {
        self.stages.rotate_right(1);
        self.stages[0] = sample;
        let now = sample.epoch;
        let mut sorted = self.stages(now);
        // Lowest delay first; empty stages last.
        sorted.sort_by(|a, b| {
            (!a.is_valid(), a.delay)
                .partial_cmp(&(!b.is_valid(), b.delay))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let valid = sorted.iter().filter(|s| s.is_valid()).count();
        let mut dispersion = 0.0;
        for s in sorted.iter().rev() {
            dispersion = 0.5 * (dispersion + s.dispersion);
        }
        if valid == 0 {
            self.dispersion = dispersion;
            self.updated = now;
            return Outcome::Stale;
        }
        let best = sorted[0];
        let squares: f64 = sorted[..valid]
            .iter()
            .map(|s| (s.offset - best.offset).powi(2))
            .sum();
        let jitter = if valid > 1 {
            (squares / (valid - 1) as f64).sqrt()
        } else {
            0.0
        }
        .max(precision);
        let jump = (best.offset - self.offset).abs();
        let was_primed = self.primed;
        self.dispersion = dispersion;
        self.jitter = jitter;
        if was_primed && jump > SPIKE_GATE * jitter && best.epoch - self.updated < 2.0 * poll {
            return Outcome::Popcorn;
        }
        if was_primed && best.epoch <= self.updated {
            return Outcome::Stale;
        }
        self.offset = best.offset;
        self.delay = best.delay;
        self.updated = best.epoch;
        self.primed = true;
        Outcome::Updated
    }

    /// Moves every stored offset by `delta`: after the clock is stepped by
    /// `s`, what the samples measured is `-s` off.
    pub fn shift(&mut self, delta: f64) {
        for s in self.stages.iter_mut().filter(|s| s.is_valid()) {
            s.offset += delta;
        }
        self.offset += delta;
    }

    /// Forgets every sample (the association was reset).
    pub fn clear(&mut self, now: f64) {
        let phase = self.phase;
        *self = ClockFilter::new(now);
        self.phase = phase;
    }

    /// How many stages hold a sample.
    pub fn valid_stages(&self) -> usize {
        self.stages.iter().filter(|s| s.is_valid()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(offset: f64, delay: f64, epoch: f64) -> Sample {
        Sample {
            offset,
            delay,
            dispersion: 1e-6,
            epoch,
        }
    }

    #[test]
    fn the_lowest_delay_sample_wins() {
        let mut f = ClockFilter::new(0.0);
        assert_eq!(
            f.add(sample(0.010, 0.050, 1.0), 1e-6, 64.0),
            Outcome::Updated
        );
        assert_eq!(
            f.add(sample(0.002, 0.010, 2.0), 1e-6, 64.0),
            Outcome::Updated
        );
        assert_eq!((f.offset, f.delay), (0.002, 0.010));
        // a later sample with a larger delay leaves the best one in place
        assert_eq!(f.add(sample(0.003, 0.020, 3.0), 1e-6, 64.0), Outcome::Stale);
        assert_eq!(f.offset, 0.002);
        assert_eq!(f.valid_stages(), 3);
    }

    #[test]
    fn dispersion_falls_as_stages_fill() {
        let mut f = ClockFilter::new(0.0);
        let mut last = MAX_DISPERSION;
        for i in 0..NSTAGES {
            f.add(sample(0.0, 0.01 + i as f64 * 1e-4, i as f64), 1e-6, 64.0);
            assert!(f.dispersion < last, "{i}: {}", f.dispersion);
            last = f.dispersion;
        }
        // one sample: half of the stage dispersions are 16 s
        let mut g = ClockFilter::new(0.0);
        g.add(sample(0.0, 0.01, 0.0), 1e-6, 64.0);
        assert!((g.dispersion - 8.0 * (1.0 - 1.0 / 128.0)).abs() < 1e-3);
    }

    #[test]
    fn a_popcorn_spike_is_suppressed() {
        // One fast sample at offset 0, then seven slower ones agreeing on
        // 5 ms: the fast one stays best until it ages out, and then the
        // jump to 5 ms is many jitters wide.
        let mut f = ClockFilter::new(0.0);
        f.add(sample(0.0, 0.001, 0.0), 1e-6, 64.0);
        for i in 1..NSTAGES {
            assert_eq!(
                f.add(sample(0.005, 0.01, i as f64), 1e-6, 64.0),
                Outcome::Stale
            );
        }
        assert_eq!(f.offset, 0.0);
        assert_eq!(
            f.add(sample(0.005, 0.01, 8.0), 1e-6, 64.0),
            Outcome::Popcorn
        );
        assert_eq!(f.offset, 0.0);
        // after two poll intervals the level is believed
        assert_eq!(
            f.add(sample(0.005, 0.01, 200.0), 1e-6, 64.0),
            Outcome::Updated
        );
        assert_eq!(f.offset, 0.005);
    }

    #[test]
    fn jitter_is_the_rms_difference_to_the_best() {
        let mut f = ClockFilter::new(0.0);
        f.add(sample(0.0, 0.01, 1.0), 1e-9, 64.0);
        f.add(sample(0.002, 0.02, 2.0), 1e-9, 64.0);
        f.add(sample(-0.002, 0.03, 3.0), 1e-9, 64.0);
        assert!(
            (f.jitter - (8e-6f64 / 2.0).sqrt()).abs() < 1e-9,
            "{}",
            f.jitter
        );
    }

    #[test]
    fn shifting_moves_every_offset() {
        let mut f = ClockFilter::new(0.0);
        f.add(sample(0.5, 0.01, 1.0), 1e-6, 64.0);
        f.shift(-0.5);
        assert_eq!(f.offset, 0.0);
        assert_eq!(f.stages(1.0)[0].offset, 0.0);
    }
}
