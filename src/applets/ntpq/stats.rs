//! The summary commands that ask for a fixed set of variables and print
//! one labelled line each: `sysinfo`, `kerninfo`, `sysstats`, `iostats`,
//! `monstats`, `authinfo`, `timerstats`, `pstats` (ntpq's vdc tables).

use std::collections::HashMap;
use std::net::SocketAddr;

use super::cooked::{describe_status, VarKind};
use super::names::parse_netnum;
use super::readvar::{self, VarList};
use super::session::QueryError;
use super::shell::Shell;
use super::values::{decode_ts, decode_uint, pretty_date, ValueContext};
use crate::proto::control::{error_code, opcode};
use crate::proto::{varlist, NtpTimestamp};

/// How a value is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// As sent (quotes removed); the line is left out when absent.
    Text,
    /// An address with port, named unless `-n`.
    AddrPort,
    /// Address and port from the two variables TAG`adr` and TAG`port`.
    AddrPair,
    /// A timestamp with its date.
    Timestamp,
    /// An association mode number, by name (`client`).
    Mode,
    /// The two leap bits (`00`).
    Leap,
}

struct Line {
    tag: &'static str,
    label: &'static str,
    shape: Shape,
}

const fn line(tag: &'static str, label: &'static str, shape: Shape) -> Line {
    Line { tag, label, shape }
}

use Shape::{AddrPair, AddrPort, Leap, Mode, Text, Timestamp};

const SYSINFO: &[Line] = &[
    line("peeradr", "system peer:      ", AddrPort),
    line("peermode", "system peer mode: ", Mode),
    line("leap", "leap indicator:   ", Leap),
    line("stratum", "stratum:          ", Text),
    line("precision", "log2 precision:   ", Text),
    line("rootdelay", "root delay:       ", Text),
    line("rootdisp", "root dispersion:  ", Text),
    line("refid", "reference ID:     ", Text),
    line("reftime", "reference time:   ", Timestamp),
    line("sys_jitter", "system jitter:    ", Text),
    line("clk_jitter", "clock jitter:     ", Text),
    line("clk_wander", "clock wander:     ", Text),
    line("bcastdelay", "broadcast delay:  ", Text),
    line("authdelay", "symm. auth. delay:", Text),
];

const KERNINFO: &[Line] = &[
    line("koffset", "pll offset:          ", Text),
    line("kfreq", "pll frequency:       ", Text),
    line("kmaxerr", "maximum error:       ", Text),
    line("kesterr", "estimated error:     ", Text),
    line("kstflags", "kernel status:       ", Text),
    line("ktimeconst", "pll time constant:   ", Text),
    line("kprecis", "precision:           ", Text),
    line("kfreqtol", "frequency tolerance: ", Text),
    line("kppsfreq", "pps frequency:       ", Text),
    line("kppsstab", "pps stability:       ", Text),
    line("kppsjitter", "pps jitter:          ", Text),
    line("kppscalibdur", "calibration interval ", Text),
    line("kppscalibs", "calibration cycles:  ", Text),
    line("kppsjitexc", "jitter exceeded:     ", Text),
    line("kppsstbexc", "stability exceeded:  ", Text),
    line("kppscaliberrs", "calibration errors:  ", Text),
];

const SYSSTATS: &[Line] = &[
    line("ss_uptime", "uptime:               ", Text),
    line("ss_reset", "sysstats reset:       ", Text),
    line("ss_received", "packets received:     ", Text),
    line("ss_thisver", "current version:      ", Text),
    line("ss_oldver", "older version:        ", Text),
    line("ss_badformat", "bad length or format: ", Text),
    line("ss_badauth", "authentication failed:", Text),
    line("ss_declined", "declined:             ", Text),
    line("ss_restricted", "restricted:           ", Text),
    line("ss_limited", "rate limited:         ", Text),
    line("ss_kodsent", "KoD responses:        ", Text),
    line("ss_processed", "processed for time:   ", Text),
];

const MONSTATS: &[Line] = &[
    line("mru_enabled", "enabled:            ", Text),
    line("mru_depth", "addresses:          ", Text),
    line("mru_deepest", "peak addresses:     ", Text),
    line("mru_maxdepth", "maximum addresses:  ", Text),
    line("mru_mindepth", "reclaim above count:", Text),
    line("mru_maxage", "reclaim older than: ", Text),
    line("mru_mem", "kilobytes:          ", Text),
    line("mru_maxmem", "maximum kilobytes:  ", Text),
];

const IOSTATS: &[Line] = &[
    line("iostats_reset", "time since reset:     ", Text),
    line("total_rbuf", "receive buffers:      ", Text),
    line("free_rbuf", "free receive buffers: ", Text),
    line("used_rbuf", "used receive buffers: ", Text),
    line("rbuf_lowater", "low water refills:    ", Text),
    line("io_dropped", "dropped packets:      ", Text),
    line("io_ignored", "ignored packets:      ", Text),
    line("io_received", "received packets:     ", Text),
    line("io_sent", "packets sent:         ", Text),
    line("io_sendfailed", "packet send failures: ", Text),
    line("io_wakeups", "input wakeups:        ", Text),
    line("io_goodwakeups", "useful input wakeups: ", Text),
];

const TIMERSTATS: &[Line] = &[
    line("timerstats_reset", "time since reset:  ", Text),
    line("timer_overruns", "timer overruns:    ", Text),
    line("timer_xmts", "calls to transmit: ", Text),
];

const AUTHINFO: &[Line] = &[
    line("authreset", "time since reset:", Text),
    line("authkeys", "stored keys:     ", Text),
    line("authfreek", "free keys:       ", Text),
    line("authklookups", "key lookups:     ", Text),
    line("authknotfound", "keys not found:  ", Text),
    line("authkuncached", "uncached keys:   ", Text),
    line("authkexpired", "expired keys:    ", Text),
    line("authencrypts", "encryptions:     ", Text),
    line("authdecrypts", "decryptions:     ", Text),
];

const PSTATS: &[Line] = &[
    line("src", "remote host:         ", AddrPair),
    line("dst", "local address:       ", AddrPair),
    line("timerec", "time last received:  ", Text),
    line("timer", "time until next send:", Text),
    line("timereach", "reachability change: ", Text),
    line("sent", "packets sent:        ", Text),
    line("received", "packets received:    ", Text),
    line("badauth", "bad authentication:  ", Text),
    line("bogusorg", "bogus origin:        ", Text),
    line("oldpkt", "duplicate:           ", Text),
    line("seldisp", "bad dispersion:      ", Text),
    line("selbroken", "bad reference time:  ", Text),
    line("candidate", "candidate order:     ", Text),
];

/// The suffixes of an address pair's two variables.
const PAIR_SUFFIXES: [&str; 2] = ["adr", "port"];

/// ntpq's modetoa names.
fn mode_name(mode: u64) -> String {
    const NAMES: [&str; 9] = [
        "unspec",
        "sym_active",
        "sym_passive",
        "client",
        "server",
        "broadcast",
        "control",
        "private",
        "bclient",
    ];
    match NAMES.get(mode as usize) {
        Some(name) => (*name).to_string(),
        None => format!("mode#{mode}"),
    }
}

/// Asks for the table's variables of ASSOCIATION and prints a line for
/// each (ntpq's collect_display_vdc); `with_status` adds the status line.
fn show(sh: &mut Shell, association: u16, table: &[Line], with_status: bool) {
    let mut list = VarList::new();
    for l in table {
        if l.shape == AddrPair {
            for suffix in PAIR_SUFFIXES {
                list.push((format!("{}{suffix}", l.tag), None));
            }
        } else {
            list.push((l.tag.to_string(), None));
        }
    }
    let Some((status, values)) = fetch(sh, association, &list) else {
        return;
    };
    let mut text = String::new();
    if with_status {
        let kind = if association == 0 {
            VarKind::System
        } else {
            VarKind::Peer
        };
        text.push_str(&format!(
            "associd={association} status={:04x} {},\n",
            status,
            describe_status(kind, status)
        ));
    }
    let ctx = ValueContext::current();
    for l in table {
        let get = |name: &str| values.get(name).map(String::as_str);
        let shown = match l.shape {
            Text => match get(l.tag) {
                Some(v) => v.to_string(),
                None => continue,
            },
            AddrPort => {
                let addr = address(sh, l.tag, get(l.tag));
                sh.names.host_port(addr)
            }
            AddrPair => {
                let adr = format!("{}{}", l.tag, PAIR_SUFFIXES[0]);
                let mut addr = address(sh, &adr, get(&adr));
                let port = format!("{}{}", l.tag, PAIR_SUFFIXES[1]);
                if let Some(p) = get(&port).and_then(|p| p.parse::<u16>().ok()) {
                    addr.set_port(p);
                }
                sh.names.host_port(addr)
            }
            Timestamp => {
                let ts = get(l.tag).and_then(decode_ts).unwrap_or(NtpTimestamp::ZERO);
                pretty_date(ts, ctx.now, &ctx.zone)
            }
            Mode => mode_name(get(l.tag).and_then(decode_uint).unwrap_or(0)),
            Leap => {
                let bits = get(l.tag).and_then(decode_uint).unwrap_or(0) & 3;
                format!("{}{}", bits >> 1, bits & 1)
            }
        };
        text.push_str(&format!("{}  {shown}\n", l.label));
    }
    sh.say(&text);
}

/// The values of the variables in LIST. A server that does not know one
/// of them refuses the whole list (ntpsec has no `bcastdelay`, for one):
/// then each is asked for alone, and the unknown ones are left out.
fn fetch(
    sh: &mut Shell,
    association: u16,
    list: &VarList,
) -> Option<(u16, HashMap<String, String>)> {
    let names: Vec<&str> = list.iter().map(|(n, _)| n.as_str()).collect();
    let values = |data: &[u8]| -> HashMap<String, String> {
        varlist::parse(data)
            .into_iter()
            .filter_map(|v| v.value.map(|value| (v.name, value)))
            .collect()
    };
    match sh.query_quietly(opcode::READVAR, association, names.join(",").as_bytes()) {
        Ok(r) => Some((r.status, values(&r.data))),
        Err(QueryError::Server(code)) if u16::from(code) == error_code::UNKNOWNVAR => {
            let mut status = None;
            let mut all = HashMap::new();
            for name in names {
                match sh.query_quietly(opcode::READVAR, association, name.as_bytes()) {
                    Ok(r) => {
                        status.get_or_insert(r.status);
                        all.extend(values(&r.data));
                    }
                    Err(QueryError::Server(code)) if u16::from(code) == error_code::UNKNOWNVAR => {}
                    Err(e) => {
                        sh.report(&e, association);
                        return None;
                    }
                }
            }
            Some((status.unwrap_or(0), all))
        }
        Err(e) => {
            sh.report(&e, association);
            None
        }
    }
}

/// An address variable; complains (as ntpq does) when it does not parse.
fn address(sh: &mut Shell, tag: &str, value: Option<&str>) -> SocketAddr {
    let unset = SocketAddr::from(([0, 0, 0, 0], 0));
    match value {
        None => unset,
        Some(v) => parse_netnum(v).unwrap_or_else(|| {
            sh.error(&format!("malformed {tag}={v}"));
            unset
        }),
    }
}

pub fn sysinfo(sh: &mut Shell) {
    show(sh, 0, SYSINFO, true);
}

pub fn kerninfo(sh: &mut Shell) {
    show(sh, 0, KERNINFO, true);
}

pub fn sysstats(sh: &mut Shell) {
    show(sh, 0, SYSSTATS, false);
}

pub fn monstats(sh: &mut Shell) {
    show(sh, 0, MONSTATS, false);
}

pub fn iostats(sh: &mut Shell) {
    show(sh, 0, IOSTATS, false);
}

pub fn timerstats(sh: &mut Shell) {
    show(sh, 0, TIMERSTATS, false);
}

pub fn authinfo(sh: &mut Shell) {
    show(sh, 0, AUTHINFO, false);
}

/// `pstats assocID`: one peer's counters.
pub fn pstats(sh: &mut Shell, association: u32) {
    if let Some(id) = readvar::check_association(sh, association) {
        show(sh, id, PSTATS, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_line_up_within_each_table() {
        for table in [
            SYSINFO, KERNINFO, SYSSTATS, MONSTATS, IOSTATS, TIMERSTATS, AUTHINFO, PSTATS,
        ] {
            let width = table[0].label.len();
            assert!(table.iter().all(|l| l.label.len() == width));
        }
    }

    #[test]
    fn modes_have_names() {
        assert_eq!(mode_name(3), "client");
        assert_eq!(mode_name(8), "bclient");
        assert_eq!(mode_name(12), "mode#12");
    }
}
