//! Real peer programs (chrony, ntpsec, OpenNTPD, Debian's ntpstat) for interop tests.
//!
//! `scripts/fetch-peers.sh` unpacks Debian's packages (never installs them) into
//! [`dir()`] (default `target/peers`, or `$PEERS_DIR`), with one launcher per
//! program in its `bin/`. This module starts the daemons safely and stops them:
//!
//! * every peer process runs under `setpriv --bounding-set=-sys_time
//!   --inh-caps=-sys_time`, checked before the first start and again on the
//!   running daemon ([`assert_no_clock_capability`]);
//! * each daemon also gets its own second guard: chronyd `-x`, ntpsec
//!   `disable ntp` + `disable kernel`, OpenNTPD never `-s` and never its
//!   packaged config;
//! * port-123-only daemons (ntpsec, OpenNTPD) run in a fresh network namespace
//!   holding only `lo`, named per test ([`Netns`]), so tests run in parallel and
//!   no packet can leave the machine;
//! * a [`PeerGuard`] stops its process by PID (SIGTERM, then SIGKILL) and
//!   deletes its namespace when dropped.
//!
//! ```ignore
//! let Some(server) = peers::ntpsec_server() else {
//!     return common::skip_or_fail(peers::MISSING);
//! };
//! let reply = server.query().unwrap();          // SNTP from inside its netns
//! assert_eq!((reply.leap, reply.stratum), (0, 10));
//! let out = server.command(peers::ntpq()).arg("-p").output().unwrap();
//! let ours = server.command(common::applet_dir().join("ntpq")).arg("-p").output();
//! ```

mod chronyd;
mod guard;
mod netns;
mod ntpsec;
mod openntpd;
mod sntp;

// Each test binary uses its own part of this module.
#[allow(unused_imports)]
pub use chronyd::{chronyd_server, Chronyd};
#[allow(unused_imports)]
pub use guard::{assert_no_clock_capability, PeerGuard};
#[allow(unused_imports)]
pub use netns::Netns;
#[allow(unused_imports)]
pub use ntpsec::{ntpsec_server, LocalClock, Ntpsec};
#[allow(unused_imports)]
pub use openntpd::{openntpd_server, openntpd_synced_server, Openntpd};
#[allow(unused_imports)]
pub use sntp::{query, SntpReply, LEAP_UNSYNCHRONISED, MODE_SERVER};

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// What a test names when it skips for want of the peers.
pub const MISSING: &str = "real peers (scripts/fetch-peers.sh, and root for namespaces)";

/// The setpriv arguments that take CAP_SYS_TIME away for good: out of the
/// bounding set (no exec can regain it) and out of the inheritable set.
pub const NOCLOCK_SETPRIV_ARGS: [&str; 2] = ["--bounding-set=-sys_time", "--inh-caps=-sys_time"];

/// The stamp fetch-peers.sh writes last, once everything is unpacked and checked.
const FETCHED_STAMP: &str = ".fetched";

/// Where fetch-peers.sh put the peers: `$PEERS_DIR` (relative to the project
/// root when relative), else `target/peers` of the project.
pub fn dir() -> PathBuf {
    match std::env::var_os("PEERS_DIR") {
        Some(d) if !d.is_empty() => super::project_root().join(d),
        _ => super::project_root().join("target").join("peers"),
    }
}

/// Whether the peers can run here: fetched, and we are root (namespaces,
/// setpriv, mounts). Says once on stderr why not.
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let why_not = if !dir().join(FETCHED_STAMP).is_file() {
            Some(format!("no fetched peers in {}", dir().display()))
        } else if unsafe { libc::geteuid() } != 0 {
            Some("peers need root (network namespaces, mounts)".to_string())
        } else {
            None
        };
        if let Some(why) = &why_not {
            eprintln!("peers: {why}");
        } else {
            guard::assert_setpriv_drops_clock_capability();
        }
        why_not.is_none()
    })
}

/// The launcher of a peer program made by fetch-peers.sh (`chronyd`,
/// `ntpsec-ntpd`, `openntpd`, `ntpq`, `ntpdig`, `ntpdate`, `ntpstat`, ...).
pub fn bin(name: &str) -> PathBuf {
    dir().join("bin").join(name)
}

/// ntpsec's ntpq (Python, run with Debian's /usr/bin/python3).
pub fn ntpq() -> PathBuf {
    bin("ntpq")
}

/// ntpsec's ntpdig (the SNTP client behind ntpsec's ntpdate).
pub fn ntpdig() -> PathBuf {
    bin("ntpdig")
}

/// ntpsec's ntpdate: a shell script that runs ntpdig.
pub fn ntpdate() -> PathBuf {
    bin("ntpdate")
}

/// Debian's ntpstat (C, speaks mode 6 to 127.0.0.1:123).
pub fn ntpstat() -> PathBuf {
    bin("ntpstat")
}

/// chrony's chronyc; see [`PeerGuard::chronyc`] for one bound to a daemon.
pub fn chronyc() -> PathBuf {
    bin("chronyc")
}

/// OpenNTPD's ntpctl; use it through [`PeerGuard::command`] of an OpenNTPD
/// guard (its socket lives in the daemon's private mounts).
pub fn ntpctl() -> PathBuf {
    bin("ntpctl")
}

/// The LD_PRELOAD layer that answers clock writes with "done" (see
/// scripts/peers/noclock_shim.c). Always on top of the setpriv guard.
pub fn noclock_shim() -> PathBuf {
    dir().join("noclock_shim.so")
}

/// A command that runs PROGRAM without CAP_SYS_TIME, in this process's
/// network namespace (for peers on the host's loopback).
pub fn guarded(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(NOCLOCK_SETPRIV_ARGS)
        .arg(program)
        .env("LC_ALL", "C");
    cmd
}
