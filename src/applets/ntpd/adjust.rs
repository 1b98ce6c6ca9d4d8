//! Carrying out the engine's clock actions on the system clock.
//!
//! With `disable ntp` the engine still runs (it measures and selects, for
//! ntpq) but nothing here touches the clock: the daemon has dropped
//! CAP_SYS_TIME and these actions are only noted at debug level.

use crate::clock::{sta, Clock, LinuxClock};
use crate::engine::{Action, KernelSync};
use crate::proto::Leap;

pub struct ClockControl<C: Clock = LinuxClock> {
    clock: C,
    /// `enable ntp` (the default): the discipline may adjust the clock.
    enabled: bool,
    /// The base frequency last set, ppm: what the clock is left running
    /// at when the daemon stops in the middle of a fast slew.
    base_ppm: Option<f64>,
}

impl<C: Clock> ClockControl<C> {
    pub fn new(clock: C, enabled: bool) -> ClockControl<C> {
        ClockControl {
            clock,
            enabled,
            base_ppm: None,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Applies one clock action; other actions are not ours and return
    /// `Ok(false)`. An error names what failed.
    pub fn apply(&mut self, action: &Action) -> Result<bool, String> {
        let applies = matches!(
            action,
            Action::Step(_)
                | Action::SetRate(_)
                | Action::KernelPllOffset(_)
                | Action::KernelSync(_)
        );
        if !applies || !self.enabled {
            return Ok(applies);
        }
        let result = match *action {
            Action::Step(dt) => self.clock.step(dt),
            Action::SetRate(ppm) => self.clock.set_rate(ppm),
            Action::KernelPllOffset(dt) => self.clock.pll_offset(dt),
            Action::KernelSync(k) => self.kernel_sync(&k),
            _ => Ok(()),
        };
        result.map(|()| true).map_err(|e| e.to_string())
    }

    /// Remembers the frequency to fall back to on exit.
    pub fn set_base(&mut self, ppm: f64) {
        self.base_ppm = Some(ppm);
    }

    /// On exit: no fast slew may outlive the daemon.
    pub fn settle(&mut self) -> Result<(), String> {
        match self.base_ppm {
            Some(ppm) if self.enabled => self.clock.set_rate(ppm).map_err(|e| e.to_string()),
            _ => Ok(()),
        }
    }

    fn kernel_sync(&mut self, k: &KernelSync) -> Result<(), crate::clock::ClockError> {
        let mut s = self.clock.kernel_status()?;
        s.status &= !(sta::UNSYNC | sta::PLL | sta::INS | sta::DEL);
        if !k.synchronised {
            s.status |= sta::UNSYNC;
        }
        if k.pll {
            s.status |= sta::PLL;
        }
        match k.leap {
            Leap::AddSecond if k.synchronised => s.status |= sta::INS,
            Leap::DeleteSecond if k.synchronised => s.status |= sta::DEL,
            _ => {}
        }
        s.maxerror = k.maxerror;
        s.esterror = k.esterror;
        s.time_constant = k.time_constant;
        self.clock.set_kernel_status(&s)
    }

    #[cfg(test)]
    pub fn clock(&self) -> &C {
        &self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::sim::{SimClock, SimClockParams};

    fn control(enabled: bool) -> ClockControl<SimClock> {
        ClockControl::new(SimClock::new(SimClockParams::default()), enabled)
    }

    #[test]
    fn clock_actions_reach_the_clock_and_others_pass_through() {
        let mut c = control(true);
        assert_eq!(c.apply(&Action::Step(0.25)), Ok(true));
        assert_eq!(c.apply(&Action::SetRate(-2000.0)), Ok(true));
        assert_eq!(c.apply(&Action::SaveDrift(1.0)), Ok(false));
        assert_eq!(c.clock().steps, vec![0.25]);
        assert_eq!(c.clock().rate().unwrap(), -2000.0);
        c.set_base(-12.0);
        c.settle().unwrap();
        assert_eq!(c.clock().rate().unwrap(), -12.0);
        let e = c.apply(&Action::SetRate(1e6)).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn kernel_sync_clears_unsync_and_sets_leap_bits() {
        let mut c = control(true);
        let k = KernelSync {
            synchronised: true,
            pll: false,
            leap: Leap::AddSecond,
            maxerror: 0.01,
            esterror: 0.001,
            time_constant: 6,
        };
        c.apply(&Action::KernelSync(k)).unwrap();
        let s = c.clock().kernel_status().unwrap();
        assert_eq!(s.status & (sta::UNSYNC | sta::INS | sta::PLL), sta::INS);
        assert_eq!((s.maxerror, s.esterror), (0.01, 0.001));
    }

    #[test]
    fn disable_ntp_never_touches_the_clock() {
        let mut c = control(false);
        assert_eq!(c.apply(&Action::Step(5.0)), Ok(true));
        assert_eq!(c.apply(&Action::SetRate(100.0)), Ok(true));
        c.set_base(3.0);
        c.settle().unwrap();
        assert!(c.clock().steps.is_empty());
        assert_eq!(c.clock().rate().unwrap(), 0.0);
    }
}
