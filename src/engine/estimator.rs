//! The per-source estimator of time and frequency that drives the clock
//! discipline.
//!
//! It works in the *raw* timescale: the time the clock would show had the
//! engine never corrected it (see `timescale`). There the source's time
//! minus ours is a smooth curve, the oscillator's phase, whatever the
//! discipline does, so estimation and control do not interfere.
//!
//! The state is phase and frequency with a random-walk frequency model (a
//! two-state Kalman filter). What is new is how a sample updates it. An
//! exchange with round trip `d` over a path whose one-way minimum is `D`
//! each way bounds the true offset to a strip: the measured offset plus or
//! minus `d/2 - D`, because neither direction can have been faster than
//! its minimum. When both one-way delays are a fixed minimum plus an
//! exponential queueing delay, the exact posterior of the offset given a
//! Gaussian prior is that prior *truncated to the strip*: the exponential
//! likelihoods of the two directions cancel inside it. So each sample
//! conditions the state on "the offset is in the strip", and the truncated
//! Gaussian is matched back to a Gaussian (an assumed-density filter).
//! Unlike weighting each sample by its delay, this uses the fast direction
//! of every exchange: a sample whose request went through quickly pins the
//! upper edge even when its reply was queued, and the edges from different
//! samples intersect to an interval far narrower than any one of them.
//! Late packets only widen their strip and can never pull the estimate.
//!
//! `D` is estimated from the recent samples as the tightest pair of
//! envelopes a straight phase line leaves below the one-way times (a small
//! linear program solved by ternary search), less a margin for the few
//! samples it rests on.
//!
//! How fast the oscillator's frequency wanders is not known beforehand
//! (a server room, a laptop on a desk): three states run side by side
//! with wanders ten times apart, each scored by how much probability it
//! gave the strips that came, and the best one speaks.

use std::collections::VecDeque;

/// Samples the one-way minimum delay is estimated from. At 64 s polls
/// this spans about 17 minutes: long enough to catch a fast exchange in
/// each direction, short enough for route changes to show.
pub const DELAY_WINDOW: usize = 16;
/// The most samples a `tinker huffpuff` window keeps.
const MAX_DELAY_WINDOW: usize = 1024;
/// The random walk of the oscillator's frequency assumed at first,
/// (s/s)^2 per second: about 1.7 ppb per root second, a little more than
/// the crystal of a PC at a steady temperature does, so that the estimate
/// never trusts a long history too much. Larger values follow faster and
/// noisier.
pub const DEFAULT_WANDER: f64 = 3e-18;
/// The wanders the estimator tries side by side: the default, and ten and
/// a hundred times more (a room warming up, a laptop).
const WANDERS: [f64; 3] = [
    DEFAULT_WANDER,
    10.0 * DEFAULT_WANDER,
    100.0 * DEFAULT_WANDER,
];
/// Weight of the past in a track's score per sample (a memory of about
/// a hundred samples).
const SCORE_MEMORY: f64 = 0.99;
/// Another track takes over when its score is better by this much (log
/// likelihood), so the choice does not flap.
const SWITCH_MARGIN: f64 = 1.0;
/// Below this chance of the prediction falling inside a sample's strip the
/// sample contradicts the state: it is held back as a possible outlier.
const MISS_PROBABILITY: f64 = 1e-6;
/// After this many contradicting samples in a row the state is wrong, not
/// the samples (the source or our clock jumped): the phase restarts from
/// the newest strip.
const MAX_MISSES: u32 = 3;
/// The floor of a strip's half-width: timestamp resolution and the
/// rounding of the minimum-delay estimate, seconds.
const STRIP_FLOOR: f64 = 1e-6;
/// Slopes (s/s) around the frequency estimate searched for the envelopes.
const SLOPE_SPAN: f64 = 1e-3;
/// A sample whose strip misses the prediction by less than this is taken
/// as a sign that the state was too sure of itself (the frequency wandered
/// more than modelled), seconds; beyond, as a possible outlier.
const NEAR_MISS: f64 = 1e-3;
/// Below this many samples the strips assume no minimum delay at all.
const MIN_DELAY_SAMPLES: usize = 4;
/// Ternary search steps: the bracket shrinks to (2/3)^100 of its width.
const SLOPE_STEPS: usize = 100;

/// One usable exchange, in the raw timescale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Raw time of the exchange's midpoint, seconds.
    pub time: f64,
    /// Source time minus raw time, seconds.
    pub offset: f64,
    /// Round trip, raw seconds.
    pub delay: f64,
}

/// What an update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The sample refined the state.
    Used,
    /// The sample contradicted the state and was held back.
    Outlier,
    /// Contradicting samples persisted: the phase was restarted from this one.
    Restarted,
}

/// One phase-and-frequency state under one assumed wander.
#[derive(Clone, Debug)]
struct Track {
    /// Raw time the state refers to.
    time: f64,
    phase: f64,
    freq: f64,
    cov: [[f64; 2]; 2],
    wander: f64,
    misses: u32,
    last_used: f64,
    /// How well this track has predicted the recent strips: the
    /// exponentially weighted log of the chance it gave them.
    score: f64,
}

impl Track {
    fn new(freq: f64, wander: f64) -> Track {
        Track {
            time: 0.0,
            phase: 0.0,
            freq,
            cov: [[0.0; 2]; 2],
            wander,
            misses: 0,
            last_used: 0.0,
            score: 0.0,
        }
    }

    fn predict(&self, at: f64) -> (f64, f64) {
        let h = at - self.time;
        let c = &self.cov;
        let var =
            c[0][0] + 2.0 * h * c[0][1] + h * h * c[1][1] + self.wander * h.abs().powi(3) / 3.0;
        (self.phase + self.freq * h, var.max(0.0))
    }

    fn restart(&mut self, point: Point, half_width: f64, freq_var: f64) {
        self.time = point.time;
        self.phase = point.offset;
        self.cov = [[half_width * half_width / 3.0, 0.0], [0.0, freq_var]];
        self.misses = 0;
        self.last_used = point.time;
    }

    /// Conditions the state on "the offset at `point.time` is in
    /// [lo, hi]".
    fn update(&mut self, point: Point, lo: f64, hi: f64, half_width: f64) -> Verdict {
        let h = point.time - self.time;
        let (mean, mut var) = self.predict(point.time);
        let c = self.cov;
        let mut p01 = c[0][1] + h * c[1][1] + self.wander * h * h.abs() / 2.0;
        let mut p11 = c[1][1] + self.wander * h.abs();
        let mut moments = truncated_moments(mean, var, lo, hi);
        let gap = if mean < lo { lo - mean } else { mean - hi };
        if moments.is_none() && gap < NEAR_MISS {
            // Near miss: the state was too sure of itself (the frequency
            // wandered more than modelled). Widen it until the strip is
            // plausible, then take the sample.
            let span = h.abs().max(1.0);
            var += gap * gap;
            p01 += gap * gap / span;
            p11 += (gap / span).powi(2);
            moments = truncated_moments(mean, var, lo, hi);
            self.score = SCORE_MEMORY * self.score + MISS_PROBABILITY.ln();
        }
        let Some((m, v, mass)) = moments else {
            self.misses += 1;
            if self.misses < MAX_MISSES {
                return Verdict::Outlier;
            }
            let span = (point.time - self.last_used).max(1.0);
            let jump = (point.offset - mean) / span;
            self.restart(point, half_width, p11 + jump * jump);
            return Verdict::Restarted;
        };
        self.misses = 0;
        self.score = SCORE_MEMORY * self.score + mass.ln();
        let gain = p01 / var;
        self.freq += gain * (m - mean);
        self.phase = m;
        self.time = point.time;
        let keep = v / var;
        self.cov = [
            [v, p01 * keep],
            [
                p01 * keep,
                (p11 - p01 * p01 / var * (1.0 - keep)).max(1e-30),
            ],
        ];
        self.last_used = point.time;
        Verdict::Used
    }
}

#[derive(Clone, Debug)]
pub struct Estimator {
    /// The same state under different assumed wanders; the one that
    /// predicts the samples best speaks for the estimator.
    tracks: Vec<Track>,
    best: usize,
    primed: bool,
    freq_prior_var: f64,
    recent: VecDeque<Point>,
    /// `tinker huffpuff`: remember the minimum delay this long (seconds)
    /// rather than over `DELAY_WINDOW` samples.
    window_secs: Option<f64>,
}

impl Estimator {
    /// A new estimator. `freq` is the expected rate of the source's time
    /// against the raw clock (s/s), known to within `freq_sigma`.
    pub fn new(freq: f64, freq_sigma: f64) -> Estimator {
        Estimator {
            tracks: WANDERS.iter().map(|&w| Track::new(freq, w)).collect(),
            best: 0,
            primed: false,
            freq_prior_var: freq_sigma * freq_sigma,
            recent: VecDeque::with_capacity(DELAY_WINDOW + 1),
            window_secs: None,
        }
    }

    /// Keeps the samples of the last `secs` seconds (at least
    /// `DELAY_WINDOW` of them) for the minimum delay: `tinker huffpuff`,
    /// for paths whose queues stay busy for long stretches.
    pub fn with_window(mut self, secs: f64) -> Estimator {
        self.window_secs = Some(secs);
        self
    }

    pub fn is_primed(&self) -> bool {
        self.primed
    }

    /// Source time minus raw time expected at raw time `at`, and its
    /// variance.
    pub fn predict(&self, at: f64) -> (f64, f64) {
        self.tracks[self.best].predict(at)
    }

    /// The source's rate against the raw clock, s/s.
    pub fn freq(&self) -> f64 {
        self.tracks[self.best].freq
    }

    pub fn freq_var(&self) -> f64 {
        self.tracks[self.best].cov[1][1]
    }

    /// Raw time of the last sample that refined the state.
    pub fn last_used(&self) -> f64 {
        self.tracks[self.best].last_used
    }

    /// The wander (s^2/s^3) the estimate currently assumes.
    pub fn wander(&self) -> f64 {
        self.tracks[self.best].wander
    }

    /// The one-way minimum delay the strips assume, seconds.
    ///
    /// Two estimates, the smaller wins. The envelopes (the tightest pair
    /// of lines, at a slope the frequency estimate allows, under the
    /// one-way times) are sharp once the frequency is known; half the
    /// lowest round trip needs no slope and is safe while it is not. Each
    /// is corrected for how far above the true minimum the fastest of `n`
    /// exchanges typically is.
    pub fn min_one_way(&self) -> f64 {
        let n = self.recent.len();
        if n < MIN_DELAY_SAMPLES {
            return 0.0;
        }
        let mean_half = self.recent.iter().map(|p| p.delay).sum::<f64>() / n as f64 / 2.0;
        let min_half = self
            .recent
            .iter()
            .map(|p| p.delay)
            .fold(f64::INFINITY, f64::min)
            / 2.0;
        // The lowest of n round trips with exponential queueing each way
        // exceeds twice the minimum by sqrt(pi / 2n) mean queueing delays.
        let c = 0.5 * (std::f64::consts::PI / (2.0 * n as f64)).sqrt();
        let by_round_trip = (min_half - c * mean_half) / (1.0 - c);
        let newest = self.recent[n - 1].time;
        let envelopes = |slope: f64| {
            let mut up = f64::INFINITY;
            let mut down = f64::INFINITY;
            for p in &self.recent {
                let t = p.time - newest;
                up = up.min(p.offset + p.delay / 2.0 - slope * t);
                down = down.min(p.delay / 2.0 - p.offset + slope * t);
            }
            up + down
        };
        let (mut lo, mut hi) = (self.freq() - SLOPE_SPAN, self.freq() + SLOPE_SPAN);
        for _ in 0..SLOPE_STEPS {
            let m1 = lo + (hi - lo) / 3.0;
            let m2 = hi - (hi - lo) / 3.0;
            if envelopes(m1) < envelopes(m2) {
                lo = m1;
            } else {
                hi = m2;
            }
        }
        let tightest = envelopes((lo + hi) / 2.0) / 2.0;
        // The envelopes rest on the fastest of n exchanges each way, which
        // are slower than the true minimum by about the mean queueing
        // delay over n.
        let margin = (mean_half - tightest).max(0.0) / n as f64;
        let by_envelopes = tightest - margin;
        // With few points the free slope lets the envelopes fit the noise:
        // until the window is full the round trips keep them honest.
        let best = if n >= DELAY_WINDOW {
            by_envelopes
        } else {
            by_envelopes.min(by_round_trip)
        };
        best.max(0.0)
    }

    /// Conditions the state on one exchange.
    pub fn update(&mut self, point: Point) -> Verdict {
        self.recent.push_back(point);
        while self.recent.len() > DELAY_WINDOW {
            let too_old = match self.window_secs {
                None => true,
                Some(w) => {
                    point.time - self.recent[0].time > w || self.recent.len() > MAX_DELAY_WINDOW
                }
            };
            if !too_old {
                break;
            }
            self.recent.pop_front();
        }
        let half_width = (point.delay / 2.0 - self.min_one_way()).max(0.0) + STRIP_FLOOR;
        let (lo, hi) = (point.offset - half_width, point.offset + half_width);
        if !self.primed {
            for t in &mut self.tracks {
                t.restart(point, half_width, self.freq_prior_var);
            }
            self.primed = true;
            return Verdict::Used;
        }
        let verdicts: Vec<Verdict> = self
            .tracks
            .iter_mut()
            .map(|t| t.update(point, lo, hi, half_width))
            .collect();
        let mut best = self.best;
        for (k, t) in self.tracks.iter().enumerate() {
            if t.score > self.tracks[best].score + SWITCH_MARGIN {
                best = k;
            }
        }
        self.best = best;
        verdicts[best]
    }
}

/// Mean and variance of N(mean, var) truncated to [lo, hi], and the mass
/// the interval holds; None when it holds (almost) none.
fn truncated_moments(mean: f64, var: f64, lo: f64, hi: f64) -> Option<(f64, f64, f64)> {
    if var <= 0.0 {
        return (lo..=hi).contains(&mean).then_some((mean, 0.0, 1.0));
    }
    let sd = var.sqrt();
    let a = (lo - mean) / sd;
    let b = (hi - mean) / sd;
    let mass = normal_mass(a, b);
    if mass < MISS_PROBABILITY {
        return None;
    }
    let (pa, pb) = (density(a), density(b));
    let shift = (pa - pb) / mass;
    let m = mean + sd * shift;
    let v = var * (1.0 + (a * pa - b * pb) / mass - shift * shift);
    let width = hi - lo;
    let floor = (1e-6 * width * width / 12.0).min(var);
    Some((m.max(lo).min(hi), v.max(floor).min(var), mass))
}

/// Standard normal density.
fn density(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// P(a < Z < b) for a standard normal Z, without cancellation in the tails.
fn normal_mass(a: f64, b: f64) -> f64 {
    let s = std::f64::consts::SQRT_2;
    if a >= 0.0 {
        0.5 * (erfc(a / s) - erfc(b / s))
    } else if b <= 0.0 {
        0.5 * (erfc(-b / s) - erfc(-a / s))
    } else {
        1.0 - 0.5 * erfc(-a / s) - 0.5 * erfc(b / s)
    }
}

/// The complementary error function, with a relative error below 1.2e-7
/// everywhere (the Chebyshev fit of Numerical Recipes' `erfcc`).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimRng;

    #[test]
    fn erfc_matches_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (2.0, 0.004_677_735),
            (-1.0, 1.842_700_793),
            (4.0, 1.541_725_790e-8),
        ] {
            assert!(((erfc(x) - want) / want).abs() < 2e-7, "{x}: {}", erfc(x));
        }
    }

    #[test]
    fn truncation_keeps_the_mean_inside_and_shrinks_the_variance() {
        let (m, v, _) = truncated_moments(0.0, 1.0, 0.5, 3.0).unwrap();
        assert!(m > 0.5 && m < 3.0, "{m}");
        assert!(v < 1.0);
        // symmetric truncation leaves the mean
        let (m, v, _) = truncated_moments(2.0, 4.0, 0.0, 4.0).unwrap();
        assert!((m - 2.0).abs() < 1e-9 && v < 4.0);
        // a strip far outside is a miss
        assert!(truncated_moments(0.0, 1.0, 10.0, 11.0).is_none());
    }

    /// A constant offset and frequency seen through exponential queueing
    /// delays: the estimate converges far below the delay spread.
    #[test]
    fn converges_through_exponential_delays() {
        let mut rng = SimRng::new(3);
        let mut e = Estimator::new(0.0, 500e-6);
        let (phase, freq) = (0.1, -80e-6);
        let mut worst: f64 = 0.0;
        for i in 0..200 {
            let t = i as f64 * 16.0;
            let up = 100e-6 + 100e-6 * rng.exponential();
            let down = 100e-6 + 100e-6 * rng.exponential();
            let truth = phase + freq * t;
            e.update(Point {
                time: t,
                offset: truth + (up - down) / 2.0,
                delay: up + down,
            });
            if i > 100 {
                worst = worst.max((e.predict(t).0 - truth).abs());
            }
        }
        assert!(worst < 20e-6, "{worst}");
        assert!((e.freq() - freq).abs() < 0.15e-6, "{}", e.freq());
        let d = e.min_one_way();
        assert!(d > 90e-6 && d <= 101e-6, "{d}");
    }

    #[test]
    fn late_packets_cannot_pull_the_estimate() {
        let mut e = Estimator::new(0.0, 1e-6);
        for i in 0..20 {
            let t = i as f64 * 64.0;
            e.update(Point {
                time: t,
                offset: 0.0,
                delay: 200e-6,
            });
        }
        // a reply queued for 20 ms reads as an offset of -10 ms
        let v = e.update(Point {
            time: 20.0 * 64.0,
            offset: -0.010,
            delay: 0.0202,
        });
        assert_eq!(v, Verdict::Used);
        assert!(e.predict(20.0 * 64.0).0.abs() < 2e-6);
    }

    #[test]
    fn a_persistent_jump_restarts_the_phase() {
        let mut e = Estimator::new(0.0, 1e-6);
        for i in 0..20 {
            e.update(Point {
                time: i as f64 * 64.0,
                offset: 0.0,
                delay: 200e-6,
            });
        }
        let mut verdicts = Vec::new();
        for i in 20..24 {
            verdicts.push(e.update(Point {
                time: i as f64 * 64.0,
                offset: 0.5,
                delay: 200e-6,
            }));
        }
        assert_eq!(
            verdicts,
            [
                Verdict::Outlier,
                Verdict::Outlier,
                Verdict::Restarted,
                Verdict::Used
            ]
        );
        assert!((e.predict(23.0 * 64.0).0 - 0.5).abs() < 1e-4);
    }
}
