//! Local time: the one implementation every applet uses.
//!
//! - [`tzif`] reads TZif files, versions 1 to 4 (RFC 9636), with leap seconds;
//! - [`posix`] parses POSIX TZ strings, including TZif version 3 extensions;
//! - [`zone`] converts UT to local time for any 64-bit time;
//! - [`transitions`] finds transitions as tzcode's zdump does, quickly;
//! - [`lookup`] finds the zone a `TZ` value names, as glibc does;
//! - [`chrono_zone`] lets chrono format local time with our zones.
//!
//! The answers are glibc's (the C library this project replaces the tools
//! of), down to its corner cases, so that output matches the classic tools
//! byte for byte. Malformed input gives typed errors, never a panic.

pub mod chrono_zone;
pub mod civil;
pub mod error;
pub mod lookup;
pub mod posix;
mod posix_time;
pub mod transitions;
pub mod tzif;
pub mod tzif_write;
pub mod zone;

pub use chrono_zone::{LocalZone, ZoneOffset};
pub use civil::BrokenDown;
pub use error::{PosixTzError, TzError, TzifError};
pub use lookup::ZoneDir;
pub use posix::PosixTz;
pub use zone::{LocalTime, Zone, ZoneState};
