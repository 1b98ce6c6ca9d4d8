//! How values are written in mode 6 variable lists, as classic ntpd writes
//! them (ntp_control.c's ctl_put* family): ntpq parses these forms, and
//! scripts parse what ntpq prints from them.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use crate::proto::{NtpTimestamp, RefId};

/// Seconds to milliseconds: delays, offsets, dispersions and jitters go on
/// the wire in ms.
const MS_PER_SEC: f64 = 1e3;
/// Strata at and below this one name their reference in ASCII (`.GPS.`);
/// classic's REFID_ISTEXT.
const TEXT_REFID_MAX_STRATUM: u8 = 1;
/// Strata from this one on (unsynchronised) carry ASCII codes (`INIT`).
const TEXT_REFID_MIN_UNSYNC_STRATUM: u8 = 16;

/// One variable's value as it goes on the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `name=value`: numbers, timestamps, addresses.
    Raw(String),
    /// `name="value"`: free text.
    Quoted(String),
    /// A variable this daemon knows but has no value for right now (the
    /// leap second file's dates before one is read): written not at all,
    /// as classic omits it.
    Absent,
}

/// `0xe9c1a3f2.12345678` (ctl_putts): ntpq adds the date itself.
pub fn timestamp(t: NtpTimestamp) -> Value {
    Value::Raw(format!("0x{:08x}.{:08x}", t.era_secs(), t.fraction()))
}

/// Parses what [`timestamp`] writes (with or without `0x`), as ntpq sends
/// MRU `last.N` back.
pub fn parse_timestamp(text: &str) -> Option<NtpTimestamp> {
    let text = text.trim();
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let (secs, fraction) = hex.split_once('.')?;
    let secs = u32::from_str_radix(secs, 16).ok()?;
    let fraction = u32::from_str_radix(fraction, 16).ok()?;
    Some(NtpTimestamp::from_parts(secs, fraction))
}

/// Seconds as milliseconds with three decimals (ctl_putdbl): root delay
/// and root dispersion.
pub fn ms3(secs: f64) -> Value {
    Value::Raw(format!("{:.3}", secs * MS_PER_SEC))
}

/// Seconds as milliseconds with six decimals (ctl_putdbl6): offsets,
/// delays and jitters, whose sub-microsecond digits ntpq shows.
pub fn ms6(secs: f64) -> Value {
    Value::Raw(format!("{:.6}", secs * MS_PER_SEC))
}

/// A plain number with six decimals (frequency and wander in ppm).
pub fn fixed6(x: f64) -> Value {
    Value::Raw(format!("{x:.6}"))
}

pub fn int(n: impl Into<i64>) -> Value {
    Value::Raw(n.into().to_string())
}

/// `0x1f` (ctl_puthex): reach, flash, restrict flags.
pub fn hex(n: impl Into<u64>) -> Value {
    Value::Raw(format!("{:#x}", n.into()))
}

/// An address without its port (ctl_putadr): `198.18.0.2`, `fe80::1`.
pub fn address(addr: IpAddr) -> Value {
    Value::Raw(canonical(addr).to_string())
}

/// An address with its port, as the MRU list shows clients:
/// `198.18.0.2:123`, `[fe80::1]:123`.
pub fn socket_address(addr: IpAddr, port: u16) -> Value {
    Value::Raw(SocketAddr::new(canonical(addr), port).to_string())
}

/// IPv4-mapped IPv6 addresses are IPv4 clients on a dual-stack socket.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// A reference ID as classic ntpd writes it for a source of this stratum:
/// ASCII for primary references and unsynchronised codes (`LOCL`, `INIT`,
/// ctl_putrefid), a dotted quad for everything between (the upstream's
/// address, or its IPv6 hash).
pub fn refid(id: RefId, stratum: u8) -> Value {
    if stratum <= TEXT_REFID_MAX_STRATUM || stratum >= TEXT_REFID_MIN_UNSYNC_STRATUM {
        refid_text(id)
    } else {
        Value::Raw(std::net::Ipv4Addr::from(id.0).to_string())
    }
}

/// A reference ID as text: up to its first NUL, anything unprintable (a
/// comma would end the item early) as a dot, as ctl_putrefid does.
pub fn refid_text(id: RefId) -> Value {
    let mut text = String::new();
    for &b in id.0.iter().take_while(|&&b| b != 0) {
        let printable = b.is_ascii_graphic() && b != b',' && b != b'"' && b != b'=';
        text.push(if printable { b as char } else { '.' });
    }
    Value::Raw(text)
}

/// Eight values as classic's ctl_putarray writes the clock filter:
/// milliseconds with two decimals, each after one space.
pub fn filter(values: &[f64; 8]) -> Value {
    let mut text = String::new();
    for v in values {
        let _ = write!(text, " {:.2}", v * MS_PER_SEC);
    }
    Value::Raw(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(v: Value) -> String {
        match v {
            Value::Raw(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timestamps_round_trip_in_the_wire_form() {
        let t = NtpTimestamp::from_parts(0xeeaca5bc, 0xb6c7cab5);
        assert_eq!(raw(timestamp(t)), "0xeeaca5bc.b6c7cab5");
        assert_eq!(parse_timestamp("0xeeaca5bc.b6c7cab5"), Some(t));
        assert_eq!(parse_timestamp("eeaca5bc.b6c7cab5"), Some(t));
        assert_eq!(raw(timestamp(NtpTimestamp::ZERO)), "0x00000000.00000000");
        for bad in ["", "0x", "0xeeaca5bc", "0xzz.00", "0x1.2.3"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_in_classic_units_and_precision() {
        assert_eq!(raw(ms3(0.000049)), "0.049");
        assert_eq!(raw(ms3(0.01)), "10.000");
        assert_eq!(raw(ms6(0.0)), "0.000000");
        assert_eq!(raw(ms6(-0.0153)), "-15.300000");
        assert_eq!(raw(fixed6(-12.5)), "-12.500000");
        assert_eq!(raw(hex(0xffu8)), "0xff");
        assert_eq!(raw(hex(0u8)), "0x0");
        assert_eq!(raw(int(-24i8)), "-24");
    }

    #[test]
    fn refids_are_text_for_primaries_and_codes_else_addresses() {
        assert_eq!(raw(refid(RefId(*b"GPS\0"), 1)), "GPS");
        assert_eq!(raw(refid(RefId(*b"INIT"), 16)), "INIT");
        assert_eq!(raw(refid(RefId([198, 18, 0, 2]), 3)), "198.18.0.2");
        assert_eq!(raw(refid(RefId([127, 127, 1, 0]), 11)), "127.127.1.0");
        assert_eq!(raw(refid_text(RefId([b'A', b',', 7, b'Z']))), "A..Z");
    }

    #[test]
    fn addresses_and_filters() {
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(raw(address(mapped)), "10.1.2.3");
        assert_eq!(raw(socket_address(mapped, 123)), "10.1.2.3:123");
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert_eq!(raw(socket_address(v6, 40000)), "[fe80::1]:40000");
        let f = [0.0, 0.00001, 0.01, 0.0, 0.0, 0.0, 0.0, 16.0];
        assert_eq!(
            raw(filter(&f)),
            " 0.00 0.01 10.00 0.00 0.00 0.00 0.00 16000.00"
        );
    }
}
