//! Finding the zone a `TZ` value names, the way glibc's `tzset` does:
//! - `TZ` unset: the file /etc/localtime (UT named "UTC" if unreadable);
//! - `TZ=""`: the zone "Universal";
//! - `TZ=":Zone"` or `TZ="Zone"`: the file Zone under `$TZDIR` (or
//!   /usr/share/zoneinfo), or the absolute path Zone;
//! - otherwise a POSIX TZ string, whatever part of it glibc understands.

use std::cell::Cell;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::error::TzError;
use super::posix::PosixTz;
use super::tzif;
use super::zone::Zone;

/// Where zone files live unless `TZDIR` says otherwise.
pub const DEFAULT_TZDIR: &str = "/usr/share/zoneinfo";
/// The system's default zone, used when `TZ` is unset.
pub const TZDEFAULT: &str = "/etc/localtime";
/// The zone whose rules a TZ string without rules borrows ("EST5EDT").
pub const TZDEFRULES: &str = "posixrules";
/// The zone an empty `TZ` means.
const EMPTY_TZ_ZONE: &[u8] = b"Universal";
/// The abbreviation of the fallback UT zone.
const FALLBACK_UTC_NAME: &[u8] = b"UTC";

/// Where to look for zone files.
///
/// It also carries the one piece of state glibc keeps between zones that
/// changes results, its `rule_dstoff` (see [`Zone::from_posixrules`]):
/// set by reading a zone file without transitions (to its offset) and by
/// borrowing `posixrules` (to the TZ string's DST offset). (glibc also
/// skips re-reading an unchanged `TZ`, but not after borrowing
/// `posixrules`, so that cache never changes a result.)
#[derive(Clone, Debug)]
pub struct ZoneDir {
    dir: PathBuf,
    rule_dst: Cell<i32>,
}

impl ZoneDir {
    /// `tzdir` as `$TZDIR` would give it: unset or empty means the default.
    pub fn new(tzdir: Option<&OsStr>) -> ZoneDir {
        let dir = match tzdir {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => PathBuf::from(DEFAULT_TZDIR),
        };
        ZoneDir {
            dir,
            rule_dst: Cell::new(0),
        }
    }

    /// The zone directory named by the `TZDIR` environment variable.
    pub fn from_env() -> ZoneDir {
        ZoneDir::new(std::env::var_os("TZDIR").as_deref())
    }

    /// The path of zone file `name`: itself if absolute, else under the dir.
    pub fn path_of(&self, name: &[u8]) -> PathBuf {
        let name = Path::new(OsStr::from_bytes(name));
        if name.is_absolute() {
            name.to_path_buf()
        } else {
            self.dir.join(name)
        }
    }

    /// Reads and parses zone file `name`; None if glibc would not use it.
    fn read_zone_file(&self, name: &[u8]) -> Option<tzif::TzifData> {
        if name.is_empty() {
            return None;
        }
        let bytes = std::fs::read(self.path_of(name)).ok()?;
        let data = tzif::parse(&bytes).ok()?;
        if data.transitions.is_empty() {
            self.rule_dst.set(data.types[0].utoff);
        }
        Some(data)
    }

    /// The zone a `TZ` value names (None = `TZ` unset), exactly as glibc
    /// resolves it. Never fails: what glibc cannot use becomes UT.
    pub fn resolve(&self, tz: Option<&[u8]>) -> Zone {
        let tz = match tz {
            Some(b"") => Some(EMPTY_TZ_ZONE),
            other => other,
        };
        let tz = tz.map(|v| v.strip_prefix(b":").unwrap_or(v));
        let file = tz.unwrap_or(TZDEFAULT.as_bytes());
        match self.read_zone_file(file) {
            Some(data) => Zone::from_tzif(data),
            None => match tz {
                Some(v) if !v.is_empty() && v != TZDEFAULT.as_bytes() => {
                    self.zone_from_tz_string(v)
                }
                _ => Zone::from_posix(PosixTz::fixed(FALLBACK_UTC_NAME, 0)),
            },
        }
    }

    /// A zone from a TZ string, borrowing `posixrules` when it has no rules.
    fn zone_from_tz_string(&self, s: &[u8]) -> Zone {
        let tz = PosixTz::parse_lenient(s);
        if tz.wants_posixrules {
            if let Some(data) = self.read_zone_file(TZDEFRULES.as_bytes()) {
                if let Some(zone) = Zone::from_posixrules(data, &tz, self.rule_dst.get()) {
                    self.rule_dst.set(tz.rules[1].offset);
                    return zone;
                }
            }
        }
        Zone::from_posix(tz)
    }

    /// The zone `name` names, strictly: a zone file that exists must be
    /// valid, and anything else must be a complete POSIX TZ string.
    pub fn load(&self, name: &str) -> Result<Zone, TzError> {
        let bare = name.strip_prefix(':').unwrap_or(name);
        if !bare.is_empty() {
            let path = self.path_of(bare.as_bytes());
            match std::fs::read(&path) {
                Ok(bytes) => {
                    return tzif::parse(&bytes)
                        .map(Zone::from_tzif)
                        .map_err(|source| TzError::Tzif { path, source });
                }
                Err(e) if path.is_file() => return Err(TzError::Io { path, source: e }),
                Err(_) => {}
            }
        }
        PosixTz::parse(bare).map_err(|source| TzError::Unknown {
            name: name.to_string(),
            source,
        })?;
        Ok(self.zone_from_tz_string(bare.as_bytes()))
    }
}

impl Zone {
    /// The zone of this process's environment (`TZ`, `TZDIR`), as glibc
    /// would use it.
    pub fn from_env() -> Zone {
        let tz = std::env::var_os("TZ");
        ZoneDir::from_env().resolve(tz.as_deref().map(OsStrExt::as_bytes))
    }

    /// The zone `TZ=value` would give, with zone files from `$TZDIR`.
    pub fn named(value: &[u8]) -> Zone {
        ZoneDir::from_env().resolve(Some(value))
    }

    /// Strict loading: see [`ZoneDir::load`].
    pub fn load(name: &str) -> Result<Zone, TzError> {
        ZoneDir::from_env().load(name)
    }
}
