use std::net::SocketAddr;

use super::*;
use crate::config::parse_str;
use crate::proto::NtpShort;

fn responder(conf: &str) -> Responder {
    let loaded = parse_str(conf, std::path::Path::new("t.conf"));
    assert!(!loaded.diagnostics.has_errors());
    let (access, _) = AccessTable::build(&loaded.config.restrictions, |_| Err("no DNS".into()));
    Responder::new(access, Some(Mru::with_capacity(64)), loaded.config.discard)
}

fn local_stratum_10() -> SystemState {
    SystemState {
        leap: Leap::NoWarning,
        stratum: 10,
        precision: -23,
        root_delay: NtpShort::from_bits(0),
        root_dispersion: NtpShort::from_bits(0x0000_0290),
        refid: RefId(*b"LOCL"),
        reference_time: NtpTimestamp::from_bits(0xecc0_0000_0000_0000),
    }
}

fn request(version: u8, transmit: u64) -> [u8; 48] {
    let mut h = Header::client_request(version, NtpTimestamp::from_bits(transmit));
    h.poll = 6;
    h.encode()
}

fn from(addr: &str) -> SocketAddr {
    addr.parse().unwrap()
}

const RX: NtpTimestamp = NtpTimestamp::from_bits(0xecc0_1234_8000_0000);

#[test]
fn a_client_request_gets_a_server_reply_of_its_own_version() {
    let mut r = responder("");
    let sys = local_stratum_10();
    for version in 1..=4 {
        let mut out = [0u8; MAX_REPLY_LEN];
        let outcome = r.respond(
            &request(version, 0xdead_beef_0000_0001),
            from("127.0.0.1:40000"),
            RX,
            0.0,
            &sys,
            &mut out,
        );
        assert_eq!(
            outcome,
            Outcome::Reply {
                len: 48,
                stamp: true,
                sign: None
            }
        );
        let reply = Header::decode(&out).unwrap();
        assert_eq!(reply.version, version);
        assert_eq!(reply.mode, Mode::Server);
        assert_eq!(reply.leap, Leap::NoWarning);
        assert_eq!(reply.stratum, 10);
        assert_eq!(reply.poll, 6);
        assert_eq!(reply.precision, -23);
        assert_eq!(reply.reference_id, RefId(*b"LOCL"));
        assert_eq!(reply.reference_ts, sys.reference_time);
        assert_eq!(reply.root_dispersion, sys.root_dispersion);
        assert_eq!(
            reply.origin_ts,
            NtpTimestamp::from_bits(0xdead_beef_0000_0001)
        );
        assert_eq!(reply.receive_ts, RX);
    }
    assert_eq!(r.counters.replied, 4);
}

#[test]
fn unsynchronised_replies_say_so() {
    let mut r = responder("");
    let mut out = [0u8; MAX_REPLY_LEN];
    r.respond(
        &request(4, 1),
        from("127.0.0.1:1"),
        RX,
        0.0,
        &SystemState::unsynchronised(-20),
        &mut out,
    );
    let reply = Header::decode(&out).unwrap();
    assert_eq!(reply.leap, Leap::Unsynchronized);
    assert_eq!(reply.stratum, 16);
    assert_eq!(reply.reference_id, RefId(*b"INIT"));
    assert_eq!(reply.reference_ts, NtpTimestamp::ZERO);
}

#[test]
fn the_transmit_timestamp_is_stamped_last() {
    let mut out = server_reply(
        &Header::client_request(4, NtpTimestamp::from_bits(5)),
        RX,
        &local_stratum_10(),
    )
    .encode();
    stamp_transmit(&mut out, NtpTimestamp::from_bits(0x0102_0304_0506_0708));
    assert_eq!(
        Header::decode(&out).unwrap().transmit_ts.bits(),
        0x0102_0304_0506_0708
    );
}

#[test]
fn malformed_packets_are_dropped_and_counted() {
    let mut r = responder("");
    let sys = local_stratum_10();
    let mut out = [0u8; MAX_REPLY_LEN];
    let mut bad_version = request(4, 1);
    bad_version[0] = 0x3b;
    let mut long = vec![0x23u8; 48];
    long.extend_from_slice(&[0xff; 100]);
    for bytes in [
        &[][..],
        &[0x23; 47][..],
        &bad_version[..],
        &long[..],
        &[0u8; 48][..],
    ] {
        assert_eq!(
            r.respond(bytes, from("127.0.0.1:1"), RX, 0.0, &sys, &mut out),
            Outcome::Drop(DropReason::Malformed)
        );
    }
    assert_eq!(r.counters.malformed, 5);
}

#[test]
fn restrict_flags_refuse_service() {
    let mut r = responder(
        "restrict default ignore\nrestrict 127.0.0.1\nrestrict 127.0.0.2 noserve\n\
         restrict 127.0.0.3 notrust\nrestrict 127.0.0.4 version\nrestrict 127.0.0.5 nomodify notrap nopeer noquery\n",
    );
    let sys = local_stratum_10();
    let mut out = [0u8; MAX_REPLY_LEN];
    let mut ask = |addr: &str, version: u8| {
        r.respond(&request(version, 1), from(addr), RX, 0.0, &sys, &mut out)
    };
    assert!(matches!(ask("127.0.0.1:5", 4), Outcome::Reply { .. }));
    assert_eq!(ask("127.0.0.9:5", 4), Outcome::Drop(DropReason::Ignored));
    assert_eq!(ask("127.0.0.2:5", 4), Outcome::Drop(DropReason::NoServe));
    assert_eq!(ask("127.0.0.3:5", 4), Outcome::Drop(DropReason::NotTrusted));
    assert_eq!(
        ask("127.0.0.4:5", 3),
        Outcome::Drop(DropReason::WrongVersion)
    );
    assert!(matches!(ask("127.0.0.4:5", 4), Outcome::Reply { .. }));
    assert!(matches!(ask("127.0.0.5:5", 4), Outcome::Reply { .. }));
}

#[test]
fn limited_clients_get_one_rate_kiss_then_silence() {
    let mut r = responder("restrict default limited kod\nrestrict 127.0.0.7 limited\n");
    let sys = local_stratum_10();
    let mut out = [0u8; MAX_REPLY_LEN];
    let mut outcomes = Vec::new();
    for i in 0..5 {
        outcomes.push(r.respond(
            &request(4, 77),
            from("127.0.0.6:9"),
            RX,
            f64::from(i) * 0.1,
            &sys,
            &mut out,
        ));
        if i == 1 {
            let kiss = Header::decode(&out).unwrap();
            assert_eq!((kiss.leap, kiss.stratum), (Leap::Unsynchronized, 0));
            assert_eq!(kiss.reference_id, RefId(*b"RATE"));
            assert_eq!(kiss.origin_ts.bits(), 77);
            assert_eq!(kiss.transmit_ts.bits(), 77);
            assert_eq!(kiss.poll, 6);
        }
    }
    assert!(matches!(outcomes[0], Outcome::Reply { stamp: true, .. }));
    assert_eq!(
        outcomes[1],
        Outcome::Reply {
            len: 48,
            stamp: false,
            sign: None
        }
    );
    assert!(outcomes[2..]
        .iter()
        .all(|o| *o == Outcome::Drop(DropReason::RateLimited)));
    // Without kod: dropped silently.
    r.respond(&request(4, 1), from("127.0.0.7:9"), RX, 0.0, &sys, &mut out);
    assert_eq!(
        r.respond(&request(4, 1), from("127.0.0.7:9"), RX, 0.1, &sys, &mut out),
        Outcome::Drop(DropReason::RateLimited)
    );
    assert_eq!(r.counters.kod_sent, 1);
}

#[test]
fn signed_requests_get_a_crypto_nak_and_other_modes_pass() {
    let mut r = responder("");
    let sys = local_stratum_10();
    let mut out = [0u8; MAX_REPLY_LEN];
    let mut signed = request(4, 1).to_vec();
    signed.extend_from_slice(&1u32.to_be_bytes());
    signed.extend_from_slice(&[0xaa; 16]);
    assert_eq!(
        r.respond(&signed, from("127.0.0.1:1"), RX, 0.0, &sys, &mut out),
        Outcome::Reply {
            len: 52,
            stamp: true,
            sign: None
        }
    );
    assert_eq!(&out[48..52], &[0, 0, 0, 0]);
    let mut server_mode = request(4, 1);
    server_mode[0] = 0x24;
    assert_eq!(
        r.respond(&server_mode, from("127.0.0.1:1"), RX, 0.0, &sys, &mut out),
        Outcome::Pass
    );
}

fn keyring() -> crate::auth::Keyring {
    let mut keys = crate::auth::Keyring::new();
    keys.insert(7, crate::auth::Algorithm::Sha1, b"secret7")
        .unwrap();
    keys.trust(7);
    keys.insert(8, crate::auth::Algorithm::Md5, b"untrusted")
        .unwrap();
    keys
}

#[test]
fn requests_signed_with_a_trusted_key_get_replies_signed_with_it() {
    let mut r = responder("").with_keys(keyring());
    let sys = local_stratum_10();
    let mut out = [0u8; MAX_REPLY_LEN];
    let mut signed = request(4, 1).to_vec();
    keyring().sign(7, &request(4, 1), &mut signed).unwrap();
    let outcome = r.respond(&signed, from("127.0.0.1:1"), RX, 0.0, &sys, &mut out);
    assert_eq!(
        outcome,
        Outcome::Reply {
            len: 48,
            stamp: true,
            sign: Some(7)
        }
    );
    stamp_transmit(&mut out, RX);
    let len = r.sign(7, &mut out);
    assert_eq!(len, 48 + 4 + 20);
    assert_eq!(
        keyring().verify_packet(&out[..len]),
        crate::auth::Verdict::Authentic(7)
    );
    // Untrusted key, or an altered request: a crypto-NAK.
    let mut untrusted = request(4, 1).to_vec();
    keyring().sign(8, &request(4, 1), &mut untrusted).unwrap();
    signed[10] ^= 1;
    for bad in [&untrusted, &signed] {
        let o = r.respond(bad, from("127.0.0.1:1"), RX, 0.0, &sys, &mut out);
        assert_eq!(
            o,
            Outcome::Reply {
                len: 52,
                stamp: true,
                sign: None
            }
        );
        assert_eq!(&out[48..52], &[0, 0, 0, 0]);
    }
}

#[test]
fn notrust_serves_only_authenticated_requests() {
    let mut r = responder("restrict default notrust\n").with_keys(keyring());
    let sys = local_stratum_10();
    let mut out = [0u8; MAX_REPLY_LEN];
    assert_eq!(
        r.respond(&request(4, 1), from("127.0.0.1:1"), RX, 0.0, &sys, &mut out),
        Outcome::Drop(DropReason::NotTrusted)
    );
    let mut signed = request(4, 1).to_vec();
    keyring().sign(7, &request(4, 1), &mut signed).unwrap();
    assert!(matches!(
        r.respond(&signed, from("127.0.0.1:1"), RX, 0.0, &sys, &mut out),
        Outcome::Reply { sign: Some(7), .. }
    ));
}

#[test]
fn control_queries_pass_unless_noquery_and_mode_7_is_never_answered() {
    let mut r = responder("restrict default noquery nopeer\nrestrict 127.0.0.1\n");
    let sys = local_stratum_10();
    let mut out = [0u8; MAX_REPLY_LEN];
    // ntpq's "read variables" request: mode 6, 12-byte header.
    let rv = [0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        r.respond(&rv, from("127.0.0.1:5"), RX, 0.0, &sys, &mut out),
        Outcome::Pass
    );
    assert_eq!(
        r.respond(&rv, from("127.0.0.9:5"), RX, 0.0, &sys, &mut out),
        Outcome::Drop(DropReason::NoQuery)
    );
    assert_eq!(
        r.respond(&rv[..8], from("127.0.0.1:5"), RX, 0.0, &sys, &mut out),
        Outcome::Drop(DropReason::Malformed)
    );
    let mut mode7 = [0u8; 48];
    mode7[0] = 0x17;
    assert_eq!(
        r.respond(&mode7, from("127.0.0.1:5"), RX, 0.0, &sys, &mut out),
        Outcome::Drop(DropReason::NotServed)
    );
    let mut active = request(4, 1);
    active[0] = 0x21;
    assert_eq!(
        r.respond(&active, from("127.0.0.9:5"), RX, 0.0, &sys, &mut out),
        Outcome::Drop(DropReason::NoPeer)
    );
    assert_eq!(
        r.respond(&active, from("127.0.0.1:5"), RX, 0.0, &sys, &mut out),
        Outcome::Pass
    );
}

#[test]
fn admitted_control_queries_are_recorded_in_the_mru_list() {
    let mut r = responder("restrict default noquery\nrestrict 127.0.0.1\n");
    let sys = local_stratum_10();
    let mut out = [0u8; MAX_REPLY_LEN];
    // Version 2, mode 6: what classic ntpq sends.
    let rv = [0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    for now in [1.0, 2.0] {
        let outcome = r.respond(&rv, from("127.0.0.1:4000"), RX, now, &sys, &mut out);
        assert_eq!(outcome, Outcome::Pass);
    }
    // Refused and mode 7 packets are not recorded.
    r.respond(&rv, from("127.0.0.9:5"), RX, 3.0, &sys, &mut out);
    let mut mode7 = [0u8; 48];
    mode7[0] = 0x17;
    r.respond(&mode7, from("127.0.0.3:5"), RX, 3.0, &sys, &mut out);
    let entries: Vec<_> = r.mru().unwrap().iter().collect();
    assert_eq!(entries.len(), 1);
    let e = entries[0];
    assert_eq!(e.addr, from("127.0.0.1:4000").ip());
    assert_eq!(
        (e.port, e.count, e.mode, e.version, e.first, e.last),
        (4000, 2, 6, 2, 1.0, 2.0)
    );
}
