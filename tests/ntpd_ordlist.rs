//! `ntpq ifstats` and `ntpq reslist` (READ_ORDLIST_A, signed with the
//! control key) against ntpbox ntpd, from our ntpq and from NTPsec's, set
//! up as the reference capture's NTPsec daemon was (shared/reference/
//! ntpq-auth): only 127.0.0.1 and ::1 listening, `restrict default
//! nomodify`, `restrict 127.0.0.1`, `restrict ::1`, a SHA1 control key 1
//! and a trusted MD5 key 2.
//!
//! NTPsec's ntpq talks to port 123 only, so ntpd runs in a namespace of
//! its own, with `disable ntp` and without CAP_SYS_TIME. Differences from
//! NTPsec's answers, by design: ntpbox ntpd has no implicit `ntpport
//! interface ignore` entries for its own addresses, and no built-in
//! default entry when ntp.conf has no `restrict default`.

mod common;
// Shared with the ntpd test binary, which uses all of it.
#[allow(dead_code)]
#[path = "ntpd/daemon.rs"]
mod daemon;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::peers::{self, Netns};
use common::run::{private_file, ran, Ran};

/// The reference's keys file: key 1 SHA1 (hex), key 2 MD5 (ASCII).
const CONTROL_KEY_HEX: &str = "8e5fe734fa6d6dabb52319633953a66dd7cd87ff";
const MD5_KEY: &str = "harness-md5-key";
/// ntpd with its local clock, never touching the clock, listening as the
/// reference daemon did.
const CONF_HEAD: &str = "disable ntp\nserver 127.127.1.0\nfudge 127.127.1.0 stratum 10\n\
interface ignore wildcard\ninterface ignore all\ninterface listen 127.0.0.1\n\
restrict default nomodify\nrestrict 127.0.0.1\ntrustedkey 1 2\ncontrolkey 1\n";
/// The lines for IPv6 loopback, when the namespace has it.
const CONF_V6: &str = "interface listen ::1\nrestrict ::1\n";
/// NTPsec's ntpq talks to this port only.
const NTP_PORT: u16 = 123;
/// The longest a test here runs before reading `ifstats`: its uptime
/// column is at most this.
const TEST_SPAN: Duration = Duration::from_secs(10);

/// Our ntpq's tables (classic 4.2.8's layout).
const OUR_IFSTATS_HEADER: &str =
    "    interface name                                        send\n \
#  address/broadcast     drop flag ttl mc received sent failed peers   uptime\n";
const OUR_RESLIST_HEADER: &str = "   hits    addr/prefix or addr mask\n           restrictions\n";
const OUR_RULE: usize = 78;
/// NTPsec's ntpq's tables (as in the reference transcripts).
const NTPSEC_IFSTATS_HEADER: &str = "    interface name                                  send\n \
#  address/broadcast     drop flag received sent failed peers   uptime\n \
==========================================================================\n";
const NTPSEC_RESLIST_HEADER: &str =
    "   hits    addr/prefix or addr mask\n           restrictions\n\
========================================================================\n";
/// What NTPsec's ntpq prints for a trusted key that is not the control
/// key, and for no key at all.
const NTPSEC_PERMISSION: &str = "***Server error code PERMISSION\n";
const NTPSEC_NO_KEY: &str = "***Invalid key identifier\n";
/// Our ntpq's words for CERR_PERMISSION (classic's).
const OUR_PERMISSION: &str = "***Server disallowed request (authentication?)\n";

struct Daemon {
    /// Stopped by PID when dropped, before the namespace goes.
    _ntpd: daemon::Daemon,
    /// The keys file.
    dir: tempfile::TempDir,
    netns: Netns,
    /// Whether ::1 exists in the namespace (and is listened on).
    v6: bool,
}

impl Daemon {
    fn start() -> Option<Daemon> {
        if !peers::available() {
            common::skip_or_fail(peers::MISSING);
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("ntpbox-ordlist")
            .tempdir()
            .unwrap();
        let keys = private_file(
            dir.path(),
            "ntp.keys",
            &format!("1 SHA1 {CONTROL_KEY_HEX}\n2 MD5 {MD5_KEY}\n"),
        );
        let netns = Netns::new().expect("a network namespace");
        let v6 = netns
            .udp_socket("[::1]:0".parse::<SocketAddr>().unwrap())
            .is_ok();
        let v6_lines = if v6 { CONF_V6 } else { "" };
        let conf = format!("{CONF_HEAD}{v6_lines}keys {}\n", keys.display());
        // Only the log is watched: no packet reaches ntpd before the test's
        // own, so its counters are known.
        let program = netns.command(common::applet_dir().join("ntpd"));
        Some(Daemon {
            _ntpd: daemon::Daemon::launch(program, &conf, NTP_PORT, &[]),
            dir,
            netns,
            v6,
        })
    }

    fn keys(&self) -> PathBuf {
        self.dir.path().join("ntp.keys")
    }

    /// Our ntpq, in the namespace, with `keyid`/`passwd` (classic's ntpq
    /// has no -a/-k) and then COMMANDS.
    fn ours(&self, key: Option<(u32, &str, &str)>, commands: &[&str]) -> Ran {
        let mut cmd = self.netns.command(common::applet_dir().join("ntpq"));
        if let Some((id, keytype, secret)) = key {
            cmd.args(["-c", &format!("keyid {id}")])
                .args(["-c", &format!("keytype {keytype}")])
                .args(["-c", &format!("passwd {secret}")]);
        }
        for c in commands {
            cmd.args(["-c", c]);
        }
        cmd.arg("127.0.0.1").stdin(Stdio::null());
        let mut r = ran(&format!("our ntpq {commands:?}"), &mut cmd);
        // Like classic's, our ntpq prints a blank line between the output
        // of two -c commands, silent ones too: only the table is compared.
        r.stdout = r.stdout.trim_start_matches('\n').to_string();
        r
    }

    /// NTPsec's ntpq, in the namespace: `-a KEY -k KEYS` when a key is given.
    fn ntpsec(&self, key: Option<u32>, command: &str) -> Ran {
        let mut cmd = self.netns.command(peers::ntpq());
        if let Some(key) = key {
            cmd.args(["-a", &key.to_string(), "-k"]).arg(self.keys());
        }
        cmd.args(["-c", command, "127.0.0.1"]).stdin(Stdio::null());
        ran(&format!("ntpsec ntpq -a {key:?} -c {command}"), &mut cmd)
    }
}

/// An `ifstats` row as our ntpq prints it, for exact comparison once its
/// uptime column is known (`up` is read from the row itself, and checked
/// to be a few seconds at most).
fn our_row(number: u32, rx: u64, tx: u64, addr: &str, line: &str) -> String {
    let up = uptime_of(line);
    format!(
        "{number:3} {:<24} . {:4x} {:3} {:2} {rx:6} {tx:6} {:6} {:5} {up:8}\n    {addr}\n",
        "lo", 5, 0, 0, 0, 0
    )
}

/// The last column of an ifstats row: the socket's uptime, which must be
/// short (the daemon just started).
fn uptime_of(line: &str) -> u64 {
    let up: u64 = line
        .split_whitespace()
        .last()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no uptime in {line:?}"));
    assert!(up <= TEST_SPAN.as_secs() + 5, "{line}");
    up
}

#[test]
fn both_ntpqs_read_ifstats_and_reslist_with_the_control_key_only() {
    let Some(d) = Daemon::start() else {
        return;
    };
    let control = Some((1, "sha1", CONTROL_KEY_HEX));

    // Our ntpq, first thing after start: its request is the only datagram
    // 127.0.0.1's socket has received, and nothing was sent yet.
    let rule = format!("{}\n", "=".repeat(OUR_RULE));
    for (rx, tx) in [(1, 0), (2, 1)] {
        let out = d.ours(control, &["ifstats"]);
        assert_eq!((out.stderr.as_str(), out.code), ("", Some(0)));
        let lines: Vec<&str> = out.stdout.lines().collect();
        let mut expected = format!("{OUR_IFSTATS_HEADER}{rule}");
        expected.push_str(&our_row(0, rx, tx, "127.0.0.1:123", lines[3]));
        if d.v6 {
            expected.push_str(&our_row(1, 0, 0, "[::1]:123", lines[5]));
        }
        assert_eq!(out.stdout, expected, "request {rx}");
    }

    // The restrict table in lookup order; 127.0.0.1 has had 3 packets.
    let out = d.ours(control, &["reslist"]);
    assert_eq!((out.stderr.as_str(), out.code), ("", Some(0)));
    let mut expected = format!(
        "{OUR_RESLIST_HEADER}{rule}         3 127.0.0.1/32\n           \n\
         \x20        0 0.0.0.0/0\n           nomodify\n"
    );
    if d.v6 {
        expected
            .push_str("         0 ::1/128\n           \n         0 ::/0\n           nomodify\n");
    }
    assert_eq!(out.stdout, expected);

    // A trusted key that is not the control key, and no key at all.
    let out = d.ours(Some((2, "md5", MD5_KEY)), &["ifstats"]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", OUR_PERMISSION)
    );
    let out = d.ours(None, &["reslist"]);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("Invalid key identifier"),
        "{}",
        out.stderr
    );

    // NTPsec's ntpq: its layout, the same rows. 127.0.0.1 has now received
    // 5 requests (the keyless one was never sent) and answered 4.
    let out = d.ntpsec(Some(1), "ifstats");
    assert_eq!((out.stderr.as_str(), out.code), ("", Some(0)));
    let lines: Vec<&str> = out.stdout.lines().collect();
    let row = |n: u32, rx: u64, tx: u64, addr: &str, line: &str| {
        format!(
            "{n:3} {:<24} . {:4x} {rx:6} {tx:6} {:6} {:5} {:8}\n    {addr}\n",
            "lo",
            5,
            0,
            0,
            uptime_of(line)
        )
    };
    let mut expected = NTPSEC_IFSTATS_HEADER.to_string();
    expected.push_str(&row(0, 5, 4, "127.0.0.1:123", lines[3]));
    if d.v6 {
        expected.push_str(&row(1, 0, 0, "[::1]:123", lines[5]));
    }
    assert_eq!(out.stdout, expected);

    let out = d.ntpsec(Some(1), "reslist");
    assert_eq!((out.stderr.as_str(), out.code), ("", Some(0)));
    let mut expected = format!(
        "{NTPSEC_RESLIST_HEADER}         6 127.0.0.1/32\n           \n\
         \x20        0 0.0.0.0/0\n           nomodify\n"
    );
    if d.v6 {
        expected
            .push_str("         0 ::1/128\n           \n         0 ::/0\n           nomodify\n");
    }
    assert_eq!(out.stdout, expected);

    let out = d.ntpsec(Some(2), "ifstats");
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", NTPSEC_PERMISSION)
    );
    let out = d.ntpsec(None, "ifstats");
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", NTPSEC_NO_KEY)
    );
    let out = d.ntpsec(Some(2), "reslist");
    assert_eq!(out.stderr, NTPSEC_PERMISSION);
}
