//! Authentication directives (`trustedkey`, `requestkey`, `controlkey`) and
//! the symmetric keys file named by `keys`.
//!
//! Keys file lines are `KEYID TYPE KEY [# comment]`: TYPE is `M`/`MD5`,
//! `SHA1`, `SHA`, `AES128CMAC`, ...; KEY is up to 20 printable characters,
//! or a hex string of more than 20 characters.

use std::path::Path;

use super::args::Args;
use super::assoc::MAX_KEY_ID;
use super::diag::Diagnostics;
use super::lexer;

/// An ASCII key is at most this long; longer keys are hex (4.2.8).
const MAX_ASCII_KEY_LEN: usize = 20;
/// Digest names classic and ntpsec accept in a keys file.
const KEY_TYPES: &[&str] = &[
    "M",
    "MD5",
    "SHA",
    "SHA1",
    "SHA224",
    "SHA256",
    "SHA384",
    "SHA512",
    "AES128CMAC",
    "AES-128-CMAC",
    "RMD160",
];

/// One key of the keys file.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    pub id: u32,
    /// Digest name as written, upper-cased (`MD5`, `SHA1`, ...); `M` is MD5.
    pub kind: String,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for Key {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key {{ id: {}, kind: {} }}", self.id, self.kind)
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

/// Reads a keys file. Bad lines are warnings (classic skips them); a file
/// that cannot be read is the caller's to report.
pub fn read_keys_file(path: &Path, diags: &mut Diagnostics) -> std::io::Result<Vec<Key>> {
    let text = String::from_utf8_lossy(&std::fs::read(path)?).into_owned();
    let mut keys: Vec<Key> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let words = match lexer::split(raw) {
            Ok(l) => l.words,
            Err(_) => {
                diags.warning(path, line, "unterminated quote; key ignored");
                continue;
            }
        };
        if words.is_empty() {
            continue;
        }
        match parse_key_line(&words) {
            Ok(key) => {
                keys.retain(|k| k.id != key.id);
                keys.push(key);
            }
            Err(e) => diags.warning(path, line, format!("{e}; key ignored")),
        }
    }
    Ok(keys)
}

fn parse_key_line(words: &[String]) -> Result<Key, String> {
    let [id, kind, secret, ..] = words else {
        return Err("expected KEYID TYPE KEY".into());
    };
    let id = match id.parse::<u32>() {
        Ok(n) if (1..=MAX_KEY_ID).contains(&n) => n,
        _ => return Err(format!("\"{id}\" is not a key ID (1-{MAX_KEY_ID})")),
    };
    let kind = kind.to_ascii_uppercase();
    if !KEY_TYPES.contains(&kind.as_str()) {
        return Err(format!("unknown key type \"{kind}\""));
    }
    let kind = if kind == "M" { "MD5".to_string() } else { kind };
    let secret = if secret.len() > MAX_ASCII_KEY_LEN {
        decode_hex(secret).ok_or("a key longer than 20 characters must be hex")?
    } else {
        secret.as_bytes().to_vec()
    };
    Ok(Key { id, kind, secret })
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
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
    fn keys_file_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(
            &path,
            "# comment\n1 M secret # note\n2 SHA1 0123456789abcdef0123456789abcdef01234567\n3 FOO x\n70000 MD5 x\n",
        )
        .unwrap();
        let mut d = Diagnostics::default();
        let keys = read_keys_file(&path, &mut d).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].kind, "MD5");
        assert_eq!(keys[0].secret, b"secret");
        assert_eq!(keys[1].secret.len(), 20);
        let lines: Vec<usize> = d.items.iter().map(|x| x.line).collect();
        assert_eq!(lines, [4, 5]);
        assert!(!d.has_errors());
        assert!(read_keys_file(&dir.path().join("none"), &mut d).is_err());
    }
}
