//! Linux RTC access through the /dev/rtcN character devices: read and set
//! the broken-down time (RTC_RD_TIME, RTC_SET_TIME) and wait for the edge of
//! an RTC second, with update interrupts (RTC_UIE_ON/OFF) where the driver
//! has them and by polling the time where it has not.
//!
//! The RTC holds a calendar date and time of day with whole seconds and no
//! time zone; whether that is UTC or local time is the caller's business.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// The devices tried, in order, when no device is named (as util-linux does).
pub const DEFAULT_DEVICES: [&str; 3] = ["/dev/rtc0", "/dev/rtc", "/dev/misc/rtc"];

/// How long to wait for an update interrupt. An RTC ticks every second, so
/// silence this long means the interrupt is broken (util-linux waits 10 s).
pub const UIE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to poll for a change of the seconds when the RTC has no
/// interrupt: one tick plus a margin for a loaded machine.
pub const POLL_TIMEOUT: Duration = Duration::from_millis(1500);

/// The pause between two reads while polling. Each read is a syscall and,
/// on rtc_cmos, several port reads; 1 ms keeps the edge accurate to 1 ms
/// without spinning a CPU.
const POLL_INTERVAL: Duration = Duration::from_millis(1);

/// `struct rtc_time` of <linux/rtc.h>: the same layout as the first nine
/// fields of `struct tm` (month 0-11, year since 1900).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct RawRtcTime {
    tm_sec: libc::c_int,
    tm_min: libc::c_int,
    tm_hour: libc::c_int,
    tm_mday: libc::c_int,
    tm_mon: libc::c_int,
    tm_year: libc::c_int,
    tm_wday: libc::c_int,
    tm_yday: libc::c_int,
    tm_isdst: libc::c_int,
}

/// The ioctl requests of <linux/rtc.h> ('p' is the RTC ioctl type).
mod request {
    use super::RawRtcTime;
    nix::ioctl_none!(uie_on, b'p', 0x03);
    nix::ioctl_none!(uie_off, b'p', 0x04);
    nix::ioctl_read!(read_time, b'p', 0x09, RawRtcTime);
    nix::ioctl_write_ptr!(set_time, b'p', 0x0a, RawRtcTime);
}

/// A time as the RTC holds it: a civil date and time, whole seconds, no zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RtcTime {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl RtcTime {
    /// As a chrono date-time, or None when the fields are not a real date
    /// (an RTC with garbage in it, e.g. month 13 or 31 April).
    pub fn to_naive(self) -> Option<chrono::NaiveDateTime> {
        chrono::NaiveDate::from_ymd_opt(self.year, self.month, self.day)?.and_hms_opt(
            self.hour,
            self.minute,
            self.second,
        )
    }

    pub fn from_naive(t: chrono::NaiveDateTime) -> RtcTime {
        use chrono::{Datelike, Timelike};
        RtcTime {
            year: t.year(),
            month: t.month(),
            day: t.day(),
            hour: t.hour(),
            minute: t.minute(),
            second: t.second(),
        }
    }

    fn from_raw(raw: &RawRtcTime) -> RtcTime {
        // Negative fields only come from a broken driver; they map to
        // values that fail `to_naive`.
        let field = |v: libc::c_int| u32::try_from(v).unwrap_or(u32::MAX);
        RtcTime {
            year: raw.tm_year.saturating_add(1900),
            month: field(raw.tm_mon).saturating_add(1),
            day: field(raw.tm_mday),
            hour: field(raw.tm_hour),
            minute: field(raw.tm_min),
            second: field(raw.tm_sec),
        }
    }

    fn to_raw(self) -> RawRtcTime {
        let int = |v: u32| libc::c_int::try_from(v).unwrap_or(libc::c_int::MAX);
        RawRtcTime {
            tm_sec: int(self.second),
            tm_min: int(self.minute),
            tm_hour: int(self.hour),
            tm_mday: int(self.day),
            tm_mon: int(self.month) - 1,
            tm_year: self.year - 1900,
            // the kernel ignores these three on RTC_SET_TIME
            tm_wday: 0,
            tm_yday: 0,
            tm_isdst: 0,
        }
    }
}

impl fmt::Display for RtcTime {
    /// util-linux's verbose form: `2026/11/21 23:50:01`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:4}/{:02}/{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// How the edge of a second was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TickMethod {
    /// An update interrupt (RTC_UIE_ON) arrived.
    Interrupt,
    /// The driver has no update interrupt: RTC_RD_TIME was polled until the
    /// seconds changed.
    Polled,
}

/// Why an RTC operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtcError {
    Open {
        path: PathBuf,
        errno: Errno,
    },
    Ioctl {
        request: &'static str,
        what: &'static str,
        path: PathBuf,
        errno: Errno,
    },
    /// No update interrupt within `UIE_TIMEOUT`.
    InterruptTimeout {
        path: PathBuf,
    },
    /// Waiting for the interrupt failed.
    Wait {
        path: PathBuf,
        errno: Errno,
    },
    /// Polling saw no change of the seconds within `POLL_TIMEOUT`.
    PollTimeout {
        path: PathBuf,
    },
}

impl fmt::Display for RtcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RtcError::Open { path, errno } => {
                write!(f, "cannot open {}: {}", path.display(), errno.desc())
            }
            RtcError::Ioctl {
                request,
                what,
                path,
                errno,
            } => write!(
                f,
                "ioctl({request}) to {} {what} failed: {}",
                path.display(),
                errno.desc()
            ),
            RtcError::InterruptTimeout { path } => write!(
                f,
                "select() to {} to wait for clock tick timed out",
                path.display()
            ),
            RtcError::Wait { path, errno } => write!(
                f,
                "select() to {} to wait for clock tick failed: {}",
                path.display(),
                errno.desc()
            ),
            RtcError::PollTimeout { path } => write!(
                f,
                "timed out waiting for the time of {} to change",
                path.display()
            ),
        }
    }
}

impl std::error::Error for RtcError {}

impl RtcError {
    /// The errno behind the failure, if there is one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            RtcError::Open { errno, .. }
            | RtcError::Ioctl { errno, .. }
            | RtcError::Wait { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// An open RTC device.
#[derive(Debug)]
pub struct Rtc {
    file: File,
    path: PathBuf,
}

impl Rtc {
    /// Opens PATH read-only, which is all the RTC ioctls need, setting
    /// included (the kernel checks CAP_SYS_TIME, not the open mode).
    pub fn open(path: &Path) -> Result<Rtc, RtcError> {
        match File::open(path) {
            Ok(file) => Ok(Rtc {
                file,
                path: path.to_path_buf(),
            }),
            Err(e) => Err(RtcError::Open {
                path: path.to_path_buf(),
                errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The driver's name (`rtc_cmos`, ...) from sysfs, following a /dev/rtc
    /// symlink to the rtcN it names.
    pub fn driver_name(&self) -> Option<String> {
        let dev = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let node = dev.file_name()?.to_str()?;
        let name = std::fs::read_to_string(format!("/sys/class/rtc/{node}/name")).ok()?;
        let name = name.split_whitespace().next()?.to_string();
        (!name.is_empty()).then_some(name)
    }

    pub fn read_time(&self) -> Result<RtcTime, RtcError> {
        let mut raw = RawRtcTime::default();
        // SAFETY: raw is a valid, writable struct rtc_time.
        unsafe { request::read_time(self.file.as_raw_fd(), &mut raw) }
            .map_err(|errno| self.ioctl_error("RTC_RD_TIME", "to read the time", errno))?;
        Ok(RtcTime::from_raw(&raw))
    }

    pub fn set_time(&self, t: RtcTime) -> Result<(), RtcError> {
        let raw = t.to_raw();
        // SAFETY: raw is a valid struct rtc_time that outlives the call.
        unsafe { request::set_time(self.file.as_raw_fd(), &raw) }
            .map_err(|errno| self.ioctl_error("RTC_SET_TIME", "to set the time", errno))?;
        Ok(())
    }

    /// Returns right after the RTC's seconds have changed, so that a read
    /// that follows is exact to the edge of the second.
    pub fn wait_for_tick(&self) -> Result<TickMethod, RtcError> {
        // SAFETY: RTC_UIE_ON takes no argument.
        match unsafe { request::uie_on(self.file.as_raw_fd()) } {
            Ok(_) => {}
            // the driver has no update interrupt (or no IRQ line)
            Err(Errno::ENOTTY | Errno::EINVAL) => {
                return self.poll_for_tick().map(|_| TickMethod::Polled)
            }
            Err(errno) => return Err(self.ioctl_error("RTC_UIE_ON", "to wait for a tick", errno)),
        }
        let waited = self.wait_for_interrupt();
        // SAFETY: RTC_UIE_OFF takes no argument.
        let off = unsafe { request::uie_off(self.file.as_raw_fd()) };
        waited?;
        off.map_err(|errno| self.ioctl_error("RTC_UIE_OFF", "to stop update interrupts", errno))?;
        Ok(TickMethod::Interrupt)
    }

    fn wait_for_interrupt(&self) -> Result<(), RtcError> {
        let timeout = PollTimeout::try_from(UIE_TIMEOUT).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
        loop {
            match poll(&mut fds, timeout) {
                Ok(0) => {
                    return Err(RtcError::InterruptTimeout {
                        path: self.path.clone(),
                    })
                }
                Ok(_) => break,
                Err(Errno::EINTR) => continue,
                Err(errno) => {
                    return Err(RtcError::Wait {
                        path: self.path.clone(),
                        errno,
                    })
                }
            }
        }
        // Consume the interrupt record (an unsigned long: count and flags)
        // so the next wait does not return at once.
        let mut record = [0u8; std::mem::size_of::<libc::c_ulong>()];
        (&self.file).read(&mut record).map_err(|e| RtcError::Wait {
            path: self.path.clone(),
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        })?;
        Ok(())
    }

    fn poll_for_tick(&self) -> Result<(), RtcError> {
        let start = self.read_time()?;
        let deadline = Instant::now() + POLL_TIMEOUT;
        while Instant::now() < deadline {
            if self.read_time()?.second != start.second {
                return Ok(());
            }
            std::thread::sleep(POLL_INTERVAL);
        }
        Err(RtcError::PollTimeout {
            path: self.path.clone(),
        })
    }

    fn ioctl_error(&self, request: &'static str, what: &'static str, errno: Errno) -> RtcError {
        RtcError::Ioctl {
            request,
            what,
            path: self.path.clone(),
            errno,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_layout_is_struct_rtc_time() {
        // nine ints: the size is part of the ioctl request numbers
        assert_eq!(std::mem::size_of::<RawRtcTime>(), 36);
    }

    #[test]
    fn raw_round_trip_uses_month_0_11_and_year_since_1900() {
        let t = RtcTime {
            year: 2026,
            month: 11,
            day: 21,
            hour: 23,
            minute: 50,
            second: 1,
        };
        let raw = t.to_raw();
        assert_eq!((raw.tm_year, raw.tm_mon, raw.tm_mday), (126, 10, 21));
        assert_eq!(RtcTime::from_raw(&raw), t);
        assert_eq!(t.to_string(), "2026/11/21 23:50:01");
    }

    #[test]
    fn garbage_fields_are_not_a_date() {
        let raw = RawRtcTime {
            tm_mon: 12,
            tm_mday: 1,
            tm_year: 120,
            ..Default::default()
        };
        assert_eq!(RtcTime::from_raw(&raw).to_naive(), None);
        let negative = RawRtcTime {
            tm_mday: -1,
            ..Default::default()
        };
        assert_eq!(RtcTime::from_raw(&negative).to_naive(), None);
    }

    #[test]
    fn missing_device_is_an_open_error_naming_it() {
        let err = Rtc::open(Path::new("/nonexistent/rtc9")).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ENOENT));
        assert_eq!(
            err.to_string(),
            "cannot open /nonexistent/rtc9: No such file or directory"
        );
    }
}
