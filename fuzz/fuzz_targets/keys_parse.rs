//! Keys-file parsing: any bytes give keys and FILE:LINE diagnostics, never a
//! panic; every key parsed fits a keyring (ID 1-65535, 1 to 32 bytes, IDs
//! unique), and each signs data so that it verifies, and a changed MAC
//! does not.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ntpbox::auth::{Keyring, Verdict, KEY_ID_LEN, MAX_MAC_FIELD_LEN};
use ntpbox::config::auth::parse_keys;
use ntpbox::config::Diagnostics;

/// How much of the input each key signs.
const SIGNED_LEN: usize = 48;

fuzz_target!(|data: &[u8]| {
    let mut diags = Diagnostics::default();
    let keys = parse_keys(data, Path::new("fuzz.keys"), &mut diags);
    let lines = data.split(|&b| b == b'\n').count();
    for d in &diags.items {
        assert!(d.line >= 1 && d.line <= lines, "{d} of {lines} lines");
        assert!(!d.to_string().contains('\n'), "one line: {d}");
    }
    let ids: Vec<u32> = keys.iter().map(|k| k.id).collect();
    let ring = Keyring::from_config(&keys, &ids).expect("parsed keys fit a keyring");
    assert_eq!(ring.len(), keys.len(), "key IDs are unique");
    let signed = &data[..data.len().min(SIGNED_LEN)];
    for key in &keys {
        let mut field = [0u8; MAX_MAC_FIELD_LEN];
        let n = ring.sign_into(key.id, signed, &mut field).expect("sign");
        let mac = &mut field[KEY_ID_LEN..n];
        assert_eq!(ring.verify(signed, key.id, mac), Verdict::Authentic(key.id));
        mac[0] ^= 1;
        assert_eq!(ring.verify(signed, key.id, mac), Verdict::BadMac(key.id));
    }
});
