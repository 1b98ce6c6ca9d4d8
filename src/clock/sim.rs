//! A simulated clock for deterministic accuracy tests.
//!
//! Time is virtual: the test advances "true" time explicitly, and the clock
//! drifts from it by a known frequency error plus a random walk, exactly as
//! an uncorrected quartz oscillator would. The discipline's corrections
//! (steps, slews, frequency) act on it the way the kernel's would.

use super::{
    sta, Clock, ClockError, KernelStatus, MAX_FREQUENCY_PPM, MAX_RATE_PPM, MAX_SLEW, SLEW_RATE,
};
use crate::proto::UnixTime;

/// Wander is applied in steps of at most this much true time, seconds.
const WANDER_STEP: f64 = 1.0;

/// A small deterministic random source (SplitMix64), so a simulation gives
/// the same result for the same seed on every machine.
#[derive(Clone, Debug)]
pub struct SimRng {
    state: u64,
    spare_normal: Option<f64>,
}

impl SimRng {
    pub fn new(seed: u64) -> SimRng {
        SimRng {
            state: seed,
            spare_normal: None,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal, by the Box-Muller transform.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln(u1) is finite
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (2.0 * std::f64::consts::PI * u2).sin_cos();
        self.spare_normal = Some(r * s);
        r * c
    }

    /// Exponential with mean 1.
    pub fn exponential(&mut self) -> f64 {
        -(1.0 - self.uniform()).ln()
    }
}

/// How the simulated oscillator misbehaves.
#[derive(Clone, Copy, Debug)]
pub struct SimClockParams {
    /// Where true time starts.
    pub start: UnixTime,
    /// Clock minus true time at the start, seconds.
    pub initial_offset: f64,
    /// The oscillator's frequency error, ppm (positive: runs fast).
    pub frequency_error_ppm: f64,
    /// Random walk of the frequency: its change per second is this times
    /// N(0,1), as a fraction (1e-9 is one part per billion).
    pub wander_per_second: f64,
    pub seed: u64,
}

impl Default for SimClockParams {
    fn default() -> SimClockParams {
        SimClockParams {
            // 2026-01-01T00:00:00Z
            start: UnixTime::new(1_767_225_600, 0),
            initial_offset: 0.0,
            frequency_error_ppm: 0.0,
            wander_per_second: 0.0,
            seed: 1,
        }
    }
}

/// The simulated clock. `advance` moves true time; `now` reads the clock.
#[derive(Clone, Debug)]
pub struct SimClock {
    true_nanos: i128,
    /// Clock minus true time, seconds.
    offset: f64,
    /// Oscillator error as a fraction; wanders.
    natural_error: f64,
    wander: f64,
    /// The frequency correction set through the `Clock` trait, ppm.
    correction_ppm: f64,
    slew_left: f64,
    status: KernelStatus,
    rng: SimRng,
    /// Every step applied, seconds, for tests to inspect.
    pub steps: Vec<f64>,
}

impl SimClock {
    pub fn new(p: SimClockParams) -> SimClock {
        SimClock {
            true_nanos: p.start.as_nanos(),
            offset: p.initial_offset,
            natural_error: p.frequency_error_ppm * 1e-6,
            wander: p.wander_per_second,
            correction_ppm: 0.0,
            slew_left: 0.0,
            status: KernelStatus {
                status: sta::UNSYNC | sta::NANO,
                tick: 10_000,
                ..KernelStatus::default()
            },
            rng: SimRng::new(p.seed),
            steps: Vec::new(),
        }
    }

    pub fn true_time(&self) -> UnixTime {
        UnixTime::from_nanos(self.true_nanos)
    }

    /// Clock minus true time, seconds: the error a discipline must remove.
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// The clock's total rate error (oscillator plus correction), ppm.
    pub fn frequency_error_ppm(&self) -> f64 {
        self.natural_error * 1e6 + self.correction_ppm
    }

    /// Moves true time forward by `dt` seconds, letting the clock drift.
    pub fn advance(&mut self, dt: f64) {
        let mut left = dt.max(0.0);
        while left > 0.0 {
            let h = left.min(WANDER_STEP);
            let rate = self.natural_error + self.correction_ppm * 1e-6;
            let slew = self
                .slew_left
                .abs()
                .min(SLEW_RATE * h)
                .copysign(self.slew_left);
            self.slew_left -= slew;
            self.offset += rate * h + slew;
            if self.wander > 0.0 {
                self.natural_error += self.wander * h.sqrt() * self.rng.normal();
            }
            self.true_nanos += (h * 1e9).round() as i128;
            left -= h;
        }
    }

    /// The random source, shared with a simulated network so that one seed
    /// fixes the whole scenario.
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }
}

impl Clock for SimClock {
    fn now(&self) -> Result<UnixTime, ClockError> {
        Ok(UnixTime::from_nanos(
            self.true_nanos + (self.offset * 1e9).round() as i128,
        ))
    }

    fn step(&mut self, offset: f64) -> Result<(), ClockError> {
        if !offset.is_finite() {
            return Err(ClockError::OutOfRange {
                op: "step the clock",
                value: offset,
            });
        }
        self.offset += offset;
        self.steps.push(offset);
        Ok(())
    }

    fn set_time(&mut self, t: UnixTime) -> Result<(), ClockError> {
        let delta = (t.as_nanos() - self.now()?.as_nanos()) as f64 * 1e-9;
        self.step(delta)
    }

    fn slew(&mut self, offset: f64) -> Result<(), ClockError> {
        if !offset.is_finite() || offset.abs() > MAX_SLEW {
            return Err(ClockError::OutOfRange {
                op: "slew the clock",
                value: offset,
            });
        }
        self.slew_left = offset;
        Ok(())
    }

    fn slew_remaining(&self) -> Result<f64, ClockError> {
        Ok(self.slew_left)
    }

    fn frequency(&self) -> Result<f64, ClockError> {
        Ok(self.correction_ppm)
    }

    fn set_frequency(&mut self, ppm: f64) -> Result<(), ClockError> {
        if !ppm.is_finite() || ppm.abs() > MAX_FREQUENCY_PPM {
            return Err(ClockError::OutOfRange {
                op: "set the clock frequency",
                value: ppm,
            });
        }
        self.correction_ppm = ppm;
        Ok(())
    }

    fn rate(&self) -> Result<f64, ClockError> {
        Ok(self.correction_ppm)
    }

    fn set_rate(&mut self, ppm: f64) -> Result<(), ClockError> {
        if !ppm.is_finite() || ppm.abs() > MAX_RATE_PPM {
            return Err(ClockError::OutOfRange {
                op: "set the clock rate",
                value: ppm,
            });
        }
        self.correction_ppm = ppm;
        Ok(())
    }

    /// A crude kernel PLL: the offset is slewed away at 500 ppm. The
    /// accuracy scenarios use the engine's own discipline, not this.
    fn pll_offset(&mut self, offset: f64) -> Result<(), ClockError> {
        self.slew(offset)
    }

    fn kernel_status(&self) -> Result<KernelStatus, ClockError> {
        Ok(KernelStatus {
            frequency: self.correction_ppm,
            ..self.status
        })
    }

    fn set_kernel_status(&mut self, s: &KernelStatus) -> Result<(), ClockError> {
        self.status.status = s.status | sta::NANO;
        self.status.maxerror = s.maxerror;
        self.status.esterror = s.esterror;
        self.status.time_constant = s.time_constant;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(offset: f64, ppm: f64) -> SimClock {
        SimClock::new(SimClockParams {
            initial_offset: offset,
            frequency_error_ppm: ppm,
            ..SimClockParams::default()
        })
    }

    #[test]
    fn a_fast_oscillator_gains_its_frequency_error() {
        let mut c = clock(0.1, 100.0);
        c.advance(1000.0);
        assert!((c.offset() - 0.2).abs() < 1e-12, "{}", c.offset());
        let read = c.now().unwrap().secs_since(c.true_time());
        assert!((read - 0.2).abs() < 1e-9);
    }

    #[test]
    fn frequency_correction_cancels_the_error() {
        let mut c = clock(0.0, 100.0);
        c.set_frequency(-100.0).unwrap();
        c.advance(10_000.0);
        assert!(c.offset().abs() < 1e-12);
        assert!(c.set_frequency(600.0).is_err());
    }

    #[test]
    fn slews_run_at_500_ppm_and_steps_are_immediate() {
        let mut c = clock(0.0, 0.0);
        c.slew(-0.1).unwrap();
        c.advance(100.0);
        assert!((c.offset() + 0.05).abs() < 1e-12, "{}", c.offset());
        assert!((c.slew_remaining().unwrap() + 0.05).abs() < 1e-12);
        c.advance(200.0);
        assert!((c.offset() + 0.1).abs() < 1e-12);
        c.step(0.1).unwrap();
        assert!(c.offset().abs() < 1e-12);
        assert_eq!(c.steps, vec![0.1]);
    }

    #[test]
    fn wander_is_deterministic_per_seed_and_of_the_right_size() {
        let run = |seed| {
            let mut c = SimClock::new(SimClockParams {
                wander_per_second: 1e-9,
                seed,
                ..SimClockParams::default()
            });
            c.advance(10_000.0);
            c.frequency_error_ppm()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        // a random walk of 1e-9/s over 1e4 s has a spread of 1e-7 = 0.1 ppm
        assert!(run(7).abs() < 0.6, "{}", run(7));
    }

    #[test]
    fn normal_samples_have_unit_variance() {
        let mut rng = SimRng::new(42);
        let n = 20_000;
        let samples: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = samples.iter().sum::<f64>() / n as f64;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }
}
