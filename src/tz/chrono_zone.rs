//! chrono's `TimeZone` for our zones, so that every applet formats local
//! time with chrono and gets the same zone data (and the same answers) as
//! the C library: `LocalZone::from_env().timestamp_opt(secs, 0)`, then
//! `.format("%Y-%m-%d %H:%M:%S %Z")`, where `%Z` prints the abbreviation.
//!
//! For a zone that counts leap seconds (`right/...`), the offset includes
//! the leap correction, as glibc's `localtime` does.

use std::fmt;
use std::sync::Arc;

use chrono::{FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeZone};

use super::zone::{Zone, ZoneState};

/// Largest offset chrono's `FixedOffset` accepts (it must be under a day).
const MAX_FIXED_OFFSET: i64 = 86_399;
/// How far around a local time to look for the offsets that could map to it.
const LOCAL_SEARCH_SECS: i64 = 2 * 86_400;
/// At most this many state changes are examined around one local time.
const LOCAL_SEARCH_STEPS: usize = 64;

/// A shareable zone for chrono.
#[derive(Clone, Debug)]
pub struct LocalZone(Arc<Zone>);

/// The offset chrono stores in a `DateTime<LocalZone>`: the local time type
/// in effect, and the zone it came from.
#[derive(Clone, Debug)]
pub struct ZoneOffset {
    zone: LocalZone,
    /// Seconds east of UT, as C's `tm_gmtoff`.
    pub utoff: i32,
    pub isdst: bool,
    /// Leap seconds subtracted (nonzero only for `right/` zones).
    pub leap_correction: i32,
    abbr: Arc<str>,
}

impl ZoneOffset {
    /// The time zone abbreviation ("CET", "EDT", "+0330").
    pub fn abbreviation(&self) -> &str {
        &self.abbr
    }

    /// Seconds to add to UT to get local time.
    fn effective(&self) -> i64 {
        i64::from(self.utoff) - i64::from(self.leap_correction)
    }
}

impl fmt::Display for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.abbr)
    }
}

impl Offset for ZoneOffset {
    fn fix(&self) -> FixedOffset {
        let secs = self.effective().clamp(-MAX_FIXED_OFFSET, MAX_FIXED_OFFSET);
        FixedOffset::east_opt(secs as i32).unwrap_or_else(|| Offset::fix(&chrono::Utc))
    }
}

impl LocalZone {
    pub fn new(zone: Zone) -> LocalZone {
        LocalZone(Arc::new(zone))
    }

    /// The zone of this process's environment (`TZ`, `TZDIR`).
    pub fn from_env() -> LocalZone {
        LocalZone::new(Zone::from_env())
    }

    pub fn zone(&self) -> &Zone {
        &self.0
    }

    fn offset_at(&self, t: i64) -> ZoneOffset {
        let state = self.0.state_at(t).unwrap_or(ZoneState {
            utoff: 0,
            isdst: false,
            abbr: b"UTC",
            leap_correction: 0,
            leap_hit: 0,
        });
        ZoneOffset {
            zone: self.clone(),
            utoff: state.utoff,
            isdst: state.isdst,
            leap_correction: state.leap_correction,
            abbr: Arc::from(String::from_utf8_lossy(state.abbr).as_ref()),
        }
    }

    /// Every offset in effect within `LOCAL_SEARCH_SECS` of `around`.
    fn nearby_offsets(&self, around: i64) -> Vec<ZoneOffset> {
        let end = around.saturating_add(LOCAL_SEARCH_SECS);
        let mut t = around.saturating_sub(LOCAL_SEARCH_SECS);
        let mut found = vec![self.offset_at(t)];
        for _ in 0..LOCAL_SEARCH_STEPS {
            match self.0.next_change_after(t) {
                Some(next) if next <= end => {
                    t = next;
                    found.push(self.offset_at(t));
                }
                _ => break,
            }
        }
        found
    }
}

impl TimeZone for LocalZone {
    type Offset = ZoneOffset;

    fn from_offset(offset: &ZoneOffset) -> LocalZone {
        offset.zone.clone()
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<ZoneOffset> {
        match local.and_hms_opt(0, 0, 0) {
            Some(midnight) => self.offset_from_local_datetime(&midnight),
            None => MappedLocalTime::None,
        }
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<ZoneOffset> {
        let wall = local.and_utc().timestamp();
        let mut matches: Vec<(i64, ZoneOffset)> = Vec::new();
        for candidate in self.nearby_offsets(wall) {
            let ut = wall - candidate.effective();
            let actual = self.offset_at(ut);
            if actual.effective() == candidate.effective() && !matches.iter().any(|(u, _)| *u == ut)
            {
                matches.push((ut, actual));
            }
        }
        matches.sort_by_key(|(ut, _)| *ut);
        let mut it = matches.into_iter().map(|(_, off)| off);
        match (it.next(), it.last()) {
            (None, _) => MappedLocalTime::None,
            (Some(one), None) => MappedLocalTime::Single(one),
            (Some(early), Some(late)) => MappedLocalTime::Ambiguous(early, late),
        }
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> ZoneOffset {
        let midnight = utc.and_hms_opt(0, 0, 0).unwrap_or_default();
        self.offset_from_utc_datetime(&midnight)
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> ZoneOffset {
        self.offset_at(utc.and_utc().timestamp())
    }
}
