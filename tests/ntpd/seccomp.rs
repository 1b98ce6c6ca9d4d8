//! `-F 1` / `--seccomp`: ntpd under its system call filter does all its
//! daily work (serving, ntpq, a pool resolved in the resolver thread,
//! statistics files, signals, `-q`, daemonizing) and the kernel reports
//! the filter in /proc/PID/status (`Seccomp: 2`). A call outside the list
//! killing the process is shown by the unit tests (src/applets/ntpd/
//! seccomp.rs), in forked children: the daemon has no honest way to make
//! one.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::client::{Client, REPLY_WAIT};
use crate::common;
use crate::daemon::{messages, run, status_field, Daemon, Daemonized};

/// The upstream: one stratum above the filtered daemon's local clock, so
/// that the filtered daemon selects it once the pool has resolved.
const UPSTREAM: &str = "disable ntp\nserver 127.127.1.0\nfudge 127.127.1.0 stratum 9\n";
/// iburst, then polls every 8-16 s: the first samples come within seconds.
const FAST_POLL: &str = "iburst minpoll 3 maxpoll 4";
/// How long a pool name lookup plus iburst may take on a busy machine.
const SYNC_WAIT: Duration = Duration::from_secs(30);
/// The number of system calls the filter allows on this architecture
/// with `disable ntp` (the log line reports it).
#[cfg(target_arch = "x86_64")]
const ALLOWED: usize = 69;
#[cfg(target_arch = "aarch64")]
const ALLOWED: usize = 59;

/// /proc/PID/status's `Seccomp:` value for a filter in force.
const SECCOMP_MODE_FILTER: &str = "2";

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn installed_line() -> String {
    format!("seccomp filter installed ({ALLOWED} system calls allowed)")
}

/// Waits until the log has `needle`, longer than the daemon helper does.
fn wait_for(d: &Daemon, needle: &str) {
    let start = Instant::now();
    while !d.log().contains(needle) {
        assert!(
            start.elapsed() < SYNC_WAIT,
            "no {needle:?} in the log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs one of our client applets and returns (status, stdout).
fn client(applet: &str, args: &[&str]) -> (i32, String) {
    let out = common::applet(applet).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn ntpdate_q(addr: SocketAddr) -> (i32, String) {
    client("ntpdate", &["-q", &addr.to_string()])
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn filtered_it_serves_answers_ntpq_writes_statistics_and_exits_0_on_sigterm() {
    // -F 0 is the default: no filter.
    let upstream = Daemon::start_with(UPSTREAM, &["-F", "0"]);
    assert_eq!(status_field(upstream.pid(), "Seccomp:"), "0");
    let stats = tempfile::tempdir().unwrap();
    let conf = format!(
        "disable ntp\nserver 127.127.1.0\nfudge 127.127.1.0 stratum 10\n\
         pool localhost:{} {FAST_POLL}\nstatsdir {}/\nstatistics loopstats peerstats\n",
        upstream.port,
        stats.path().display()
    );
    let mut d = Daemon::start_with(&conf, &["--seccomp"]);
    assert_eq!(status_field(d.pid(), "Seccomp:"), SECCOMP_MODE_FILTER);
    assert_eq!(status_field(d.pid(), "Seccomp_filters:"), "1");
    assert!(d.messages().contains(&installed_line()), "{}", d.log());

    // The pool's name is looked up in a thread started under the filter.
    wait_for(&d, "synchronized to 127.0.0.1, stratum 10");
    let (status, out) = ntpdate_q(d.addr());
    assert_eq!(status, 0, "{out}");
    let prefix = format!("server 127.0.0.1:{}, stratum 10, offset ", d.port);
    assert!(out.starts_with(&prefix), "{out}");

    let target = d.addr().to_string();
    let (status, peers) = client("ntpq", &["-pn", &target]);
    assert_eq!(status, 0);
    // The pool's server, selected (ntpq shows it by the pool's name).
    let selected = peers.lines().find(|l| l.starts_with('*'));
    let columns: Vec<&str> = selected
        .unwrap_or_else(|| panic!("no selected peer:\n{peers}"))
        .split_whitespace()
        .collect();
    assert_eq!(
        (columns[0], columns[2], columns[3]),
        ("*localhost", "9", "u"),
        "{peers}"
    );
    assert!(peers.lines().any(|l| l.starts_with(" LOCAL(0)")), "{peers}");

    let (status, rv) = client("ntpq", &["-c", "rv", &target]);
    assert_eq!(status, 0);
    for field in ["stratum=10,", "refid=127.0.0.1,", "version=\"ntpd ntpbox-"] {
        assert!(rv.contains(field), "no {field} in:\n{rv}");
    }
    let (status, mru) = client("ntpq", &["-n", "-c", "mrulist", &target]);
    assert_eq!(status, 0);
    // One entry per address: 127.0.0.1 last spoke mode 6 (this ntpq),
    // and its count holds ntpdate's request and ntpq's too.
    let entry: Vec<&str> = mru
        .lines()
        .find(|l| l.ends_with(" 127.0.0.1"))
        .unwrap_or_else(|| panic!("no 127.0.0.1 entry:\n{mru}"))
        .split_whitespace()
        .collect();
    assert_eq!(entry[4], "6", "{mru}");
    assert!(entry[6].parse::<u32>().unwrap() >= 2, "{mru}");

    // peerstats through the day's link, in the classic 8 fields.
    let text = std::fs::read_to_string(stats.path().join("peerstats")).unwrap();
    let line = text.lines().last().expect("a peerstats line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!((fields.len(), fields[2]), (8, "127.0.0.1"), "{line}");
    assert!(stats.path().join("loopstats").exists());

    // SIGUSR1 (the drift save request, skipped under disable ntp) goes
    // through the handler and the loop; the daemon serves on.
    // SAFETY: kill(2) on the PID of the daemon this test started.
    unsafe { libc::kill(d.pid() as libc::pid_t, libc::SIGUSR1) };
    std::thread::sleep(Duration::from_millis(200));
    assert!(d.is_running());
    let r = Client::bind("127.0.0.1").ask(d.addr(), REPLY_WAIT);
    assert_eq!(r.map(|r| r.stratum), Some(10));

    let status = d.stop_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(0), "{}", d.log());
    assert!(
        d.messages()
            .iter()
            .any(|m| m.starts_with("ntpd exiting on signal 15 (Terminated): ")),
        "{}",
        d.log()
    );
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn q_under_the_filter_measures_and_exits_0() {
    let upstream = Daemon::start(UPSTREAM);
    let dir = tempfile::tempdir().unwrap();
    let conf = format!("disable ntp\nserver {} iburst\n", upstream.addr());
    std::fs::write(dir.path().join("ntp.conf"), conf).unwrap();
    let port = common::free_udp_port().to_string();
    let (status, out, err) = run(
        &["-q", "-F", "1", "-c", "ntp.conf", "--port", &port],
        dir.path(),
    );
    assert_eq!(status, 0, "{out}{err}");
    let m = messages(&err);
    assert!(m.contains(&installed_line()), "{err}");
    assert!(m.iter().any(|l| l.starts_with("ntpd: time slew ")), "{err}");
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn daemonized_the_filter_holds_until_sigterm_removes_the_pidfile() {
    let d = Daemonized::start(UPSTREAM, &["--seccomp"]);
    // The parent exits only once the daemon reports ready, which is after
    // the filter is in place.
    assert_eq!(status_field(d.pid, "Seccomp:"), SECCOMP_MODE_FILTER);
    let r = Client::bind("127.0.0.1").ask(d.addr(), REPLY_WAIT);
    assert_eq!(r.map(|r| r.stratum), Some(9));
    d.terminate();
    let text = d.log();
    let m = messages(&text);
    assert!(m.contains(&installed_line()), "{text}");
    assert!(
        m.iter()
            .any(|l| l.starts_with("ntpd exiting on signal 15 (Terminated)")),
        "{text}"
    );
}

#[test]
fn a_level_other_than_0_or_1_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for level in ["2", "-1", "x"] {
        let (status, out, err) = run(&["-F", level], dir.path());
        assert_eq!((status, out.as_str()), (1, ""), "-F {level}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("error: invalid value '{level}' for '-F <LEVEL>'")),
            "-F {level}: {err}"
        );
    }
    let (status, _, err) = run(&["-F", "0", "--seccomp"], dir.path());
    assert_eq!(status, 1);
    assert!(
        err.starts_with("error: the argument '-F <LEVEL>' cannot be used with '--seccomp'"),
        "{err}"
    );
}

/// Where the filter does not know the system call numbers, asking for it
/// is an error, never a daemon left silently unfiltered.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[test]
fn elsewhere_the_option_is_refused_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ntp.conf"), UPSTREAM).unwrap();
    let port = common::free_udp_port().to_string();
    let (status, _, err) = run(
        &["-n", "--seccomp", "-c", "ntp.conf", "--port", &port],
        dir.path(),
    );
    assert_eq!(status, 1);
    assert!(
        err.ends_with(&format!(
            "ntpd: -F/--seccomp: no system call filter for this architecture ({}); \
             it exists for x86_64 and aarch64\n",
            std::env::consts::ARCH
        )),
        "{err}"
    );
}
