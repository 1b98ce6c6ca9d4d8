//! A network namespace a test creates for itself: only `lo` (127.0.0.0/8 and
//! ::1), no other link, so nothing in it can reach any other address. Named
//! per process and counter, so parallel tests never share one.

use super::NOCLOCK_SETPRIV_ARGS;
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Every namespace of these tests is called `ntpbox-test-<pid>-<n>`.
const NAME_PREFIX: &str = "ntpbox-test-";
/// Where `ip netns` keeps its named namespaces.
const NETNS_RUN_DIR: &str = "/run/netns";
/// How long processes left in a namespace get to die after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(2);

pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a fresh namespace with `lo` up. Also removes empty namespaces
    /// left by test processes of this project that died without cleaning up.
    pub fn new() -> io::Result<Netns> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        remove_stale();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{NAME_PREFIX}{}-{n}", std::process::id());
        ip(&["netns", "add", &name])?;
        let ns = Netns { name };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs PROGRAM in this namespace without CAP_SYS_TIME.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, "setpriv"])
            .args(NOCLOCK_SETPRIV_ARGS)
            .arg(program)
            .env("LC_ALL", "C");
        cmd
    }

    /// A UDP socket bound to ADDR inside this namespace (usable from any thread).
    pub fn udp_socket(&self, addr: SocketAddr) -> io::Result<UdpSocket> {
        let ns = File::open(format!("{NETNS_RUN_DIR}/{}", self.name))?;
        // setns(CLONE_NEWNET) moves only the calling thread, and a socket
        // stays in the namespace it was created in: do it in a scratch thread.
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: setns on an fd we own; it affects only this thread.
                if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                UdpSocket::bind(addr)
            })
            .join()
            .expect("namespace socket thread panicked")
        })
    }

    /// PIDs of the processes in this namespace.
    pub fn pids(&self) -> Vec<u32> {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output();
        match out {
            Ok(out) => String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Whatever is still inside was started by this test (the namespace is
        // its own): SIGKILL those PIDs, then delete the namespace.
        let deadline = Instant::now() + KILL_WAIT;
        loop {
            let pids = self.pids();
            if pids.is_empty() || Instant::now() >= deadline {
                break;
            }
            for pid in pids {
                // SAFETY: kill(2) of a process in our own namespace.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            eprintln!("peers: cannot delete netns {}: {e}", self.name);
        }
    }
}

/// Runs `ip ARGS`, turning a failure into an error with ip's message.
fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Deletes `ntpbox-test-<pid>-<n>` namespaces whose test process is gone
/// (killed before its guards could run). What still runs inside was started
/// by that test through this harness and is stopped by PID first.
fn remove_stale() {
    let Ok(entries) = std::fs::read_dir(NETNS_RUN_DIR) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = name
            .strip_prefix(NAME_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{owner}")).exists() {
            eprintln!("peers: removing netns {name} left by dead test process {owner}");
            drop(Netns { name });
        }
    }
}
