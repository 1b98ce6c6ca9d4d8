//! The restrict table: which flags apply to a packet from a given address.
//!
//! As in classic ntpd the most specific entry wins: the one whose mask has
//! the most bits set; among equal masks an `ntpport` entry (which matches
//! only source port 123) beats one without. `restrict default` is the entry
//! with an all-zero mask, so it is the fallback. Lines for the same address
//! and mask add their flags together, as classic does.
//!
//! Each entry counts the packets it decided (`ntpq reslist` shows the
//! hits); the count is a plain integer bumped in place, no allocation.

use std::net::IpAddr;

use crate::config::address::parse_mask;
use crate::config::{Family, RestrictFlags, RestrictTarget, Restriction};

/// The NTP port: `ntpport` entries match only packets from it.
const NTP_PORT: u16 = 123;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    /// Address and mask as 128-bit numbers (IPv4 in the low 32 bits).
    addr: u128,
    mask: u128,
    mask_bits: u32,
    flags: RestrictFlags,
    /// Packets this entry decided.
    hits: u64,
}

/// One entry as `ntpq reslist` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessRow {
    pub addr: IpAddr,
    pub mask: IpAddr,
    pub flags: RestrictFlags,
    pub hits: u64,
}

impl Entry {
    fn ntpport_only(&self) -> bool {
        self.flags.contains(RestrictFlags::NTPPORT)
    }

    fn matches(&self, addr: u128, port: u16) -> bool {
        addr & self.mask == self.addr && (!self.ntpport_only() || port == NTP_PORT)
    }
}

/// Entries per family, most specific first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessTable {
    v4: Vec<Entry>,
    v6: Vec<Entry>,
    /// `restrict source` flags, for associations once they are mobilised.
    pub source: Option<RestrictFlags>,
}

/// A restrict line that could not be turned into entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessProblem {
    pub origin: String,
    pub message: String,
}

impl AccessTable {
    /// Builds the table. `resolve` turns a host name into addresses (the
    /// daemon passes the system resolver; tests pass a map).
    pub fn build(
        restrictions: &[Restriction],
        mut resolve: impl FnMut(&str) -> Result<Vec<IpAddr>, String>,
    ) -> (AccessTable, Vec<AccessProblem>) {
        let mut table = AccessTable::default();
        let mut problems = Vec::new();
        for r in restrictions {
            match &r.target {
                RestrictTarget::Default(family) => {
                    if *family != Some(Family::V6) {
                        table.add(Family::V4, 0, 0, r.flags);
                    }
                    if *family != Some(Family::V4) {
                        table.add(Family::V6, 0, 0, r.flags);
                    }
                }
                RestrictTarget::Source => {
                    let merged = table.source.unwrap_or_default().0 | r.flags.0;
                    table.source = Some(RestrictFlags(merged));
                }
                RestrictTarget::Network { addr, mask } => {
                    table.add(Family::of(*addr), bits(*addr), bits(*mask), r.flags)
                }
                RestrictTarget::Name { name, family, mask } => {
                    let problem = |message: String| AccessProblem {
                        origin: r.origin.to_string(),
                        message,
                    };
                    let addrs = match resolve(name) {
                        Ok(addrs) => addrs,
                        Err(e) => {
                            problems.push(problem(format!("restrict {name}: {e}; line ignored")));
                            continue;
                        }
                    };
                    for addr in addrs {
                        let fam = Family::of(addr);
                        if family.is_some_and(|f| f != fam) {
                            continue;
                        }
                        let mask_bits = match mask {
                            None => full_mask(fam),
                            Some(m) => match parse_mask(m, fam) {
                                Ok(m) => bits(m),
                                Err(e) => {
                                    problems.push(problem(format!("restrict {name}: {e}")));
                                    continue;
                                }
                            },
                        };
                        table.add(fam, bits(addr), mask_bits, r.flags);
                    }
                }
            }
        }
        (table, problems)
    }

    fn add(&mut self, family: Family, addr: u128, mask: u128, flags: RestrictFlags) {
        let list = match family {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        };
        let addr = addr & mask;
        let same_ntpport = |e: &Entry| e.ntpport_only() == flags.contains(RestrictFlags::NTPPORT);
        if let Some(e) = list
            .iter_mut()
            .find(|e| e.addr == addr && e.mask == mask && same_ntpport(e))
        {
            e.flags.0 |= flags.0;
            return;
        }
        list.push(Entry {
            addr,
            mask,
            mask_bits: mask.count_ones(),
            flags,
            hits: 0,
        });
        // Stable: among equals the earlier line stays first.
        list.sort_by(|a, b| {
            b.mask_bits
                .cmp(&a.mask_bits)
                .then(b.ntpport_only().cmp(&a.ntpport_only()))
        });
    }

    /// The flags for a packet from `addr`:`port`; no flags when nothing
    /// matches (no `restrict default` line means no restriction).
    /// Nothing is counted: this is for second looks at a packet already
    /// classified (mode 6's own checks).
    pub fn lookup(&self, addr: IpAddr, port: u16) -> RestrictFlags {
        let (family, key) = key_of(addr);
        self.list(family)
            .iter()
            .find(|e| e.matches(key, port))
            .map_or(RestrictFlags::default(), |e| e.flags)
    }

    /// `lookup` for a packet as it arrives: the matching entry counts a hit.
    pub fn classify(&mut self, addr: IpAddr, port: u16) -> RestrictFlags {
        let (family, key) = key_of(addr);
        let list = match family {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        };
        match list.iter_mut().find(|e| e.matches(key, port)) {
            Some(e) => {
                e.hits += 1;
                e.flags
            }
            None => RestrictFlags::default(),
        }
    }

    /// Every entry, IPv4 then IPv6, each most specific first (the order
    /// they are tried in, and classic's `reslist` order).
    pub fn rows(&self) -> impl Iterator<Item = AccessRow> + '_ {
        let v4 = self.v4.iter().map(|e| AccessRow {
            addr: IpAddr::V4((e.addr as u32).into()),
            mask: IpAddr::V4((e.mask as u32).into()),
            flags: e.flags,
            hits: e.hits,
        });
        let v6 = self.v6.iter().map(|e| AccessRow {
            addr: IpAddr::V6(e.addr.into()),
            mask: IpAddr::V6(e.mask.into()),
            flags: e.flags,
            hits: e.hits,
        });
        v4.chain(v6)
    }

    fn list(&self, family: Family) -> &[Entry] {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }
}

/// The list an address is looked up in, and the address as its key
/// (IPv4-mapped IPv6 addresses are IPv4 clients of a dual-stack socket).
fn key_of(addr: IpAddr) -> (Family, u128) {
    match addr {
        IpAddr::V4(v4) => (Family::V4, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (Family::V4, u128::from(u32::from(v4))),
            None => (Family::V6, u128::from(v6)),
        },
    }
}

fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn full_mask(family: Family) -> u128 {
    match family {
        Family::V4 => u128::from(u32::MAX),
        Family::V6 => u128::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    fn table(text: &str) -> AccessTable {
        let loaded = parse_str(text, std::path::Path::new("t.conf"));
        assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
        let resolve = |name: &str| match name {
            "lan.example" => Ok(vec![
                "10.1.2.3".parse().unwrap(),
                "fd00::3".parse().unwrap(),
            ]),
            _ => Err("Name or service not known".to_string()),
        };
        let (t, problems) = AccessTable::build(&loaded.config.restrictions, resolve);
        assert!(problems.is_empty(), "{problems:?}");
        t
    }

    fn flags(t: &AccessTable, addr: &str) -> u32 {
        t.lookup(addr.parse().unwrap(), 40000).0
    }

    #[test]
    fn the_most_specific_entry_wins() {
        let t = table(
            "restrict -4 default kod nomodify notrap nopeer noquery\n\
             restrict -6 default ignore\n\
             restrict 127.0.0.1\n\
             restrict 192.168.2.0 mask 255.255.255.0 nomodify notrap\n\
             restrict 192.168.2.7 noserve\n",
        );
        let default = RestrictFlags::KOD
            | RestrictFlags::NOMODIFY
            | RestrictFlags::NOTRAP
            | RestrictFlags::NOPEER
            | RestrictFlags::NOQUERY;
        assert_eq!(flags(&t, "8.8.8.8"), default);
        assert_eq!(flags(&t, "127.0.0.1"), 0);
        assert_eq!(flags(&t, "127.0.0.2"), default);
        assert_eq!(
            flags(&t, "192.168.2.9"),
            RestrictFlags::NOMODIFY | RestrictFlags::NOTRAP
        );
        assert_eq!(flags(&t, "192.168.2.7"), RestrictFlags::NOSERVE);
        assert_eq!(flags(&t, "::1"), RestrictFlags::IGNORE);
        assert_eq!(flags(&t, "::ffff:192.168.2.7"), RestrictFlags::NOSERVE);
    }

    #[test]
    fn defaults_names_masks_and_ntpport() {
        let t = table(
            "restrict default limited\nrestrict lan.example noquery\n\
             restrict 10.0.0.0 mask 255.0.0.0 kod\nrestrict 10.0.0.0 mask 255.0.0.0 limited\n\
             restrict 10.9.0.0/16 ntpport ignore\n",
        );
        assert_eq!(flags(&t, "172.16.0.1"), RestrictFlags::LIMITED);
        assert_eq!(flags(&t, "fe80::1"), RestrictFlags::LIMITED);
        assert_eq!(flags(&t, "10.1.2.3"), RestrictFlags::NOQUERY);
        assert_eq!(flags(&t, "fd00::3"), RestrictFlags::NOQUERY);
        assert_eq!(
            flags(&t, "10.1.2.4"),
            RestrictFlags::KOD | RestrictFlags::LIMITED
        );
        assert_eq!(
            flags(&t, "10.9.1.1"),
            RestrictFlags::KOD | RestrictFlags::LIMITED
        );
        let from_123 = t.lookup("10.9.1.1".parse().unwrap(), 123).0;
        assert_eq!(from_123, RestrictFlags::NTPPORT | RestrictFlags::IGNORE);
    }

    #[test]
    fn classified_packets_count_hits_on_their_entry_in_table_order() {
        let mut t = table(
            "restrict default nomodify\nrestrict 127.0.0.1\nrestrict ::1 noquery\n\
             restrict 10.0.0.0/8 ntpport kod\n",
        );
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(t.classify(lo, 40000).0, 0);
        }
        t.classify("::ffff:127.0.0.1".parse().unwrap(), 40000);
        t.classify("192.0.2.1".parse().unwrap(), 40000);
        t.classify("10.1.1.1".parse().unwrap(), 123);
        t.classify("10.1.1.1".parse().unwrap(), 40000);
        // A second look counts nothing.
        t.lookup(lo, 40000);
        let rows: Vec<(String, String, u32, u64)> = t
            .rows()
            .map(|r| (r.addr.to_string(), r.mask.to_string(), r.flags.0, r.hits))
            .collect();
        let nomodify = RestrictFlags::NOMODIFY;
        let ones6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".to_string();
        assert_eq!(
            rows,
            [
                ("127.0.0.1".into(), "255.255.255.255".into(), 0, 4),
                (
                    "10.0.0.0".into(),
                    "255.0.0.0".into(),
                    RestrictFlags::NTPPORT | RestrictFlags::KOD,
                    1
                ),
                ("0.0.0.0".into(), "0.0.0.0".into(), nomodify, 2),
                ("::1".into(), ones6, RestrictFlags::NOQUERY, 0),
                ("::".into(), "::".into(), nomodify, 0),
            ]
        );
    }

    #[test]
    fn no_restrict_lines_means_no_restrictions_and_bad_names_are_reported() {
        assert_eq!(flags(&table(""), "1.2.3.4"), 0);
        let loaded = parse_str(
            "restrict nowhere.invalid ignore\n",
            std::path::Path::new("t.conf"),
        );
        let (t, problems) =
            AccessTable::build(&loaded.config.restrictions, |_| Err("not found".into()));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].origin, "t.conf:1");
        assert_eq!(flags(&t, "1.2.3.4"), 0);
    }
}
