//! Real NTP implementations as clients of ntpbox ntpd, each checking the
//! stratum and refid it sees: chronyd on the host's loopback (it has a
//! port option), ntpsec's ntpdig in a namespace of its own on port 123.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{self, peers};
use crate::daemon::Daemon;
use crate::serve::LOCAL_CLOCK_10;

/// chronyd polls every 2 s (minpoll 1) with iburst: it selects a source
/// within seconds.
const CHRONYD_SYNC_WAIT: Duration = Duration::from_secs(40);

fn chronyc_output(guard: &peers::PeerGuard, args: &[&str]) -> String {
    let out = guard.chronyc().args(args).output().expect("run chronyc");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn chronyd_selects_ntpbox_and_sees_stratum_10_refid_locl() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let ntpd = Daemon::start(LOCAL_CLOCK_10);
    let mut chronyd = peers::Chronyd::new(common::free_udp_port());
    chronyd.servers = vec![ntpd.addr()];
    // Its own `local` clock only counts when no real source is usable.
    chronyd.stratum = 15;
    let chronyd = chronyd.start().expect("chronyd starts");
    let deadline = Instant::now() + CHRONYD_SYNC_WAIT;
    let sources = loop {
        let sources = chronyc_output(&chronyd, &["sources"]);
        if sources.lines().any(|l| l.starts_with("^* 127.0.0.1")) {
            break sources;
        }
        assert!(
            Instant::now() < deadline,
            "chronyd never selected ntpbox:\n{sources}\n{}\n{}",
            chronyd.log(),
            ntpd.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let line = sources
        .lines()
        .find(|l| l.starts_with("^* 127.0.0.1"))
        .unwrap();
    let columns: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        columns[2], "10",
        "stratum column of chronyc sources: {line}"
    );
    let ntpdata = chronyc_output(&chronyd, &["ntpdata", "127.0.0.1"]);
    let field = |name: &str| {
        ntpdata
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(": "))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in:\n{ntpdata}"))
    };
    assert_eq!(field("Stratum"), "10");
    // "4C4F434C ()": chronyc -n shows the refid in hex, and "LOCL" is it.
    let refid = field("Reference ID");
    assert!(refid.starts_with("4C4F434C"), "{refid}");
    assert_eq!(field("Leap status"), "Normal");
    assert_eq!(field("Mode"), "Server");
    // And chronyd now serves time it got from ntpbox: one stratum further.
    let reply = chronyd.query().expect("chronyd answers");
    assert_eq!((reply.leap, reply.stratum), (0, 11));
    assert_eq!(reply.refid_text(), "127.0.0.1");
    assert!(reply.offset().abs() < 0.01, "offset {}", reply.offset());
}

/// chronyd polls ntpbox with SHA1 key 5: the replies are signed with it, and
/// chronyd says the source is authenticated (`restrict default notrust`:
/// unsigned requests would get nothing).
#[test]
fn chronyd_authenticates_ntpbox_with_a_sha1_key() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let dir = tempfile::tempdir().unwrap();
    let ntpbox_keys = dir.path().join("ntp.keys");
    std::fs::write(
        &ntpbox_keys,
        "5 SHA1 0123456789abcdef0123456789abcdef01234567\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &ntpbox_keys,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let conf = format!(
        "{LOCAL_CLOCK_10}keys {}\ntrustedkey 5\nrestrict default notrust\n",
        ntpbox_keys.display()
    );
    let ntpd = Daemon::start(&conf);
    let chrony_keys = dir.path().join("chrony.keys");
    std::fs::write(
        &chrony_keys,
        "5 SHA1 HEX:0123456789abcdef0123456789abcdef01234567\n",
    )
    .unwrap();
    let mut chronyd = peers::Chronyd::new(common::free_udp_port());
    chronyd.servers = vec![ntpd.addr()];
    chronyd.stratum = 15;
    chronyd.key = Some(5);
    chronyd.extra = vec![format!("keyfile {}", chrony_keys.display())];
    let chronyd = chronyd.start().expect("chronyd starts");
    let deadline = Instant::now() + CHRONYD_SYNC_WAIT;
    loop {
        let sources = chronyc_output(&chronyd, &["sources"]);
        if sources.lines().any(|l| l.starts_with("^* 127.0.0.1")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chronyd never selected ntpbox with key 5:\n{sources}\n{}\n{}",
            chronyd.log(),
            ntpd.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let ntpdata = chronyc_output(&chronyd, &["ntpdata", "127.0.0.1"]);
    assert!(
        ntpdata
            .lines()
            .any(|l| l.starts_with("Authenticated") && l.ends_with(": Yes")),
        "{ntpdata}"
    );
}

/// ntpbox ntpd on 127.0.0.1:123 inside NETNS.
fn ntpd_in(netns: &peers::Netns, conf: &str) -> Daemon {
    let program = netns.command(common::applet_dir().join("ntpd"));
    Daemon::launch(program, conf, 123, &[])
}

#[test]
fn ntpdig_gets_stratum_10_and_no_leap_from_ntpbox() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let netns = Arc::new(peers::Netns::new().expect("a network namespace"));
    let ntpd = ntpd_in(&netns, LOCAL_CLOCK_10);
    let out = netns
        .command(peers::ntpdig())
        .args(["-t", "2", "127.0.0.1"])
        .output()
        .expect("run ntpdig");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        ntpd.log()
    );
    let line = stdout.lines().last().unwrap_or_default();
    assert!(line.ends_with(" 127.0.0.1 s10 no-leap"), "{line}");
    // `+0.000037 +/- 0.000126`: the offset against the same clock is tiny.
    let offset: f64 = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(offset.abs() < 0.01, "{line}");
    drop(ntpd);
}

#[test]
fn ntpdig_sees_an_unsynchronised_ntpbox_as_such() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let netns = Arc::new(peers::Netns::new().expect("a network namespace"));
    let ntpd = ntpd_in(&netns, "disable ntp\n");
    let out = netns
        .command(peers::ntpdig())
        .args(["-t", "1", "127.0.0.1"])
        .output()
        .expect("run ntpdig");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // ntpdig refuses servers that say they are unsynchronised.
    assert_eq!(out.status.code(), Some(1), "{all}\n{}", ntpd.log());
    assert!(!all.contains(" s16 no-leap"), "{all}");
}
