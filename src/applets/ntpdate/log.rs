//! Where ntpdate's messages go, in classic ntpdate's form: on the terminal
//! as `21 Nov 23:47:50 ntpdate[1234]: MESSAGE` (notices on stdout, errors on
//! stderr), or with -s to syslog (facility daemon, tagged `ntpdate[PID]`).

use std::ffi::CString;
use std::io::Write;

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
        // chrono::Local until the project's tz module provides local time.
        let now = chrono::Local::now();
        format!("{} {PROGRAM}[{}]: ", now.format("%e %b %H:%M:%S"), self.pid)
    }
}

fn to_syslog(priority: libc::c_int, message: &str) {
    // A NUL inside the message would end it early; drop any.
    let text = CString::new(message.replace('\0', "")).unwrap_or_default();
    // SAFETY: both strings are NUL-terminated; "%s" consumes exactly one.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
}
