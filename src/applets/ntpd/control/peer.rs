//! The associations: READSTAT's list of (association ID, peer status)
//! pairs, and the per-peer variables that `ntpq -p` and `ntpq -c "rv &1"`
//! read.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::format::{self, Value};
use super::vars::VarSet;
use crate::engine::PeerVars;
use crate::proto::{NtpTimestamp, UnixTime};

/// Classic ntpd's default peer variables, in the order the issue and
/// classic list them. `rec` comes after `reftime`: ntpsec's ntpq takes the
/// `when` column from whichever of the two comes last.
pub const DEFAULTS: &[&str] = &[
    "srcadr",
    "srcport",
    "srchost",
    "dstadr",
    "dstport",
    "leap",
    "stratum",
    "precision",
    "rootdelay",
    "rootdisp",
    "refid",
    "reftime",
    "rec",
    "reach",
    "unreach",
    "hmode",
    "pmode",
    "hpoll",
    "ppoll",
    "headway",
    "flash",
    "keyid",
    "offset",
    "delay",
    "dispersion",
    "jitter",
    "filtdelay",
    "filtoffset",
    "filtdisp",
];

/// The first octets of a reference clock's pseudo-address 127.127.T.U.
const REFCLOCK_NET: [u8; 2] = [127, 127];
/// Driver type 1 is the undisciplined local clock.
const LOCAL_DRIVER: u8 = 1;

/// READSTAT's data: for each association its ID and status word, both
/// big-endian 16-bit, in association-ID order.
pub fn status_list(peers: &[PeerVars]) -> Vec<u8> {
    let mut data = Vec::with_capacity(peers.len() * 4);
    for p in peers {
        data.extend_from_slice(&p.assoc_id.to_be_bytes());
        data.extend_from_slice(&p.status.word().to_be_bytes());
    }
    data
}

/// The reference clock (driver, unit) behind a 127.127.T.U address.
pub fn refclock_of(addr: SocketAddr) -> Option<(u8, u8)> {
    match addr.ip() {
        IpAddr::V4(v4) if v4.octets()[..2] == REFCLOCK_NET => {
            Some((v4.octets()[2], v4.octets()[3]))
        }
        _ => None,
    }
}

/// A reference clock's name as ntpq shows it: `LOCAL(0)`. The parenthesis
/// is what makes ntpsec's ntpq print the `l` type.
pub fn clock_name(driver: u8, unit: u8) -> String {
    let name = if driver == LOCAL_DRIVER {
        "LOCAL"
    } else {
        "REFCLK"
    };
    format!("{name}({unit})")
}

/// One association's variables at one moment.
pub struct PeerSet<'a> {
    pub peer: &'a PeerVars,
}

impl PeerSet<'_> {
    /// `srchost`: the configured name, or the clock name of a reference
    /// clock; absent for an address written as such.
    fn srchost(&self) -> Value {
        let p = self.peer;
        if let Some(name) = &p.hostname {
            return Value::Quoted(name.clone());
        }
        match refclock_of(p.srcadr) {
            Some((driver, unit)) => Value::Quoted(clock_name(driver, unit)),
            None => Value::Absent,
        }
    }
}

impl VarSet for PeerSet<'_> {
    fn value(&self, name: &str) -> Option<Value> {
        let p = self.peer;
        let dst = p
            .dstadr
            .unwrap_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)));
        let refclock = refclock_of(p.srcadr).is_some();
        Some(match name {
            "srcadr" => format::address(p.srcadr.ip()),
            "srcport" => format::int(p.srcadr.port()),
            "srchost" => self.srchost(),
            "dstadr" => format::address(dst.ip()),
            "dstport" => format::int(dst.port()),
            "leap" => format::int(p.leap.bits()),
            "stratum" => format::int(p.stratum),
            "precision" => format::int(p.precision),
            "rootdelay" => format::ms3(p.root_delay),
            "rootdisp" => format::ms3(p.root_dispersion),
            // A reference clock's refid is always its ASCII name (classic
            // checks FLAG_REFCLOCK before the stratum rule).
            "refid" if refclock => format::refid_text(p.refid),
            "refid" => format::refid(p.refid, p.stratum),
            "reftime" => format::timestamp(p.reference_time),
            "rec" => format::timestamp(p.rec.map_or(NtpTimestamp::ZERO, stamp)),
            "reach" => format::hex(p.reach),
            "unreach" => format::int(p.unreach),
            "hmode" => format::int(p.hmode),
            "pmode" => format::int(p.pmode),
            "hpoll" => format::int(p.hpoll),
            "ppoll" => format::int(p.ppoll),
            "headway" => format::int(p.headway),
            "flash" => format::hex(p.flash),
            "keyid" => format::int(p.keyid),
            "offset" => format::ms6(p.offset),
            "delay" => format::ms6(p.delay),
            "dispersion" => format::ms6(p.dispersion),
            "jitter" => format::ms6(p.jitter),
            "filtdelay" => format::filter(&p.filter_delay),
            "filtoffset" => format::filter(&p.filter_offset),
            "filtdisp" => format::filter(&p.filter_dispersion),
            _ => return None,
        })
    }

    fn defaults(&self) -> &'static [&'static str] {
        DEFAULTS
    }
}

fn stamp(t: UnixTime) -> NtpTimestamp {
    NtpTimestamp::from_unix(t)
}
