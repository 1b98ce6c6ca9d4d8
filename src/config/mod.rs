//! ntp.conf and keys-file parsers.
//!
//! The classic ntpd grammar (ntp.conf(5)) into a typed [`Config`], with every
//! problem reported as `FILE:LINE: message`. Errors mean the daemon would not
//! run as written; warnings are what classic ntpd logs and ignores (a
//! missing `includefile` or keys file, `crypto`, a `fudge` for a clock that
//! is not configured). Nothing here resolves names or opens sockets.

pub mod address;
pub mod args;
pub mod assoc;
pub mod auth;
pub mod diag;
pub mod directive;
pub mod lexer;
pub mod loader;
pub mod model;
pub mod monitoring;
pub mod restrict;
pub mod system;

pub use auth::Key;
pub use diag::{Diagnostic, Diagnostics, Severity};
pub use loader::{load_file, parse_str, Loaded};
pub use model::*;
pub use restrict::{RestrictFlags, RestrictTarget, Restriction};

/// Where classic ntpd looks for its configuration.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/ntp.conf";

#[cfg(test)]
mod tests;
