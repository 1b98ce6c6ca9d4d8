//! The command line: help, options that belong to part 2, clock control,
//! bad configurations, daemonizing with a pidfile.

use crate::client::{Client, REPLY_WAIT};
use crate::common;
use crate::daemon::{messages, run, status_field, Daemonized};
use crate::serve::LOCAL_CLOCK_10;

#[test]
fn help_lists_the_classic_options_and_ours() {
    let dir = tempfile::tempdir().unwrap();
    let (status, out, _) = run(&["--help"], dir.path());
    assert_eq!(status, 0);
    for option in [
        "-c <FILE>",
        "-n",
        "-p <FILE>",
        "-u <USER[:GROUP]>",
        "-q",
        "-g",
        "-x",
        "--check",
        "--port <N>",
    ] {
        assert!(out.contains(option), "--help lacks {option}:\n{out}");
    }
}

/// `-q` through the full filter: with `disable ntp` on the host the
/// clock is left alone, but the measurement, the classic `time slew` line
/// and the exit are those of a real run (the VM tests set a real clock).
#[test]
fn q_measures_once_through_the_filter_and_exits_0() {
    let server = crate::daemon::Daemon::start(LOCAL_CLOCK_10);
    let dir = tempfile::tempdir().unwrap();
    let conf = format!("disable ntp\nserver {} iburst\n", server.addr());
    std::fs::write(dir.path().join("ntp.conf"), conf).unwrap();
    let port = common::free_udp_port().to_string();
    let (status, out, err) = run(&["-q", "-c", "ntp.conf", "--port", &port], dir.path());
    assert_eq!(status, 0, "{out}{err}");
    let line = err
        .lines()
        .find(|l| l.contains("ntpd: time slew "))
        .unwrap_or_else(|| panic!("no time slew line:\n{err}"));
    let offset: f64 = line
        .split("time slew ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(offset.abs() < 0.01, "{line}");
}

#[test]
fn without_disable_ntp_and_without_cap_sys_time_it_refuses_to_start() {
    // The suite runs without CAP_SYS_TIME, as a non-root ntpd would.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ntp.conf"), "server 127.127.1.0\n").unwrap();
    let port = common::free_udp_port().to_string();
    let (status, _, err) = run(&["-n", "-c", "ntp.conf", "--port", &port], dir.path());
    assert_eq!(status, 1);
    assert!(
        err.ends_with("ntpd: cannot adjust the clock: Operation not permitted (needs CAP_SYS_TIME: run as root, or put \"disable ntp\" in ntp.conf to serve time without touching the clock)\n"),
        "{err}"
    );
}

#[test]
fn a_config_with_errors_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ntp.conf"),
        "disable ntp\nrestrict 10.0.0.0 mask 255.0.0.0 nomodfiy\n",
    )
    .unwrap();
    let (status, _, err) = run(&["-n", "-c", "ntp.conf"], dir.path());
    assert_eq!(status, 1);
    assert_eq!(
        err,
        "ntpd: ntp.conf:2: restrict: unknown flag \"nomodfiy\"\n\
         ntpd: not started: fix the errors above (ntpd --check -c ntp.conf lists them)\n"
    );
}

#[test]
fn usage_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, err) = run(&["--port", "0"], dir.path());
    assert_eq!(status, 1);
    assert!(err.contains("--port"), "{err}");
}

#[test]
fn without_n_it_daemonizes_writes_the_pidfile_and_removes_it_on_sigterm() {
    let d = Daemonized::start(LOCAL_CLOCK_10, &[]);
    let r = Client::bind("127.0.0.1").ask(d.addr(), REPLY_WAIT);
    d.terminate();
    assert_eq!(r.map(|r| r.stratum), Some(10));
    let text = d.log();
    let m = messages(&text);
    assert!(
        m.iter()
            .any(|l| l.starts_with("ntpd exiting on signal 15 (Terminated)")),
        "{text}"
    );
    assert!(text.contains(&format!("ntpd[{}]: ", d.pid)), "{text}");
}

#[test]
fn a_daemon_that_cannot_start_makes_the_parent_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ntp.conf"), LOCAL_CLOCK_10).unwrap();
    let (status, _, err) = run(
        &[
            "-c",
            "ntp.conf",
            "-l",
            "ntpd.log",
            "-p",
            "/nonexistent/dir/ntpd.pid",
            "--port",
            &common::free_udp_port().to_string(),
        ],
        dir.path(),
    );
    assert_eq!(status, 1);
    assert_eq!(
        err,
        "ntpd: cannot write pidfile /nonexistent/dir/ntpd.pid: No such file or directory\n"
    );
}

#[test]
fn u_drops_root_and_with_disable_ntp_keeps_no_capability() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return common::skip_or_fail("root (to test -u)");
    }
    let mut d = crate::daemon::Daemon::start_with(LOCAL_CLOCK_10, &["-u", "nobody"]);
    let r = Client::bind("127.0.0.1")
        .ask(d.addr(), REPLY_WAIT)
        .expect("still serving");
    assert_eq!(r.stratum, 10);
    let uid = status_field(d.pid(), "Uid:");
    assert!(uid.split_whitespace().all(|u| u == "65534"), "Uid: {uid}");
    assert_eq!(status_field(d.pid(), "CapEff:"), "0000000000000000");
    assert_eq!(status_field(d.pid(), "CapPrm:"), "0000000000000000");
    assert_eq!(d.stop_with(libc::SIGTERM).code(), Some(0));
}

#[test]
fn i_confines_the_daemon_to_the_chroot_and_it_serves_on() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return common::skip_or_fail("root (to test -i)");
    }
    let jail = tempfile::tempdir().unwrap();
    let mut d = crate::daemon::Daemon::start_with(
        LOCAL_CLOCK_10,
        &["-i", jail.path().to_str().unwrap(), "-u", "nobody"],
    );
    let r = Client::bind("127.0.0.1")
        .ask(d.addr(), REPLY_WAIT)
        .expect("serving from the chroot");
    assert_eq!(r.stratum, 10);
    let root = std::fs::read_link(format!("/proc/{}/root", d.pid())).unwrap();
    assert_eq!(root, jail.path().canonicalize().unwrap());
    assert_eq!(d.stop_with(libc::SIGTERM).code(), Some(0), "{}", d.log());
}
