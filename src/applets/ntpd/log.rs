//! Where ntpd's messages go: syslog (facility daemon, ident `ntpd`) by
//! default, stderr with `-n`, or a file with `-l`/`logfile`. File and stderr
//! lines look like classic ntpd's log file: `21 Nov 23:57:55 ntpd[1234]: ...`
//! in local time (`TZ`, else /etc/localtime), through the shared `tz` module.

use std::ffi::CString;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use chrono::DateTime;

use crate::proto::UnixTime;
use crate::tz::LocalZone;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
    Notice,
    Info,
    Debug,
}

impl Level {
    fn syslog_priority(self) -> libc::c_int {
        match self {
            Level::Error => libc::LOG_ERR,
            Level::Warning => libc::LOG_WARNING,
            Level::Notice => libc::LOG_NOTICE,
            Level::Info => libc::LOG_INFO,
            Level::Debug => libc::LOG_DEBUG,
        }
    }
}

enum Sink {
    Stderr,
    Syslog,
    File(File),
}

pub struct Logger {
    sink: Sink,
    /// Loaded once: a chroot (`-i`) may hide the zone files later.
    zone: LocalZone,
    /// `-d` count / `-D level`: debug lines are written only when > 0.
    debug: u8,
}

impl Logger {
    pub fn stderr(debug: u8) -> Logger {
        Logger {
            sink: Sink::Stderr,
            zone: LocalZone::from_env(),
            debug,
        }
    }

    pub fn syslog(debug: u8) -> Logger {
        static IDENT: &std::ffi::CStr = c"ntpd";
        // SAFETY: IDENT is a static NUL-terminated string, as openlog keeps
        // the pointer.
        unsafe {
            libc::openlog(
                IDENT.as_ptr(),
                libc::LOG_PID | libc::LOG_NDELAY,
                libc::LOG_DAEMON,
            )
        };
        Logger {
            sink: Sink::Syslog,
            zone: LocalZone::from_env(),
            debug,
        }
    }

    pub fn file(path: &Path, debug: u8) -> std::io::Result<Logger> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Logger {
            zone: LocalZone::from_env(),
            sink: Sink::File(file),
            debug,
        })
    }

    pub fn debug_level(&self) -> u8 {
        self.debug
    }

    pub fn log(&mut self, level: Level, message: &str) {
        if level == Level::Debug && self.debug == 0 {
            return;
        }
        match &mut self.sink {
            Sink::Syslog => {
                let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
                // SAFETY: a constant format and a NUL-terminated argument.
                unsafe { libc::syslog(level.syslog_priority(), c"%s".as_ptr(), text.as_ptr()) };
            }
            Sink::Stderr => {
                let line = format_line(
                    UnixTime::from_system_time(std::time::SystemTime::now()),
                    &self.zone,
                    message,
                );
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
            Sink::File(file) => {
                let line = format_line(
                    UnixTime::from_system_time(std::time::SystemTime::now()),
                    &self.zone,
                    message,
                );
                let _ = file.write_all(line.as_bytes());
            }
        }
    }

    pub fn info(&mut self, message: &str) {
        self.log(Level::Info, message);
    }

    pub fn notice(&mut self, message: &str) {
        self.log(Level::Notice, message);
    }

    pub fn warning(&mut self, message: &str) {
        self.log(Level::Warning, message);
    }

    pub fn error(&mut self, message: &str) {
        self.log(Level::Error, message);
    }

    pub fn debug(&mut self, message: &str) {
        self.log(Level::Debug, message);
    }
}

/// `21 Nov 23:57:55 ntpd[1234]: message\n`, in the zone's local time.
pub fn format_line(at: UnixTime, zone: &LocalZone, message: &str) -> String {
    let stamp = DateTime::from_timestamp(at.secs(), 0)
        .map(|t| t.with_timezone(zone).format("%e %b %H:%M:%S").to_string())
        .unwrap_or_else(|| at.secs().to_string());
    format!("{stamp} ntpd[{}]: {message}\n", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(tz: &str) -> LocalZone {
        LocalZone::new(crate::tz::Zone::named(tz.as_bytes()))
    }

    #[test]
    fn lines_are_in_local_time() {
        let at = UnixTime::new(1_795_305_475, 0);
        let line = format_line(at, &zone("CET-1CEST,M3.5.0,M10.5.0/3"), "x");
        assert!(line.starts_with("22 Nov 00:57:55 ntpd["), "{line}");
    }

    #[test]
    fn lines_look_like_classic_log_files() {
        let utc = zone("UTC0");
        let line = format_line(
            UnixTime::new(1_795_305_475, 0),
            &utc,
            "Listen normally on 2 lo 127.0.0.1:123",
        );
        assert_eq!(
            line,
            format!(
                "21 Nov 23:57:55 ntpd[{}]: Listen normally on 2 lo 127.0.0.1:123\n",
                std::process::id()
            )
        );
        let early = format_line(UnixTime::new(1_783_300_909, 0), &utc, "x");
        assert!(early.starts_with(" 6 Jul "), "{early}");
    }

    #[test]
    fn a_log_file_is_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ntp.log");
        let mut log = Logger::file(&path, 0).unwrap();
        log.info("one");
        log.debug("hidden");
        log.warning("two");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text
            .lines()
            .map(|l| l.split_once(": ").unwrap().1)
            .collect();
        assert_eq!(lines, ["one", "two"]);
    }
}
