//! restrict and rate limiting, each case from its own 127.0.0.x source.

use crate::client::{Client, REPLY_WAIT, SILENCE_WAIT};
use crate::daemon::Daemon;

const CONF: &str = "disable ntp
server 127.127.1.0
fudge 127.127.1.0 stratum 10
restrict default kod limited nomodify notrap nopeer noquery
restrict 127.0.0.1
restrict 127.0.0.2 ignore
restrict 127.0.0.3 noserve
restrict 127.0.0.4 kod limited
restrict 127.0.0.5 limited
restrict 127.0.0.0 mask 255.255.255.0 nomodify notrap
";

#[test]
fn allowed_clients_are_served_every_time() {
    let d = Daemon::start(CONF);
    for source in ["127.0.0.1", "127.0.0.6"] {
        let c = Client::bind(source);
        for _ in 0..5 {
            let r = c
                .ask(d.addr(), REPLY_WAIT)
                .unwrap_or_else(|| panic!("{source} got no reply"));
            assert_eq!((r.leap, r.stratum), (0, 10), "{source}");
        }
    }
}

#[test]
fn ignored_and_noserve_clients_get_nothing() {
    let d = Daemon::start(CONF);
    for source in ["127.0.0.2", "127.0.0.3"] {
        assert_eq!(
            Client::bind(source).ask(d.addr(), SILENCE_WAIT),
            None,
            "{source}"
        );
    }
    // The server itself is fine.
    assert!(Client::bind("127.0.0.1")
        .ask(d.addr(), REPLY_WAIT)
        .is_some());
}

#[test]
fn a_fast_kod_client_gets_one_rate_kiss_then_silence() {
    let d = Daemon::start(CONF);
    let c = Client::bind("127.0.0.4");
    let first = c
        .ask(d.addr(), REPLY_WAIT)
        .expect("the first request is served");
    assert_eq!((first.leap, first.stratum), (0, 10));
    let kiss = c.ask(d.addr(), REPLY_WAIT).expect("a kiss-o'-death");
    assert_eq!((kiss.leap, kiss.stratum, kiss.mode), (3, 0, 4));
    assert_eq!(&kiss.refid, b"RATE");
    assert_eq!(
        kiss.transmit, kiss.origin,
        "a kiss echoes the request's transmit time"
    );
    for _ in 0..3 {
        assert_eq!(
            c.ask(d.addr(), SILENCE_WAIT),
            None,
            "later requests of the burst are dropped"
        );
    }
}

#[test]
fn a_fast_limited_client_without_kod_is_dropped_silently() {
    let d = Daemon::start(CONF);
    let c = Client::bind("127.0.0.5");
    assert!(c.ask(d.addr(), REPLY_WAIT).is_some());
    assert_eq!(c.ask(d.addr(), SILENCE_WAIT), None);
}

#[test]
fn the_default_line_covers_other_sources() {
    let d = Daemon::start(CONF);
    let c = Client::bind("127.0.1.9");
    assert!(c.ask(d.addr(), REPLY_WAIT).is_some());
    let kiss = c.ask(d.addr(), REPLY_WAIT).expect("default is kod limited");
    assert_eq!(&kiss.refid, b"RATE");
}

#[test]
fn discard_minimum_0_and_a_low_average_let_a_client_poll_fast() {
    let d = Daemon::start("disable ntp\nserver 127.127.1.0\nrestrict default limited kod\ndiscard average 0 minimum 0\n");
    let c = Client::bind("127.0.0.7");
    for i in 0..4 {
        let r = c
            .ask(d.addr(), REPLY_WAIT)
            .unwrap_or_else(|| panic!("request {i}"));
        assert_ne!(&r.refid, b"RATE", "request {i}");
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
}

/// How long the flood from one `kod limited` address lasts.
const FLOOD_TIME: std::time::Duration = std::time::Duration::from_secs(3);
/// Requests in the flood (spread over FLOOD_TIME).
const FLOOD_REQUESTS: u32 = 6_000;
/// A KoD is itself rate limited: at most one per headway (2^3 s by
/// default), after the first.
const KOD_HEADWAY_SECS: f64 = 8.0;

#[test]
fn under_a_flood_from_one_address_others_are_served_and_kod_stays_rare() {
    let d = Daemon::start(CONF);
    let flooder = Client::bind("127.0.0.4");
    let other = Client::bind("127.0.0.6");
    let started = std::time::Instant::now();
    let mut sent = 0u32;
    let mut others_served = 0;
    while started.elapsed() < FLOOD_TIME {
        for _ in 0..FLOOD_REQUESTS / 30 {
            flooder.send(&crate::client::request(4, u64::from(sent) + 1), d.addr());
            sent += 1;
        }
        // The other client, at a polite rate, is answered every time.
        if sent % (FLOOD_REQUESTS / 10) < FLOOD_REQUESTS / 30 {
            let r = other
                .ask(d.addr(), REPLY_WAIT)
                .expect("another client is served during the flood");
            assert_eq!((r.leap, r.stratum), (0, 10));
            others_served += 1;
        }
        std::thread::sleep(FLOOD_TIME / 30);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (mut served, mut kisses) = (0u32, 0u32);
    while let Some(bytes) = flooder.receive(d.addr(), SILENCE_WAIT) {
        let r = crate::client::Reply::decode(&bytes);
        if &r.refid == b"RATE" {
            kisses += 1;
        } else {
            served += 1;
        }
    }
    let kod_limit = 1 + (elapsed / KOD_HEADWAY_SECS).ceil() as u32;
    eprintln!(
        "flood: {sent} requests in {elapsed:.1} s from one address: {served} served, {kisses} KoD (limit {kod_limit}); the other client served {others_served} times"
    );
    assert_eq!(served, 1, "only the first request of the flood is served");
    assert!(kisses >= 1 && kisses <= kod_limit, "{kisses} KoD");
    assert!(others_served >= 3);
}
