//! Local time for hwclock: the RTC in local time, the `--date` forms
//! without a zone, and the displayed offset all use the local zone that TZ
//! (or /etc/localtime) names, through the project's `tz` module.

use chrono::{MappedLocalTime, NaiveDateTime, Offset, TimeZone};

use crate::tz::LocalZone;

/// One hour, in seconds: how far a local time in a DST gap is moved forward.
const DST_GAP_SHIFT: i64 = 3600;

/// Converts between UTC instants and local civil times.
pub trait Zone {
    /// Seconds east of UTC at the UTC instant `t` (Unix seconds).
    fn offset_at(&self, t: i64) -> i32;
    /// The Unix seconds of local civil time `local`. A time that occurs
    /// twice (DST ending) is the first one; a time that does not occur (DST
    /// starting) is moved forward by the gap, as mktime(3) does.
    fn to_utc(&self, local: NaiveDateTime) -> Option<i64>;
}

/// The process's local zone (TZ, TZDIR, /etc/localtime).
pub struct SystemZone(LocalZone);

impl SystemZone {
    pub fn from_env() -> SystemZone {
        SystemZone(LocalZone::from_env())
    }
}

impl Zone for SystemZone {
    fn offset_at(&self, t: i64) -> i32 {
        match self.0.timestamp_opt(t, 0) {
            MappedLocalTime::Single(d) | MappedLocalTime::Ambiguous(d, _) => {
                d.offset().fix().local_minus_utc()
            }
            MappedLocalTime::None => 0,
        }
    }

    fn to_utc(&self, local: NaiveDateTime) -> Option<i64> {
        match self.0.from_local_datetime(&local) {
            MappedLocalTime::Single(d) | MappedLocalTime::Ambiguous(d, _) => Some(d.timestamp()),
            MappedLocalTime::None => {
                let later = local.checked_add_signed(chrono::TimeDelta::seconds(DST_GAP_SHIFT))?;
                self.0
                    .from_local_datetime(&later)
                    .earliest()
                    .map(|d| d.timestamp())
            }
        }
    }
}

/// A fixed offset, for tests.
#[cfg(test)]
pub struct FixedZone(pub i32);

#[cfg(test)]
impl Zone for FixedZone {
    fn offset_at(&self, _t: i64) -> i32 {
        self.0
    }
    fn to_utc(&self, local: NaiveDateTime) -> Option<i64> {
        Some(local.and_utc().timestamp() - i64::from(self.0))
    }
}

/// The local civil time of the UTC instant `t`.
pub fn to_local(zone: &dyn Zone, t: i64) -> Option<NaiveDateTime> {
    let shifted = t.checked_add(i64::from(zone.offset_at(t)))?;
    chrono::DateTime::from_timestamp(shifted, 0).map(|d| d.naive_utc())
}
