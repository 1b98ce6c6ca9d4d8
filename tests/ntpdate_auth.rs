//! `ntpdate -a KEYID -k KEYFILE`: signed requests, checked replies, and
//! the classic messages when keys are missing or wrong. Against a signing
//! server in this process (always), chronyd on the host's loopback and
//! NTPsec ntpd in a namespace of its own (with the peers), for MD5, SHA1,
//! SHA256 and AES128CMAC keys. Nothing here may set the clock: every run is
//! -q, under setpriv without CAP_SYS_TIME.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use common::peers::{self, Chronyd, Ntpsec};
use common::run::private_file;
use ntpbox::auth::{Algorithm, Keyring, Verdict};
use ntpbox::proto::{Header, Mode, NtpShort, NtpTimestamp, Packet, RefId, UnixTime};

/// One key, as each implementation's keys file writes it.
struct TestKey {
    id: u32,
    /// ntp.keys type (ntpbox, NTPsec).
    ntp_type: &'static str,
    /// chrony's name for the same algorithm.
    chrony_type: &'static str,
    hex: &'static str,
}

const KEYS: [TestKey; 4] = [
    TestKey {
        id: 1,
        ntp_type: "MD5",
        chrony_type: "MD5",
        hex: "6e747062 6f782d6d 64352d6b 6579 7878 7878 7878", // 20 bytes, as hex
    },
    TestKey {
        id: 2,
        ntp_type: "SHA1",
        chrony_type: "SHA1",
        hex: "8e5fe734fa6d6dabb52319633953a66dd7cd87ff",
    },
    TestKey {
        id: 3,
        ntp_type: "AES128CMAC",
        chrony_type: "AES128",
        hex: "2b7e151628aed2a6abf7158809cf4f3c",
    },
    TestKey {
        id: 4,
        ntp_type: "SHA256",
        chrony_type: "SHA256",
        hex: "00112233445566778899aabbccddeeff0011223344556677",
    },
];

fn hex_of(key: &TestKey) -> String {
    key.hex.split_whitespace().collect()
}

fn bytes_of(key: &TestKey) -> Vec<u8> {
    let h = hex_of(key);
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// The same keys with the secret of key `changed` altered.
fn ntp_keys_text(changed: Option<u32>) -> String {
    KEYS.iter()
        .map(|k| {
            let mut hex = hex_of(k);
            if Some(k.id) == changed {
                hex.replace_range(..2, if &hex[..2] == "ff" { "00" } else { "ff" });
            }
            format!("{} {} {hex}  # test key\n", k.id, k.ntp_type)
        })
        .collect()
}

fn chrony_keys_text() -> String {
    KEYS.iter()
        .map(|k| format!("{} {} HEX:{}\n", k.id, k.chrony_type, hex_of(k)))
        .collect()
}

/// Runs CMD in UTC (ntpdate's log lines carry local time).
fn run(label: &str, cmd: &mut Command) -> Output {
    common::run::logged(label, cmd.env("TZ", "UTC"))
}

/// Lines with the `DD Mon HH:MM:SS ntpdate[PID]: ` prefix taken off.
fn messages(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| match l.split_once(" ntpdate[") {
            Some((_, rest)) => rest.split_once("]: ").map_or(l, |(_, m)| m).to_string(),
            None => l.to_string(),
        })
        .collect()
}

fn ntpdate_path() -> PathBuf {
    common::applet_dir().join("ntpdate")
}

/// Checks a successful `-q` run: the server line and the adjust line.
fn assert_authenticated_query(out: &Output, addr: &str, stratum: u8) {
    let stdout = messages(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout:?} {:?}",
        messages(&out.stderr)
    );
    assert_eq!(messages(&out.stderr), Vec::<String>::new());
    assert_eq!(stdout.len(), 2, "{stdout:?}");
    assert!(
        stdout[0].starts_with(&format!("server {addr}, stratum {stratum}, offset ")),
        "{stdout:?}"
    );
    assert!(
        stdout[1].starts_with(&format!("adjust time server {addr} offset ")),
        "{stdout:?}"
    );
}

/// Checks the failure of a run whose every reply failed authentication.
fn assert_untrusted(out: &Output, addr: &str, why: &str) {
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(messages(&out.stdout), Vec::<String>::new());
    assert_eq!(
        messages(&out.stderr),
        [
            format!("{addr}: Server dropped: Server is untrusted ({why})"),
            "no server suitable for synchronization found".to_string(),
        ]
    );
}

/// Checks the failure of a run whose requests a server dropped, as real
/// servers do when they cannot verify the MAC.
fn assert_silent_about_key(out: &Output, addr: &str, key: u32) {
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(messages(&out.stdout), Vec::<String>::new());
    assert_eq!(
        messages(&out.stderr),
        [
            format!(
                "{addr}: no reply (2 requests timed out; servers do not answer requests they \
                 cannot authenticate: is key {key} the same there?)"
            ),
            "no server suitable for synchronization found".to_string(),
        ]
    );
}

// ---------------------------------------------------------------------------
// A signing server in this process.

#[derive(Clone, Copy, PartialEq)]
enum Answer {
    /// Signed with the key the request used.
    Signed,
    /// Signed, then one MAC byte flipped.
    Corrupted,
    /// A crypto-NAK, as ntpd sends when it cannot verify a request.
    CryptoNak,
    /// No MAC at all.
    Unsigned,
}

/// Every request a server got, and how it verified with the server's keys.
type Seen = Arc<Mutex<Vec<(Vec<u8>, Verdict)>>>;

struct SigningServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Seen,
    thread: Option<JoinHandle<()>>,
}

impl SigningServer {
    fn start(answer: Answer) -> SigningServer {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut ring = Keyring::new();
        for k in &KEYS {
            let algorithm = Algorithm::from_name(k.ntp_type).unwrap();
            ring.insert(k.id, algorithm, &bytes_of(k)).unwrap();
            ring.trust(k.id);
        }
        let thread = {
            let (stop, seen) = (stop.clone(), seen.clone());
            std::thread::spawn(move || serve(socket, ring, answer, &stop, &seen))
        };
        SigningServer {
            addr,
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn requests(&self) -> Vec<(Vec<u8>, Verdict)> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for SigningServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn now() -> NtpTimestamp {
    NtpTimestamp::from_unix(UnixTime::from_system_time(SystemTime::now()))
}

fn serve(
    socket: UdpSocket,
    ring: Keyring,
    answer: Answer,
    stop: &AtomicBool,
    seen: &Mutex<Vec<(Vec<u8>, Verdict)>>,
) {
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::SeqCst) {
        let Ok((len, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let received = now();
        let bytes = &buf[..len];
        let verdict = ring.verify_packet(bytes);
        seen.lock().unwrap().push((bytes.to_vec(), verdict));
        let Ok(request) = Packet::decode(bytes) else {
            continue;
        };
        let reply = Header {
            version: request.header.version,
            mode: Mode::Server,
            stratum: 2,
            precision: -20,
            root_dispersion: NtpShort::from_secs_f64(0.001),
            reference_id: RefId([127, 0, 0, 1]),
            reference_ts: received,
            origin_ts: request.header.transmit_ts,
            receive_ts: received,
            transmit_ts: now(),
            ..Header::default()
        };
        let mut wire = Packet::new(reply).to_vec();
        let head = wire.clone();
        match (answer, verdict) {
            (Answer::Unsigned, _) => {}
            (Answer::CryptoNak, _) => wire.extend_from_slice(&[0; 4]),
            (_, Verdict::Authentic(id)) => {
                ring.sign(id, &head, &mut wire).unwrap();
                if answer == Answer::Corrupted {
                    *wire.last_mut().unwrap() ^= 1;
                }
            }
            // What a real server does with a request it cannot verify.
            _ => wire.extend_from_slice(&[0; 4]),
        }
        let _ = socket.send_to(&wire, from);
    }
}

fn ntpdate_q(args: &[&str]) -> Output {
    run(
        &format!("ntpdate {}", args.join(" ")),
        peers::guarded(ntpdate_path())
            .args(["-q", "-p", "2", "-t", "0.5"])
            .args(args),
    )
}

#[test]
fn requests_carry_the_key_id_and_a_mac_the_server_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let keys = private_file(dir.path(), "ntp.keys", &ntp_keys_text(None));
    for key in &KEYS {
        let server = SigningServer::start(Answer::Signed);
        let addr = server.addr.to_string();
        let id = key.id.to_string();
        let out = ntpdate_q(&["-a", &id, "-k", keys.to_str().unwrap(), &addr]);
        assert_authenticated_query(&out, &addr, 2);
        let requests = server.requests();
        assert_eq!(requests.len(), 2, "-p 2: two requests");
        let algorithm = Algorithm::from_name(key.ntp_type).unwrap();
        for (bytes, verdict) in requests {
            assert_eq!(verdict, Verdict::Authentic(key.id), "{}", key.ntp_type);
            assert_eq!(bytes.len(), 48 + 4 + algorithm.mac_len());
            assert_eq!(&bytes[48..52], &key.id.to_be_bytes());
        }
    }
}

#[test]
fn without_a_key_requests_stay_48_bytes() {
    let server = SigningServer::start(Answer::Unsigned);
    let addr = server.addr.to_string();
    assert_authenticated_query(&ntpdate_q(&[&addr]), &addr, 2);
    let requests = server.requests();
    assert!(requests
        .iter()
        .all(|(b, v)| b.len() == 48 && *v == Verdict::NoMac));
}

#[test]
fn replies_that_fail_authentication_are_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let keys = private_file(dir.path(), "ntp.keys", &ntp_keys_text(None));
    let keys = keys.to_str().unwrap();
    for (answer, why) in [
        (
            Answer::CryptoNak,
            "crypto-NAK: the server could not authenticate our request \
             (it has no key 2, or a different one)",
        ),
        (
            Answer::Corrupted,
            "the MAC does not verify with key 2 (is the secret the same there?)",
        ),
        (Answer::Unsigned, "the reply carries no MAC"),
    ] {
        let server = SigningServer::start(answer);
        let addr = server.addr.to_string();
        let out = ntpdate_q(&["-a", "2", "-k", keys, &addr]);
        assert_untrusted(&out, &addr, why);
        assert_eq!(server.requests().len(), 2, "each request answered once");
    }
}

#[test]
fn debug_output_says_why_a_reply_failed() {
    let dir = tempfile::tempdir().unwrap();
    let keys = private_file(dir.path(), "ntp.keys", &ntp_keys_text(None));
    let server = SigningServer::start(Answer::Corrupted);
    let addr = server.addr.to_string();
    let out = run(
        "ntpdate -d -a 3",
        peers::guarded(ntpdate_path())
            .args(["-d", "-p", "1", "-a", "3", "-k"])
            .arg(&keys)
            .arg(&addr),
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = messages(&out.stdout);
    let expected = format!(
        "receive({addr}): authentication failed: the MAC does not verify with key 3 \
         (is the secret the same there?)"
    );
    assert!(stdout.contains(&expected), "{stdout:?}");
    // The server block says so too, with classic's trust register.
    assert!(
        stdout.contains(
            &"no authentic reply: transmitted 1, trust 001: the MAC does not verify with key 3 \
              (is the secret the same there?)"
                .to_string()
        ),
        "{stdout:?}"
    );
}

#[test]
fn missing_unknown_and_broken_keys_are_classic_errors() {
    // No server needed: the keys are read before anything is sent.
    let dir = tempfile::tempdir().unwrap();
    let good = private_file(dir.path(), "ntp.keys", "1 MD5 secret\n");
    let missing = dir.path().join("absent.keys");
    let broken = private_file(
        dir.path(),
        "broken.keys",
        "1 MD5 secret\n2 SHA1\n3 FOO x\n1 SHA1 again\n",
    );
    let open = dir.path().join("open.keys");
    std::fs::write(&open, ntp_keys_text(None)).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    let server = SigningServer::start(Answer::Signed);
    let addr = server.addr.to_string();

    let cases: [(&Path, &str, Vec<String>); 3] = [
        (
            &missing,
            "1",
            vec![
                format!(
                    "authreadkeys: file '{}': No such file or directory",
                    missing.display()
                ),
                format!("no key file <{}>, exiting", missing.display()),
            ],
        ),
        (&good, "7", vec!["authentication key 7 unknown".to_string()]),
        (
            &broken,
            "1",
            vec![
                format!(
                    "{}:2: key 2: no key (expected KEYID TYPE KEY)",
                    broken.display()
                ),
                format!(
                    "{}:3: warning: key 3: unknown key type \"FOO\" (known: MD5, SHA1, SHA224, \
                     SHA256, SHA384, SHA512, AES128CMAC); key ignored",
                    broken.display()
                ),
                format!(
                    "{}:4: key 1 is defined again (first on line 1); give each key its own ID",
                    broken.display()
                ),
                format!(
                    "authreadkeys: rejecting file '{}' after 2 error(s)",
                    broken.display()
                ),
                format!("no key file <{}>, exiting", broken.display()),
            ],
        ),
    ];
    for (file, key, expected) in cases {
        let out = ntpdate_q(&["-a", key, "-k", file.to_str().unwrap(), &addr]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(messages(&out.stdout), Vec::<String>::new());
        assert_eq!(messages(&out.stderr), expected);
    }
    assert!(server.requests().is_empty(), "nothing was sent");

    // A keys file every user can read works, with a warning.
    let out = ntpdate_q(&["-a", "1", "-k", open.to_str().unwrap(), &addr]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        messages(&out.stderr),
        [format!(
            "{}: warning: every user can read this keys file (mode 0644), and so forge \
             authenticated packets; make it readable by root only (chmod 600)",
            open.display()
        )]
    );
}

// ---------------------------------------------------------------------------
// Real peers.

#[test]
fn chronyd_answers_authenticated_requests_with_each_key_type() {
    let port = common::free_udp_port();
    let dir = tempfile::tempdir().unwrap();
    let chrony_keys = private_file(dir.path(), "chrony.keys", &chrony_keys_text());
    let mut chronyd = Chronyd::new(port);
    chronyd
        .extra
        .push(format!("keyfile {}", chrony_keys.display()));
    let Some(_chronyd) = chronyd.start() else {
        return common::skip_or_fail(peers::MISSING);
    };
    let addr = format!("127.0.0.1:{port}");
    let keys = private_file(dir.path(), "ntp.keys", &ntp_keys_text(None));
    for key in &KEYS {
        let id = key.id.to_string();
        let out = ntpdate_q(&["-a", &id, "-k", keys.to_str().unwrap(), &addr]);
        assert_authenticated_query(&out, &addr, 10);
    }
    let wrong = private_file(dir.path(), "wrong.keys", &ntp_keys_text(Some(2)));
    let out = ntpdate_q(&["-a", "2", "-k", wrong.to_str().unwrap(), &addr]);
    // The same ID with another secret: chronyd drops the request.
    assert_silent_about_key(&out, &addr, 2);
}

#[test]
fn ntpsec_answers_authenticated_requests_with_each_key_type() {
    let dir = tempfile::tempdir().unwrap();
    let keys = private_file(dir.path(), "ntp.keys", &ntp_keys_text(None));
    let ntpsec = Ntpsec {
        extra: vec![
            format!("keys {}", keys.display()),
            "trustedkey 1 2 3 4".to_string(),
        ],
        ..Ntpsec::default()
    };
    let Some(ntpsec) = ntpsec.start() else {
        return common::skip_or_fail(peers::MISSING);
    };
    let keys_arg = keys.to_str().unwrap();
    for key in &KEYS {
        let id = key.id.to_string();
        let out = run(
            &format!("ntpdate -q -a {id} (ntpsec)"),
            ntpsec.command(ntpdate_path()).args([
                "-q",
                "-p",
                "2",
                "-t",
                "0.5",
                "-a",
                &id,
                "-k",
                keys_arg,
                "127.0.0.1",
            ]),
        );
        assert_authenticated_query(&out, "127.0.0.1", 10);
    }
    let wrong = private_file(dir.path(), "wrong.keys", &ntp_keys_text(Some(3)));
    let out = run(
        "ntpdate -q -a 3, another secret (ntpsec)",
        ntpsec.command(ntpdate_path()).args([
            "-q",
            "-p",
            "2",
            "-t",
            "0.5",
            "-a",
            "3",
            "-k",
            wrong.to_str().unwrap(),
            "127.0.0.1",
        ]),
    );
    // Like chronyd, NTPsec drops a request it cannot verify.
    assert_silent_about_key(&out, "127.0.0.1", 3);
    println!("{}", ntpsec.log());
}
