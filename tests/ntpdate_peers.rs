//! ntpdate against the real thing: chronyd on the host's loopback, ntpsec
//! ntpd and OpenNTPD on 127.0.0.1:123 in namespaces of their own. They all
//! share this machine's clock, so the offset must be within 1 ms of zero.
//! Every ntpdate here runs without CAP_SYS_TIME (the peers' command helpers
//! wrap it in setpriv).

mod common;

use std::process::{Command, Output};

use common::peers::{self, PeerGuard};

/// The bound for a loopback peer on the same clock.
const SAME_CLOCK_TOLERANCE: f64 = 0.001;

fn ntpdate_path() -> std::path::PathBuf {
    common::applet_dir().join("ntpdate")
}

/// Runs CMD in UTC (ntpdate's log lines carry local time).
fn run(label: &str, cmd: &mut Command) -> Output {
    common::run::logged(label, cmd.env("TZ", "UTC"))
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Checks `-q` output: `server ADDR, stratum N, offset X, delay Y` and
/// `DD Mon HH:MM:SS ntpdate[PID]: adjust time server ADDR offset X sec`;
/// returns the offset.
fn assert_query_output(out: &Output, addr: &str, stratum: u8) -> f64 {
    assert_eq!(out.status.code(), Some(0));
    let stdout = lines(&out.stdout);
    assert_eq!(stdout.len(), 2, "{stdout:?}");
    let prefix = format!("server {addr}, stratum {stratum}, offset ");
    let rest = stdout[0]
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{:?} does not start with {prefix:?}", stdout[0]));
    let (offset_text, delay_text) = rest.split_once(", delay ").expect(&stdout[0]);
    let offset: f64 = offset_text.parse().expect(&stdout[0]);
    let delay: f64 = delay_text.parse().expect(&stdout[0]);
    assert_eq!(offset_text.split('.').nth(1).map(str::len), Some(6));
    assert_eq!(delay_text.split('.').nth(1).map(str::len), Some(5));
    assert!(offset.abs() < SAME_CLOCK_TOLERANCE, "offset {offset}");
    assert!((0.0..0.01).contains(&delay), "delay {delay}");
    let expected_tail = format!("]: adjust time server {addr} offset {offset_text} sec");
    assert!(
        stdout[1].ends_with(&expected_tail) && stdout[1].contains(" ntpdate["),
        "{:?} vs {expected_tail:?}",
        stdout[1]
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    offset
}

fn ntpdate_beside(peer: &PeerGuard, args: &[&str]) -> Output {
    run(
        &format!("ntpdate {}", args.join(" ")),
        peer.command(ntpdate_path()).args(args),
    )
}

#[test]
fn chronyd_on_the_host_loopback() {
    let port = common::free_udp_port();
    let Some(_chronyd) = peers::chronyd_server(port) else {
        return common::skip_or_fail(peers::MISSING);
    };
    let addr = format!("127.0.0.1:{port}");
    let out = run(
        "ntpdate -q -u chronyd",
        peers::guarded(ntpdate_path()).args(["-q", "-u", &addr]),
    );
    assert_query_output(&out, &addr, 10);
}

#[test]
fn ntpsec_ntpd_on_port_123_in_its_namespace() {
    let Some(ntpsec) = peers::ntpsec_server() else {
        return common::skip_or_fail(peers::MISSING);
    };
    let out = ntpdate_beside(&ntpsec, &["-q", "-u", "127.0.0.1"]);
    assert_query_output(&out, "127.0.0.1", 10);
    // -q alone uses an unprivileged port as classic does, and IPv6 works.
    let out = ntpdate_beside(&ntpsec, &["-q", "::1"]);
    assert_query_output(&out, "::1", 10);
}

#[test]
fn a_running_ntpd_holds_the_ntp_socket() {
    let Some(ntpsec) = peers::ntpsec_server() else {
        return common::skip_or_fail(peers::MISSING);
    };
    // Without -q/-u ntpdate wants source port 123, which ntpsec holds.
    let out = ntpdate_beside(&ntpsec, &["127.0.0.1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = lines(&out.stderr);
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(
        stderr[0].ends_with("]: the NTP socket is in use, exiting"),
        "{stderr:?}"
    );
}

/// ntpdig only talks to port 123, so both clients ask the same ntpsec.
#[test]
fn ntpdig_and_ntpdate_agree() {
    let Some(ntpsec) = peers::ntpsec_server() else {
        return common::skip_or_fail(peers::MISSING);
    };
    let theirs = run(
        "ntpdig 127.0.0.1",
        ntpsec.command(peers::ntpdig()).arg("127.0.0.1"),
    );
    assert!(theirs.status.success());
    // `2026-11-21 23:17:11.283860 (+0000) +0.000263 +/- 0.000307 127.0.0.1 s10 no-leap`
    let text = String::from_utf8_lossy(&theirs.stdout);
    let field = |n: usize| -> f64 {
        text.split_whitespace()
            .nth(n)
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("ntpdig output: {text}"))
    };
    // ntpdig states its own error bound (`+/- 0.000307`): on a loaded
    // machine its Python start-up widens it to milliseconds, so agreement
    // is judged within that bound plus our own tolerance.
    let (their_offset, their_bound) = (field(3), field(5));
    let ours = ntpdate_beside(&ntpsec, &["-q", "-u", "127.0.0.1"]);
    let our_offset = assert_query_output(&ours, "127.0.0.1", 10);
    assert!(
        (our_offset - their_offset).abs() <= their_bound + SAME_CLOCK_TOLERANCE,
        "ours {our_offset} theirs {their_offset} +/- {their_bound}"
    );
}

#[test]
fn unsynchronised_openntpd_is_refused_with_the_reason() {
    let Some(openntpd) = peers::openntpd_server() else {
        return common::skip_or_fail(peers::MISSING);
    };
    let out = ntpdate_beside(&openntpd, &["-q", "-u", "-p", "1", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = lines(&out.stderr);
    assert_eq!(stderr.len(), 2, "{stderr:?}");
    assert!(
        stderr[0].ends_with(
            "]: 127.0.0.1: Server dropped: leap not in sync (the server is unsynchronised)"
        ),
        "{stderr:?}"
    );
    assert!(stderr[1].ends_with("]: no server suitable for synchronization found"));
}

/// Slow (OpenNTPD needs about four minutes to call itself synced).
#[test]
fn synchronised_openntpd() {
    let Some(openntpd) = peers::openntpd_synced_server() else {
        return common::skip_or_fail(peers::MISSING);
    };
    let out = ntpdate_beside(&openntpd, &["-q", "-u", "127.0.0.1"]);
    assert_query_output(&out, "127.0.0.1", 11);
    // The same synced OpenNTPD (it takes minutes to get there) is also the
    // upstream of ntpbox ntpd, which must select it and serve at 12.
    ntpd_selects(&openntpd);
}

/// Where ntpbox ntpd serves beside a peer that has port 123.
const NTPD_PORT_BESIDE_PEER: u16 = 1123;
/// iburst and 8 s polls: a few exchanges are enough to select.
const NTPD_SYNC_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// ntpbox ntpd, `disable ntp`, polling PEER on 127.0.0.1:123 of its
/// namespace, reaches sys.peer: it serves leap 0 at the peer's stratum + 1
/// with the peer's address as refid.
fn ntpd_selects(peer: &PeerGuard) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("ntp.conf");
    std::fs::write(
        &conf,
        "disable ntp\nserver 127.0.0.1 iburst minpoll 3 maxpoll 4\n",
    )
    .unwrap();
    let log = dir.path().join("ntpd.log");
    let mut child = peer
        .command(common::applet_dir().join("ntpd"))
        .args(["-n", "-c"])
        .arg(&conf)
        .args(["-l"])
        .arg(&log)
        .args(["--port", &NTPD_PORT_BESIDE_PEER.to_string()])
        .spawn()
        .expect("start ntpbox ntpd");
    let upstream = peer.query().expect("the peer answers");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], NTPD_PORT_BESIDE_PEER));
    let deadline = std::time::Instant::now() + NTPD_SYNC_WAIT;
    let synced = loop {
        let reply = peers::query(
            peer.netns().map(|n| &**n),
            addr,
            std::time::Duration::from_secs(1),
        );
        match &reply {
            Ok(r)
                if r.leap != 3
                    && r.stratum == upstream.stratum + 1
                    && r.refid_text() == "127.0.0.1" =>
            {
                break Ok(())
            }
            _ if std::time::Instant::now() >= deadline => break Err(format!("{reply:?}")),
            _ => std::thread::sleep(std::time::Duration::from_millis(500)),
        }
    };
    // SAFETY: kill(2) of the child this test started, by its PID.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().expect("ntpd exits");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    if let Err(last) = synced {
        panic!(
            "ntpbox ntpd never selected {} (last reply {last}):\n{text}",
            peer.name()
        );
    }
    assert!(text.contains("synchronized to 127.0.0.1"), "{text}");
    assert_eq!(status.code(), Some(0), "{text}");
}
