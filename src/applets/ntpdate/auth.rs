//! `-a KEYID` / `-k KEYFILE`: requests carry the key ID and a MAC, and only
//! replies that carry a MAC made with the same key count.
//!
//! As in classic ntpdate, the keys file is read in full (a file with
//! errors is rejected), and only the key of -a is trusted. Unlike classic,
//! a reply that fails authentication is never a sample, and a server that
//! answers some requests authentically is still usable: one forged reply
//! cannot take it out of the selection.

use std::fmt;
use std::path::Path;

use super::log::Log;
use crate::auth::{Algorithm, Keyring, Verdict, MAX_MAC_FIELD_LEN};
use crate::config::auth::{os_message, read_keys_file};
use crate::config::Diagnostics;

/// Where classic ntpdate looks for keys without -k.
pub const DEFAULT_KEY_FILE: &str = "/etc/ntp.keys";

/// The key a run authenticates with.
#[derive(Debug)]
pub struct Auth {
    keyring: Keyring,
    key_id: u32,
    algorithm: Algorithm,
}

/// Why a reply to an authenticated request is not trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unauthentic {
    /// Our key.
    pub key_id: u32,
    pub algorithm: Algorithm,
    pub verdict: Verdict,
}

impl fmt::Display for Unauthentic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ours = self.key_id;
        match self.verdict {
            Verdict::NoMac => f.write_str("the reply carries no MAC"),
            Verdict::CryptoNak => write!(
                f,
                "crypto-NAK: the server could not authenticate our request \
                 (it has no key {ours}, or a different one)"
            ),
            Verdict::UnknownKey(id) | Verdict::Untrusted(id) | Verdict::Authentic(id) => {
                write!(f, "the reply is signed with key {id}, not key {ours}")
            }
            Verdict::WrongLength { len, .. } => write!(
                f,
                "a {len}-byte MAC cannot be {} key {ours}'s (is the key type the same there?)",
                self.algorithm
            ),
            Verdict::BadMac(_) => write!(
                f,
                "the MAC does not verify with key {ours} (is the secret the same there?)"
            ),
        }
    }
}

impl Auth {
    /// Reads the keys file and picks key `key_id`. Problems in the file are
    /// logged as FILE:LINE lines; the error is the last line to log.
    pub fn load(key_id: u32, key_file: &Path, log: &Log) -> Result<Auth, String> {
        let shown = key_file.display();
        let mut diags = Diagnostics::default();
        let keys = match read_keys_file(key_file, &mut diags) {
            Ok(keys) => keys,
            Err(e) => {
                log.error(&format!("authreadkeys: file '{shown}': {}", os_message(&e)));
                return Err(format!("no key file <{shown}>, exiting"));
            }
        };
        for d in &diags.items {
            log.error(&d.to_string());
        }
        let errors = diags.errors().count();
        if errors > 0 {
            log.error(&format!(
                "authreadkeys: rejecting file '{shown}' after {errors} error(s)"
            ));
            return Err(format!("no key file <{shown}>, exiting"));
        }
        let unknown = || format!("authentication key {key_id} unknown");
        let key = keys.iter().find(|k| k.id == key_id).ok_or_else(unknown)?;
        let mut keyring = Keyring::new();
        keyring
            .insert(key.id, key.algorithm, &key.secret)
            .map_err(|_| unknown())?;
        keyring.trust(key_id);
        Ok(Auth {
            keyring,
            key_id,
            algorithm: key.algorithm,
        })
    }

    /// Writes `request` and its MAC field into `out`; returns the length.
    pub fn sign(&self, request: &[u8], out: &mut [u8]) -> usize {
        let n = request.len();
        out[..n].copy_from_slice(request);
        let mut field = [0u8; MAX_MAC_FIELD_LEN];
        // The key was found when loading, so signing cannot fail.
        let mac = self
            .keyring
            .sign_into(self.key_id, request, &mut field)
            .unwrap_or(0);
        out[n..n + mac].copy_from_slice(&field[..mac]);
        n + mac
    }

    /// Whether a reply (as received) is signed with our key.
    pub fn check(&self, reply: &[u8]) -> Result<(), Unauthentic> {
        match self.keyring.verify_packet(reply) {
            Verdict::Authentic(id) if id == self.key_id => Ok(()),
            verdict => Err(Unauthentic {
                key_id: self.key_id,
                algorithm: self.algorithm,
                verdict,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn keys_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ntp.keys");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        (dir, path)
    }

    #[test]
    fn requests_are_signed_and_only_our_key_verifies() {
        let (_dir, path) = keys_file("1 MD5 one\n2 SHA1 two\n");
        let log = Log::new(false);
        let auth = Auth::load(2, &path, &log).unwrap();
        let request = [0x23u8; 48];
        let mut out = [0u8; 48 + MAX_MAC_FIELD_LEN];
        let n = auth.sign(&request, &mut out);
        assert_eq!(n, 72);
        assert_eq!(&out[48..52], &[0, 0, 0, 2]);
        assert_eq!(auth.check(&out[..n]), Ok(()));
        let failure = |verdict| Unauthentic {
            key_id: 2,
            algorithm: Algorithm::Sha1,
            verdict,
        };
        assert_eq!(auth.check(&out[..48]), Err(failure(Verdict::NoMac)));
        let mut nak = out;
        nak[48..52].fill(0);
        assert_eq!(auth.check(&nak[..52]), Err(failure(Verdict::CryptoNak)));
        // Key 1 is in the file but not trusted by this run.
        let one = Auth::load(1, &path, &log).unwrap();
        let mut signed = [0u8; 48 + MAX_MAC_FIELD_LEN];
        let m = one.sign(&request, &mut signed);
        assert_eq!(
            auth.check(&signed[..m]),
            Err(failure(Verdict::UnknownKey(1)))
        );
        assert_eq!(
            failure(Verdict::UnknownKey(1)).to_string(),
            "the reply is signed with key 1, not key 2"
        );
    }

    #[test]
    fn missing_files_keys_and_broken_files_are_classic_errors() {
        let log = Log::new(false);
        let (dir, path) = keys_file("1 MD5 one\n");
        assert_eq!(
            Auth::load(3, &path, &log).unwrap_err(),
            "authentication key 3 unknown"
        );
        let none = dir.path().join("none");
        assert_eq!(
            Auth::load(1, &none, &log).unwrap_err(),
            format!("no key file <{}>, exiting", none.display())
        );
        let (_dir, broken) = keys_file("1 MD5 one\n2 MD5\n");
        assert_eq!(
            Auth::load(1, &broken, &log).unwrap_err(),
            format!("no key file <{}>, exiting", broken.display())
        );
    }
}
