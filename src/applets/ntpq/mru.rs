//! `mrulist`: the addresses ntpd has heard from lately. ntpq fetches a
//! nonce (REQ_NONCE), then asks for the list with READ_MRU in as many
//! requests as it takes, each naming the newest entries it already has so
//! that ntpd continues after them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use super::cooked;
use super::names::parse_netnum;
use super::session::QueryError;
use super::shell::Shell;
use crate::proto::control::{error_code, opcode, MAX_FRAGMENT_DATA};
use crate::proto::{varlist, NtpTimestamp};

/// How many fragments ntpq lets one response have (its MAXFRAGS).
const MAX_FRAGS: u32 = 32;
/// The fewest fragments (or rows) asked for after lost responses.
const MIN_FRAGS: u32 = 2;
/// A nonce is used this many times before a fresh one is fetched.
const NONCE_USES: u32 = 4;
/// Pause between requests, to let ntpd get on with its other work.
const PAUSE: Duration = Duration::from_millis(5);
/// Give up after starting over this many times (ntpd's list moved on
/// faster than it could be read).
const MAX_RESTARTS: u32 = 8;
/// ntpd's restriction bits that get a flag letter.
const RES_LIMITED: u16 = 0x0020;
const RES_KOD: u16 = 0x0400;
/// Parameters ntpq passes to ntpd as they are.
const PASSED_PARAMETERS: [&str; 5] = ["mincount=", "resall=", "resany=", "maxlstint=", "laddr="];

const HEADER: &str = "lstint avgint rstr r m v  count rport remote address\n";
const RULE_WIDTH: usize = 78;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    LstInt,
    RevLstInt,
    AvgInt,
    RevAvgInt,
    Addr,
    RevAddr,
    Count,
    RevCount,
}

const SORT_KEYS: [(&str, Order); 8] = [
    ("lstint", Order::LstInt),
    ("-lstint", Order::RevLstInt),
    ("avgint", Order::AvgInt),
    ("-avgint", Order::RevAvgInt),
    ("addr", Order::Addr),
    ("-addr", Order::RevAddr),
    ("count", Order::Count),
    ("-count", Order::RevCount),
];

/// One remote address ntpd has seen.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub addr: SocketAddr,
    pub last: NtpTimestamp,
    pub first: NtpTimestamp,
    pub count: u32,
    pub mode: u8,
    pub version: u8,
    pub restrict: u16,
}

impl Entry {
    /// Mean seconds between its packets.
    fn avgint(&self) -> f64 {
        self.last.diff_secs(self.first) / f64::from(self.count.max(1))
    }
}

/// The fields of entries collected from one response, by index.
#[derive(Default)]
struct Partial {
    addr: Option<SocketAddr>,
    last: Option<NtpTimestamp>,
    first: Option<NtpTimestamp>,
    count: Option<u32>,
    mv: Option<u8>,
    restrict: Option<u16>,
}

impl Partial {
    fn complete(&self) -> Option<Entry> {
        let mv = self.mv?;
        Some(Entry {
            addr: self.addr?,
            last: self.last?,
            first: self.first?,
            count: self.count?,
            mode: mv & 7,
            version: (mv >> 3) & 7,
            restrict: self.restrict?,
        })
    }
}

/// `0xeeaca5bc.b6c7cab5`, the form ntpd sends MRU timestamps in.
fn hex_ts(text: &str) -> Option<NtpTimestamp> {
    let hex = text.strip_prefix("0x")?;
    super::values::decode_ts(&format!("0x{hex}"))
}

/// What one READ_MRU response held.
#[derive(Default)]
struct Batch {
    entries: Vec<Entry>,
    now: Option<NtpTimestamp>,
    nonce: Option<String>,
    complete: bool,
}

fn parse_batch(data: &[u8]) -> Batch {
    let mut batch = Batch::default();
    let mut rows: HashMap<u32, Partial> = HashMap::new();
    for var in varlist::parse(data) {
        let value = var.value.as_deref().unwrap_or("");
        match var.name.as_str() {
            "now" => {
                batch.now = hex_ts(value);
                batch.complete = true;
            }
            "last.newest" => batch.complete = true,
            "nonce" => batch.nonce = Some(value.to_string()),
            name => {
                let Some((field, index)) = name.split_once('.') else {
                    continue;
                };
                let Ok(index) = index.parse::<u32>() else {
                    continue;
                };
                let row = rows.entry(index).or_default();
                match field {
                    "addr" => row.addr = parse_netnum(value),
                    "last" => row.last = hex_ts(value),
                    "first" => row.first = hex_ts(value),
                    "ct" => row.count = value.parse().ok().filter(|&c| c >= 1),
                    "mv" => row.mv = value.parse().ok(),
                    "rs" => {
                        row.restrict = value
                            .strip_prefix("0x")
                            .and_then(|h| u16::from_str_radix(h, 16).ok())
                    }
                    _ => {}
                }
            }
        }
    }
    let mut indices: Vec<u32> = rows.keys().copied().collect();
    indices.sort_unstable();
    batch.entries = indices
        .into_iter()
        .filter_map(|i| rows[&i].complete())
        .collect();
    batch
}

/// The MRU list as collected: entries oldest first, the server's time.
struct List {
    entries: Vec<Entry>,
    updates: u32,
}

impl List {
    /// Adds an entry as the newest, dropping an older copy of its address.
    fn add(&mut self, e: Entry) {
        if let Some(i) = self.entries.iter().position(|x| x.addr == e.addr) {
            self.entries.remove(i);
            self.updates += 1;
        }
        self.entries.push(e);
    }
}

/// Asks for a nonce (ntpq's fetch_nonce).
fn fetch_nonce(sh: &mut Shell) -> Option<String> {
    let Ok(r) = sh.query_quietly(opcode::REQ_NONCE, 0, &[]) else {
        sh.error("nonce request failed");
        return None;
    };
    let text = String::from_utf8_lossy(&r.data);
    match text.strip_prefix("nonce=") {
        Some(n) if !n.trim_end().is_empty() => Some(n.trim_end().to_string()),
        _ => {
            sh.error(&format!("unexpected nonce response format: {text}"));
            None
        }
    }
}

/// Collects the whole list; None when it could not be had (the reason is
/// already printed).
fn collect(sh: &mut Shell, parameters: &str) -> Option<(List, NtpTimestamp)> {
    let mut nonce = fetch_nonce(sh)?;
    let mut uses = 0;
    let mut frags = MAX_FRAGS;
    let mut list = List {
        entries: Vec::new(),
        updates: 0,
    };
    let mut restarts = 0;
    loop {
        let mut request = format!("nonce={nonce}, frags={frags}{parameters}");
        let mut named = 0usize;
        for e in list.entries.iter().rev() {
            let item = format!(
                ", addr.{named}={}, last.{named}=0x{:08x}.{:08x}",
                e.addr,
                e.last.era_secs(),
                e.last.fraction()
            );
            if request.len() + item.len() > MAX_FRAGMENT_DATA {
                break;
            }
            request.push_str(&item);
            named += 1;
        }
        uses += 1;
        if sh.debug > 0 {
            eprintln!("READ_MRU parms: {request}");
        }
        match sh.query_quietly(opcode::READ_MRU, 0, request.as_bytes()) {
            Ok(r) => {
                if sh.raw {
                    sh.say(&cooked::raw(r.status, &r.data, true));
                }
                let batch = parse_batch(&r.data);
                for e in batch.entries {
                    list.add(e);
                }
                if let Some(n) = batch.nonce {
                    nonce = n;
                    uses = 0;
                }
                if batch.complete {
                    let now = batch
                        .now
                        .or_else(|| list.entries.last().map(|e| e.last))
                        .unwrap_or_default();
                    sh.flush();
                    eprintln!(
                        "\rRetrieved {} unique MRU entries and {} updates.",
                        list.entries.len(),
                        list.updates
                    );
                    return Some((list, now));
                }
                frags = (frags + 1).min(MAX_FRAGS);
            }
            Err(QueryError::Server(code)) if u16::from(code) == error_code::UNKNOWNVAR => {
                if named == 0 {
                    sh.error("CERR_UNKNOWNVAR from ntpd but no priors given.");
                    return None;
                }
                // None of the entries named is in ntpd's list any more:
                // forget them and ask again.
                let keep = list.entries.len() - named;
                list.entries.truncate(keep);
                if list.entries.is_empty() {
                    restarts += 1;
                    if restarts > MAX_RESTARTS {
                        sh.error(
                            "Giving up after 8 restarts from the beginning.\n\
With high-traffic NTP servers, this can occur if the\n\
MRU list is limited to less than about 16 seconds' of\n\
entries.  See the 'mru' ntp.conf directive to adjust.",
                        );
                        return None;
                    }
                }
            }
            Err(QueryError::Timeout | QueryError::Incomplete) => {
                frags = (frags / 2).max(MIN_FRAGS);
            }
            Err(e) => {
                sh.report(&e, 0);
                return None;
            }
        }
        if uses >= NONCE_USES {
            nonce = fetch_nonce(sh)?;
            uses = 0;
        }
        std::thread::sleep(PAUSE);
    }
}

/// Orders the entries (given oldest first) for display.
fn sort(mut entries: Vec<Entry>, order: Order) -> Vec<Entry> {
    let addr_key = |e: &Entry| match e.addr.ip() {
        std::net::IpAddr::V4(v4) => (0u8, v4.to_ipv6_mapped().octets()),
        std::net::IpAddr::V6(v6) => (1u8, v6.octets()),
    };
    match order {
        // Newest (smallest lstint) first.
        Order::LstInt => entries.reverse(),
        Order::RevLstInt => {}
        Order::AvgInt | Order::RevAvgInt => {
            entries.reverse();
            entries.sort_by(|a, b| {
                a.avgint()
                    .total_cmp(&b.avgint())
                    .then_with(|| b.last.diff_secs(a.last).total_cmp(&0.0))
            });
            if order == Order::RevAvgInt {
                entries.reverse();
            }
        }
        Order::Addr => {
            entries.reverse();
            entries.sort_by_key(addr_key);
        }
        Order::RevAddr => {
            entries.reverse();
            entries.sort_by_key(addr_key);
            entries.reverse();
        }
        Order::Count => {
            entries.reverse();
            entries.sort_by_key(|e| e.count);
        }
        Order::RevCount => {
            entries.reverse();
            entries.sort_by_key(|e| std::cmp::Reverse(e.count));
        }
    }
    entries
}

/// One row: `     0      0    0 . 6 2    787 41349 localhost`.
fn format_row(e: &Entry, now: NtpTimestamp, host: &str) -> String {
    let lstint = (now.diff_secs(e.last) + 0.5) as i64;
    let avgint = (e.avgint() + 0.5) as i64;
    let flag = if e.restrict & RES_KOD != 0 {
        'K'
    } else if e.restrict & RES_LIMITED != 0 {
        'L'
    } else {
        '.'
    };
    format!(
        "{lstint:6} {avgint:6} {:4x} {flag} {} {} {:6} {:5} {host}\n",
        e.restrict,
        e.mode,
        e.version,
        e.count,
        e.addr.port()
    )
}

/// `mrulist [limited | kod | mincount=N | laddr=A | resall=X | resany=X |
/// maxlstint=S | sort=[-]lstint|avgint|addr|count ...]`.
pub fn mrulist(sh: &mut Shell, args: &[String]) {
    sh.error("Ctrl-C will stop MRU retrieval and display partial results.");
    let mut order = Order::LstInt;
    let mut parameters = String::new();
    for arg in args {
        if PASSED_PARAMETERS.iter().any(|p| arg.starts_with(p)) {
            parameters.push_str(", ");
            parameters.push_str(arg);
        } else if let Some(key) = arg.strip_prefix("sort=") {
            if let Some((_, o)) = SORT_KEYS.iter().find(|(k, _)| *k == key) {
                order = *o;
            }
        } else if arg == "limited" || arg == "kod" {
            let bits = if arg == "kod" { RES_KOD } else { RES_LIMITED };
            parameters.push_str(&format!(", resany=0x{bits:x}"));
        } else {
            sh.error(&format!("ignoring unrecognized mrulist parameter: {arg}"));
        }
    }
    let Some((list, now)) = collect(sh, &parameters) else {
        return;
    };
    if sh.raw {
        return;
    }
    let mut text = String::from(HEADER);
    text.push_str(&"=".repeat(RULE_WIDTH));
    text.push('\n');
    for e in sort(list.entries, order) {
        let host = sh.names.host(e.addr.ip());
        text.push_str(&format_row(&e, now, &host));
    }
    sh.say(&text);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first READ_MRU fragment of the reference capture, as ntpsec sent
    /// it (fields of one entry in any order, extra fields ntpq ignores).
    const NTPSEC_FRAGMENT: &[u8] = b"nonce=eeaca5c2bfb56e6dbc22adf5, rs.0=0xc0, ct.0=61,\r\n\
last.0=0xeeaca5bc.b6c7cab5, addr.0=198.18.0.2:123, mv.0=36, dr.0=0,\r\n\
first.0=0xeeaca3f4.b6c53ff8, sc.0=0.152, jpt.0=63300, sc.1=0.152,\r\n\
first.1=0xeeaca3f5.b6cbf7e9, ct.1=61, mv.1=36, rs.1=0xc0, dr.1=0,\r\n\
addr.1=198.18.0.3:123, last.1=0xeeaca5bd.b6cb3abc,\r\n\
last.2=0xeeaca5be.b6c633b6, mv.2=36, sc.2=0.152, rs.2=0xc0";

    #[test]
    fn entries_are_collected_whatever_the_field_order() {
        let batch = parse_batch(NTPSEC_FRAGMENT);
        assert!(!batch.complete);
        assert_eq!(batch.nonce.as_deref(), Some("eeaca5c2bfb56e6dbc22adf5"));
        assert_eq!(batch.entries.len(), 2, "entry 2 is incomplete");
        let e = &batch.entries[0];
        assert_eq!(e.addr, "198.18.0.2:123".parse().unwrap());
        assert_eq!((e.count, e.mode, e.version, e.restrict), (61, 4, 4, 0xc0));
        let now = NtpTimestamp::from_parts(0xeeaca5c2, 0x8000_0000);
        assert_eq!(
            format_row(e, now, "198.18.0.2"),
            "     6      7   c0 . 4 4     61   123 198.18.0.2\n"
        );
    }

    #[test]
    fn the_end_of_the_list_is_marked_by_now() {
        let batch = parse_batch(b"addr.0=127.0.0.1:41349, last.0=0x1.0, first.0=0x1.0, ct.0=1, mv.0=22, rs.0=0x0, now=0x5.0, last.newest=0x1.0");
        assert!(batch.complete);
        assert_eq!(batch.now, Some(NtpTimestamp::from_parts(5, 0)));
        let e = &batch.entries[0];
        assert_eq!((e.mode, e.version), (6, 2));
    }

    #[test]
    fn sort_orders() {
        let entry = |port: u16, last: u32, count: u32| Entry {
            addr: SocketAddr::from(([10, 0, 0, (port % 250) as u8], port)),
            last: NtpTimestamp::from_parts(last, 0),
            first: NtpTimestamp::from_parts(0, 0),
            count,
            mode: 3,
            version: 4,
            restrict: 0,
        };
        // Oldest first, as collected.
        let list = vec![entry(3, 10, 5), entry(1, 20, 1), entry(2, 30, 100)];
        let ports = |v: Vec<Entry>| v.iter().map(|e| e.addr.port()).collect::<Vec<_>>();
        assert_eq!(ports(sort(list.clone(), Order::LstInt)), [2, 1, 3]);
        assert_eq!(ports(sort(list.clone(), Order::RevLstInt)), [3, 1, 2]);
        assert_eq!(ports(sort(list.clone(), Order::Count)), [1, 3, 2]);
        assert_eq!(ports(sort(list.clone(), Order::RevCount)), [2, 3, 1]);
        assert_eq!(ports(sort(list.clone(), Order::Addr)), [1, 2, 3]);
        assert_eq!(ports(sort(list.clone(), Order::AvgInt)), [2, 3, 1]);
    }

    #[test]
    fn kod_and_limited_flags() {
        let mut e = parse_batch(
            b"addr.0=10.0.0.1:123, last.0=0x1.0, first.0=0x1.0, ct.0=1, mv.0=35, rs.0=0x420",
        )
        .entries
        .remove(0);
        let now = NtpTimestamp::from_parts(1, 0);
        assert!(format_row(&e, now, "h").contains(" 420 K "));
        e.restrict = RES_LIMITED;
        assert!(format_row(&e, now, "h").contains("  20 L "));
    }
}
