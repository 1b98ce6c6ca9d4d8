//! ntpbox ntpd serving mode 6 (ntpq, ntpstat):
//! * ntpsec's ntpq and Debian's ntpstat against it, each in a namespace of
//!   its own where the daemon serves 127.0.0.1:123 and [::1]:123 (those
//!   tools only talk to port 123);
//! * raw requests on the host's loopback (a spare port): errors, fragments,
//!   nonces, `restrict ... noquery`;
//! * the default policy for remote clients, from a second namespace joined
//!   to the daemon's by a veth pair (nothing else on either side).
//!
//! Every daemon runs with `disable ntp` and without CAP_SYS_TIME.

mod common;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::peers::{self, Netns};
use common::run::logged as run;
use ntpbox::proto::control::{error_code, opcode, ControlMessage, Reassembly};
use ntpbox::proto::status::{peer_bits, select, PeerStatus, SystemStatus};

const LOCAL_CLOCK_10: &str = "disable ntp\nserver 127.127.1.0\nfudge 127.127.1.0 stratum 10\n";
/// The line ntpd logs once its sockets are bound and it serves.
const READY_LINE: &str = "0.0.0.0 c016 06 restart";
/// How long a daemon gets to come up, and to synchronise to its local clock.
const PATIENCE: Duration = Duration::from_secs(10);
/// Loopback answers in microseconds; this is generous.
const REPLY_WAIT: Duration = Duration::from_secs(1);
/// How long "no reply" is waited for.
const SILENCE_WAIT: Duration = Duration::from_millis(400);
/// The NTP port, where ntpq and ntpstat look.
const NTP_PORT: u16 = 123;
/// ntpsec's `ntpq -p` header and rule.
const PEERS_HEADER: &str =
    "     remote           refid      st t when poll reach   delay   offset   jitter";
const PEERS_RULE_WIDTH: usize = 79;
/// How long a nonce is good for, and a little more.
const NONCE_EXPIRED_AFTER: Duration = Duration::from_millis(17_000);

/// A foreground ntpd (`-n`), stopped by PID when dropped.
struct Daemon {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    /// ntpd on a spare port of the host's loopback.
    fn start(conf: &str) -> Daemon {
        Daemon::launch(common::applet("ntpd"), conf, common::free_udp_port())
    }

    /// ntpd on port 123 inside NETNS.
    fn start_in(netns: &Netns, conf: &str) -> Daemon {
        let program = netns.command(common::applet_dir().join("ntpd"));
        Daemon::launch(program, conf, NTP_PORT)
    }

    fn launch(mut program: Command, conf: &str, port: u16) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("ntpbox-control")
            .tempdir()
            .unwrap();
        let conf_path = dir.path().join("ntp.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = dir.path().join("stderr");
        let child = program
            .args(["-n", "-c"])
            .arg(&conf_path)
            .args(["--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start ntpd");
        let mut d = Daemon {
            child,
            port,
            log,
            _dir: dir,
        };
        d.wait_for_log(READY_LINE);
        d
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_for_log(&mut self, needle: &str) {
        let start = Instant::now();
        while !self.log().contains(needle) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("ntpd exited ({status}) before {needle:?}:\n{}", self.log());
            }
            assert!(
                start.elapsed() < PATIENCE,
                "no {needle:?} in the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Our own child, by PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mode 6 client on one socket.
struct Client {
    socket: UdpSocket,
    server: SocketAddr,
    sequence: u16,
}

/// One whole answer.
#[derive(Debug)]
struct Answer {
    data: Vec<u8>,
    status: u16,
    association_id: u16,
    datagrams: Vec<Vec<u8>>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// name → value of a variable list answer.
    fn value(&self, name: &str) -> Option<String> {
        ntpbox::proto::varlist::parse(&self.data)
            .into_iter()
            .find(|v| v.name == name)
            .and_then(|v| v.value)
    }
}

impl Client {
    fn new(socket: UdpSocket, server: SocketAddr) -> Client {
        Client {
            socket,
            server,
            sequence: 0,
        }
    }

    fn on_loopback(server: SocketAddr) -> Client {
        Client::new(UdpSocket::bind("127.0.0.1:0").unwrap(), server)
    }

    fn send(&mut self, op: u8, assoc: u16, data: &[u8]) -> u16 {
        self.sequence += 1;
        let request = ControlMessage::request(op, self.sequence, assoc, data).to_vec();
        self.socket.send_to(&request, self.server).unwrap();
        self.sequence
    }

    /// Every datagram answering `sequence` until the answer is whole, an
    /// error arrives, or `wait` passes without one.
    fn collect(&self, sequence: u16, wait: Duration) -> Result<Answer, Collected> {
        let mut buf = [0u8; 2048];
        let mut r = Reassembly::new();
        let mut datagrams = Vec::new();
        self.socket.set_read_timeout(Some(wait)).unwrap();
        loop {
            let Ok((n, from)) = self.socket.recv_from(&mut buf) else {
                return Err(if datagrams.is_empty() {
                    Collected::Nothing
                } else {
                    Collected::Incomplete
                });
            };
            assert_eq!(from, self.server);
            let m = ControlMessage::decode(&buf[..n]).expect("a mode 6 datagram");
            assert!(m.response, "{m:?}");
            assert_eq!(n % 4, 0, "padded to 4 bytes");
            if m.sequence != sequence {
                continue;
            }
            datagrams.push(buf[..n].to_vec());
            if m.error {
                return Err(Collected::Error(m.status >> 8));
            }
            if let Some(data) = r.add(&m).expect("fragments fit") {
                return Ok(Answer {
                    data,
                    status: r.status,
                    association_id: r.association_id,
                    datagrams,
                });
            }
        }
    }

    fn ask(&mut self, op: u8, assoc: u16, data: &str) -> Result<Answer, Collected> {
        let sequence = self.send(op, assoc, data.as_bytes());
        self.collect(sequence, REPLY_WAIT)
    }

    fn answer(&mut self, op: u8, assoc: u16, data: &str) -> Answer {
        self.ask(op, assoc, data)
            .unwrap_or_else(|e| panic!("opcode {op} assoc {assoc} {data:?}: {e:?}"))
    }

    fn error(&mut self, op: u8, assoc: u16, data: &str) -> u16 {
        match self.ask(op, assoc, data) {
            Err(Collected::Error(code)) => code,
            other => panic!("opcode {op} {data:?}: expected an error, got {other:?}"),
        }
    }

    /// Nothing at all comes back.
    fn silence(&mut self, op: u8, assoc: u16, data: &str) -> bool {
        let sequence = self.send(op, assoc, data.as_bytes());
        matches!(
            self.collect(sequence, SILENCE_WAIT),
            Err(Collected::Nothing)
        )
    }

    /// A mode 3 request: the daemon's MRU list records us.
    fn time_request(&self) -> bool {
        let mut request = [0u8; 48];
        request[0] = 0x23;
        self.socket.send_to(&request, self.server).unwrap();
        self.socket.set_read_timeout(Some(REPLY_WAIT)).unwrap();
        let mut buf = [0u8; 128];
        matches!(self.socket.recv_from(&mut buf), Ok((48, _)))
    }
}

#[derive(Debug)]
enum Collected {
    Nothing,
    /// Some fragments, not all.
    Incomplete,
    Error(u16),
}

/// Waits until the daemon says it is synchronised (leap 0).
fn wait_synced(client: &mut Client) {
    let start = Instant::now();
    loop {
        if let Ok(a) = client.ask(opcode::READVAR, 0, "leap") {
            if a.value("leap").as_deref() == Some("0") {
                return;
            }
        }
        assert!(start.elapsed() < PATIENCE, "never synchronised");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// READSTAT: every association's ID and peer status word.
fn associations(client: &mut Client) -> Vec<(u16, u16)> {
    let a = client.answer(opcode::READSTAT, 0, "");
    assert_eq!(a.data.len() % 4, 0, "{:?}", a.data);
    a.data
        .chunks(4)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u16::from_be_bytes([c[2], c[3]]),
            )
        })
        .collect()
}

/// The only association of a daemon whose only source is its local clock
/// (association IDs start at a random number, as classic's do), and its
/// status word: configured, reachable, the system peer.
fn the_local_clock(client: &mut Client) -> (u16, u16) {
    let list = associations(client);
    assert_eq!(list.len(), 1, "{list:?}");
    let (id, status) = list[0];
    assert_ne!(id, 0);
    let s = PeerStatus::from_word(status);
    assert_eq!(
        (s.bits, s.select),
        (
            peer_bits::CONFIGURED | peer_bits::REACHABLE,
            select::SYS_PEER
        ),
        "{status:04x}"
    );
    (id, status)
}

/// A peer's reach register as the daemon sends it: hexadecimal with `0x`,
/// as classic and ntpsec write it (ctl_puthex); ntpq prints it in octal.
fn reach_of(client: &mut Client, id: u16) -> u8 {
    let a = client.answer(opcode::READVAR, id, "reach");
    let text = a.value("reach").expect("reach");
    let hex = text
        .strip_prefix("0x")
        .unwrap_or_else(|| panic!("reach={text}: not 0x hex"));
    u8::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("reach={text}: {e}"))
}

/// What a local clock that never misses a poll shows while its register
/// fills: 1, 3, 7, ... 377 (octal).
fn unbroken(reach: u8) -> bool {
    reach != 0 && reach & reach.wrapping_add(1) == 0
}

/// What the daemon says about its local clock association at one moment.
#[derive(Debug, PartialEq)]
struct Snapshot {
    id: u16,
    status: u16,
    reach: u8,
    system_status: u16,
}

fn snapshot(client: &mut Client) -> Snapshot {
    let (id, status) = the_local_clock(client);
    let reach = reach_of(client, id);
    assert!(unbroken(reach), "reach {reach:o}");
    let system_status = client.answer(opcode::READVAR, 0, "leap").status;
    Snapshot {
        id,
        status,
        reach,
        system_status,
    }
}

/// A raw mode 6 client inside NETNS, talking to the daemon on port 123.
fn netns_client(netns: &Netns) -> Client {
    let socket = netns
        .udp_socket("127.0.0.1:0".parse().unwrap())
        .expect("a socket in the namespace");
    Client::new(socket, SocketAddr::from(([127, 0, 0, 1], NTP_PORT)))
}

// ---------------------------------------------------------------- ntpq

/// ntpq ARGS in NETNS: exit 0, nothing on stderr; its stdout.
fn ntpq(netns: &Netns, args: &[&str]) -> String {
    let label = format!("ntpq {}", args.join(" "));
    let out = run(&label, netns.command(peers::ntpq()).args(args));
    assert_eq!(out.status.code(), Some(0), "{label}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{label}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// ntpbox ntpd synchronised to its local clock, in a namespace of its own.
fn synced_daemon_in_netns(extra: &str) -> Option<(Netns, Daemon)> {
    synced_daemon_with(&format!("{LOCAL_CLOCK_10}{extra}"))
}

/// ntpbox ntpd with CONF, synchronised, in a namespace of its own.
fn synced_daemon_with(conf: &str) -> Option<(Netns, Daemon)> {
    if !peers::available() {
        common::skip_or_fail(peers::MISSING);
        return None;
    }
    let netns = Netns::new().expect("a network namespace");
    let daemon = Daemon::start_in(&netns, conf);
    wait_synced(&mut netns_client(&netns));
    Some((netns, daemon))
}

/// The LOCAL(0) line of `ntpq -p`, with the `when` column (seconds since
/// start, or `-`) replaced by `W`.
fn peers_table(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| {
            let mut cols: Vec<&str> = l.split_whitespace().collect();
            if cols.len() == 10 && cols[0].ends_with(')') {
                let when = cols[4];
                assert!(
                    when == "-" || when.parse::<u32>().is_ok_and(|w| w < 60),
                    "when {when} in {l}"
                );
                cols[4] = "W";
                return cols.join(" ");
            }
            l.to_string()
        })
        .collect()
}

/// The `LOCAL(0)` line of ntpsec's `ntpq -p` (after [`peers_table`]) for a
/// local clock with this reach register.
fn local_clock_line(reach: u8) -> String {
    format!("*LOCAL(0) .LOCL. 10 l W 64 {reach:o} 0.0000 0.0000 0.0000")
}

/// ntpsec's `ntpq -c as` line for an association (its python format:
/// `%3d %5u  %04x   %3.3s  %4s  %4.4s %9.9s %11s %2lu`).
fn associations_line(index: usize, id: u16, status: u16) -> String {
    let s = PeerStatus::from_word(status);
    let yes_no = |bit: u8| if s.bits & bit != 0 { "yes" } else { "no" };
    let last_event = if s.event_code == 0 {
        ""
    } else {
        s.last_event()
    };
    format!(
        "{index:>3} {id:>5}  {status:04x}   {:>3}  {:>4}  none {:>9} {last_event:>11} {:>2}",
        yes_no(peer_bits::CONFIGURED),
        yes_no(peer_bits::REACHABLE),
        s.condition(),
        s.event_count,
    )
}

#[test]
fn ntpsec_ntpq_reads_peers_associations_and_variables() {
    let Some((netns, _daemon)) = synced_daemon_in_netns("") else {
        return;
    };
    let mut raw = netns_client(&netns);
    let now = snapshot(&mut raw);
    let Snapshot {
        id,
        status,
        reach,
        system_status,
    } = now;
    let rule = "=".repeat(PEERS_RULE_WIDTH);
    let local = local_clock_line(reach);
    for args in [&["-p"][..], &["-pn"], &["-c", "pe"], &["-n", "-c", "peers"]] {
        let out = ntpq(&netns, args);
        assert_eq!(peers_table(&out), [PEERS_HEADER, &rule, &local], "{args:?}");
    }

    let out = ntpq(&netns, &["-c", "as"]);
    assert_eq!(
        out,
        format!(
            "\nind assid status  conf reach auth condition  last_event cnt\n\
             ===========================================================\n{}\n",
            associations_line(1, id, status)
        )
    );

    assert_eq!(
        ntpq(&netns, &["-c", "rv 0 leap,stratum"]),
        "leap=00, stratum=10\n"
    );

    let rv = ntpq(&netns, &["-c", "rv"]);
    let mut lines = rv.lines();
    // Synchronised to the local clock, leap bits clear; the events since
    // start (classic: freq_not_set without a drift file) as ntpsec names
    // them.
    assert_eq!(system_status >> 8, 0x05, "{system_status:04x}");
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "associd=0 status={system_status:04x} {},",
                SystemStatus::from_word(system_status).describe()
            )
            .as_str()
        )
    );
    let items: Vec<&str> = rv
        .lines()
        .skip(1)
        .flat_map(|l| l.split(", "))
        .map(|i| i.trim_end_matches(','))
        .collect();
    let names: Vec<&str> = items.iter().map(|i| i.split('=').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "version",
            "processor",
            "system",
            "leap",
            "stratum",
            "precision",
            "rootdelay",
            "rootdisp",
            "refid",
            "reftime",
            "clock",
            "peer",
            "tc",
            "mintc",
            "offset",
            "frequency",
            "sys_jitter",
            "clk_jitter",
            "clk_wander"
        ],
        "{rv}"
    );
    let version = format!("version=\"ntpd ntpbox-{}\"", env!("CARGO_PKG_VERSION"));
    let peer = format!("peer={id}");
    for item in [
        version.as_str(),
        "leap=00",
        "stratum=10",
        "rootdelay=0.0",
        // The system peer is the local clock: its refid as text.
        "refid=LOCL",
        &peer,
        "tc=6",
        "mintc=3",
        "offset=0.0",
    ] {
        assert!(items.contains(&item), "{item} in {rv}");
    }
    let reftime = items.iter().find(|i| i.starts_with("reftime=")).unwrap();
    // ntpq's rendering of the hex timestamp: `eeacce06.de857f82 2026-...Z`.
    assert!(
        reftime.len() == "reftime=".len() + 17 + 25 && reftime.ends_with('Z'),
        "{reftime}"
    );

    let peer = ntpq(
        &netns,
        &[
            "-c",
            &format!("rv {id} srcadr,srchost,refid,reach,hmode,stratum"),
        ],
    );
    assert_eq!(
        peer,
        format!(
            "srcadr=127.127.1.0, srchost=\"LOCAL(0)\", refid=LOCL, reach={reach:03o}, hmode=3,\n\
             stratum=10\n"
        )
    );
    let cv = ntpq(&netns, &["-c", &format!("cv {id}")]);
    assert_eq!(
        cv,
        format!(
            "associd={id} status=0000 no events, clk_unspec,\n\
             name=\"LOCAL\", timecode=\"\", noreply=0, badformat=0, baddata=0, stratum=10,\n\
             flags=0, device=\"Undisciplined local clock\"\n"
        )
    );
    // The next poll is 64 s away: nothing moved while ntpq asked.
    assert_eq!(snapshot(&mut raw), now);
}

/// A local clock polled every 8 s, so its reach register fills while the
/// test watches.
const FAST_LOCAL_CLOCK: &str =
    "disable ntp\nserver 127.127.1.0 minpoll 3 maxpoll 3\nfudge 127.127.1.0 stratum 10\n";
/// Two polls of that clock, and some.
const TWO_POLLS: Duration = Duration::from_secs(20);

/// The tally and remote, refid, st, t, poll and reach columns of the
/// `LOCAL(0)` line of `ntpq -p`, which both ntpqs print alike (`when` may
/// tick between them; delay, offset and jitter have 3 or 4 decimals).
fn local_clock_columns(out: &str) -> Vec<String> {
    let line = out
        .lines()
        .find(|l| l.starts_with("*LOCAL(0)"))
        .unwrap_or_else(|| panic!("no LOCAL(0) line in {out}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    [0, 1, 2, 3, 5, 6]
        .iter()
        .map(|&i| cols[i].to_string())
        .collect()
}

#[test]
fn both_ntpqs_show_the_reach_register_the_daemon_sends() {
    let Some((netns, _daemon)) = synced_daemon_with(FAST_LOCAL_CLOCK) else {
        return;
    };
    let mut raw = netns_client(&netns);
    let (id, _) = the_local_clock(&mut raw);
    // Reach fills one poll at a time: 1, then 3 (binary 11) 8 s later.
    let start = Instant::now();
    let mut seen = vec![reach_of(&mut raw, id)];
    while *seen.last().unwrap() != 0b11 {
        assert!(start.elapsed() < TWO_POLLS, "reach went {seen:?}");
        std::thread::sleep(Duration::from_millis(200));
        let r = reach_of(&mut raw, id);
        if r != *seen.last().unwrap() {
            seen.push(r);
        }
    }
    assert_eq!(seen, [0b1, 0b11]);
    // The next poll is 8 s away: both ntpqs read the same register now.
    let ntpsec = ntpq(&netns, &["-p"]);
    let ours = run(
        "ntpbox ntpq -p",
        netns.command(common::applet_dir().join("ntpq")).arg("-p"),
    );
    assert_eq!(ours.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&ours.stderr), "");
    let expected = ["*LOCAL(0)", ".LOCL.", "10", "l", "8", "3"];
    assert_eq!(local_clock_columns(&ntpsec), expected);
    assert_eq!(
        local_clock_columns(&String::from_utf8_lossy(&ours.stdout)),
        expected
    );
    let rv = format!("rv {id} reach");
    assert_eq!(ntpq(&netns, &["-c", &rv]), "reach=003\n");
    let ours = run(
        "ntpbox ntpq -c rv",
        netns
            .command(common::applet_dir().join("ntpq"))
            .args(["-c", &rv]),
    );
    assert_eq!(String::from_utf8_lossy(&ours.stdout), "reach=003\n");
    assert_eq!(reach_of(&mut raw, id), 0b11);
}

#[test]
fn ntpsec_ntpq_reads_the_mru_list_and_the_counters() {
    let Some((netns, _daemon)) = synced_daemon_in_netns("") else {
        return;
    };
    // Clients the MRU list will show: mode 3 requests from 127.0.0.2
    // (twice), mode 6 requests from 127.0.0.3 (twice), a mode 3 request
    // from 127.0.0.1, and last ntpq itself (mode 6, from 127.0.0.1).
    let server = SocketAddr::from(([127, 0, 0, 1], NTP_PORT));
    let socket = |source: &str| netns.udp_socket(source.parse().unwrap()).unwrap();
    let twice = Client::new(socket("127.0.0.2:0"), server);
    for _ in 0..2 {
        assert!(twice.time_request());
    }
    let mut query = Client::new(socket("127.0.0.3:0"), server);
    for _ in 0..2 {
        query.answer(opcode::READVAR, 0, "stratum");
    }
    assert!(Client::new(socket("127.0.0.1:0"), server).time_request());
    let out = ntpq(&netns, &["-n", "-c", "mrulist"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "Ctrl-C will stop MRU retrieval and display partial results.",
            " lstint avgint rstr r m v  count    score   drop rport remote address",
            "=====================================================================",
        ],
        "{out}"
    );
    let rows: Vec<Vec<&str>> = lines[3..6]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    // Newest first, rstr 0, no score or drop count (ntpsec's own columns):
    // 127.0.0.1, whose latest packet is ntpq's READ_MRU (mode 6, version
    // 2), after the mode 6 requests that waited for synchronisation, the
    // mode 3 request and ntpq's REQ_NONCE; then 127.0.0.3 twice in mode 6;
    // then 127.0.0.2 twice in mode 3, version 4.
    assert_eq!(rows[0][2..6], ["0", ".", "6", "2"], "{out}");
    assert!(rows[0][6].parse::<u32>().unwrap() >= 4, "{out}");
    assert_eq!(rows[0][7..9], ["-", "-"], "{out}");
    assert_eq!(rows[0][10], "127.0.0.1", "{out}");
    assert_eq!(rows[1][2..9], ["0", ".", "6", "2", "2", "-", "-"], "{out}");
    assert_eq!(rows[1][10], "127.0.0.3", "{out}");
    assert_eq!(rows[2][2..9], ["0", ".", "3", "4", "2", "-", "-"], "{out}");
    assert_eq!(rows[2][10], "127.0.0.2", "{out}");
    assert!(lines[6].starts_with("# Collected 3 slots in "), "{out}");
    // Without -n the addresses are named through /etc/hosts (or not at all
    // inside the namespace): the same three rows.
    let named = ntpq(&netns, &["-c", "mrulist"]);
    assert_eq!(named.lines().count(), out.lines().count(), "{named}");

    let sysstats = ntpq(&netns, &["-c", "sysstats"]);
    let labels: Vec<&str> = sysstats
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "uptime",
            "control requests",
            "sysstats reset",
            "packets received",
            "bad length or format",
            "restricted",
            "rate limited",
            "KoD responses",
            "processed for time"
        ],
        "{sysstats}"
    );
    let row = |text: &str, label: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("{label} in {text}"))[label.len()..]
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    // Every packet so far was answered or passed on: received = processed.
    let received = row(&sysstats, "packets received:");
    assert_eq!(row(&sysstats, "processed for time:")[..2], received[..2]);
    assert!(received[0].parse::<u32>().unwrap() >= 3, "{sysstats}");
    for zero in [
        "bad length or format:",
        "restricted:",
        "rate limited:",
        "KoD responses:",
    ] {
        assert_eq!(row(&sysstats, zero), ["0", "0"], "{zero}");
    }

    let iostats = ntpq(&netns, &["-c", "iostats"]);
    let labels: Vec<&str> = iostats
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["time since reset", "received packets"],
        "{iostats}"
    );

    let monstats = ntpq(&netns, &["-c", "monstats"]);
    assert_eq!(row(&monstats, "enabled:"), ["1"]);
    assert_eq!(row(&monstats, "addresses in use:"), ["3"], "{monstats}");
    assert_eq!(row(&monstats, "peak addresses:"), ["3"]);
    assert_eq!(row(&monstats, "maximum addresses:"), ["8192"]);
}

/// Clients for a MRU list longer than one answer (about 100 entries fit in
/// ntpq's 32 datagrams).
const MANY_CLIENTS: u32 = 300;

#[test]
fn ntpsec_ntpq_collects_a_long_mru_list_over_several_requests() {
    let Some((netns, _daemon)) = synced_daemon_in_netns("") else {
        return;
    };
    let server = SocketAddr::from(([127, 0, 0, 1], NTP_PORT));
    for i in 0..MANY_CLIENTS {
        let source = SocketAddr::from(([127, 1, (i / 200) as u8, (1 + i % 200) as u8], 0));
        let socket = netns.udp_socket(source).unwrap();
        assert!(Client::new(socket, server).time_request());
    }
    let socket = netns.udp_socket("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut counter = Client::new(socket, server);
    let mut requests = || {
        let a = counter.answer(opcode::READVAR, 0, "ss_numctlreq");
        a.value("ss_numctlreq").unwrap().parse::<u32>().unwrap()
    };
    let before = requests();
    let out = ntpq(&netns, &["-n", "-c", "mrulist"]);
    // One REQ_NONCE, READ_MRU three times (about 100 entries fit in one
    // answer of 32 datagrams), and this READVAR.
    let used = requests() - before;
    assert_eq!(used, 5, "{used} requests");
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.ends_with(|c: char| c.is_ascii_digit()) && l.contains(" 127.1."))
        .collect();
    assert_eq!(rows.len(), MANY_CLIENTS as usize, "{out}");
    // Newest first.
    assert!(rows[0].ends_with(" 127.1.1.100"), "{}", rows[0]);
    assert!(
        rows[rows.len() - 1].ends_with(" 127.1.0.1"),
        "{}",
        rows[rows.len() - 1]
    );
    // And 127.0.0.1, the mode 6 clients (ntpq and the counter).
    assert!(
        out.contains(&format!("# Collected {} slots in ", MANY_CLIENTS + 1)),
        "{out}"
    );
}

// ------------------------------------------------------------- ntpstat

#[test]
fn debian_ntpstat_exits_0_when_synced_to_the_local_clock() {
    let Some((netns, _daemon)) = synced_daemon_in_netns("") else {
        return;
    };
    let out = run("ntpstat", &mut netns.command(peers::ntpstat()));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "synchronised to local net at stratum 10 \n   time correct to within 10 ms\n   \
         polling server every 64 s\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn debian_ntpstat_exits_1_when_unsynchronised() {
    if !peers::available() {
        return common::skip_or_fail(peers::MISSING);
    }
    let netns = Netns::new().expect("a network namespace");
    // Its only server is a closed loopback port: it never synchronises.
    let _daemon = Daemon::start_in(&netns, "disable ntp\nserver 127.0.0.1:9 iburst\n");
    let out = run("ntpstat", &mut netns.command(peers::ntpstat()));
    // Classic's first system event without a drift file is freq_not_set
    // (event code 1), which Debian's ntpstat words as re-starting.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "unsynchronised\n  time server re-starting\n   polling server every 64 s\n"
    );
    assert_eq!(out.status.code(), Some(1));
}

// ------------------------------------------------------ raw requests

#[test]
fn errors_come_back_with_the_e_bit_and_classic_codes() {
    let d = Daemon::start(LOCAL_CLOCK_10);
    let mut c = Client::on_loopback(d.addr());
    wait_synced(&mut c);
    // An association ID the daemon does not have (its one ID is random).
    let (id, _) = the_local_clock(&mut c);
    let unknown = if id == 77 { 78 } else { 77 };
    assert_eq!(c.error(20, 0, ""), error_code::BADOP);
    assert_eq!(c.error(opcode::SETTRAP, 0, ""), error_code::BADOP);
    assert_eq!(c.error(opcode::READVAR, unknown, ""), error_code::BADASSOC);
    assert_eq!(
        c.error(opcode::READCLOCK, unknown, ""),
        error_code::BADASSOC
    );
    assert_eq!(
        c.error(opcode::READVAR, 0, "stratum,nosuchvar"),
        error_code::UNKNOWNVAR
    );
    assert_eq!(
        c.error(opcode::WRITEVAR, 0, "leap=3"),
        error_code::PERMISSION
    );
    assert_eq!(
        c.error(opcode::CONFIGURE, 0, "server 10.1.1.1"),
        error_code::PERMISSION
    );
    // The error datagram is the 12-byte header alone: the E bit, the
    // request's opcode and sequence, the code in the status's high byte.
    let sequence = c.send(opcode::READVAR, unknown, b"");
    let mut buf = [0u8; 64];
    c.socket.set_read_timeout(Some(REPLY_WAIT)).unwrap();
    let (n, _) = c.socket.recv_from(&mut buf).expect("an error reply");
    let s = sequence.to_be_bytes();
    let u = unknown.to_be_bytes();
    assert_eq!(
        buf[..n],
        [0x16, 0xc2, s[0], s[1], 4, 0, u[0], u[1], 0, 0, 0, 0]
    );
    // And the daemon answers normally afterwards.
    let a = c.answer(opcode::READVAR, 0, "leap,stratum");
    assert_eq!(a.text(), "leap=0, stratum=10\r\n");
    assert_eq!(a.status >> 8, 0x05, "leap 0, clock source 5 (local)");
}

#[test]
fn long_answers_come_in_fragments_that_reassemble() {
    let d = Daemon::start(LOCAL_CLOCK_10);
    let mut c = Client::on_loopback(d.addr());
    wait_synced(&mut c);
    let (id, status) = the_local_clock(&mut c);
    // The peer variables are longer than one datagram's 468 bytes.
    let a = c.answer(opcode::READVAR, id, "");
    assert_eq!((a.association_id, a.status), (id, status));
    assert_eq!(a.datagrams.len(), 2, "{}", a.text());
    let first = ControlMessage::decode(&a.datagrams[0]).unwrap();
    let second = ControlMessage::decode(&a.datagrams[1]).unwrap();
    assert!(first.more && !second.more);
    assert_eq!(first.offset, 0);
    assert_eq!(usize::from(second.offset), first.data.len());
    assert!(first.data.len() <= 468 && first.data.ends_with(b","));
    assert!(a
        .text()
        .starts_with("srcadr=127.127.1.0, srcport=123, srchost=\"LOCAL(0)\""));
    assert!(a.text().ends_with("\r\n"));
    assert_eq!(a.value("filtdisp").unwrap().split_whitespace().count(), 8);
    // READSTAT: the association list, binary: the ID, then the status
    // word (configured, reachable, system peer: 0x96, then the event
    // count and code).
    let s = c.answer(opcode::READSTAT, 0, "");
    let (i, w) = (id.to_be_bytes(), status.to_be_bytes());
    assert_eq!(s.data, [i[0], i[1], w[0], w[1]]);
    assert_eq!(w[0], 0x96);
}

#[test]
fn mru_needs_a_nonce_for_this_address_and_port() {
    let d = Daemon::start(LOCAL_CLOCK_10);
    // Three clients on three loopback addresses: one waits for the daemon
    // (mode 6), one asks the time (mode 3), one reads the MRU list.
    wait_synced(&mut Client::new(
        UdpSocket::bind("127.0.0.3:0").unwrap(),
        d.addr(),
    ));
    let t = Client::new(UdpSocket::bind("127.0.0.2:0").unwrap(), d.addr());
    assert!(t.time_request());
    let mut c = Client::on_loopback(d.addr());
    let nonce = c.answer(opcode::REQ_NONCE, 0, "").value("nonce").unwrap();
    assert_eq!(nonce.len(), 32);
    let read = format!("nonce={nonce}, frags=32");
    let mru = c.answer(opcode::READ_MRU, 0, &read);
    // Oldest first, as classic sends them (ntpq resumes after the newest
    // it has). The waiter: mode 6 version 2 (mv = version << 3 | mode).
    let text = mru.text();
    assert!(
        mru.value("addr.0")
            .is_some_and(|a| a.starts_with("127.0.0.3:")),
        "{text}"
    );
    assert_eq!(mru.value("mv.0").as_deref(), Some("22"), "{text}");
    let port = t.socket.local_addr().unwrap().port();
    assert_eq!(mru.value("addr.1"), Some(format!("127.0.0.2:{port}")));
    assert_eq!(mru.value("ct.1").as_deref(), Some("1"));
    assert_eq!(
        mru.value("mv.1").as_deref(),
        Some("35"),
        "version 4, mode 3"
    );
    // The reader itself: REQ_NONCE and this READ_MRU, recorded before the
    // answer was written.
    let port = c.socket.local_addr().unwrap().port();
    assert_eq!(mru.value("addr.2"), Some(format!("127.0.0.1:{port}")));
    assert_eq!(mru.value("ct.2").as_deref(), Some("2"));
    assert_eq!(
        mru.value("mv.2").as_deref(),
        Some("22"),
        "version 2, mode 6"
    );
    assert_eq!(mru.value("addr.3"), None, "{text}");
    assert!(mru.value("now").is_some() && mru.value("last.newest").is_some());
    // A fresh nonce comes with every answer.
    assert_ne!(mru.value("nonce"), Some(nonce.clone()));
    // The same nonce from another port of the same host: nothing.
    let mut other = Client::on_loopback(d.addr());
    assert!(other.silence(opcode::READ_MRU, 0, &read));
    // A made-up nonce, or none: nothing.
    assert!(c.silence(
        opcode::READ_MRU,
        0,
        "nonce=00000000000000000000000000000000, frags=32"
    ));
    assert!(c.silence(opcode::READ_MRU, 0, "frags=32"));
}

#[test]
fn a_nonce_expires_after_16_seconds() {
    let d = Daemon::start(LOCAL_CLOCK_10);
    let mut c = Client::on_loopback(d.addr());
    wait_synced(&mut c);
    let nonce = c.answer(opcode::REQ_NONCE, 0, "").value("nonce").unwrap();
    let read = format!("nonce={nonce}, frags=32");
    assert!(c.ask(opcode::READ_MRU, 0, &read).is_ok());
    std::thread::sleep(NONCE_EXPIRED_AFTER);
    assert!(c.silence(opcode::READ_MRU, 0, &read));
}

#[test]
fn restrict_noquery_gets_no_reply_at_all() {
    let d = Daemon::start(&format!(
        "{LOCAL_CLOCK_10}restrict 127.0.0.1 noquery\nrestrict ::1 noquery\n"
    ));
    let mut c = Client::on_loopback(d.addr());
    for op in [opcode::READVAR, opcode::READSTAT, opcode::REQ_NONCE, 20] {
        assert!(c.silence(op, 0, ""), "opcode {op}");
    }
    // Time service is not a query.
    assert!(c.time_request());
    // Another loopback address, not covered, is answered.
    let socket = UdpSocket::bind("127.0.0.2:0").unwrap();
    let mut other = Client::new(socket, d.addr());
    assert!(other.ask(opcode::READVAR, 0, "stratum").is_ok());
}

// --------------------------------------------- remote clients (veth)

/// Two namespaces joined by a veth pair: the daemon's side has
/// DAEMON_ADDR, the client's CLIENT_ADDR, and neither has any other link.
struct Link {
    daemon: Netns,
    client: Netns,
}

const DAEMON_ADDR: [u8; 4] = [198, 18, 7, 1];
const CLIENT_ADDR: [u8; 4] = [198, 18, 7, 2];
const LINK_PREFIX: u8 = 24;

impl Link {
    fn new() -> Option<Link> {
        if !peers::available() {
            common::skip_or_fail(peers::MISSING);
            return None;
        }
        let link = Link {
            daemon: Netns::new().expect("netns"),
            client: Netns::new().expect("netns"),
        };
        let ip = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("run ip");
            assert!(
                out.status.success(),
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        ip(&[
            "link",
            "add",
            "ctl0",
            "netns",
            link.daemon.name(),
            "type",
            "veth",
            "peer",
            "name",
            "ctl1",
            "netns",
            link.client.name(),
        ]);
        for (ns, dev, addr) in [
            (&link.daemon, "ctl0", DAEMON_ADDR),
            (&link.client, "ctl1", CLIENT_ADDR),
        ] {
            let cidr = format!("{}/{LINK_PREFIX}", IpAddr::from(addr));
            ip(&["-n", ns.name(), "addr", "add", &cidr, "dev", dev]);
            ip(&["-n", ns.name(), "link", "set", dev, "up"]);
        }
        Some(link)
    }

    fn remote_client(&self) -> Client {
        let socket = self
            .client
            .udp_socket(SocketAddr::from((CLIENT_ADDR, 0)))
            .expect("a socket on the client side");
        Client::new(socket, SocketAddr::from((DAEMON_ADDR, NTP_PORT)))
    }
}

/// Waits until the veth link carries time requests (addresses may take a
/// moment to leave the tentative state).
fn wait_link(client: &Client) {
    let start = Instant::now();
    while !client.time_request() {
        assert!(start.elapsed() < PATIENCE, "the veth link never came up");
    }
}

#[test]
fn remote_clients_get_no_mode_6_answers_by_default() {
    let Some(link) = Link::new() else {
        return;
    };
    let _d = Daemon::start_in(
        &link.daemon,
        &format!("{LOCAL_CLOCK_10}restrict default kod limited\n"),
    );
    let mut remote = link.remote_client();
    // Time service is not a query: it is answered.
    wait_link(&remote);
    // Every opcode, with and without data: not one byte back.
    for op in 0..32 {
        for data in [&b""[..], b"leap,stratum"] {
            remote.send(op, 0, data);
        }
    }
    let mut buf = [0u8; 2048];
    remote.socket.set_read_timeout(Some(SILENCE_WAIT)).unwrap();
    assert!(remote.socket.recv_from(&mut buf).is_err(), "a reply came");
    // Those queries went into the MRU list, and so against the client's
    // `limited` budget, as every packet does in ntpsec (and in classic
    // releases that monitored every packet first): the burst leaves it
    // over the limit, its kiss-o'-death already spent.
    assert!(!remote.time_request());
    // Loopback on the daemon's side still gets answers.
    let local = link
        .daemon
        .udp_socket("127.0.0.1:0".parse().unwrap())
        .unwrap();
    let mut local = Client::new(local, SocketAddr::from(([127, 0, 0, 1], NTP_PORT)));
    assert!(local.ask(opcode::READVAR, 0, "stratum").is_ok());
}

#[test]
fn a_named_remote_network_is_answered_within_a_byte_budget() {
    let Some(link) = Link::new() else {
        return;
    };
    let _d = Daemon::start_in(
        &link.daemon,
        &format!("{LOCAL_CLOCK_10}restrict 198.18.7.0 mask 255.255.255.0 nomodify\n"),
    );
    let mut remote = link.remote_client();
    wait_link(&remote);
    wait_synced(&mut remote);
    let a = remote.answer(opcode::READVAR, 0, "leap,stratum");
    assert_eq!(a.text(), "leap=0, stratum=10\r\n");
    // Full system variables as fast as they come back: a 16 KB burst, then
    // silence (nothing refills 2 KB/s in these few milliseconds... mostly).
    let mut bytes = 0usize;
    let mut answered = 0;
    let mut silent = 0;
    let start = Instant::now();
    for _ in 0..120 {
        match remote.ask(opcode::READVAR, 0, "") {
            Ok(a) => {
                answered += 1;
                bytes += a.datagrams.iter().map(Vec::len).sum::<usize>();
            }
            Err(Collected::Nothing) => silent += 1,
            Err(other) => panic!("{other:?}"),
        }
        if silent >= 3 {
            break;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let allowed = 16_384.0 + 2_048.0 * (elapsed + 1.0);
    assert!(answered >= 20, "{answered} answers");
    assert!(silent >= 3, "never limited after {answered} answers");
    assert!((bytes as f64) <= allowed, "{bytes} bytes in {elapsed:.1} s");
}

/// The control key's secret (hex, 20 bytes for SHA1).
const CONTROL_SECRET: &str = "0123456789abcdef0123456789abcdef01234567";

/// `ntpbox ntpq` writes `leap` with the control key (SHA1): ntpbox ntpd
/// takes it and advertises the leap warning, which ntpsec's ntpq then reads;
/// a wrong secret changes nothing.
#[test]
fn an_authenticated_write_of_leap_with_the_control_key() {
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = keys_dir.path().join("ntp.keys");
    std::fs::write(&keys, format!("1 SHA1 {CONTROL_SECRET}\n")).unwrap();
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let extra = format!("keys {}\ntrustedkey 1\ncontrolkey 1\n", keys.display());
    let Some((netns, daemon)) = synced_daemon_in_netns(&extra) else {
        return;
    };
    let write = |secret: &str| {
        let out = netns
            .command(common::applet_dir().join("ntpq"))
            .args(["-c", "keyid 1", "-c", "keytype sha1"])
            .args(["-c", &format!("passwd {secret}")])
            .args(["-c", "writevar 0 leap=1"])
            .arg("127.0.0.1")
            .output()
            .expect("run ntpq");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let wrong = write("ffffffffffffffffffffffffffffffffffffffff");
    assert!(!wrong.is_empty(), "a wrong key is refused");
    assert!(ntpq(&netns, &["-c", "rv 0 leap"]).contains("leap=00"));
    let err = write(CONTROL_SECRET);
    assert_eq!(err, "", "{}", daemon.log());
    assert!(ntpq(&netns, &["-c", "rv 0 leap"]).contains("leap=01"));
    assert!(
        daemon.log().contains("leap warning set to AddSecond"),
        "{}",
        daemon.log()
    );
}
