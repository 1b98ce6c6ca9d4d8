//! OpenNTPD 6.2p3 as a server that never touches the clock: never `-s`, never
//! its packaged config (which names pool servers), always without CAP_SYS_TIME.
//!
//! It has no port option (`listen on ADDR` is UDP 123), so it runs in a
//! namespace. It insists on a privsep user `ntpd` (chroot = its home) and on
//! /var/lib/openntpd; to leave the host untouched it runs in a private mount
//! namespace where /etc/passwd and /etc/group are copies that add `ntpd`, and
//! /var/lib is a small tmpfs holding the run directory's `varlib`.
//!
//! Without an upstream it answers at once, unsynchronised (leap 3, stratum 0).
//! It reports "clock is now synced" (and serves leap 0) only after two of its
//! adjtime() calls succeeded, which needs the noclock shim, and only after
//! eight replies from the upstream at its fixed 5 s / 30 s query intervals:
//! about 225 s on this machine.

use super::chronyd::Chronyd;
use super::guard::{Launch, PeerGuard};
use super::netns::Netns;
use super::sntp::LEAP_UNSYNCHRONISED;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The only port OpenNTPD serves on.
const NTP_PORT: u16 = 123;
/// An unsynchronised OpenNTPD answers within a second of starting.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Upper bound for "clock is now synced": measured about 225 s on a quiet
/// machine, but close to 300 s in a full CI run, where a reply OpenNTPD
/// distrusts costs another 30 s interval. The tests that wait for it have a
/// 600 s limit in .config/nextest.toml.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(480);
/// Where the upstream chronyd of a synced OpenNTPD listens (port 123).
const UPSTREAM_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The privsep user OpenNTPD wants, added only inside its mount namespace.
const PRIVSEP_USER: &str = "ntpd";
/// Unused IDs for that user (only visible inside the mount namespace).
const PRIVSEP_ID: u32 = 65530;
/// Size of the tmpfs laid over /var/lib in its mount namespace.
const VARLIB_TMPFS_SIZE: &str = "1m";

/// An OpenNTPD to start; `Openntpd::default().start()`.
pub struct Openntpd {
    /// `listen on ADDR` (port 123) in the namespace.
    pub addr: Ipv4Addr,
    /// Some(stratum): start chronyd (`local stratum N`) on 127.0.0.2:123 in
    /// the same namespace as its only `server`, load the noclock shim, and
    /// wait (up to SYNC_TIMEOUT) until it serves leap 0 at stratum N + 1.
    pub upstream_stratum: Option<u8>,
    /// The namespace to run in; None creates a fresh one.
    pub netns: Option<Arc<Netns>>,
}

impl Default for Openntpd {
    fn default() -> Openntpd {
        Openntpd {
            addr: Ipv4Addr::LOCALHOST,
            upstream_stratum: None,
            netns: None,
        }
    }
}

/// OpenNTPD in a fresh namespace on 127.0.0.1:123, no upstream: it answers
/// leap 3 (unsynchronised), stratum 0. None when the peers are not fetched.
pub fn openntpd_server() -> Option<PeerGuard> {
    Openntpd::default().start()
}

/// OpenNTPD on 127.0.0.1:123 synced to a chronyd at stratum 10 beside it:
/// serves leap 0, stratum 11. Slow: about four minutes.
pub fn openntpd_synced_server() -> Option<PeerGuard> {
    Openntpd {
        upstream_stratum: Some(10),
        ..Openntpd::default()
    }
    .start()
}

impl Openntpd {
    pub fn start(self) -> Option<PeerGuard> {
        if !super::available() {
            return None;
        }
        assert!(
            self.addr.is_loopback(),
            "openntpd peer: {} is not loopback",
            self.addr
        );
        assert_ne!(
            self.addr, UPSTREAM_ADDR,
            "openntpd peer: that address is its upstream's"
        );
        let netns = match &self.netns {
            Some(ns) => Arc::clone(ns),
            None => Arc::new(Netns::new().expect("create a network namespace for openntpd")),
        };
        let mut companions = Vec::new();
        if let Some(stratum) = self.upstream_stratum {
            let upstream = Chronyd {
                addr: SocketAddr::from((UPSTREAM_ADDR, NTP_PORT)),
                stratum,
                netns: Some(Arc::clone(&netns)),
                ..Chronyd::new(NTP_PORT)
            };
            companions.push(upstream.start()?);
        }
        let run_dir = tempfile::Builder::new()
            .prefix("ntpbox-openntpd")
            .tempdir()
            .expect("openntpd run dir");
        let dir = run_dir.path();
        prepare_run_dir(dir);
        let mut config = format!("# ntpbox test peer\nlisten on {}\n", self.addr);
        if self.upstream_stratum.is_some() {
            config.push_str(&format!("server {UPSTREAM_ADDR}\n"));
        }
        std::fs::write(dir.join("ntpd.conf"), config).expect("write ntpd.conf");

        let shim = if self.upstream_stratum.is_some() {
            format!("env LD_PRELOAD={} ", quote(&super::noclock_shim()))
        } else {
            String::new() // nothing to fake: it only serves, unsynchronised
        };
        let d = |name: &str| quote(&dir.join(name));
        // ip netns exec, unshare (no --fork), sh's exec, setpriv, env and the
        // launcher all exec: the PID we spawn is OpenNTPD's parent process.
        // -d: foreground; -v: log more. Never -s.
        let script = format!(
            "mount --bind {passwd} /etc/passwd && mount --bind {group} /etc/group && \
             mount -t tmpfs -o size={VARLIB_TMPFS_SIZE},mode=755 ntpbox-openntpd /var/lib && \
             mkdir /var/lib/openntpd && mount --bind {varlib} /var/lib/openntpd && \
             exec setpriv {setpriv} {shim}{program} -d -v -f {config}",
            passwd = d("passwd"),
            group = d("group"),
            varlib = d("varlib"),
            setpriv = super::NOCLOCK_SETPRIV_ARGS.join(" "),
            program = quote(&super::bin("openntpd")),
            config = d("ntpd.conf"),
        );
        let mut command = netns.command("unshare");
        command.args(["--mount", "--propagation", "private", "sh", "-c", &script]);
        let launch = Launch {
            name: "openntpd",
            command,
            addr: SocketAddr::from((self.addr, NTP_PORT)),
            netns: Some(netns),
            private_mounts: true,
            run_dir,
            companions,
        };
        Some(match self.upstream_stratum {
            None => launch.start(START_TIMEOUT, |_| true),
            Some(_) => launch.start(SYNC_TIMEOUT, |r| r.leap != LEAP_UNSYNCHRONISED),
        })
    }
}

/// passwd/group copies with the privsep user, an empty chroot, and the
/// folders OpenNTPD keeps in /var/lib/openntpd.
fn prepare_run_dir(dir: &Path) {
    let without_user = |path: &str| -> String {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("read {path}: {e}"))
            .lines()
            .filter(|l| !l.starts_with(&format!("{PRIVSEP_USER}:")))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let chroot = dir.join("empty");
    let passwd = without_user("/etc/passwd")
        + &format!(
            "{PRIVSEP_USER}:x:{PRIVSEP_ID}:{PRIVSEP_ID}:openntpd privsep (test namespace only):{}:/usr/sbin/nologin\n",
            chroot.display()
        );
    let group = without_user("/etc/group") + &format!("{PRIVSEP_USER}:x:{PRIVSEP_ID}:\n");
    std::fs::write(dir.join("passwd"), passwd).expect("write passwd copy");
    std::fs::write(dir.join("group"), group).expect("write group copy");
    for sub in ["empty", "varlib/run", "varlib/db"] {
        std::fs::create_dir_all(dir.join(sub)).expect("create openntpd folders");
    }
    // The chroot must be reachable by the privsep user: the tempdir is 0700.
    use std::os::unix::fs::PermissionsExt;
    for path in [dir.to_path_buf(), chroot] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("open up the openntpd run dir");
    }
}

/// Single-quotes a path for sh.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}
