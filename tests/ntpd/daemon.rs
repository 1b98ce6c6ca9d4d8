//! Starting and stopping ntpbox ntpd for a test.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::common;

/// The line the daemon logs once its sockets are bound and it serves.
pub const READY_LINE: &str = "0.0.0.0 c016 06 restart";
/// How long the daemon gets to come up or to exit.
const PATIENCE: Duration = Duration::from_secs(10);

/// A foreground (`-n`) ntpd with its stderr in a file; stopped by PID when
/// dropped.
pub struct Daemon {
    child: Option<Child>,
    pub port: u16,
    /// Holds ntp.conf and the log for as long as the daemon runs.
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl Daemon {
    /// Starts `ntpd -n -c CONF --port PORT` on a free port.
    pub fn start(conf: &str) -> Daemon {
        Daemon::start_with(conf, &[])
    }

    pub fn start_with(conf: &str, extra_args: &[&str]) -> Daemon {
        Daemon::launch(
            common::applet("ntpd"),
            conf,
            common::free_udp_port(),
            extra_args,
        )
    }

    /// Starts PROGRAM (ntpd, possibly wrapped to run in a namespace) with
    /// `-n -c CONF --port PORT EXTRA_ARGS` and waits until it serves.
    pub fn launch(mut program: Command, conf: &str, port: u16, extra_args: &[&str]) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("ntpbox-ntpd")
            .tempdir()
            .unwrap();
        let conf_path = dir.path().join("ntp.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = dir.path().join("stderr");
        let child = program
            .args(["-n", "-c"])
            .arg(&conf_path)
            .args(["--port", &port.to_string()])
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start ntpd");
        let mut daemon = Daemon {
            child: Some(child),
            port,
            _dir: dir,
            log,
        };
        daemon.wait_for_log(READY_LINE);
        daemon
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log's messages without the `21 Nov 23:57:55 ntpd[PID]: ` prefix.
    pub fn messages(&self) -> Vec<String> {
        messages(&self.log())
    }

    pub fn wait_for_log(&mut self, needle: &str) {
        let start = Instant::now();
        while !self.log().contains(needle) {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "ntpd exited ({status}) before logging {needle:?}:\n{}",
                    self.log()
                );
            }
            assert!(
                start.elapsed() < PATIENCE,
                "no {needle:?} in the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Sends SIGNAL to the daemon's PID and waits for it to exit.
    pub fn stop_with(&mut self, signal: libc::c_int) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        // SAFETY: kill(2) on the PID of the child we started.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        wait_bounded(&mut child)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for CHILD to exit, killing it if it takes too long.
pub fn wait_bounded(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > PATIENCE {
            let _ = child.kill();
            panic!("ntpd did not exit within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Log lines without their time and `ntpd[PID]: ` prefix.
pub fn messages(log: &str) -> Vec<String> {
    log.lines()
        .map(|l| match l.split_once("]: ") {
            Some((_, m)) => m.to_string(),
            None => l.to_string(),
        })
        .collect()
}

/// Runs ntpd to completion (for options that make it exit).
pub fn run(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = common::applet("ntpd")
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ntpd");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The ntpd command, for tests that manage the process themselves.
pub fn command() -> Command {
    common::applet("ntpd")
}

/// A line of /proc/PID/status, e.g. `Uid:`, `CapEff:` or `VmRSS:`.
pub fn status_field(pid: u32, name: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
        .unwrap_or_default()
}

/// An ntpd started without `-n`: it forked, its parent exited 0 once the
/// daemon was ready, and the daemon's PID is the one in its pidfile.
pub struct Daemonized {
    pub pid: u32,
    pub port: u16,
    pub pidfile: PathBuf,
    pub logfile: PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemonized {
    /// `ntpd -c CONF -p PIDFILE -l LOGFILE --port PORT EXTRA_ARGS`.
    pub fn start(conf: &str, extra_args: &[&str]) -> Daemonized {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("ntpd.pid");
        let logfile = dir.path().join("ntpd.log");
        let port = common::free_udp_port();
        std::fs::write(dir.path().join("ntp.conf"), conf).unwrap();
        let mut parent = command()
            .current_dir(dir.path())
            .args(["-c", "ntp.conf", "-p"])
            .arg(&pidfile)
            .arg("-l")
            .arg(&logfile)
            .args(["--port", &port.to_string()])
            .args(extra_args)
            .spawn()
            .unwrap();
        let status = wait_bounded(&mut parent);
        assert_eq!(
            status.code(),
            Some(0),
            "the parent exits 0 once the daemon serves"
        );
        let pid: u32 = std::fs::read_to_string(&pidfile)
            .expect("pidfile written before the parent exits")
            .trim()
            .parse()
            .unwrap();
        assert_ne!(pid, parent.id(), "the daemon is the child");
        Daemonized {
            pid,
            port,
            pidfile,
            logfile,
            _dir: dir,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.logfile).unwrap_or_default()
    }

    /// SIGTERM, then waits until the daemon removed its pidfile (its last
    /// file operation) and is gone.
    pub fn terminate(&self) {
        // SAFETY: kill(2) on the PID our daemon wrote.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
        let start = Instant::now();
        while (self.pidfile.exists() || Path::new(&format!("/proc/{}", self.pid)).exists())
            && start.elapsed() < PATIENCE
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!self.pidfile.exists(), "pidfile removed on exit");
    }
}
