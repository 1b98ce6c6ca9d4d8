//! The Linux system clock: clock_gettime, clock_settime and clock_adjtime.
//!
//! Every clock_adjtime call that carries an offset or time sets ADJ_NANO, so
//! the kernel takes nanoseconds; the one exception is the adjtime(3)-style
//! single-shot slew, which the kernel defines in microseconds whatever the
//! flags say.

use super::{sta, Clock, ClockError, KernelStatus, MAX_FREQUENCY_PPM, MAX_RATE_PPM, MAX_SLEW};
use crate::proto::UnixTime;

/// `timex.freq` and `timex.ppsfreq` are ppm with a 16-bit binary fraction.
const FREQ_SCALE: f64 = 65536.0;

/// A Linux clock, CLOCK_REALTIME unless said otherwise.
#[derive(Clone, Copy, Debug)]
pub struct LinuxClock {
    id: libc::clockid_t,
}

impl LinuxClock {
    pub fn realtime() -> LinuxClock {
        LinuxClock {
            id: libc::CLOCK_REALTIME,
        }
    }

    /// Reads the kernel's `struct timex` (modes 0: changes nothing).
    fn read_timex(&self) -> Result<(libc::timex, i32), ClockError> {
        // SAFETY: timex is plain data; zero is a valid "read only" request.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        let state = adjtime(self.id, &mut tx, "read the clock state")?;
        Ok((tx, state))
    }

    /// A write the kernel checks for CAP_SYS_TIME but that changes nothing:
    /// the tick length set to its current value. The test suite uses it to
    /// prove that it runs without the right to change the clock.
    pub fn probe_write_permission(&self) -> Result<(), ClockError> {
        let (current, _) = self.read_timex()?;
        // SAFETY: as above.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        tx.modes = libc::ADJ_TICK;
        tx.tick = current.tick;
        adjtime(self.id, &mut tx, "write the tick length").map(|_| ())
    }
}

/// The nominal tick length, µs: one USER_HZ tick.
fn nominal_tick() -> libc::c_long {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    1_000_000 / if hz > 0 { hz } else { 100 }
}

/// Splits a whole rate correction into a tick length and a frequency.
fn tick_and_freq(ppm: f64, nominal: libc::c_long) -> (libc::c_long, f64) {
    let ppm_per_tick_us = 1e6 / nominal as f64;
    let ticks = (ppm / ppm_per_tick_us).round() as libc::c_long;
    (nominal + ticks, ppm - ticks as f64 * ppm_per_tick_us)
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn os_error(op: &'static str) -> ClockError {
    match errno() {
        libc::EPERM => ClockError::PermissionDenied(op),
        e => ClockError::Os { op, errno: e },
    }
}

/// clock_adjtime, returning the clock state (TIME_OK, ...).
fn adjtime(id: libc::clockid_t, tx: &mut libc::timex, op: &'static str) -> Result<i32, ClockError> {
    // SAFETY: tx points to a valid, initialised timex.
    let r = unsafe { libc::clock_adjtime(id, tx) };
    if r < 0 {
        Err(os_error(op))
    } else {
        Ok(r)
    }
}

/// The offset or time field of timex in nanoseconds mode.
fn nanos_of(tx: &libc::timex, value: libc::c_long) -> f64 {
    if tx.status & sta::NANO != 0 {
        value as f64 * 1e-9
    } else {
        value as f64 * 1e-6
    }
}

impl Clock for LinuxClock {
    fn now(&self) -> Result<UnixTime, ClockError> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: ts is a valid out-pointer.
        if unsafe { libc::clock_gettime(self.id, &mut ts) } < 0 {
            return Err(os_error("read the clock"));
        }
        Ok(UnixTime::new(ts.tv_sec, ts.tv_nsec as u32))
    }

    fn step(&mut self, offset: f64) -> Result<(), ClockError> {
        if !offset.is_finite() {
            return Err(ClockError::OutOfRange {
                op: "step the clock",
                value: offset,
            });
        }
        // ADJ_SETOFFSET wants a normalised timeval: tv_usec (nanoseconds with
        // ADJ_NANO) in [0, 1e9), the sign carried by tv_sec.
        let nanos = (offset * 1e9).round() as i128;
        // SAFETY: timex is plain data.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        tx.modes = libc::ADJ_SETOFFSET | libc::ADJ_NANO;
        tx.time.tv_sec = nanos.div_euclid(1_000_000_000) as libc::time_t;
        tx.time.tv_usec = nanos.rem_euclid(1_000_000_000) as libc::suseconds_t;
        adjtime(self.id, &mut tx, "step the clock").map(|_| ())
    }

    fn set_time(&mut self, t: UnixTime) -> Result<(), ClockError> {
        let ts = libc::timespec {
            tv_sec: t.secs(),
            tv_nsec: t.subsec_nanos() as libc::c_long,
        };
        // SAFETY: ts is a valid timespec.
        if unsafe { libc::clock_settime(self.id, &ts) } < 0 {
            return Err(os_error("set the clock"));
        }
        Ok(())
    }

    fn slew(&mut self, offset: f64) -> Result<(), ClockError> {
        // The kernel's single-shot offset is in microseconds, whatever the
        // ADJ_NANO flag says.
        if !offset.is_finite() || offset.abs() > MAX_SLEW {
            return Err(ClockError::OutOfRange {
                op: "slew the clock",
                value: offset,
            });
        }
        // SAFETY: timex is plain data.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        tx.modes = libc::ADJ_OFFSET_SINGLESHOT as libc::c_uint;
        tx.offset = (offset * 1e6).round() as libc::c_long;
        adjtime(self.id, &mut tx, "slew the clock").map(|_| ())
    }

    fn slew_remaining(&self) -> Result<f64, ClockError> {
        // ADJ_OFFSET_SS_READ reads the single-shot remainder, in microseconds.
        // SAFETY: timex is plain data.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        tx.modes = libc::ADJ_OFFSET_SS_READ as libc::c_uint;
        adjtime(self.id, &mut tx, "read the slew in progress")?;
        Ok(tx.offset as f64 * 1e-6)
    }

    fn frequency(&self) -> Result<f64, ClockError> {
        Ok(self.read_timex()?.0.freq as f64 / FREQ_SCALE)
    }

    fn set_frequency(&mut self, ppm: f64) -> Result<(), ClockError> {
        if !ppm.is_finite() || ppm.abs() > MAX_FREQUENCY_PPM {
            return Err(ClockError::OutOfRange {
                op: "set the clock frequency",
                value: ppm,
            });
        }
        // SAFETY: timex is plain data.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        tx.modes = libc::ADJ_FREQUENCY | libc::ADJ_NANO;
        tx.freq = (ppm * FREQ_SCALE).round() as libc::c_long;
        adjtime(self.id, &mut tx, "set the clock frequency").map(|_| ())
    }

    fn rate(&self) -> Result<f64, ClockError> {
        let (tx, _) = self.read_timex()?;
        let nominal = nominal_tick();
        let tick_ppm = (tx.tick - nominal) as f64 * 1e6 / nominal as f64;
        Ok(tick_ppm + tx.freq as f64 / FREQ_SCALE)
    }

    fn set_rate(&mut self, ppm: f64) -> Result<(), ClockError> {
        if !ppm.is_finite() || ppm.abs() > MAX_RATE_PPM {
            return Err(ClockError::OutOfRange {
                op: "set the clock rate",
                value: ppm,
            });
        }
        let (tick, freq) = tick_and_freq(ppm, nominal_tick());
        // SAFETY: timex is plain data.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        tx.modes = libc::ADJ_TICK | libc::ADJ_FREQUENCY | libc::ADJ_NANO;
        tx.tick = tick;
        tx.freq = (freq * FREQ_SCALE).round() as libc::c_long;
        adjtime(self.id, &mut tx, "set the clock rate").map(|_| ())
    }

    fn pll_offset(&mut self, offset: f64) -> Result<(), ClockError> {
        // The kernel clamps the PLL offset to ±0.5 s.
        if !offset.is_finite() || offset.abs() > 0.5 {
            return Err(ClockError::OutOfRange {
                op: "hand the kernel PLL an offset",
                value: offset,
            });
        }
        // SAFETY: timex is plain data.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        tx.modes = libc::ADJ_OFFSET | libc::ADJ_NANO;
        tx.offset = (offset * 1e9).round() as libc::c_long;
        adjtime(self.id, &mut tx, "hand the kernel PLL an offset").map(|_| ())
    }

    fn kernel_status(&self) -> Result<KernelStatus, ClockError> {
        let (tx, state) = self.read_timex()?;
        Ok(KernelStatus {
            status: tx.status,
            maxerror: tx.maxerror as f64 * 1e-6,
            esterror: tx.esterror as f64 * 1e-6,
            time_constant: tx.constant,
            offset: nanos_of(&tx, tx.offset),
            frequency: tx.freq as f64 / FREQ_SCALE,
            tick: tx.tick,
            state,
        })
    }

    fn set_kernel_status(&mut self, s: &KernelStatus) -> Result<(), ClockError> {
        // SAFETY: timex is plain data.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        tx.modes = libc::ADJ_STATUS
            | libc::ADJ_MAXERROR
            | libc::ADJ_ESTERROR
            | libc::ADJ_TIMECONST
            | libc::ADJ_NANO;
        tx.status = s.status;
        tx.maxerror = (s.maxerror * 1e6).round() as libc::c_long;
        tx.esterror = (s.esterror * 1e6).round() as libc::c_long;
        tx.constant = s.time_constant as libc::c_long;
        adjtime(self.id, &mut tx, "set the kernel clock status").map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_split_into_whole_ticks_and_a_fine_frequency() {
        assert_eq!(tick_and_freq(0.0, 10_000), (10_000, 0.0));
        let (tick, freq) = tick_and_freq(-83_333.0, 10_000);
        assert_eq!(tick, 10_000 - 833);
        assert!((freq + 33.0).abs() < 1e-9, "{freq}");
        let (tick, freq) = tick_and_freq(149.0, 10_000);
        assert_eq!(tick, 10_001);
        assert!((freq - 49.0).abs() < 1e-9);
        let (tick, freq) = tick_and_freq(12.5, 10_000);
        assert_eq!((tick, freq), (10_000, 12.5));
    }
}
