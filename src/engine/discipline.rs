//! The clock discipline: turning the estimate of the clock's error into
//! corrections, with classic ntpd's step, stepout and panic rules.
//!
//! # How an offset is removed
//!
//! Classic ntpd slews through adjtime(2) at most 500 ppm, so a 0.1 s error
//! takes 200 s to go, and with a PLL time constant of 64 s or more it
//! takes far longer. ntpbox instead sets the clock's whole *rate* (the
//! kernel's tick length plus its frequency, `Action::SetRate`, as chronyd
//! does) to the frequency correction plus `offset / duration` for just as
//! long as it takes to remove the offset, then back to the frequency
//! correction alone. The extra rate is at most 1/12 (`MAX_RATE_PPM`,
//! chronyd's default `maxslewrate`), so 0.1 s is gone in 1.2 s; small
//! offsets take `MIN_SLEW_SECS`. Time stays continuous and monotonic: an
//! interval an application measures is off by at most 8.3% while it
//! lasts, never negative as after a step back. With `-x` the extra rate is
//! at most 500 ppm, as classic slewing.
//!
//! The engine remembers every rate it set (`timescale`), so the estimate
//! of the clock's error is unaffected by the corrections themselves.
//!
//! # Steps and the panic threshold
//!
//! An offset beyond the step threshold (`tinker step`, 128 ms; 600 s with
//! `-x`; 0 = never) is stepped at the first clock update. Later, such an
//! offset is a spike and ignored until it persists for the stepout
//! interval (`tinker stepout`, 900 s). An offset beyond the panic
//! threshold (`tinker panic`, 1000 s; 0 = none) ends the daemon, unless
//! `-g` allowed it for the first update.

use super::timescale::Timescale;
use super::{Action, Level};
use crate::clock::MAX_RATE_PPM;

/// Classic's step threshold, seconds.
pub const DEFAULT_STEP: f64 = 0.128;
/// The step threshold with `-x`, seconds.
pub const SLEW_ONLY_STEP: f64 = 600.0;
/// Classic's panic threshold, seconds.
pub const DEFAULT_PANIC: f64 = 1000.0;
/// Classic's stepout interval, seconds.
pub const DEFAULT_STEPOUT: f64 = 900.0;
/// The extra rate of an adjtime(3)-style slew: `-x` stays within it.
pub const CLASSIC_SLEW_RATE: f64 = 500e-6;
/// The largest frequency correction believed, s/s (classic NTP_MAXFREQ).
pub const MAX_FREQ: f64 = 500e-6;
/// The shortest time an offset is removed in, raw seconds: small offsets
/// need no hurry, and the rate is held long enough that the timer ending
/// it firing a millisecond late matters little.
const MIN_SLEW_SECS: f64 = 1.0;
/// Headroom under the kernel's largest rate, so the frequency correction
/// plus the extra rate never exceed it.
const RATE_HEADROOM: f64 = 0.99;
/// Exponential averaging of clk_jitter and clk_wander (classic CLOCK_AVG).
const AVERAGING: f64 = 8.0;
/// Poll adjustment: an offset below this many jitters counts for a
/// longer poll (classic PGATE), and the counter limit (classic LIMIT).
const POLL_GATE: f64 = 4.0;
const POLL_LIMIT: i32 = 30;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// `enable ntp` (default): corrections are made at all.
    pub enabled: bool,
    /// `enable kernel`: the kernel's PLL removes offsets.
    pub kernel: bool,
    pub step: f64,
    pub panic: f64,
    pub stepout: f64,
    /// The largest extra rate used to remove an offset, s/s.
    pub max_slew_rate: f64,
    /// `-q`.
    pub once: bool,
    /// log2 s bounds of the poll interval the discipline asks for.
    pub minpoll: i8,
    pub maxpoll: i8,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// No clock update yet.
    Unset,
    Sync,
    /// An offset beyond the step threshold was seen at `since`.
    Spike {
        since: f64,
    },
}

/// What one clock update did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    Slewed(f64),
    Stepped(f64),
    /// Beyond the step threshold, within the stepout interval: ignored.
    Spike(f64),
    /// Beyond the panic threshold: the daemon must stop.
    Panic(f64),
    /// `disable ntp`: measured, not corrected.
    Disabled(f64),
}

#[derive(Clone, Debug)]
pub struct Discipline {
    pub settings: Settings,
    state: State,
    panic_allowed: bool,
    pub timescale: Timescale,
    /// The frequency correction, s/s: the rate the clock runs at when no
    /// offset is being removed.
    freq: f64,
    /// Clock reading at which the offset removal in progress ends.
    slew_end: Option<f64>,
    /// `-q`: exit once the slew in progress ends.
    exit_after_slew: bool,
    pub last_offset: f64,
    pub jitter: f64,
    /// s/s.
    pub wander: f64,
    /// log2 s.
    pub poll: i8,
    poll_counter: i32,
    pub updates: u64,
    warned_tolerance: bool,
    /// The clock's precision, seconds: the floor of the jitter.
    precision: f64,
}

impl Discipline {
    /// `freq`: the frequency correction in force at `now` (the drift file's).
    pub fn new(settings: Settings, now: f64, freq: f64, precision: f64) -> Discipline {
        Discipline {
            settings,
            state: State::Unset,
            panic_allowed: false,
            timescale: Timescale::new(now, if settings.enabled { freq } else { 0.0 }),
            freq,
            slew_end: None,
            exit_after_slew: false,
            last_offset: 0.0,
            jitter: precision,
            wander: 0.0,
            poll: settings.minpoll,
            poll_counter: 0,
            updates: 0,
            warned_tolerance: false,
            precision,
        }
    }

    /// `-g`: the first update may exceed the panic threshold.
    pub fn allow_panic(&mut self) {
        self.panic_allowed = true;
    }

    /// The frequency correction, ppm.
    pub fn freq_ppm(&self) -> f64 {
        self.freq * 1e6
    }

    pub fn is_set(&self) -> bool {
        self.state != State::Unset
    }

    /// When the offset removal in progress ends (clock reading).
    pub fn deadline(&self) -> Option<f64> {
        self.slew_end
    }

    /// Whether corrections are made by the engine's own rate control (not
    /// disabled, not the kernel PLL): the timescale then tracks them.
    fn controls_rate(&self) -> bool {
        self.settings.enabled && !self.settings.kernel
    }

    /// The timer: ends the offset removal in progress. Returns true when
    /// `-q` is done.
    pub fn on_timer(&mut self, now: f64, out: &mut Vec<Action>) -> bool {
        match self.slew_end {
            Some(end) if now >= end => {
                self.slew_end = None;
                self.set_rate(now, self.freq, out);
                std::mem::take(&mut self.exit_after_slew)
            }
            _ => false,
        }
    }

    /// One clock update. `offset` is how far the clock should move (the
    /// combined estimate), `classic` the classic combined offset, which
    /// decides the large-offset rules when the two disagree; `freq` the
    /// estimated frequency correction (s/s), if known.
    pub fn update(
        &mut self,
        now: f64,
        offset: Option<f64>,
        classic: f64,
        freq: Option<f64>,
        out: &mut Vec<Action>,
    ) -> Outcome {
        let offset = match offset {
            Some(o) if (o - classic).abs() < (0.1 * classic.abs()).max(0.01) => o,
            _ => classic,
        };
        if self.settings.panic > 0.0 && offset.abs() > self.settings.panic && !self.panic_allowed {
            return Outcome::Panic(offset);
        }
        self.panic_allowed = false;
        if !self.settings.enabled {
            self.state = State::Sync;
            self.note(offset);
            return Outcome::Disabled(offset);
        }
        let big = self.settings.step > 0.0 && offset.abs() > self.settings.step;
        let outcome = match self.state {
            State::Sync if big => {
                self.state = State::Spike { since: now };
                return Outcome::Spike(offset);
            }
            State::Spike { since } if big && now - since < self.settings.stepout => {
                return Outcome::Spike(offset);
            }
            _ if big => {
                self.step(now, offset, out);
                Outcome::Stepped(offset)
            }
            _ => {
                if let Some(f) = freq {
                    self.set_freq(f, out);
                }
                self.slew(now, offset, out);
                Outcome::Slewed(offset)
            }
        };
        self.state = State::Sync;
        if let Outcome::Slewed(o) = outcome {
            self.adapt_poll(o);
        }
        self.note(offset);
        outcome
    }

    /// `-q`: make the process exit when the slew in progress ends (at
    /// once when there is none).
    pub fn exit_when_settled(&mut self) -> bool {
        if self.slew_end.is_some() {
            self.exit_after_slew = true;
            false
        } else {
            true
        }
    }

    /// clk_jitter, classic's way: the averaged difference of successive
    /// offsets.
    fn note(&mut self, offset: f64) {
        let jump = (offset - self.last_offset).abs().max(self.precision);
        self.jitter =
            (self.jitter.powi(2) + (jump.powi(2) - self.jitter.powi(2)) / AVERAGING).sqrt();
        self.last_offset = offset;
        self.updates += 1;
    }

    fn set_freq(&mut self, freq: f64, out: &mut Vec<Action>) {
        if freq.abs() > MAX_FREQ && !self.warned_tolerance {
            self.warned_tolerance = true;
            out.push(Action::Log {
                level: Level::Notice,
                text: format!(
                    "frequency error {:.0} PPM exceeds tolerance {:.0} PPM",
                    -freq * 1e6,
                    MAX_FREQ * 1e6
                ),
            });
        }
        let freq = freq.clamp(-MAX_FREQ, MAX_FREQ);
        let change = freq - self.freq;
        if self.updates > 0 {
            self.wander =
                (self.wander.powi(2) + (change.powi(2) - self.wander.powi(2)) / AVERAGING).sqrt();
        }
        self.freq = freq;
    }

    fn set_rate(&mut self, now: f64, rate: f64, out: &mut Vec<Action>) {
        if !self.controls_rate() {
            return;
        }
        let limit = MAX_RATE_PPM * 1e-6;
        let rate = rate.clamp(-limit, limit);
        self.timescale.set_rate(now, rate, rate - self.freq);
        out.push(Action::SetRate(rate * 1e6));
    }

    fn slew(&mut self, now: f64, offset: f64, out: &mut Vec<Action>) {
        if self.settings.kernel {
            out.push(Action::KernelPllOffset(offset));
            return;
        }
        let headroom = (MAX_RATE_PPM * 1e-6 * RATE_HEADROOM - self.freq.abs()).max(MAX_FREQ);
        let max_extra = self.settings.max_slew_rate.min(headroom);
        let secs = (offset.abs() / max_extra).max(MIN_SLEW_SECS);
        self.set_rate(now, self.freq + offset / secs, out);
        self.slew_end = Some(self.timescale.clock_after(now, secs));
    }

    fn step(&mut self, now: f64, offset: f64, out: &mut Vec<Action>) {
        out.push(Action::Step(offset));
        self.timescale.step(now, offset);
        self.slew_end = None;
        self.set_rate(now + offset, self.freq, out);
        self.last_offset = 0.0;
    }

    /// Classic's poll adjustment: quiet updates lengthen the poll, noisy
    /// ones shorten it.
    fn adapt_poll(&mut self, offset: f64) {
        let s = &self.settings;
        if offset.abs() < POLL_GATE * self.jitter {
            self.poll_counter += i32::from(self.poll);
            if self.poll_counter > POLL_LIMIT {
                self.poll_counter = POLL_LIMIT;
                if self.poll < s.maxpoll {
                    self.poll_counter = 0;
                    self.poll += 1;
                }
            }
        } else {
            self.poll_counter -= 2 * i32::from(self.poll);
            if self.poll_counter < -POLL_LIMIT {
                self.poll_counter = -POLL_LIMIT;
                if self.poll > s.minpoll {
                    self.poll_counter = 0;
                    self.poll -= 1;
                }
            }
        }
        self.poll = self.poll.clamp(s.minpoll, s.maxpoll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            enabled: true,
            kernel: false,
            step: DEFAULT_STEP,
            panic: DEFAULT_PANIC,
            stepout: DEFAULT_STEPOUT,
            max_slew_rate: MAX_RATE_PPM * 1e-6,
            once: false,
            minpoll: 6,
            maxpoll: 10,
        }
    }

    #[test]
    fn a_small_offset_is_removed_by_a_short_fast_rate() {
        let mut d = Discipline::new(settings(), 0.0, 0.0, 1e-7);
        let mut out = Vec::new();
        let r = d.update(10.0, Some(0.1), 0.1, Some(-50e-6), &mut out);
        assert_eq!(r, Outcome::Slewed(0.1));
        let Action::SetRate(ppm) = out[0] else {
            panic!("{out:?}")
        };
        assert!(ppm > 80_000.0 && ppm <= MAX_RATE_PPM, "{ppm}");
        let end = d.deadline().unwrap();
        out.clear();
        d.on_timer(end, &mut out);
        assert_eq!(out, [Action::SetRate(-50.0)]);
        // exactly the offset was corrected, on top of the frequency
        let raw_secs = (end - 10.0) / (1.0 + ppm * 1e-6);
        let corrected = d.timescale.correction_at(end) - (-50e-6 * raw_secs);
        assert!((corrected - 0.1).abs() < 1e-9, "{corrected}");
    }

    #[test]
    fn the_first_large_offset_steps_later_ones_wait_for_stepout() {
        let mut d = Discipline::new(settings(), 0.0, 0.0, 1e-7);
        let mut out = Vec::new();
        assert_eq!(
            d.update(5.0, Some(0.5), 0.5, None, &mut out),
            Outcome::Stepped(0.5)
        );
        assert_eq!(out[0], Action::Step(0.5));
        out.clear();
        assert_eq!(
            d.update(100.0, None, 0.3, None, &mut out),
            Outcome::Spike(0.3)
        );
        assert_eq!(
            d.update(500.0, None, 0.3, None, &mut out),
            Outcome::Spike(0.3)
        );
        assert!(out.is_empty());
        assert_eq!(
            d.update(1001.0, None, 0.3, None, &mut out),
            Outcome::Stepped(0.3)
        );
    }

    #[test]
    fn panic_unless_allowed_once() {
        let mut d = Discipline::new(settings(), 0.0, 0.0, 1e-7);
        let mut out = Vec::new();
        assert_eq!(
            d.update(5.0, None, 2000.0, None, &mut out),
            Outcome::Panic(2000.0)
        );
        let mut d = Discipline::new(settings(), 0.0, 0.0, 1e-7);
        d.allow_panic();
        assert_eq!(
            d.update(5.0, None, 2000.0, None, &mut out),
            Outcome::Stepped(2000.0)
        );
        assert_eq!(
            d.update(50.0, None, -2000.0, None, &mut out),
            Outcome::Panic(-2000.0)
        );
    }

    #[test]
    fn slew_only_uses_the_classic_rate() {
        let s = Settings {
            step: SLEW_ONLY_STEP,
            max_slew_rate: CLASSIC_SLEW_RATE,
            ..settings()
        };
        let mut d = Discipline::new(s, 0.0, 0.0, 1e-7);
        let mut out = Vec::new();
        assert_eq!(
            d.update(5.0, None, 0.5, None, &mut out),
            Outcome::Slewed(0.5)
        );
        assert_eq!(out, [Action::SetRate(500.0)]);
        assert!((d.deadline().unwrap() - (5.0 + 1000.0 * 1.0005)).abs() < 1e-6);
    }

    #[test]
    fn disabled_measures_only() {
        let s = Settings {
            enabled: false,
            ..settings()
        };
        let mut d = Discipline::new(s, 0.0, 0.0, 1e-7);
        let mut out = Vec::new();
        assert_eq!(
            d.update(5.0, None, 0.5, None, &mut out),
            Outcome::Disabled(0.5)
        );
        assert!(out.is_empty());
    }
}
