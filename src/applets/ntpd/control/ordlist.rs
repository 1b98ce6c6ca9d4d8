//! READ_ORDLIST_A (`ntpq ifstats`, `ntpq reslist`): the ordered lists of
//! the daemon's sockets and of its restrict table, as classic ntpd and
//! NTPsec answer them (read_ordlist in ntp_control.c). Only requests
//! signed with the control key get here.
//!
//! Each row's fields carry the row number after a dot (`addr.0`,
//! `hits.3`); ntpq sorts them back into rows. NTPsec shuffles the fields
//! and adds a random one to each row; nothing reads that order, so the
//! fields go out in a fixed order here.

use std::net::SocketAddr;

use super::format::{address, canonical, hex, int};
use super::vars::END_OF_TEXT;
use crate::applets::ntpd::listen::display_addr;
use crate::applets::ntpd::server::access::AccessRow;
use crate::config::RestrictFlags;
use crate::engine::PeerVars;
use crate::proto::control::error_code;
use crate::proto::varlist::VarListWriter;

/// What `ntpq ifstats` sends: nothing (our ntpq, classic's older ntpq) or
/// this word (NTPsec's ntpq).
const IFSTATS: &[u8] = b"ifstats";
/// What `ntpq reslist` sends.
const ADDR_RESTRICTIONS: &[u8] = b"addr_restrictions";

/// The restrict flags as classic's ntpq-facing words, in classic's order:
/// first how the entry matches (res_match_bits), then what it refuses
/// (res_access_bits). `lowpriotrap` is `lptrap` on the wire, as classic.
const FLAG_WORDS: &[(u32, &str)] = &[
    (RestrictFlags::NTPPORT, "ntpport"),
    (RestrictFlags::IGNORE, "ignore"),
    (RestrictFlags::NOSERVE, "noserve"),
    (RestrictFlags::NOTRUST, "notrust"),
    (RestrictFlags::NOQUERY, "noquery"),
    (RestrictFlags::NOMODIFY, "nomodify"),
    (RestrictFlags::NOPEER, "nopeer"),
    (RestrictFlags::NOEPEER, "noepeer"),
    (RestrictFlags::NOTRAP, "notrap"),
    (RestrictFlags::LOWPRIOTRAP, "lptrap"),
    (RestrictFlags::LIMITED, "limited"),
    (RestrictFlags::VERSION, "version"),
    (RestrictFlags::KOD, "kod"),
    (RestrictFlags::MSSNTP, "mssntp"),
    (RestrictFlags::NOMRULIST, "nomrulist"),
];

/// Which list a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Interfaces,
    Restrictions,
}

/// The list named by the request's data: exactly one of the two words
/// (or nothing), else CERR_UNKNOWNVAR, as classic.
pub fn which(data: &[u8]) -> Result<List, u16> {
    match data {
        b"" | IFSTATS => Ok(List::Interfaces),
        ADDR_RESTRICTIONS => Ok(List::Restrictions),
        _ => Err(error_code::UNKNOWNVAR),
    }
}

/// One open socket, numbered as the daemon's `Listen normally on N ...`
/// log lines number them, with its traffic counters. The loop keeps one
/// per listener, allocated once, and bumps the counters in place.
#[derive(Clone, Debug, PartialEq)]
pub struct Interface {
    pub number: usize,
    pub name: String,
    /// Its local address (IPv6 with its scope).
    pub addr: SocketAddr,
    /// Serving (`Listen normally`) rather than dropping what it receives.
    pub serving: bool,
    /// Classic's INT_* bits.
    pub flags: u32,
    /// When it was opened, in monotonic seconds.
    pub opened: f64,
    /// Datagrams received on it.
    pub received: u64,
    /// Datagrams sent from it.
    pub sent: u64,
    /// Datagrams the kernel refused to send from it.
    pub send_failed: u64,
}

/// The interface list at monotonic time `mono`. `pc` counts the
/// associations whose packets arrive at the socket's address (classic's
/// peer count); the wildcard sockets have none, as in classic.
pub fn interfaces(list: &[Interface], peers: &[PeerVars], mono: f64) -> Vec<u8> {
    let mut w = VarListWriter::new();
    for i in list {
        let at = |field: &str| format!("{field}.{}", i.number);
        let ip = canonical(i.addr.ip());
        let scope = match i.addr {
            SocketAddr::V6(v6) => v6.scope_id(),
            SocketAddr::V4(_) => 0,
        };
        let peer_count = peers
            .iter()
            .filter(|p| !ip.is_unspecified() && p.dstadr.is_some_and(|d| canonical(d.ip()) == ip))
            .count();
        // A quote or comma would end the item early on the wire.
        w.quoted(&at("name"), &i.name.replace(['"', ','], "."));
        w.raw(&at("addr"), display_addr(ip, scope, i.addr.port()));
        // No broadcast sockets: the field is there, empty, as classic
        // sends it for interfaces that do not broadcast.
        w.raw(&at("bcast"), "");
        w.raw(&at("en"), u8::from(i.serving));
        put(&mut w, &at("flags"), hex(i.flags));
        put(&mut w, &at("rx"), int(saturating(i.received)));
        put(&mut w, &at("tx"), int(saturating(i.sent)));
        put(&mut w, &at("txerr"), int(saturating(i.send_failed)));
        put(&mut w, &at("pc"), int(saturating(peer_count as u64)));
        // Whole seconds, as classic's current_time - starttime.
        let up = (mono - i.opened).max(0.0).floor() as i64;
        put(&mut w, &at("up"), int(up));
    }
    finish(w)
}

/// The restrict table, IPv4 then IPv6, each most specific entry first.
pub fn restrictions(rows: impl Iterator<Item = AccessRow>) -> Vec<u8> {
    let mut w = VarListWriter::new();
    for (row, r) in rows.enumerate() {
        let at = |field: &str| format!("{field}.{row}");
        put(&mut w, &at("addr"), address(r.addr));
        put(&mut w, &at("mask"), address(r.mask));
        w.raw(&at("flags"), flag_words(r.flags));
        put(&mut w, &at("hits"), int(saturating(r.hits)));
    }
    finish(w)
}

/// `noquery nomodify limited`: the words of the set bits, one space apart.
pub fn flag_words(flags: RestrictFlags) -> String {
    FLAG_WORDS
        .iter()
        .filter(|(bit, _)| flags.contains(*bit))
        .map(|(_, word)| *word)
        .collect::<Vec<_>>()
        .join(" ")
}

fn put(w: &mut VarListWriter, name: &str, value: super::format::Value) {
    if let super::format::Value::Raw(v) = value {
        w.raw(name, v);
    }
}

/// Counters go on the wire as signed 64-bit numbers.
fn saturating(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn finish(w: VarListWriter) -> Vec<u8> {
    let mut text = w.finish();
    if !text.is_empty() {
        text.push_str(END_OF_TEXT);
    }
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_one_list_exactly() {
        assert_eq!(which(b""), Ok(List::Interfaces));
        assert_eq!(which(b"ifstats"), Ok(List::Interfaces));
        assert_eq!(which(b"addr_restrictions"), Ok(List::Restrictions));
        for other in [&b"ifstats "[..], b"IFSTATS", b"addr", b"reslist", b"\0"] {
            assert_eq!(which(other), Err(error_code::UNKNOWNVAR), "{other:?}");
        }
    }

    #[test]
    fn flag_words_in_classic_order() {
        let f = RestrictFlags(
            RestrictFlags::LIMITED | RestrictFlags::NOQUERY | RestrictFlags::NOMODIFY,
        );
        assert_eq!(flag_words(f), "noquery nomodify limited");
        let f = RestrictFlags(RestrictFlags::IGNORE | RestrictFlags::NTPPORT);
        assert_eq!(flag_words(f), "ntpport ignore");
        assert_eq!(flag_words(RestrictFlags::default()), "");
        let all = FLAG_WORDS.iter().fold(0, |a, (b, _)| a | b);
        assert_eq!(
            flag_words(RestrictFlags(all)).split(' ').count(),
            RestrictFlags::NAMES.len(),
            "every flag has a word"
        );
    }
}
