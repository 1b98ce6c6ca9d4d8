//! Who gets mode 6 answers, and how many bytes of them.
//!
//! Mode 6 answers are many times larger than the requests (a 12-byte
//! READVAR fetches ~400 bytes), which makes an open ntpd a traffic
//! amplifier for anyone who can forge a victim's source address. So, by
//! default, nothing answers a remote client:
//! * loopback clients (127.0.0.0/8, ::1) get every answer, unlimited;
//! * a remote client gets answers only when a `restrict` line other than
//!   `restrict default` covers its address (and does not say `noquery`,
//!   which the responder has already applied): the administrator named
//!   that network. Its answers are then rate limited in bytes, per client
//!   address and over all remote clients together, so that even a forged
//!   source inside that network draws a bounded trickle;
//! * everyone else gets no reply at all (not even an error).
//!
//! The MRU list, the largest answer, additionally needs a nonce that only
//! a client receiving at its address can have (see `nonce.rs`).

use std::net::IpAddr;

use super::format::canonical;
use crate::config::{RestrictFlags, RestrictTarget, Restriction};

/// Answer bytes a remote client may draw at once.
pub const CLIENT_BURST_BYTES: f64 = 16_384.0;
/// ... and then per second: an `ntpq -p` of a dozen peers every few
/// seconds fits, a reflection flood does not.
pub const CLIENT_BYTES_PER_SEC: f64 = 2_048.0;
/// All remote clients together, so that forging many source addresses
/// does not multiply the budget.
pub const GLOBAL_BURST_BYTES: f64 = 65_536.0;
pub const GLOBAL_BYTES_PER_SEC: f64 = 16_384.0;
/// Remote clients with a bucket of their own; the least recently seen one
/// gives its bucket up (the global bucket still bounds the total).
const CLIENT_BUCKETS: usize = 256;
/// The port `ntpport` restrict lines are limited to.
const NTP_PORT: u16 = 123;

/// How a request's source is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Loopback: full service.
    Local,
    /// Named by a restrict line: served within the byte budget.
    Limited,
    /// Not served: no reply.
    Refused,
}

/// The networks `restrict` lines name explicitly (everything but
/// `default` and `source`).
#[derive(Clone, Debug, Default)]
pub struct Explicit {
    /// (network, mask, ntpport only), IPv4 as mapped IPv6.
    networks: Vec<(u128, u128, bool)>,
}

impl Explicit {
    /// The explicit lines of ntp.conf. Lines by host name are not counted:
    /// their addresses were resolved by the daemon when it built the access
    /// table, which does not say which entry matched (see the report).
    pub fn from_restrictions(restrictions: &[Restriction]) -> Explicit {
        let networks = restrictions
            .iter()
            .filter_map(|r| match r.target {
                RestrictTarget::Network { addr, mask } => Some((
                    bits(addr) & bits_mask(addr, mask),
                    bits_mask(addr, mask),
                    r.flags.contains(RestrictFlags::NTPPORT),
                )),
                _ => None,
            })
            .collect();
        Explicit { networks }
    }

    pub fn covers(&self, addr: IpAddr, port: u16) -> bool {
        let a = bits(addr);
        self.networks
            .iter()
            .any(|&(net, mask, ntpport)| a & mask == net && (!ntpport || port == NTP_PORT))
    }

    pub fn admission(&self, addr: IpAddr, port: u16) -> Admission {
        if canonical(addr).is_loopback() {
            Admission::Local
        } else if self.covers(addr, port) {
            Admission::Limited
        } else {
            Admission::Refused
        }
    }
}

/// An address as 128 bits, IPv4 as its mapped IPv6 form.
fn bits(addr: IpAddr) -> u128 {
    match canonical(addr) {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// A mask in the same 128-bit space (an IPv4 mask keeps the mapped prefix).
fn bits_mask(addr: IpAddr, mask: IpAddr) -> u128 {
    match (canonical(addr), mask) {
        (IpAddr::V4(_), IpAddr::V4(m)) => (u128::MAX << 32) | u128::from(u32::from(m)),
        (_, m) => bits(m),
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    level: f64,
    at: f64,
}

impl Bucket {
    fn full(burst: f64, now: f64) -> Bucket {
        Bucket {
            level: burst,
            at: now,
        }
    }

    fn refill(&mut self, now: f64, rate: f64, burst: f64) {
        let elapsed = (now - self.at).max(0.0);
        self.level = (self.level + elapsed * rate).min(burst);
        self.at = now;
    }
}

/// Token buckets of answer bytes for remote clients, in memory allocated
/// once.
pub struct RateLimit {
    clients: Vec<(IpAddr, Bucket)>,
    global: Bucket,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit::new()
    }
}

impl RateLimit {
    pub fn new() -> RateLimit {
        RateLimit {
            clients: Vec::with_capacity(CLIENT_BUCKETS),
            global: Bucket::full(GLOBAL_BURST_BYTES, f64::NEG_INFINITY),
        }
    }

    /// May `bytes` of answers go to `addr` at `now` (monotonic seconds)?
    /// When yes they are taken from its budget; when no nothing is.
    pub fn allow(&mut self, addr: IpAddr, bytes: usize, now: f64) -> bool {
        let bytes = bytes as f64;
        let addr = canonical(addr);
        let i = match self.clients.iter().position(|(a, _)| *a == addr) {
            Some(i) => i,
            None if self.clients.len() < CLIENT_BUCKETS => {
                self.clients
                    .push((addr, Bucket::full(CLIENT_BURST_BYTES, now)));
                self.clients.len() - 1
            }
            None => {
                let oldest = (0..self.clients.len())
                    .min_by(|&a, &b| self.clients[a].1.at.total_cmp(&self.clients[b].1.at))
                    .unwrap_or(0);
                self.clients[oldest] = (addr, Bucket::full(CLIENT_BURST_BYTES, now));
                oldest
            }
        };
        self.global
            .refill(now, GLOBAL_BYTES_PER_SEC, GLOBAL_BURST_BYTES);
        let client = &mut self.clients[i].1;
        client.refill(now, CLIENT_BYTES_PER_SEC, CLIENT_BURST_BYTES);
        if client.level < bytes || self.global.level < bytes {
            return false;
        }
        client.level -= bytes;
        self.global.level -= bytes;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    fn explicit(conf: &str) -> Explicit {
        let l = parse_str(conf, std::path::Path::new("t.conf"));
        Explicit::from_restrictions(&l.config.restrictions)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_is_served_remote_only_when_named() {
        let e = explicit(
            "restrict default kod nomodify\nrestrict 192.168.2.0 mask 255.255.255.0\n\
             restrict fd00::/64\nrestrict 10.9.0.0/16 ntpport\n",
        );
        for local in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(e.admission(ip(local), 40000), Admission::Local, "{local}");
        }
        for named in ["192.168.2.7", "::ffff:192.168.2.7", "fd00::9"] {
            assert_eq!(e.admission(ip(named), 40000), Admission::Limited, "{named}");
        }
        for other in ["192.168.3.1", "8.8.8.8", "fd01::1", "10.9.1.1"] {
            assert_eq!(e.admission(ip(other), 40000), Admission::Refused, "{other}");
        }
        assert_eq!(e.admission(ip("10.9.1.1"), 123), Admission::Limited);
        // `restrict default` alone opens nothing.
        let d = explicit("restrict default\nrestrict -6 default\n");
        assert_eq!(d.admission(ip("192.0.2.1"), 40000), Admission::Refused);
        assert_eq!(d.admission(ip("2001:db8::1"), 40000), Admission::Refused);
        // An IPv4 network never covers IPv6 addresses that share its bits.
        let v4 = explicit("restrict 0.0.0.0 mask 0.0.0.0\n");
        assert_eq!(v4.admission(ip("8.8.8.8"), 1), Admission::Limited);
        assert_eq!(v4.admission(ip("2001:db8::1"), 1), Admission::Refused);
    }

    #[test]
    fn a_client_draws_its_burst_then_its_rate() {
        let mut r = RateLimit::new();
        let a = ip("192.168.2.7");
        let mut sent = 0usize;
        while r.allow(a, 480, 0.0) {
            sent += 480;
        }
        assert_eq!(sent, (CLIENT_BURST_BYTES / 480.0) as usize * 480);
        assert!(!r.allow(a, 480, 0.1));
        assert!(r.allow(a, 480, 0.5), "2 KB/s refills 480 bytes in 0.25 s");
        // Another client has its own bucket.
        assert!(r.allow(ip("192.168.2.8"), 480, 0.5));
    }

    #[test]
    fn forged_sources_share_the_global_budget() {
        let mut r = RateLimit::new();
        let mut sent = 0.0;
        for n in 0..10_000u32 {
            let a = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            if r.allow(a, 400, 0.0) {
                sent += 400.0;
            }
        }
        assert!(sent <= GLOBAL_BURST_BYTES, "{sent}");
        assert!(sent >= GLOBAL_BURST_BYTES - 400.0, "{sent}");
        assert_eq!(r.clients.len(), CLIENT_BUCKETS);
    }
}
