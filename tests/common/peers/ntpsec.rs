//! ntpsec 1.2.2 ntpd as an NTP (mode 3/4) and mode-6 server that never
//! touches the clock (`disable ntp`, `disable kernel`).
//!
//! ntpsec has no port option, and its ntpq/ntpdig and Debian's ntpstat only
//! talk to port 123, so it always runs in a namespace of its own.
//! Learned the hard way:
//! * it binds 0.0.0.0:123 without SO_REUSEADDR unless told
//!   `interface ignore wildcard` + `interface ignore all` + `interface listen ADDR`;
//! * it refuses every 127.0.0.0/8 upstream ("attempt to configure invalid
//!   address"), so upstreams need a non-loopback address (a veth pair in
//!   namespaces the test made): not provided here yet;
//! * with `disable ntp` it never clears its leap bits itself, so it would
//!   answer leap 3 / stratum 0 "INIT" forever: `tos orphan N orphanwait 0`
//!   makes it an orphan parent about 1 s after start, serving leap 0,
//!   stratum N, refid 127.0.0.1;
//! * it must run as root (no `-u`): dropping to a user wants to keep
//!   CAP_SYS_TIME, which it cannot have.

use super::guard::{Launch, PeerGuard};
use super::netns::Netns;
use super::sntp::LEAP_UNSYNCHRONISED;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The only port ntpsec serves on.
const NTP_PORT: u16 = 123;
/// Orphan mode takes over about 1 s after start.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Poll range of the LOCAL(0) driver (8 s to 16 s).
const LOCAL_CLOCK_POLLS: &str = "minpoll 3 maxpoll 4";
/// ntpsec's pseudo-address of the undisciplined local clock driver.
const LOCAL_CLOCK_ADDR: &str = "127.127.1.0";

/// The LOCAL(0) reference clock (classic `server 127.127.1.0` + `fudge`).
#[derive(Debug, Clone, Copy)]
pub struct LocalClock {
    pub stratum: u8,
    /// `noselect`: shown by `ntpq -p` but never sys.peer. A selectable
    /// LOCAL(0) becomes sys.peer at once and, with `disable ntp`, the leap
    /// bits stay 11.
    pub noselect: bool,
}

/// An ntpsec ntpd to start; `Ntpsec::default().start()`.
pub struct Ntpsec {
    /// Its IPv4 address in the namespace (127.0.0.1 also listens on ::1).
    pub addr: Ipv4Addr,
    /// `tos orphan N orphanwait 0`; None turns orphan mode off (then it
    /// answers leap 3 forever and `start` only waits for any reply).
    pub orphan_stratum: Option<u8>,
    pub local_clock: Option<LocalClock>,
    /// The namespace to run in; None creates a fresh one.
    pub netns: Option<Arc<Netns>>,
    /// Extra ntp.conf lines (the namespace has only `lo`).
    pub extra: Vec<String>,
}

impl Default for Ntpsec {
    fn default() -> Ntpsec {
        Ntpsec {
            addr: Ipv4Addr::LOCALHOST,
            orphan_stratum: Some(10),
            local_clock: None,
            netns: None,
            extra: Vec::new(),
        }
    }
}

/// ntpsec ntpd in a fresh namespace on 127.0.0.1:123 and [::1]:123, serving
/// leap 0, stratum 10 (orphan parent). None when the peers are not fetched.
pub fn ntpsec_server() -> Option<PeerGuard> {
    Ntpsec::default().start()
}

impl Ntpsec {
    /// Starts it and waits until it serves: leap 0 when orphan mode can take
    /// over, otherwise any reply.
    pub fn start(self) -> Option<PeerGuard> {
        if !super::available() {
            return None;
        }
        assert!(
            self.addr.is_loopback(),
            "ntpsec peer: {} is not loopback",
            self.addr
        );
        let netns = match &self.netns {
            Some(ns) => Arc::clone(ns),
            None => Arc::new(Netns::new().expect("create a network namespace for ntpsec")),
        };
        let run_dir = tempfile::Builder::new()
            .prefix("ntpbox-ntpsec")
            .tempdir()
            .expect("ntpsec run dir");
        let dir = run_dir.path();
        let config = dir.join("ntp.conf");
        std::fs::write(&config, self.config(dir)).expect("write ntp.conf");
        let log = dir.join("ntpd.log");

        let mut command = netns.command(super::bin("ntpsec-ntpd"));
        // -n: stay in the foreground. No -u (see above).
        command
            .arg("-n")
            .arg("-c")
            .arg(&config)
            .arg("-l")
            .arg(&log)
            .arg("-p")
            .arg(dir.join("ntpd.pid"));
        let orphan_serves =
            self.orphan_stratum.is_some() && self.local_clock.is_none_or(|local| local.noselect);
        let launch = Launch {
            name: "ntpsec",
            command,
            addr: SocketAddr::from((self.addr, NTP_PORT)),
            netns: Some(netns),
            private_mounts: false,
            run_dir,
            companions: Vec::new(),
        };
        let mut guard = launch.start(START_TIMEOUT, |r| {
            !orphan_serves || r.leap != LEAP_UNSYNCHRONISED
        });
        guard.add_log(log);
        Some(guard)
    }

    fn config(&self, dir: &std::path::Path) -> String {
        let mut c =
            String::from("# ntpbox test peer: serves and answers ntpq, never adjusts the clock\n");
        c.push_str("disable ntp\ndisable kernel\n");
        c.push_str("interface ignore wildcard\ninterface ignore all\n");
        writeln!(c, "interface listen {}", self.addr).unwrap();
        if self.addr == Ipv4Addr::LOCALHOST {
            c.push_str("interface listen ::1\n");
        }
        writeln!(c, "driftfile {}", dir.join("ntp.drift").display()).unwrap();
        c.push_str("restrict default nomodify\nrestrict 127.0.0.1\nrestrict ::1\n");
        if let Some(local) = self.local_clock {
            let noselect = if local.noselect { " noselect" } else { "" };
            writeln!(c, "server {LOCAL_CLOCK_ADDR} {LOCAL_CLOCK_POLLS}{noselect}").unwrap();
            writeln!(c, "fudge {LOCAL_CLOCK_ADDR} stratum {}", local.stratum).unwrap();
        }
        if let Some(stratum) = self.orphan_stratum {
            writeln!(c, "tos orphan {stratum} orphanwait 0").unwrap();
        }
        for line in &self.extra {
            writeln!(c, "{line}").unwrap();
        }
        c
    }
}
