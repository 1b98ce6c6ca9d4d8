//! READ_MRU (`ntpq -c mrulist`): the responder's list of recent clients,
//! oldest first, in as many requests as it takes.
//!
//! The request carries the nonce from REQ_NONCE (checked by the caller),
//! the size it can take (`frags=N` datagrams or `limit=N` rows), filters
//! (`mincount`, `resall`, `resany`, `maxlstint`, `minlstint`, `laddr`),
//! `recent=N` for the N newest only, and, after the first request, the
//! newest entries it already has (`addr.N`, `last.N`, newest first): the
//! answer resumes after the first of those still in the list unchanged.
//! Each answer starts with a fresh `nonce=`, gives `addr.N`, `last.N`,
//! `first.N`, `ct.N`, `mv.N`, `rs.N` per entry, and ends with `now=` and
//! `last.newest=` once it reaches the newest entry.

use std::net::{IpAddr, SocketAddr};

use super::format::{self, canonical, Value};
use crate::applets::ntpd::server::{Mru, MruEntry};
use crate::config::RestrictFlags;
use crate::proto::control::{error_code, MAX_FRAGMENTS, MAX_FRAGMENT_DATA};
use crate::proto::varlist::{self, VarListWriter};
use crate::proto::{NtpTimestamp, UnixTime};

/// The most rows one answer may be asked for (classic's MRU_ROW_LIMIT).
pub const MAX_ROWS: u32 = 256;
/// How many `addr.N`/`last.N` pairs a request may carry (classic's 16).
const MAX_PRIOR: usize = 16;
/// Room kept free in each fragment: fragments are cut after the last whole
/// item that fits, so each may come up short by at most one item.
const LONGEST_ITEM: usize = 64;
/// Room for the closing `now=` and `last.newest=` items and the line end.
const CLOSING_LEN: usize = 2 * LONGEST_ITEM;
/// `=` and the separator after an item (`, ` or `,\r\n`).
const ITEM_OVERHEAD: usize = 4;

/// Maps the responder's monotonic seconds to wall-clock timestamps, with
/// one anchor for the daemon's life, so that an entry's `last.N` is the
/// same in every answer and the client's echo of it matches exactly.
#[derive(Clone, Copy, Debug)]
pub struct TimeBase {
    pub mono: f64,
    pub wall: UnixTime,
}

impl TimeBase {
    pub fn wall(&self, mono: f64) -> NtpTimestamp {
        NtpTimestamp::from_unix(self.wall.add_secs_f64(mono - self.mono))
    }
}

/// A READ_MRU request's parameters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub nonce: Option<String>,
    frags: Option<u32>,
    limit: Option<u32>,
    mincount: u32,
    /// Classic RES_ bits every / any of which an entry must have.
    resall: u32,
    resany: u32,
    maxlstint: Option<f64>,
    minlstint: Option<f64>,
    recent: Option<u32>,
    prior_addr: [Option<IpAddr>; MAX_PRIOR],
    prior_last: [Option<NtpTimestamp>; MAX_PRIOR],
}

impl Query {
    /// Parses the request text; Err is the CERR_ code to answer with.
    /// Parameters of other daemons (ntpsec's `mindrop`, `minscore`) and
    /// `laddr` (the MRU list does not record which local address a client
    /// used) are accepted and do not filter.
    pub fn parse(data: &[u8]) -> Result<Query, u16> {
        let mut q = Query::default();
        let bad = error_code::BADVALUE;
        for v in varlist::parse(data) {
            let value = v.value.as_deref().unwrap_or("").trim();
            let number = || parse_u32(value).ok_or(bad);
            match v.name.as_str() {
                "nonce" => q.nonce = Some(value.to_string()),
                "frags" => q.frags = Some(number()?),
                "limit" => q.limit = Some(number()?),
                "mincount" => q.mincount = number()?,
                "resall" => q.resall = number()?,
                "resany" => q.resany = number()?,
                "maxlstint" => q.maxlstint = Some(f64::from(number()?)),
                "minlstint" => q.minlstint = Some(f64::from(number()?)),
                "recent" => q.recent = Some(number()?),
                name => {
                    if let Some(i) = indexed(name, "addr.") {
                        q.prior_addr[i] = Some(parse_addr(value).ok_or(bad)?);
                    } else if let Some(i) = indexed(name, "last.") {
                        q.prior_last[i] = Some(format::parse_timestamp(value).ok_or(bad)?);
                    }
                }
            }
        }
        let frags_ok = q
            .frags
            .is_none_or(|f| (1..=MAX_FRAGMENTS as u32).contains(&f));
        let limit_ok = q.limit.is_none_or(|l| (1..=MAX_ROWS).contains(&l));
        if !frags_ok || !limit_ok {
            return Err(bad);
        }
        Ok(q)
    }

    fn has_prior(&self) -> bool {
        self.prior_addr
            .iter()
            .zip(&self.prior_last)
            .any(|(a, l)| a.is_some() && l.is_some())
    }
}

/// `addr.3` → 3, for indexes below MAX_PRIOR (others are ignored).
fn indexed(name: &str, prefix: &str) -> Option<usize> {
    name.strip_prefix(prefix)?
        .parse()
        .ok()
        .filter(|&i| i < MAX_PRIOR)
}

/// Decimal or `0x` hex, as ntpq writes `resall=0x20`.
fn parse_u32(text: &str) -> Option<u32> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `198.18.0.2:123`, `[fe80::1]:123`, or an address alone.
fn parse_addr(text: &str) -> Option<IpAddr> {
    text.parse::<SocketAddr>()
        .map(|s| s.ip())
        .or_else(|_| text.parse::<IpAddr>())
        .ok()
        .map(canonical)
}

/// Classic ntpd's RES_ bits (what ntpq's `rs` column and `resall`/`resany`
/// speak), from ntpbox's restrict flags.
pub fn classic_res_bits(flags: RestrictFlags) -> u32 {
    const MAP: &[(u32, u32)] = &[
        (RestrictFlags::IGNORE, 0x0001),
        (RestrictFlags::NOSERVE, 0x0002),
        (RestrictFlags::NOTRUST, 0x0004),
        (RestrictFlags::VERSION, 0x0008),
        (RestrictFlags::NOPEER, 0x0010),
        (RestrictFlags::LIMITED, 0x0020),
        (RestrictFlags::NOQUERY, 0x0040),
        (RestrictFlags::NOMODIFY, 0x0080),
        (RestrictFlags::NOTRAP, 0x0100),
        (RestrictFlags::LOWPRIOTRAP, 0x0200),
        (RestrictFlags::KOD, 0x0400),
        (RestrictFlags::MSSNTP, 0x0800),
        (RestrictFlags::NOMRULIST, 0x2000),
    ];
    MAP.iter()
        .filter(|(ours, _)| flags.contains(*ours))
        .fold(0, |acc, (_, classic)| acc | classic)
}

/// What the answer needs besides the query.
pub struct Moment<'a> {
    /// None with `disable monitor`: an empty list.
    pub mru: Option<&'a Mru>,
    pub base: TimeBase,
    /// Monotonic seconds now.
    pub mono_now: f64,
    /// A fresh nonce for the client's next request.
    pub next_nonce: &'a str,
}

/// The answer's text, or the CERR_ code: CERR_UNKNOWNVAR when the client
/// named entries none of which is still in the list (ntpq then starts
/// over, as with classic ntpd).
pub fn answer(q: &Query, m: &Moment<'_>) -> Result<Vec<u8>, u16> {
    let mut oldest_first: Vec<&MruEntry> =
        m.mru.map(|mru| mru.iter().collect()).unwrap_or_default();
    oldest_first.reverse();
    let start = start_index(q, m, &oldest_first)?;
    let frags = q.frags.unwrap_or(if q.limit.is_some() {
        MAX_FRAGMENTS as u32
    } else {
        1
    }) as usize;
    let budget = frags * (MAX_FRAGMENT_DATA - LONGEST_ITEM) - CLOSING_LEN;
    let rows = q.limit.unwrap_or(MAX_ROWS) as usize;

    let mut w = VarListWriter::new();
    w.raw("nonce", m.next_nonce);
    let mut written = 0;
    let mut complete = true;
    for e in &oldest_first[start..] {
        if !selected(q, m, e) {
            continue;
        }
        let items = entry_items(written, e, m.base);
        let len: usize = items
            .iter()
            .map(|(n, v)| n.len() + v.len() + ITEM_OVERHEAD)
            .sum();
        if written == rows || w.as_bytes().len() + len > budget {
            complete = false;
            break;
        }
        for (name, value) in items {
            w.raw(&name, value);
        }
        written += 1;
    }
    if complete {
        put(&mut w, "now", format::timestamp(m.base.wall(m.mono_now)));
        if let Some(newest) = oldest_first.last() {
            put(
                &mut w,
                "last.newest",
                format::timestamp(m.base.wall(newest.last)),
            );
        }
    }
    let mut text = w.finish();
    text.push_str("\r\n");
    Ok(text.into_bytes())
}

/// Where the answer starts in the oldest-first list.
fn start_index(q: &Query, m: &Moment<'_>, list: &[&MruEntry]) -> Result<usize, u16> {
    if q.has_prior() {
        for (addr, last) in q.prior_addr.iter().zip(&q.prior_last) {
            let (Some(addr), Some(last)) = (addr, last) else {
                continue;
            };
            let found = list
                .iter()
                .position(|e| canonical(e.addr) == *addr && m.base.wall(e.last) == *last);
            if let Some(i) = found {
                return Ok(i + 1);
            }
        }
        return Err(error_code::UNKNOWNVAR);
    }
    Ok(match q.recent {
        Some(n) => list.len().saturating_sub(n as usize),
        None => 0,
    })
}

fn selected(q: &Query, m: &Moment<'_>, e: &MruEntry) -> bool {
    let rs = classic_res_bits(e.flags);
    let lstint = m.mono_now - e.last;
    e.count >= q.mincount
        && (q.resall == 0 || rs & q.resall == q.resall)
        && (q.resany == 0 || rs & q.resany != 0)
        && q.maxlstint.is_none_or(|max| lstint <= max)
        && q.minlstint.is_none_or(|min| lstint >= min)
}

/// One entry's items: `addr.N`, `last.N`, `first.N`, `ct.N`, `mv.N`, `rs.N`.
fn entry_items(n: usize, e: &MruEntry, base: TimeBase) -> [(String, String); 6] {
    [
        (
            format!("addr.{n}"),
            text(format::socket_address(e.addr, e.port)),
        ),
        (
            format!("last.{n}"),
            text(format::timestamp(base.wall(e.last))),
        ),
        (
            format!("first.{n}"),
            text(format::timestamp(base.wall(e.first))),
        ),
        (format!("ct.{n}"), e.count.to_string()),
        // Mode and version as in a packet's first byte (ntpq's PKT_MODE
        // and PKT_VERSION take them apart).
        (
            format!("mv.{n}"),
            ((e.version << 3) | (e.mode & 7)).to_string(),
        ),
        (
            format!("rs.{n}"),
            text(format::hex(classic_res_bits(e.flags))),
        ),
    ]
}

fn text(value: Value) -> String {
    match value {
        Value::Raw(s) | Value::Quoted(s) => s,
        Value::Absent => String::new(),
    }
}

fn put(w: &mut VarListWriter, name: &str, value: Value) {
    if let Value::Raw(v) = value {
        w.raw(name, v);
    }
}
