//! What clients get from the daemon, and what it logs.

use std::net::SocketAddr;

use crate::client::{ntp_now, secs, Client, REPLY_WAIT};
use crate::daemon::Daemon;

pub const LOCAL_CLOCK_10: &str = "disable ntp\nserver 127.127.1.0\nfudge 127.127.1.0 stratum 10\n";

#[test]
fn the_local_clock_driver_serves_at_stratum_10_with_refid_locl() {
    let d = Daemon::start(LOCAL_CLOCK_10);
    let client = Client::bind("127.0.0.1");
    let before = ntp_now();
    let r = client.ask(d.addr(), REPLY_WAIT).expect("a reply");
    let after = ntp_now();
    assert_eq!((r.leap, r.version, r.mode), (0, 4, 4));
    assert_eq!(r.stratum, 10);
    assert_eq!(&r.refid, b"LOCL");
    assert_eq!(r.poll, 6, "the client's poll is echoed");
    assert!(
        (-30..=-10).contains(&r.precision),
        "precision {}",
        r.precision
    );
    assert_eq!(r.root_delay, 0);
    // 10 ms of dispersion, as classic's local clock driver.
    assert!(
        (600..=700).contains(&r.root_dispersion),
        "{}",
        r.root_dispersion
    );
    assert!(secs(r.reference) <= secs(r.receive) && secs(r.reference) > secs(before) - 5.0);
    assert!(secs(before) <= secs(r.receive) + 0.001 && secs(r.receive) <= secs(r.transmit));
    assert!(secs(r.transmit) <= secs(after) + 0.001);
    assert_eq!(r.len, 48);
}

#[test]
fn versions_1_to_4_are_answered_in_kind() {
    let d = Daemon::start(LOCAL_CLOCK_10);
    let client = Client::bind("127.0.0.1");
    for version in 1..=4 {
        let r = client
            .ask_version(d.addr(), version, REPLY_WAIT)
            .expect("a reply");
        assert_eq!((r.version, r.mode, r.stratum), (version, 4, 10));
    }
}

#[test]
fn without_a_source_it_answers_unsynchronised() {
    // A server that never answers: a closed port on loopback.
    let mut d = Daemon::start("disable ntp\nserver 127.0.0.1:9 iburst\n");
    let r = Client::bind("127.0.0.1")
        .ask(d.addr(), REPLY_WAIT)
        .expect("a reply");
    assert_eq!((r.leap, r.stratum), (3, 16));
    assert_eq!(&r.refid, b"INIT");
    assert_eq!(r.reference, 0);
    assert!(d.is_running());
}

#[test]
fn orphan_mode_serves_at_the_orphan_stratum() {
    let mut d = Daemon::start("disable ntp\ntos orphan 12 orphanwait 0\n");
    d.wait_for_log("orphan mode, serving at stratum 12");
    let r = Client::bind("127.0.0.1")
        .ask(d.addr(), REPLY_WAIT)
        .expect("a reply");
    assert_eq!((r.leap, r.stratum, r.refid), (0, 12, [127, 0, 0, 1]));
}

#[test]
fn ipv6_loopback_is_served_too() {
    let d = Daemon::start(LOCAL_CLOCK_10);
    if !d
        .messages()
        .iter()
        .any(|m| m.contains(&format!(" lo [::1]:{}", d.port)))
    {
        return crate::common::skip_or_fail("IPv6 loopback");
    }
    let socket = std::net::UdpSocket::bind("[::1]:0").unwrap();
    socket.set_read_timeout(Some(REPLY_WAIT)).unwrap();
    let server = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, d.port));
    socket
        .send_to(&crate::client::request(4, 77), server)
        .unwrap();
    let mut buf = [0u8; 100];
    let (n, from) = socket.recv_from(&mut buf).expect("a reply over IPv6");
    assert_eq!((n, from), (48, server));
    assert_eq!(buf[1], 10);
}

#[test]
fn it_logs_the_classic_startup_and_listen_lines() {
    let d = Daemon::start(LOCAL_CLOCK_10);
    let m = d.messages();
    let port = d.port;
    assert_eq!(
        m[0],
        format!("ntpd ntpbox-{}: Starting", env!("CARGO_PKG_VERSION"))
    );
    assert!(
        m[1].starts_with("Command line: ") && m[1].contains(" -n -c "),
        "{}",
        m[1]
    );
    assert!(m.contains(
        &"disable ntp: the clock is never adjusted; serving time only, without CAP_SYS_TIME"
            .to_string()
    ));
    assert!(m.iter().any(|l| l.starts_with("proto: precision = ")));
    assert!(
        m.contains(&format!("Listen and drop on 1 v4wildcard 0.0.0.0:{port}")),
        "{m:?}"
    );
    let lo = m
        .iter()
        .find(|l| {
            l.starts_with("Listen normally on ") && l.ends_with(&format!(" lo 127.0.0.1:{port}"))
        })
        .unwrap_or_else(|| panic!("no listen line for lo: {m:?}"));
    assert_eq!(lo, &format!("Listen normally on 2 lo 127.0.0.1:{port}"));
    assert!(m.contains(&"0.0.0.0 c016 06 restart".to_string()));
    assert!(m.contains(&"synchronized to LOCAL(0), stratum 10".to_string()));
}

#[test]
fn sigterm_and_sigint_end_it_cleanly_with_status_0() {
    for (signal, name) in [
        (libc::SIGTERM, "15 (Terminated)"),
        (libc::SIGINT, "2 (Interrupt)"),
    ] {
        let mut d = Daemon::start(LOCAL_CLOCK_10);
        Client::bind("127.0.0.1")
            .ask(d.addr(), REPLY_WAIT)
            .expect("a reply");
        let status = d.stop_with(signal);
        assert_eq!(status.code(), Some(0), "{}", d.log());
        let last = d.messages().pop().unwrap();
        assert!(
            last.starts_with(&format!(
                "ntpd exiting on signal {name}: 1 requests, 1 replies"
            )),
            "{last}"
        );
    }
}

#[test]
fn the_ntpdate_applet_gets_stratum_10_from_it() {
    let d = Daemon::start(LOCAL_CLOCK_10);
    let out = crate::common::applet("ntpdate")
        .args(["-q", "-u", &format!("127.0.0.1:{}", d.port)])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if String::from_utf8_lossy(&out.stderr).contains("not implemented yet") {
        return crate::common::skip_or_fail("the ntpdate applet");
    }
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("server 127.0.0.1:{}, stratum 10, offset ", d.port)),
        "{stdout}"
    );
}

#[test]
fn the_leapfile_gives_tai_leapsec_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let leapfile = dir.path().join("leap-seconds.list");
    std::fs::write(
        &leapfile,
        "#@\t3991593600\n2272060800\t10\t# 1 Jan 1972\n3692217600\t37\t# 1 Jan 2017\n",
    )
    .unwrap();
    let mut d = Daemon::start(&format!(
        "{LOCAL_CLOCK_10}leapfile {}\n",
        leapfile.display()
    ));
    d.wait_for_log("loaded, expire=2026-06-28T00:00:00Z last=2017-01-01T00:00:00Z ofs=37");
    let out = crate::common::applet("ntpq")
        .args(["-c", "rv 0 tai,leapsec,expire"])
        .arg(d.addr().to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tai=37"), "{text}");
    assert!(text.contains("leapsec=201701010000"), "{text}");
    assert!(text.contains("expire=202606280000"), "{text}");
}
