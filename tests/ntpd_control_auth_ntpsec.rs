//! ntpsec's ntpq (1.2.2, Python) authenticating to ntpbox ntpd's mode 6
//! server with MD5, SHA1 and AES-128-CMAC keys:
//! * signed reads (`authenticate yes`) by any trusted key are answered
//!   signed with that key, and ntpsec's ntpq verifies every answer (it
//!   prints `AUTH - ...` on stderr when a MAC is missing or wrong);
//! * its only write command, `:config`, is refused in signed text with the
//!   control key, and with CERR_PERMISSION without it;
//! * ntpsec's ntpq has `writevar` but it sends nothing (`do_writevar` is
//!   `pass` in 1.2.2), so the write of `leap` goes through ntpsec's own
//!   mode 6 library (ntp.packet.ControlSession, the code behind its ntpq)
//!   with `auth=True`: taken with the control key, refused otherwise.
//!
//! ntpsec's tools talk to port 123 only, so ntpd runs in a namespace of its
//! own, with `disable ntp` and without CAP_SYS_TIME.

mod common;
// Shared with the ntpd test binary, which uses all of it.
#[allow(dead_code)]
#[path = "ntpd/daemon.rs"]
mod daemon;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::peers::{self, Netns};
use common::run::{private_file, ran, Ran};

/// The keys both sides read: one of each algorithm ntpsec's ntpq signs
/// with, and a SHA1 key given as ASCII text (20 characters or fewer).
const KEYS: &str = "\
1 MD5 md5-secret
2 SHA1 0123456789abcdef0123456789abcdef01234567
3 AES128CMAC 000102030405060708090a0b0c0d0e0f
4 SHA1 sha1-ascii
";
/// The same IDs with other secrets: what someone guessing would hold.
const WRONG_KEYS: &str = "\
1 MD5 guessed
2 SHA1 ffffffffffffffffffffffffffffffffffffffff
3 AES128CMAC ffffffffffffffffffffffffffffffff
4 SHA1 guessed
";
/// ntpsec's tools talk to this port only.
const NTP_PORT: u16 = 123;
/// The key IDs of [`KEYS`] with their algorithm, for messages.
const KEY_IDS: [(u32, &str); 4] = [
    (1, "MD5"),
    (2, "SHA1"),
    (3, "AES128CMAC"),
    (4, "SHA1 ASCII"),
];
/// ntpd with its local clock at stratum 10, never touching the clock.
const LOCAL_CLOCK_10: &str = "disable ntp\nserver 127.127.1.0\nfudge 127.127.1.0 stratum 10\n";
/// How long ntpd gets to synchronise to its local clock.
const PATIENCE: Duration = Duration::from_secs(10);
/// What ntpsec's ntpq prints for `authenticate yes`.
const AUTHENTICATING: &str = "authenticated requests being sent\n";
/// ntpbox ntpd's answer to an authenticated `:config`.
const NO_RUNTIME_CONFIG: &str =
    "runtime configuration is not supported: edit ntp.conf and restart ntpd\n";
/// ntpsec's words for CERR_PERMISSION.
const PERMISSION: &str = "***Server error code PERMISSION\n";

/// Writes a WRITEVAR with ntpsec's ControlSession: KEYFILE KEYID DATA. It
/// prints whether ntpd took it and whether ntpsec verified the signed
/// answer, or ntpsec's error message.
const WRITEVAR_PY: &str = r#"
import sys
import ntp.control
import ntp.packet
keyfile, keyid, data = sys.argv[1], int(sys.argv[2]), sys.argv[3]
session = ntp.packet.ControlSession()
session.openhost("127.0.0.1")
session.auth = ntp.packet.Authenticator(keyfile)
session.keyid = keyid
session.keytype, session.passwd = session.auth[keyid]
try:
    session.doquery(ntp.control.CTL_OP_WRITEVAR, associd=0, qdata=data, auth=True)
    print("written; answer %s" % ("verified" if session._authpass else "NOT verified"))
except ntp.packet.ControlException as e:
    print(e.message.strip())
"#;

/// ntpbox ntpd on port 123 of its own namespace, stopped by PID when
/// dropped (before the namespace goes).
struct Daemon {
    ntpd: daemon::Daemon,
    /// The keys files.
    dir: tempfile::TempDir,
    netns: Netns,
}

impl Daemon {
    /// ntpd with the keys of [`KEYS`], all trusted, and `controlkey
    /// CONTROL`, synchronised to its local clock. None when the peers or
    /// namespaces are not available (after `skip_or_fail`).
    fn start(control: u32) -> Option<Daemon> {
        if !peers::available() {
            common::skip_or_fail(peers::MISSING);
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("ntpbox-ntpsec-auth")
            .tempdir()
            .unwrap();
        let keys = private_file(dir.path(), "ntp.keys", KEYS);
        private_file(dir.path(), "wrong.keys", WRONG_KEYS);
        let conf = format!(
            "{LOCAL_CLOCK_10}keys {}\ntrustedkey 1 2 3 4\ncontrolkey {control}\n",
            keys.display()
        );
        let netns = Netns::new().expect("a network namespace");
        let program = netns.command(common::applet_dir().join("ntpd"));
        let mut d = Daemon {
            ntpd: daemon::Daemon::launch(program, &conf, NTP_PORT, &[]),
            dir,
            netns,
        };
        d.wait_until(
            |d| d.ntpq(&["-c", "rv 0 leap"]).stdout == "leap=00\n",
            "synchronised to its local clock",
        );
        Some(d)
    }

    fn log(&self) -> String {
        self.ntpd.log()
    }

    fn wait_until(&mut self, done: impl Fn(&Daemon) -> bool, what: &str) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                self.ntpd.is_running(),
                "ntpd exited before {what}:\n{}",
                self.log()
            );
            assert!(start.elapsed() < PATIENCE, "not {what}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&self) -> PathBuf {
        self.dir.path().join("ntp.keys")
    }

    fn wrong_keys(&self) -> PathBuf {
        self.dir.path().join("wrong.keys")
    }

    /// ntpsec's ntpq ARGS against 127.0.0.1 in the namespace.
    fn ntpq(&self, args: &[&str]) -> Ran {
        let mut cmd = self.netns.command(peers::ntpq());
        cmd.args(args).arg("127.0.0.1");
        ran(&format!("ntpq {}", args.join(" ")), &mut cmd)
    }

    /// ntpsec's ntpq signing with KEY of KEYS (its keys file, `-a`, and
    /// `passwd`, which reads the secret from that file), then COMMANDS.
    fn signed_ntpq(&self, keys: &Path, key: u32, commands: &[&str]) -> Ran {
        let key = key.to_string();
        let keys = keys.to_str().unwrap();
        let mut args = vec!["-a", &key, "-k", keys, "-c", "passwd"];
        for c in commands {
            args.extend(["-c", c]);
        }
        self.ntpq(&args)
    }

    /// A WRITEVAR of DATA at association 0 through ntpsec's library.
    fn ntpsec_writevar(&self, keys: &Path, key: u32, data: &str) -> Ran {
        let lib = peers::dir().join("python3-ntp/usr/lib");
        let mut cmd = self.netns.command("/usr/bin/python3");
        cmd.arg("-c")
            .arg(WRITEVAR_PY)
            .arg(keys)
            .arg(key.to_string())
            .arg(data)
            .env("PYTHONPATH", lib.join("python3/dist-packages"))
            .env("LD_LIBRARY_PATH", ntpc_library_dir(&lib));
        ran(&format!("ntpsec writevar key {key} {data}"), &mut cmd)
    }

    /// `leap` as ntpsec's ntpq reads it, unauthenticated.
    fn leap(&self) -> String {
        let out = self.ntpq(&["-c", "rv 0 leap"]);
        assert_eq!(out.code, Some(0));
        out.stdout
    }
}

/// The folder of ntpsec's libntpc.so (`x86_64-linux-gnu/ntp` on amd64).
fn ntpc_library_dir(lib: &Path) -> PathBuf {
    std::fs::read_dir(lib)
        .expect("ntpsec's python3-ntp")
        .flatten()
        .map(|e| e.path().join("ntp"))
        .find(|d| d.join("libntpc.so.1").exists() || d.join("libntpc.so").exists())
        .unwrap_or_else(|| panic!("no libntpc in {}", lib.display()))
}

#[test]
fn ntpsec_ntpq_signed_reads_are_answered_signed_with_each_trusted_key() {
    let Some(d) = Daemon::start(2) else {
        return;
    };
    for (key, name) in KEY_IDS {
        let out = d.signed_ntpq(&d.keys(), key, &["authenticate yes", "rv 0 leap,stratum"]);
        // No `AUTH - ...` on stderr: ntpsec verified the answer's MAC.
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str(), out.code),
            (
                &*format!("{AUTHENTICATING}leap=00, stratum=10\n"),
                "",
                Some(0)
            ),
            "key {key} ({name})"
        );
    }
    // A wrong secret: ntpd cannot verify the request and answers unsigned,
    // which ntpsec's ntpq reports (the 16 bytes of `leap=00` padded, short
    // of the 36 a MAC needs).
    let out = d.signed_ntpq(&d.wrong_keys(), 2, &["authenticate yes", "rv 0 leap"]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        (
            &*format!("{AUTHENTICATING}leap=00\n"),
            "AUTH - packet too short for MAC 16 < 36\n"
        )
    );
}

#[test]
fn ntpsec_ntpq_config_is_refused_in_signed_words_with_the_control_key() {
    let Some(d) = Daemon::start(3) else {
        return;
    };
    let config = ":config server 10.0.0.1 iburst";
    let out = d.signed_ntpq(&d.keys(), 3, &[config]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str(), out.code),
        (NO_RUNTIME_CONFIG, "", Some(0)),
        "the control key (AES128CMAC), answer verified by ntpsec"
    );
    for (keys, key) in [(d.keys(), 1), (d.keys(), 2), (d.wrong_keys(), 3)] {
        let out = d.signed_ntpq(&keys, key, &[config]);
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str(), out.code),
            ("", PERMISSION, Some(0)),
            "key {key} of {}",
            keys.display()
        );
    }
    // Without a key ntpsec's ntpq sends nothing.
    let out = d.ntpq(&["-c", config]);
    assert_eq!(out.stderr, "***Invalid key identifier\n");
    assert!(!d.log().contains("leap warning"), "{}", d.log());
    // Only the control key's attempt is logged, once.
    let refused = d
        .log()
        .lines()
        .filter(|l| l.contains("runtime configuration refused (not supported)"))
        .count();
    assert_eq!(refused, 1, "{}", d.log());
}

#[test]
fn ntpsec_writes_leap_with_the_control_key_whatever_its_algorithm() {
    // (control key, the value written, what `rv 0 leap` then shows, the
    // word ntpd logs)
    let cases = [
        (1, "leap=01", "leap=01\n", "AddSecond"),
        (2, "leap=2", "leap=10\n", "DeleteSecond"),
        (3, "leap=01", "leap=01\n", "AddSecond"),
    ];
    for (control, write, shown, logged) in cases {
        let Some(d) = Daemon::start(control) else {
            return;
        };
        // ntpsec's ntpq's own writevar sends nothing and changes nothing.
        let out = d.signed_ntpq(&d.keys(), control, &[&format!("writevar 0 {write}")]);
        assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
        assert_eq!(d.leap(), "leap=00\n");
        // A wrong secret for the control key, then every other trusted
        // key: refused, and nothing changes.
        let refused = d.ntpsec_writevar(&d.wrong_keys(), control, write);
        assert_eq!(refused.stdout, PERMISSION);
        for (other, _) in KEY_IDS.iter().filter(|&&(k, _)| k != control) {
            let refused = d.ntpsec_writevar(&d.keys(), *other, write);
            assert_eq!(refused.stdout, PERMISSION, "key {other}");
        }
        assert_eq!(d.leap(), "leap=00\n");
        // The control key: taken, and the signed answer verifies.
        let out = d.ntpsec_writevar(&d.keys(), control, write);
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str(), out.code),
            ("written; answer verified\n", "", Some(0)),
            "control key {control}"
        );
        assert_eq!(d.leap(), shown, "control key {control}");
        assert!(
            d.log().contains(&format!("leap warning set to {logged}")),
            "{}",
            d.log()
        );
    }
}
