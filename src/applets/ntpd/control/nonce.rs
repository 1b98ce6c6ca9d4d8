//! REQ_NONCE nonces: proof that a READ_MRU request comes from the address
//! it claims, so that the (large) MRU list only ever goes to a client that
//! has received an earlier reply at that address.
//!
//! A nonce is `TTTTTTTTFFFFFFFFMMMMMMMMMMMMMMMM`: the issue time as an NTP
//! timestamp (seconds and fraction, hex) and a 64-bit tag, the first bytes
//! of SHA-256(secret, time, client address, client port). The secret is
//! 32 random bytes drawn when the daemon starts, so nobody can compute a
//! tag for an address they cannot receive at, and a nonce is worth
//! nothing at another address or port, or after `LIFETIME_SECS`. Nothing
//! is stored per client.

use std::net::SocketAddr;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::format::canonical;
use crate::proto::NtpTimestamp;

/// How long a nonce is good for: ntpq fetches a new one after 16 s
/// (its NONCE_TIMEOUT), classic ntpd accepts them for as long.
pub const LIFETIME_SECS: f64 = 16.0;
/// Bytes of the tag (64 bits: a blind guess wins once in 2^64 tries).
const TAG_LEN: usize = 8;
/// Bytes of the per-daemon secret.
const SECRET_LEN: usize = 32;
/// Hex digits of the time part.
const TIME_HEX_LEN: usize = 16;

/// Why a nonce was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceError {
    /// Not a nonce of ours at all, or for another address or port.
    Invalid,
    /// Ours and for this client, but older than `LIFETIME_SECS` (or from
    /// the future, after the clock was stepped back).
    Expired,
}

pub struct Nonces {
    secret: [u8; SECRET_LEN],
}

impl Nonces {
    /// Nonces under a fresh random secret.
    pub fn new() -> Nonces {
        Nonces {
            secret: random_secret(),
        }
    }

    /// Nonces under a given secret (tests).
    #[cfg(test)]
    pub fn with_secret(secret: [u8; SECRET_LEN]) -> Nonces {
        Nonces { secret }
    }

    /// A nonce for `client`, issued at `now`.
    pub fn issue(&self, client: SocketAddr, now: NtpTimestamp) -> String {
        let tag = self.tag(client, now);
        let mut text = format!("{:016x}", now.bits());
        for b in tag {
            text.push_str(&format!("{b:02x}"));
        }
        text
    }

    /// Accepts `text` from `client` at `now` if this daemon issued it to
    /// that very address and port less than `LIFETIME_SECS` ago.
    pub fn check(
        &self,
        text: &str,
        client: SocketAddr,
        now: NtpTimestamp,
    ) -> Result<(), NonceError> {
        let text = text.trim();
        if text.len() != TIME_HEX_LEN + 2 * TAG_LEN || !text.is_ascii() {
            return Err(NonceError::Invalid);
        }
        let (time, tag) = text.split_at(TIME_HEX_LEN);
        let issued = u64::from_str_radix(time, 16).map_err(|_| NonceError::Invalid)?;
        let issued = NtpTimestamp::from_bits(issued);
        let mut given = [0u8; TAG_LEN];
        for (i, b) in given.iter_mut().enumerate() {
            *b = u8::from_str_radix(&tag[2 * i..2 * i + 2], 16).map_err(|_| NonceError::Invalid)?;
        }
        let expected = self.tag(client, issued);
        if !bool::from(expected.ct_eq(&given)) {
            return Err(NonceError::Invalid);
        }
        let age = now.diff_secs(issued);
        if (0.0..=LIFETIME_SECS).contains(&age) {
            Ok(())
        } else {
            Err(NonceError::Expired)
        }
    }

    fn tag(&self, client: SocketAddr, at: NtpTimestamp) -> [u8; TAG_LEN] {
        let ip = match canonical(client.ip()) {
            std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            std::net::IpAddr::V6(v6) => v6,
        };
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(at.bits().to_be_bytes());
        h.update(ip.octets());
        h.update(client.port().to_be_bytes());
        let digest = h.finalize();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&digest[..TAG_LEN]);
        tag
    }
}

/// 32 bytes from the kernel's random pool (getrandom(2)).
fn random_secret() -> [u8; SECRET_LEN] {
    let mut secret = [0u8; SECRET_LEN];
    let mut filled = 0;
    while filled < SECRET_LEN {
        let rest = &mut secret[filled..];
        // SAFETY: getrandom writes at most rest.len() bytes into rest.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n > 0 {
            filled += n as usize;
        } else if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            // No getrandom (pre-3.17 kernels): the pool's file.
            use std::io::Read;
            if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
                if f.read_exact(rest).is_ok() {
                    return secret;
                }
            }
            panic!("no random source for the mode 6 nonce secret");
        }
    }
    secret
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_nonce_is_good_for_its_client_for_16_seconds() {
        let n = Nonces::with_secret([7; 32]);
        let t0 = NtpTimestamp::from_parts(0xeeac_a5c2, 0x8000_0000);
        let client = addr("10.0.0.1:40000");
        let nonce = n.issue(client, t0);
        assert_eq!(nonce.len(), 32);
        assert!(nonce.starts_with("eeaca5c280000000"));
        assert_eq!(n.check(&nonce, client, t0), Ok(()));
        assert_eq!(n.check(&nonce, client, t0.add_secs_f64(16.0)), Ok(()));
        assert_eq!(
            n.check(&nonce, client, t0.add_secs_f64(16.5)),
            Err(NonceError::Expired)
        );
        assert_eq!(
            n.check(&nonce, client, t0.add_secs_f64(-1.0)),
            Err(NonceError::Expired)
        );
    }

    #[test]
    fn another_address_port_secret_or_forgery_is_invalid() {
        let n = Nonces::with_secret([7; 32]);
        let t0 = NtpTimestamp::from_parts(0xeeac_a5c2, 0);
        let client = addr("10.0.0.1:40000");
        let nonce = n.issue(client, t0);
        for other in ["10.0.0.2:40000", "10.0.0.1:40001", "[::1]:40000"] {
            assert_eq!(n.check(&nonce, addr(other), t0), Err(NonceError::Invalid));
        }
        let mapped = addr("[::ffff:10.0.0.1]:40000");
        assert_eq!(
            n.check(&nonce, mapped, t0),
            Ok(()),
            "same client, dual stack"
        );
        assert_eq!(
            Nonces::with_secret([8; 32]).check(&nonce, client, t0),
            Err(NonceError::Invalid)
        );
        let mut forged = nonce.clone().into_bytes();
        forged[31] = if forged[31] == b'0' { b'1' } else { b'0' };
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(n.check(&forged, client, t0), Err(NonceError::Invalid));
        for junk in ["", "nonce", "zz", &"é".repeat(16), &nonce[..31]] {
            assert_eq!(n.check(junk, client, t0), Err(NonceError::Invalid));
        }
    }

    #[test]
    fn secrets_are_random() {
        assert_ne!(Nonces::new().secret, Nonces::new().secret);
    }
}
