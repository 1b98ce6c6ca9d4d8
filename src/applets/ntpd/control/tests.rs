//! The control server end to end, without sockets: requests in, datagrams
//! out, from a fixed view of the engine and a responder that has seen a
//! few clients.

use std::net::SocketAddr;

use super::*;
use crate::applets::ntpd::server::{AccessTable, Mru, SystemState};
use crate::auth::Algorithm;
use crate::config::{parse_str, Discard, Key};
use crate::engine::{PeerKind, PeerVars, SystemVars};
use crate::proto::control::{ControlMessage, Reassembly};
use crate::proto::status::{peer_bits, select, source, PeerStatus, SystemStatus};
use crate::proto::{Leap, RefId};

const LOCAL_10: &str = "disable ntp\nserver 127.127.1.0\nfudge 127.127.1.0 stratum 10\n";
/// 2026-11-22 10:00:00 UTC.
const NOW_SECS: i64 = 1_795_341_600;
const MONO_START: f64 = 1000.0;
const LOOPBACK: &str = "127.0.0.1:40000";

struct FakeView {
    system: SystemVars,
    peers: Vec<PeerVars>,
}

impl View for FakeView {
    fn system_vars(&self) -> SystemVars {
        self.system.clone()
    }

    fn peer_vars(&self) -> Vec<PeerVars> {
        self.peers.clone()
    }
}

fn now() -> UnixTime {
    UnixTime::new(NOW_SECS, 500_000_000)
}

/// A daemon synchronised to its local clock at stratum 10.
fn synced_view() -> FakeView {
    let reftime = NtpTimestamp::from_unix(now().add_secs_f64(-20.0));
    FakeView {
        system: SystemVars {
            status: SystemStatus {
                leap: Leap::NoWarning,
                source: source::LOCAL,
                event_count: 1,
                event_code: 5,
            },
            leap: Leap::NoWarning,
            stratum: 10,
            precision: -23,
            root_delay: 0.0,
            root_dispersion: 0.01,
            refid: RefId(*b"LOCL"),
            reference_time: reftime,
            peer: 1,
            tc: 6,
            mintc: 3,
            offset: 0.0,
            frequency: -12.5,
            sys_jitter: 0.0000123,
            clk_jitter: 0.0,
            clk_wander: 0.0,
            tai: 0,
            leapsec: None,
            expire: None,
        },
        peers: vec![PeerVars {
            assoc_id: 1,
            status: PeerStatus {
                bits: peer_bits::CONFIGURED | peer_bits::REACHABLE,
                select: select::SYS_PEER,
                event_count: 1,
                event_code: 10,
            },
            kind: PeerKind::Local,
            hostname: None,
            srcadr: "127.127.1.0:123".parse().unwrap(),
            dstadr: None,
            leap: Leap::NoWarning,
            stratum: 10,
            precision: -23,
            root_delay: 0.0,
            root_dispersion: 0.0,
            refid: RefId(*b"LOCL"),
            reference_time: reftime,
            rec: Some(now().add_secs_f64(-20.0)),
            reach: 0o377,
            unreach: 0,
            hmode: 3,
            pmode: 4,
            hpoll: 6,
            ppoll: 6,
            headway: 0,
            flash: 0,
            keyid: 0,
            offset: 0.0,
            delay: 0.0,
            dispersion: 0.01,
            jitter: 0.0,
            filter_delay: [0.0; 8],
            filter_offset: [0.0; 8],
            filter_dispersion: [0.01; 8],
        }],
    }
}

fn config(text: &str) -> Config {
    parse_str(text, std::path::Path::new("t.conf")).config
}

fn control(conf: &Config) -> Control {
    let base = mru::TimeBase {
        mono: MONO_START,
        wall: now().add_secs_f64(-100.0),
    };
    Control::with_base(conf, base, Nonces::with_secret([42; 32]))
}

/// A responder that has answered mode 3 requests from `clients` (one
/// second apart, from MONO_START + 10 on).
fn responder(clients: &[&str]) -> Responder {
    let mut r = Responder::new(
        AccessTable::default(),
        Some(Mru::with_capacity(64)),
        Discard::default(),
    );
    let mut request = [0u8; 48];
    request[0] = 0x23;
    let mut out = [0u8; 64];
    let system = SystemState::unsynchronised(-20);
    for (i, c) in clients.iter().enumerate() {
        let from: SocketAddr = c.parse().unwrap();
        let mono = MONO_START + 10.0 + i as f64;
        r.respond(&request, from, NtpTimestamp::ZERO, mono, &system, &mut out);
    }
    r
}

struct Bench {
    control: Control,
    view: FakeView,
    server: Responder,
    interfaces: Vec<Interface>,
    mono: f64,
}

impl Bench {
    fn new(conf: &str) -> Bench {
        Bench {
            control: control(&config(conf)),
            view: synced_view(),
            server: responder(&["192.0.2.7:123", "198.51.100.1:40000", "192.0.2.8:123"]),
            interfaces: Vec::new(),
            mono: MONO_START + 100.0,
        }
    }

    fn ask_from(&mut self, from: &str, request: &[u8]) -> Vec<Vec<u8>> {
        let cx = Context {
            from: from.parse().unwrap(),
            to: "127.0.0.1:123".parse().unwrap(),
            now: now().add_secs_f64(self.mono - MONO_START - 100.0),
            view: &self.view,
            server: &self.server,
            interfaces: &self.interfaces,
        };
        let mut out = Vec::new();
        self.control.respond_at(request, &cx, self.mono, &mut out);
        out
    }

    fn ask(&mut self, op: u8, assoc: u16, data: &str) -> Vec<Vec<u8>> {
        let req = ControlMessage::request(op, 7, assoc, data.as_bytes()).to_vec();
        self.ask_from(LOOPBACK, &req)
    }

    /// The whole answer's data and the first datagram's header.
    fn text(&mut self, op: u8, assoc: u16, data: &str) -> (String, u16, u16) {
        let datagrams = self.ask(op, assoc, data);
        let (data, status, assoc) = reassemble(&datagrams);
        (String::from_utf8(data).unwrap(), status, assoc)
    }

    fn error(&mut self, op: u8, assoc: u16, data: &str) -> u16 {
        let d = self.ask(op, assoc, data);
        assert_eq!(d.len(), 1);
        let m = ControlMessage::decode(&d[0]).unwrap();
        assert!(m.error && m.response, "{m:?}");
        assert_eq!((m.opcode, m.sequence, m.data.len()), (op, 7, 0));
        m.status >> 8
    }
}

fn reassemble(datagrams: &[Vec<u8>]) -> (Vec<u8>, u16, u16) {
    let mut r = Reassembly::new();
    let mut whole = None;
    for d in datagrams {
        assert_eq!(d.len() % 4, 0, "padded to 4 bytes");
        let m = ControlMessage::decode(d).unwrap();
        assert!(m.response && !m.error);
        whole = r.add(&m).unwrap().or(whole);
    }
    (whole.expect("complete"), r.status, r.association_id)
}

#[test]
fn readvar_system_gives_the_classic_variables_in_order() {
    let mut b = Bench::new(LOCAL_10);
    let (text, status, assoc) = b.text(opcode::READVAR, 0, "");
    assert_eq!((status, assoc), (0x0515, 0));
    let names: Vec<&str> = text
        .split(',')
        .map(|i| i.trim().split('=').next().unwrap())
        .collect();
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
        ]
    );
    let version = format!("version=\"ntpd ntpbox-{}\", ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&version), "{text}");
    let reftime = NtpTimestamp::from_unix(now().add_secs_f64(-20.0));
    let clock = NtpTimestamp::from_unix(now());
    for item in [
        "leap=0".to_string(),
        "stratum=10".into(),
        "precision=-23".into(),
        "rootdelay=0.000".into(),
        "rootdisp=10.000".into(),
        // The system peer is the local clock: its name, not an address.
        "refid=LOCL".into(),
        format!(
            "reftime=0x{:08x}.{:08x}",
            reftime.era_secs(),
            reftime.fraction()
        ),
        format!("clock=0x{:08x}.{:08x}", clock.era_secs(), clock.fraction()),
        "peer=1".into(),
        "tc=6".into(),
        "mintc=3".into(),
        "offset=0.000000".into(),
        "frequency=-12.500000".into(),
        "sys_jitter=0.012300".into(),
    ] {
        assert!(
            text.split(',').any(|i| i.trim() == item),
            "{item} in {text}"
        );
    }
    assert!(text.ends_with("clk_wander=0.000000\r\n"), "{text}");
    for line in text.split("\r\n") {
        assert!(line.len() < 72, "{line}");
    }
}

#[test]
fn named_variables_come_back_as_asked_and_unknown_ones_are_errors() {
    let mut b = Bench::new(LOCAL_10);
    let (text, status, _) = b.text(opcode::READVAR, 0, "leap,stratum");
    assert_eq!((text.as_str(), status), ("leap=0, stratum=10\r\n", 0x0515));
    let (text, _, _) = b.text(opcode::READVAR, 0, "stratum, tc");
    assert_eq!(text, "stratum=10, tc=6\r\n");
    assert_eq!(
        b.error(opcode::READVAR, 0, "leap,nosuchvar"),
        error_code::UNKNOWNVAR
    );
    // Known but without a value (no leap second file): nothing.
    let (text, _, _) = b.text(opcode::READVAR, 0, "tai,leapsec,expire");
    assert_eq!(text, "");
}

#[test]
fn the_system_refid_is_text_only_when_the_system_peer_is_a_clock() {
    let mut b = Bench::new(LOCAL_10);
    let (text, _, _) = b.text(opcode::READVAR, 0, "refid,stratum");
    assert_eq!(text, "refid=LOCL, stratum=10\r\n");
    // Synchronised to a stratum 2 server: its address.
    let server = &mut b.view.peers[0];
    server.kind = PeerKind::Unicast;
    server.srcadr = "198.18.0.2:123".parse().unwrap();
    b.view.system.refid = RefId([198, 18, 0, 2]);
    b.view.system.stratum = 3;
    let (text, _, _) = b.text(opcode::READVAR, 0, "refid,stratum");
    assert_eq!(text, "refid=198.18.0.2, stratum=3\r\n");
    // No system peer at all: the stratum rule (an address at 10, a code at
    // 16).
    b.view.system.peer = 0;
    b.view.system.refid = RefId(*b"LOCL");
    b.view.system.stratum = 10;
    let (text, _, _) = b.text(opcode::READVAR, 0, "refid");
    assert_eq!(text, "refid=76.79.67.76\r\n");
    b.view.system.refid = RefId(*b"INIT");
    b.view.system.stratum = 16;
    let (text, _, _) = b.text(opcode::READVAR, 0, "refid");
    assert_eq!(text, "refid=INIT\r\n");
}

#[test]
fn readstat_lists_associations_with_their_status_words() {
    let mut b = Bench::new(LOCAL_10);
    let d = b.ask(opcode::READSTAT, 0, "");
    assert_eq!(d.len(), 1);
    let m = ControlMessage::decode(&d[0]).unwrap();
    assert_eq!((m.status, m.association_id), (0x0515, 0));
    assert_eq!(m.data, [0, 1, 0x96, 0x1a]);
    assert_eq!(d[0][0], 0x16, "leap 0, the request's version 2, mode 6");
    // At a peer: its status and all its variables.
    let (text, status, assoc) = b.text(opcode::READSTAT, 1, "");
    assert_eq!((status, assoc), (0x961a, 1));
    assert!(text.starts_with("srcadr=127.127.1.0, srcport=123, srchost=\"LOCAL(0)\""));
    assert_eq!(b.error(opcode::READSTAT, 9, ""), error_code::BADASSOC);
}

#[test]
fn readvar_peer_gives_what_ntpq_p_reads() {
    let mut b = Bench::new(LOCAL_10);
    let (text, status, assoc) = b.text(opcode::READVAR, 1, "");
    assert_eq!((status, assoc), (0x961a, 1));
    let rec = NtpTimestamp::from_unix(now().add_secs_f64(-20.0));
    for item in [
        "srcadr=127.127.1.0".to_string(),
        "srcport=123".into(),
        "srchost=\"LOCAL(0)\"".into(),
        "dstadr=0.0.0.0".into(),
        "leap=0".into(),
        "stratum=10".into(),
        "refid=LOCL".into(),
        format!("rec=0x{:08x}.{:08x}", rec.era_secs(), rec.fraction()),
        "reach=0xff".into(),
        "hmode=3".into(),
        "pmode=4".into(),
        "hpoll=6".into(),
        "ppoll=6".into(),
        "flash=0x0".into(),
        "offset=0.000000".into(),
        "delay=0.000000".into(),
        "dispersion=10.000000".into(),
        "jitter=0.000000".into(),
        "filtdisp= 10.00 10.00 10.00 10.00 10.00 10.00 10.00 10.00".into(),
    ] {
        assert!(
            text.split(',').any(|i| i.trim() == item.trim()),
            "{item} in {text}"
        );
    }
    let (text, _, _) = b.text(opcode::READVAR, 1, "reach,stratum");
    assert_eq!(text, "reach=0xff, stratum=10\r\n");
    assert_eq!(b.error(opcode::READVAR, 2, ""), error_code::BADASSOC);
    assert_eq!(
        b.error(opcode::READVAR, 1, "version"),
        error_code::UNKNOWNVAR
    );
}

#[test]
fn clock_variables_of_the_local_clock() {
    let mut b = Bench::new(LOCAL_10);
    let expected = "name=\"LOCAL\", timecode=\"\", noreply=0, badformat=0, baddata=0,\r\n\
                    stratum=10, flags=0, device=\"Undisciplined local clock\"\r\n";
    for assoc in [0, 1] {
        let (text, status, id) = b.text(opcode::READCLOCK, assoc, "");
        assert_eq!((text.as_str(), status, id), (expected, 0, 1));
    }
    let (text, _, _) = b.text(opcode::READCLOCK, 1, "stratum,noreply");
    assert_eq!(text, "stratum=10, noreply=0\r\n");
    assert_eq!(b.error(opcode::READCLOCK, 5, ""), error_code::BADASSOC);
    let mut b = Bench::new("server 127.127.1.0\nfudge 127.127.1.0 time1 0.5 refid GPS flag1 1\n");
    let (text, _, _) = b.text(opcode::READCLOCK, 0, "fudgetime1,refid,flags,stratum");
    assert_eq!(text, "fudgetime1=500.000, refid=GPS, flags=1\r\n");
    b.view.peers.clear();
    assert_eq!(b.error(opcode::READCLOCK, 0, ""), error_code::BADASSOC);
}

#[test]
fn counters_for_sysstats_iostats_and_monstats() {
    let mut b = Bench::new(LOCAL_10);
    let (text, _, _) = b.text(
        opcode::READVAR,
        0,
        "ss_uptime,ss_numctlreq,ss_reset,ss_reset_r,ss_received,ss_received_r,ss_thisver,\
         ss_badformat,ss_restricted,ss_limited,ss_kodsent,ss_processed_r,ss_badauth_r",
    );
    assert_eq!(
        text,
        "ss_uptime=100, ss_numctlreq=1, ss_reset=100, ss_reset_r=100,\r\n\
         ss_received=3, ss_received_r=3, ss_badformat=0, ss_restricted=0,\r\n\
         ss_limited=0, ss_kodsent=0, ss_processed_r=3\r\n"
    );
    let (text, _, _) = b.text(
        opcode::READVAR,
        0,
        "iostats_reset,total_rbuf,io_received,io_sent",
    );
    assert_eq!(text, "iostats_reset=100, io_received=3\r\n");
    let (text, _, _) = b.text(
        opcode::READVAR,
        0,
        "mru_enabled,mru_hashslots,mru_depth,mru_deepest,mru_maxdepth,mru_mindepth,\
         mru_maxage,mru_mem,mru_oldest_age",
    );
    assert_eq!(
        text,
        "mru_enabled=1, mru_hashslots=3, mru_depth=3, mru_deepest=3,\r\n\
         mru_maxdepth=64, mru_mindepth=64, mru_oldest_age=90\r\n"
    );
    // ss_numctlreq counts every request.
    let (text, _, _) = b.text(opcode::READVAR, 0, "ss_numctlreq");
    assert_eq!(text, "ss_numctlreq=4\r\n");
    // In the first second: 1, never 0 (ntpsec's ntpq divides by it).
    b.mono = MONO_START + 0.25;
    let (text, _, _) = b.text(opcode::READVAR, 0, "ss_uptime,ss_reset_r");
    assert_eq!(text, "ss_uptime=1, ss_reset_r=1\r\n");
}

#[test]
fn unknown_opcodes_traps_and_unauthenticated_writes_are_refused() {
    let mut b = Bench::new(LOCAL_10);
    for op in [
        0,
        opcode::SETTRAP,
        opcode::ASYNCMSG,
        13,
        20,
        opcode::UNSETTRAP,
    ] {
        assert_eq!(b.error(op, 0, ""), error_code::BADOP, "opcode {op}");
    }
    for op in [
        opcode::WRITEVAR,
        opcode::WRITECLOCK,
        opcode::CONFIGURE,
        opcode::SAVECONFIG,
        opcode::READ_ORDLIST_A,
    ] {
        assert_eq!(
            b.error(op, 0, "leap=1"),
            error_code::PERMISSION,
            "opcode {op}"
        );
    }
}

/// A mode 6 request signed as ntpq -a signs it.
fn signed(op: u8, data: &[u8], key_id: u32, secret: &[u8]) -> Vec<u8> {
    let mut bytes = ControlMessage::request(op, 7, 0, data).to_vec();
    bytes.resize(bytes.len().next_multiple_of(8), 0);
    let mut ring = Keyring::new();
    ring.insert(key_id, Algorithm::Sha1, secret).unwrap();
    let covered = bytes.clone();
    ring.sign(key_id, &covered, &mut bytes).unwrap();
    bytes
}

#[test]
fn writes_with_the_control_key_are_checked_and_answered_signed() {
    let mut conf = config(&format!("{LOCAL_10}trustedkey 1 2\ncontrolkey 1\n"));
    conf.keyring = [
        (1, b"control secret".as_slice()),
        (2, b"other secret".as_slice()),
    ]
    .iter()
    .map(|&(id, secret)| Key {
        id,
        algorithm: Algorithm::Sha1,
        secret: secret.to_vec(),
        access: Vec::new(),
        line: id as usize,
    })
    .collect();
    let mut b = Bench::new(LOCAL_10);
    b.control = control(&conf);
    let ask = |b: &mut Bench, req: Vec<u8>| {
        let d = b.ask_from(LOOPBACK, &req);
        assert_eq!(d.len(), 1);
        d.into_iter().next().unwrap()
    };
    let good = ask(
        &mut b,
        signed(opcode::WRITEVAR, b"leap=1", 1, b"control secret"),
    );
    let m = ControlMessage::decode(&good).unwrap();
    assert!(!m.error, "leap is writable with the control key");
    assert!(m.data.is_empty());
    assert_eq!(
        b.control.take_writes(),
        [Write::Leap(crate::proto::Leap::AddSecond)]
    );
    // Signed with key 1: 12 header bytes, 4 of padding to 8, key ID, MAC.
    assert_eq!(good.len(), 16 + 4 + 20);
    assert_eq!(&good[16..20], &[0, 0, 0, 1]);
    let mut ring = Keyring::new();
    ring.insert(1, Algorithm::Sha1, b"control secret").unwrap();
    ring.trust(1);
    assert!(ring.verify(&good[..16], 1, &good[20..]).is_authentic());
    let bad_value = ask(
        &mut b,
        signed(opcode::WRITEVAR, b"leap=7", 1, b"control secret"),
    );
    assert_eq!(
        ControlMessage::decode(&bad_value).unwrap().status >> 8,
        error_code::BADVALUE
    );
    let read_only = ask(
        &mut b,
        signed(opcode::WRITEVAR, b"stratum=3", 1, b"control secret"),
    );
    assert_eq!(
        ControlMessage::decode(&read_only).unwrap().status >> 8,
        error_code::PERMISSION
    );
    let unknown = ask(
        &mut b,
        signed(opcode::WRITEVAR, b"bogus=1", 1, b"control secret"),
    );
    assert_eq!(
        ControlMessage::decode(&unknown).unwrap().status >> 8,
        error_code::UNKNOWNVAR
    );
    // Authenticated configuration is not served at run time: a signed
    // line of text says so.
    let config = ask(
        &mut b,
        signed(opcode::CONFIGURE, b"server 10.0.0.1", 1, b"control secret"),
    );
    let m = ControlMessage::decode(&config).unwrap();
    assert!(!m.error);
    assert_eq!(
        m.data,
        b"runtime configuration is not supported: edit ntp.conf and restart ntpd\r\n"
    );
    assert!(matches!(m.mac, Some(MacField::Mac { key_id: 1, .. })));
    assert_eq!(b.control.take_writes(), vec![Write::ConfigureRefused]);
    // A trusted key that is not the control key authenticates but may not
    // write: refused, and the refusal is signed with that key.
    for op in [opcode::WRITEVAR, opcode::CONFIGURE] {
        let d = ask(&mut b, signed(op, b"leap=1", 2, b"other secret"));
        assert_eq!(d.len(), 16 + 4 + 20, "opcode {op}");
        assert_eq!(d[4], error_code::PERMISSION as u8);
        assert_eq!(&d[16..20], &[0, 0, 0, 2]);
        let mut ring = Keyring::new();
        ring.insert(2, Algorithm::Sha1, b"other secret").unwrap();
        ring.trust(2);
        assert!(ring.verify(&d[..16], 2, &d[20..]).is_authentic());
    }
    // A wrong secret authenticates nothing: refused, unsigned.
    let d = ask(&mut b, signed(opcode::WRITEVAR, b"leap=1", 1, b"guessed"));
    assert_eq!(d.len(), 12);
    assert_eq!(d[4], error_code::PERMISSION as u8);
    assert!(b.control.take_writes().is_empty());
    // Reads signed with the control key are answered signed.
    let d = ask(
        &mut b,
        signed(opcode::READVAR, b"stratum", 1, b"control secret"),
    );
    let m = ControlMessage::decode(&d).unwrap();
    assert_eq!(m.data, b"stratum=10\r\n");
    assert!(matches!(m.mac, Some(MacField::Mac { key_id: 1, .. })));
}

/// The control server's bench with keys 1 (MD5), 2 (SHA1) and 3
/// (AES128CMAC), all trusted, and `controlkey CONTROL`.
fn keyed_bench(control_key: u32) -> Bench {
    let mut conf = config(&format!(
        "{LOCAL_10}trustedkey 1 2 3\ncontrolkey {control_key}\n"
    ));
    conf.keyring = KEYS
        .iter()
        .map(|&(id, algorithm, secret)| Key {
            id,
            algorithm,
            secret: secret.to_vec(),
            access: Vec::new(),
            line: id as usize,
        })
        .collect();
    let mut b = Bench::new(LOCAL_10);
    b.control = control(&conf);
    b
}

/// The keys of [`keyed_bench`]: one of each algorithm ntpsec's ntpq signs with.
const KEYS: [(u32, Algorithm, &[u8]); 3] = [
    (1, Algorithm::Md5, b"md5secret"),
    (2, Algorithm::Sha1, b"sha1secret"),
    (3, Algorithm::Aes128Cmac, b"0123456789abcdef"),
];

/// A request signed with key `id` of [`KEYS`], the data padded to `align`
/// bytes before the MAC.
fn signed_by(id: u32, op: u8, data: &[u8], align: usize) -> Vec<u8> {
    let (_, algorithm, secret) = KEYS[id as usize - 1];
    let mut bytes = ControlMessage::request(op, 7, 0, data).to_vec();
    bytes.resize(bytes.len().next_multiple_of(align), 0);
    let mut ring = Keyring::new();
    ring.insert(id, algorithm, secret).unwrap();
    let covered = bytes.clone();
    ring.sign(id, &covered, &mut bytes).unwrap();
    bytes
}

/// The key that signed an answer datagram, if its MAC verifies with it.
fn answer_signer(d: &[u8]) -> Option<u32> {
    let m = ControlMessage::decode(d).ok()?;
    let Some(MacField::Mac { key_id, digest }) = m.mac else {
        return None;
    };
    let (_, algorithm, secret) = KEYS.get((key_id as usize).checked_sub(1)?)?;
    let mut ring = Keyring::new();
    ring.insert(key_id, *algorithm, secret).unwrap();
    ring.trust(key_id);
    let mac_at = d.len() - 4 - digest.len();
    // ntpq looks for the MAC after the data padded to 8 bytes.
    assert_eq!(mac_at, m.authenticated_len(), "MAC position");
    ring.verify(&d[..mac_at], key_id, digest.as_bytes())
        .is_authentic()
        .then_some(key_id)
}

#[test]
fn md5_sha1_and_cmac_requests_are_answered_signed_with_their_key() {
    let mut b = keyed_bench(2);
    // "leap" is 4 bytes: 16 bytes padded to 16 or to 8; "stratum" is 7:
    // 19 bytes, padded to 20 (4) or to 24 (8). Both places are accepted.
    for id in [1, 2, 3] {
        for (data, align) in [("stratum", 8), ("stratum", 4), ("leap", 8)] {
            let d = b.ask_from(
                LOOPBACK,
                &signed_by(id, opcode::READVAR, data.as_bytes(), align),
            );
            assert_eq!(d.len(), 1);
            assert_eq!(answer_signer(&d[0]), Some(id), "key {id}, {data}, {align}");
            let m = ControlMessage::decode(&d[0]).unwrap();
            assert!(m.data.starts_with(data.as_bytes()), "key {id}");
        }
    }
    // A long answer: every fragment is signed.
    let many = ["clock"; 60].join(",");
    let d = b.ask_from(LOOPBACK, &signed_by(1, opcode::READVAR, many.as_bytes(), 8));
    assert!(d.len() >= 2, "{} fragments", d.len());
    assert!(d.iter().all(|f| answer_signer(f) == Some(1)));
    // A MAC altered in transit authenticates nothing: an unsigned answer.
    let mut forged = signed_by(3, opcode::READVAR, b"stratum", 8);
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let d = b.ask_from(LOOPBACK, &forged);
    assert_eq!(ControlMessage::decode(&d[0]).unwrap().mac, None);
}

#[test]
fn only_the_control_key_writes_whatever_its_algorithm() {
    for control_key in [1, 2, 3] {
        let mut b = keyed_bench(control_key);
        for id in [1, 2, 3] {
            let d = b.ask_from(LOOPBACK, &signed_by(id, opcode::WRITEVAR, b"leap=2", 8));
            let m = ControlMessage::decode(&d[0]).unwrap();
            assert_eq!(answer_signer(&d[0]), Some(id));
            if id == control_key {
                assert!(!m.error, "key {id} is the control key");
                assert_eq!(
                    b.control.take_writes(),
                    [Write::Leap(crate::proto::Leap::DeleteSecond)]
                );
            } else {
                assert_eq!(m.status >> 8, error_code::PERMISSION, "key {id}");
                assert!(b.control.take_writes().is_empty());
            }
        }
    }
}

#[test]
fn ntpstat_gets_stratum_dispersion_and_poll_in_its_first_datagram() {
    let mut b = Bench::new(LOCAL_10);
    let mut request = vec![0u8; 576];
    request[..4].copy_from_slice(&[0x16, 0x02, 0x00, 0x01]);
    let d = b.ask_from(LOOPBACK, &request);
    let first = ControlMessage::decode(&d[0]).unwrap();
    let text = String::from_utf8_lossy(first.data);
    // What Debian's ntpstat looks for with strstr + strtok(","):
    for needle in [
        "stratum=10,",
        "rootdelay=0.000,",
        "rootdisp=10.000,",
        "tc=6,",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    assert!(text.find("tc=").unwrap() < text.find("mintc=").unwrap());
    assert_eq!(first.status >> 14, 0, "leap bits: synchronised");
}

fn nonce_of(d: &[Vec<u8>]) -> String {
    let (data, _, _) = reassemble(d);
    let text = String::from_utf8(data).unwrap();
    let nonce = text
        .split(',')
        .find_map(|i| i.trim().strip_prefix("nonce="))
        .expect("a nonce")
        .trim()
        .to_string();
    nonce
}

fn mru_items(d: &[Vec<u8>]) -> Vec<(String, String)> {
    let (data, _, _) = reassemble(d);
    crate::proto::varlist::parse(&data)
        .into_iter()
        .map(|v| (v.name, v.value.unwrap_or_default()))
        .collect()
}

#[test]
fn the_mru_list_needs_a_fresh_nonce_from_the_same_address() {
    let mut b = Bench::new(LOCAL_10);
    let d = b.ask(opcode::REQ_NONCE, 0, "");
    assert_eq!(d.len(), 1);
    let nonce = nonce_of(&d);
    let read = |nonce: &str| format!("nonce={nonce}, frags=32");
    let items = mru_items(&b.ask(opcode::READ_MRU, 0, &read(&nonce)));
    let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "nonce");
    assert_eq!(
        &names[1..7],
        ["addr.0", "last.0", "first.0", "ct.0", "mv.0", "rs.0"]
    );
    assert_eq!(names[names.len() - 2..], ["now", "last.newest"]);
    let value = |name: &str| {
        items
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    // Oldest first: the first client seen.
    assert_eq!(value("addr.0"), "192.0.2.7:123");
    assert_eq!(value("addr.2"), "192.0.2.8:123");
    assert_eq!(
        (value("ct.0"), value("mv.0"), value("rs.0")),
        ("1".into(), "35".into(), "0x0".into())
    );
    // Seen at MONO_START + 10: 90 s before the wall-clock anchor's now.
    let first = format::parse_timestamp(&value("last.0")).unwrap();
    let now_ts = format::parse_timestamp(&value("now")).unwrap();
    assert!((now_ts.diff_secs(first) - 90.0).abs() < 1e-6);
    assert_eq!(value("last.newest"), value("last.2"));

    // Another port of the same host, a forged nonce, none, an old one:
    // not a byte in reply.
    let req = ControlMessage::request(opcode::READ_MRU, 7, 0, read(&nonce).as_bytes()).to_vec();
    assert!(b.ask_from("127.0.0.1:40001", &req).is_empty());
    assert!(b
        .ask(
            opcode::READ_MRU,
            0,
            &read("0123456789abcdef0123456789abcdef")
        )
        .is_empty());
    assert!(b.ask(opcode::READ_MRU, 0, "frags=32").is_empty());
    b.mono += 16.5;
    assert!(b.ask(opcode::READ_MRU, 0, &read(&nonce)).is_empty());
    let fresh = nonce_of(&b.ask(opcode::REQ_NONCE, 0, ""));
    assert!(!b.ask(opcode::READ_MRU, 0, &read(&fresh)).is_empty());
}

#[test]
fn the_mru_list_comes_in_pieces_and_resumes_after_what_the_client_has() {
    let mut b = Bench::new(LOCAL_10);
    let clients: Vec<String> = (0..40).map(|i| format!("10.0.{i}.1:123")).collect();
    let refs: Vec<&str> = clients.iter().map(String::as_str).collect();
    b.server = responder(&refs);
    let nonce = nonce_of(&b.ask(opcode::REQ_NONCE, 0, ""));
    // One datagram's worth: some entries and no end marker.
    let items = mru_items(&b.ask(opcode::READ_MRU, 0, &format!("nonce={nonce}, frags=1")));
    let got: Vec<&(String, String)> = items
        .iter()
        .filter(|(n, _)| n.starts_with("addr."))
        .collect();
    assert!(!got.is_empty() && got.len() < 40, "{}", got.len());
    assert!(!items.iter().any(|(n, _)| n == "now"));
    // The next request names the newest one received.
    let n = got.len() - 1;
    let last = &items
        .iter()
        .find(|(k, _)| *k == format!("last.{n}"))
        .unwrap()
        .1;
    let next_nonce = &items[0].1;
    let rest = mru_items(&b.ask(
        opcode::READ_MRU,
        0,
        &format!(
            "nonce={next_nonce}, frags=32, addr.0={}, last.0={last}",
            got[n].1
        ),
    ));
    let addrs: Vec<&str> = rest
        .iter()
        .filter(|(k, _)| k.starts_with("addr."))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(addrs.len(), 40 - got.len());
    assert_eq!(addrs[0], clients[got.len()]);
    assert_eq!(*addrs.last().unwrap(), clients[39]);
    assert!(rest.iter().any(|(n, _)| n == "now"));
    // Entries the list no longer has in that state: start over.
    let bogus = format!("nonce={next_nonce}, frags=32, addr.0=10.9.9.9:123, last.0={last}");
    let d = b.ask(opcode::READ_MRU, 0, &bogus);
    let m = ControlMessage::decode(&d[0]).unwrap();
    assert!(m.error);
    assert_eq!(m.status >> 8, error_code::UNKNOWNVAR);
    // Out-of-range sizes.
    for bad in ["frags=33", "frags=0", "limit=257", "mincount=x"] {
        let d = b.ask(opcode::READ_MRU, 0, &format!("nonce={next_nonce}, {bad}"));
        let m = ControlMessage::decode(&d[0]).unwrap();
        assert_eq!(m.status >> 8, error_code::BADVALUE, "{bad}");
    }
}

#[test]
fn mru_filters_and_recent() {
    let mut b = Bench::new(LOCAL_10);
    let ask = |b: &mut Bench, params: &str| -> Vec<String> {
        let nonce = nonce_of(&b.ask(opcode::REQ_NONCE, 0, ""));
        mru_items(&b.ask(
            opcode::READ_MRU,
            0,
            &format!("nonce={nonce}, limit=100{params}"),
        ))
        .into_iter()
        .filter(|(n, _)| n.starts_with("addr."))
        .map(|(_, v)| v)
        .collect()
    };
    assert_eq!(ask(&mut b, "").len(), 3);
    assert_eq!(ask(&mut b, ", recent=1"), ["192.0.2.8:123"]);
    assert_eq!(ask(&mut b, ", limit=2").len(), 2);
    assert!(ask(&mut b, ", mincount=2").is_empty());
    // Seen at +10, +11, +12 s; now is +100 s.
    assert_eq!(ask(&mut b, ", maxlstint=88"), ["192.0.2.8:123"]);
    assert_eq!(ask(&mut b, ", minlstint=90"), ["192.0.2.7:123"]);
    assert!(ask(&mut b, ", resany=0x20").is_empty());
}

#[test]
fn restrict_nomrulist_is_refused_after_the_nonce() {
    let mut b = Bench::new(LOCAL_10);
    let (table, _) = AccessTable::build(
        &config("restrict 127.0.0.1 nomrulist\n").restrictions,
        |_| Err("no names".into()),
    );
    b.server = Responder::new(table, Some(Mru::with_capacity(4)), Discard::default());
    let nonce = nonce_of(&b.ask(opcode::REQ_NONCE, 0, ""));
    let d = b.ask(opcode::READ_MRU, 0, &format!("nonce={nonce}, frags=32"));
    let m = ControlMessage::decode(&d[0]).unwrap();
    assert_eq!(m.status >> 8, error_code::PERMISSION);
}

fn remote_request(op: u8, data: &[u8]) -> Vec<u8> {
    ControlMessage::request(op, 7, 0, data).to_vec()
}

#[test]
fn remote_clients_get_nothing_unless_a_restrict_line_names_them() {
    let mut b = Bench::new(LOCAL_10);
    for op in 0..32 {
        for data in [&b""[..], b"leap,stratum"] {
            let req = remote_request(op, data);
            assert!(b.ask_from("192.0.2.99:40000", &req).is_empty(), "op {op}");
            assert!(
                b.ask_from("[2001:db8::1]:40000", &req).is_empty(),
                "op {op}"
            );
        }
    }
    let mut b = Bench::new(&format!(
        "{LOCAL_10}restrict default\nrestrict 192.0.2.0 mask 255.255.255.0\n"
    ));
    let req = remote_request(opcode::READVAR, b"");
    assert!(!b.ask_from("192.0.2.99:40000", &req).is_empty());
    assert!(b.ask_from("198.51.100.1:40000", &req).is_empty());
}

#[test]
fn named_remote_clients_are_rate_limited_in_bytes() {
    let mut b = Bench::new(&format!(
        "{LOCAL_10}restrict 192.0.2.0 mask 255.255.255.0\n"
    ));
    let req = remote_request(opcode::READVAR, b"");
    let mut bytes = 0usize;
    let mut answered = 0;
    for _ in 0..1000 {
        let d = b.ask_from("192.0.2.99:40000", &req);
        bytes += d.iter().map(Vec::len).sum::<usize>();
        answered += usize::from(!d.is_empty());
    }
    assert!(bytes as f64 <= policy::CLIENT_BURST_BYTES, "{bytes}");
    assert!(answered >= 20, "{answered}");
    // The budget comes back at its rate.
    b.mono += 1.0;
    assert!(!b.ask_from("192.0.2.99:40000", &req).is_empty());
    // Loopback is never limited.
    for _ in 0..1000 {
        assert!(!b.ask_from(LOOPBACK, &req).is_empty());
    }
}

/// The amplification table: request and answer bytes per opcode, for a
/// loopback client and for a remote one under the default policy.
#[test]
fn amplification_by_opcode() {
    let mut b = Bench::new(LOCAL_10);
    let nonce = nonce_of(&b.ask(opcode::REQ_NONCE, 0, ""));
    let mru_params = format!("nonce={nonce}, frags=32");
    let cases: Vec<(&str, u8, u16, String)> = vec![
        ("READSTAT", opcode::READSTAT, 0, String::new()),
        ("READVAR sys", opcode::READVAR, 0, String::new()),
        (
            "READVAR leap,stratum",
            opcode::READVAR,
            0,
            "leap,stratum".into(),
        ),
        ("READVAR peer", opcode::READVAR, 1, String::new()),
        ("READCLOCK", opcode::READCLOCK, 0, String::new()),
        ("REQ_NONCE", opcode::REQ_NONCE, 0, String::new()),
        ("READ_MRU (nonce)", opcode::READ_MRU, 0, mru_params),
        (
            "READ_MRU (no nonce)",
            opcode::READ_MRU,
            0,
            "frags=32".into(),
        ),
        ("WRITEVAR", opcode::WRITEVAR, 0, "leap=1".into()),
        ("CONFIGURE", opcode::CONFIGURE, 0, "server x".into()),
        ("SETTRAP", opcode::SETTRAP, 0, String::new()),
        ("opcode 20", 20, 0, String::new()),
    ];
    eprintln!(
        "{:<22} {:>7} {:>10} {:>10}",
        "request", "bytes", "loopback", "remote"
    );
    for (name, op, assoc, data) in cases {
        let req = ControlMessage::request(op, 7, assoc, data.as_bytes()).to_vec();
        let local: usize = b.ask_from(LOOPBACK, &req).iter().map(Vec::len).sum();
        let remote: usize = b
            .ask_from("192.0.2.99:40000", &req)
            .iter()
            .map(Vec::len)
            .sum();
        eprintln!("{name:<22} {:>7} {local:>10} {remote:>10}", req.len());
        assert_eq!(remote, 0, "{name}");
        let proven = op != opcode::READ_MRU || data.starts_with("nonce");
        assert_eq!(local > 0, proven, "{name}");
    }
}

/// xorshift64: a fixed, dependency-free stream of test bytes.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn hostile_requests_never_panic_and_answers_stay_bounded() {
    let mut b = Bench::new(LOCAL_10);
    let nonce = nonce_of(&b.ask(opcode::REQ_NONCE, 0, ""));
    let texts = [
        String::new(),
        "leap,stratum".into(),
        format!("nonce={nonce}, frags=32, addr.0=1.2.3.4:5, last.0=0x1.2"),
        format!("nonce={nonce}, limit=1, addr.15=[::1]:1, last.15=0xffffffff.ffffffff, addr.99=x"),
        "\"unterminated, =, ,,, =x".into(),
        "nonce=é".repeat(20),
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..20_000 {
        let op = (next(&mut state) % 32) as u8;
        let assoc = (next(&mut state) % 4) as u16;
        let mut bytes = match i % 3 {
            0 => {
                let t = &texts[i % texts.len()];
                ControlMessage::request(op, 1, assoc, t.as_bytes()).to_vec()
            }
            1 => {
                let len = 12 + (next(&mut state) % 600) as usize;
                (0..len).map(|_| next(&mut state) as u8).collect()
            }
            _ => {
                let mut v = ControlMessage::request(op, 1, assoc, b"stratum").to_vec();
                let at = (next(&mut state) as usize) % v.len();
                v[at] ^= next(&mut state) as u8;
                v
            }
        };
        // Mostly mode 6, so that the bytes get past the first checks.
        if i % 2 == 0 {
            bytes[0] = (bytes[0] & !7) | 6;
        }
        let answer = b.ask_from(LOOPBACK, &bytes);
        for d in &answer {
            let m = ControlMessage::decode(d).expect("our answers decode");
            assert!(m.response);
        }
        let total: usize = answer.iter().map(Vec::len).sum();
        assert!(total <= 32 * 512, "{total}");
    }
}

/// Sockets as the reference daemon has them: the wildcards dropped, lo's
/// two addresses serving; opened at MONO_START, with some traffic.
fn reference_interfaces() -> Vec<Interface> {
    let socket =
        |number, name: &str, addr: &str, serving, flags, traffic: (u64, u64, u64)| Interface {
            number,
            name: name.into(),
            addr: addr.parse().unwrap(),
            serving,
            flags,
            opened: MONO_START,
            received: traffic.0,
            sent: traffic.1,
            send_failed: traffic.2,
        };
    vec![
        socket(0, "v6wildcard", "[::]:123", false, 0x81, (0, 0, 0)),
        socket(1, "v4wildcard", "0.0.0.0:123", false, 0x89, (2, 5, 0)),
        socket(2, "lo", "127.0.0.1:123", true, 0x5, (7, 6, 1)),
        socket(3, "lo", "[::1]:123", true, 0x5, (0, 0, 0)),
    ]
}

/// A bench with keys 1 (SHA1, the control key) and 2 (MD5, trusted), the
/// reference's restrict lines and sockets.
fn ordlist_bench() -> Bench {
    let mut conf = config(&format!(
        "{LOCAL_10}restrict default nomodify\nrestrict 127.0.0.1\nrestrict ::1\n\
         trustedkey 1 2\ncontrolkey 1\n"
    ));
    conf.keyring = [
        (1, Algorithm::Sha1, b"control secret".as_slice()),
        (2, Algorithm::Md5, b"harness-md5-key".as_slice()),
    ]
    .iter()
    .map(|&(id, algorithm, secret)| Key {
        id,
        algorithm,
        secret: secret.to_vec(),
        access: Vec::new(),
        line: id as usize,
    })
    .collect();
    let mut b = Bench::new(LOCAL_10);
    b.control = control(&conf);
    let (table, _) = AccessTable::build(&conf.restrictions, |_| Err("no names".into()));
    b.server = Responder::new(table, Some(Mru::with_capacity(4)), Discard::default());
    b.interfaces = reference_interfaces();
    b
}

/// A READ_ORDLIST_A signed with key `id` of [`ordlist_bench`].
fn ordlist_request(id: u32, data: &[u8]) -> Vec<u8> {
    let (algorithm, secret): (Algorithm, &[u8]) = match id {
        1 => (Algorithm::Sha1, b"control secret"),
        _ => (Algorithm::Md5, b"harness-md5-key"),
    };
    let mut bytes = ControlMessage::request(opcode::READ_ORDLIST_A, 7, 0, data).to_vec();
    bytes.resize(bytes.len().next_multiple_of(8), 0);
    let mut ring = Keyring::new();
    ring.insert(id, algorithm, secret).unwrap();
    let covered = bytes.clone();
    ring.sign(id, &covered, &mut bytes).unwrap();
    bytes
}

/// The answer's variables as `name=value` strings, and the key that
/// signed every datagram.
fn ordlist_answer(b: &mut Bench, id: u32, data: &[u8]) -> (Vec<String>, Vec<u32>) {
    let d = b.ask_from(LOOPBACK, &ordlist_request(id, data));
    let signers = d
        .iter()
        .map(|f| match ControlMessage::decode(f).unwrap().mac {
            Some(MacField::Mac { key_id, .. }) => key_id,
            _ => 0,
        })
        .collect();
    let (data, status, assoc) = reassemble(&d);
    assert_eq!((status, assoc), (0, 0));
    let text = String::from_utf8(data).unwrap();
    assert!(text.ends_with("\r\n"), "{text:?}");
    let vars = crate::proto::varlist::parse(text.as_bytes())
        .into_iter()
        .map(|v| format!("{}={}", v.name, v.value.unwrap_or_default()))
        .collect();
    (vars, signers)
}

#[test]
fn ifstats_with_the_control_key_lists_every_socket_signed() {
    let mut b = ordlist_bench();
    b.mono = MONO_START + 3.7;
    let expected = [
        "name.0=v6wildcard",
        "addr.0=[::]:123",
        "bcast.0=",
        "en.0=0",
        "flags.0=0x81",
        "rx.0=0",
        "tx.0=0",
        "txerr.0=0",
        "pc.0=0",
        "up.0=3",
        "name.1=v4wildcard",
        "addr.1=0.0.0.0:123",
        "bcast.1=",
        "en.1=0",
        "flags.1=0x89",
        "rx.1=2",
        "tx.1=5",
        "txerr.1=0",
        "pc.1=0",
        "up.1=3",
        "name.2=lo",
        "addr.2=127.0.0.1:123",
        "bcast.2=",
        "en.2=1",
        "flags.2=0x5",
        "rx.2=7",
        "tx.2=6",
        "txerr.2=1",
        "pc.2=0",
        "up.2=3",
        "name.3=lo",
        "addr.3=[::1]:123",
        "bcast.3=",
        "en.3=1",
        "flags.3=0x5",
        "rx.3=0",
        "tx.3=0",
        "txerr.3=0",
        "pc.3=0",
        "up.3=3",
    ];
    // Our ntpq sends no data, NTPsec's sends "ifstats": the same answer.
    for data in [&b""[..], b"ifstats"] {
        let (vars, signers) = ordlist_answer(&mut b, 1, data);
        assert_eq!(vars, expected, "{data:?}");
        assert_eq!(signers, [1]);
    }
    // An association whose packets arrive at 127.0.0.1 counts on its
    // socket; one at another address, or a refclock, does not.
    let mut peer = b.view.peers[0].clone();
    peer.assoc_id = 2;
    peer.dstadr = Some("127.0.0.1:123".parse().unwrap());
    b.view.peers.push(peer.clone());
    peer.dstadr = Some("192.0.2.1:123".parse().unwrap());
    b.view.peers.push(peer);
    let (vars, _) = ordlist_answer(&mut b, 1, b"");
    let pcs: Vec<&String> = vars.iter().filter(|v| v.starts_with("pc.")).collect();
    assert_eq!(pcs, ["pc.0=0", "pc.1=0", "pc.2=1", "pc.3=0"]);
    // A machine with many addresses: the answer comes in fragments, each
    // signed, and reassembles to every row.
    let many = b.interfaces[2].clone();
    b.interfaces = (0..20)
        .map(|n| Interface {
            number: n,
            ..many.clone()
        })
        .collect();
    let (vars, signers) = ordlist_answer(&mut b, 1, b"ifstats");
    assert!(signers.len() >= 2, "fragmented: {signers:?}");
    assert!(signers.iter().all(|&k| k == 1), "{signers:?}");
    assert_eq!(vars.len(), 20 * 10);
    assert_eq!(vars[vars.len() - 1], "up.19=3");
}

#[test]
fn reslist_with_the_control_key_gives_the_table_in_order_with_hits() {
    let mut b = ordlist_bench();
    // Packets as they arrive are classified: two from 127.0.0.1, one
    // from elsewhere.
    let mut request = [0u8; 48];
    request[0] = 0x23;
    let mut out = [0u8; 64];
    let system = SystemState::unsynchronised(-20);
    for from in ["127.0.0.1:40000", "127.0.0.1:40001", "192.0.2.9:123"] {
        let from: SocketAddr = from.parse().unwrap();
        b.server
            .respond(&request, from, NtpTimestamp::ZERO, 0.0, &system, &mut out);
    }
    let (vars, signers) = ordlist_answer(&mut b, 1, b"addr_restrictions");
    assert!(signers.iter().all(|&k| k == 1), "{signers:?}");
    let ones6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    assert_eq!(
        vars,
        [
            "addr.0=127.0.0.1",
            "mask.0=255.255.255.255",
            "flags.0=",
            "hits.0=2",
            "addr.1=0.0.0.0",
            "mask.1=0.0.0.0",
            "flags.1=nomodify",
            "hits.1=1",
            "addr.2=::1",
            &format!("mask.2={ones6}"),
            "flags.2=",
            "hits.2=0",
            "addr.3=::",
            "mask.3=::",
            "flags.3=nomodify",
            "hits.3=0",
        ]
    );
}

#[test]
fn ordered_lists_need_the_control_key_and_a_known_list_name() {
    let mut b = ordlist_bench();
    // A trusted key that is not the control key: PERMISSION, signed.
    let d = b.ask_from(LOOPBACK, &ordlist_request(2, b"ifstats"));
    assert_eq!(d.len(), 1);
    let m = ControlMessage::decode(&d[0]).unwrap();
    assert!(m.error);
    assert_eq!(m.status >> 8, error_code::PERMISSION);
    assert!(matches!(m.mac, Some(MacField::Mac { key_id: 2, .. })));
    // Unsigned: PERMISSION, unsigned (classic's AUTH opcodes).
    for data in ["", "ifstats", "addr_restrictions"] {
        assert_eq!(
            b.error(opcode::READ_ORDLIST_A, 0, data),
            error_code::PERMISSION
        );
    }
    // Any other list: UNKNOWNVAR, as read_ordlist answers.
    for data in [&b"reslist"[..], b"ifstats,", b"addr_restrictions "] {
        let d = b.ask_from(LOOPBACK, &ordlist_request(1, data));
        let m = ControlMessage::decode(&d[0]).unwrap();
        assert!(m.error, "{data:?}");
        assert_eq!(m.status >> 8, error_code::UNKNOWNVAR, "{data:?}");
    }
}
