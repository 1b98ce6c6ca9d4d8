//! The sysv init script (pkg/ntp.init) driving a real ntpd: start,
//! status, restart and stop with their LSB exit codes.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::{common, is_root, run, text};

/// The init script run against this build's ntpd, with its pidfile,
/// defaults file and configuration in a temporary directory.
struct InitScript {
    dir: tempfile::TempDir,
    port: u16,
}

/// A daemon that serves its local clock on loopback and never touches the
/// system clock.
const TEST_CONF: &str = "disable ntp
server 127.127.1.0
fudge 127.127.1.0 stratum 10
interface ignore all
interface listen 127.0.0.1
";

impl InitScript {
    fn new(conf: &str) -> InitScript {
        let dir = tempfile::Builder::new()
            .prefix("ntpbox-init")
            .tempdir()
            .unwrap();
        let port = common::free_udp_port();
        let d = dir.path().display();
        fs::write(dir.path().join("ntp.conf"), conf).unwrap();
        // As root the daemon drops to nobody, as it drops to ntp when
        // installed; then it cannot remove its pidfile, and stop must.
        let user = if is_root() { "nobody:nogroup" } else { "" };
        fs::write(
            dir.path().join("default"),
            format!(
                "NTPD_OPTS='-c {d}/ntp.conf --port {port} -l {d}/ntpd.log'\nNTPD_USER='{user}'\n"
            ),
        )
        .unwrap();
        InitScript { dir, port }
    }

    fn pidfile(&self) -> PathBuf {
        self.dir.path().join("ntpd.pid")
    }

    /// Runs `ntp.init ACTION`: (exit code, stdout, stderr).
    fn run(&self, action: &[&str]) -> (i32, String, String) {
        let out = run(Command::new(common::project_root().join("pkg/ntp.init"))
            .args(action)
            .env("NTPD_DAEMON", common::applet_dir().join("ntpd"))
            .env("NTPD_PIDFILE", self.pidfile())
            .env("NTPD_DEFAULTS", self.dir.path().join("default")));
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    fn pid(&self) -> u32 {
        fs::read_to_string(self.pidfile())
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("ntpd.log")).unwrap_or_default()
    }
}

impl Drop for InitScript {
    fn drop(&mut self) {
        // A failed assertion must not leave the daemon behind.
        if let Ok(pid) = fs::read_to_string(self.pidfile()) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                if is_ntpd(pid as u32) {
                    // SAFETY: kill(2) on the daemon this test started.
                    unsafe { libc::kill(pid, libc::SIGTERM) };
                }
            }
        }
    }
}

fn is_ntpd(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "ntpd\n")
}

/// The real user ID of PID.
fn uid_of(pid: u32) -> u32 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn ok(stdout: String) -> (i32, String, String) {
    (0, stdout, String::new())
}

#[test]
fn the_init_script_starts_reports_restarts_and_stops_a_real_daemon() {
    let s = InitScript::new(TEST_CONF);
    assert_eq!(
        s.run(&["status"]),
        (3, "ntpd is not running\n".into(), String::new())
    );

    let (code, out, err) = s.run(&["start"]);
    assert_eq!((code, err.as_str()), (0, ""), "{}", s.log());
    let pid = s.pid();
    assert_eq!(out, format!("Started ntpd (pid {pid})\n"));
    assert!(is_ntpd(pid));
    if is_root() {
        assert_eq!(uid_of(pid), 65534, "ran as nobody (-u)");
    }
    let query = common::applet("ntpdate")
        .args(["-q", &format!("127.0.0.1:{}", s.port)])
        .output()
        .unwrap();
    assert!(query.status.success(), "{}", text(&query.stderr));
    assert!(text(&query.stdout).starts_with(&format!("server 127.0.0.1:{}, stratum 10, ", s.port)));

    assert_eq!(
        s.run(&["status"]),
        ok(format!("ntpd is running (pid {pid})\n"))
    );
    assert_eq!(
        s.run(&["start"]),
        ok(format!("ntpd is already running (pid {pid})\n"))
    );

    let (code, out, err) = s.run(&["restart"]);
    let new_pid = s.pid();
    assert_ne!(new_pid, pid);
    assert_eq!(
        (code, out, err),
        ok(format!(
            "Stopped ntpd (pid {pid})\nStarted ntpd (pid {new_pid})\n"
        ))
    );
    assert!(!is_ntpd(pid) && is_ntpd(new_pid));

    assert_eq!(
        s.run(&["stop"]),
        ok(format!("Stopped ntpd (pid {new_pid})\n"))
    );
    assert!(!is_ntpd(new_pid));
    assert!(!s.pidfile().exists(), "stop removes the pidfile");
    assert_eq!(
        s.run(&["status"]),
        (3, "ntpd is not running\n".into(), String::new())
    );
    assert_eq!(s.run(&["stop"]), ok("ntpd is not running\n".into()));
}

#[test]
fn the_init_script_reports_stale_pidfiles_failed_starts_and_bad_actions() {
    let s = InitScript::new(TEST_CONF);
    let stale = format!(
        "ntpd is not running, but {} exists\n",
        s.pidfile().display()
    );
    // A pidfile naming a process that is gone, then one that is not ntpd.
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    fs::write(s.pidfile(), format!("{}\n", gone.id())).unwrap();
    assert_eq!(s.run(&["status"]), (1, stale.clone(), String::new()));
    fs::write(s.pidfile(), format!("{}\n", std::process::id())).unwrap();
    assert_eq!(s.run(&["status"]), (1, stale, String::new()));
    assert_eq!(s.run(&["stop"]), ok("ntpd is not running\n".into()));
    assert!(!s.pidfile().exists());

    let usage = "Usage: ntp.init {start|stop|restart|force-reload|status}\n";
    assert_eq!(s.run(&[]), (2, String::new(), usage.into()));
    assert_eq!(s.run(&["bogus"]), (2, String::new(), usage.into()));
    assert_eq!(
        s.run(&["reload"]),
        (
            3,
            String::new(),
            "ntpd: reload is not supported; use restart\n".into()
        )
    );

    // ntpd refuses a bad configuration: start fails with ntpd's reason.
    let bad = InitScript::new("disable ntp\nrestrict 10.0.0.0 mask 255.0.0.0 nomodfiy\n");
    let (code, out, err) = bad.run(&["start"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("nomodfiy"), "{err}");
    assert!(err.ends_with("ntpd: not started\n"), "{err}");
    assert_eq!(bad.run(&["status"]).0, 3);
}
