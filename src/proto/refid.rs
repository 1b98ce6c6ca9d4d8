//! The reference ID (RFC 5905 §7.3): what a server's time comes from.
//!
//! Its meaning depends on the stratum: a kiss code at stratum 0, a source
//! name such as `GPS` or `LOCL` at stratum 1, and the upstream server's IPv4
//! address (or a hash of its IPv6 address) above that.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use md5::{Digest, Md5};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct RefId(pub [u8; 4]);

/// What a reference ID means, given the stratum it came with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefIdMeaning {
    /// Stratum 0: a kiss code (`DENY`, `RSTR`, `RATE`, `INIT`, ...).
    Kiss(String),
    /// Stratum 1: the reference clock, e.g. `GPS`, `PPS`, `LOCL`.
    Source(String),
    /// Stratum 2 and above: the upstream server's IPv4 address, or for an
    /// IPv6 upstream the first four bytes of the MD5 of its address.
    Address(Ipv4Addr),
}

impl RefId {
    pub fn from_ascii(code: &str) -> RefId {
        let mut id = [0u8; 4];
        for (slot, byte) in id.iter_mut().zip(code.bytes()) {
            *slot = byte;
        }
        RefId(id)
    }

    /// The reference ID a server puts in its replies when synchronised to
    /// `upstream`.
    pub fn for_upstream(upstream: IpAddr) -> RefId {
        match upstream {
            IpAddr::V4(v4) => RefId(v4.octets()),
            IpAddr::V6(v6) => RefId::ipv6_hash(v6),
        }
    }

    /// RFC 5905: the first four octets of the MD5 hash of the IPv6 address.
    pub fn ipv6_hash(addr: Ipv6Addr) -> RefId {
        let digest = Md5::digest(addr.octets());
        RefId([digest[0], digest[1], digest[2], digest[3]])
    }

    pub fn as_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// The ID as ASCII up to the first NUL, or None if it is not printable.
    pub fn ascii(self) -> Option<String> {
        let text: Vec<u8> = self.0.iter().copied().take_while(|&b| b != 0).collect();
        if text.iter().all(|b| b.is_ascii_graphic()) {
            Some(String::from_utf8_lossy(&text).into_owned())
        } else {
            None
        }
    }

    /// The ID as ASCII with unprintable bytes shown as `.`: a kiss code or
    /// source name from a misbehaving server still displays on one line.
    fn ascii_lossy(self) -> String {
        self.0
            .iter()
            .take_while(|&&b| b != 0)
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
            .collect()
    }

    pub fn meaning(self, stratum: u8) -> RefIdMeaning {
        match stratum {
            0 => RefIdMeaning::Kiss(self.ascii_lossy()),
            1 => RefIdMeaning::Source(self.ascii_lossy()),
            _ => RefIdMeaning::Address(Ipv4Addr::from(self.0)),
        }
    }

    /// The kiss code, if this is a stratum-0 packet's reference ID.
    pub fn kiss_code(self, stratum: u8) -> Option<KissCode> {
        (stratum == 0).then(|| KissCode::from_refid(self))
    }

    /// The reference ID as ntpq shows it: `.GPS.` for stratum 0 and 1, a
    /// dotted quad above.
    pub fn display(self, stratum: u8) -> String {
        match self.meaning(stratum) {
            RefIdMeaning::Kiss(code) | RefIdMeaning::Source(code) => format!(".{code}."),
            RefIdMeaning::Address(addr) => addr.to_string(),
        }
    }
}

impl fmt::Display for RefId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Ipv4Addr::from(self.0))
    }
}

/// Kiss-o'-death codes (RFC 5905 §7.4) that change what a client does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KissCode {
    /// Access denied: stop sending to this server.
    Deny,
    /// Access restricted: stop sending to this server.
    Rstr,
    /// Rate exceeded: poll less often.
    Rate,
    /// Any other code (`INIT`, `STEP`, ...): informational.
    Other(RefId),
}

impl KissCode {
    pub fn from_refid(id: RefId) -> KissCode {
        match &id.0 {
            b"DENY" => KissCode::Deny,
            b"RSTR" => KissCode::Rstr,
            b"RATE" => KissCode::Rate,
            _ => KissCode::Other(id),
        }
    }

    pub fn refid(self) -> RefId {
        match self {
            KissCode::Deny => RefId(*b"DENY"),
            KissCode::Rstr => RefId(*b"RSTR"),
            KissCode::Rate => RefId(*b"RATE"),
            KissCode::Other(id) => id,
        }
    }
}

impl fmt::Display for KissCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.refid().ascii_lossy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meanings_follow_the_stratum() {
        let id = RefId(*b"LOCL");
        assert_eq!(id.meaning(1), RefIdMeaning::Source("LOCL".into()));
        assert_eq!(id.display(1), ".LOCL.");
        assert_eq!(RefId(*b"GPS\0").display(1), ".GPS.");
        assert_eq!(RefId(*b"RATE").kiss_code(0), Some(KissCode::Rate));
        assert_eq!(RefId(*b"RATE").kiss_code(2), None);
        assert_eq!(RefId([10, 0, 0, 1]).display(3), "10.0.0.1");
        assert_eq!(RefId([0x01, 0xff, b'A', 0]).display(0), "...A.");
    }

    #[test]
    fn ipv6_refid_is_the_md5_prefix() {
        // Known values: md5(16 bytes of the address), first four bytes.
        let lo = RefId::for_upstream(IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(lo.0, [0xcf, 0x40, 0x4d, 0xc8]);
        let doc: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            RefId::for_upstream(IpAddr::V6(doc)).0,
            [0x39, 0xab, 0x9b, 0x37]
        );
        assert_eq!(
            RefId::for_upstream(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))).0,
            [192, 0, 2, 7]
        );
    }
}
