//! `host[:port]` arguments: names or addresses, `[v6]` or `[v6]:port`, a
//! bare IPv6 address, resolved for the address family `-4`/`-6` ask for.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// The NTP port, where ntpd answers mode 6.
pub const NTP_PORT: u16 = 123;

/// Which addresses a name may resolve to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Family {
    #[default]
    Any,
    V4,
    V6,
}

impl Family {
    fn admits(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// A host argument split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSpec {
    pub host: String,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostError {
    /// The text is not `host`, `host:port`, `[addr]` or `[addr]:port`.
    BadSyntax(String),
    /// The resolver's own words (gai_strerror), as classic ntpq prints them.
    Resolve(String),
    /// The name exists, but not in the family asked for.
    NoAddress(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::BadSyntax(arg) => write!(
                f,
                "***Bad host `{arg}': use HOST, HOST:PORT, [ADDRESS] or [ADDRESS]:PORT"
            ),
            HostError::Resolve(why) => f.write_str(why),
            HostError::NoAddress(host) => {
                write!(f, "***No address of the requested family for `{host}'")
            }
        }
    }
}

impl HostSpec {
    /// Splits `host[:port]`. A text with two or more colons and no
    /// brackets is an IPv6 address without a port.
    pub fn parse(arg: &str) -> Result<HostSpec, HostError> {
        let bad = || HostError::BadSyntax(arg.to_string());
        let (host, port) = if let Some(rest) = arg.strip_prefix('[') {
            let (inner, after) = rest.split_once(']').ok_or_else(bad)?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(bad)?),
            };
            (inner, port)
        } else if arg.matches(':').count() == 1 {
            let (h, p) = arg.split_once(':').ok_or_else(bad)?;
            (h, Some(p))
        } else {
            (arg, None)
        };
        if host.is_empty() {
            return Err(bad());
        }
        let port = match port {
            None => NTP_PORT,
            Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(bad)?,
        };
        Ok(HostSpec {
            host: host.to_string(),
            port,
        })
    }

    /// The addresses to try, in the resolver's order.
    pub fn resolve(&self, family: Family) -> Result<Vec<SocketAddr>, HostError> {
        let found: Vec<SocketAddr> = match self.host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, self.port)],
            Err(_) => (self.host.as_str(), self.port)
                .to_socket_addrs()
                .map_err(|e| HostError::Resolve(resolver_words(&e)))?
                .collect(),
        };
        let wanted: Vec<SocketAddr> = found.into_iter().filter(|a| family.admits(a)).collect();
        if wanted.is_empty() {
            return Err(HostError::NoAddress(self.host.clone()));
        }
        Ok(wanted)
    }

    /// How messages name this host: the name as given (an address in its
    /// canonical form), with the port when it is not 123.
    pub fn display(&self) -> String {
        let host = match self.host.parse::<IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => self.host.clone(),
        };
        match (self.port, host.contains(':')) {
            (NTP_PORT, _) => host,
            (port, true) => format!("[{host}]:{port}"),
            (port, false) => format!("{host}:{port}"),
        }
    }
}

/// std wraps getaddrinfo's message as "failed to lookup address
/// information: Name or service not known"; ntpq prints only the last part.
fn resolver_words(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(": ") {
        Some((_, why)) => why.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(host: &str, port: u16) -> HostSpec {
        HostSpec {
            host: host.to_string(),
            port,
        }
    }

    #[test]
    fn host_arguments_split_into_host_and_port() {
        assert_eq!(HostSpec::parse("localhost"), Ok(spec("localhost", 123)));
        assert_eq!(
            HostSpec::parse("127.0.0.1:4123"),
            Ok(spec("127.0.0.1", 4123))
        );
        assert_eq!(HostSpec::parse("[::1]:4123"), Ok(spec("::1", 4123)));
        assert_eq!(HostSpec::parse("[::1]"), Ok(spec("::1", 123)));
        assert_eq!(HostSpec::parse("fe80::1"), Ok(spec("fe80::1", 123)));
        for bad in [
            "",
            "host:",
            "host:x",
            "host:0",
            "[::1",
            "[::1]x",
            "host:70000",
        ] {
            assert!(HostSpec::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn display_names_keep_a_non_standard_port() {
        assert_eq!(spec("localhost", 123).display(), "localhost");
        assert_eq!(spec("127.0.0.1", 4123).display(), "127.0.0.1:4123");
        assert_eq!(spec("::1", 4123).display(), "[::1]:4123");
        assert_eq!(spec("0:0::1", 123).display(), "::1");
    }

    #[test]
    fn families_filter_the_resolved_addresses() {
        let v6 = spec("::1", 123);
        assert_eq!(v6.resolve(Family::Any).unwrap().len(), 1);
        assert_eq!(
            v6.resolve(Family::V4),
            Err(HostError::NoAddress("::1".to_string()))
        );
        let local = spec("localhost", 123).resolve(Family::V4).unwrap();
        assert!(local.iter().all(|a| a.ip().is_loopback() && a.is_ipv4()));
    }
}
