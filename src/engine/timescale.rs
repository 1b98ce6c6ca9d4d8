//! The raw timescale: what the clock would read had the engine never
//! corrected it.
//!
//! The engine knows every correction it asked for (each rate it set, from
//! when, and each step), so it can take them back out of any clock reading:
//! `raw = clock - correction`. Between two rate changes the kernel advances
//! the clock `1 + rate` times as fast as the raw oscillator, so the
//! correction grows by `rate / (1 + rate)` per second of clock time. The
//! estimators work in raw time, where a source's offset is the smooth
//! phase of the oscillator whatever the discipline does.
//!
//! Of the correction, the *phase* part is what offset removals (the rate
//! beyond the frequency correction, and steps) added: the clock filters
//! subtract the phase corrected since each sample was taken, so their
//! offsets stay comparable while the frequency part goes on tracking the
//! oscillator.

use std::collections::VecDeque;

/// Rate segments kept: enough to convert the timestamps of any exchange
/// still outstanding (several rate changes can happen within one).
const SEGMENTS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq)]
struct Segment {
    /// Clock reading (engine seconds) where the segment starts.
    start: f64,
    /// The correction there, seconds.
    correction: f64,
    /// The rate correction in force, s/s.
    rate: f64,
    /// The phase correction there, seconds.
    phase: f64,
    /// The part of `rate` that removes an offset, s/s.
    extra: f64,
}

#[derive(Clone, Debug)]
pub struct Timescale {
    segments: VecDeque<Segment>,
    /// Clock reading right after the last step, if any.
    last_step: Option<f64>,
}

impl Timescale {
    /// Starts at clock reading `now` with the clock running at `rate`.
    pub fn new(now: f64, rate: f64) -> Timescale {
        let mut segments = VecDeque::with_capacity(SEGMENTS + 1);
        segments.push_back(Segment {
            start: now,
            correction: 0.0,
            rate,
            phase: 0.0,
            extra: 0.0,
        });
        Timescale {
            segments,
            last_step: None,
        }
    }

    fn segment_at(&self, clock: f64) -> &Segment {
        self.segments
            .iter()
            .rev()
            .find(|s| s.start <= clock)
            .unwrap_or(&self.segments[0])
    }

    fn current(&self) -> &Segment {
        // Never empty: `new` pushes one and nothing pops the last.
        &self.segments[self.segments.len() - 1]
    }

    /// The total correction applied up to clock reading `clock`, seconds.
    pub fn correction_at(&self, clock: f64) -> f64 {
        let s = self.segment_at(clock);
        s.correction + (clock - s.start) * s.rate / (1.0 + s.rate)
    }

    /// The phase correction (offsets removed) up to clock reading `clock`.
    pub fn phase_at(&self, clock: f64) -> f64 {
        let s = self.segment_at(clock);
        s.phase + (clock - s.start) * s.extra / (1.0 + s.rate)
    }

    /// Raw time at clock reading `clock`.
    pub fn raw(&self, clock: f64) -> f64 {
        clock - self.correction_at(clock)
    }

    /// The rate correction in force at clock reading `clock`, s/s.
    pub fn rate_at(&self, clock: f64) -> f64 {
        self.segment_at(clock).rate
    }

    pub fn rate(&self) -> f64 {
        self.current().rate
    }

    /// The clock reading at which `raw_secs` of raw time will have passed
    /// since clock reading `clock`, at the current rate.
    pub fn clock_after(&self, clock: f64, raw_secs: f64) -> f64 {
        clock + raw_secs * (1.0 + self.rate())
    }

    /// The rate changes to `rate` at clock reading `now`, of which
    /// `extra` removes an offset (the rest is the frequency correction).
    pub fn set_rate(&mut self, now: f64, rate: f64, extra: f64) {
        let correction = self.correction_at(now);
        let phase = self.phase_at(now);
        self.push(Segment {
            start: now,
            correction,
            rate,
            phase,
            extra,
        });
    }

    /// The clock is stepped by `delta` at clock reading `now`: readings
    /// from then on are `delta` larger.
    pub fn step(&mut self, now: f64, delta: f64) {
        let correction = self.correction_at(now) + delta;
        let phase = self.phase_at(now) + delta;
        let rate = self.rate();
        let extra = self.current().extra;
        // Readings before the step may overlap those after it; only the
        // new segment is valid from now on.
        self.segments.clear();
        self.push(Segment {
            start: now + delta,
            correction,
            rate,
            phase,
            extra,
        });
        self.last_step = Some(now + delta);
    }

    /// Whether a clock reading was taken before the last step (and so
    /// means nothing any more).
    pub fn before_last_step(&self, clock: f64) -> bool {
        self.last_step.is_some_and(|s| clock < s)
    }

    fn push(&mut self, s: Segment) {
        self.segments.push_back(s);
        while self.segments.len() > SEGMENTS {
            self.segments.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_accumulates_a_correction() {
        let mut t = Timescale::new(0.0, 0.0);
        t.set_rate(10.0, 0.1, 0.1);
        // 11 s of clock at 10% fast is 10 s of raw time: 1 s corrected
        assert!((t.correction_at(21.0) - 1.0).abs() < 1e-12);
        assert!((t.raw(21.0) - 20.0).abs() < 1e-12);
        assert_eq!(t.correction_at(5.0), 0.0);
        assert!((t.clock_after(21.0, 10.0) - 32.0).abs() < 1e-12);
        assert!((t.phase_at(21.0) - 1.0).abs() < 1e-12);
        t.set_rate(21.0, 0.0, 0.0);
        assert!((t.correction_at(100.0) - 1.0).abs() < 1e-12);
        // a frequency correction is not a phase correction
        t.set_rate(100.0, 1e-4, 0.0);
        assert!((t.phase_at(200.0) - 1.0).abs() < 1e-12);
        assert_eq!(t.rate_at(15.0), 0.1);
    }

    #[test]
    fn a_step_shifts_readings_but_not_raw_time() {
        let mut t = Timescale::new(0.0, 0.0);
        t.step(100.0, 50.0);
        assert!((t.raw(150.0) - 100.0).abs() < 1e-12);
        assert_eq!(t.phase_at(150.0), 50.0);
        assert!(t.before_last_step(120.0));
        assert!(!t.before_last_step(151.0));
    }
}
