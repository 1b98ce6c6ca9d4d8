//! Authenticated requests: `keyid`, `passwd`, `keytype` and `authenticate`
//! set up the key, and writes, configuration and the ordered lists
//! (`ifstats`, `reslist`) go out signed with it, as ntpd demands of them.
//!
//! A request is signed as classic ntpq signs it: header and data padded to
//! a multiple of 8 bytes, then the key ID and the MAC of all that.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;

use crate::auth::{Algorithm, Keyring, MAX_KEY_ID};
use crate::config::auth::parse_keys;
use crate::config::Diagnostics;

/// The key type until `keytype` says otherwise.
pub const DEFAULT_ALGORITHM: Algorithm = Algorithm::Md5;
/// Requests are padded to this before the MAC.
const MAC_ALIGN: usize = 8;
/// ntpq's default for the `delay` command (DEFDELAY, 20 ms).
const DEFAULT_DELAY_MS: i64 = 20;
/// Where prompts and answers go when ntpq must ask for a key.
const TTY: &str = "/dev/tty";

/// The key settings of the session.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub keyid: Option<u32>,
    /// The key as a keys file writes it: up to 20 characters, or hex.
    pub password: Option<String>,
    pub algorithm: Algorithm,
    /// `delay`: kept and shown, for scripts that set it.
    pub delay_ms: i64,
    /// `authenticate yes`: sign every request.
    pub always: bool,
}

impl Default for AuthSettings {
    fn default() -> AuthSettings {
        AuthSettings {
            keyid: None,
            password: None,
            algorithm: DEFAULT_ALGORITHM,
            delay_ms: DEFAULT_DELAY_MS,
            always: false,
        }
    }
}

/// A key ready to sign requests with.
pub struct Signer {
    ring: Keyring,
    key_id: u32,
}

impl Signer {
    /// The key PASSWORD of type ALGORITHM under KEY_ID; the password is
    /// read as a keys file reads a key (ASCII, or hex when longer than 20).
    pub fn new(key_id: u32, algorithm: Algorithm, password: &str) -> Result<Signer, String> {
        let line = format!("{key_id} {} {password}\n", algorithm.name());
        let mut diags = Diagnostics::default();
        let keys = parse_keys(line.as_bytes(), Path::new("passwd"), &mut diags);
        if let Some(e) = diags.errors().next() {
            return Err(e.message.clone());
        }
        let key = keys.first().ok_or("Invalid password")?;
        let mut ring = Keyring::new();
        ring.insert(key_id, algorithm, &key.secret)
            .map_err(|e| e.to_string())?;
        Ok(Signer { ring, key_id })
    }

    /// Pads the request to 8 bytes and appends key ID and MAC.
    pub fn sign(&self, packet: &mut Vec<u8>) {
        packet.resize(packet.len().div_ceil(MAC_ALIGN) * MAC_ALIGN, 0);
        let covered = packet.clone();
        // The key was inserted under this ID, so signing cannot fail.
        let _ = self.ring.sign(self.key_id, &covered, packet);
    }
}

/// The signer of the session, asking for key ID and password on the
/// terminal when they are not set yet (as ntpq does). None, with ntpq's
/// message printed, when there is no usable key.
pub fn signer(settings: &mut AuthSettings) -> Option<Signer> {
    if settings.keyid.is_none() {
        let id = ask("Keyid: ", true).and_then(|t| t.trim().parse::<u32>().ok());
        match id {
            Some(id) if (1..=MAX_KEY_ID).contains(&id) => settings.keyid = Some(id),
            _ => {
                eprintln!("Invalid key identifier");
                return None;
            }
        }
    }
    if settings.password.is_none() {
        let prompt = format!("{} Password: ", settings.algorithm.name());
        match ask(&prompt, false) {
            Some(p) if !p.is_empty() => settings.password = Some(p),
            _ => {
                eprintln!("Invalid password");
                return None;
            }
        }
    }
    let (Some(id), Some(password)) = (settings.keyid, settings.password.as_deref()) else {
        return None;
    };
    match Signer::new(id, settings.algorithm, password) {
        Ok(s) => Some(s),
        Err(why) => {
            eprintln!("***Invalid password: {why}");
            None
        }
    }
}

/// Asks on the terminal; None when there is none (ntpq run from a script
/// must set the key with `keyid` and `passwd`). Passwords are not echoed.
pub fn ask(prompt: &str, echo: bool) -> Option<String> {
    if !io::stdin().is_terminal() {
        return None;
    }
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(TTY)
        .ok()?;
    let mut out = &tty;
    let _ = out.write_all(prompt.as_bytes());
    let _ = out.flush();
    let quiet = (!echo).then(|| EchoOff::new(&tty)).flatten();
    let mut line = String::new();
    let read = io::BufReader::new(&tty).read_line(&mut line);
    if quiet.is_some() {
        let _ = out.write_all(b"\n");
    }
    drop(quiet);
    read.ok()?;
    Some(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Turns the terminal's echo off until dropped.
struct EchoOff {
    fd: i32,
    saved: libc::termios,
}

impl EchoOff {
    fn new(tty: &std::fs::File) -> Option<EchoOff> {
        use std::os::fd::AsRawFd;
        let fd = tty.as_raw_fd();
        // SAFETY: termios is plain data; tcgetattr fills it for an open fd.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return None;
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: a valid fd and a termios from tcgetattr.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } != 0 {
            return None;
        }
        Some(EchoOff { fd, saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read from the same, still open, fd.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Verdict;

    #[test]
    fn requests_are_padded_to_8_and_signed() {
        // The reference lab's SHA1 control key.
        let signer = Signer::new(
            1,
            Algorithm::Sha1,
            "8e5fe734fa6d6dabb52319633953a66dd7cd87ff",
        )
        .unwrap();
        let mut packet =
            crate::proto::control::ControlMessage::request(11, 1, 0, b"ifstats").to_vec();
        assert_eq!(packet.len(), 20);
        signer.sign(&mut packet);
        assert_eq!(packet.len(), 24 + 4 + 20);
        assert_eq!(&packet[24..28], &[0, 0, 0, 1]);
        let mut ring = Keyring::new();
        let secret: Vec<u8> = (0..20)
            .map(|i| {
                u8::from_str_radix(
                    &"8e5fe734fa6d6dabb52319633953a66dd7cd87ff"[2 * i..2 * i + 2],
                    16,
                )
                .unwrap()
            })
            .collect();
        ring.insert(1, Algorithm::Sha1, &secret).unwrap();
        ring.trust(1);
        assert_eq!(
            ring.verify(&packet[..24], 1, &packet[28..]),
            Verdict::Authentic(1)
        );
    }

    #[test]
    fn bad_passwords_are_refused() {
        assert!(Signer::new(1, Algorithm::Md5, "x".repeat(41).as_str()).is_err());
        assert!(Signer::new(0, Algorithm::Md5, "secret").is_err());
        assert!(Signer::new(7, Algorithm::Md5, "secret").is_ok());
    }
}
