//! Where ntpdate's messages go, in classic ntpdate's form: on the terminal
//! as `21 Nov 23:47:50 ntpdate[1234]: MESSAGE` (notices on stdout, errors on
//! stderr), or with -s to syslog (facility daemon, tagged `ntpdate[PID]`).

use std::ffi::CString;
use std::io::Write;
use std::sync::OnceLock;

use chrono::TimeZone;

use crate::proto::UnixTime;
use crate::tz::LocalZone;

/// The tag classic ntpdate logs under, whatever its argv[0].
const PROGRAM: &str = "ntpdate";

#[derive(Debug)]
pub struct Log {
    syslog: bool,
    pid: u32,
}

impl Log {
    pub fn new(syslog: bool) -> Log {
        if syslog {
            // SAFETY: the ident is a static NUL-terminated string, which
            // openlog keeps a pointer to.
            unsafe {
                libc::openlog(
                    c"ntpdate".as_ptr(),
                    libc::LOG_PID | libc::LOG_NDELAY,
                    libc::LOG_DAEMON,
                )
            };
        }
        Log {
            syslog,
            pid: std::process::id(),
        }
    }

    /// A result: stdout, or syslog at LOG_NOTICE.
    pub fn notice(&self, message: &str) {
        if self.syslog {
            to_syslog(libc::LOG_NOTICE, message);
        } else {
            let _ = writeln!(std::io::stdout(), "{}{message}", self.prefix());
        }
    }

    /// A failure: stderr, or syslog at LOG_ERR.
    pub fn error(&self, message: &str) {
        if self.syslog {
            to_syslog(libc::LOG_ERR, message);
        } else {
            let _ = writeln!(std::io::stderr(), "{}{message}", self.prefix());
        }
    }

    /// `21 Nov 23:47:50 ntpdate[1234]: ` in local time: the day of the month
    /// space-padded, English month names, as ntp's humanlogtime prints them.
    fn prefix(&self) -> String {
        let now = local_time(crate::net::realtime_now(), "%e %b %H:%M:%S");
        format!("{now} {PROGRAM}[{}]: ", self.pid)
    }
}

/// `t` in the local time zone (TZ, /etc/localtime), formatted by chrono.
pub fn local_time(t: UnixTime, format: &str) -> String {
    static ZONE: OnceLock<LocalZone> = OnceLock::new();
    let zone = ZONE.get_or_init(LocalZone::from_env);
    match zone.timestamp_opt(t.secs(), t.subsec_nanos()).single() {
        Some(local) => local.format(format).to_string(),
        // Beyond what the zone can say: UTC rather than nothing.
        None => chrono::Utc
            .timestamp_opt(t.secs(), t.subsec_nanos())
            .single()
            .map_or_else(|| t.to_string(), |utc| utc.format(format).to_string()),
    }
}

fn to_syslog(priority: libc::c_int, message: &str) {
    // A NUL inside the message would end it early; drop any.
    let text = CString::new(message.replace('\0', "")).unwrap_or_default();
    // SAFETY: both strings are NUL-terminated; "%s" consumes exactly one.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
}
