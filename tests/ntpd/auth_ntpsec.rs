//! ntpsec ntpd and ntpbox ntpd authenticating each other with symmetric
//! keys of each type ntpsec has: MD5, SHA1 and AES128CMAC, in the common
//! keys-file format (`ID TYPE SECRET`).
//!
//! ntpsec serves and polls only on port 123 and refuses 127.0.0.0/8
//! upstreams (and an orphan parent's refid 127.0.0.1 is a loop over
//! loopback), so each test has a namespace of its own with a veth pair
//! carrying documentation addresses (198.51.100.0/24): one address per
//! association, so one daemon pair covers the three key types at once.
//! Everything runs with `disable ntp` and without CAP_SYS_TIME.
//!
//! Both real servers drop a request whose MAC they cannot verify (ntpsec
//! always; ntpbox under `restrict notrust`), so a wrong secret shows on the
//! client as silence (reach 0) and on the server as a counted failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{self, peers};
use crate::daemon::Daemon;

/// One test key: the same ID, type and secret go into both daemons' files.
struct TestKey {
    id: u32,
    kind: &'static str,
    secret: &'static str,
    /// The same type, another secret: what the side with the wrong key has.
    wrong: &'static str,
}

/// MD5 with an ASCII secret (20 characters, the most classic allows),
/// SHA1 with 40 hex digits, AES128CMAC with 32 hex digits (its 16 bytes).
const KEYS: [TestKey; 3] = [
    TestKey {
        id: 1,
        kind: "MD5",
        secret: "ntpbox-md5-secret-20",
        wrong: "ntpbox-md5-secret-XX",
    },
    TestKey {
        id: 2,
        kind: "SHA1",
        secret: "8e5fe734fa6d6dabb52319633953a66dd7cd87ff",
        wrong: "5e5fe734fa6d6dabb52319633953a66dd7cd87ff",
    },
    TestKey {
        id: 3,
        kind: "AES128CMAC",
        secret: "2b7e151628aed2a6abf7158809cf4f3c",
        wrong: "3b7e151628aed2a6abf7158809cf4f3c",
    },
];

/// In the ntpsec-as-client test, key ID + this offset is the same type as
/// the key, known to both sides with different secrets.
const WRONG_ID_OFFSET: u32 = 10;

/// Poll options for the associations: iburst, then every 8-16 s.
const FAST_POLL: &str = "iburst minpoll 3 maxpoll 4";
/// iburst gets the first samples within seconds; selection needs a few.
const SYNC_WAIT: Duration = Duration::from_secs(45);
/// How long a client with wrong secrets gets: the right ones synchronise
/// in about 6 s (ntpbox) or 9 s (ntpsec), so this is time enough to have
/// synchronised had a reply been accepted.
const WRONG_SECRET_WAIT: Duration = Duration::from_secs(12);
/// Pause between looks at a daemon's state.
const POLL_PAUSE: Duration = Duration::from_millis(500);
/// The NTP port: ntpsec polls servers only there.
const NTP_PORT: u16 = 123;
/// Where ntpbox serves in the namespace whose port 123 ntpsec has.
const NTPBOX_PORT: u16 = 1123;
/// ...and the ntpbox with the wrong secrets, beside it.
const NTPBOX_WRONG_PORT: u16 = 1124;
/// ntpsec's refid as `ntpq -n` shows it for ntpbox's LOCAL(0) at stratum
/// 10: the four bytes of "LOCL" as a dotted quad.
const LOCL_AS_QUAD: &str = "76.79.67.76";
/// The orphan parent's refid (ntpsec serving from `tos orphan 10`).
const ORPHAN_REFID: &str = "127.0.0.1";

/// `198.51.100.N`, a documentation address on the test's own veth pair.
fn doc_addr(n: u32) -> String {
    format!("198.51.100.{n}")
}

/// A fresh namespace with a veth pair whose end v0 carries 198.51.100.N
/// for each N: addresses that are not loopback, reachable only inside it.
fn namespace_with_addresses(hosts: &[u32]) -> Arc<peers::Netns> {
    let netns = Arc::new(peers::Netns::new().expect("a network namespace"));
    let ip = |args: &[&str]| {
        let status = Command::new("ip")
            .args(["-n", netns.name()])
            .args(args)
            .status()
            .expect("run ip");
        assert!(status.success(), "ip {args:?}");
    };
    ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    for &n in hosts {
        ip(&["addr", "add", &format!("{}/24", doc_addr(n)), "dev", "v0"]);
    }
    ip(&["link", "set", "v0", "up"]);
    ip(&["link", "set", "v1", "up"]);
    netns
}

/// Writes a keys file readable by its owner only: `(id, type, secret)`.
fn keys_file(dir: &Path, name: &str, keys: &[(u32, &str, &str)]) -> PathBuf {
    let path = dir.join(name);
    let text: String = keys
        .iter()
        .map(|(id, kind, secret)| format!("{id} {kind} {secret}\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    path
}

/// Runs a command to completion and returns its stdout (stderr is kept
/// for the panic message when it fails).
fn stdout_of(mut command: Command) -> String {
    let out = command.output().expect("run a query tool");
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One row of `ntpq -pn` (either ntpq): the tally character and the
/// columns remote, refid, st, t, when, poll, reach, ...
#[derive(Debug)]
struct PeerRow {
    tally: char,
    columns: Vec<String>,
}

impl PeerRow {
    fn remote(&self) -> &str {
        &self.columns[0]
    }
    fn refid(&self) -> &str {
        &self.columns[1]
    }
    fn stratum(&self) -> &str {
        &self.columns[2]
    }
    fn kind(&self) -> &str {
        &self.columns[3]
    }
    fn reach(&self) -> &str {
        &self.columns[6]
    }
}

/// The association rows of `ntpq -pn` output, after the `====` rule.
fn peer_rows(text: &str) -> Vec<PeerRow> {
    text.lines()
        .skip_while(|l| !l.starts_with("===="))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let mut chars = l.chars();
            let tally = chars.next().unwrap_or(' ');
            PeerRow {
                tally,
                columns: chars
                    .as_str()
                    .split_whitespace()
                    .map(String::from)
                    .collect(),
            }
        })
        .collect()
}

/// The row for REMOTE, with a readable panic when there is none.
fn row_for<'a>(rows: &'a [PeerRow], remote: &str, text: &str) -> &'a PeerRow {
    rows.iter()
        .find(|r| r.remote() == remote)
        .unwrap_or_else(|| panic!("no {remote} row in:\n{text}"))
}

/// Whether the rows for the three good addresses are one `*` and two `+`.
fn one_selected_two_candidates(rows: &[PeerRow], remotes: &[String]) -> bool {
    let tallies: Vec<char> = remotes
        .iter()
        .filter_map(|a| rows.iter().find(|r| r.remote() == a))
        .map(|r| r.tally)
        .collect();
    tallies.len() == remotes.len()
        && tallies.iter().filter(|&&t| t == '*').count() == 1
        && tallies.iter().filter(|&&t| t == '+').count() == remotes.len() - 1
}

/// The first number after `NAME:` in ntpsec's `ntpq -c authinfo` output.
fn authinfo_count(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {name:?} count in:\n{text}"))
}

/// The value of NAME in ntpsec's `ntpq -c rv` output (`NAME=VALUE,`).
/// Looked up by name: ntpsec's ntpq sometimes falls back to printing the
/// raw variable list on one line (when its filter-array formatting trips),
/// so line layout and the cooked forms are not stable, the values are.
fn variable<'a>(vars: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=");
    vars.split([',', '\n'])
        .map(str::trim)
        .find_map(|item| item.strip_prefix(&key))
}

/// The flash bits of ntpsec's `rv` output: cooked `flash=00 ok` or raw
/// `flash=0x0`, both hexadecimal.
fn flash_bits(vars: &str) -> u32 {
    let value = variable(vars, "flash").unwrap_or_else(|| panic!("no flash in:\n{vars}"));
    let hex = value.split_whitespace().next().unwrap_or_default();
    u32::from_str_radix(hex.trim_start_matches("0x"), 16)
        .unwrap_or_else(|e| panic!("flash={value}: {e}\n{vars}"))
}

/// ntpbox ntpd is a client of ntpsec ntpd with one server line per key
/// type (MD5, SHA1, AES128CMAC), each to its own address of the same
/// ntpsec: every association is reached, passes the MAC check and is a
/// candidate, and ntpbox serves at stratum 11 with one of them as refid.
/// ntpsec verified our signed requests of both kinds and failed none. A
/// second ntpbox with other secrets under the same key IDs then polls it:
/// ntpsec counts its requests as MAC failures and answers none of them, so
/// that ntpbox never synchronises (reach 0, stratum 16).
#[test]
fn ntpbox_synchronises_to_ntpsec_with_each_key_type_and_not_with_wrong_secrets() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let netns = namespace_with_addresses(&[1, 2, 3]);
    let dir = tempfile::tempdir().unwrap();
    let right: Vec<(u32, &str, &str)> = KEYS.iter().map(|k| (k.id, k.kind, k.secret)).collect();
    let wrong: Vec<(u32, &str, &str)> = KEYS.iter().map(|k| (k.id, k.kind, k.wrong)).collect();
    let keys = keys_file(dir.path(), "ntp.keys", &right);
    let wrong_keys = keys_file(dir.path(), "wrong.keys", &wrong);
    let trusted = format!(
        "trustedkey {}",
        KEYS.iter()
            .map(|k| k.id.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );

    let mut extra: Vec<String> = KEYS
        .iter()
        .map(|k| format!("interface listen {}", doc_addr(k.id)))
        .collect();
    extra.push(format!("keys {}", keys.display()));
    extra.push(trusted.clone());
    let ntpsec = peers::Ntpsec {
        netns: Some(Arc::clone(&netns)),
        extra,
        ..peers::Ntpsec::default()
    }
    .start()
    .expect("ntpsec starts");

    // Server K is 198.51.100.K, signed with key K.
    let ntpbox_conf = |keys: &Path| {
        let mut conf = format!("disable ntp\nkeys {}\n{trusted}\n", keys.display());
        for k in &KEYS {
            conf += &format!("server {} key {} {FAST_POLL}\n", doc_addr(k.id), k.id);
        }
        conf
    };
    let ntpd = || netns.command(common::applet_dir().join("ntpd"));
    let ntpq = || netns.command(common::applet_dir().join("ntpq"));
    let d = Daemon::launch(ntpd(), &ntpbox_conf(&keys), NTPBOX_PORT, &[]);
    let ntpbox_view = |d: &Daemon, args: &[&str]| {
        let mut command = ntpq();
        command.args(args).arg(d.addr().to_string());
        stdout_of(command)
    };

    // Synchronised: stratum 11 with a refid that is one of the servers,
    // and all three associations in the selection (one `*`, two `+`).
    let remotes: Vec<String> = KEYS.iter().map(|k| doc_addr(k.id)).collect();
    let deadline = Instant::now() + SYNC_WAIT;
    let (reply, peers_text) = loop {
        let reply = peers::query(Some(&netns), d.addr(), Duration::from_secs(1)).ok();
        let text = ntpbox_view(&d, &["-pn"]);
        if let Some(r) = reply.as_ref().filter(|r| r.leap == 0 && r.stratum == 11) {
            if one_selected_two_candidates(&peer_rows(&text), &remotes) {
                break (r.clone(), text);
            }
        }
        assert!(
            Instant::now() < deadline,
            "ntpbox never synchronised to ntpsec with keys (last reply {reply:?}):\n{text}\n{}\n{}",
            d.log(),
            ntpsec.log()
        );
        std::thread::sleep(POLL_PAUSE);
    };
    let rows = peer_rows(&peers_text);
    assert_eq!(rows.len(), KEYS.len(), "{peers_text}");
    let selected = rows.iter().find(|r| r.tally == '*').unwrap();
    assert_eq!(reply.refid_text(), selected.remote(), "{peers_text}");
    for k in &KEYS {
        let row = row_for(&rows, &doc_addr(k.id), &peers_text);
        assert_eq!(
            (row.refid(), row.stratum(), row.kind()),
            (ORPHAN_REFID, "10", "u"),
            "{peers_text}"
        );
        assert_ne!(row.reach(), "0", "{peers_text}");
        // The association's own variables: the key it uses, and no packet
        // test failed (a reply without a valid MAC would set pkt_auth).
        let vars = ntpbox_view(&d, &["-c", &format!("rv &{}", k.id)]);
        for expected in [
            format!("srcadr={},", doc_addr(k.id)),
            format!("keyid={},", k.id),
            "flash=00 ok,".to_string(),
        ] {
            assert!(
                vars.contains(&expected),
                "{} key: no {expected:?} in:\n{vars}",
                k.kind
            );
        }
    }
    // Our own `as`: every association keyed, reached and authentic.
    assert_eq!(
        auth_columns(&ntpbox_view(&d, &["-c", "as"])),
        vec![["yes", "yes", "ok"]; KEYS.len()]
    );
    assert!(
        d.log().contains(&format!(
            "synchronized to {}, stratum 11",
            selected.remote()
        )),
        "{}",
        d.log()
    );
    // ntpsec checked our MD5/SHA1 (digest) and AES-CMAC requests, and
    // every one of them passed.
    let authinfo = || {
        let mut command = ntpsec.command(peers::ntpq());
        command.args(["-c", "authinfo"]);
        stdout_of(command)
    };
    let before = authinfo();
    assert_eq!(
        authinfo_count(&before, "stored keys"),
        KEYS.len() as u64,
        "{before}"
    );
    assert!(
        authinfo_count(&before, "digest decryptions") >= 2,
        "{before}"
    );
    assert!(authinfo_count(&before, "CMAC decryptions") >= 1, "{before}");
    assert_eq!(authinfo_count(&before, "digest failures"), 0, "{before}");
    assert_eq!(authinfo_count(&before, "CMAC failures"), 0, "{before}");
    assert_eq!(authinfo_count(&before, "keys not found"), 0, "{before}");

    // The same key IDs with other secrets: ntpsec cannot verify the
    // requests and stays silent.
    let w = Daemon::launch(ntpd(), &ntpbox_conf(&wrong_keys), NTPBOX_WRONG_PORT, &[]);
    std::thread::sleep(WRONG_SECRET_WAIT);
    let reply = peers::query(Some(&netns), w.addr(), Duration::from_secs(1)).expect("a reply");
    assert_eq!((reply.leap, reply.stratum), (3, 16), "{}", w.log());
    assert!(!w.log().contains("synchronized to"), "{}", w.log());
    let text = ntpbox_view(&w, &["-pn"]);
    let rows = peer_rows(&text);
    assert_eq!(rows.len(), KEYS.len(), "{text}");
    for k in &KEYS {
        let row = row_for(&rows, &doc_addr(k.id), &text);
        assert_eq!(
            (row.tally, row.refid(), row.stratum(), row.reach()),
            (' ', ".INIT.", "16", "0"),
            "{text}"
        );
        let vars = ntpbox_view(&w, &["-c", &format!("rv &{}", k.id)]);
        for expected in [
            format!("keyid={},", k.id),
            "reach=000,".to_string(),
            "flash=1000 peer_unreach,".to_string(),
        ] {
            assert!(
                vars.contains(&expected),
                "{} key: no {expected:?} in:\n{vars}",
                k.kind
            );
        }
    }
    // Keyed, never reached, never authentic.
    assert_eq!(
        auth_columns(&ntpbox_view(&w, &["-c", "as"])),
        vec![["yes", "no", "bad"]; KEYS.len()]
    );
    let after = authinfo();
    // Each poll of the wrong ntpbox is one failure: two digest keys, one CMAC.
    assert!(authinfo_count(&after, "digest failures") >= 2, "{after}");
    assert!(authinfo_count(&after, "CMAC failures") >= 1, "{after}");
    assert_eq!(authinfo_count(&after, "keys not found"), 0, "{after}");
}

/// ntpsec ntpd is a client of ntpbox ntpd (LOCAL(0) at stratum 10,
/// `restrict default notrust`: only authenticated requests are answered).
/// ntpsec polls six addresses of the same ntpbox: key K (MD5, SHA1,
/// AES128CMAC) on 198.51.100.(3+K), with the secrets both share, and key
/// K+10 (the same types) on 198.51.100.(6+K), where ntpsec's secret differs
/// from ours. ntpsec finds our replies authentic under the shared keys and
/// selects us (one `*`, two `+`, `auth ok`); the other three are never
/// answered (`auth bad`, reach 0), and ntpbox counts them as refused.
#[test]
fn ntpsec_selects_ntpbox_with_each_key_type_and_rejects_wrong_secrets() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    // Where ntpbox serves key K's association, and the wrong one's.
    let good_addr = |k: &TestKey| doc_addr(3 + k.id);
    let bad_addr = |k: &TestKey| doc_addr(6 + k.id);
    // ntpsec polls from .1; ntpbox answers on .4 to .9.
    let netns = namespace_with_addresses(&[1, 4, 5, 6, 7, 8, 9]);
    let dir = tempfile::tempdir().unwrap();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for k in &KEYS {
        ours.push((k.id, k.kind, k.secret));
        theirs.push((k.id, k.kind, k.secret));
    }
    for k in &KEYS {
        ours.push((k.id + WRONG_ID_OFFSET, k.kind, k.secret));
        theirs.push((k.id + WRONG_ID_OFFSET, k.kind, k.wrong));
    }
    let trusted = format!(
        "trustedkey {}",
        ours.iter()
            .map(|(id, _, _)| id.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let our_keys = keys_file(dir.path(), "ntpbox.keys", &ours);
    let their_keys = keys_file(dir.path(), "ntpsec.keys", &theirs);

    // ntpbox on port 123 of its own addresses only: ntpsec has 127.0.0.1,
    // ::1 and 198.51.100.1.
    let mut conf = String::from(
        "disable ntp\ninterface ignore wildcard\ninterface ignore all\n\
         server 127.127.1.0\nfudge 127.127.1.0 stratum 10\nrestrict default notrust\n",
    );
    for k in &KEYS {
        conf += &format!(
            "interface listen {}\ninterface listen {}\n",
            good_addr(k),
            bad_addr(k)
        );
    }
    conf += &format!("keys {}\n{trusted}\n", our_keys.display());
    let program = netns.command(common::applet_dir().join("ntpd"));
    let mut d = Daemon::launch(program, &conf, NTP_PORT, &[]);

    let mut extra = vec![
        format!("interface listen {}", doc_addr(1)),
        format!("keys {}", their_keys.display()),
        trusted,
    ];
    for k in &KEYS {
        extra.push(format!("server {} key {} {FAST_POLL}", good_addr(k), k.id));
    }
    for k in &KEYS {
        let id = k.id + WRONG_ID_OFFSET;
        extra.push(format!("server {} key {id} {FAST_POLL}", bad_addr(k)));
    }
    // No orphan mode: ntpbox is its only source (an orphan stratum of 10
    // would also make a stratum-10 server unfit).
    let ntpsec = peers::Ntpsec {
        netns: Some(Arc::clone(&netns)),
        orphan_stratum: None,
        extra,
        ..peers::Ntpsec::default()
    }
    .start()
    .expect("ntpsec starts");
    let ntpsec_view = |args: &[&str]| {
        let mut command = ntpsec.command(peers::ntpq());
        command.args(args);
        stdout_of(command)
    };

    let remotes: Vec<String> = KEYS.iter().map(good_addr).collect();
    let deadline = Instant::now() + SYNC_WAIT;
    let peers_text = loop {
        let text = ntpsec_view(&["-pn"]);
        if one_selected_two_candidates(&peer_rows(&text), &remotes) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "ntpsec never selected ntpbox with keys:\n{text}\n{}\n{}",
            ntpsec.log(),
            d.log()
        );
        std::thread::sleep(POLL_PAUSE);
    };
    let rows = peer_rows(&peers_text);
    assert_eq!(rows.len(), 2 * KEYS.len(), "{peers_text}");
    for k in &KEYS {
        let row = row_for(&rows, &good_addr(k), &peers_text);
        assert_eq!(
            (row.refid(), row.stratum(), row.kind()),
            (LOCL_AS_QUAD, "10", "u"),
            "{peers_text}"
        );
        assert_ne!(row.reach(), "0", "{peers_text}");
        let row = row_for(&rows, &bad_addr(k), &peers_text);
        assert_eq!(
            (row.tally, row.refid(), row.stratum(), row.reach()),
            (' ', ".INIT.", "16", "0"),
            "{peers_text}"
        );
    }

    // ntpsec's association list, in configuration order: the three good
    // ones authentic, the three others enabled but never authentic.
    let as_text = ntpsec_view(&["-c", "as"]);
    let as_rows: Vec<Vec<&str>> = as_text
        .lines()
        .skip_while(|l| !l.starts_with("===="))
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .filter(|c: &Vec<&str>| c.len() >= 7)
        .collect();
    assert_eq!(as_rows.len(), 2 * KEYS.len(), "{as_text}");
    // ind assid status conf reach auth condition ...: the good ones
    // authentic, one of them the system peer (the `*` of `-pn` a moment
    // ago, unless ntpsec reselected in between: the count is what holds).
    let conditions: Vec<&str> = as_rows[..KEYS.len()].iter().map(|r| r[6]).collect();
    for (i, row) in as_rows.iter().enumerate() {
        let (expected, condition): ([&str; 3], &[&str]) = if i < KEYS.len() {
            (["yes", "yes", "ok"], &["sys.peer", "candidate"])
        } else {
            (["yes", "no", "bad"], &["reject"])
        };
        assert_eq!(row[3..6], expected, "association {}:\n{as_text}", i + 1);
        assert!(
            condition.contains(&row[6]),
            "association {}:\n{as_text}",
            i + 1
        );
    }
    assert_eq!(
        conditions.iter().filter(|&&c| c == "sys.peer").count(),
        1,
        "{as_text}"
    );
    for (i, k) in KEYS.iter().enumerate() {
        let vars = ntpsec_view(&["-c", &format!("rv &{}", i + 1)]);
        let good = good_addr(k);
        assert_eq!(variable(&vars, "srcadr"), Some(good.as_str()), "{vars}");
        assert_eq!(variable(&vars, "keyid"), Some(&*k.id.to_string()), "{vars}");
        assert_eq!(flash_bits(&vars), 0, "{} key:\n{vars}", k.kind);
        let vars = ntpsec_view(&["-c", &format!("rv &{}", i + 1 + KEYS.len())]);
        let id = (k.id + WRONG_ID_OFFSET).to_string();
        assert_eq!(variable(&vars, "keyid"), Some(id.as_str()), "{vars}");
        // Cooked `reach=000` (octal) or raw `reach=0x0`: nothing ever came.
        let reach = variable(&vars, "reach").unwrap_or_else(|| panic!("no reach:\n{vars}"));
        assert!(
            reach.trim_start_matches("0x").chars().all(|c| c == '0'),
            "{vars}"
        );
    }

    // ntpbox refused the requests it could not verify, and answered the others.
    d.stop_with(libc::SIGTERM);
    let log = d.log();
    let summary = log
        .lines()
        .find_map(|l| {
            l.split_once("ntpd exiting on signal 15 (Terminated): ")
                .map(|(_, s)| s)
        })
        .unwrap_or_else(|| panic!("no exit summary in:\n{log}"));
    let count = |what: &str| -> u64 {
        summary
            .split(", ")
            .find_map(|part| part.strip_suffix(what)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {what:?} in {summary:?}"))
    };
    assert!(count("replies") >= KEYS.len() as u64, "{summary}");
    assert!(count("refused") >= KEYS.len() as u64, "{summary}");
    assert_eq!(count("kiss-o'-death"), 0, "{summary}");
}

/// The conf, reach and auth columns of each row of `ntpq -c as`.
fn auth_columns(text: &str) -> Vec<[String; 3]> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            // ind assid status conf reach auth condition ...
            (words.len() >= 6 && words[0].parse::<u32>().is_ok())
                .then(|| [words[3], words[4], words[5]].map(String::from))
        })
        .collect()
}
