//! ntpbox ntpd as a client: real servers (chronyd, ntpsec) and symmetric
//! peers (chronyd's `peer`, another ntpbox ntpd). Everything runs with
//! `disable ntp`: the engine measures, filters and selects, and the clock
//! is never touched. Synchronised means what a downstream client sees:
//! ntpbox serves one stratum below its source, with the source's address
//! as refid, and logs `synchronized to ADDR`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::common::{self, peers};
use crate::daemon::Daemon;

/// iburst gets the first samples within seconds; selection needs a few.
const SYNC_WAIT: Duration = Duration::from_secs(60);
/// Poll options for upstreams in these tests: iburst, then every 8-16 s.
const FAST_POLL: &str = "iburst minpoll 3 maxpoll 4";

/// Asks ntpbox (from inside `netns` when it runs there: its loopback is
/// the namespace's) until it serves synchronised at `stratum` with `refid`.
/// On timeout the panic shows ntpbox's own view (`ntpq`) and its log.
fn wait_synchronised(
    d: &Daemon,
    netns: Option<&peers::Netns>,
    stratum: u8,
    refid: [u8; 4],
) -> peers::SntpReply {
    let deadline = Instant::now() + SYNC_WAIT;
    loop {
        let reply = peers::query(netns, d.addr(), Duration::from_secs(1)).ok();
        if let Some(r) = &reply {
            if r.leap != 3 && r.stratum == stratum && r.refid == refid {
                return r.clone();
            }
        }
        if Instant::now() >= deadline {
            let ntpq = common::applet_dir().join("ntpq");
            let mut command = match netns {
                Some(ns) => ns.command(ntpq),
                None => std::process::Command::new(ntpq),
            };
            let view = command
                .args(["-pn", "-c", "rv", "-c", "rv &1"])
                .arg(d.addr().to_string())
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            panic!(
                "ntpbox never synchronised to its source (last reply {reply:?}):\n{view}\n{}",
                d.log()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn octets(addr: SocketAddr) -> [u8; 4] {
    match addr.ip() {
        std::net::IpAddr::V4(v4) => v4.octets(),
        std::net::IpAddr::V6(_) => panic!("IPv4 expected"),
    }
}

#[test]
fn synchronises_to_chronyd() {
    let Some(chronyd) = peers::chronyd_server(common::free_udp_port()) else {
        return common::skip_or_fail(peers::MISSING);
    };
    let stats = tempfile::tempdir().unwrap();
    let conf = format!(
        "disable ntp\nserver {} {FAST_POLL}\nstatsdir {}/\nstatistics loopstats peerstats\n",
        chronyd.addr(),
        stats.path().display()
    );
    let mut d = Daemon::start(&conf);
    let r = wait_synchronised(&d, None, 11, octets(chronyd.addr()));
    assert_eq!(r.leap, 0);
    d.wait_for_log(&format!("synchronized to {}", chronyd.addr().ip()));
    // peerstats, classic format: MJD, seconds, address, status word (hex),
    // offset, delay, dispersion, jitter; through the `peerstats` link.
    let text = std::fs::read_to_string(stats.path().join("peerstats")).unwrap();
    let line = text.lines().last().expect("a peerstats line");
    let f: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(f.len(), 8, "{line}");
    assert!(f[0].parse::<u32>().unwrap() > 61_000, "{line}");
    assert!(f[1].parse::<f64>().unwrap() < 86_400.0, "{line}");
    assert_eq!(f[2], chronyd.addr().ip().to_string(), "{line}");
    assert!(u16::from_str_radix(f[3], 16).is_ok(), "{line}");
    for x in &f[4..] {
        assert!(x.parse::<f64>().is_ok(), "{line}");
    }
    assert!(f[4].parse::<f64>().unwrap().abs() < 0.01, "{line}");
}

/// ntpsec serves from orphan mode (with `disable ntp` its local clock
/// would leave it unsynchronised), and an orphan parent's refid is
/// 127.0.0.1: over loopback that reads as a timing loop (RFC 5905's refid
/// test) and is rightly refused. So ntpsec also listens on a documentation
/// address of a veth pair, both ends in the test's own namespace, and ntpbox polls it
/// there.
#[test]
fn synchronises_to_ntpsec() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let netns = Arc::new(peers::Netns::new().expect("a network namespace"));
    for args in [
        &["link", "add", "v0", "type", "veth", "peer", "name", "v1"][..],
        &["addr", "add", "198.51.100.1/24", "dev", "v0"],
        &["link", "set", "v0", "up"],
        &["link", "set", "v1", "up"],
    ] {
        let status = std::process::Command::new("ip")
            .args(["-n", netns.name()])
            .args(args)
            .status()
            .expect("run ip");
        assert!(status.success(), "ip {args:?}");
    }
    let _ntpsec = peers::Ntpsec {
        netns: Some(Arc::clone(&netns)),
        extra: vec!["interface listen 198.51.100.1".into()],
        ..peers::Ntpsec::default()
    }
    .start()
    .expect("ntpsec starts");
    // ntpsec has port 123 of the namespace; ntpbox serves on another.
    let program = netns.command(common::applet_dir().join("ntpd"));
    let conf = format!("disable ntp\nserver 198.51.100.1 {FAST_POLL}\n");
    let mut d = Daemon::launch(program, &conf, NTPBOX_PORT_BESIDE_PEER, &[]);
    wait_synchronised(&d, Some(&netns), 11, [198, 51, 100, 1]);
    d.wait_for_log("synchronized to 198.51.100.1");
}

/// Where ntpbox serves in a namespace whose port 123 a peer already has.
const NTPBOX_PORT_BESIDE_PEER: u16 = 1123;

#[test]
fn two_ntpbox_daemons_as_symmetric_peers_one_with_a_local_clock() {
    let port_a = common::free_udp_port();
    let port_b = common::free_udp_port();
    let conf_a = format!(
        "disable ntp\nserver 127.127.1.0\nfudge 127.127.1.0 stratum 8\npeer 127.0.0.1:{port_b} {FAST_POLL}\n"
    );
    let conf_b = format!("disable ntp\npeer 127.0.0.1:{port_a} {FAST_POLL}\n");
    let a = Daemon::launch(common::applet("ntpd"), &conf_a, port_a, &[]);
    let mut b = Daemon::launch(common::applet("ntpd"), &conf_b, port_b, &[]);
    let r = wait_synchronised(&b, None, 9, [127, 0, 0, 1]);
    assert_eq!(r.leap, 0);
    b.wait_for_log("synchronized to 127.0.0.1");
    drop(a);
}

#[test]
fn a_symmetric_peer_of_chronyd() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let port_ntpbox = common::free_udp_port();
    let mut chronyd = peers::Chronyd::new(common::free_udp_port());
    chronyd.stratum = 9;
    chronyd.peers = vec![SocketAddr::from(([127, 0, 0, 1], port_ntpbox))];
    let chronyd = chronyd.start().expect("chronyd starts");
    let conf = format!("disable ntp\npeer {} {FAST_POLL}\n", chronyd.addr());
    let mut d = Daemon::launch(common::applet("ntpd"), &conf, port_ntpbox, &[]);
    let r = wait_synchronised(&d, None, 10, [127, 0, 0, 1]);
    assert_eq!(r.leap, 0);
    d.wait_for_log(&format!("synchronized to {}", chronyd.addr().ip()));
}

/// chronyd's keys and ours: the same SHA1 secret, as each writes it.
const SHA1_SECRET_HEX: &str = "00112233445566778899aabbccddeeff00112233";

/// `server ... key 7`: ntpbox signs its polls with key 7 and counts only
/// replies signed with it. chronyd (which answers a signed request with a
/// reply signed by the same key) is selected; with a different secret on
/// our side every reply fails authentication and nothing is selected.
#[test]
fn synchronises_to_chronyd_with_a_sha1_key_and_not_with_a_wrong_one() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let dir = tempfile::tempdir().unwrap();
    let chrony_keys = dir.path().join("chrony.keys");
    std::fs::write(&chrony_keys, format!("7 SHA1 HEX:{SHA1_SECRET_HEX}\n")).unwrap();
    let mut chronyd = peers::Chronyd::new(common::free_udp_port());
    chronyd.extra = vec![format!("keyfile {}", chrony_keys.display())];
    let chronyd = chronyd.start().expect("chronyd starts");
    let keys_conf = |secret: &str| {
        let path = dir.path().join(format!("ntp-{}.keys", &secret[..4]));
        std::fs::write(&path, format!("7 SHA1 {secret}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        format!(
            "disable ntp\nkeys {}\ntrustedkey 7\nserver {} key 7 {FAST_POLL}\n",
            path.display(),
            chronyd.addr()
        )
    };
    let mut d = Daemon::start(&keys_conf(SHA1_SECRET_HEX));
    let r = wait_synchronised(&d, None, 11, octets(chronyd.addr()));
    assert_eq!(r.leap, 0);
    d.wait_for_log(&format!("synchronized to {}", chronyd.addr().ip()));

    let wrong = Daemon::start(&keys_conf("ffffeeeeddddccccbbbbaaaa9999888877776666"));
    std::thread::sleep(Duration::from_secs(8));
    let client = Client::bind("127.0.0.1");
    let r = client
        .ask(wrong.addr(), Duration::from_secs(1))
        .expect("a reply");
    assert_eq!((r.leap, r.stratum), (3, 16), "{}", wrong.log());
    assert!(!wrong.log().contains("synchronized to"), "{}", wrong.log());
}
