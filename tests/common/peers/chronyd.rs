//! chronyd 4.3 as a server that never touches the clock: `-x` (no clock
//! control) and `local stratum N` (serves without upstream, leap 0 at once).
//! chronyd has a `port` option, so it can run on the host's loopback.

use super::guard::{Launch, PeerGuard};
use super::netns::Netns;
use super::sntp::LEAP_UNSYNCHRONISED;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

/// chronyc's Unix socket, in the run directory.
pub(super) const CONTROL_SOCKET: &str = "chronyd.sock";
/// chronyd refuses to open its socket in a folder others can read.
const PRIVATE_DIR_MODE: u32 = 0o700;
/// chronyd answers within milliseconds of starting.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Poll range for `servers`: 2 s to 16 s, quick enough for a test.
const SERVER_OPTIONS: &str = "iburst minpoll 1 maxpoll 4";

/// A chronyd to start; `Chronyd::new(port).start()`.
pub struct Chronyd {
    /// Where it serves NTP; a loopback address.
    pub addr: SocketAddr,
    /// Its `local stratum`.
    pub stratum: u8,
    /// Run inside this namespace instead of the host's loopback.
    pub netns: Option<Arc<Netns>>,
    /// Upstream servers to poll (loopback only).
    pub servers: Vec<SocketAddr>,
    /// Symmetric peers (`peer ADDR port N`, loopback only).
    pub peers: Vec<SocketAddr>,
    /// `key N` on every server and peer line (with a `keyfile` in `extra`).
    pub key: Option<u32>,
    /// Extra chrony.conf lines (no server/pool/peer lines: use `servers`).
    pub extra: Vec<String>,
}

/// chronyd, local stratum 10, on 127.0.0.1:PORT of the host.
/// None when the peers are not fetched (then `common::skip_or_fail(peers::MISSING)`).
pub fn chronyd_server(port: u16) -> Option<PeerGuard> {
    Chronyd::new(port).start()
}

impl Chronyd {
    pub fn new(port: u16) -> Chronyd {
        Chronyd {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            stratum: 10,
            netns: None,
            servers: Vec::new(),
            peers: Vec::new(),
            key: None,
            extra: Vec::new(),
        }
    }

    /// Starts it and waits until it answers synchronised (leap != 3).
    pub fn start(self) -> Option<PeerGuard> {
        if !super::available() {
            return None;
        }
        for addr in std::iter::once(&self.addr)
            .chain(&self.servers)
            .chain(&self.peers)
        {
            assert!(
                addr.ip().is_loopback(),
                "chronyd peer: {addr} is not loopback"
            );
        }
        for line in &self.extra {
            let directive = line.split_whitespace().next().unwrap_or("");
            assert!(
                !matches!(directive, "server" | "pool" | "peer" | "refclock"),
                "chronyd peer: use `servers` for upstreams, not {line:?}"
            );
        }
        let run_dir = tempfile::Builder::new()
            .prefix("ntpbox-chronyd")
            .tempdir()
            .expect("chronyd run dir");
        let dir = run_dir.path();
        // chronyd disables its command socket unless the folder is private.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(PRIVATE_DIR_MODE))
            .expect("make the chronyd run dir private");
        let config = dir.join("chrony.conf");
        std::fs::write(&config, self.config(dir)).expect("write chrony.conf");

        let program = super::bin("chronyd");
        let mut command = match &self.netns {
            Some(ns) => ns.command(&program),
            None => super::guarded(&program),
        };
        if self.addr.is_ipv4() {
            command.arg("-4"); // else it also binds [::]:port
        }
        // -x: never adjust the clock. -d: foreground, log to stderr.
        // -u root: Debian's default user _chrony need not exist here.
        command.args(["-x", "-d", "-u", "root", "-f"]).arg(&config);
        let launch = Launch {
            name: "chronyd",
            command,
            addr: self.addr,
            netns: self.netns,
            private_mounts: false,
            run_dir,
            companions: Vec::new(),
        };
        Some(launch.start(START_TIMEOUT, |r| r.leap != LEAP_UNSYNCHRONISED))
    }

    fn config(&self, dir: &std::path::Path) -> String {
        let mut c =
            String::from("# ntpbox test peer: serves from its local clock, never adjusts it\n");
        let ip = self.addr.ip();
        writeln!(c, "port {}", self.addr.port()).unwrap();
        writeln!(c, "bindaddress {ip}").unwrap();
        writeln!(c, "cmdport 0").unwrap();
        writeln!(c, "bindcmdaddress {}", dir.join(CONTROL_SOCKET).display()).unwrap();
        writeln!(c, "local stratum {}", self.stratum).unwrap();
        writeln!(c, "allow 127.0.0.0/8").unwrap();
        writeln!(c, "allow ::1").unwrap();
        writeln!(c, "pidfile {}", dir.join("chronyd.pid").display()).unwrap();
        writeln!(c, "driftfile {}", dir.join("drift").display()).unwrap();
        let key = self.key.map(|k| format!(" key {k}")).unwrap_or_default();
        for s in &self.servers {
            writeln!(
                c,
                "server {} port {} {SERVER_OPTIONS}{key}",
                s.ip(),
                s.port()
            )
            .unwrap();
        }
        for p in &self.peers {
            writeln!(c, "peer {} port {} {SERVER_OPTIONS}{key}", p.ip(), p.port()).unwrap();
        }
        for line in &self.extra {
            writeln!(c, "{line}").unwrap();
        }
        c
    }
}
