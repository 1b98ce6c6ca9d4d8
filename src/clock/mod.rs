//! Clocks: the `Clock` trait, the Linux system clock, and a simulated clock
//! for the engine's tests.
//!
//! Everything that reads or adjusts time goes through `Clock`, so the same
//! code runs against the kernel in production and against `SimClock` in the
//! accuracy tests, where time is virtual and deterministic.

pub mod linux;
pub mod sim;

use std::fmt;

use crate::proto::UnixTime;

pub use linux::LinuxClock;
pub use sim::{SimClock, SimRng};

/// The kernel's clock-discipline state (`struct timex`), in SI units.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct KernelStatus {
    /// STA_* bits (STA_PLL, STA_UNSYNC, STA_INS, STA_DEL, STA_NANO, ...).
    pub status: i32,
    /// Maximum error estimate, seconds.
    pub maxerror: f64,
    /// Estimated error, seconds.
    pub esterror: f64,
    /// PLL time constant (log2-ish, as ntp_adjtime takes it).
    pub time_constant: i64,
    /// Remaining PLL offset, seconds (read only).
    pub offset: f64,
    /// Frequency correction, ppm (read only here; see `Clock::set_frequency`).
    pub frequency: f64,
    /// Microseconds per kernel tick (read only here).
    pub tick: i64,
    /// Clock state as adjtimex returns it: TIME_OK, TIME_INS, ..., TIME_ERROR.
    pub state: i32,
}

/// STA_* bits of `KernelStatus::status`, as in <sys/timex.h>.
pub mod sta {
    pub const PLL: i32 = 0x0001;
    pub const INS: i32 = 0x0010;
    pub const DEL: i32 = 0x0020;
    pub const UNSYNC: i32 = 0x0040;
    pub const FREQHOLD: i32 = 0x0080;
    pub const NANO: i32 = 0x2000;
}

/// Why a clock operation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum ClockError {
    /// EPERM: the process lacks CAP_SYS_TIME. Names the operation.
    PermissionDenied(&'static str),
    /// Any other OS error, with the operation and errno.
    Os { op: &'static str, errno: i32 },
    /// The request is outside what the clock accepts (e.g. > 500 ppm).
    OutOfRange { op: &'static str, value: f64 },
}

impl fmt::Display for ClockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClockError::PermissionDenied(op) => {
                write!(
                    f,
                    "cannot {op}: Operation not permitted (needs CAP_SYS_TIME; run as root)"
                )
            }
            ClockError::Os { op, errno } => {
                write!(
                    f,
                    "cannot {op}: {}",
                    std::io::Error::from_raw_os_error(*errno)
                )
            }
            ClockError::OutOfRange { op, value } => {
                write!(f, "cannot {op}: {value} is out of range")
            }
        }
    }
}

impl std::error::Error for ClockError {}

/// A clock that can be read and disciplined.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Result<UnixTime, ClockError>;
    /// Jumps the clock by `offset` seconds, atomically relative to now.
    fn step(&mut self, offset: f64) -> Result<(), ClockError>;
    /// Sets the clock to `t` (clock_settime).
    fn set_time(&mut self, t: UnixTime) -> Result<(), ClockError>;
    /// Starts a gradual correction by `offset` seconds at up to 500 ppm, as
    /// adjtime(3) does, replacing any correction still in progress.
    fn slew(&mut self, offset: f64) -> Result<(), ClockError>;
    /// What is left of the correction `slew` started, in seconds.
    fn slew_remaining(&self) -> Result<f64, ClockError>;
    /// The frequency correction in ppm (positive: the clock runs faster).
    fn frequency(&self) -> Result<f64, ClockError>;
    /// Sets the frequency correction, in ppm, within ±500.
    fn set_frequency(&mut self, ppm: f64) -> Result<(), ClockError>;
    /// The whole rate correction, ppm: the tick length's share plus the
    /// frequency's. Equal to `frequency()` while the tick is nominal.
    fn rate(&self) -> Result<f64, ClockError>;
    /// Sets the whole rate correction, within ±`MAX_RATE_PPM`: the kernel's
    /// tick length takes the coarse part, its frequency the fine part
    /// (within ±500 ppm), as chronyd does. This is how the discipline
    /// removes an offset quickly without stepping: time stays continuous
    /// and monotonic, it only runs at most 1/12 fast or slow for a while.
    fn set_rate(&mut self, ppm: f64) -> Result<(), ClockError>;
    /// Hands an offset to the kernel's phase-locked loop (ADJ_OFFSET, with
    /// STA_PLL set by `set_kernel_status`): `enable kernel` mode.
    fn pll_offset(&mut self, offset: f64) -> Result<(), ClockError>;
    /// Reads the kernel discipline state.
    fn kernel_status(&self) -> Result<KernelStatus, ClockError>;
    /// Writes status bits, maxerror, esterror and the time constant.
    fn set_kernel_status(&mut self, status: &KernelStatus) -> Result<(), ClockError>;
}

/// The largest frequency correction the kernel accepts, ppm.
pub const MAX_FREQUENCY_PPM: f64 = 500.0;
/// The largest whole rate correction `set_rate` applies, ppm: 1/12, the
/// bound chronyd's `maxslewrate` uses by default. A 0.1 s error is gone in
/// 1.2 s, and no interval measured by an application is off by more than
/// 8.3%, where a step would make it arbitrarily wrong or negative.
pub const MAX_RATE_PPM: f64 = 83_333.0;
/// The rate at which adjtime(3)-style slews run, as a fraction (500 ppm).
pub const SLEW_RATE: f64 = 500e-6;
/// The largest adjtime(3)-style slew, seconds: glibc's adjtime refuses more,
/// because the kernel takes the offset in microseconds in a 32-bit field on
/// some platforms. At 500 ppm it would take 50 days to finish.
pub const MAX_SLEW: f64 = 2145.0;
