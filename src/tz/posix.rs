//! POSIX TZ strings (`EST5EDT,M3.2.0,M11.1.0`, `<+0330>-3:30`, `Jn`, `n`,
//! `Mm.w.d` with times), parsed the way glibc's `__tzset_parse_tz` parses
//! them, including how it treats strings it only partly understands: the
//! result of a partial parse is kept, as glibc keeps it, so that local time
//! computed from any string matches the C library's.
//!
//! TZif version 3 extensions are accepted: rule times from -167 to 167
//! hours (glibc reads them as unsigned shorts), and DST all year.
//! [`PosixTz::parse`] is the strict front door that reports a typed error
//! for anything that is not a complete, well-formed string.

use super::error::PosixTzError;

/// How a rule's date is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateKind {
    /// `n`: zero-based day of the year, counting February 29.
    ZeroBasedDay,
    /// `Jn`: one-based day of the year, never counting February 29.
    JulianDay,
    /// `Mm.w.d`: day `d` of week `w` of month `m`.
    MonthWeekDay,
}

/// One half of a TZ string: a time type (name and offset) and the rule for
/// switching into it (glibc's `tz_rule`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TzRule {
    /// The abbreviation, without angle brackets.
    pub name: Vec<u8>,
    /// Seconds east of UT.
    pub offset: i32,
    pub kind: DateKind,
    /// Month (1-12) for `Mm.w.d`.
    pub m: u16,
    /// Week (1-5) for `Mm.w.d`.
    pub n: u16,
    /// Day of week for `Mm.w.d`, or day number for `n` and `Jn`.
    pub d: u16,
    /// Local time of day of the switch, in seconds (may be negative or over 24 h).
    pub secs: i32,
}

impl TzRule {
    fn unset() -> TzRule {
        TzRule {
            name: Vec::new(),
            offset: 0,
            kind: DateKind::ZeroBasedDay,
            m: 0,
            n: 0,
            d: 0,
            secs: 0,
        }
    }
}

/// A parsed TZ string: `rules[0]` is standard time, `rules[1]` daylight time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosixTz {
    pub rules: [TzRule; 2],
    /// A DST name was given without rules: glibc then takes the rules from
    /// the `posixrules` zone file if there is one.
    pub wants_posixrules: bool,
    /// The whole string was understood (no part was ignored).
    pub complete: bool,
    /// Where parsing stopped and what was expected there, when incomplete.
    failure: Option<(usize, &'static str)>,
}

/// The DST offset when none is given: one hour ahead of standard time.
const DEFAULT_DST_SHIFT: i32 = 3600;
/// The time of day of a switch when none is given: 02:00.
const DEFAULT_SWITCH_SECS: i32 = 2 * 3600;
/// The largest day number `n` and `Jn` allow.
const MAX_DAY_NUMBER: u64 = 365;

/// C's `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Byte at `i`, or NUL past the end (C strings end in NUL).
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// One `%hu` conversion of C's `sscanf`: optional white space, optional
/// sign, decimal digits; the value is wrapped to 16 bits as glibc does.
/// Returns the value and the index after the number.
fn scan_hu(s: &[u8], start: usize) -> Option<(u16, usize)> {
    let mut i = start;
    while is_space(at(s, i)) {
        i += 1;
    }
    let negative = at(s, i) == b'-';
    if matches!(at(s, i), b'+' | b'-') {
        i += 1;
    }
    let digits_start = i;
    let mut value: u64 = 0;
    let mut overflow = false;
    while at(s, i).is_ascii_digit() {
        let digit = u64::from(at(s, i) - b'0');
        match value.checked_mul(10).and_then(|v| v.checked_add(digit)) {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    let value = if overflow {
        u64::MAX
    } else if negative {
        value.wrapping_neg()
    } else {
        value
    };
    Some((value as u16, i))
}

/// `sscanf(s, "%hu%n:%hu%n:%hu%n", ...)`: up to three colon-separated
/// numbers. Returns how many were converted, the values (defaults kept for
/// the ones not converted) and the index after the last one converted.
fn scan_hms(s: &[u8], start: usize, defaults: [u16; 3]) -> (usize, [u16; 3], usize) {
    let mut values = defaults;
    let mut end = start;
    let mut converted = 0;
    let mut i = start;
    for (k, slot) in values.iter_mut().enumerate() {
        if k > 0 {
            if at(s, i) != b':' {
                break;
            }
            i += 1;
        }
        match scan_hu(s, i) {
            Some((v, next)) => {
                *slot = v;
                converted += 1;
                i = next;
                end = next;
            }
            None => break,
        }
    }
    (converted, values, end)
}

/// glibc's `compute_offset`: clamps each field (hours to 24) and sums.
fn clamp_hms(hh: u16, mm: u16, ss: u16) -> i32 {
    i32::from(ss.min(59)) + i32::from(mm.min(59)) * 60 + i32::from(hh.min(24)) * 3600
}

/// The parser's state: the string, the position, and the rules being filled.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    rules: [TzRule; 2],
}

impl Parser<'_> {
    fn parse_name(&mut self, which: usize) -> bool {
        let s = self.s;
        let mut p = self.pos;
        while at(s, p).is_ascii_alphabetic() {
            p += 1;
        }
        let (start, len) = if p - self.pos >= 3 {
            (self.pos, p - self.pos)
        } else {
            p = self.pos;
            if at(s, p) != b'<' {
                return false;
            }
            p += 1;
            let start = p;
            while at(s, p).is_ascii_alphanumeric() || matches!(at(s, p), b'+' | b'-') {
                p += 1;
            }
            let len = p - start;
            if at(s, p) != b'>' || len < 3 {
                return false;
            }
            p += 1;
            (start, len)
        };
        self.rules[which].name = s[start..start + len].to_vec();
        self.pos = p;
        true
    }

    fn parse_offset(&mut self, which: usize) -> bool {
        let s = self.s;
        let mut p = self.pos;
        let c = at(s, p);
        if which == 0 && (c == 0 || (c != b'+' && c != b'-' && !c.is_ascii_digit())) {
            return false;
        }
        // POSIX offsets are west of UT; ours are east.
        let sign = if c == b'-' { 1 } else { -1 };
        if c == b'+' || c == b'-' {
            p += 1;
        }
        self.pos = p;
        let (converted, [hh, mm, ss], end) = scan_hms(s, p, [0, 0, 0]);
        if converted > 0 {
            self.rules[which].offset = sign * clamp_hms(hh, mm, ss);
            self.pos = end;
        } else if which == 0 {
            self.rules[0].offset = 0;
            return false;
        } else {
            self.rules[1].offset = self.rules[0].offset.wrapping_add(DEFAULT_DST_SHIFT);
        }
        true
    }

    fn parse_rule(&mut self, which: usize) -> bool {
        let s = self.s;
        let mut p = self.pos;
        if at(s, p) == b',' {
            p += 1;
        }
        let c = at(s, p);
        let rule = &mut self.rules[which];
        if c == b'J' || c.is_ascii_digit() {
            let julian = c == b'J';
            rule.kind = if julian {
                DateKind::JulianDay
            } else {
                DateKind::ZeroBasedDay
            };
            if julian {
                p += 1;
                if !at(s, p).is_ascii_digit() {
                    return false;
                }
            }
            let start = p;
            let mut d: u64 = 0;
            while at(s, p).is_ascii_digit() {
                d = d
                    .saturating_mul(10)
                    .saturating_add(u64::from(at(s, p) - b'0'));
                p += 1;
            }
            if p == start || d > MAX_DAY_NUMBER || (julian && d == 0) {
                return false;
            }
            rule.d = d as u16;
        } else if c == b'M' {
            rule.kind = DateKind::MonthWeekDay;
            // sscanf("M%hu.%hu.%hu%n"): fields are stored as they convert.
            let mut i = p + 1;
            let mut converted = 0;
            for k in 0..3 {
                if k > 0 {
                    if at(s, i) != b'.' {
                        break;
                    }
                    i += 1;
                }
                let Some((v, next)) = scan_hu(s, i) else {
                    break;
                };
                match k {
                    0 => rule.m = v,
                    1 => rule.n = v,
                    _ => rule.d = v,
                }
                converted += 1;
                i = next;
            }
            if converted != 3
                || !(1..=12).contains(&rule.m)
                || !(1..=5).contains(&rule.n)
                || rule.d > 6
            {
                return false;
            }
            p = i;
        } else if c == 0 {
            // No rule: the United States rules since 2007.
            rule.kind = DateKind::MonthWeekDay;
            (rule.m, rule.n, rule.d) = if which == 0 { (3, 2, 0) } else { (11, 1, 0) };
        } else {
            return false;
        }

        match at(s, p) {
            0 | b',' => rule.secs = DEFAULT_SWITCH_SECS,
            b'/' => {
                p += 1;
                if at(s, p) == 0 {
                    return false;
                }
                let negative = at(s, p) == b'-';
                if negative {
                    p += 1;
                }
                let (_, [hh, mm, ss], end) = scan_hms(s, p, [2, 0, 0]);
                p = end.max(p);
                let secs = i32::from(hh) * 3600 + i32::from(mm) * 60 + i32::from(ss);
                rule.secs = if negative { -secs } else { secs };
            }
            _ => return false,
        }
        self.pos = p;
        true
    }
}

impl PosixTz {
    /// Parses `s` exactly as glibc does, never failing: whatever glibc
    /// would keep from a malformed string is kept.
    pub fn parse_lenient(s: &[u8]) -> PosixTz {
        let mut p = Parser {
            s,
            pos: 0,
            rules: [TzRule::unset(), TzRule::unset()],
        };
        let mut wants_posixrules = false;
        let mut failure = None;
        if !p.parse_name(0) {
            failure = Some((p.pos, "a time zone abbreviation"));
        } else if !p.parse_offset(0) {
            failure = Some((p.pos, "a UT offset"));
        } else if at(s, p.pos) == 0 {
            // No DST.
            p.rules[1].name = p.rules[0].name.clone();
            p.rules[1].offset = p.rules[0].offset;
        } else {
            if p.parse_name(1) {
                p.parse_offset(1);
                let rest = &s[p.pos.min(s.len())..];
                if rest.is_empty() || rest == b"," {
                    wants_posixrules = true;
                }
            } else {
                failure = Some((p.pos, "a DST abbreviation"));
            }
            if !p.parse_rule(0) {
                failure = failure.or(Some((p.pos, "a DST start rule")));
            } else if !p.parse_rule(1) {
                failure = failure.or(Some((p.pos, "a DST end rule")));
            } else if p.pos < s.len() {
                failure = failure.or(Some((p.pos, "the end of the string")));
            }
        }
        PosixTz {
            rules: p.rules,
            wants_posixrules,
            complete: failure.is_none(),
            failure,
        }
    }

    /// Parses a complete, well-formed TZ string, or says what is wrong.
    pub fn parse(s: &str) -> Result<PosixTz, PosixTzError> {
        let tz = PosixTz::parse_lenient(s.as_bytes());
        match tz.failure {
            None => Ok(tz),
            Some((position, expected)) => Err(PosixTzError {
                input: s.to_string(),
                position,
                expected,
            }),
        }
    }

    /// A zone that is UT all year with abbreviation `name`.
    pub fn fixed(name: &[u8], offset: i32) -> PosixTz {
        let mut rule = TzRule::unset();
        rule.name = name.to_vec();
        rule.offset = offset;
        PosixTz {
            rules: [rule.clone(), rule],
            wants_posixrules: false,
            complete: true,
            failure: None,
        }
    }

    /// Whether the two halves differ, so that switching can happen at all.
    pub fn has_dst(&self) -> bool {
        self.rules[0] != self.rules[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(tz: &PosixTz, i: usize) -> (&[u8], i32, DateKind, u16, u16, u16, i32) {
        let r = &tz.rules[i];
        (&r.name, r.offset, r.kind, r.m, r.n, r.d, r.secs)
    }

    #[test]
    fn us_eastern() {
        let tz = PosixTz::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(
            rule(&tz, 0),
            (&b"EST"[..], -18000, DateKind::MonthWeekDay, 3, 2, 0, 7200)
        );
        assert_eq!(
            rule(&tz, 1),
            (&b"EDT"[..], -14400, DateKind::MonthWeekDay, 11, 1, 0, 7200)
        );
    }

    #[test]
    fn quoted_names_and_minutes() {
        let tz = PosixTz::parse("<+0330>-3:30").unwrap();
        assert_eq!(tz.rules[0].name, b"+0330");
        assert_eq!(tz.rules[0].offset, 12600);
        assert_eq!(tz.rules[1], tz.rules[0]);
        assert!(!tz.has_dst());
    }

    #[test]
    fn julian_and_zero_based_days_with_times() {
        let tz = PosixTz::parse("XXX3YYY,J60/-1:30,300/26").unwrap();
        assert_eq!(rule(&tz, 0).2, DateKind::JulianDay);
        assert_eq!((tz.rules[0].d, tz.rules[0].secs), (60, -5400));
        assert_eq!(rule(&tz, 1).2, DateKind::ZeroBasedDay);
        assert_eq!((tz.rules[1].d, tz.rules[1].secs), (300, 26 * 3600));
        assert_eq!(tz.rules[1].offset, -7200);
    }

    #[test]
    fn version3_extensions() {
        // All-year DST, and times past 24 h.
        let tz = PosixTz::parse("EST5EDT,0/0,J365/25").unwrap();
        assert_eq!((tz.rules[1].d, tz.rules[1].secs), (365, 25 * 3600));
        let tz = PosixTz::parse("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1").unwrap();
        assert_eq!(tz.rules[0].secs, -7200);
        let tz = PosixTz::parse("AAA3BBB,M3.2.0/167,M11.1.0/-167").unwrap();
        assert_eq!(
            (tz.rules[0].secs, tz.rules[1].secs),
            (167 * 3600, -167 * 3600)
        );
    }

    #[test]
    fn glibc_clamps_offset_hours_to_24() {
        let tz = PosixTz::parse("<-25>25").unwrap();
        assert_eq!(tz.rules[0].offset, -24 * 3600);
    }

    #[test]
    fn dst_name_without_rules_wants_posixrules() {
        let tz = PosixTz::parse_lenient(b"AAA3BBB");
        assert!(tz.wants_posixrules);
        assert_eq!(tz.rules[1].offset, -7200);
        // Meanwhile the rules default to the US ones.
        assert_eq!((tz.rules[0].m, tz.rules[1].m), (3, 11));
    }

    #[test]
    fn bad_strings_are_typed_errors() {
        let e = PosixTz::parse("No/Such_Zone").unwrap_err();
        assert_eq!(e.position, 0);
        assert!(PosixTz::parse("EST").is_err());
        assert!(PosixTz::parse("EST5EDT,M13.1.0,M11.1.0").is_err());
        assert!(PosixTz::parse("EST5EDT,M3.2.0,M11.1.0junk").is_err());
        assert!(PosixTz::parse("EST5EDT,J0,J5").is_err());
        assert!(PosixTz::parse("<AB>5").is_err());
    }

    #[test]
    fn lenient_parse_keeps_what_glibc_keeps() {
        // An unknown name keeps nothing: empty abbreviation, UT.
        let tz = PosixTz::parse_lenient(b"No/Such_Zone");
        assert_eq!(tz.rules[0].name, b"");
        // A name without an offset keeps the name.
        let tz = PosixTz::parse_lenient(b"America");
        assert_eq!(
            (tz.rules[0].name.as_slice(), tz.rules[0].offset),
            (&b"America"[..], 0)
        );
        // Junk after the end rule leaves its fields as far as they were read.
        let tz = PosixTz::parse_lenient(b"EST5EDT,M3.2.0,M11.1.0junk");
        assert_eq!((tz.rules[1].m, tz.rules[1].n, tz.rules[1].secs), (11, 1, 0));
    }

    #[test]
    fn scanf_numbers_take_signs_and_wrap() {
        assert_eq!(scan_hu(b" 7x", 0), Some((7, 2)));
        assert_eq!(scan_hu(b"-1", 0), Some((65535, 2)));
        assert_eq!(scan_hu(b"+", 0), None);
        assert_eq!(
            scan_hu(b"99999999999999999999999", 0).map(|v| v.0),
            Some(65535)
        );
    }
}
