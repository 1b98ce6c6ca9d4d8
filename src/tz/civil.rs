//! Proleptic Gregorian calendar arithmetic on 64-bit second counts.
//!
//! This is the `struct tm` side of the library: breaking a count of seconds
//! since 1970 into a calendar date and time of day, as glibc's `__offtime`
//! does, including its one failure mode (a year that does not fit the C
//! `int` field `tm_year`).

/// Seconds in a day.
pub const SECS_PER_DAY: i64 = 86_400;
/// Seconds in an hour.
pub const SECS_PER_HOUR: i64 = 3_600;
/// `tm_year` counts years from 1900.
pub const TM_YEAR_BASE: i64 = 1900;
/// 1970-01-01 was a Thursday (weekday 4, counting Sunday as 0).
const EPOCH_WEEKDAY: i64 = 4;

/// The earliest year whose `tm_year` (year - 1900) fits a C `int`.
pub const MIN_YEAR: i64 = i32::MIN as i64 + TM_YEAR_BASE;
/// The latest year whose `tm_year` fits a C `int`.
pub const MAX_YEAR: i64 = i32::MAX as i64 + TM_YEAR_BASE;

/// A broken-down time, the fields of C's `struct tm` that describe a moment.
/// `sec` may be 60 (or more) during an inserted leap second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokenDown {
    /// The full year (not year - 1900); always within `MIN_YEAR..=MAX_YEAR`.
    pub year: i64,
    /// Month, 0 = January.
    pub mon: u32,
    /// Day of the month, 1-based.
    pub mday: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// Day of the week, 0 = Sunday.
    pub wday: u32,
    /// Day of the year, 0-based.
    pub yday: u32,
}

pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days from 1970-01-01 to the first day of `month` (1-12) of `year`,
/// plus `day - 1`. Exact for any year that fits, without overflow for
/// |year| < 2^40.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Shift the year to start in March so the leap day is last.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar date of a day count since 1970-01-01: (year, month 1-12, day).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The second count of January 1, 00:00:00 UT, of `year`.
pub fn year_start(year: i64) -> i64 {
    days_from_civil(year, 1, 1) * SECS_PER_DAY
}

/// The first second that `offtime` can represent (January 1 of `MIN_YEAR`).
pub fn first_representable() -> i64 {
    year_start(MIN_YEAR)
}

/// The last second that `offtime` can represent (December 31 of `MAX_YEAR`).
pub fn last_representable() -> i64 {
    year_start(MAX_YEAR + 1) - 1
}

/// Breaks `t + offset` seconds into a calendar time, like glibc's
/// `__offtime`. None when the year does not fit `tm_year`.
pub fn offtime(t: i64, offset: i64) -> Option<BrokenDown> {
    // Split first, as glibc does, so that t near i64::MAX cannot overflow.
    let mut days = t / SECS_PER_DAY;
    let rem = t % SECS_PER_DAY + offset;
    days += rem.div_euclid(SECS_PER_DAY);
    let rem = rem.rem_euclid(SECS_PER_DAY);
    let (year, month, mday) = civil_from_days(days);
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return None;
    }
    let yday = days - days_from_civil(year, 1, 1);
    Some(BrokenDown {
        year,
        mon: month - 1,
        mday,
        hour: (rem / SECS_PER_HOUR) as u32,
        min: (rem % SECS_PER_HOUR / 60) as u32,
        sec: (rem % 60) as u32,
        wday: (EPOCH_WEEKDAY + days).rem_euclid(7) as u32,
        yday: yday as u32,
    })
}

/// The year of `t` in UT, or None outside the representable range.
pub fn utc_year(t: i64) -> Option<i64> {
    let (year, _, _) = civil_from_days(t.div_euclid(SECS_PER_DAY));
    (MIN_YEAR..=MAX_YEAR).contains(&year).then_some(year)
}

/// Number of leap days in years 1..=y (proleptic, floor arithmetic).
fn leaps_through(y: i64) -> i64 {
    y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)
}

/// Seconds from `old` to `new` computed from their calendar fields, as
/// tzcode's zdump `delta()` does. Differs from the difference of the
/// second counts exactly when an offset or a leap second intervened.
pub fn calendar_delta(new: &BrokenDown, old: &BrokenDown) -> i64 {
    let years = new.year - old.year;
    let days = years * 365 + leaps_through(new.year - 1) - leaps_through(old.year - 1)
        + i64::from(new.yday)
        - i64::from(old.yday);
    let hours = days * 24 + i64::from(new.hour) - i64::from(old.hour);
    let mins = hours * 60 + i64::from(new.min) - i64::from(old.min);
    mins * 60 + i64::from(new.sec) - i64::from(old.sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_thursday_1970() {
        let tm = offtime(0, 0).unwrap();
        assert_eq!(
            (tm.year, tm.mon, tm.mday, tm.wday, tm.yday),
            (1970, 0, 1, 4, 0)
        );
    }

    #[test]
    fn negative_times_round_down() {
        let tm = offtime(-1, 0).unwrap();
        assert_eq!(
            (tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.sec),
            (1969, 11, 31, 23, 59, 59)
        );
        assert_eq!(tm.wday, 3);
        assert_eq!(tm.yday, 364);
    }

    #[test]
    fn offsets_cross_days() {
        let tm = offtime(0, -3600).unwrap();
        assert_eq!((tm.year, tm.mday, tm.hour), (1969, 31, 23));
    }

    #[test]
    fn year_limits_match_tm_year() {
        assert!(offtime(last_representable(), 0).is_some());
        assert!(offtime(last_representable() + 1, 0).is_none());
        assert!(offtime(first_representable(), 0).is_some());
        assert!(offtime(first_representable() - 1, 0).is_none());
        assert!(offtime(i64::MAX, 0).is_none());
        assert!(offtime(i64::MIN, 0).is_none());
        assert!(offtime(i64::MAX, -i64::from(i32::MAX)).is_none());
    }

    #[test]
    fn civil_round_trip() {
        for days in [
            -1_000_000_000i64,
            -719_468,
            -1,
            0,
            1,
            59,
            60,
            11_016,
            2_932_896,
        ] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn delta_counts_calendar_seconds() {
        let a = offtime(1_000_000_000, 0).unwrap();
        let b = offtime(1_000_043_200, 0).unwrap();
        assert_eq!(calendar_delta(&b, &a), 43_200);
        assert_eq!(calendar_delta(&a, &b), -43_200);
        let c = offtime(1_000_043_200, 3600).unwrap();
        assert_eq!(calendar_delta(&c, &a), 46_800);
    }
}
