//! Turning the servers on the command line into socket addresses: every
//! address a name resolves to is queried, as classic ntpdate does.

use std::net::{SocketAddr, ToSocketAddrs};

use super::options::{Family, ServerSpec};

/// std's prefix on getaddrinfo errors; the resolver's own words follow it.
const LOOKUP_PREFIX: &str = "failed to lookup address information: ";

/// The addresses `spec` stands for, in the resolver's order, without
/// duplicates, restricted to `family` if given. The error is the reason in
/// the resolver's words, e.g. "Name or service not known".
pub fn resolve(spec: &ServerSpec, family: Option<Family>) -> Result<Vec<SocketAddr>, String> {
    let found = (spec.host.as_str(), spec.port)
        .to_socket_addrs()
        .map_err(|e| {
            let text = e.to_string();
            text.strip_prefix(LOOKUP_PREFIX)
                .unwrap_or(&text)
                .to_string()
        })?;
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for addr in found {
        let wanted = match family {
            None => true,
            Some(Family::V4) => addr.is_ipv4(),
            Some(Family::V6) => addr.is_ipv6(),
        };
        if wanted && !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    if addrs.is_empty() {
        return Err(match family {
            Some(Family::V4) => "no IPv4 address (-4)".to_string(),
            Some(Family::V6) => "no IPv6 address (-6)".to_string(),
            None => "no address".to_string(),
        });
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(host: &str, port: u16) -> ServerSpec {
        ServerSpec {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn literals_resolve_without_dns() {
        assert_eq!(
            resolve(&spec("127.0.0.1", 1123), None),
            Ok(vec!["127.0.0.1:1123".parse().unwrap()])
        );
        assert_eq!(
            resolve(&spec("::1", 123), None),
            Ok(vec!["[::1]:123".parse().unwrap()])
        );
    }

    #[test]
    fn family_filters_apply() {
        assert_eq!(
            resolve(&spec("127.0.0.1", 123), Some(Family::V6)),
            Err("no IPv6 address (-6)".to_string())
        );
    }

    #[test]
    fn an_unknown_name_gives_the_resolver_reason() {
        // .invalid is reserved (RFC 6761): it never resolves, and resolvers
        // answer it without asking the network.
        let err = resolve(&spec("no-such-host.invalid", 123), None).unwrap_err();
        assert!(!err.starts_with(LOOKUP_PREFIX), "{err}");
        assert!(!err.is_empty());
    }
}
