//! ntpq against a scripted mode 6 server on loopback: exact output of
//! every command family for answers taken from the reference lab capture
//! (shared/reference/wire, ntpq), the requests it sends, its messages and
//! exit codes when nothing answers or nothing listens.
//!
//! Everything that could look names up runs with -n (or, for the name
//! tests, in a namespace of its own), so no DNS query leaves the machine.

mod common;
mod ntpq_responder;

use std::io::Write;
use std::net::UdpSocket;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ntpbox::auth::{Algorithm, Keyring};
use ntpq_responder::{
    ntp_seconds_ago, ntp_secs_now, ntp_ts, Delivery, Reply, Request, Responder, Script,
};

/// ntpq's own opcodes, as they go on the wire.
const READSTAT: u8 = 1;
const READVAR: u8 = 2;
const READCLOCK: u8 = 4;
const WRITEVAR: u8 = 3;
const CONFIGURE: u8 = 8;
const READ_MRU: u8 = 10;
const READ_ORDLIST_A: u8 = 11;
const REQ_NONCE: u8 = 12;
/// Error codes of the E bit.
const CERR_BADASSOC: u8 = 4;
const CERR_UNKNOWNVAR: u8 = 5;

/// The system status of the lab: leap_none, sync_unspec, 1 event, restart.
const LAB_SYSTEM_STATUS: u16 = 0x0016;

/// ntpsec's answer to READVAR for the system variables (capture #2).
const LAB_SYSVARS: &[u8] =
    b"leap=0, stratum=3, precision=-24, rootdelay=0.049, rootdisp=1.060,\r\n\
refid=198.18.0.2, reftime=0xeeaca5bc.b6c7cab5, tc=3, peer=17768,\r\n\
offset=0.000000, frequency=0.000000, sys_jitter=0.029866,\r\n\
clk_jitter=0.000060, clock=0xeeaca5c0.d20398b8, processor=\"x86_64\",\r\n\
system=\"Linux/6.18.44-fc-v669\", version=\"ntpd ntpsec-1.2.2\",\r\n\
clk_wander=0.000000, mintc=0\r\n";

/// ntpsec's answer to READSTAT (capture #4): eight associations, newest
/// first, each ID and peer status word.
const LAB_ASSOCIATIONS: [(u16, u16); 8] = [
    (17774, 0x8011),
    (17773, 0xa011),
    (17772, 0xb514),
    (17771, 0xb114),
    (17770, 0xb31a),
    (17769, 0xb414),
    (17768, 0xb62a),
    (17767, 0x8013),
];

/// `when` ages chosen so that a second more or less does not change what
/// is printed (50m, 28h, 5d), since ntpq reads its own clock.
const AGE_50M: u64 = 3000;
const AGE_28H: u64 = 100_000;
const AGE_5D: u64 = 400_000;

/// The peer variables of each lab association, as ntpsec sends them.
fn lab_peer(id: u16) -> String {
    let (addr, rest) = match id {
        17767 => (
            "127.127.1.0",
            format!(
                "hmode=3, stratum=10, ppoll=4, hpoll=3, refid=LOCL, reach=0x0, delay=0.000000, \
offset=0.000000, jitter=0.000000, dispersion=15937.500000, rec={}, srchost=\"LOCAL(0)\"",
                ntp_seconds_ago(AGE_50M)
            ),
        ),
        17768 => (
            "198.18.0.2",
            format!(
                "hmode=3, stratum=2, ppoll=3, hpoll=3, refid=127.127.1.1, reach=0xff, delay=0.0507, \
offset=0.0153, jitter=0.0016, rec={}",
                ntp_seconds_ago(AGE_28H)
            ),
        ),
        17769 => (
            "198.18.0.3",
            format!(
                "hmode=3, stratum=3, ppoll=3, hpoll=3, refid=198.18.0.2, reach=0x3, delay=0.1673, \
offset=0.0473, jitter=0.0126, rec={}",
                ntp_seconds_ago(AGE_5D)
            ),
        ),
        17770 => (
            "198.18.0.4",
            format!(
                "hmode=3, stratum=1, ppoll=3, hpoll=3, refid=, reach=0xff, delay=0.1571, \
offset=0.0488, jitter=0.0128, rec={}",
                ntp_seconds_ago(AGE_50M)
            ),
        ),
        17771 => (
            "198.18.0.5",
            format!(
                "hmode=3, stratum=2, ppoll=3, hpoll=3, refid=198.18.0.2, reach=0xff, delay=0.2036, \
offset=350.0637, jitter=0.0206, rec={}",
                ntp_seconds_ago(AGE_50M)
            ),
        ),
        17772 => (
            "198.18.0.6",
            format!(
                "hmode=3, stratum=3, ppoll=3, hpoll=3, refid=198.18.0.2, reach=0xff, delay=0.1846, \
offset=0.5430, jitter=0.2016, rec={}",
                ntp_seconds_ago(AGE_50M)
            ),
        ),
        _ => (
            if id == 17773 { "198.18.0.7" } else { "198.18.0.8" },
            "hmode=3, stratum=16, ppoll=4, hpoll=4, refid=INIT, reach=0x0, delay=0.000000, \
offset=0.000000, jitter=0.000100, rec=0x00000000.00000000, reftime=0x00000000.00000000"
                .to_string(),
        ),
    };
    format!("srcadr={addr}, srcport=123, dstadr=198.18.0.1, dstport=123, leap=0, {rest}\r\n")
}

fn lab_status(id: u16) -> Option<u16> {
    LAB_ASSOCIATIONS
        .iter()
        .find(|(a, _)| *a == id)
        .map(|(_, s)| *s)
}

fn readstat_data() -> Vec<u8> {
    LAB_ASSOCIATIONS
        .iter()
        .flat_map(|(id, status)| [id.to_be_bytes(), status.to_be_bytes()].concat())
        .collect()
}

/// The lab daemon: system and peer variables, the association list.
fn lab_script() -> Script {
    Box::new(|r: &Request| match (r.opcode, r.association) {
        (READSTAT, _) => Reply::data(LAB_SYSTEM_STATUS, &readstat_data()),
        (READVAR, 0) if r.data.is_empty() => Reply::data(LAB_SYSTEM_STATUS, LAB_SYSVARS),
        (READVAR, 0) if r.text() == "leap,stratum" => {
            Reply::data(LAB_SYSTEM_STATUS, b"leap=0, stratum=3\r\n")
        }
        (READVAR, id) => match lab_status(id) {
            Some(status) => Reply::data(status, lab_peer(id).as_bytes()),
            None => Reply::Error(CERR_BADASSOC),
        },
        _ => Reply::Error(CERR_UNKNOWNVAR),
    })
}

fn ntpq(args: &[&str]) -> Output {
    let mut cmd = common::applet("ntpq");
    cmd.args(args).env("TZ", "UTC").stdin(Stdio::null());
    run(cmd)
}

fn run(mut cmd: Command) -> Output {
    let out = cmd.output().expect("run ntpq");
    println!(
        "$ {cmd:?} -> {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const PEERS_HEADER: &str =
    "     remote           refid      st t when poll reach   delay   offset  jitter\n";

fn rule() -> String {
    format!("{}\n", "=".repeat(78))
}

#[test]
fn peers_table_of_the_reference_lab() {
    let server = Responder::start(lab_script());
    let out = ntpq(&["-pn", &server.host()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    let want = format!(
        "{PEERS_HEADER}{}\
\x20LOCAL(0)        .LOCL.          10 l  50m    8    0    0.000    0.000   0.000\n\
*198.18.0.2      LOCAL(1)         2 u  28h    8  377    0.051    0.015   0.002\n\
+198.18.0.3      198.18.0.2       3 u   5d    8    3    0.167    0.047   0.013\n\
-198.18.0.4                       1 u  50m    8  377    0.157    0.049   0.013\n\
x198.18.0.5      198.18.0.2       2 u  50m    8  377    0.204  350.064   0.021\n\
#198.18.0.6      198.18.0.2       3 u  50m    8  377    0.185    0.543   0.202\n\
\x20198.18.0.7      .INIT.          16 u    -   16    0    0.000    0.000   0.000\n\
\x20198.18.0.8      .INIT.          16 u    -   16    0    0.000    0.000   0.000\n",
        rule()
    );
    assert_eq!(stdout(&out), want);
    // One READSTAT, then one READVAR per association, in ID order, all
    // version 2 requests of 12 bytes as ntpq sends them.
    let reqs = server.requests();
    let ops: Vec<(u8, u16)> = reqs.iter().map(|r| (r.opcode, r.association)).collect();
    let mut want_ops = vec![(READSTAT, 0)];
    want_ops.extend((17767..=17774).map(|id| (READVAR, id)));
    assert_eq!(ops, want_ops);
    assert!(reqs.iter().all(|r| r.version == 2 && r.len == 12));
    let sequences: Vec<u16> = reqs.iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, (1..=9).collect::<Vec<u16>>());
}

#[test]
fn peers_aliases_lpeers_and_the_family_filter() {
    let server = Responder::start(lab_script());
    let p = stdout(&ntpq(&["-n", "-c", "pe", &server.host()]));
    assert_eq!(p.lines().count(), 10);
    assert_eq!(stdout(&ntpq(&["-n", "-c", "peers", &server.host()])), p);
    assert_eq!(stdout(&ntpq(&["-n", "-c", "lpeers", &server.host()])), p);
    let v6 = stdout(&ntpq(&["-n", "-c", "peers -6", &server.host()]));
    assert_eq!(v6, format!("{PEERS_HEADER}{}", rule()));
    let opeers = stdout(&ntpq(&["-n", "-c", "opeers", &server.host()]));
    let lines: Vec<&str> = opeers.lines().collect();
    assert_eq!(
        lines[0],
        "     remote           local      st t when poll reach   delay   offset    disp"
    );
    assert_eq!(
        lines[3],
        "*198.18.0.2      198.18.0.1       2 u  28h    8  377    0.051    0.015   0.000"
    );
}

#[test]
fn a_long_remote_name_gets_its_own_line_with_w() {
    let server = Responder::start(Box::new(|r: &Request| match r.opcode {
        READSTAT => Reply::data(0, &[0x45, 0x67, 0x96, 0x14]),
        _ => Reply::data(
            0x9614,
            b"srcadr=198.18.0.2, hmode=3, stratum=2, refid=198.18.0.1, ppoll=6, hpoll=6, \
reach=0x1, delay=1.5, offset=-0.25, jitter=0.125, srchost=\"ntp1.time.example.org\"",
        ),
    }));
    let row_end = "198.18.0.1       2 u    -   64    1    1.500   -0.250   0.125\n";
    let narrow = stdout(&ntpq(&["-pn", &server.host()]));
    assert_eq!(
        narrow.lines().nth(2).map(|l| format!("{l}\n")),
        Some(format!("*ntp1.time.examp {row_end}"))
    );
    let wide = stdout(&ntpq(&["-pnw", &server.host()]));
    assert!(
        wide.ends_with(&format!(
            "*ntp1.time.example.org\n                 {row_end}"
        )),
        "{wide}"
    );
}

#[test]
fn associations_table() {
    let server = Responder::start(lab_script());
    let out = ntpq(&["-c", "as", &server.host()]);
    assert_eq!(
        stdout(&out),
        "\nind assid status  conf reach auth condition  last_event cnt\n\
===========================================================\n\
\x20 1 17767  8013   yes    no  none    reject unreachable  1\n\
\x20 2 17768  b62a   yes   yes  none  sys.peer    sys_peer  2\n\
\x20 3 17769  b414   yes   yes  none candidate   reachable  1\n\
\x20 4 17770  b31a   yes   yes  none   outlier    sys_peer  1\n\
\x20 5 17771  b114   yes   yes  none falsetick   reachable  1\n\
\x20 6 17772  b514   yes   yes  none    backup   reachable  1\n\
\x20 7 17773  a011   yes    no  none    reject    mobilize  1\n\
\x20 8 17774  8011   yes    no  none    reject    mobilize  1\n"
    );
    assert_eq!(
        stdout(&ntpq(&["-c", "lassociations", &server.host()])),
        stdout(&out)
    );
}

#[test]
fn readvar_prints_the_status_line_and_wraps_the_variables() {
    let server = Responder::start(lab_script());
    let out = ntpq(&["-c", "rv", &server.host()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "associd=0 status=0016 leap_none, sync_unspec, 1 event, restart,\n\
leap=00, stratum=3, precision=-24, rootdelay=0.049, rootdisp=1.060,\n\
refid=198.18.0.2,\n\
reftime=eeaca5bc.b6c7cab5  Sat, Nov 21 2026 23:20:28.713, tc=3,\n\
peer=17768, offset=0.000000, frequency=0.000000, sys_jitter=0.029866,\n\
clk_jitter=0.000060,\n\
clock=eeaca5c0.d20398b8  Sat, Nov 21 2026 23:20:32.820,\n\
processor=\"x86_64\", system=\"Linux/6.18.44-fc-v669\",\n\
version=\"ntpd ntpsec-1.2.2\", clk_wander=0.000000, mintc=0\n"
    );
    let rv = server.requests().pop().unwrap();
    assert_eq!((rv.opcode, rv.association, rv.len), (READVAR, 0, 12));
}

#[test]
fn readvar_of_a_classic_synchronised_daemon() {
    let server = Responder::start(Box::new(|_: &Request| {
        Reply::data(
            0x0615,
            b"version=\"ntpd 4.2.8p15@1.3728-o\", leap=0, stratum=2, refid=192.168.1.1, tc=10",
        )
    }));
    let out = ntpq(&["-c", "rv", &server.host()]);
    assert_eq!(
        stdout(&out),
        "associd=0 status=0615 leap_none, sync_ntp, 1 event, clock_sync,\n\
version=\"ntpd 4.2.8p15@1.3728-o\", leap=00, stratum=2, refid=192.168.1.1,\n\
tc=10\n"
    );
}

#[test]
fn named_variables_print_without_the_status_line() {
    let server = Responder::start(lab_script());
    let out = ntpq(&["-c", "rv 0 leap,stratum", &server.host()]);
    assert_eq!(stdout(&out), "leap=00, stratum=3\n");
    let r = server.requests().pop().unwrap();
    assert_eq!(
        (r.opcode, r.text(), r.len),
        (READVAR, "leap,stratum".into(), 24)
    );
    // Several variable arguments make one list.
    let out = ntpq(&["-c", "readvar 0 leap stratum", &server.host()]);
    assert_eq!(stdout(&out), "leap=00, stratum=3\n");
}

#[test]
fn peer_variables_by_index_and_by_id() {
    let server = Responder::start(lab_script());
    let by_index = stdout(&ntpq(&["-n", "-c", "rv &2", &server.host()]));
    assert!(
        by_index.starts_with(
            "associd=17768 status=b62a conf, auth, reach, sel_sys.peer, 2 events, sys_peer,\n\
srcadr=198.18.0.2, srcport=123, dstadr=198.18.0.1, dstport=123, leap=00,\n"
        ),
        "{by_index}"
    );
    assert!(by_index.contains("refid=LOCAL(1), reach=377,\ndelay=0.0507,"));
    let by_id = stdout(&ntpq(&["-n", "-c", "rv 17768", &server.host()]));
    // The two differ only in `rec`, which carries the time of the answer.
    let strip = |s: &str| -> String { s.lines().filter(|l| !l.contains("rec=")).collect() };
    assert_eq!(strip(&by_index), strip(&by_id));
    // &N past the end means the last association.
    let last = stdout(&ntpq(&["-n", "-c", "rv &99", &server.host()]));
    assert!(last.starts_with("associd=17774 status=8011 conf, sel_reject, 1 event, mobilize,\n"));
}

#[test]
fn bad_association_ids_and_server_errors() {
    let server = Responder::start(lab_script());
    let out = ntpq(&["-c", "rv 5", &server.host()]);
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "***Association ID 5 unknown to server\n");
    assert_eq!(out.status.code(), Some(0));
    let out = ntpq(&["-c", "rv 70000", &server.host()]);
    assert_eq!(stderr(&out), "***Invalid association ID 70000 specified\n");
    let out = ntpq(&["-c", "rv x", &server.host()]);
    assert_eq!(stderr(&out), "***Illegal unsigned value x\n");
    let out = ntpq(&["-c", "mrv 17767 5", &server.host()]);
    assert_eq!(stderr(&out), "***Association ID 5 not found in list\n");
    let out = ntpq(&["-c", "bogus", "-c", "p", &server.host()]);
    assert_eq!(
        stderr(&out),
        "***Command `bogus' unknown\n***Command `p' ambiguous\n"
    );
    assert_eq!(stdout(&out), "");
    let out = ntpq(&["-c", "writevar", &server.host()]);
    assert_eq!(stderr(&out), "usage: writevar assocID name=value,[...]\n");
}

#[test]
fn mreadvar_reads_a_range_of_associations() {
    let server = Responder::start(lab_script());
    let out = ntpq(&["-n", "-c", "mrv &7 &8 srcadr,stratum", &server.host()]);
    assert_eq!(
        stdout(&out),
        "srcadr=198.18.0.7, srcport=123, dstadr=198.18.0.1, dstport=123, leap=00,\n\
hmode=3, stratum=16, ppoll=4, hpoll=4, refid=INIT, reach=000,\n\
delay=0.000000, offset=0.000000, jitter=0.000100, rec=(no time),\n\
reftime=(no time)\n\
srcadr=198.18.0.8, srcport=123, dstadr=198.18.0.1, dstport=123, leap=00,\n\
hmode=3, stratum=16, ppoll=4, hpoll=4, refid=INIT, reach=000,\n\
delay=0.000000, offset=0.000000, jitter=0.000100, rec=(no time),\n\
reftime=(no time)\n"
    );
    let asked: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.opcode == READVAR)
        .map(|r| format!("{} {}", r.association, r.text()))
        .collect();
    assert_eq!(asked, ["17773 srcadr,stratum", "17774 srcadr,stratum"]);
}

#[test]
fn the_variable_list_commands() {
    let server = Responder::start(lab_script());
    let mut child = common::applet("ntpq")
        .args(["-n", &server.host()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"showvars\naddvars leap,stratum\nshowvars\nrl\nrmvars leap\nrmvars nope\nshowvars\nclearvars\nshowvars\nquit\nrv\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        stdout(&out),
        "No variables on list\nleap\nstratum\nleap=00, stratum=3\nstratum\nNo variables on list\n"
    );
    assert_eq!(stderr(&out), "Variable `nope' not found\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn raw_mode_shows_the_servers_text() {
    let server = Responder::start(lab_script());
    let out = ntpq(&[
        "-c",
        "raw",
        "-c",
        "rv 0 leap,stratum",
        "-c",
        "rv",
        &server.host(),
    ]);
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "Output set to raw\n\nleap=0, stratum=3\n\nassocid=0 status=0x0016,\n\
leap=0, stratum=3, precision=-24, rootdelay=0.049, rootdisp=1.060,\n\
refid=198.18.0.2, reftime=0xeeaca5bc.b6c7cab5, tc=3, peer=17768,\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("clk_wander=0.000000, mintc=0\n"));
}

#[test]
fn clock_variables() {
    let server = Responder::start(Box::new(|r: &Request| match r.opcode {
        READSTAT => Reply::data(0, &[0x45, 0x67, 0x80, 0x13]),
        READCLOCK if r.association == 17767 => Reply::data(
            0,
            b"name=\"LOCAL\", timecode=\"\", poll=2, noreply=0, badformat=0, baddata=0,\r\n\
stratum=10, refid=76.79.67.76, flags=0, device=\"Undisciplined local clock\"\r\n",
        ),
        _ => Reply::Error(CERR_BADASSOC),
    }));
    let out = ntpq(&["-c", "cv &1", &server.host()]);
    assert_eq!(
        stdout(&out),
        "associd=17767 status=0000 no events, clk_unspec,\n\
name=\"LOCAL\", timecode=\"\", poll=2, noreply=0, badformat=0, baddata=0,\n\
stratum=10, refid=LOCL, flags=0, device=\"Undisciplined local clock\"\n"
    );
}

/// Numbers the summary commands read, as classic ntpd names them.
fn stats_script() -> Script {
    Box::new(|r: &Request| {
        let wanted = r.text();
        let all = "ss_uptime=161, ss_reset=161, ss_received=897, ss_thisver=132, ss_oldver=0, \
ss_badformat=0, ss_badauth=0, ss_declined=0, ss_restricted=0, ss_limited=0, ss_kodsent=0, \
ss_processed=896, iostats_reset=161, total_rbuf=10, free_rbuf=9, used_rbuf=0, rbuf_lowater=1, \
io_dropped=0, io_ignored=0, io_received=897, io_sent=1584, io_sendfailed=0, io_wakeups=885, \
io_goodwakeups=885, mru_enabled=0x3, mru_depth=7, mru_deepest=7, mru_maxdepth=10922, \
mru_mindepth=600, mru_maxage=3600, mru_mem=1, mru_maxmem=1024, peeradr=198.18.0.2:123, \
peermode=3, leap=0, stratum=3, precision=-24, rootdelay=0.051, rootdisp=1.030, \
refid=198.18.0.2, reftime=0xeeacaf3c.b6732789, sys_jitter=0.039156, clk_jitter=0.000060, \
clk_wander=0.000000, authdelay=0.000000, koffset=0, kfreq=0, kmaxerr=16, kesterr=16, \
kstflags=unsync, ktimeconst=2, kprecis=1e-06, kfreqtol=500";
        // Like ntpsec, refuse a list holding a variable it does not know.
        let known: Vec<&str> = all
            .split(", ")
            .map(|v| v.split('=').next().unwrap())
            .collect();
        let names: Vec<&str> = wanted.split(',').collect();
        if names.iter().any(|n| !known.contains(n)) {
            return Reply::Error(CERR_UNKNOWNVAR);
        }
        let answer: Vec<&str> = all
            .split(", ")
            .filter(|v| names.contains(&v.split('=').next().unwrap()))
            .collect();
        Reply::data(LAB_SYSTEM_STATUS, answer.join(", ").as_bytes())
    })
}

#[test]
fn summary_commands_label_each_value() {
    let server = Responder::start(stats_script());
    let out = ntpq(&["-n", "-c", "sysinfo", &server.host()]);
    assert_eq!(
        stdout(&out),
        "associd=0 status=0016 leap_none, sync_unspec, 1 event, restart,\n\
system peer:        198.18.0.2:123\n\
system peer mode:   client\n\
leap indicator:     00\n\
stratum:            3\n\
log2 precision:     -24\n\
root delay:         0.051\n\
root dispersion:    1.030\n\
reference ID:       198.18.0.2\n\
reference time:     eeacaf3c.b6732789  Sun, Nov 22 2026  0:01:00.712\n\
system jitter:      0.039156\n\
clock jitter:       0.000060\n\
clock wander:       0.000000\n\
symm. auth. delay:  0.000000\n"
    );
    assert_eq!(stderr(&out), "");
    let out = ntpq(&["-c", "sysstats", "-c", "iostats", &server.host()]);
    let text = stdout(&out);
    assert!(text.starts_with("uptime:                 161\nsysstats reset:         161\n"));
    assert!(text.contains("\nprocessed for time:     896\n\ntime since reset:       161\n"));
    assert!(text.ends_with("useful input wakeups:   885\n"));
    let out = ntpq(&["-c", "monstats", &server.host()]);
    assert_eq!(
        stdout(&out),
        "enabled:              0x3\naddresses:            7\npeak addresses:       7\n\
maximum addresses:    10922\nreclaim above count:  600\nreclaim older than:   3600\n\
kilobytes:            1\nmaximum kilobytes:    1024\n"
    );
    let out = ntpq(&["-c", "kerninfo", &server.host()]);
    assert!(stdout(&out).contains("\nkernel status:         unsync\n"));
}

#[test]
fn mrulist_fetches_a_nonce_then_the_list_in_pieces() {
    let first = ntp_seconds_ago(100);
    let last = ntp_seconds_ago(10);
    let last_seen = last.clone();
    let script: Script = Box::new(move |r: &Request| match r.opcode {
        REQ_NONCE => Reply::data(0, b"nonce=eeaca5c2bfa81b9bdf13c2e2\r\n"),
        READ_MRU if !r.text().contains("addr.0=") => Reply::data(
            0,
            format!(
                "nonce=eeaca5c2bfb56e6dbc22adf5, addr.0=198.18.0.2:123, last.0={last_seen}, \
first.0={first}, ct.0=10, mv.0=36, rs.0=0xc0, dr.0=0"
            )
            .as_bytes(),
        ),
        READ_MRU => {
            // One reading of the clock for every time of this answer.
            let now = ntp_secs_now();
            Reply::data(
                0,
                format!(
                    "addr.0=198.18.0.3:123, last.0={}, first.0={first}, ct.0=46, mv.0=35, \
rs.0=0x420, addr.1=198.18.0.2:123, last.1={}, first.1={first}, ct.1=11, mv.1=36, rs.1=0xc0, \
now={}, last.newest={}",
                    ntp_ts(now - 50),
                    ntp_ts(now - 5),
                    ntp_ts(now),
                    ntp_ts(now - 5)
                )
                .as_bytes(),
            )
        }
        _ => Reply::Error(CERR_UNKNOWNVAR),
    });
    let server = Responder::start(script);
    let out = ntpq(&["-n", "-c", "mrulist", &server.host()]);
    assert_eq!(
        stderr(&out),
        "Ctrl-C will stop MRU retrieval and display partial results.\n\
\rRetrieved 2 unique MRU entries and 1 updates.\n"
    );
    assert_eq!(
        stdout(&out),
        "lstint avgint rstr r m v  count rport remote address\n\
==============================================================================\n\
\x20    5      9   c0 . 4 4     11   123 198.18.0.2\n\
\x20   50      1  420 K 3 4     46   123 198.18.0.3\n"
    );
    let reqs = server.requests();
    let texts: Vec<(u8, String)> = reqs.iter().map(|r| (r.opcode, r.text())).collect();
    assert_eq!(texts[0], (REQ_NONCE, String::new()));
    assert_eq!(
        texts[1],
        (
            READ_MRU,
            "nonce=eeaca5c2bfa81b9bdf13c2e2, frags=32".to_string()
        )
    );
    // The second request uses the new nonce and names the entry it has.
    assert_eq!(
        texts[2],
        (
            READ_MRU,
            format!(
                "nonce=eeaca5c2bfb56e6dbc22adf5, frags=32, addr.0=198.18.0.2:123, last.0={last}"
            )
        )
    );
    let sorted = stdout(&ntpq(&[
        "-n",
        "-c",
        "mrulist sort=-count kod",
        &server.host(),
    ]));
    assert!(sorted.ends_with("198.18.0.3\n     5      9   c0 . 4 4     11   123 198.18.0.2\n"));
    let kod = server
        .requests()
        .iter()
        .rev()
        .find(|r| r.opcode == READ_MRU)
        .unwrap()
        .text();
    assert!(kod.contains(", resany=0x400"), "{kod}");
}

#[test]
fn responses_in_fragments_arriving_out_of_order() {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = Responder::on(
        socket,
        lab_script(),
        Delivery {
            fragment: 40,
            shuffle: true,
        },
    );
    let fragmented = stdout(&ntpq(&["-c", "rv", &server.host()]));
    let whole = Responder::start(lab_script());
    assert_eq!(fragmented, stdout(&ntpq(&["-c", "rv", &whole.host()])));
    assert!(fragmented.starts_with("associd=0 status=0016 "));
}

#[test]
fn several_hosts_print_one_block_each() {
    let a = Responder::start(lab_script());
    let b = Responder::start(lab_script());
    let out = ntpq(&["-c", "rv 0 leap,stratum", &a.host(), &b.host()]);
    assert_eq!(
        stdout(&out),
        format!(
            "server={} leap=00, stratum=3\n\nserver={} leap=00, stratum=3\n",
            a.host(),
            b.host()
        )
    );
    let out = ntpq(&["-n", "-p", &a.host(), &b.host()]);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("server (l {}", PEERS_HEADER.trim_end()));
    assert_eq!(lines[1], "=".repeat(78 + 10));
    // The local address, shortened from the left as ntpq does.
    assert!(
        lines[3].starts_with("_8.18.0.1 *198.18.0.2      LOCAL(1)"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[10], "");
    assert_eq!(lines.len(), 2 * 10 + 1);
}

#[test]
fn nothing_listening_is_a_read_error() {
    // A port that was free a moment ago: the kernel answers with ICMP.
    let port = common::free_udp_port();
    let host = format!("127.0.0.1:{port}");
    let out = ntpq(&["-p", &host]);
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "ntpq: read: Connection refused\n");
    assert_eq!(out.status.code(), Some(0));
    let out = ntpq(&["-c", "rv", &host]);
    assert_eq!(stderr(&out), "ntpq: read: Connection refused\n");
}

#[test]
fn silence_times_out_after_one_retry() {
    let server = Responder::start(Box::new(|_: &Request| Reply::Silent));
    let started = Instant::now();
    let out = ntpq(&["-c", "timeout 300", "-c", "rv", &server.host()]);
    let took = started.elapsed();
    assert_eq!(
        stderr(&out),
        format!(
            "{}: timed out, nothing received\n***Request timed out\n",
            server.host()
        )
    );
    // The blank line ntpq puts between the output of two -c commands.
    assert_eq!(stdout(&out), "\n");
    assert_eq!(out.status.code(), Some(0));
    // Two tries of 300 ms, the same request twice.
    assert!(took >= Duration::from_millis(600), "{took:?}");
    let seqs: Vec<u16> = server.requests().iter().map(|r| r.sequence).collect();
    assert_eq!(seqs, [1, 1]);
}

#[test]
fn commands_from_standard_input_with_and_without_a_prompt() {
    let server = Responder::start(lab_script());
    let feed = |args: &[&str], input: &[u8]| -> Output {
        let mut child = common::applet("ntpq")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };
    let piped = feed(&[&server.host()], b"rv 0 leap,stratum\nhost\n");
    assert_eq!(
        stdout(&piped),
        format!("leap=00, stratum=3\ncurrent host is {}\n", server.host())
    );
    let prompted = feed(&["-i", &server.host()], b"rv 0 leap,stratum\nquit\nrv\n");
    assert_eq!(stdout(&prompted), "ntpq> leap=00, stratum=3\nntpq> ");
    assert_eq!(prompted.status.code(), Some(0));
}

#[test]
fn builtin_commands() {
    let server = Responder::start(lab_script());
    let out = ntpq(&[
        "-c",
        "version",
        "-c",
        "timeout",
        "-c",
        "hostnames",
        "-c",
        "help rv",
        "-c",
        "keyid",
        &server.host(),
    ]);
    assert_eq!(
        stdout(&out),
        format!(
            "ntpq ntpbox-{}\n\nprimary timeout 5000 ms\n\nhostnames being shown\n\n\
function: read system or peer variables\nusage: rv [ assocID ] [ varname1 ] [ varname2 ] [ varname3 ]\n\n\
no keyid defined\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    let help = stdout(&ntpq(&["-c", "help", &server.host()]));
    let mut lines = help.lines();
    assert_eq!(lines.next(), Some("ntpq commands:"));
    let names: Vec<&str> = help.split_whitespace().skip(2).collect();
    for cmd in [
        "peers",
        "rv",
        "mrulist",
        "sysinfo",
        "quit",
        "associations",
        "writevar",
    ] {
        assert!(names.contains(&cmd), "{cmd} missing from help");
    }
    assert!(help.lines().skip(1).all(|l| l.len() <= 76));
}

#[test]
fn bad_command_lines_exit_1() {
    let out = ntpq(&["--bogus"]);
    assert_eq!(out.status.code(), Some(1));
    let out = ntpq(&["-p", "127.0.0.1:port"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "ntpq: ***Bad host `127.0.0.1:port': use HOST, HOST:PORT, [ADDRESS] or [ADDRESS]:PORT\n"
    );
    let out = ntpq(&["-4", "-6", "-p"]);
    assert_eq!(out.status.code(), Some(1));
}

/// The reference lab's control key (shared/reference/ntpq-auth/ntp.keys.used).
const LAB_KEY_ID: u32 = 1;
const LAB_KEY_HEX: &str = "8e5fe734fa6d6dabb52319633953a66dd7cd87ff";

/// ntpd's check of a signed request: header and data padded to 8 bytes,
/// key ID, then the MAC of the key over all before it.
fn verify(r: &Request, algorithm: Algorithm, secret: &[u8]) -> bool {
    let covered = (12 + r.data.len()).div_ceil(8) * 8;
    let mut ring = Keyring::new();
    ring.insert(LAB_KEY_ID, algorithm, secret).unwrap();
    ring.trust(LAB_KEY_ID);
    r.raw.len() > covered + 4
        && u32::from_be_bytes(r.raw[covered..covered + 4].try_into().unwrap()) == LAB_KEY_ID
        && ring
            .verify(&r.raw[..covered], LAB_KEY_ID, &r.raw[covered + 4..])
            .is_authentic()
}

fn lab_secret() -> Vec<u8> {
    (0..20)
        .map(|i| u8::from_str_radix(&LAB_KEY_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// A daemon with the lab's control key: signed requests are served, others
/// refused with the permission error, as ntpd does.
fn keyed_script() -> Script {
    Box::new(|r: &Request| {
        if !verify(r, Algorithm::Sha1, &lab_secret()) {
            return Reply::Error(1);
        }
        match (r.opcode, r.text().as_str()) {
            (WRITEVAR, _) => Reply::data(0, b""),
            (CONFIGURE, "server 10.0.0.1 iburst") => Reply::data(0, b"Config Succeeded\r\n"),
            (CONFIGURE, _) => Reply::data(0, b"column 8 syntax error\r\n"),
            (READ_ORDLIST_A, "") => Reply::data(
                0,
                b"name.0=\"lo\", txerr.0=0, pc.0=0, flags.0=0x5, rx.0=0, tx.0=0, up.0=3,\r\n\
bcast.0=, addr.0=127.0.0.1:123, en.0=1, bvl.0=12946",
            ),
            (READ_ORDLIST_A, "addr_restrictions") => Reply::data(
                0,
                b"hits.0=2, flags.0=, addr.0=127.0.0.1, mask.0=255.255.255.255, hits.1=0, \
flags.1=noquery nomodify limited, addr.1=0.0.0.0, mask.1=0.0.0.0",
            ),
            _ => Reply::Error(CERR_UNKNOWNVAR),
        }
    })
}

#[test]
fn writes_are_signed_with_the_key_given_by_keyid_and_passwd() {
    let server = Responder::start(keyed_script());
    let host = server.host();
    let key = ["-c", "keyid 1", "-c", "keytype sha1", "-c"];
    let passwd = format!("passwd {LAB_KEY_HEX}");
    let mut args: Vec<&str> = key.to_vec();
    args.extend([passwd.as_str(), "-c", "writevar 0 leap=1,stratum=2", &host]);
    let out = ntpq(&args);
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out), "\n\n\ndone! (no data returned)\n");
    let w = server.requests().pop().unwrap();
    assert_eq!(
        (w.opcode, w.text()),
        (WRITEVAR, "leap=1,stratum=2".to_string())
    );
    // 12 + 16 data bytes padded to 32, 4 of key ID, 20 of SHA1.
    assert_eq!(w.len, 32 + 4 + 20);

    let mut args: Vec<&str> = key.to_vec();
    args.extend([
        passwd.as_str(),
        "-c",
        ":config server 10.0.0.1 iburst",
        "-c",
        ":config server bogus line",
        "-c",
        "ifstats",
        "-c",
        "reslist",
        &host,
    ]);
    let out = ntpq(&args);
    assert_eq!(stderr(&out), "");
    assert_eq!(
        stdout(&out),
        format!(
            "\n\n\nConfig Succeeded\n\nserver bogus line\n_______^\ncolumn 8 syntax error\n\n\
\x20   interface name                                        send\n\
\x20#  address/broadcast     drop flag ttl mc received sent failed peers   uptime\n{}\
\x20 0 lo                       .    5   0  0      0      0      0     0        3\n\
\x20   127.0.0.1:123\n\n\
\x20  hits    addr/prefix or addr mask\n\
\x20          restrictions\n{}\
\x20        2 127.0.0.1/32\n           \n\
\x20        0 0.0.0.0/0\n           noquery nomodify limited\n",
            rule(),
            rule()
        )
    );
}

#[test]
fn signed_requests_need_a_key() {
    let server = Responder::start(keyed_script());
    // No key and no terminal to ask on.
    let out = ntpq(&["-c", "writevar 0 leap=1", &server.host()]);
    assert_eq!(stderr(&out), "Invalid key identifier\n");
    assert!(server.requests().is_empty());
    let out = ntpq(&["-c", "keyid 1", "-c", "ifstats", &server.host()]);
    assert_eq!(stderr(&out), "Invalid password\n");
    // The wrong key: ntpd refuses.
    let out = ntpq(&[
        "-c",
        "keyid 1",
        "-c",
        "passwd wrong",
        "-c",
        "writevar 0 leap=1",
        &server.host(),
    ]);
    assert_eq!(
        stderr(&out),
        "***Server disallowed request (authentication?)\n"
    );
    let out = ntpq(&[
        "-c",
        "keytype",
        "-c",
        "keytype bogus",
        "-c",
        "keyid 70000",
        &server.host(),
    ]);
    assert_eq!(
        stdout(&out),
        "keytype is MD5 with 16 octet digests\n\n\
keytype is not valid. Type \"help keytype\" for the available digest types.\n\n\
Invalid key identifier\n"
    );
}

#[test]
fn authenticate_yes_signs_every_request() {
    let server = Responder::start(keyed_script());
    let passwd = format!("passwd {LAB_KEY_HEX}");
    let out = ntpq(&[
        "-c",
        "keyid 1",
        "-c",
        "keytype SHA1",
        "-c",
        &passwd,
        "-c",
        "authenticate yes",
        "-c",
        "authenticate",
        "-c",
        "writelist",
        &server.host(),
    ]);
    assert_eq!(stderr(&out), "");
    assert!(
        stdout(&out).ends_with("authenticated requests being sent\n\ndone! (no data returned)\n")
    );
}

#[test]
fn ipv6_hosts_in_brackets_with_a_port() {
    let Ok(socket) = UdpSocket::bind("[::1]:0") else {
        return common::skip_or_fail("IPv6 loopback");
    };
    let server = Responder::on(socket, lab_script(), Delivery::default());
    let host = format!("[::1]:{}", server.addr().port());
    let out = ntpq(&["-c", "rv 0 leap,stratum", "-c", "host", &host]);
    assert_eq!(
        stdout(&out),
        format!("leap=00, stratum=3\n\ncurrent host is {host}\n")
    );
    // -4 finds no IPv4 address for it.
    let out = ntpq(&["-4", "-c", "rv", &host]);
    assert_eq!(
        stderr(&out),
        "***No address of the requested family for `::1'\n"
    );
    let out = ntpq(&["-6", "-c", "rv 0 leap,stratum", &host]);
    assert_eq!(stdout(&out), "leap=00, stratum=3\n");
}
