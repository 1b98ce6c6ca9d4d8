//! Finding a zone's transitions the way tzcode's zdump finds them, fast.
//!
//! zdump samples local time every 12 hours and, where two samples disagree
//! (in UT offset as seen in the calendar fields, DST flag, abbreviation,
//! or whether local time exists), bisects to the first second that differs.
//! That misses changes that undo themselves within 12 hours and can land
//! on either of two changes close together, and scripts that compare zdump
//! output see exactly those results. So the same sampling and bisection are
//! run here, but the samples between two of the zone's change points are
//! skipped (nothing can differ there): the work is proportional to the
//! number of changes, not to the length of the range.

use super::civil::calendar_delta;
use super::zone::{LocalTime, Zone};

/// zdump's sampling step: 12 hours.
pub const SAMPLE_STEP: i64 = 43_200;

/// Whether zdump's sampling treats local times `new` (at `new_t`) and
/// `old` (at `old_t`) as the same local time type.
fn same_type(
    new: &Option<LocalTime<'_>>,
    new_t: i64,
    old: &Option<LocalTime<'_>>,
    old_t: i64,
) -> bool {
    match (new, old) {
        (Some(n), Some(o)) => {
            i128::from(calendar_delta(&n.tm, &o.tm)) == i128::from(new_t) - i128::from(old_t)
                && n.isdst == o.isdst
                && n.abbr == o.abbr
        }
        (None, None) => true,
        _ => false,
    }
}

/// zdump's `hunt`: given `lo` and `hi` whose local times differ, the first
/// second after `lo` found by bisection whose local time differs from `lo`'s.
pub fn hunt(zone: &Zone, mut lo: i64, mut hi: i64) -> i64 {
    let mut lo_tm = zone.localtime(lo);
    loop {
        let diff = i128::from(hi) - i128::from(lo);
        if diff < 2 {
            break;
        }
        let mut t = (i128::from(lo) + diff / 2) as i64;
        if t <= lo {
            t += 1;
        } else if t >= hi {
            t -= 1;
        }
        let tm = zone.localtime(t);
        // The abbreviation compared is the one at the original `lo`; it
        // cannot change while `lo` only moves to equal types.
        if same_type(&tm, t, &lo_tm, lo) {
            lo = t;
            if tm.is_some() {
                lo_tm = tm;
            }
        } else {
            hi = t;
        }
    }
    hi
}

/// Runs zdump's transition search from `start` up to `end` (inclusive, as
/// this zdump treats its upper cut), calling `found(t)` with the first
/// second of each change it reports.
pub fn scan(zone: &Zone, start: i64, end: i64, mut found: impl FnMut(i64)) {
    let mut t = start;
    let mut tm = zone.localtime(t);
    while t < end {
        t = skip_quiet_samples(zone, t, end);
        if tm.is_some() {
            tm = zone.localtime(t);
        }
        let regular = t < i64::MAX - SAMPLE_STEP && t + SAMPLE_STEP < end;
        let mut new_t = if regular { t + SAMPLE_STEP } else { end };
        let mut new_tm = zone.localtime(new_t);
        if !same_type(&new_tm, new_t, &tm, t) {
            new_t = hunt(zone, t, new_t);
            new_tm = zone.localtime(new_t);
            found(new_t);
        }
        t = new_t;
        // zdump keeps the last good local time when a sample fails; it is
        // only compared again once samples succeed, so keeping None is
        // equivalent.
        tm = new_tm;
    }
}

/// The last sample at or after `t` (on zdump's 12-hour grid from `t`) from
/// which the next step still stays before the zone's next change point and
/// before `end`: every sample skipped compares equal to the previous one.
fn skip_quiet_samples(zone: &Zone, t: i64, end: i64) -> i64 {
    let change = zone.next_change_after(t).map_or(i128::MAX, i128::from);
    let limit = change.min(i128::from(end)) - 1 - i128::from(t);
    let steps = limit / i128::from(SAMPLE_STEP);
    if steps <= 0 {
        return t;
    }
    (i128::from(t) + steps * i128::from(SAMPLE_STEP)) as i64
}
