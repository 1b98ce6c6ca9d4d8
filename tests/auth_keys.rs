//! The keys file as ntpd meets it: named by `keys` in ntp.conf (relative
//! to the configuration's directory), its problems reported as FILE:LINE
//! with everything else in the configuration, and a keyring built from it
//! and `trustedkey` that verifies what NTPsec signs.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ntpbox::auth::{Algorithm, Keyring, Verdict};
use ntpbox::config::load_file;

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn a_clean_keys_file_gives_a_keyring_with_the_trusted_keys() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("ntp.keys"),
        "# keys\n1 M ntpbox-md5-key\n2 SHA1 8e5fe734fa6d6dabb52319633953a66dd7cd87ff\n\
         3 AES128CMAC 2b7e151628aed2a6abf7158809cf4f3c\n",
        0o600,
    );
    let conf = dir.path().join("ntp.conf");
    write(
        &conf,
        "keys ntp.keys\ntrustedkey 1 3\ncontrolkey 3\n",
        0o644,
    );
    let loaded = load_file(&conf);
    assert!(
        loaded.diagnostics.items.is_empty(),
        "{:?}",
        loaded.diagnostics.items
    );
    let c = &loaded.config;
    assert_eq!(
        c.keys.as_deref(),
        Some(dir.path().join("ntp.keys").as_path())
    );
    let ring = Keyring::from_config(&c.keyring, &c.trusted_keys).unwrap();
    assert_eq!(ring.ids().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        ring.get(3).map(|k| k.algorithm()),
        Some(Algorithm::Aes128Cmac)
    );
    assert!(ring.is_trusted(1) && !ring.is_trusted(2) && ring.is_trusted(3));
    assert_eq!(c.control_key, Some(3));

    // NTPsec's reply signed with key 3 (tests/auth_vectors.rs) verifies;
    // the same bytes are untrusted under key 2's ID.
    let reply = hex(
        "240a00e800000000000000007f0000010000000000000000eeaccbf742ef9000eeaccbf74334830c\
         eeaccbf743396dce00000003b1a9fa8a9cf718e0980b752614b4240e",
    );
    assert_eq!(ring.verify_packet(&reply), Verdict::Authentic(3));
    let mut as_key_2 = reply.clone();
    as_key_2[51] = 2;
    assert_eq!(ring.verify_packet(&as_key_2), Verdict::Untrusted(2));
}

#[test]
fn keys_file_problems_are_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("ntp.keys");
    write(
        &keys,
        "1 MD5 secret\n2 SHA1\n3 RMD160 0123456789abcdef0123456789abcdef01234567\n\
         4 AES128CMAC 0011\n1 SHA1 twice\n",
        0o640,
    );
    let conf = dir.path().join("ntp.conf");
    write(
        &conf,
        &format!("keys {}\ntrustedkey 1 4\n", keys.display()),
        0o644,
    );
    let loaded = load_file(&conf);
    let lines: Vec<String> = loaded
        .diagnostics
        .items
        .iter()
        .map(ToString::to_string)
        .collect();
    let k = keys.display();
    assert_eq!(
        lines,
        [
            format!("{k}:2: key 2: no key (expected KEYID TYPE KEY)"),
            format!(
                "{k}:3: warning: key 3: unknown key type \"RMD160\" (known: MD5, SHA1, SHA224, \
                 SHA256, SHA384, SHA512, AES128CMAC); key ignored"
            ),
            format!(
                "{k}:4: warning: key 4: AES128CMAC takes a 16-byte key (32 hex digits); this \
                 4-byte key is zero-padded to 16 bytes, as classic ntpd does"
            ),
            format!("{k}:5: key 1 is defined again (first on line 1); give each key its own ID"),
        ]
    );
    assert!(loaded.diagnostics.has_errors());
    // What did parse is still there, for a caller that goes on regardless.
    let ids: Vec<u32> = loaded.config.keyring.iter().map(|k| k.id).collect();
    assert_eq!(ids, [1, 4]);
}

#[test]
fn a_keys_file_every_user_can_read_is_a_warning_on_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("ntp.keys");
    write(&keys, "1 MD5 secret\n", 0o604);
    let conf = dir.path().join("ntp.conf");
    write(&conf, "keys ntp.keys\n", 0o644);
    let loaded = load_file(&conf);
    let lines: Vec<String> = loaded
        .diagnostics
        .items
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [format!(
            "{}: warning: every user can read this keys file (mode 0604), and so forge \
             authenticated packets; make it readable by root only (chmod 600)",
            keys.display()
        )]
    );
    assert!(!loaded.diagnostics.has_errors());
    assert_eq!(loaded.config.keyring.len(), 1);
}
