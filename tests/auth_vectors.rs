//! Known answers for `ntpbox::auth`: RFC 4493's AES-CMAC examples, keyed
//! digests of "abc" (FIPS 180 / RFC 1321 values), and packets signed by
//! NTPsec 1.2.2 itself: ntpdig's authenticated requests and ntpd's answers
//! (MD5, SHA1, AES128CMAC keys, captured on loopback), and ntpq's mode 6
//! exchange with a SHA1 control key (shared/reference/wire).

use ntpbox::auth::{Algorithm, Keyring, Verdict, MAX_MAC_LEN};

fn hex(text: &str) -> Vec<u8> {
    let text: String = text.split_whitespace().collect();
    assert!(text.len() % 2 == 0, "odd hex: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn mac(algorithm: Algorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = [0u8; MAX_MAC_LEN];
    let n = algorithm.compute(key, data, &mut out);
    out[..n].to_vec()
}

/// RFC 4493 §4: AES-128 key 2b7e1516 28aed2a6 abf71588 09cf4f3c.
const RFC4493_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const RFC4493_MESSAGE: &str = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                               30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";

#[test]
fn aes_cmac_matches_rfc4493_examples() {
    let key = hex(RFC4493_KEY);
    let message = hex(RFC4493_MESSAGE);
    for (len, expected) in [
        (0, "bb1d6929e95937287fa37d129b756746"),
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
        (40, "dfa66747de9ae63030ca32611497c827"),
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),
    ] {
        assert_eq!(
            mac(Algorithm::Aes128Cmac, &key, &message[..len]),
            hex(expected),
            "RFC 4493 example with a {len}-byte message"
        );
    }
}

#[test]
fn digests_are_over_key_then_data_and_cut_to_20_bytes() {
    // The key "a" and the data "bc" make the digest of "abc".
    let cases = [
        (Algorithm::Md5, "900150983cd24fb0d6963f7d28e17f72"),
        (Algorithm::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            Algorithm::Sha224,
            "23097d223405d8228642a477bda255b32aadbce4",
        ),
        (
            Algorithm::Sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a3",
        ),
        (
            Algorithm::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab",
        ),
        (
            Algorithm::Sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e",
        ),
    ];
    for (algorithm, expected) in cases {
        assert_eq!(mac(algorithm, b"a", b"bc"), hex(expected), "{algorithm}");
        assert_eq!(algorithm.mac_len(), hex(expected).len());
    }
}

/// NTPsec's keys for the captures below.
fn ntpsec_keyring() -> Keyring {
    let mut ring = Keyring::new();
    ring.insert(1, Algorithm::Md5, b"ntpbox-md5-key").unwrap();
    ring.insert(
        2,
        Algorithm::Sha1,
        &hex("8e5fe734fa6d6dabb52319633953a66dd7cd87ff"),
    )
    .unwrap();
    ring.insert(3, Algorithm::Aes128Cmac, &hex(RFC4493_KEY))
        .unwrap();
    for id in 1..=3 {
        assert!(ring.trust(id));
    }
    ring
}

/// (key ID, ntpdig's request, ntpd's reply), NTPsec 1.2.2 on loopback.
const NTPSEC_EXCHANGES: [(u32, &str, &str); 3] = [
    (
        1,
        "e3000000000000000000000000000000000000000000000000000000000000000000000000000000eeaccbf6f66ae000
         00000001d8822844b9b43505ff825f8dcbbf5607",
        "240a00e800000000000000007f0000010000000000000000eeaccbf6f66ae000eeaccbf6f692228eeeaccbf6f6973cf2
         00000001a80f9ca1c0d21987d48370b1181d0d31",
    ),
    (
        2,
        "e3000000000000000000000000000000000000000000000000000000000000000000000000000000eeaccbf7225df000
         0000000253a5afa604ea27579426ebacf001448748048dce",
        "240a00e800000000000000007f0000010000000000000000eeaccbf7225df000eeaccbf72279a9d2eeaccbf7227e3ce3
         00000002d13bffcb107629c271ad9a6a858f242ab4159522",
    ),
    (
        3,
        "e3000000000000000000000000000000000000000000000000000000000000000000000000000000eeaccbf742ef9000
         00000003807dd456f5f7f720857bb3703e95c761",
        "240a00e800000000000000007f0000010000000000000000eeaccbf742ef9000eeaccbf74334830ceeaccbf743396dce
         00000003b1a9fa8a9cf718e0980b752614b4240e",
    ),
];

#[test]
fn ntpsec_requests_and_replies_verify_and_signing_reproduces_them() {
    let ring = ntpsec_keyring();
    for (id, request, reply) in NTPSEC_EXCHANGES {
        for wire in [hex(request), hex(reply)] {
            assert_eq!(ring.verify_packet(&wire), Verdict::Authentic(id));
            let mut signed = wire[..48].to_vec();
            ring.sign(id, &wire[..48], &mut signed).unwrap();
            assert_eq!(signed, wire, "key {id}: our MAC differs from NTPsec's");
            // One flipped bit anywhere, header or MAC, is caught.
            for at in [0, 47, 52, wire.len() - 1] {
                let mut bad = wire.clone();
                bad[at] ^= 0x80;
                assert!(
                    !ring.verify_packet(&bad).is_authentic(),
                    "key {id}, byte {at}"
                );
            }
        }
    }
}

#[test]
fn a_wrong_secret_or_key_id_does_not_verify() {
    let (id, request, _) = NTPSEC_EXCHANGES[0];
    let wire = hex(request);
    let mut other = Keyring::new();
    other.insert(id, Algorithm::Md5, b"ntpbox-md5-kez").unwrap();
    other.trust(id);
    assert_eq!(other.verify_packet(&wire), Verdict::BadMac(id));
    let mut renamed = wire.clone();
    renamed[51] = 9;
    assert_eq!(
        ntpsec_keyring().verify_packet(&renamed),
        Verdict::UnknownKey(9)
    );
    // The same bytes under an untrusted key are not authentic either.
    let mut untrusted = Keyring::new();
    untrusted
        .insert(id, Algorithm::Md5, b"ntpbox-md5-key")
        .unwrap();
    assert_eq!(untrusted.verify_packet(&wire), Verdict::Untrusted(id));
}

/// ntpq -a 1 (SHA1) asking NTPsec for `ifstats`, and the first answer:
/// mode 6 MACs cover the header and the data padded to 8 bytes.
#[test]
fn ntpq_mode6_exchange_with_a_sha1_control_key() {
    let mut ring = Keyring::new();
    ring.insert(
        1,
        Algorithm::Sha1,
        &hex("8e5fe734fa6d6dabb52319633953a66dd7cd87ff"),
    )
    .unwrap();
    ring.trust(1);
    let request = hex(
        "d60b0001000000000000000769667374617473000000000000000001983a1a2044575a0f4d4663d536b0c4a0210a5e29",
    );
    assert_eq!(
        ring.verify(&request[..24], 1, &request[28..]),
        Verdict::Authentic(1)
    );
    let response_tail = hex("00000000019654f3c9f60e9a86a7fa8d9833be66a516295457");
    // The 280-byte response: 256 bytes covered, then key ID 1 and 20 bytes.
    let mut response = hex("168b000100000000000000f3");
    response.extend_from_slice(
        b"name.0=\"lo\", txerr.0=0, pc.0=0, flags.0=0x5, rx.0=0, tx.0=0, up.0=3,\r\n\
          bcast.0=, addr.0=127.0.0.1:123, en.0=1, bvl.0=12946, flags.1=0x5,\r\n\
          rx.1=0, up.1=3, pc.1=0, en.1=1, addr.1=[::1]:123, name.1=\"lo\", bcast.1=,\r\n\
          tx.1=0, txerr.1=0, bdf.1=18204\r\n",
    );
    response.extend_from_slice(&response_tail);
    assert_eq!(response.len(), 280);
    assert_eq!(
        ring.verify(&response[..256], 1, &response[260..]),
        Verdict::Authentic(1)
    );
}
