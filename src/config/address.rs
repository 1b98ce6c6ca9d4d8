//! Host words of ntp.conf: addresses, names, `HOST:PORT` and `[V6]:PORT`
//! (ntpbox extensions for non-standard ports), reference clock addresses
//! (127.127.TYPE.UNIT) and masks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::model::{Family, Host, Refclock};

/// The longest DNS name (RFC 1035), without the trailing dot.
const MAX_NAME_LEN: usize = 253;
/// The longest DNS label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;
/// Reference clocks live at 127.127.TYPE.UNIT.
const REFCLOCK_NET: [u8; 2] = [127, 127];

/// Parses `HOST`, `HOST:PORT`, `V6ADDR`, `[V6ADDR]` or `[V6ADDR]:PORT`.
pub fn parse_host_port(word: &str) -> Result<(Host, Option<u16>), String> {
    if let Some(rest) = word.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("\"{word}\": missing ']'"))?;
        let addr: Ipv6Addr = inside
            .parse()
            .map_err(|_| format!("\"{inside}\" is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            _ => Some(parse_port_suffix(word, after)?),
        };
        return Ok((Host::Ip(IpAddr::V6(addr)), port));
    }
    if let Ok(ip) = word.parse::<IpAddr>() {
        return Ok((Host::Ip(ip), None));
    }
    if let Some((host, port)) = word.split_once(':') {
        if host.contains(':') || port.contains(':') {
            return Err(format!(
                "\"{word}\" is not an IPv6 address (write [ADDRESS]:PORT for a port)"
            ));
        }
        let port = parse_port_suffix(word, &format!(":{port}"))?;
        return Ok((parse_host(host)?, Some(port)));
    }
    Ok((parse_host(word)?, None))
}

fn parse_port_suffix(word: &str, suffix: &str) -> Result<u16, String> {
    let digits = suffix
        .strip_prefix(':')
        .ok_or_else(|| format!("\"{word}\": expected :PORT after the address"))?;
    parse_port(digits).map_err(|e| format!("\"{word}\": {e}"))
}

/// A UDP port number, 1 to 65535.
pub fn parse_port(digits: &str) -> Result<u16, String> {
    match digits.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("\"{digits}\" is not a port number (1-65535)")),
    }
}

/// An address or a DNS name (not resolved here).
pub fn parse_host(word: &str) -> Result<Host, String> {
    if let Ok(ip) = word.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    if is_dns_name(word) {
        Ok(Host::Name(word.to_string()))
    } else {
        Err(format!("\"{word}\" is not a valid address or host name"))
    }
}

/// RFC 1123 host names (underscores allowed, as resolvers do). A name whose
/// last label is all digits is a mistyped address, not a name.
fn is_dns_name(word: &str) -> bool {
    let name = word.strip_suffix('.').unwrap_or(word);
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return false;
    }
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let last = name.rsplit('.').next().unwrap_or(name);
    labels_ok && !last.bytes().all(|b| b.is_ascii_digit())
}

/// The reference clock an address names, if it is 127.127.T.U.
pub fn refclock_of(host: &Host) -> Option<Refclock> {
    match host {
        Host::Ip(IpAddr::V4(v4)) if v4.octets()[..2] == REFCLOCK_NET => Some(Refclock {
            driver: v4.octets()[2],
            unit: v4.octets()[3],
        }),
        _ => None,
    }
}

/// A mask in address notation, of the given family.
pub fn parse_mask(word: &str, family: Family) -> Result<IpAddr, String> {
    match (word.parse::<IpAddr>(), family) {
        (Ok(m @ IpAddr::V4(_)), Family::V4) | (Ok(m @ IpAddr::V6(_)), Family::V6) => Ok(m),
        (Ok(_), _) => Err(format!(
            "mask {word} is not of the same address family as the address"
        )),
        (Err(_), _) => Err(format!("\"{word}\" is not a valid mask")),
    }
}

/// The mask with the first `bits` bits set.
pub fn prefix_mask(family: Family, bits: u8) -> IpAddr {
    match family {
        Family::V4 => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(bits.min(32)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(m))
        }
        Family::V6 => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(bits.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(m))
        }
    }
}

/// The number of address bits of a family.
pub fn family_bits(family: Family) -> u8 {
    match family {
        Family::V4 => 32,
        Family::V6 => 128,
    }
}

/// The prefix length of an `ADDR/BITS` word: the whole address when `bits`
/// is absent, otherwise 0 to `max`. Errors name the directive.
pub fn prefix_len(directive: &str, bits: Option<&str>, max: u8) -> Result<u8, String> {
    match bits {
        None => Ok(max),
        Some(b) => match b.parse::<u8>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(format!(
                "{directive}: \"/{b}\" is not a prefix length (0-{max})"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    #[test]
    fn hosts_with_and_without_ports() {
        assert_eq!(
            parse_host_port("192.168.2.193"),
            Ok((ip("192.168.2.193"), None))
        );
        assert_eq!(
            parse_host_port("127.0.0.1:11123"),
            Ok((ip("127.0.0.1"), Some(11123)))
        );
        assert_eq!(parse_host_port("::1"), Ok((ip("::1"), None)));
        assert_eq!(parse_host_port("[::1]:1234"), Ok((ip("::1"), Some(1234))));
        assert_eq!(parse_host_port("[fe80::1]"), Ok((ip("fe80::1"), None)));
        assert_eq!(
            parse_host_port("0.cn.pool.ntp.org"),
            Ok((Host::Name("0.cn.pool.ntp.org".into()), None))
        );
        assert_eq!(
            parse_host_port("ntp1.aliyun.com:10123"),
            Ok((Host::Name("ntp1.aliyun.com".into()), Some(10123)))
        );
    }

    #[test]
    fn bad_hosts_and_ports_are_explained() {
        assert!(parse_host_port("127.0.0.1:0").unwrap_err().contains("port"));
        assert!(parse_host_port("127.0.0.1:99999").is_err());
        assert!(parse_host_port("[::1]1").is_err());
        assert!(parse_host_port("[::1").is_err());
        assert!(parse_host_port("192.168.1.300").is_err());
        assert!(parse_host_port("bad_host!").is_err());
        assert!(parse_host_port("//").is_err());
        assert!(parse_host_port("").is_err());
    }

    #[test]
    fn refclock_addresses() {
        assert_eq!(
            refclock_of(&ip("127.127.1.0")),
            Some(Refclock { driver: 1, unit: 0 })
        );
        assert_eq!(refclock_of(&ip("127.0.0.1")), None);
        assert_eq!(refclock_of(&Host::Name("x".into())), None);
    }

    #[test]
    fn masks() {
        assert_eq!(
            prefix_mask(Family::V4, 24),
            "255.255.255.0".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            prefix_mask(Family::V4, 0),
            "0.0.0.0".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            prefix_mask(Family::V6, 128),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
                .parse::<IpAddr>()
                .unwrap()
        );
        assert!(parse_mask("255.255.0.0", Family::V6).is_err());
    }
}
