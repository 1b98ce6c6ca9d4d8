//! Problems found in a configuration: each one tied to the file and line it
//! came from, printed as `FILE:LINE: message` (warnings as
//! `FILE:LINE: warning: message`), the way compilers and classic tools do.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The daemon would not run as the administrator intended: `--check`
    /// exits 1 and ntpd refuses to start.
    Error,
    /// Ignored or defaulted, as classic ntpd would log and carry on.
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    /// 1-based line number; 0 when the problem is about the file as a whole.
    pub line: usize,
    pub message: String,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        let place = if self.line == 0 {
            format!("{file}")
        } else {
            format!("{file}:{}", self.line)
        };
        match self.severity {
            Severity::Error => write!(f, "{place}: {}", self.message),
            Severity::Warning => write!(f, "{place}: warning: {}", self.message),
        }
    }
}

/// Everything found while loading one configuration, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn error(&mut self, file: &Path, line: usize, message: impl Into<String>) {
        self.push(Severity::Error, file, line, message.into());
    }

    pub fn warning(&mut self, file: &Path, line: usize, message: impl Into<String>) {
        self.push(Severity::Warning, file, line, message.into());
    }

    fn push(&mut self, severity: Severity, file: &Path, line: usize, message: String) {
        self.items.push(Diagnostic {
            severity,
            file: file.to_path_buf(),
            line,
            message,
        });
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_warnings_print_as_file_line_message() {
        let mut d = Diagnostics::default();
        d.error(Path::new("/etc/ntp.conf"), 7, "server: missing address");
        d.warning(Path::new("/etc/ntp.conf"), 9, "crypto is not implemented");
        d.warning(Path::new("/etc/ntp/keys"), 0, "cannot read");
        let lines: Vec<String> = d.items.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "/etc/ntp.conf:7: server: missing address",
                "/etc/ntp.conf:9: warning: crypto is not implemented",
                "/etc/ntp/keys: warning: cannot read",
            ]
        );
        assert!(d.has_errors());
    }
}
