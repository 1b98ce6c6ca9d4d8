//! Reads ntp.conf and the files it includes, line by line, collecting every
//! problem with its file and line instead of stopping at the first.

use std::path::{Path, PathBuf};

use super::auth::{os_message, read_keys_file};
use super::diag::Diagnostics;
use super::directive::{apply, cross_checks, FollowUp};
use super::lexer::{self, LexError};
use super::model::{Config, Origin};

/// How deep `includefile` may nest (classic ntpd's MAXINCLUDELEVEL).
const MAX_INCLUDE_DEPTH: usize = 5;

/// A parsed configuration and everything found wrong with it.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub config: Config,
    pub diagnostics: Diagnostics,
}

/// Loads the configuration file at `path`. A file that cannot be read is an
/// error: the daemon would not be running the configuration intended.
pub fn load_file(path: &Path) -> Loaded {
    let mut loader = Loader::default();
    match read_text(path) {
        Ok(text) => loader.parse(path, &text, 0),
        Err(e) => loader.diags.error(
            path,
            0,
            format!("cannot read the configuration: {}", os_message(&e)),
        ),
    }
    loader.finish()
}

/// Parses configuration text; `name` is the file name used in messages and
/// the directory that relative `includefile` paths start from.
pub fn parse_str(text: &str, name: &Path) -> Loaded {
    let mut loader = Loader::default();
    loader.parse(name, text, 0);
    loader.finish()
}

fn read_text(path: &Path) -> std::io::Result<String> {
    // Lossy: a stray byte in a comment must not make the file unreadable.
    std::fs::read(path).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

#[derive(Default)]
struct Loader {
    config: Config,
    diags: Diagnostics,
}

impl Loader {
    fn parse(&mut self, file: &Path, text: &str, depth: usize) {
        for (index, raw) in text.lines().enumerate() {
            let origin = Origin {
                file: file.to_path_buf(),
                line: index + 1,
            };
            self.parse_line(raw, &origin, depth);
        }
    }

    fn parse_line(&mut self, raw: &str, origin: &Origin, depth: usize) {
        let (file, line) = (origin.file.as_path(), origin.line);
        let lexed = match lexer::split(raw) {
            Ok(lexed) => lexed,
            Err(LexError::UnterminatedQuote) => {
                self.diags.error(file, line, "unterminated quoted string");
                return;
            }
        };
        if lexed.slash_comment {
            self.diags.warning(
                file,
                line,
                "\"//\" does not start a comment in ntp.conf (use \"#\"); the rest of the line is ignored",
            );
        }
        let words = lexed.words;
        if words.is_empty() {
            return;
        }
        let mut warnings = Vec::new();
        let outcome = match words.iter().position(|w| !w.is_ascii()) {
            None => apply(&words, origin, &mut self.config, &mut warnings),
            Some(first_foreign) => {
                self.apply_annotated(&words, first_foreign, origin, &mut warnings)
            }
        };
        for w in warnings {
            self.diags.warning(file, line, w);
        }
        match outcome {
            Ok(FollowUp::None) => {}
            Ok(FollowUp::Include(path)) => self.include(origin, &path, depth),
            Ok(FollowUp::ReadKeys(path)) => {
                let path = relative_to(file, &path);
                self.config.keys = Some(path.clone());
                match read_keys_file(&path, &mut self.diags) {
                    Ok(keys) => self.config.keyring = keys,
                    Err(e) => self.diags.warning(
                        file,
                        line,
                        format!(
                            "keys {}: {}; running without keys",
                            path.display(),
                            os_message(&e)
                        ),
                    ),
                }
            }
            Err(message) => self.diags.error(file, line, message),
        }
    }

    /// Notes pasted into ntp.conf sometimes carry prose after a directive
    /// (a seed has `driftfile /var/lib/ntp/ntp.drift  非常的简单. ...`).
    /// When a line holding non-ASCII words does not parse, the longest
    /// leading part that does is applied and the rest reported as ignored.
    fn apply_annotated(
        &mut self,
        words: &[String],
        first_foreign: usize,
        origin: &Origin,
        warnings: &mut Vec<String>,
    ) -> Result<FollowUp, String> {
        let mut trial = self.config.clone();
        let mut trial_warnings = Vec::new();
        let whole = apply(words, origin, &mut trial, &mut trial_warnings);
        if whole.is_ok() {
            self.config = trial;
            warnings.append(&mut trial_warnings);
            return whole;
        }
        for end in (1..=first_foreign).rev() {
            let mut trial = self.config.clone();
            let mut trial_warnings = Vec::new();
            if let Ok(follow) = apply(&words[..end], origin, &mut trial, &mut trial_warnings) {
                self.config = trial;
                warnings.append(&mut trial_warnings);
                warnings.push(format!(
                    "ignoring text that is not ntp.conf syntax: \"{}\"",
                    words[end..].join(" ")
                ));
                return Ok(follow);
            }
        }
        whole
    }

    fn include(&mut self, origin: &Origin, path: &Path, depth: usize) {
        let (file, line) = (origin.file.as_path(), origin.line);
        if depth + 1 > MAX_INCLUDE_DEPTH {
            self.diags.error(
                file,
                line,
                format!(
                    "includefile {}: nested more than {MAX_INCLUDE_DEPTH} deep (does it include itself?)",
                    path.display()
                ),
            );
            return;
        }
        let resolved = relative_to(file, path);
        match read_text(&resolved) {
            Ok(text) => self.parse(&resolved, &text, depth + 1),
            Err(e) => self.diags.warning(
                file,
                line,
                format!(
                    "includefile {}: {}; ignored",
                    path.display(),
                    os_message(&e)
                ),
            ),
        }
    }

    fn finish(mut self) -> Loaded {
        for (origin, message) in cross_checks(&self.config) {
            self.diags.warning(&origin.file, origin.line, message);
        }
        Loaded {
            config: self.config,
            diagnostics: self.diags,
        }
    }
}

/// A relative path in a configuration file starts from that file's
/// directory (classic ntpd would use its working directory, which for a
/// daemon is `/`; absolute paths, the usual case, behave the same).
fn relative_to(file: &Path, path: &Path) -> PathBuf {
    match file.parent() {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}
