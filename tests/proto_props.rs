//! Property tests of the wire formats: decoding never panics, and encoding
//! then decoding (or decoding then encoding) is the identity.

use ntpbox::proto::{
    Digest, Extensions, Header, Leap, MacField, Mode, NtpShort, NtpTimestamp, Packet, RefId,
    UnixTime,
};
use proptest::prelude::*;

fn time_mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        Just(Mode::SymmetricActive),
        Just(Mode::SymmetricPassive),
        Just(Mode::Client),
        Just(Mode::Server),
        Just(Mode::Broadcast),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    (
        (
            0u8..4,
            1u8..=4,
            time_mode(),
            any::<u8>(),
            any::<i8>(),
            any::<i8>(),
        ),
        (any::<u32>(), any::<u32>(), any::<[u8; 4]>()),
        (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
    )
        .prop_map(
            |((leap, version, mode, stratum, poll, precision), (rd, rdisp, id), ts)| Header {
                leap: Leap::from_bits(leap),
                version,
                mode,
                stratum,
                poll,
                precision,
                root_delay: NtpShort::from_bits(rd),
                root_dispersion: NtpShort::from_bits(rdisp),
                reference_id: RefId(id),
                reference_ts: NtpTimestamp::from_bits(ts.0),
                origin_ts: NtpTimestamp::from_bits(ts.1),
                receive_ts: NtpTimestamp::from_bits(ts.2),
                transmit_ts: NtpTimestamp::from_bits(ts.3),
            },
        )
}

fn mac() -> impl Strategy<Value = Option<MacField>> {
    prop_oneof![
        Just(None),
        Just(Some(MacField::CryptoNak)),
        (1u32.., prop::collection::vec(any::<u8>(), 16..=16)).prop_map(|(key_id, d)| Some(
            MacField::Mac {
                key_id,
                digest: Digest::new(&d).unwrap()
            }
        )),
        (1u32.., prop::collection::vec(any::<u8>(), 20..=20)).prop_map(|(key_id, d)| Some(
            MacField::Mac {
                key_id,
                digest: Digest::new(&d).unwrap()
            }
        )),
    ]
}

/// Well-formed extension fields: each 16..=64 bytes, a multiple of 4. With
/// no MAC, RFC 7822 wants the last field longer than a MAC could be.
fn extensions() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((any::<u16>(), 3usize..=15, any::<u8>()), 0..3).prop_map(|fields| {
        let mut raw = Vec::new();
        for (kind, words, fill) in fields {
            let len = words * 4 + 4;
            raw.extend_from_slice(&kind.to_be_bytes());
            raw.extend_from_slice(&(len as u16).to_be_bytes());
            raw.extend(std::iter::repeat_n(fill, len - 4));
        }
        raw
    })
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Packet::decode(&bytes);
    }

    #[test]
    fn whatever_decodes_encodes_back_to_the_same_bytes(
        head in header(),
        tail in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut bytes = head.encode().to_vec();
        bytes.extend_from_slice(&tail);
        if let Ok(packet) = Packet::decode(&bytes) {
            prop_assert_eq!(packet.to_vec(), bytes);
        }
    }

    #[test]
    fn encode_then_decode_is_the_identity(head in header(), ext in extensions(), mac in mac()) {
        // Without a real MAC, RFC 7822 requires the last field to be at least
        // 28 bytes, or it would read as a MAC; such packets are skipped.
        let real_mac = matches!(mac, Some(MacField::Mac { .. }));
        let last_is_short = ext.len() >= 16 && !real_mac && {
            let mut at = 0;
            let mut last = 0;
            while at < ext.len() {
                last = u16::from_be_bytes([ext[at + 2], ext[at + 3]]) as usize;
                at += last;
            }
            last < 28
        };
        prop_assume!(!last_is_short);
        let packet = Packet { header: head, extensions: Extensions::parse(&ext, 48).unwrap(), mac };
        let bytes = packet.to_vec();
        prop_assert_eq!(Packet::decode(&bytes), Ok(packet));
    }

    #[test]
    fn unix_nanoseconds_survive_the_ntp_timestamp(secs in -2_000_000_000i64..6_000_000_000, nanos in 0u32..1_000_000_000) {
        let t = UnixTime::new(secs, nanos);
        // any pivot within 68 years reads back the same instant
        let pivot = UnixTime::new(secs + 1_000_000_000, 0);
        prop_assert_eq!(NtpTimestamp::from_unix(t).to_unix(pivot), t);
    }

    #[test]
    fn timestamp_differences_are_exact_within_an_era(a in any::<u64>(), delta in -(1i64 << 62)..(1i64 << 62)) {
        let x = NtpTimestamp::from_bits(a);
        let y = NtpTimestamp::from_bits(a.wrapping_add(delta as u64));
        prop_assert_eq!(y.diff_secs(x), delta as f64 / 4_294_967_296.0);
    }
}
