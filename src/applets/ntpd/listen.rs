//! Which addresses ntpd listens on, and the sockets for them.
//!
//! As classic ntpd: a wildcard socket per family that receives and drops
//! ("Listen and drop"), so stray packets to other local addresses do not get
//! "port unreachable", plus one socket per interface address that serves
//! ("Listen normally"). Replies then leave from the address the request
//! went to. `interface listen|ignore|drop` rules apply in order, the last
//! match deciding; `-4`/`-6` and `-L` narrow the set.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use crate::config::{InterfaceAction, InterfaceMatch, InterfaceRule};
use crate::net::batch::ServerSocket;

/// One address to listen on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Interface name, or `v4wildcard`/`v6wildcard`.
    pub name: String,
    pub addr: IpAddr,
    /// IPv6 scope (interface index) for link-local addresses.
    pub scope: u32,
    pub wildcard: bool,
    /// Classic's INT_* bits for it (`ntpq ifstats` shows them).
    pub flags: u32,
}

/// Classic ntpd's interface flags (ntpd.h INT_*), which `ntpq ifstats`
/// prints in hex: ntpq users compare them with classic's and NTPsec's.
pub mod int_flags {
    /// The interface is up.
    pub const UP: u32 = 0x001;
    /// A point-to-point link.
    pub const PPP: u32 = 0x002;
    /// The loopback interface.
    pub const LOOPBACK: u32 = 0x004;
    /// It can broadcast (IPv4 only, as classic sets it).
    pub const BROADCAST: u32 = 0x008;
    /// The wildcard socket of a family.
    pub const WILDCARD: u32 = 0x080;
}

/// What to do with a candidate after the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Serve,
    Drop,
    Skip,
}

/// Command-line limits on listening.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListenLimits {
    pub ipv4_only: bool,
    pub ipv6_only: bool,
    /// `-L`: skip virtual interfaces (`eth0:1` aliases).
    pub no_virtual: bool,
}

pub fn disposition(c: &Candidate, rules: &[InterfaceRule], limits: ListenLimits) -> Disposition {
    if (limits.ipv4_only && c.addr.is_ipv6()) || (limits.ipv6_only && c.addr.is_ipv4()) {
        return Disposition::Skip;
    }
    if limits.no_virtual && c.name.contains(':') {
        return Disposition::Skip;
    }
    let mut action = if c.wildcard {
        InterfaceAction::Drop
    } else {
        InterfaceAction::Listen
    };
    for rule in rules.iter().filter(|r| rule_matches(&r.what, c)) {
        action = rule.action;
    }
    match action {
        // The wildcard sockets only ever drop (replies must leave from the
        // address the client used, which a wildcard socket cannot tell).
        InterfaceAction::Listen if c.wildcard => Disposition::Drop,
        InterfaceAction::Listen => Disposition::Serve,
        InterfaceAction::Drop => Disposition::Drop,
        InterfaceAction::Ignore => Disposition::Skip,
    }
}

fn rule_matches(what: &InterfaceMatch, c: &Candidate) -> bool {
    match what {
        InterfaceMatch::Wildcard => c.wildcard,
        _ if c.wildcard => false,
        InterfaceMatch::All => true,
        InterfaceMatch::Ipv4 => c.addr.is_ipv4(),
        InterfaceMatch::Ipv6 => c.addr.is_ipv6(),
        InterfaceMatch::Name(name) => match name.strip_suffix('*') {
            Some(prefix) => c.name.starts_with(prefix),
            None => c.name == *name,
        },
        InterfaceMatch::Prefix { addr, bits } => in_prefix(c.addr, *addr, *bits),
    }
}

fn in_prefix(addr: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(bits.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(bits.min(128)))
                .unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The wildcards first (v6, then v4, as classic numbers them), then every
/// interface address the kernel reports.
pub fn candidates() -> Vec<Candidate> {
    let mut list = vec![
        Candidate {
            name: "v6wildcard".into(),
            addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            scope: 0,
            wildcard: true,
            flags: int_flags::UP | int_flags::WILDCARD,
        },
        Candidate {
            name: "v4wildcard".into(),
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            scope: 0,
            wildcard: true,
            // Classic marks the IPv4 wildcard broadcast-capable too.
            flags: int_flags::UP | int_flags::BROADCAST | int_flags::WILDCARD,
        },
    ];
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return list;
    };
    let mut v6 = Vec::new();
    for ifa in addrs {
        let Some(address) = ifa.address else { continue };
        let flags = classic_flags(ifa.flags);
        if let Some(sin) = address.as_sockaddr_in() {
            list.push(Candidate {
                name: ifa.interface_name.clone(),
                addr: IpAddr::V4(sin.ip()),
                scope: 0,
                wildcard: false,
                flags,
            });
        } else if let Some(sin6) = address.as_sockaddr_in6() {
            v6.push(Candidate {
                name: ifa.interface_name.clone(),
                addr: IpAddr::V6(sin6.ip()),
                scope: sin6.scope_id(),
                wildcard: false,
                // IPv6 has no broadcast.
                flags: flags & !int_flags::BROADCAST,
            });
        }
    }
    list.extend(v6);
    list
}

/// The kernel's interface flags as classic's INT_* bits.
fn classic_flags(kernel: nix::net::if_::InterfaceFlags) -> u32 {
    use nix::net::if_::InterfaceFlags as K;
    [
        (K::IFF_UP, int_flags::UP),
        (K::IFF_POINTOPOINT, int_flags::PPP),
        (K::IFF_LOOPBACK, int_flags::LOOPBACK),
        (K::IFF_BROADCAST, int_flags::BROADCAST),
    ]
    .iter()
    .filter(|(k, _)| kernel.contains(*k))
    .fold(0, |bits, (_, b)| bits | b)
}

/// An open socket and what it is for.
pub struct Listener {
    pub socket: ServerSocket,
    pub serve: bool,
    pub number: usize,
    pub name: String,
    /// Classic's INT_* bits of its interface.
    pub flags: u32,
    /// When it was opened, in monotonic seconds (`ntpq ifstats` uptime).
    pub opened: f64,
}

/// The classic form of an address and port: `127.0.0.1:123`,
/// `[::1]:123`, `[fe80::1%2]:123`.
pub fn display_addr(addr: IpAddr, scope: u32, port: u16) -> String {
    match addr {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) if scope != 0 => format!("[{v6}%{scope}]:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// Opens a socket per candidate the rules keep; returns them and the log
/// lines (successes and failures) in classic words.
pub fn open(
    candidates: &[Candidate],
    rules: &[InterfaceRule],
    limits: ListenLimits,
    port: u16,
) -> (Vec<Listener>, Vec<(bool, String)>) {
    let mut listeners = Vec::new();
    let mut lines = Vec::new();
    let mut number = 0;
    for c in candidates {
        let serve = match disposition(c, rules, limits) {
            Disposition::Skip => continue,
            Disposition::Serve => true,
            Disposition::Drop => false,
        };
        let addr = match c.addr {
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, c.scope)),
            v4 => SocketAddr::new(v4, port),
        };
        let shown = display_addr(c.addr, c.scope, port);
        match ServerSocket::bind(addr) {
            Ok(socket) => {
                let how = if serve {
                    "Listen normally"
                } else {
                    "Listen and drop"
                };
                lines.push((true, format!("{how} on {number} {} {shown}", c.name)));
                listeners.push(Listener {
                    socket,
                    serve,
                    number,
                    name: c.name.clone(),
                    flags: c.flags,
                    opened: super::time::monotonic(),
                });
            }
            Err(e) => lines.push((
                false,
                format!(
                    "unable to create socket on {} ({number}) for {shown}: {}",
                    c.name,
                    crate::config::auth::os_message(&e)
                ),
            )),
        }
        number += 1;
    }
    (listeners, lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    fn cand(name: &str, addr: &str) -> Candidate {
        Candidate {
            name: name.into(),
            addr: addr.parse().unwrap(),
            scope: 0,
            wildcard: false,
            flags: int_flags::UP,
        }
    }

    fn rules(text: &str) -> Vec<InterfaceRule> {
        parse_str(text, std::path::Path::new("t")).config.interfaces
    }

    #[test]
    fn defaults_serve_interfaces_and_drop_on_wildcards() {
        let wild = &candidates()[1];
        assert!(wild.wildcard && wild.name == "v4wildcard");
        assert_eq!(
            disposition(wild, &[], ListenLimits::default()),
            Disposition::Drop
        );
        assert_eq!(
            disposition(&cand("lo", "127.0.0.1"), &[], ListenLimits::default()),
            Disposition::Serve
        );
    }

    #[test]
    fn the_last_matching_rule_decides() {
        let r = rules("interface ignore wildcard\ninterface ignore all\ninterface listen 127.0.0.1\ninterface drop eth*\n");
        let l = ListenLimits::default();
        assert_eq!(disposition(&candidates()[0], &r, l), Disposition::Skip);
        assert_eq!(
            disposition(&cand("lo", "127.0.0.1"), &r, l),
            Disposition::Serve
        );
        assert_eq!(disposition(&cand("lo", "::1"), &r, l), Disposition::Skip);
        assert_eq!(
            disposition(&cand("eth0", "10.0.0.1"), &r, l),
            Disposition::Drop
        );
        let v4 = ListenLimits {
            ipv4_only: true,
            ..l
        };
        assert_eq!(disposition(&cand("lo", "::1"), &[], v4), Disposition::Skip);
        let novirt = ListenLimits {
            no_virtual: true,
            ..l
        };
        assert_eq!(
            disposition(&cand("eth0:1", "10.0.0.2"), &[], novirt),
            Disposition::Skip
        );
        let prefix = rules("interface ignore all\ninterface listen 10.0.0.0/8\n");
        assert_eq!(
            disposition(&cand("eth0", "10.1.2.3"), &prefix, l),
            Disposition::Serve
        );
    }

    #[test]
    fn addresses_display_as_classic_logs_them() {
        assert_eq!(
            display_addr("127.0.0.1".parse().unwrap(), 0, 123),
            "127.0.0.1:123"
        );
        assert_eq!(display_addr("::1".parse().unwrap(), 0, 123), "[::1]:123");
        assert_eq!(
            display_addr("fe80::1".parse().unwrap(), 2, 123),
            "[fe80::1%2]:123"
        );
    }
}
