//! The `--date` argument of `--set` and `--predict`: the forms util-linux
//! 2.38 accepts, plus explicit zones (ISO 8601 `Z`/`+01:00`, ` UTC`), so
//! that `hwclock -r`'s own output can be fed back.
//!
//! ```text
//! 2026-11-21 12:00:00[.frac]   2026-11-21T12:00:00   20261121120000
//! 2026-11-21 12:00             2026-11-21            26-11-21 (two-digit year)
//! 12:00:00   12:00             (today)
//! @1795262400[.frac]           (Unix seconds)
//! now  today  yesterday  tomorrow
//! +5min  -2days  "1h 30min"  "3 days ago"
//! Sat 2026-11-21 12:00:00      (the weekday must match)
//! 2026-11-21 12:00:00+01:00    2026-11-21T11:00:00Z    2026-11-21 11:00 UTC
//! ```
//! Forms without a zone are local time.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Weekday};

use super::zone::{to_local, Zone};

pub const MICROS_PER_SEC: i64 = 1_000_000;

/// Two-digit years below this are 20xx, the rest 19xx (POSIX strptime %y).
const TWO_DIGIT_YEAR_PIVOT: i32 = 69;

/// Relative units: suffix and length in microseconds. Longer suffixes come
/// first where one is a prefix of another ("ms" before "m"). A month and a
/// year are their average lengths, as in util-linux.
const UNITS: &[(&str, i64)] = &[
    ("seconds", MICROS_PER_SEC),
    ("second", MICROS_PER_SEC),
    ("sec", MICROS_PER_SEC),
    ("minutes", 60 * MICROS_PER_SEC),
    ("minute", 60 * MICROS_PER_SEC),
    ("min", 60 * MICROS_PER_SEC),
    ("months", 2_629_800 * MICROS_PER_SEC),
    ("month", 2_629_800 * MICROS_PER_SEC),
    ("msec", 1000),
    ("ms", 1000),
    ("m", 60 * MICROS_PER_SEC),
    ("hours", 3600 * MICROS_PER_SEC),
    ("hour", 3600 * MICROS_PER_SEC),
    ("hr", 3600 * MICROS_PER_SEC),
    ("h", 3600 * MICROS_PER_SEC),
    ("days", 86_400 * MICROS_PER_SEC),
    ("day", 86_400 * MICROS_PER_SEC),
    ("d", 86_400 * MICROS_PER_SEC),
    ("weeks", 604_800 * MICROS_PER_SEC),
    ("week", 604_800 * MICROS_PER_SEC),
    ("w", 604_800 * MICROS_PER_SEC),
    ("years", 31_557_600 * MICROS_PER_SEC),
    ("year", 31_557_600 * MICROS_PER_SEC),
    ("y", 31_557_600 * MICROS_PER_SEC),
    ("usec", 1),
    ("us", 1),
    ("s", MICROS_PER_SEC),
    ("", MICROS_PER_SEC),
];

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("sunday", Weekday::Sun),
    ("sun", Weekday::Sun),
    ("monday", Weekday::Mon),
    ("mon", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("tue", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("wed", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("thu", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("fri", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sat", Weekday::Sat),
];

/// Parses TEXT relative to `now` (Unix seconds) into Unix microseconds.
/// None when TEXT is not a date.
pub fn parse(text: &str, now: i64, zone: &dyn Zone) -> Option<i64> {
    let t = text.trim();
    let today = to_local(zone, now)?.date();
    let at_local = |d: NaiveDateTime| zone.to_utc(d).map(|s| s * MICROS_PER_SEC);
    match t {
        "now" => return now.checked_mul(MICROS_PER_SEC),
        "today" => return at_local(today.and_time(NaiveTime::MIN)),
        "yesterday" => return at_local(today.pred_opt()?.and_time(NaiveTime::MIN)),
        "tomorrow" => return at_local(today.succ_opt()?.and_time(NaiveTime::MIN)),
        _ => {}
    }
    let now_us = now.checked_mul(MICROS_PER_SEC)?;
    if let Some(span) = t.strip_prefix('+') {
        return now_us.checked_add(parse_span(span)?);
    }
    if let Some(span) = t.strip_prefix('-') {
        return now_us.checked_sub(parse_span(span)?);
    }
    if let Some(span) = t.strip_suffix(" ago") {
        return now_us.checked_sub(parse_span(span)?);
    }
    if let Some(epoch) = t.strip_prefix('@') {
        return parse_epoch(epoch);
    }

    let (weekday, rest) = split_weekday(t);
    let (civil, offset) = parse_civil(rest, today)?;
    if weekday.is_some_and(|w| w != civil.weekday()) {
        return None;
    }
    let micros = i64::from(civil.and_utc().timestamp_subsec_micros());
    let whole = civil.with_nanosecond_zero();
    let secs = match offset {
        Some(east) => whole.and_utc().timestamp() - i64::from(east),
        None => zone.to_utc(whole)?,
    };
    secs.checked_mul(MICROS_PER_SEC)?.checked_add(micros)
}

trait WithoutFraction {
    fn with_nanosecond_zero(self) -> Self;
}

impl WithoutFraction for NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

/// `1795000000` or `1795000000.25` (may be negative: before 1970).
fn parse_epoch(text: &str) -> Option<i64> {
    let (whole, frac) = match text.split_once(['.', ',']) {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let secs: i64 = whole.parse().ok()?;
    let sub = match frac {
        Some(f) => parse_fraction(f)?,
        None => 0,
    };
    let us = secs.checked_mul(MICROS_PER_SEC)?;
    if secs < 0 {
        us.checked_sub(sub)
    } else {
        us.checked_add(sub)
    }
}

/// Up to six digits after the decimal point, as microseconds.
fn parse_fraction(digits: &str) -> Option<i64> {
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = digits.parse().ok()?;
    Some(value * 10_i64.pow(6 - digits.len() as u32))
}

/// A sum of `NUMBER[.FRACTION] [UNIT]` terms, e.g. `1h 30min`, `1.5days`.
fn parse_span(text: &str) -> Option<i64> {
    let mut rest = text.trim_start();
    let mut total: i64 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let whole: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let mut frac = "";
        if let Some(after) = rest.strip_prefix('.') {
            let n = after.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            frac = &after[..n];
            rest = &after[n..];
        }
        rest = rest.trim_start();
        let (suffix, unit) = UNITS.iter().find(|(s, _)| rest.starts_with(s))?;
        rest = rest[suffix.len()..].trim_start();
        let mut term = whole.checked_mul(*unit)?;
        // the fraction, digit by digit, of the unit
        let mut scale = *unit;
        for d in frac.bytes() {
            scale /= 10;
            term = term.checked_add(i64::from(d - b'0') * scale)?;
        }
        total = total.checked_add(term)?;
    }
    Some(total)
}

fn split_weekday(text: &str) -> (Option<Weekday>, &str) {
    for (name, day) in WEEKDAYS {
        if text.len() > name.len()
            && text.is_char_boundary(name.len())
            && text[..name.len()].eq_ignore_ascii_case(name)
            && text[name.len()..].starts_with(' ')
        {
            return (Some(*day), &text[name.len() + 1..]);
        }
    }
    (None, text)
}

/// A civil date-time (with fraction) and, when the text gives one, its
/// offset east of UTC in seconds.
fn parse_civil(text: &str, today: NaiveDate) -> Option<(NaiveDateTime, Option<i32>)> {
    let (body, offset) = split_zone(text);
    let civil = parse_date_time(body)
        .or_else(|| parse_compact(body))
        .or_else(|| {
            parse_time(body).and_then(|(t, extra)| today.and_time(t).checked_add_signed(extra))
        })?;
    Some((civil, offset))
}

/// Splits a trailing `Z`, ` UTC`, `+HH:MM`, `+HHMM` or `+HH` off a date that
/// has a time of day.
fn split_zone(text: &str) -> (&str, Option<i32>) {
    if let Some(body) = text.strip_suffix(" UTC").or_else(|| text.strip_suffix('Z')) {
        return (body, Some(0));
    }
    // an offset follows the seconds or minutes: look for the last sign
    // after the last ':' so that the date's own '-' are not taken
    let Some(colon) = text.find(':') else {
        return (text, None);
    };
    if let Some(sign_at) = text[colon..].rfind(['+', '-']).map(|i| i + colon) {
        if let Some(off) = parse_offset(&text[sign_at..]) {
            return (text[..sign_at].trim_end(), Some(off));
        }
    }
    (text, None)
}

fn parse_offset(text: &str) -> Option<i32> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || text[1..].matches(':').count() > 1 {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
        _ => return None,
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

/// `Y-M-D[ |T]H:M[:S[.frac]]` or `Y-M-D`, with a 4-digit or 2-digit year.
fn parse_date_time(text: &str) -> Option<NaiveDateTime> {
    let (date_part, time_part) = match text.find([' ', 'T']) {
        Some(i) => (&text[..i], Some(text[i + 1..].trim_start())),
        None => (text, None),
    };
    let mut fields = date_part.split('-');
    let (y, m, d) = (fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() {
        return None;
    }
    let year = match y.len() {
        4 => y.parse().ok()?,
        2 => {
            let yy: i32 = y.parse().ok()?;
            if yy < TWO_DIGIT_YEAR_PIVOT {
                2000 + yy
            } else {
                1900 + yy
            }
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, small_number(m)?, small_number(d)?)?;
    let (time, extra) = match time_part {
        Some(t) => parse_time(t)?,
        None => (NaiveTime::MIN, TimeDelta::zero()),
    };
    date.and_time(time).checked_add_signed(extra)
}

/// `YYYYMMDDHHMMSS[.frac]`.
fn parse_compact(text: &str) -> Option<NaiveDateTime> {
    let (digits, frac) = match text.split_once(['.', ',']) {
        Some((d, f)) => (d, Some(f)),
        None => (text, None),
    };
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits[r].parse::<u32>().ok();
    let date = NaiveDate::from_ymd_opt(digits[..4].parse().ok()?, n(4..6)?, n(6..8)?)?;
    let time = NaiveTime::from_hms_opt(n(8..10)?, n(10..12)?, n(12..14)?)?;
    let micros = match frac {
        Some(f) => parse_fraction(f)?,
        None => 0,
    };
    date.and_time(time)
        .checked_add_signed(TimeDelta::microseconds(micros))
}

/// `H:M`, `H:M:S` or `H:M:S.frac`, as a time of day and what is to be
/// added to it: the fraction, and a second for a leap second 60, which
/// becomes the next minute's 0 as mktime(3) normalises it.
fn parse_time(text: &str) -> Option<(NaiveTime, TimeDelta)> {
    let (hms, frac) = match text.split_once(['.', ',']) {
        Some((t, f)) => (t, Some(f)),
        None => (text, None),
    };
    let mut fields = hms.split(':');
    let h = small_number(fields.next()?)?;
    let m = small_number(fields.next()?)?;
    let s = match fields.next() {
        Some(s) => small_number(s)?,
        None if frac.is_none() => 0,
        None => return None,
    };
    if fields.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let micros = match frac {
        Some(f) => parse_fraction(f)?,
        None => 0,
    };
    let base = NaiveTime::from_hms_opt(h, m, s.min(59))?;
    let leap = TimeDelta::seconds(i64::from(s == 60));
    Some((base, leap + TimeDelta::microseconds(micros)))
}

/// One or two decimal digits.
fn small_number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::super::zone::FixedZone;
    use super::*;

    /// 2026-11-21 12:00:00 UTC, a Saturday.
    const NOW: i64 = 1_795_262_400;
    const UTC: FixedZone = FixedZone(0);
    const PLUS_ONE: FixedZone = FixedZone(3600);

    fn at(text: &str) -> Option<i64> {
        parse(text, NOW, &UTC)
    }

    fn secs(text: &str) -> i64 {
        at(text).unwrap_or_else(|| panic!("{text:?} should parse")) / MICROS_PER_SEC
    }

    #[test]
    fn the_issue_forms() {
        assert_eq!(secs("2026-11-21 12:00:00"), NOW);
        assert_eq!(secs("@1795262400"), NOW);
        assert_eq!(secs("2026-11-21T12:00:00"), NOW);
        assert_eq!(secs("2026-11-21T12:00:00Z"), NOW);
        assert_eq!(secs("2026-11-21T13:00:00+01:00"), NOW);
        assert_eq!(secs("2026-11-21T07:00:00-0500"), NOW);
    }

    #[test]
    fn hwclock_output_reads_back() {
        assert_eq!(
            at("2026-11-21 13:00:00.123456+01:00"),
            Some(NOW * MICROS_PER_SEC + 123_456)
        );
    }

    #[test]
    fn util_linux_forms() {
        assert_eq!(secs("2026-11-21 12:00"), NOW);
        assert_eq!(secs("2026-11-21"), NOW - 12 * 3600);
        assert_eq!(secs("26-11-21 12:00:00"), NOW);
        assert_eq!(secs("20261121120000"), NOW);
        assert_eq!(secs("12:00:00"), NOW);
        assert_eq!(secs("12:00"), NOW);
        assert_eq!(secs("13:30:15"), NOW + 5415);
        assert_eq!(secs("now"), NOW);
        assert_eq!(secs("today"), NOW - 12 * 3600);
        assert_eq!(secs("yesterday"), NOW - 36 * 3600);
        assert_eq!(secs("tomorrow"), NOW + 12 * 3600);
        assert_eq!(secs("Sat 2026-11-21 12:00:00"), NOW);
        assert_eq!(secs("saturday 2026-11-21 12:00:00"), NOW);
        assert_eq!(
            at("2026-11-21 12:00:00.5"),
            Some(NOW * MICROS_PER_SEC + 500_000)
        );
        assert_eq!(secs("2026-11-21 11:59:60"), NOW);
        assert_eq!(secs("2026-11-20 23:59:60"), NOW - 12 * 3600);
        assert_eq!(secs("2026-11-21 11:00 UTC"), NOW - 3600);
    }

    #[test]
    fn two_digit_years_pivot_at_69() {
        assert_eq!(secs("68-01-01"), 3_092_601_600);
        assert_eq!(secs("69-01-01"), -31_536_000);
    }

    #[test]
    fn relative_forms() {
        assert_eq!(secs("+5min"), NOW + 300);
        assert_eq!(secs("-2days"), NOW - 172_800);
        assert_eq!(secs("+1h 30min"), NOW + 5400);
        assert_eq!(secs("+1.5h"), NOW + 5400);
        assert_eq!(secs("+90"), NOW + 90);
        assert_eq!(secs("3 days ago"), NOW - 259_200);
        assert_eq!(at("+250ms"), Some(NOW * MICROS_PER_SEC + 250_000));
    }

    #[test]
    fn naive_forms_are_local_time() {
        assert_eq!(
            parse("2026-11-21 13:00:00", NOW, &PLUS_ONE),
            Some(NOW * MICROS_PER_SEC)
        );
        // an explicit offset wins over the local zone
        assert_eq!(
            parse("2026-11-21 12:00:00Z", NOW, &PLUS_ONE),
            Some(NOW * MICROS_PER_SEC)
        );
        // "today" is the local date: 00:30 local on the 22nd is still the 21st UTC
        let late = NOW + 11 * 3600 + 1800; // 23:30 UTC = 00:30 on the 22nd at +01:00
        assert_eq!(
            parse("today", late, &PLUS_ONE),
            Some((NOW + 12 * 3600 - 3600) * MICROS_PER_SEC)
        );
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in [
            "",
            "garbage",
            "2026-13-01",
            "2026-02-30 10:00",
            "2026-11-21 24:00:00",
            "2026-11-21 12:61",
            "Mon 2026-11-21 12:00:00",
            "+",
            "+5 parsecs",
            "@",
            "@12x",
            "@1.1234567",
            "12:00:00.",
            "2026/11/21",
            "2026-11-21 12:00:00+25:00",
            "20261121",
            "-",
            "ago",
        ] {
            assert_eq!(at(bad), None, "{bad:?} should be rejected");
        }
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        assert_eq!(at("+99999999999999999999y"), None);
        assert_eq!(at("+9999999999999y"), None);
        assert_eq!(at("@99999999999999999"), None);
    }
}
