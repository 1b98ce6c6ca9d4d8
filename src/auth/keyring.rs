//! The keys a program holds, which of them are trusted, and signing and
//! verifying with them.

use std::fmt;
use std::net::IpAddr;

use subtle::ConstantTimeEq;

use super::algorithm::{Algorithm, MAX_MAC_LEN};
use crate::config::auth::{Access, Key};

/// Key IDs are 1 to 65535 (classic NTP_MAXKEY); above are Autokey's.
pub const MAX_KEY_ID: u32 = 65_535;
/// The longest secret a key can have: classic and NTPsec decode at most 64
/// hex digits (32 bytes); ASCII keys are at most 20 characters.
pub const MAX_SECRET_LEN: usize = 32;
/// The key ID field before the MAC.
pub const KEY_ID_LEN: usize = 4;
/// Key ID plus the longest MAC.
pub const MAX_MAC_FIELD_LEN: usize = KEY_ID_LEN + MAX_MAC_LEN;

/// Why a key cannot go into a keyring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// 0 (the crypto-NAK ID) or above [`MAX_KEY_ID`].
    BadId(u32),
    /// An empty secret, or one longer than [`MAX_SECRET_LEN`].
    BadSecretLength(usize),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::BadId(id) => write!(f, "key ID {id} is not 1 to {MAX_KEY_ID}"),
            KeyError::BadSecretLength(n) => {
                write!(f, "a key of {n} bytes (1 to {MAX_SECRET_LEN} are possible)")
            }
        }
    }
}

impl std::error::Error for KeyError {}

/// Why [`Keyring::sign`] could not sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignError {
    UnknownKey(u32),
    /// The output buffer cannot hold the key ID and MAC.
    BufferTooSmall,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::UnknownKey(id) => write!(f, "no key {id} in the keys file"),
            SignError::BufferTooSmall => f.write_str("buffer too small for the MAC"),
        }
    }
}

impl std::error::Error for SignError {}

/// What checking a MAC found. Only [`Verdict::Authentic`] means the data
/// came from someone holding the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The MAC verifies with this key, which is trusted.
    Authentic(u32),
    /// No MAC at all.
    NoMac,
    /// A crypto-NAK (a MAC field that is a zero key ID alone): the peer
    /// could not authenticate what we sent. It is itself unauthenticated.
    CryptoNak,
    /// The key ID is not in the keyring.
    UnknownKey(u32),
    /// The key is known but not trusted (`trustedkey`), or not allowed
    /// from this address (the keys file's address list).
    Untrusted(u32),
    /// The MAC's length is not the one the key's algorithm makes.
    WrongLength { key_id: u32, len: usize },
    /// The MAC does not match: a different secret, or altered data.
    BadMac(u32),
}

impl Verdict {
    pub fn is_authentic(self) -> bool {
        matches!(self, Verdict::Authentic(_))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Verdict::Authentic(id) => write!(f, "authentic (key {id})"),
            Verdict::NoMac => f.write_str("no MAC"),
            Verdict::CryptoNak => f.write_str("crypto-NAK"),
            Verdict::UnknownKey(id) => write!(f, "unknown key {id}"),
            Verdict::Untrusted(id) => write!(f, "key {id} is not trusted"),
            Verdict::WrongLength { key_id, len } => {
                write!(f, "a {len}-byte MAC does not fit key {key_id}")
            }
            Verdict::BadMac(id) => write!(f, "MAC does not verify with key {id}"),
        }
    }
}

/// One key: its algorithm and secret, whether it is trusted, and where
/// from it may be used. The secret is wiped when the key is dropped.
pub struct SymmetricKey {
    id: u32,
    algorithm: Algorithm,
    secret: [u8; MAX_SECRET_LEN],
    secret_len: u8,
    trusted: bool,
    access: Vec<Access>,
}

impl SymmetricKey {
    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn is_trusted(&self) -> bool {
        self.trusted
    }

    /// Whether a packet from `from` may use this key: always, unless the
    /// keys file gave the key an address list.
    pub fn allows(&self, from: IpAddr) -> bool {
        self.access.is_empty() || self.access.iter().any(|a| a.contains(from))
    }

    fn secret(&self) -> &[u8] {
        &self.secret[..self.secret_len as usize]
    }

    fn mac(&self, data: &[u8], out: &mut [u8; MAX_MAC_LEN]) -> usize {
        self.algorithm.compute(self.secret(), data, out)
    }
}

impl fmt::Debug for SymmetricKey {
    /// Never shows the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SymmetricKey {{ id: {}, algorithm: {}, trusted: {} }}",
            self.id, self.algorithm, self.trusted
        )
    }
}

impl Drop for SymmetricKey {
    fn drop(&mut self) {
        for b in self.secret.iter_mut() {
            // SAFETY: a valid, aligned &mut u8. Volatile so that the wipe
            // is not optimised away as a dead store.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

/// The symmetric keys of a program, sorted by ID.
#[derive(Debug, Default)]
pub struct Keyring {
    keys: Vec<SymmetricKey>,
}

impl Keyring {
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// The keys of a keys file, with the IDs of `trustedkey` trusted. IDs
    /// in `trusted` that are not in `keys` are ignored (classic ntpd only
    /// warns about them; the config checks do that).
    pub fn from_config(keys: &[Key], trusted: &[u32]) -> Result<Keyring, KeyError> {
        let mut ring = Keyring::new();
        for key in keys {
            ring.insert(key.id, key.algorithm, &key.secret)?;
            ring.set_access(key.id, key.access.clone());
        }
        for &id in trusted {
            ring.trust(id);
        }
        Ok(ring)
    }

    /// Adds (or replaces) a key, untrusted until [`Self::trust`].
    pub fn insert(&mut self, id: u32, algorithm: Algorithm, secret: &[u8]) -> Result<(), KeyError> {
        if id == 0 || id > MAX_KEY_ID {
            return Err(KeyError::BadId(id));
        }
        if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
            return Err(KeyError::BadSecretLength(secret.len()));
        }
        let mut key = SymmetricKey {
            id,
            algorithm,
            secret: [0; MAX_SECRET_LEN],
            secret_len: secret.len() as u8,
            trusted: false,
            access: Vec::new(),
        };
        key.secret[..secret.len()].copy_from_slice(secret);
        match self.keys.binary_search_by_key(&id, |k| k.id) {
            Ok(at) => self.keys[at] = key,
            Err(at) => self.keys.insert(at, key),
        }
        Ok(())
    }

    /// Marks a key trusted; false when there is no such key.
    pub fn trust(&mut self, id: u32) -> bool {
        match self.get_mut(id) {
            Some(k) => {
                k.trusted = true;
                true
            }
            None => false,
        }
    }

    /// Limits where a key may be used from (empty: anywhere).
    pub fn set_access(&mut self, id: u32, access: Vec<Access>) -> bool {
        match self.get_mut(id) {
            Some(k) => {
                k.access = access;
                true
            }
            None => false,
        }
    }

    pub fn get(&self, id: u32) -> Option<&SymmetricKey> {
        self.keys
            .binary_search_by_key(&id, |k| k.id)
            .ok()
            .map(|at| &self.keys[at])
    }

    fn get_mut(&mut self, id: u32) -> Option<&mut SymmetricKey> {
        match self.keys.binary_search_by_key(&id, |k| k.id) {
            Ok(at) => Some(&mut self.keys[at]),
            Err(_) => None,
        }
    }

    pub fn is_trusted(&self, id: u32) -> bool {
        self.get(id).is_some_and(SymmetricKey::is_trusted)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The IDs held, in order.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.iter().map(|k| k.id)
    }

    /// Length of the MAC field (key ID + MAC) key `id` makes.
    pub fn mac_field_len(&self, id: u32) -> Option<usize> {
        self.get(id).map(|k| KEY_ID_LEN + k.algorithm.mac_len())
    }

    /// Writes key ID and MAC of `data` into the start of `out`, returning
    /// how many bytes that took. Signing does not require the key to be
    /// trusted: what we send is ours to sign.
    pub fn sign_into(&self, key_id: u32, data: &[u8], out: &mut [u8]) -> Result<usize, SignError> {
        let key = self.get(key_id).ok_or(SignError::UnknownKey(key_id))?;
        let mut mac = [0u8; MAX_MAC_LEN];
        let len = key.mac(data, &mut mac);
        let field = out
            .get_mut(..KEY_ID_LEN + len)
            .ok_or(SignError::BufferTooSmall)?;
        field[..KEY_ID_LEN].copy_from_slice(&key_id.to_be_bytes());
        field[KEY_ID_LEN..].copy_from_slice(&mac[..len]);
        Ok(KEY_ID_LEN + len)
    }

    /// Appends key ID and MAC of `packet` (all of it) to `out`.
    pub fn sign(&self, key_id: u32, packet: &[u8], out: &mut Vec<u8>) -> Result<usize, SignError> {
        let mut field = [0u8; MAX_MAC_FIELD_LEN];
        let len = self.sign_into(key_id, packet, &mut field)?;
        out.extend_from_slice(&field[..len]);
        Ok(len)
    }

    /// Checks `mac` (the digest after the key ID) over `data` (what it
    /// covers) with key `key_id`, in constant time for a given length.
    /// Key ID 0 with an empty MAC is a crypto-NAK. Allocates nothing.
    pub fn verify(&self, data: &[u8], key_id: u32, mac: &[u8]) -> Verdict {
        if key_id == 0 && mac.is_empty() {
            return Verdict::CryptoNak;
        }
        let Some(key) = self.get(key_id) else {
            return Verdict::UnknownKey(key_id);
        };
        if !key.trusted {
            return Verdict::Untrusted(key_id);
        }
        let mut expected = [0u8; MAX_MAC_LEN];
        let len = key.mac(data, &mut expected);
        if mac.len() != len {
            return Verdict::WrongLength {
                key_id,
                len: mac.len(),
            };
        }
        if bool::from(expected[..len].ct_eq(mac)) {
            Verdict::Authentic(key_id)
        } else {
            Verdict::BadMac(key_id)
        }
    }

    /// [`Self::verify`] for a packet from `from`: a key limited to other
    /// addresses is untrusted for it.
    pub fn verify_from(&self, from: IpAddr, data: &[u8], key_id: u32, mac: &[u8]) -> Verdict {
        self.only_from(from, self.verify(data, key_id, mac))
    }

    /// Verifies an NTP time packet (mode 1 to 5) as it came off the wire:
    /// the MAC field after the header and extension fields. Bytes that do
    /// not decode as a time packet carry no MAC this can check: `NoMac`.
    pub fn verify_packet(&self, bytes: &[u8]) -> Verdict {
        match crate::proto::Packet::decode(bytes) {
            Ok(p) => self.verify_decoded(bytes, &p),
            Err(_) => Verdict::NoMac,
        }
    }

    /// [`Self::verify_packet`] for a packet the caller has decoded already
    /// (`packet` is `bytes` decoded), so it is not decoded twice.
    pub fn verify_decoded(&self, bytes: &[u8], packet: &crate::proto::Packet<'_>) -> Verdict {
        use crate::proto::MacField;
        match packet.mac {
            None => Verdict::NoMac,
            Some(MacField::CryptoNak) => Verdict::CryptoNak,
            Some(MacField::Mac { key_id, digest }) => self.verify(
                &bytes[..packet.authenticated_len()],
                key_id,
                digest.as_bytes(),
            ),
        }
    }

    /// [`Self::verify_decoded`] for a packet from `from`: a key limited to
    /// other addresses is untrusted for it.
    pub fn verify_decoded_from(
        &self,
        from: IpAddr,
        bytes: &[u8],
        packet: &crate::proto::Packet<'_>,
    ) -> Verdict {
        self.only_from(from, self.verify_decoded(bytes, packet))
    }

    /// An authentic verdict by a key that `from` may not use is untrusted.
    fn only_from(&self, from: IpAddr, verdict: Verdict) -> Verdict {
        match verdict {
            Verdict::Authentic(id) if !self.get(id).is_some_and(|k| k.allows(from)) => {
                Verdict::Untrusted(id)
            }
            v => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        let mut r = Keyring::new();
        r.insert(7, Algorithm::Md5, b"secret").unwrap();
        r.insert(3, Algorithm::Sha1, b"other").unwrap();
        r.insert(9, Algorithm::Aes128Cmac, &[0x2b; 16]).unwrap();
        r.trust(7);
        r.trust(9);
        r
    }

    #[test]
    fn keys_are_kept_sorted_and_replaced_by_id() {
        let mut r = ring();
        assert_eq!(r.ids().collect::<Vec<_>>(), [3, 7, 9]);
        r.insert(7, Algorithm::Sha256, b"x").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r.get(7).unwrap().algorithm(), Algorithm::Sha256);
        assert!(!r.is_trusted(7), "a replaced key starts untrusted");
        assert_eq!(r.insert(0, Algorithm::Md5, b"x"), Err(KeyError::BadId(0)));
        assert_eq!(
            r.insert(65_536, Algorithm::Md5, b"x"),
            Err(KeyError::BadId(65_536))
        );
        assert_eq!(
            r.insert(1, Algorithm::Md5, b""),
            Err(KeyError::BadSecretLength(0))
        );
        assert_eq!(
            r.insert(1, Algorithm::Md5, &[1; 33]),
            Err(KeyError::BadSecretLength(33))
        );
    }

    #[test]
    fn what_is_signed_verifies_and_any_change_does_not() {
        let r = ring();
        let data = [0x23u8; 48];
        for id in [7, 9] {
            let mut out = data.to_vec();
            let n = r.sign(id, &data, &mut out).unwrap();
            assert_eq!(n, r.mac_field_len(id).unwrap());
            let (body, field) = out.split_at(48);
            let key_id = u32::from_be_bytes(field[..4].try_into().unwrap());
            assert_eq!(key_id, id);
            assert_eq!(r.verify(body, id, &field[4..]), Verdict::Authentic(id));
            assert_eq!(r.verify_packet(&out), Verdict::Authentic(id));
            let mut altered = out.clone();
            altered[47] ^= 1;
            assert_eq!(r.verify_packet(&altered), Verdict::BadMac(id));
            assert_eq!(
                r.verify(body, id, &field[4..field.len() - 1]),
                Verdict::WrongLength {
                    key_id: id,
                    len: field.len() - 5
                }
            );
        }
    }

    #[test]
    fn untrusted_unknown_and_nak_are_told_apart() {
        let r = ring();
        let data = [1u8; 48];
        let mut out = Vec::new();
        r.sign(3, &data, &mut out).unwrap();
        assert_eq!(r.verify(&data, 3, &out[4..]), Verdict::Untrusted(3));
        assert_eq!(r.verify(&data, 4, &out[4..]), Verdict::UnknownKey(4));
        assert_eq!(r.verify(&data, 0, &[]), Verdict::CryptoNak);
        assert_eq!(r.sign(4, &data, &mut out), Err(SignError::UnknownKey(4)));
        assert_eq!(
            r.sign_into(7, &data, &mut [0u8; 19]),
            Err(SignError::BufferTooSmall)
        );
        let mut nak = [0u8; 52];
        nak[0] = 0x24;
        assert_eq!(r.verify_packet(&nak), Verdict::CryptoNak);
        assert_eq!(r.verify_packet(&nak[..48]), Verdict::NoMac);
    }

    #[test]
    fn an_address_list_limits_where_a_key_works() {
        let mut r = ring();
        r.set_access(7, vec![Access::new("10.0.0.0".parse().unwrap(), Some(8))]);
        let data = [5u8; 48];
        let mut out = Vec::new();
        r.sign(7, &data, &mut out).unwrap();
        let inside = "10.1.2.3".parse().unwrap();
        let outside = "192.0.2.1".parse().unwrap();
        assert_eq!(
            r.verify_from(inside, &data, 7, &out[4..]),
            Verdict::Authentic(7)
        );
        assert_eq!(
            r.verify_from(outside, &data, 7, &out[4..]),
            Verdict::Untrusted(7)
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let r = ring();
        let text = format!("{r:?}");
        assert!(!text.contains("115, 101, 99"), "{text}");
        assert!(text.contains("id: 7"));
    }
}
