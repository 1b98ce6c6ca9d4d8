//! The MAC algorithms of symmetric-key NTP, and the one function that
//! computes a MAC.
//!
//! Digests are classic ntpd's "MD5 over key then packet", generalised by
//! ntp 4.2.8 and NTPsec to other digests: `digest(key || data)`, cut to
//! [`MAX_MAC_LEN`] bytes. AES-128-CMAC is RFC 8573: the CMAC of the data
//! under a 128-bit key, 16 bytes. Every computation works on the stack.

use std::fmt;

use aes::Aes128;
use cmac::{Cmac, Mac as _};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};

/// The longest MAC a packet carries, without the key ID: longer digests
/// (SHA-224 and up) are cut to this, as ntp 4.2.8 (MAX_MDG_LEN) and NTPsec
/// do, so that the MAC field stays within RFC 7822's 24 bytes.
pub const MAX_MAC_LEN: usize = 20;
/// AES-128 takes a 16-byte key.
pub const CMAC_KEY_LEN: usize = 16;

/// A MAC algorithm a key can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    /// RFC 8573 AES-CMAC with a 128-bit key.
    Aes128Cmac,
}

/// Names a keys file may give each algorithm (compared without regard to
/// case): ntp 4.2.8's and NTPsec's spellings, OpenSSL's aliases among them.
const NAMES: &[(&str, Algorithm)] = &[
    ("M", Algorithm::Md5),
    ("MD5", Algorithm::Md5),
    ("SHA1", Algorithm::Sha1),
    ("SHA-1", Algorithm::Sha1),
    ("SHA224", Algorithm::Sha224),
    ("SHA-224", Algorithm::Sha224),
    ("SHA256", Algorithm::Sha256),
    ("SHA-256", Algorithm::Sha256),
    ("SHA384", Algorithm::Sha384),
    ("SHA-384", Algorithm::Sha384),
    ("SHA512", Algorithm::Sha512),
    ("SHA-512", Algorithm::Sha512),
    ("AES128CMAC", Algorithm::Aes128Cmac),
    ("AES", Algorithm::Aes128Cmac),
    ("AES-128", Algorithm::Aes128Cmac),
];

impl Algorithm {
    /// Every algorithm, for tests and listings.
    pub const ALL: [Algorithm; 7] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha224,
        Algorithm::Sha256,
        Algorithm::Sha384,
        Algorithm::Sha512,
        Algorithm::Aes128Cmac,
    ];

    /// The algorithm a keys file names, in any case (`M`, `md5`, `SHA1`,
    /// `AES128CMAC`, ...).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, a)| a)
    }

    /// The canonical keys-file name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha224 => "SHA224",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha384 => "SHA384",
            Algorithm::Sha512 => "SHA512",
            Algorithm::Aes128Cmac => "AES128CMAC",
        }
    }

    /// How many MAC bytes follow the key ID on the wire.
    pub fn mac_len(self) -> usize {
        match self {
            Algorithm::Md5 | Algorithm::Aes128Cmac => 16,
            _ => MAX_MAC_LEN,
        }
    }

    /// The key length the algorithm needs, when it needs one: AES-128-CMAC's
    /// 16 bytes. Digests take keys of any length.
    pub fn required_key_len(self) -> Option<usize> {
        (self == Algorithm::Aes128Cmac).then_some(CMAC_KEY_LEN)
    }

    /// Writes the MAC of `data` under `key` into `out` and returns its
    /// length ([`Self::mac_len`]). For AES-CMAC the key is used as classic
    /// ntpd uses it: zero-padded or cut to 16 bytes.
    pub fn compute(self, key: &[u8], data: &[u8], out: &mut [u8; MAX_MAC_LEN]) -> usize {
        let len = self.mac_len();
        match self {
            Algorithm::Md5 => keyed_digest::<Md5>(key, data, &mut out[..len]),
            Algorithm::Sha1 => keyed_digest::<Sha1>(key, data, &mut out[..len]),
            Algorithm::Sha224 => keyed_digest::<Sha224>(key, data, &mut out[..len]),
            Algorithm::Sha256 => keyed_digest::<Sha256>(key, data, &mut out[..len]),
            Algorithm::Sha384 => keyed_digest::<Sha384>(key, data, &mut out[..len]),
            Algorithm::Sha512 => keyed_digest::<Sha512>(key, data, &mut out[..len]),
            Algorithm::Aes128Cmac => {
                let key = cmac_key(key);
                // A 16-byte key is always the right length for AES-128.
                let mut mac = <Cmac<Aes128> as cmac::Mac>::new(&key.into());
                mac.update(data);
                out[..len].copy_from_slice(&mac.finalize().into_bytes());
            }
        }
        len
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `D(key || data)`, its first `out.len()` bytes.
fn keyed_digest<D: sha2::Digest>(key: &[u8], data: &[u8], out: &mut [u8]) {
    let digest = D::new().chain_update(key).chain_update(data).finalize();
    out.copy_from_slice(&digest[..out.len()]);
}

/// The 16-byte AES key classic ntpd makes of a key of any length: the key
/// zero-padded when shorter, its first 16 bytes when longer.
pub fn cmac_key(key: &[u8]) -> [u8; CMAC_KEY_LEN] {
    let mut k = [0u8; CMAC_KEY_LEN];
    let n = key.len().min(CMAC_KEY_LEN);
    k[..n].copy_from_slice(&key[..n]);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_m_is_md5() {
        assert_eq!(Algorithm::from_name("m"), Some(Algorithm::Md5));
        assert_eq!(Algorithm::from_name("Sha1"), Some(Algorithm::Sha1));
        assert_eq!(
            Algorithm::from_name("aes128cmac"),
            Some(Algorithm::Aes128Cmac)
        );
        assert_eq!(Algorithm::from_name("SHA"), None);
        assert_eq!(Algorithm::from_name("RMD160"), None);
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
        }
    }

    #[test]
    fn cmac_keys_are_padded_or_cut_like_classic() {
        assert_eq!(cmac_key(b"ab")[..3], [b'a', b'b', 0]);
        assert_eq!(cmac_key(&[7; 20]), [7; 16]);
    }
}
