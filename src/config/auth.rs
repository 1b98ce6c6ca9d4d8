//! Authentication directives (`trustedkey`, `requestkey`, `controlkey`) and
//! the symmetric keys file named by `keys`.
//!
//! Keys file lines are `KEYID TYPE KEY [ADDRESSES] [# comment]`, read the
//! way ntp 4.2.8 reads them (words split at blanks, `#` ends the line):
//! TYPE is `M`/`MD5`, `SHA1`, `SHA256`, ..., `AES128CMAC` (see
//! [`Algorithm::from_name`]); KEY is up to 20 characters taken as they are,
//! or more than 20 hex digits (at most 64 are used); ADDRESSES is a comma
//! separated list of `ADDR[/BITS]` the key may be used from.
//!
//! Where classic ntpd rejects the whole file (a bad key ID, no type, no
//! key, a bad hex digit, a bad address) the problem is an error, as is a
//! key ID given twice (implementations disagree on which one wins).
//! Where classic goes on (an unknown type skips that key; odd hex digits,
//! surplus hex digits and CMAC keys that are not 16 bytes are used as
//! classic uses them) it is a warning, as is a file other users can read.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::args::Args;
use super::assoc::MAX_KEY_ID;
use super::diag::Diagnostics;
use crate::auth::{Algorithm, MAX_SECRET_LEN};

/// An ASCII key is at most this long; longer keys are hex (ntp 4.2.8,
/// Bug 2537).
const MAX_ASCII_KEY_LEN: usize = 20;
/// The most hex digits classic ntpd and NTPsec decode (a 32-byte buffer).
const MAX_HEX_DIGITS: usize = 2 * MAX_SECRET_LEN;
/// The permission bits that let every user read a file.
const WORLD_READABLE: u32 = 0o004;

/// An address a key may be used from, with its prefix length (None: the
/// whole address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub addr: IpAddr,
    pub prefix: Option<u8>,
}

impl Access {
    pub fn new(addr: IpAddr, prefix: Option<u8>) -> Access {
        Access { addr, prefix }
    }

    /// Whether `ip` is this address, or in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (a, b, bits) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (
                u32::from(a) as u128,
                u32::from(b) as u128,
                self.prefix.unwrap_or(32).min(32) as u32 + 96,
            ),
            (IpAddr::V6(a), IpAddr::V6(b)) => (
                u128::from(a),
                u128::from(b),
                self.prefix.unwrap_or(128).min(128) as u32,
            ),
            _ => return false,
        };
        let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
        (a ^ b) & mask == 0
    }
}

/// One key of the keys file.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    pub id: u32,
    pub algorithm: Algorithm,
    /// The secret as the MAC uses it (CMAC keys still as written; the
    /// algorithm pads or cuts them).
    pub secret: Vec<u8>,
    /// Where the key may be used from; empty: anywhere.
    pub access: Vec<Access>,
    /// The line it came from.
    pub line: usize,
}

impl std::fmt::Debug for Key {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Key {{ id: {}, algorithm: {}, line: {} }}",
            self.id, self.algorithm, self.line
        )
    }
}

/// `trustedkey 1 2 (10 ... 20)`: key IDs, with ranges.
pub fn parse_trustedkey(args: &mut Args) -> Result<Vec<u32>, String> {
    let mut ids = Vec::new();
    while let Some(word) = args.next_word() {
        if word == "(" || word.starts_with('(') {
            let first = word.trim_start_matches('(');
            let first = if first.is_empty() {
                args.required("range start")?
            } else {
                first
            };
            let start = key_id(first)?;
            if args.next_word() != Some("...") {
                return Err("trustedkey: a range is written (FIRST ... LAST)".into());
            }
            let last = args.required("range end")?;
            let last = last.strip_suffix(')').map_or_else(
                || match args.next_word() {
                    Some(")") => Ok(last),
                    _ => Err("trustedkey: a range is written (FIRST ... LAST)".to_string()),
                },
                Ok,
            )?;
            let end = key_id(last)?;
            if start > end {
                return Err(format!("trustedkey: range ({start} ... {end}) is empty"));
            }
            ids.extend(start..=end);
        } else {
            ids.push(key_id(word)?);
        }
    }
    if ids.is_empty() {
        return Err("trustedkey: expected key IDs".into());
    }
    Ok(ids)
}

/// `requestkey N` / `controlkey N`.
pub fn parse_single_key(args: &mut Args) -> Result<u32, String> {
    let word = args.required("key ID")?;
    let id = key_id(word).map_err(|e| e.replace("trustedkey", args.directive()))?;
    args.finish()?;
    Ok(id)
}

fn key_id(word: &str) -> Result<u32, String> {
    match word.parse::<u32>() {
        Ok(id) if (1..=MAX_KEY_ID).contains(&id) => Ok(id),
        _ => Err(format!(
            "trustedkey: \"{word}\" is not a key ID (1-{MAX_KEY_ID})"
        )),
    }
}

/// At most this many missing key IDs are listed in one warning (a range
/// in `trustedkey` may name thousands).
const MAX_LISTED_MISSING: usize = 8;

/// The warning for a `trustedkey`/`requestkey`/`controlkey` line (its
/// `keyword` and key `ids`) naming keys that the keys file at `path`, read
/// as `keys`, does not hold: such a key authenticates nothing. None when
/// every key is there, or when no keys were read at all (no `keys` line,
/// or an unreadable or empty file, which got its own message).
pub fn missing_keys(
    keyword: &str,
    ids: &[u32],
    path: Option<&Path>,
    keys: &[Key],
) -> Option<String> {
    let path = path?;
    if keys.is_empty() {
        return None;
    }
    let mut missing: Vec<u32> = ids
        .iter()
        .copied()
        .filter(|id| !keys.iter().any(|k| k.id == *id))
        .collect();
    missing.dedup();
    let (first, rest) = missing.split_first()?;
    let mut listed = first.to_string();
    for id in rest.iter().take(MAX_LISTED_MISSING - 1) {
        listed.push_str(&format!(" {id}"));
    }
    let unlisted = missing.len().saturating_sub(MAX_LISTED_MISSING);
    if unlisted > 0 {
        listed.push_str(&format!(" and {unlisted} more"));
    }
    let noun = if missing.len() == 1 { "key" } else { "keys" };
    Some(format!(
        "{keyword} {listed}: no such {noun} in {}",
        path.display()
    ))
}

/// Reads a keys file: its keys, and every problem as FILE:LINE in
/// `diags`. A file that cannot be read is the caller's to report.
pub fn read_keys_file(path: &Path, diags: &mut Diagnostics) -> std::io::Result<Vec<Key>> {
    let bytes = std::fs::read(path)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & WORLD_READABLE != 0 {
            diags.warning(
                path,
                0,
                format!(
                    "every user can read this keys file (mode {:04o}), and so forge \
                     authenticated packets; make it readable by root only (chmod 600)",
                    mode & 0o7777
                ),
            );
        }
    }
    Ok(parse_keys(&bytes, path, diags))
}

/// Parses keys-file text; `path` names it in diagnostics. Never panics.
pub fn parse_keys(bytes: &[u8], path: &Path, diags: &mut Diagnostics) -> Vec<Key> {
    let mut keys: Vec<Key> = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let mut problems = Problems::default();
        if let Some(key) = parse_key_line(raw, line, &mut problems) {
            if let Some(first) = keys.iter().find(|k| k.id == key.id) {
                problems.error(format!(
                    "key {} is defined again (first on line {}); give each key its own ID",
                    key.id, first.line
                ));
            } else {
                keys.push(key);
            }
        }
        for w in problems.warnings {
            diags.warning(path, line, w);
        }
        for e in problems.errors {
            diags.error(path, line, e);
        }
    }
    keys
}

#[derive(Default)]
struct Problems {
    errors: Vec<String>,
    warnings: Vec<String>,
}

impl Problems {
    fn error(&mut self, message: String) {
        self.errors.push(message);
    }

    fn warning(&mut self, message: String) {
        self.warnings.push(message);
    }
}

/// The words of a line as classic's nexttok splits them: at blanks, up to
/// the first `#`.
fn words(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    let text = raw.split(|&b| b == b'#').next().unwrap_or_default();
    text.split(|b| matches!(b, b' ' | b'\t' | b'\r'))
        .filter(|w| !w.is_empty())
}

fn shown(word: &[u8]) -> String {
    String::from_utf8_lossy(word).into_owned()
}

fn parse_key_line(raw: &[u8], line: usize, problems: &mut Problems) -> Option<Key> {
    let mut words = words(raw);
    let id_word = words.next()?;
    let id = match std::str::from_utf8(id_word).ok()?.parse::<u64>() {
        Ok(0) | Err(_) => {
            problems.error(format!(
                "\"{}\" is not a key ID (1-{MAX_KEY_ID})",
                shown(id_word)
            ));
            return None;
        }
        Ok(n) if n > MAX_KEY_ID as u64 => {
            problems.error(format!(
                "key ID {n} is above {MAX_KEY_ID} (the IDs above are Autokey's)"
            ));
            return None;
        }
        Ok(n) => n as u32,
    };
    let Some(kind) = words.next() else {
        problems.error(format!("key {id}: no key type (expected KEYID TYPE KEY)"));
        return None;
    };
    let algorithm = std::str::from_utf8(kind)
        .ok()
        .and_then(Algorithm::from_name);
    let Some(secret_word) = words.next() else {
        problems.error(format!("key {id}: no key (expected KEYID TYPE KEY)"));
        return None;
    };
    let secret = secret(id, secret_word, problems)?;
    let access = match words.next() {
        Some(list) => access_list(id, list, problems)?,
        None => Vec::new(),
    };
    if let Some(extra) = words.next() {
        problems.warning(format!(
            "key {id}: text after the address list ignored: \"{}\"",
            shown(extra)
        ));
    }
    let Some(algorithm) = algorithm else {
        let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
        problems.warning(format!(
            "key {id}: unknown key type \"{}\" (known: {}); key ignored",
            shown(kind),
            names.join(", ")
        ));
        return None;
    };
    if let Some(needed) = algorithm.required_key_len() {
        if secret.len() != needed {
            let how = if secret.len() < needed {
                "zero-padded"
            } else {
                "cut"
            };
            problems.warning(format!(
                "key {id}: {algorithm} takes a {needed}-byte key ({} hex digits); this \
                 {}-byte key is {how} to {needed} bytes, as classic ntpd does",
                2 * needed,
                secret.len()
            ));
        }
    }
    Some(Key {
        id,
        algorithm,
        secret,
        access,
        line,
    })
}

/// The secret of a key word: up to 20 bytes as they are, otherwise hex.
fn secret(id: u32, word: &[u8], problems: &mut Problems) -> Option<Vec<u8>> {
    if word.len() <= MAX_ASCII_KEY_LEN {
        return Some(word.to_vec());
    }
    if let Some(bad) = word.iter().find(|b| !b.is_ascii_hexdigit()) {
        problems.error(format!(
            "key {id}: a key longer than {MAX_ASCII_KEY_LEN} characters is hex, and \"{}\" \
             is not a hex digit",
            shown(std::slice::from_ref(bad))
        ));
        return None;
    }
    let mut digits = word;
    if digits.len() > MAX_HEX_DIGITS {
        problems.warning(format!(
            "key {id}: {} hex digits; only the first {MAX_HEX_DIGITS} ({MAX_SECRET_LEN} bytes) \
             are used, as in classic ntpd",
            digits.len()
        ));
        digits = &digits[..MAX_HEX_DIGITS];
    }
    if digits.len() % 2 != 0 {
        problems.warning(format!(
            "key {id}: an odd number of hex digits ({}); the last one is ignored, as in \
             classic ntpd",
            digits.len()
        ));
    }
    let nibble = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
    Some(
        digits
            .chunks_exact(2)
            .map(|pair| (nibble(pair[0]) << 4) | nibble(pair[1]))
            .collect(),
    )
}

/// `ADDR[/BITS],ADDR[/BITS],...`.
fn access_list(id: u32, word: &[u8], problems: &mut Problems) -> Option<Vec<Access>> {
    let text = String::from_utf8_lossy(word);
    let mut list = Vec::new();
    let mut ok = true;
    for item in text.split(',') {
        let (addr_text, bits) = match item.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (item, None),
        };
        let Ok(addr) = addr_text.parse::<IpAddr>() else {
            problems.error(format!("key {id}: \"{item}\" is not an IP address"));
            ok = false;
            continue;
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match bits.map(str::parse::<u8>) {
            None => None,
            Some(Ok(n)) if n <= max => Some(n),
            Some(Ok(n)) if n > max && n < u8::MAX => {
                problems.warning(format!(
                    "key {id}: \"/{n}\" is longer than an address ({max} bits); the whole \
                     address is used"
                ));
                None
            }
            Some(_) => {
                problems.error(format!(
                    "key {id}: \"{item}\" has no prefix length after the \"/\" (0-{max})"
                ));
                ok = false;
                continue;
            }
        };
        list.push(Access::new(addr, prefix));
    }
    ok.then_some(list)
}

/// The OS error text without Rust's " (os error N)" suffix, as C tools say it.
pub fn os_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn trusted_key_lists_and_ranges() {
        let w = words("4 8 42");
        assert_eq!(
            parse_trustedkey(&mut Args::new("trustedkey", &w)).unwrap(),
            [4, 8, 42]
        );
        let w = words("1 (10 ... 12) ( 20 ... 21 )");
        assert_eq!(
            parse_trustedkey(&mut Args::new("trustedkey", &w)).unwrap(),
            [1, 10, 11, 12, 20, 21]
        );
        assert!(parse_trustedkey(&mut Args::new("trustedkey", &words("0"))).is_err());
        assert!(parse_trustedkey(&mut Args::new("trustedkey", &words("(5 ... 1)"))).is_err());
        let w = words("8");
        assert_eq!(parse_single_key(&mut Args::new("requestkey", &w)), Ok(8));
        let w = words("8 9");
        assert!(parse_single_key(&mut Args::new("controlkey", &w)).is_err());
    }

    #[test]
    fn keys_missing_from_the_keys_file_are_named() {
        let (keys, _) = parse("1 MD5 one\n2 SHA1 two\n");
        let path = Some(Path::new("/etc/ntp/keys"));
        assert_eq!(missing_keys("trustedkey", &[1, 2], path, &keys), None);
        assert_eq!(
            missing_keys("trustedkey", &[1, 7], path, &keys).as_deref(),
            Some("trustedkey 7: no such key in /etc/ntp/keys")
        );
        assert_eq!(
            missing_keys("controlkey", &[9], path, &keys).as_deref(),
            Some("controlkey 9: no such key in /etc/ntp/keys")
        );
        let range: Vec<u32> = (1..=20).collect();
        assert_eq!(
            missing_keys("trustedkey", &range, path, &keys).as_deref(),
            Some("trustedkey 3 4 5 6 7 8 9 10 and 10 more: no such keys in /etc/ntp/keys")
        );
        // No keys file read (yet), or nothing read from it: nothing to say.
        assert_eq!(missing_keys("trustedkey", &[7], None, &keys), None);
        assert_eq!(missing_keys("trustedkey", &[7], path, &[]), None);
    }

    fn parse(text: &str) -> (Vec<Key>, Vec<String>) {
        let mut d = Diagnostics::default();
        let keys = parse_keys(text.as_bytes(), Path::new("keys"), &mut d);
        (keys, d.items.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn keys_file_lines() {
        let (keys, diags) = parse(
            "# comment\n1 M secret # note\n2 SHA1 0123456789abcdef0123456789ABCDEF01234567\n\
             \n   3 aes128cmac 000102030405060708090a0b0c0d0e0f\r\n4 sha256 pass#word\n",
        );
        assert_eq!(diags, Vec::<String>::new());
        let ids: Vec<u32> = keys.iter().map(|k| k.id).collect();
        assert_eq!(ids, [1, 2, 3, 4]);
        assert_eq!(keys[0].algorithm, Algorithm::Md5);
        assert_eq!(keys[0].secret, b"secret");
        assert_eq!(keys[1].secret.len(), 20);
        assert_eq!(keys[1].secret[19], 0x67);
        assert_eq!(keys[2].algorithm, Algorithm::Aes128Cmac);
        assert_eq!(keys[2].secret, (0..16).collect::<Vec<u8>>());
        assert_eq!((keys[2].line, keys[3].secret.as_slice()), (5, &b"pass"[..]));
    }

    #[test]
    fn what_classic_rejects_is_an_error_with_its_line() {
        let (keys, diags) = parse(
            "0 MD5 x\n70000 MD5 x\nkey MD5 x\n5\n6 MD5\n7 MD5 0123456789abcdef0123456789abcdefxx\n\
             8 MD5 x 10.0.0.1,nonsense\n9 MD5 y\n9 SHA1 z\n",
        );
        assert_eq!(keys.iter().map(|k| k.id).collect::<Vec<_>>(), [9]);
        assert_eq!(
            diags,
            [
                "keys:1: \"0\" is not a key ID (1-65535)",
                "keys:2: key ID 70000 is above 65535 (the IDs above are Autokey's)",
                "keys:3: \"key\" is not a key ID (1-65535)",
                "keys:4: key 5: no key type (expected KEYID TYPE KEY)",
                "keys:5: key 6: no key (expected KEYID TYPE KEY)",
                "keys:6: key 7: a key longer than 20 characters is hex, and \"x\" is not a hex digit",
                "keys:7: key 8: \"nonsense\" is not an IP address",
                "keys:9: key 9 is defined again (first on line 8); give each key its own ID",
            ]
        );
    }

    #[test]
    fn what_classic_accepts_or_skips_is_a_warning() {
        let (keys, diags) = parse(
            "1 FOO x\n2 AES128CMAC short\n3 AES128CMAC 000102030405060708090a0b0c0d0e0f10\n\
             4 SHA1 0123456789abcdef0123456789abcdef012345678\n",
        );
        assert_eq!(keys.iter().map(|k| k.id).collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(keys[1].secret.len(), 17);
        assert_eq!(keys[2].secret.len(), 20);
        assert_eq!(
            diags,
            [
                "keys:1: warning: key 1: unknown key type \"FOO\" (known: MD5, SHA1, SHA224, SHA256, SHA384, SHA512, AES128CMAC); key ignored",
                "keys:2: warning: key 2: AES128CMAC takes a 16-byte key (32 hex digits); this 5-byte key is zero-padded to 16 bytes, as classic ntpd does",
                "keys:3: warning: key 3: AES128CMAC takes a 16-byte key (32 hex digits); this 17-byte key is cut to 16 bytes, as classic ntpd does",
                "keys:4: warning: key 4: an odd number of hex digits (41); the last one is ignored, as in classic ntpd",
            ]
        );
        let long = format!("5 SHA1 {}\n", "ab".repeat(40));
        let (keys, diags) = parse(&long);
        assert_eq!(keys[0].secret.len(), 32);
        assert_eq!(diags.len(), 1);
        assert!(diags[0].contains("only the first 64"), "{diags:?}");
    }

    #[test]
    fn address_lists() {
        let (keys, diags) = parse("1 MD5 x 10.0.0.0/8,::1,192.0.2.1/40\n");
        assert_eq!(
            diags,
            ["keys:1: warning: key 1: \"/40\" is longer than an address (32 bits); the whole address is used"]
        );
        let a = &keys[0].access;
        assert_eq!(a.len(), 3);
        assert!(a[0].contains("10.9.8.7".parse().unwrap()));
        assert!(!a[0].contains("11.0.0.1".parse().unwrap()));
        assert!(a[1].contains("::1".parse().unwrap()));
        assert!(!a[1].contains("127.0.0.1".parse().unwrap()));
        assert!(a[2].contains("192.0.2.1".parse().unwrap()));
        assert!(!a[2].contains("192.0.2.2".parse().unwrap()));
        assert!(
            Access::new("0.0.0.0".parse().unwrap(), Some(0)).contains("8.8.8.8".parse().unwrap())
        );
    }

    #[test]
    fn a_keys_file_others_can_read_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, "1 M secret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut d = Diagnostics::default();
        assert_eq!(read_keys_file(&path, &mut d).unwrap().len(), 1);
        assert_eq!(d.items.len(), 1);
        assert_eq!(d.items[0].line, 0);
        assert!(d.items[0].message.contains("mode 0644"), "{:?}", d.items);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut d = Diagnostics::default();
        read_keys_file(&path, &mut d).unwrap();
        assert!(d.items.is_empty());
        assert!(read_keys_file(&dir.path().join("none"), &mut d).is_err());
    }
}
