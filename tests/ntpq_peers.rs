//! ntpq in network namespaces: against ntpsec's ntpd on 127.0.0.1:123,
//! side by side with ntpsec's own ntpq asking the same daemon at the same
//! moment; with the default host `localhost` (both ::1 and 127.0.0.1);
//! and with host names looked up (only /etc/hosts answers in a namespace
//! holding nothing but `lo`).

mod common;
mod ntpq_responder;

#[path = "common/ntp_test_server.rs"]
mod ntp_test_server;

use std::fs::File;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ntp_test_server::{serve_until, Behaviour};

use common::peers::{self, LocalClock, Netns, Ntpsec, PeerGuard};
use common::run::logged as run;
use ntpq_responder::{Delivery, Reply, Request, Responder};

/// Our ntpq, with what it prints in a fixed zone.
fn ours(peer: &PeerGuard) -> Command {
    let mut cmd = peer.command(common::applet_dir().join("ntpq"));
    cmd.env("TZ", "UTC");
    cmd
}

fn theirs(peer: &PeerGuard) -> Command {
    peer.command(peers::ntpq())
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A row of a peers table, split into its columns.
#[derive(Debug)]
struct Row {
    tally: char,
    remote: String,
    refid: String,
    stratum: String,
    kind: String,
    poll: String,
    reach: String,
    when: String,
    numbers: [f64; 3],
}

fn rows(table: &str) -> Vec<Row> {
    table
        .lines()
        .skip(2)
        .map(|line| {
            let tally = line.chars().next().unwrap();
            let f: Vec<&str> = line[1..].split_whitespace().collect();
            assert_eq!(f.len(), 10, "peers row {line:?}");
            let n = |i: usize| f[i].parse::<f64>().unwrap();
            Row {
                tally,
                remote: f[0].to_string(),
                refid: f[1].to_string(),
                stratum: f[2].to_string(),
                kind: f[3].to_string(),
                when: f[4].to_string(),
                poll: f[5].to_string(),
                reach: f[6].to_string(),
                numbers: [n(7), n(8), n(9)],
            }
        })
        .collect()
}

/// ntpsec names its local clock `LOCAL(0)` once its driver is set up, and
/// `127.127.1.0` (type u) before: wait for the settled form, so that both
/// programs describe the same state.
fn settled_peers(peer: &PeerGuard) -> String {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let out = run("ntpsec ntpq -pn", theirs(peer).arg("-pn"));
        let table = text(&out);
        if table.contains("LOCAL(0)") || Instant::now() > deadline {
            return table;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The checks of `ntpq -p` against ntpsec's ntpq for the same daemon.
fn compare_peers(peer: &PeerGuard, args: &[&str], want_tally: char) {
    let theirs_table = settled_peers(peer);
    let out = run(&format!("ntpq {args:?}"), ours(peer).args(args));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let ours_table = text(&out);
    let lines: Vec<&str> = ours_table.lines().collect();
    assert_eq!(
        lines[0],
        "     remote           refid      st t when poll reach   delay   offset  jitter"
    );
    assert_eq!(lines[1], "=".repeat(78));
    let (a, b) = (rows(&ours_table), rows(&theirs_table));
    assert_eq!(a.len(), b.len(), "{ours_table}\n{theirs_table}");
    for (o, t) in a.iter().zip(&b) {
        assert_eq!(o.tally, want_tally, "{o:?}");
        assert_eq!(o.tally, t.tally);
        assert_eq!(
            (&o.remote, &o.refid, &o.stratum, &o.kind, &o.poll),
            (&t.remote, &t.refid, &t.stratum, &t.kind, &t.poll)
        );
        // Both read the same counters a moment apart.
        let reach = |r: &str| u32::from_str_radix(r, 8).unwrap();
        assert!(reach(&o.reach) & reach(&t.reach) != 0 || o.reach == t.reach);
        let when = |w: &str| w.parse::<i64>().unwrap_or(0);
        assert!((when(&o.when) - when(&t.when)).abs() <= 10, "{o:?} {t:?}");
        for (x, y) in o.numbers.iter().zip(t.numbers) {
            // Ours has three decimals, ntpsec's four.
            assert!((x - y).abs() <= 0.0006, "{o:?} {t:?}");
        }
    }
}

#[test]
fn peers_agree_with_ntpsec_ntpq_for_an_unselected_local_clock() {
    let Some(ntpsec) = Ntpsec {
        local_clock: Some(LocalClock {
            stratum: 10,
            noselect: true,
        }),
        ..Ntpsec::default()
    }
    .start() else {
        return common::skip_or_fail(peers::MISSING);
    };
    compare_peers(&ntpsec, &["-pn"], ' ');
    compare_peers(&ntpsec, &["-p"], ' ');
    compare_peers(&ntpsec, &["-n", "-c", "pe"], ' ');
}

/// A time server in a namespace (ntpsec will not take a loopback upstream,
/// so the lab's servers live on a veth link of the namespace).
struct NsServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl NsServer {
    fn start(ns: &Netns, addr: &str, behaviour: Behaviour) -> NsServer {
        let addr: SocketAddr = addr.parse().unwrap();
        let handle = File::open(format!("/run/netns/{}", ns.name())).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                // SAFETY: setns on a namespace file we hold open; it moves
                // only this thread, which then binds its socket there.
                let rc = unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns");
                serve_until(addr, behaviour, &stop).expect("bind the lab server");
            })
        };
        NsServer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for NsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Addresses of the lab (RFC 2544's benchmark range, as in the reference
/// lab), all on one veth interface of the namespace: ntpsec on .1, its
/// servers on .2 to .5.
const LAB_NET: [&str; 5] = [
    "198.18.0.1",
    "198.18.0.2",
    "198.18.0.3",
    "198.18.0.4",
    "198.18.0.5",
];

/// ntpsec with four servers: three that agree and one 350 ms off, so that
/// its selection gives a system peer, candidates and a falseticker.
fn lab() -> Option<(PeerGuard, Vec<NsServer>)> {
    if !peers::available() {
        return None;
    }
    let ns = Arc::new(Netns::new().unwrap());
    let ip = |args: &[&str]| {
        let status = Command::new("ip")
            .args(["-n", ns.name()])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "ip {args:?}");
    };
    // A veth pair with both ends in the namespace: a link that leads
    // nowhere else (this kernel has no dummy interfaces).
    ip(&[
        "link", "add", "lab0", "type", "veth", "peer", "name", "lab1",
    ]);
    for a in LAB_NET {
        ip(&["addr", "add", &format!("{a}/24"), "dev", "lab0"]);
    }
    ip(&["link", "set", "lab0", "up"]);
    ip(&["link", "set", "lab1", "up"]);
    let server = |offset: f64, stratum: u8, refid: [u8; 4]| Behaviour {
        offset,
        stratum,
        refid,
        ..Behaviour::default()
    };
    let servers = vec![
        NsServer::start(&ns, "198.18.0.2:123", server(0.0, 2, [10, 0, 0, 1])),
        NsServer::start(&ns, "198.18.0.3:123", server(0.0005, 3, [198, 18, 0, 2])),
        NsServer::start(&ns, "198.18.0.4:123", server(-0.0005, 1, *b"GPS\0")),
        NsServer::start(&ns, "198.18.0.5:123", server(0.350, 2, [10, 0, 0, 1])),
    ];
    let mut extra = vec![format!("interface listen {}", LAB_NET[0])];
    for a in &LAB_NET[1..] {
        extra.push(format!("server {a} minpoll 3 maxpoll 3 iburst"));
    }
    let ntpsec = Ntpsec {
        netns: Some(ns),
        extra,
        ..Ntpsec::default()
    }
    .start()?;
    Some((ntpsec, servers))
}

#[test]
fn tallies_of_a_lab_with_a_sys_peer_and_a_falseticker_agree_with_ntpsec() {
    let Some((ntpsec, _servers)) = lab() else {
        return common::skip_or_fail(peers::MISSING);
    };
    // Selection needs a few polls of each server.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let table = text(&run("ntpsec ntpq -pn", theirs(&ntpsec).arg("-pn")));
        let tallies: String = table
            .lines()
            .skip(2)
            .filter_map(|l| l.chars().next())
            .collect();
        if tallies.contains('*') && tallies.contains('x') {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no selection yet:\n{table}\n{}",
            ntpsec.log()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    // Both programs, row by row, a moment apart; the selection may move
    // between the two runs, so try a few times for a quiet moment.
    let mut agreed = false;
    for _ in 0..5 {
        let theirs_table = text(&run("ntpsec ntpq -pn", theirs(&ntpsec).arg("-pn")));
        let ours_table = text(&run("ntpq -pn", ours(&ntpsec).arg("-pn")));
        let (a, b) = (rows(&ours_table), rows(&theirs_table));
        assert_eq!(a.len(), b.len());
        let same = a.iter().zip(&b).all(|(o, t)| {
            o.tally == t.tally
                && (&o.remote, &o.refid, &o.stratum, &o.kind, &o.poll)
                    == (&t.remote, &t.refid, &t.stratum, &t.kind, &t.poll)
                && o.numbers
                    .iter()
                    .zip(t.numbers)
                    .all(|(x, y)| (x - y).abs() <= 0.0006)
        });
        if same {
            agreed = true;
            let tallies: String = a.iter().map(|r| r.tally).collect();
            assert!(
                tallies.contains('*') && tallies.contains('x'),
                "{ours_table}"
            );
            // The falseticker is the server 350 ms off.
            let x = a.iter().find(|r| r.tally == 'x').unwrap();
            assert_eq!(x.remote, "198.18.0.5");
            assert!((x.numbers[1] - 350.0).abs() < 5.0, "{x:?}");
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(agreed, "ntpbox's and ntpsec's peers tables never agreed");

    // The association table: the same IDs, conditions and status words.
    let mine = text(&run("ntpq -c as", ours(&ntpsec).args(["-c", "as"])));
    let them = text(&run(
        "ntpsec ntpq -c as",
        theirs(&ntpsec).args(["-c", "as"]),
    ));
    assert_eq!(stable_columns(&mine), stable_columns(&them));
    assert!(mine.contains(" sys.peer "), "{mine}");
    assert!(mine.contains(" falsetick "), "{mine}");

    // ntpstat: ntpbox's and Debian's say the same of this daemon.
    let stat = |p: std::path::PathBuf| {
        let out = ntpsec.command(p).output().unwrap();
        (text(&out), out.status.code())
    };
    let debian = stat(peers::ntpstat());
    let mine = stat(common::applet_dir().join("ntpstat"));
    assert_eq!(mine.1, debian.1, "{mine:?} {debian:?}");
    assert_eq!(mine.0.lines().next(), debian.0.lines().next());
}

/// `name=value` pairs of a raw readvar answer, after its status line.
fn raw_vars(text: &str) -> Vec<(String, String)> {
    let body = match text.find("status=0x") {
        Some(at) => text[at..].split_once('\n').map_or("", |(_, rest)| rest),
        None => text,
    };
    body.replace(['\n', '\r'], " ")
        .split(", ")
        .filter_map(|item| {
            let (n, v) = item.trim().split_once('=')?;
            Some((
                n.trim().to_string(),
                v.trim().trim_end_matches(',').to_string(),
            ))
        })
        .collect()
}

/// The columns of an association table that do not move between two
/// runs a moment apart (not the status word and the event columns).
fn stable_columns(table: &str) -> Vec<String> {
    table
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() == 9 && f[0].parse::<u32>().is_ok() {
                [f[0], f[1], f[3], f[4], f[5]].join(" ")
            } else {
                l.to_string()
            }
        })
        .collect()
}

#[test]
fn readvar_associations_and_summaries_agree_with_ntpsec_ntpq() {
    let Some(ntpsec) = Ntpsec {
        local_clock: Some(LocalClock {
            stratum: 10,
            noselect: true,
        }),
        ..Ntpsec::default()
    }
    .start() else {
        return common::skip_or_fail(peers::MISSING);
    };
    settled_peers(&ntpsec);

    // The status line, then the variables, in raw form for both programs:
    // the same variables, the same values for all that do not move.
    let mine = text(&run(
        "ntpq -c raw -c rv",
        ours(&ntpsec).args(["-c", "raw", "-c", "rv"]),
    ));
    let them = text(&run(
        "ntpsec ntpq -c raw -c rv",
        theirs(&ntpsec).args(["-c", "raw", "-c", "rv"]),
    ));
    assert!(
        mine.starts_with("Output set to raw\n\nassocid=0 status=0x0016,\n"),
        "{mine}"
    );
    let (a, b) = (raw_vars(&mine), raw_vars(&them));
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b));
    for name in [
        "leap",
        "stratum",
        "precision",
        "refid",
        "processor",
        "system",
        "version",
    ] {
        let get = |v: &[(String, String)]| v.iter().find(|(n, _)| n == name).cloned();
        assert_eq!(get(&a), get(&b), "{name}");
    }

    // Cooked: the classic status line and ntpq's wrapping.
    let cooked = text(&run("ntpq -c rv", ours(&ntpsec).args(["-c", "rv"])));
    let first = cooked.lines().next().unwrap();
    assert_eq!(
        first,
        "associd=0 status=0016 leap_none, sync_unspec, 1 event, restart,"
    );
    assert!(cooked.contains("leap=00, stratum=10,"), "{cooked}");
    assert!(cooked.lines().all(|l| l.len() <= 72), "{cooked}");

    let out = run(
        "ntpq -c rv 0 leap,stratum",
        ours(&ntpsec).args(["-c", "rv 0 leap,stratum"]),
    );
    assert_eq!(text(&out), "leap=00, stratum=10\n");

    // The association table is the same table.
    let mine = text(&run("ntpq -c as", ours(&ntpsec).args(["-c", "as"])));
    let them = text(&run(
        "ntpsec ntpq -c as",
        theirs(&ntpsec).args(["-c", "as"]),
    ));
    assert_eq!(stable_columns(&mine), stable_columns(&them));

    // Peer and clock variables of the first association.
    let rv1 = text(&run(
        "ntpq -c rv &1",
        ours(&ntpsec).args(["-n", "-c", "rv &1"]),
    ));
    assert!(
        rv1.contains("srcadr=127.127.1.0, srcport=123, dstadr=127.0.0.1,"),
        "{rv1}"
    );
    assert!(rv1.contains(", refid=LOCL,"), "{rv1}");
    let cv = text(&run("ntpq -c cv &1", ours(&ntpsec).args(["-c", "cv &1"])));
    assert!(
        cv.starts_with("associd=17767 status=0000 no events, clk_unspec,\nname=\"LOCAL\","),
        "{cv}"
    );
    assert!(cv.contains("refid=LOCL"), "{cv}");
    let mrv = text(&run(
        "ntpq -c mrv &1 &1 stratum",
        ours(&ntpsec).args(["-c", "mrv &1 &1 stratum"]),
    ));
    assert_eq!(mrv, "stratum=10\n");

    // Summaries: the labels of classic ntpq, ntpsec's numbers.
    let sysinfo = text(&run(
        "ntpq -c sysinfo",
        ours(&ntpsec).args(["-n", "-c", "sysinfo"]),
    ));
    assert!(sysinfo.contains("\nstratum:            10\n"), "{sysinfo}");
    assert!(
        sysinfo.contains("\nreference ID:       127.0.0.1\n"),
        "{sysinfo}"
    );
    for (cmd, line) in [
        ("kerninfo", "pll time constant:   "),
        ("sysstats", "packets received:     "),
        ("iostats", "packets sent:         "),
        ("monstats", "maximum addresses:  "),
        ("authinfo", "stored keys:     "),
    ] {
        let out = run(&format!("ntpq -c {cmd}"), ours(&ntpsec).args(["-c", cmd]));
        assert!(text(&out).contains(line), "{cmd}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{cmd}");
    }
}

#[test]
fn mrulist_against_ntpsec_lists_our_own_queries() {
    let Some(ntpsec) = peers::ntpsec_server() else {
        return common::skip_or_fail(peers::MISSING);
    };
    let out = run("ntpq -c mrulist", ours(&ntpsec).args(["-c", "mrulist"]));
    assert_eq!(out.status.code(), Some(0));
    let table = text(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "lstint avgint rstr r m v  count rport remote address"
    );
    assert_eq!(lines[1], "=".repeat(78));
    // Our own mode 6 requests (mode 6, version 2) from localhost.
    let own = lines
        .iter()
        .find(|l| l.ends_with(" localhost"))
        .unwrap_or_else(|| panic!("{table}"));
    let f: Vec<&str> = own.split_whitespace().collect();
    assert_eq!((f[3], f[4], f[5]), (".", "6", "2"), "{own}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("Ctrl-C will stop MRU retrieval"),
        "{stderr}"
    );
    assert!(stderr.contains("Retrieved "), "{stderr}");
}

/// A scripted server inside a fresh namespace, on ADDR.
fn responder_in(ns: &Netns, addr: &str, reply: Reply) -> Responder {
    let socket = ns
        .udp_socket(addr.parse::<SocketAddr>().unwrap())
        .expect("socket in the namespace");
    Responder::on(
        socket,
        Box::new(move |_: &Request| reply.clone()),
        Delivery::default(),
    )
}

fn in_ns(ns: &Netns, args: &[&str]) -> Output {
    let mut cmd = ns.command(common::applet_dir().join("ntpq"));
    cmd.args(args).env("TZ", "UTC");
    run(&format!("ntpq {args:?}"), &mut cmd)
}

#[test]
fn localhost_messages_when_nothing_answers_or_listens() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let empty = Netns::new().unwrap();
    for args in [&["-p"][..], &["-c", "rv"][..]] {
        let out = in_ns(&empty, args);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(text(&out), "");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "ntpq: read: Connection refused\n"
        );
    }
    // Something bound to 127.0.0.1:123 that never answers; localhost is
    // ::1 first, where nothing listens, so ntpq goes on to 127.0.0.1.
    let silent_ns = Netns::new().unwrap();
    let _silent = responder_in(&silent_ns, "127.0.0.1:123", Reply::Silent);
    let out = in_ns(&silent_ns, &["-c", "timeout 200", "-c", "rv"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "localhost: timed out, nothing received\n***Request timed out\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn names_come_from_the_hosts_file_unless_n() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let ns = Netns::new().unwrap();
    let socket = ns.udp_socket("127.0.0.1:123".parse().unwrap()).unwrap();
    let _server = Responder::on(
        socket,
        Box::new(|r: &Request| match r.opcode {
            1 => Reply::data(0, &[0x45, 0x67, 0x96, 0x14]),
            _ => Reply::data(
                0x9614,
                b"srcadr=127.0.0.1, srcport=123, dstadr=127.0.0.1, dstport=123, hmode=3, \
stratum=3, refid=198.18.0.9, ppoll=6, hpoll=6, reach=0x1, delay=0.1, offset=0.2, jitter=0.3",
            ),
        }),
        Delivery::default(),
    );
    let named = text(&in_ns(&ns, &["-p"]));
    assert_eq!(
        named.lines().nth(2),
        Some("*localhost       198.18.0.9       3 u    -   64    1    0.100    0.200   0.300")
    );
    let numeric = text(&in_ns(&ns, &["-pn"]));
    assert!(numeric
        .lines()
        .nth(2)
        .unwrap()
        .starts_with("*127.0.0.1       198.18.0.9"));
    // In readvar, srcadr is a host name and dstadr a number.
    let rv = text(&in_ns(&ns, &["-c", "rv &1"]));
    assert!(
        rv.contains("srcadr=localhost, srcport=123, dstadr=127.0.0.1,"),
        "{rv}"
    );
    let rv = text(&in_ns(&ns, &["-c", "hostnames no", "-c", "rv &1"]));
    assert!(rv.contains("srcadr=127.0.0.1, srcport=123"), "{rv}");
}

/// The reference lab's control key, SHA1 (shared/reference/ntpq-auth).
const CONTROL_KEY_HEX: &str = "8e5fe734fa6d6dabb52319633953a66dd7cd87ff";

#[test]
fn signed_ifstats_and_reslist_against_ntpsec_with_a_control_key() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let keys = tempfile::Builder::new()
        .prefix("ntpbox-ntpq-keys")
        .tempfile()
        .unwrap();
    std::fs::write(
        keys.path(),
        format!("1 SHA1 {CONTROL_KEY_HEX}\n2 MD5 ntpbox-md5-key\n"),
    )
    .unwrap();
    let keyfile = keys.path().display().to_string();
    let Some(ntpsec) = Ntpsec {
        extra: vec![
            format!("keys {keyfile}"),
            "trustedkey 1 2".to_string(),
            "controlkey 1".to_string(),
        ],
        ..Ntpsec::default()
    }
    .start() else {
        return common::skip_or_fail(peers::MISSING);
    };
    let passwd = format!("passwd {CONTROL_KEY_HEX}");
    let key = ["-c", "keyid 1", "-c", "keytype sha1", "-c", passwd.as_str()];
    let mut args = key.to_vec();
    args.extend(["-c", "ifstats"]);
    let out = run("ntpq ifstats", ours(&ntpsec).args(&args));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let table = text(&out);
    assert!(
        table.contains("\n  0 lo                       .    5 ")
            && table.contains("\n    127.0.0.1:123\n"),
        "{table}"
    );
    let them = text(&run(
        "ntpsec ntpq -a 1 -k KEYS -c ifstats",
        theirs(&ntpsec).args(["-a", "1", "-k", &keyfile, "-c", "ifstats"]),
    ));
    // The same interfaces with the same addresses.
    let addrs = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("    ") && l.trim().ends_with(":123"))
            .map(|l| l.trim().to_string())
            .collect()
    };
    assert_eq!(addrs(&table), addrs(&them));

    let mut args = key.to_vec();
    args.extend(["-c", "reslist"]);
    let out = run("ntpq reslist", ours(&ntpsec).args(&args));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let table = text(&out);
    assert!(
        table.contains("\n         0 0.0.0.0/0\n           "),
        "{table}"
    );
    assert!(
        table.contains(" 127.0.0.1/32\n           ntpport interface ignore\n"),
        "{table}"
    );

    // A key ntpsec trusts but that is not its control key.
    let out = run(
        "ntpq ifstats with key 2",
        ours(&ntpsec).args([
            "-c",
            "keyid 2",
            "-c",
            "passwd ntpbox-md5-key",
            "-c",
            "ifstats",
        ]),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "***Server disallowed request (authentication?)\n"
    );
}
