//! `ifstats` and `reslist`: the ordered lists (READ_ORDLIST_A, a signed
//! request) of ntpd's local addresses and of its restrictions.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use super::names::parse_netnum;
use super::shell::Shell;
use crate::proto::control::opcode;
use crate::proto::varlist;

const IFSTATS_HEADER: &str = "    interface name                                        send\n \
#  address/broadcast     drop flag ttl mc received sent failed peers   uptime\n";
const RESLIST_HEADER: &str = "   hits    addr/prefix or addr mask\n           restrictions\n";
const RULE_WIDTH: usize = 78;
/// What `reslist` asks for.
const RESTRICTIONS: &[u8] = b"addr_restrictions";

/// The fields of each row, by the index after the dot (`addr.0`).
fn rows(data: &[u8]) -> BTreeMap<u32, BTreeMap<String, String>> {
    let mut rows: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
    for var in varlist::parse(data) {
        let Some((field, index)) = var.name.split_once('.') else {
            continue;
        };
        let Ok(index) = index.parse::<u32>() else {
            continue;
        };
        rows.entry(index)
            .or_default()
            .insert(field.to_string(), var.value.unwrap_or_default());
    }
    rows
}

fn number(row: &BTreeMap<String, String>, field: &str) -> i64 {
    row.get(field).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// One interface: `  0 lo                       .    5 ...` and its address.
/// ntpsec leaves out the TTL and multicast count; they show as 0.
fn interface_row(index: u32, row: &BTreeMap<String, String>) -> String {
    let name = row.get("name").map_or("", String::as_str);
    let enabled = if number(row, "en") != 0 { '.' } else { 'D' };
    let flags = row
        .get("flags")
        .and_then(|v| u32::from_str_radix(v.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0);
    let clipped: String = name.chars().take(24).collect();
    let mut text = format!(
        "{index:3} {clipped:<24} {enabled} {flags:4x} {:3} {:2} {:6} {:6} {:6} {:5} {:8}\n",
        number(row, "tl"),
        number(row, "mc"),
        number(row, "rx"),
        number(row, "tx"),
        number(row, "txerr"),
        number(row, "pc"),
        number(row, "up"),
    );
    for field in ["addr", "bcast"] {
        if let Some(addr) = row.get(field).and_then(|v| parse_netnum(v)) {
            text.push_str(&format!("    {addr}\n"));
        }
    }
    text
}

/// `ifstats`.
pub fn ifstats(sh: &mut Shell) {
    let Some(r) = sh.query_signed(opcode::READ_ORDLIST_A, 0, &[]) else {
        return;
    };
    let mut text = format!("{IFSTATS_HEADER}{}\n", "=".repeat(RULE_WIDTH));
    for (index, row) in rows(&r.data) {
        text.push_str(&interface_row(index, &row));
    }
    sh.say(&text);
}

/// A mask as a prefix length, when its bits are contiguous.
fn prefix_len(mask: IpAddr) -> Option<u32> {
    let (bits, width) = match mask {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones.min(width))
}

/// One restriction: hits, `addr/prefix` (or `addr mask`), its flags.
fn restriction_row(row: &BTreeMap<String, String>) -> String {
    let ip = |field: &str| {
        row.get(field)
            .and_then(|v| parse_netnum(v))
            .map(|a: SocketAddr| a.ip())
    };
    let addr = ip("addr").map_or_else(String::new, |a| a.to_string());
    let shown = match ip("mask") {
        Some(mask) => match prefix_len(mask) {
            Some(len) => format!("{addr}/{len}"),
            None => format!("{addr} {mask}"),
        },
        None => addr,
    };
    format!(
        "{:10} {shown}\n           {}\n",
        number(row, "hits"),
        row.get("flags").map_or("", String::as_str)
    )
}

/// `reslist`.
pub fn reslist(sh: &mut Shell) {
    let Some(r) = sh.query_signed(opcode::READ_ORDLIST_A, 0, RESTRICTIONS) else {
        return;
    };
    let mut text = format!("{RESLIST_HEADER}{}\n", "=".repeat(RULE_WIDTH));
    for row in rows(&r.data).values() {
        text.push_str(&restriction_row(row));
    }
    sh.say(&text);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ntpsec's answers in the reference capture (wire #2 and #4, cut).
    #[test]
    fn interfaces_and_restrictions_of_the_reference_capture() {
        let ifs = rows(
            b"name.0=\"lo\", txerr.0=0, pc.0=0, flags.0=0x5, rx.0=0, tx.0=0, up.0=3,\r\n\
bcast.0=, addr.0=127.0.0.1:123, en.0=1, bvl.0=12946, flags.1=0x5, rx.1=0, up.1=3, pc.1=0, \
en.1=1, addr.1=[::1]:123, name.1=\"lo\", bcast.1=, tx.1=0, txerr.1=0",
        );
        let text: String = ifs.iter().map(|(i, r)| interface_row(*i, r)).collect();
        assert_eq!(
            text,
            "  0 lo                       .    5   0  0      0      0      0     0        3\n\
\x20   127.0.0.1:123\n\
\x20 1 lo                       .    5   0  0      0      0      0     0        3\n\
\x20   [::1]:123\n"
        );
        let res = rows(
            b"hits.0=0, flags.0=ntpport interface ignore, addr.0=127.0.0.1, mask.0=255.255.255.255, \
hits.2=0, flags.2=noquery nomodify limited, addr.2=0.0.0.0, mask.2=0.0.0.0, \
addr.3=::1, flags.3=, mask.3=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, hits.3=7",
        );
        let text: String = res.values().map(restriction_row).collect();
        assert_eq!(
            text,
            "         0 127.0.0.1/32\n           ntpport interface ignore\n\
\x20        0 0.0.0.0/0\n           noquery nomodify limited\n\
\x20        7 ::1/128\n           \n"
        );
    }

    #[test]
    fn masks_become_prefixes_when_contiguous() {
        let p = |s: &str| prefix_len(s.parse().unwrap());
        assert_eq!(p("255.255.255.0"), Some(24));
        assert_eq!(p("0.0.0.0"), Some(0));
        assert_eq!(p("255.0.255.0"), None);
        assert_eq!(p("ffff:ffff::"), Some(32));
    }
}
