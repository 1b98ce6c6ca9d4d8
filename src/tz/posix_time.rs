//! Local time from a POSIX TZ string, as glibc's `__tz_compute` finds it.
//!
//! glibc works per UT calendar year: it computes the two switch times of
//! that year and compares. Its arithmetic is kept here as it is, with two
//! consequences worth knowing: a year's start is computed in C `int`
//! arithmetic (wrapping for years past a few million), and every year up to
//! 1970 is given 1970's start, so rules applied before 1970 switch at
//! 1970-based times (in practice: no DST before 1970 for northern rules).

use super::civil::{self, SECS_PER_DAY};
use super::posix::{DateKind, PosixTz, TzRule};

/// Cumulative days before each month, normal and leap years (glibc's
/// `__mon_yday`), laid out flat as in C so that the out-of-range month
/// indices a partly parsed rule can hold read what C would read.
const MON_YDAY: [u16; 26] = [
    0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365, //
    0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366,
];

fn mon_yday(leap: bool, index: i64) -> i64 {
    let flat = index + if leap { 13 } else { 0 };
    usize::try_from(flat)
        .ok()
        .and_then(|i| MON_YDAY.get(i))
        .map_or(0, |&d| i64::from(d))
}

/// C's `__isleap` on an `int` year.
fn is_leap_i32(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// glibc's `compute_change`: the UT second at which `rule` takes effect in
/// `year`.
pub fn switch_time(rule: &TzRule, year: i32) -> i64 {
    let mut t: i64 = if year > 1970 {
        // C int arithmetic, wrapping as the compiled code does.
        let y1 = year.wrapping_sub(1);
        let days = (year.wrapping_sub(1970))
            .wrapping_mul(365)
            .wrapping_add(y1 / 4 - 1970 / 4)
            .wrapping_sub(y1 / 100 - 1970 / 100)
            .wrapping_add(y1 / 400 - 1970 / 400);
        i64::from(days) * SECS_PER_DAY
    } else {
        0
    };
    let leap = is_leap_i32(year);
    match rule.kind {
        DateKind::JulianDay => {
            t += (i64::from(rule.d) - 1) * SECS_PER_DAY;
            if rule.d >= 60 && leap {
                t += SECS_PER_DAY;
            }
        }
        DateKind::ZeroBasedDay => t += i64::from(rule.d) * SECS_PER_DAY,
        DateKind::MonthWeekDay => {
            let m = i64::from(rule.m);
            let before = mon_yday(leap, m - 1);
            t += before * SECS_PER_DAY;
            // Zeller's congruence: weekday of the first of the month.
            let m1 = (i32::from(rule.m) + 9) % 12 + 1;
            let yy0 = if rule.m <= 2 {
                year.wrapping_sub(1)
            } else {
                year
            };
            let yy1 = yy0 / 100;
            let yy2 = yy0 % 100;
            let mut dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
            if dow < 0 {
                dow += 7;
            }
            let mut d = i64::from(rule.d) - i64::from(dow);
            if d < 0 {
                d += 7;
            }
            let month_len = mon_yday(leap, m) - before;
            for _ in 1..rule.n {
                if d + 7 >= month_len {
                    break;
                }
                d += 7;
            }
            t += d * SECS_PER_DAY;
        }
    }
    t - i64::from(rule.offset) + i64::from(rule.secs)
}

/// What a TZ string says about one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleState<'a> {
    pub isdst: bool,
    pub offset: i32,
    pub name: &'a [u8],
}

impl PosixTz {
    /// The two switch times glibc uses for UT year `year`.
    fn switch_times(&self, year: i32) -> [i64; 2] {
        [
            switch_time(&self.rules[0], year),
            switch_time(&self.rules[1], year),
        ]
    }

    /// Local time type at UT second `t`; None if `t`'s year is not
    /// representable (glibc's `__offtime(t, 0)` fails).
    pub fn state_at(&self, t: i64) -> Option<RuleState<'_>> {
        let year = civil::utc_year(t)? as i32;
        let [start, end] = self.switch_times(year);
        let isdst = if start > end {
            // Southern hemisphere: DST spans the new year.
            t < end || t >= start
        } else {
            t >= start && t < end
        };
        let rule = &self.rules[usize::from(isdst)];
        Some(RuleState {
            isdst,
            offset: rule.offset,
            name: &rule.name,
        })
    }

    /// The first second after `t` at which the state may differ from the
    /// state at `t`: a switch time within `t`'s year, or the next year's
    /// start. None when `t` is past the representable range.
    pub fn next_change_after(&self, t: i64) -> Option<i64> {
        let year = civil::utc_year(t)?;
        let mut next = civil::year_start(year + 1);
        for switch in self.switch_times(year as i32) {
            if switch > t && switch < next {
                next = switch;
            }
        }
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> PosixTz {
        PosixTz::parse("EST5EDT,M3.2.0,M11.1.0").unwrap()
    }

    #[test]
    fn us_switches_in_2024() {
        let tz = us();
        // 2024-03-10 07:00:00 UT and 2024-11-03 06:00:00 UT.
        assert_eq!(switch_time(&tz.rules[0], 2024), 1_710_054_000);
        assert_eq!(switch_time(&tz.rules[1], 2024), 1_730_613_600);
        assert!(!tz.state_at(1_710_053_999).unwrap().isdst);
        let s = tz.state_at(1_710_054_000).unwrap();
        assert_eq!((s.isdst, s.offset, s.name), (true, -14400, &b"EDT"[..]));
        assert!(!tz.state_at(1_730_613_600).unwrap().isdst);
    }

    #[test]
    fn southern_rules_span_new_year() {
        let tz = PosixTz::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        // 2024-01-15 is summer in Sydney.
        assert!(tz.state_at(1_705_276_800).unwrap().isdst);
        // 2024-07-01 is winter.
        assert!(!tz.state_at(1_719_792_000).unwrap().isdst);
    }

    #[test]
    fn glibc_gives_years_before_1971_the_1970_start() {
        let tz = us();
        let start_1950 = switch_time(&tz.rules[0], 1950);
        assert!((0..31_536_000).contains(&start_1950));
        // So 1950-07-01 is not DST.
        assert!(!tz.state_at(-615_945_600).unwrap().isdst);
    }

    #[test]
    fn next_change_is_switch_or_new_year() {
        let tz = us();
        assert_eq!(tz.next_change_after(1_704_067_200), Some(1_710_054_000));
        assert_eq!(tz.next_change_after(1_730_613_600), Some(1_735_689_600));
        assert_eq!(tz.next_change_after(i64::MAX), None);
    }
}
