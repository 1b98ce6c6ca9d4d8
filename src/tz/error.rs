//! Typed errors of the tz library.

use std::fmt;
use std::path::PathBuf;

/// Why a TZif file was rejected. The checks are the ones glibc makes before
/// it trusts a file, so a file rejected here is one glibc ignores too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TzifError {
    /// The file does not start with "TZif".
    BadMagic,
    /// The file ends before the named part.
    Truncated(&'static str),
    /// A header count is negative or absurdly large.
    BadCount(&'static str),
    /// More standard/wall or UT/local indicators than local time types.
    TooManyIndicators,
    /// The file declares no local time types.
    NoLocalTimeTypes,
    /// A transition names a local time type that does not exist.
    BadTypeIndex { transition: usize, index: u8 },
    /// A local time type's isdst byte is neither 0 nor 1.
    BadIsdst { local_type: usize, value: u8 },
    /// A local time type's abbreviation index points past the abbreviations.
    BadAbbreviationIndex { local_type: usize, index: u8 },
    /// No transition uses a standard-time type, yet there are several
    /// types: glibc aborts on such a file, so it is refused here.
    NoStandardType,
}

impl fmt::Display for TzifError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TzifError::BadMagic => write!(f, "not a TZif file (bad magic)"),
            TzifError::Truncated(what) => write!(f, "TZif file truncated in {what}"),
            TzifError::BadCount(what) => write!(f, "TZif header has a bad {what} count"),
            TzifError::TooManyIndicators => {
                write!(f, "TZif file has more indicators than local time types")
            }
            TzifError::NoLocalTimeTypes => write!(f, "TZif file has no local time types"),
            TzifError::BadTypeIndex { transition, index } => write!(
                f,
                "TZif transition {transition} uses local time type {index}, which does not exist"
            ),
            TzifError::BadIsdst { local_type, value } => {
                write!(
                    f,
                    "TZif local time type {local_type} has isdst byte {value}"
                )
            }
            TzifError::BadAbbreviationIndex { local_type, index } => write!(
                f,
                "TZif local time type {local_type} has abbreviation index {index} past the end"
            ),
            TzifError::NoStandardType => {
                write!(
                    f,
                    "TZif file has several types but no standard-time transition"
                )
            }
        }
    }
}

impl std::error::Error for TzifError {}

/// Why a POSIX TZ string was rejected by the strict parser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosixTzError {
    /// The string as given.
    pub input: String,
    /// Byte offset where parsing stopped.
    pub position: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl fmt::Display for PosixTzError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad TZ string \"{}\": expected {} at byte {}",
            self.input, self.expected, self.position
        )
    }
}

impl std::error::Error for PosixTzError {}

/// Why a zone could not be loaded by the strict loader.
#[derive(Debug)]
pub enum TzError {
    /// The zone file exists but could not be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The zone file is not a valid TZif file.
    Tzif { path: PathBuf, source: TzifError },
    /// No zone file of that name, and not a valid POSIX TZ string either.
    Unknown { name: String, source: PosixTzError },
}

impl fmt::Display for TzError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TzError::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            TzError::Tzif { path, source } => write!(f, "{}: {source}", path.display()),
            TzError::Unknown { name, source } => {
                write!(
                    f,
                    "unknown time zone \"{name}\" (no such zone file, and {source})"
                )
            }
        }
    }
}

impl std::error::Error for TzError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TzError::Io { source, .. } => Some(source),
            TzError::Tzif { source, .. } => Some(source),
            TzError::Unknown { source, .. } => Some(source),
        }
    }
}
