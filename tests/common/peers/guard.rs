//! A running peer daemon: its process, address, namespace and run directory,
//! and the checks that it can never touch the clock.

use super::netns::Netns;
use super::sntp::{self, SntpReply};
use super::{guarded, NOCLOCK_SETPRIV_ARGS};
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bit of CAP_SYS_TIME in the /proc/PID/status capability masks.
const CAP_SYS_TIME_BIT: u32 = 25;
/// How long a daemon gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How often a stopping daemon is looked at.
const STOP_POLL: Duration = Duration::from_millis(20);
/// Time allowed for one readiness query (loopback answers in microseconds).
const READY_QUERY_TIMEOUT: Duration = Duration::from_millis(200);
/// Pause between readiness queries.
const READY_POLL: Duration = Duration::from_millis(50);

/// What it takes to start one daemon; `start` turns it into a [`PeerGuard`].
pub(super) struct Launch {
    pub name: &'static str,
    pub command: Command,
    pub addr: SocketAddr,
    pub netns: Option<Arc<Netns>>,
    /// The daemon has private mounts (OpenNTPD): tools must enter them too.
    pub private_mounts: bool,
    pub run_dir: tempfile::TempDir,
    /// Peers this one depends on (OpenNTPD's upstream); stopped after it.
    pub companions: Vec<PeerGuard>,
}

impl Launch {
    /// Starts the daemon with its output in `run_dir/log`, waits until a reply
    /// satisfies `ready` (bounded by `timeout`), then checks its capabilities.
    /// Panics, with the daemon's log, when it does not come up.
    pub fn start(mut self, timeout: Duration, ready: impl Fn(&SntpReply) -> bool) -> PeerGuard {
        let log = self.run_dir.path().join("log");
        let out = File::create(&log).expect("create the peer's log file");
        let err = out.try_clone().expect("clone the log file handle");
        self.command.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = self
            .command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.name));
        let mut guard = PeerGuard {
            name: self.name,
            child,
            addr: self.addr,
            private_mounts: self.private_mounts,
            logs: vec![log],
            companions: self.companions,
            run_dir: self.run_dir,
            netns: self.netns,
        };
        guard.wait_ready(timeout, ready);
        for pid in guard.process_tree() {
            if let Err(why) = assert_no_clock_capability(pid) {
                guard.terminate();
                panic!("DANGER: {} {why}; stopped it", guard.name);
            }
        }
        guard
    }
}

/// A running peer daemon. Dropping it stops the process by its PID and, with
/// the last guard in it, deletes its network namespace.
pub struct PeerGuard {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
    private_mounts: bool,
    logs: Vec<PathBuf>,
    companions: Vec<PeerGuard>,
    run_dir: tempfile::TempDir,
    // Last: the namespace goes after the processes in it.
    netns: Option<Arc<Netns>>,
}

impl PeerGuard {
    /// "chronyd", "ntpsec", "openntpd".
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The address it serves NTP on (inside [`Self::netns`] when it has one).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The daemon's PID (for OpenNTPD, the parent of its privsep children).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The namespace it runs in; None for a peer on the host's loopback.
    pub fn netns(&self) -> Option<&Arc<Netns>> {
        self.netns.as_ref()
    }

    /// Its private directory (config, pid file, drift file, logs, sockets).
    pub fn run_dir(&self) -> &Path {
        self.run_dir.path()
    }

    /// Peers started for this one (OpenNTPD's upstream chronyd).
    pub fn companions(&self) -> &[PeerGuard] {
        &self.companions
    }

    /// Adds a log file to what [`Self::log`] shows.
    pub(super) fn add_log(&mut self, path: PathBuf) {
        self.logs.push(path);
    }

    /// Everything the daemon logged so far.
    pub fn log(&self) -> String {
        self.logs
            .iter()
            .map(|p| match std::fs::read_to_string(p) {
                Ok(text) => format!("--- {}\n{text}", p.display()),
                Err(e) => format!("--- {}: {e}\n", p.display()),
            })
            .collect()
    }

    /// A command that runs PROGRAM beside the daemon, without CAP_SYS_TIME:
    /// in its network namespace (and its mounts, for OpenNTPD's ntpctl), so
    /// `ntpq`, `ntpstat`, `ntpdig` or an ntpbox applet reach it on 127.0.0.1:123.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        if self.private_mounts {
            let mut cmd = Command::new("nsenter");
            cmd.arg("--target")
                .arg(self.pid().to_string())
                .args(["--mount", "--net", "setpriv"])
                .args(NOCLOCK_SETPRIV_ARGS)
                .arg(program)
                .env("LC_ALL", "C");
            cmd
        } else if let Some(ns) = &self.netns {
            ns.command(program)
        } else {
            guarded(program)
        }
    }

    /// chronyc talking to this chronyd over its private Unix socket.
    pub fn chronyc(&self) -> Command {
        assert_eq!(self.name, "chronyd", "chronyc() is for a chronyd peer");
        let mut cmd = self.command(super::chronyc());
        cmd.arg("-n")
            .arg("-h")
            .arg(self.run_dir().join(super::chronyd::CONTROL_SOCKET));
        cmd
    }

    /// One SNTP query to the daemon, sent from its namespace.
    pub fn query(&self) -> io::Result<SntpReply> {
        sntp::query(self.netns.as_deref(), self.addr, READY_QUERY_TIMEOUT)
    }

    /// Polls until a reply satisfies `ready`; panics with the log on timeout
    /// or when the daemon exits.
    pub fn wait_ready(&mut self, timeout: Duration, ready: impl Fn(&SntpReply) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) while starting:\n{}",
                    self.name,
                    self.log()
                );
            }
            let last = self.query();
            if last.as_ref().is_ok_and(&ready) {
                return;
            }
            if Instant::now() >= deadline {
                let log = self.log();
                self.terminate();
                panic!(
                    "{} on {} not ready after {timeout:?} (last answer: {last:?}):\n{log}",
                    self.name, self.addr
                );
            }
            std::thread::sleep(READY_POLL);
        }
    }

    /// Stops the daemon now and returns how it ended.
    pub fn stop(mut self) -> ExitStatus {
        self.terminate()
    }

    /// The daemon and its descendants (OpenNTPD forks privsep children).
    fn process_tree(&self) -> Vec<u32> {
        let mut pids = vec![self.pid()];
        let mut i = 0;
        while i < pids.len() {
            let children = format!("/proc/{0}/task/{0}/children", pids[i]);
            if let Ok(text) = std::fs::read_to_string(children) {
                pids.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
            i += 1;
        }
        pids
    }

    /// SIGTERM to our own child's PID, SIGKILL after STOP_GRACE; reaps it.
    fn terminate(&mut self) -> ExitStatus {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status;
        }
        let pid = self.pid() as libc::pid_t;
        // SAFETY: plain kill(2) on the PID of a child we spawned and have not reaped.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(STOP_POLL);
        }
        eprintln!(
            "peers: {} (PID {pid}) ignored SIGTERM; killing it",
            self.name
        );
        let _ = self.child.kill();
        self.child.wait().expect("reap the peer process")
    }
}

impl Drop for PeerGuard {
    fn drop(&mut self) {
        self.terminate();
        // companions, run_dir and netns drop after this, in field order.
    }
}

/// Checks /proc/PID/status: CAP_SYS_TIME must be absent from the bounding,
/// permitted, effective, inheritable and ambient sets.
pub fn assert_no_clock_capability(pid: u32) -> Result<(), String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("PID {pid}: cannot read its status: {e}"))?;
    check_status_has_no_clock_capability(&status).map_err(|why| format!("PID {pid}: {why}"))
}

fn check_status_has_no_clock_capability(status: &str) -> Result<(), String> {
    let mut seen = 0;
    for line in status.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if !matches!(key, "CapInh" | "CapPrm" | "CapEff" | "CapBnd" | "CapAmb") {
            continue;
        }
        seen += 1;
        let mask = u64::from_str_radix(value.trim(), 16)
            .map_err(|e| format!("bad {key} line {value:?}: {e}"))?;
        if mask & (1 << CAP_SYS_TIME_BIT) != 0 {
            return Err(format!("has CAP_SYS_TIME in {key} ({})", value.trim()));
        }
    }
    if seen == 5 {
        Ok(())
    } else {
        Err(format!("only {seen} of 5 capability sets in its status"))
    }
}

/// Before the first peer starts: the setpriv wrapper really removes
/// CAP_SYS_TIME (what it runs has it in no capability set).
pub(super) fn assert_setpriv_drops_clock_capability() {
    let out = guarded("cat")
        .arg("/proc/self/status")
        .output()
        .expect("run setpriv (util-linux)");
    assert!(out.status.success(), "setpriv failed: {out:?}");
    if let Err(why) = check_status_has_no_clock_capability(&String::from_utf8_lossy(&out.stdout)) {
        panic!("DANGER: setpriv {NOCLOCK_SETPRIV_ARGS:?} leaves CAP_SYS_TIME: {why}");
    }
}
