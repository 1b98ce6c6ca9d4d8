//! The responder never panics, whatever arrives from wherever, and every
//! reply it writes is a well-formed server packet of the request's version.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ntpbox::applets::ntpd::server::respond::MAX_REPLY_LEN;
use ntpbox::applets::ntpd::server::{AccessTable, Mru, Outcome, Responder, SystemState};
use ntpbox::config::parse_str;
use ntpbox::proto::NtpTimestamp;
use proptest::prelude::*;

fn responder() -> Responder {
    let loaded = parse_str(
        "restrict default kod limited noquery nopeer\nrestrict 10.0.0.0 mask 255.0.0.0 version\n\
         restrict 10.1.0.0 mask 255.255.0.0 noserve\nrestrict ::1 ignore\ndiscard average 1 minimum 1\n",
        std::path::Path::new("p.conf"),
    );
    let (access, _) = AccessTable::build(&loaded.config.restrictions, |_| Err(String::new()));
    // A tiny MRU table, so eviction runs all the time.
    Responder::new(access, Some(Mru::with_capacity(4)), loaded.config.discard)
}

fn source() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (0u8..4, any::<u8>(), any::<u16>()).prop_map(|(b, c, port)| {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, b, c, 1)), port)
        }),
        (any::<u128>(), any::<u16>())
            .prop_map(|(a, port)| SocketAddr::new(IpAddr::V6(Ipv6Addr::from(a)), port)),
    ]
}

/// Mostly plausible requests (header byte 0 varied), some pure noise.
fn packet() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            any::<u8>(),
            proptest::collection::vec(any::<u8>(), 47..=47),
            proptest::collection::vec(any::<u8>(), 0..80)
        )
            .prop_map(|(first, rest, tail)| {
                let mut p = vec![first];
                p.extend(rest);
                p.extend(tail);
                p
            }),
        proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_packet_from_any_source_is_handled(
        packets in proptest::collection::vec((packet(), source(), 0.0f64..100.0), 1..20),
    ) {
        let mut r = responder();
        let system = SystemState::unsynchronised(-20);
        let mut out = [0u8; MAX_REPLY_LEN];
        let mut now = 0.0;
        for (bytes, from, step) in packets {
            now += step;
            match r.respond(&bytes, from, NtpTimestamp::from_bits(7), now, &system, &mut out) {
                Outcome::Reply { len, .. } => {
                    // The header, or the header and a crypto-NAK (no keys here).
                    prop_assert!(len == 48 || len == 52);
                    prop_assert_eq!(out[0] & 7, 4, "mode 4");
                    prop_assert_eq!((out[0] >> 3) & 7, (bytes[0] >> 3) & 7, "version in kind");
                    prop_assert_eq!(&out[24..32], &bytes[40..48], "origin = request transmit");
                }
                Outcome::Drop(_) | Outcome::Pass => {}
            }
        }
        let c = r.counters;
        prop_assert!(c.replied + c.kod_sent + c.malformed + c.ignored + c.refused + c.rate_limited + c.passed == c.received);
        prop_assert!(r.mru().unwrap().len() <= 4);
    }
}
