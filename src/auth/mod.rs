//! Symmetric-key authentication of NTP packets (RFC 5905 §7.3, RFC 8573).
//!
//! A packet is authenticated by a MAC field after its header and extension
//! fields: a 4-byte key ID, then the MAC of everything before the field.
//! The MAC is, by the key's [`Algorithm`]:
//! * MD5, SHA1, SHA224/256/384/512: the digest of key || data, as classic
//!   ntpd computes it, cut to 20 bytes (MD5 makes 16);
//! * AES128CMAC: RFC 8573's AES-CMAC of the data, 16 bytes, under a 16-byte
//!   key (shorter keys zero-padded, longer ones cut, as classic does).
//!
//! A MAC field that is a zero key ID alone is a crypto-NAK: the sender
//! could not authenticate what it got. It proves nothing itself.
//!
//! The API, used by ntpdate, ntpd and ntpq alike:
//! ```
//! use ntpbox::auth::{Algorithm, Keyring, Verdict};
//! let mut ring = Keyring::new();
//! ring.insert(1, Algorithm::Sha1, b"a secret").unwrap();
//! ring.trust(1); // `trustedkey 1`: only trusted keys authenticate
//! let request = [0x23u8; 48];
//! let mut wire = request.to_vec();
//! ring.sign(1, &request, &mut wire).unwrap(); // appends key ID + MAC
//! assert_eq!(ring.verify_packet(&wire), Verdict::Authentic(1));
//! // The parts directly: data covered, key ID, MAC (no allocation).
//! assert_eq!(ring.verify(&wire[..48], 1, &wire[52..]), Verdict::Authentic(1));
//! wire[10] ^= 1;
//! assert_eq!(ring.verify_packet(&wire), Verdict::BadMac(1));
//! ```
//! [`Keyring::from_config`] builds a keyring from the keys file
//! ([`crate::config::auth::read_keys_file`]) and `trustedkey`. Verifying
//! compares in constant time (`subtle`) and allocates nothing; secrets are
//! wiped when their keyring is dropped and never printed by `Debug`.

pub mod algorithm;
pub mod keyring;

pub use algorithm::{Algorithm, MAX_MAC_LEN};
pub use keyring::{
    KeyError, Keyring, SignError, SymmetricKey, Verdict, KEY_ID_LEN, MAX_KEY_ID, MAX_MAC_FIELD_LEN,
    MAX_SECRET_LEN,
};
