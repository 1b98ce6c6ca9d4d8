//! `restrict` and `discard`: access control as classic ntpd writes it.
//!
//! `restrict [-4|-6] default|source|ADDRESS|HOST [mask MASK] [FLAG ...]`,
//! plus `ADDRESS/BITS` (as ntpsec accepts). Without a mask an address means
//! that one host; `restrict default` covers both address families.

use std::net::IpAddr;

use super::address::{family_bits, parse_host, parse_mask, prefix_len, prefix_mask};
use super::args::Args;
use super::model::{Discard, Family, Host, Origin};

/// The flags of a restrict line, as a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RestrictFlags(pub u32);

impl RestrictFlags {
    /// Drop every packet.
    pub const IGNORE: u32 = 1 << 0;
    /// Refuse ntpq/ntpdc queries (modes 6 and 7).
    pub const NOQUERY: u32 = 1 << 1;
    /// Refuse ntpq/ntpdc queries that would change the server.
    pub const NOMODIFY: u32 = 1 << 2;
    /// Refuse time service (answer only queries).
    pub const NOSERVE: u32 = 1 << 3;
    /// Refuse packets that would start a symmetric association.
    pub const NOPEER: u32 = 1 << 4;
    /// Refuse mode 6 trap service.
    pub const NOTRAP: u32 = 1 << 5;
    /// Refuse unauthenticated packets.
    pub const NOTRUST: u32 = 1 << 6;
    /// Send a RATE kiss-o'-death when a request is over the rate limit.
    pub const KOD: u32 = 1 << 7;
    /// Enforce the `discard` rate limits.
    pub const LIMITED: u32 = 1 << 8;
    /// Traps set by these hosts get low priority.
    pub const LOWPRIOTRAP: u32 = 1 << 9;
    /// Match only packets from source port 123.
    pub const NTPPORT: u32 = 1 << 10;
    /// Refuse packets of other NTP versions than 4.
    pub const VERSION: u32 = 1 << 11;
    /// Refuse `ntpq mrulist`.
    pub const NOMRULIST: u32 = 1 << 12;
    /// Refuse ephemeral symmetric associations.
    pub const NOEPEER: u32 = 1 << 13;
    /// Windows MS-SNTP signing (accepted, not implemented).
    pub const MSSNTP: u32 = 1 << 14;

    /// Flag words and their bits, in the order ntpq shows them.
    pub const NAMES: &'static [(&'static str, u32)] = &[
        ("ignore", Self::IGNORE),
        ("noquery", Self::NOQUERY),
        ("nomodify", Self::NOMODIFY),
        ("noserve", Self::NOSERVE),
        ("nopeer", Self::NOPEER),
        ("notrap", Self::NOTRAP),
        ("notrust", Self::NOTRUST),
        ("kod", Self::KOD),
        ("limited", Self::LIMITED),
        ("lowpriotrap", Self::LOWPRIOTRAP),
        ("ntpport", Self::NTPPORT),
        ("version", Self::VERSION),
        ("nomrulist", Self::NOMRULIST),
        ("noepeer", Self::NOEPEER),
        ("mssntp", Self::MSSNTP),
    ];

    pub fn contains(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    pub fn from_word(word: &str) -> Option<u32> {
        Self::NAMES
            .iter()
            .find(|(name, _)| *name == word)
            .map(|(_, bit)| *bit)
    }
}

/// Which sources a restrict line covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestrictTarget {
    /// `default`: every address of the family, or of both.
    Default(Option<Family>),
    /// `source`: the addresses of configured servers (4.2.8).
    Source,
    /// An address and mask.
    Network { addr: IpAddr, mask: IpAddr },
    /// A host name, resolved when the daemon starts; `mask` if given.
    Name {
        name: String,
        family: Option<Family>,
        mask: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restriction {
    pub target: RestrictTarget,
    pub flags: RestrictFlags,
    /// `ippeerlimit N`: the most peer associations from one address.
    pub ippeerlimit: Option<i32>,
    pub origin: Origin,
}

pub fn parse_restrict(args: &mut Args) -> Result<Restriction, String> {
    let mut family = None;
    let mut what = args.required("address (or default)")?;
    if let Some(f) = family_qualifier(what) {
        family = Some(f);
        what = args.required("address (or default)")?;
    }
    let mut target = match what {
        "default" => RestrictTarget::Default(family),
        "source" => RestrictTarget::Source,
        _ => parse_address_target(what, family)?,
    };
    if args.peek() == Some("mask") {
        args.next_word();
        let mask_word = args.value_text("mask")?;
        target = match target {
            RestrictTarget::Network { addr, .. } => {
                let mask = parse_mask(mask_word, Family::of(addr))
                    .map_err(|e| format!("restrict: {e}"))?;
                RestrictTarget::Network { addr, mask }
            }
            RestrictTarget::Name { name, family, .. } => RestrictTarget::Name {
                name,
                family,
                mask: Some(mask_word.to_string()),
            },
            RestrictTarget::Default(_) | RestrictTarget::Source => {
                return Err(format!("restrict: \"mask\" cannot follow \"{what}\""))
            }
        };
    }
    let mut flags = RestrictFlags::default();
    let mut ippeerlimit = None;
    while let Some(word) = args.next_word() {
        if let Some(bit) = RestrictFlags::from_word(word) {
            flags.0 |= bit;
            continue;
        }
        match word {
            "ippeerlimit" => ippeerlimit = Some(args.value_in("ippeerlimit", -1..=i32::MAX)?),
            // 4.2.8: how to fuzz the low bits of replies; accepted, ours are
            // never fuzzed beyond the clock's own precision.
            "serverresponse" => match args.value_text("serverresponse")? {
                "fuzz" => {}
                other => {
                    return Err(format!(
                        "restrict serverresponse: unknown value \"{other}\""
                    ))
                }
            },
            "mask" => return Err("restrict: \"mask\" must come right after the address".into()),
            _ => return Err(format!("restrict: unknown flag \"{word}\"")),
        }
    }
    Ok(Restriction {
        target,
        flags,
        ippeerlimit,
        origin: Origin::default(),
    })
}

pub fn family_qualifier(word: &str) -> Option<Family> {
    match word {
        "-4" => Some(Family::V4),
        "-6" => Some(Family::V6),
        _ => None,
    }
}

fn parse_address_target(word: &str, family: Option<Family>) -> Result<RestrictTarget, String> {
    let (host_word, bits) = match word.split_once('/') {
        Some((h, b)) => (h, Some(b)),
        None => (word, None),
    };
    match parse_host(host_word).map_err(|e| format!("restrict: {e}"))? {
        Host::Ip(addr) => {
            let fam = Family::of(addr);
            if family.is_some_and(|f| f != fam) {
                return Err(format!(
                    "restrict: {addr} does not match the -4/-6 qualifier"
                ));
            }
            let max = family_bits(fam);
            let bits = prefix_len("restrict", bits, max)?;
            Ok(RestrictTarget::Network {
                addr,
                mask: prefix_mask(fam, bits),
            })
        }
        Host::Name(name) => match bits {
            Some(_) => Err(format!(
                "restrict: a prefix length needs an address, not \"{word}\""
            )),
            None => Ok(RestrictTarget::Name {
                name,
                family,
                mask: None,
            }),
        },
    }
}

/// `discard [average N] [minimum N] [monitor N]`.
pub fn parse_discard(args: &mut Args, discard: &mut Discard) -> Result<(), String> {
    if args.is_empty() {
        return Err("discard: expected average, minimum or monitor".into());
    }
    while let Some(word) = args.next_word() {
        match word {
            // log2 seconds; classic accepts 0 to 16 (65536 s).
            "average" => discard.average = args.value_in("average", 0..=16)?,
            "minimum" => discard.minimum = args.value_in("minimum", 0..=65536)?,
            "monitor" => discard.monitor = args.value_in("monitor", 0..=u32::MAX)?,
            _ => return Err(args.unknown(word)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restrict(line: &str) -> Result<Restriction, String> {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        parse_restrict(&mut Args::new("restrict", &words))
    }

    fn net(addr: &str, mask: &str) -> RestrictTarget {
        RestrictTarget::Network {
            addr: addr.parse().unwrap(),
            mask: mask.parse().unwrap(),
        }
    }

    #[test]
    fn the_seed_lines() {
        let r = restrict("-4 default kod nomodify notrap nopeer noquery").unwrap();
        assert_eq!(r.target, RestrictTarget::Default(Some(Family::V4)));
        assert_eq!(
            r.flags.0,
            RestrictFlags::KOD
                | RestrictFlags::NOMODIFY
                | RestrictFlags::NOTRAP
                | RestrictFlags::NOPEER
                | RestrictFlags::NOQUERY
        );
        let lan = restrict("192.168.2.0 mask 255.255.255.0 nomodify notrap").unwrap();
        assert_eq!(lan.target, net("192.168.2.0", "255.255.255.0"));
        let host = restrict("127.0.0.1").unwrap();
        assert_eq!(host.target, net("127.0.0.1", "255.255.255.255"));
        assert_eq!(host.flags, RestrictFlags::default());
        let v6 = restrict("-6 ::1").unwrap();
        assert_eq!(
            v6.target,
            net("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        );
        let any = restrict("0.0.0.0 mask 0.0.0.0 notrust").unwrap();
        assert_eq!(any.target, net("0.0.0.0", "0.0.0.0"));
        let name = restrict("ntp.ubuntu.com nomodify notrap noquery").unwrap();
        assert!(
            matches!(name.target, RestrictTarget::Name { ref name, .. } if name == "ntp.ubuntu.com")
        );
    }

    #[test]
    fn prefixes_and_errors() {
        assert_eq!(
            restrict("10.0.0.0/8 limited").unwrap().target,
            net("10.0.0.0", "255.0.0.0")
        );
        assert!(restrict("").unwrap_err().contains("missing"));
        assert!(restrict("10.0.0.0 mask")
            .unwrap_err()
            .contains("missing value"));
        assert!(restrict("10.0.0.0 mask ffff::")
            .unwrap_err()
            .contains("family"));
        assert!(restrict("10.0.0.0 nomodfiy")
            .unwrap_err()
            .contains("unknown flag \"nomodfiy\""));
        assert!(restrict("-6 10.0.0.1").is_err());
        assert!(restrict("10.0.0.0/33").is_err());
        assert!(restrict("default mask 0.0.0.0").is_err());
    }

    #[test]
    fn discard_values() {
        let words: Vec<String> = ["average", "4", "minimum", "1"].map(String::from).to_vec();
        let mut d = Discard::default();
        parse_discard(&mut Args::new("discard", &words), &mut d).unwrap();
        assert_eq!((d.average, d.minimum), (4, 1));
        let bad: Vec<String> = ["average", "x"].map(String::from).to_vec();
        assert!(parse_discard(&mut Args::new("discard", &bad), &mut d).is_err());
    }
}
