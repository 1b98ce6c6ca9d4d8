//! A time zone and UT-to-local conversion for any 64-bit time, with the
//! results glibc's `localtime_r` and `gmtime_r` give for the same zone:
//! - before the first transition, the first standard-time type applies;
//! - after the last transition, the footer TZ string applies (or, without
//!   one, the last type);
//! - leap-second records (the `right/` zones) shift both local time and
//!   "UT", and the inserted second reads as :60;
//! - a time whose year does not fit C's `tm_year` has no broken-down form.

use super::civil::{self, BrokenDown};
use super::posix::PosixTz;
use super::tzif::{LeapSecond, LocalTimeType, TzifData};

/// Where a zone's rules come from.
#[derive(Clone, Debug)]
enum Rules {
    /// A TZif file, with its footer parsed once.
    Tzif {
        data: TzifData,
        footer: Option<PosixTz>,
        /// The type used before the first transition.
        initial_type: usize,
    },
    /// A POSIX TZ string alone.
    Posix(PosixTz),
}

/// A time zone.
#[derive(Clone, Debug)]
pub struct Zone {
    rules: Rules,
    /// Times at which the zone's state may change, other than the footer's
    /// yearly switches: transitions, leap seconds, and the edges of the
    /// representable range for each offset. Sorted, without duplicates.
    change_points: Vec<i64>,
}

/// The local time type in effect at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZoneState<'a> {
    /// Seconds east of UT (C's `tm_gmtoff`).
    pub utoff: i32,
    pub isdst: bool,
    pub abbr: &'a [u8],
    /// Leap seconds to subtract (the zone's time scale counts them).
    pub leap_correction: i32,
    /// Nonzero exactly during an inserted leap second: added to `tm_sec`.
    pub leap_hit: u32,
}

/// A UT time converted to local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime<'a> {
    pub tm: BrokenDown,
    /// Seconds east of UT (C's `tm_gmtoff`).
    pub utoff: i32,
    pub isdst: bool,
    pub abbr: &'a [u8],
}

/// The leap correction at `t` and whether `t` is an inserted leap second,
/// found as glibc does: the last record (in file order, scanning back) that
/// has occurred by `t`.
fn leap_at(leaps: &[LeapSecond], t: i64) -> (i32, u32) {
    let Some(mut i) = leaps.iter().rposition(|l| l.occurrence <= t) else {
        return (0, 0);
    };
    let correction = leaps[i].correction;
    let previous = if i == 0 { 0 } else { leaps[i - 1].correction };
    let mut hit = 0;
    if t == leaps[i].occurrence && correction > previous {
        hit = 1;
        while i > 0
            && leaps[i].occurrence == leaps[i - 1].occurrence.wrapping_add(1)
            && leaps[i].correction == leaps[i - 1].correction.wrapping_add(1)
        {
            hit += 1;
            i -= 1;
        }
    }
    (correction, hit)
}

impl Zone {
    /// A zone from a parsed TZif file.
    pub fn from_tzif(data: TzifData) -> Zone {
        let footer = data.footer.as_deref().map(PosixTz::parse_lenient);
        let initial_type = data.types.iter().position(|t| !t.isdst).unwrap_or(0);
        Zone::build(Rules::Tzif {
            data,
            footer,
            initial_type,
        })
    }

    /// A zone from a POSIX TZ string alone.
    pub fn from_posix(tz: PosixTz) -> Zone {
        Zone::build(Rules::Posix(tz))
    }

    /// glibc's `__tzfile_default`: the TZ string named its time types but
    /// gave no rules, so the transitions of the `posixrules` file are used,
    /// moved to the user's offsets and renamed to the user's names. Past the
    /// file's last transition its footer applies unchanged, names included,
    /// as in glibc. None when the file has fewer than two types.
    ///
    /// `rule_dst` is glibc's `rule_dstoff`, which glibc 2.36 does not derive
    /// from the file: it is 0 in a fresh process, then the offset of the
    /// last zone file read that has no transitions, or the DST offset of
    /// the last zone built this way, whichever came last (see [`ZoneDir`]).
    ///
    /// [`ZoneDir`]: super::lookup::ZoneDir
    pub fn from_posixrules(mut data: TzifData, tz: &PosixTz, rule_dst: i32) -> Option<Zone> {
        if data.types.len() < 2 {
            return None;
        }
        let rule_std = last_standard_offset(&data);
        let (std, dst) = (&tz.rules[0], &tz.rules[1]);
        let mut names = std.name.clone();
        names.push(0);
        let dst_index = u8::try_from(names.len()).ok()?;
        names.extend_from_slice(&dst.name);
        names.push(0);

        let mut in_dst = false;
        for i in 0..data.transitions.len() {
            let original = data.types[usize::from(data.transition_types[i])].clone();
            data.transition_types[i] = u8::from(original.isdst);
            let shift = if original.is_ut {
                0
            } else if in_dst && !original.is_std {
                i64::from(dst.offset) - i64::from(rule_dst)
            } else {
                i64::from(std.offset) - i64::from(rule_std)
            };
            data.transitions[i] = data.transitions[i].wrapping_add(shift);
            in_dst = original.isdst;
        }
        data.types.truncate(2);
        let keep = |t: &LocalTimeType, utoff, isdst, abbr_index| LocalTimeType {
            utoff,
            isdst,
            abbr_index,
            is_std: t.is_std,
            is_ut: t.is_ut,
        };
        data.types[0] = keep(&data.types[0], std.offset, false, 0);
        data.types[1] = keep(&data.types[1], dst.offset, true, dst_index);
        data.abbreviation_chars = names;
        Some(Zone::from_tzif(data))
    }

    fn build(rules: Rules) -> Zone {
        let mut zone = Zone {
            rules,
            change_points: Vec::new(),
        };
        zone.change_points = zone.compute_change_points();
        zone
    }

    fn leaps(&self) -> &[LeapSecond] {
        match &self.rules {
            Rules::Tzif { data, .. } => &data.leap_seconds,
            Rules::Posix(_) => &[],
        }
    }

    /// Whether this zone's time scale counts leap seconds (a `right/` zone).
    pub fn has_leap_seconds(&self) -> bool {
        !self.leaps().is_empty()
    }

    /// The local time type in effect at UT second `t`. None only for a
    /// zone without a TZif file, when `t`'s year is not representable.
    pub fn state_at(&self, t: i64) -> Option<ZoneState<'_>> {
        match &self.rules {
            Rules::Posix(tz) => {
                let s = tz.state_at(t)?;
                Some(ZoneState {
                    utoff: s.offset,
                    isdst: s.isdst,
                    abbr: s.name,
                    leap_correction: 0,
                    leap_hit: 0,
                })
            }
            Rules::Tzif {
                data,
                footer,
                initial_type,
            } => {
                let (leap_correction, leap_hit) = leap_at(&data.leap_seconds, t);
                let n = data.transitions.len();
                let type_state = |index: usize| ZoneState {
                    utoff: data.types[index].utoff,
                    isdst: data.types[index].isdst,
                    abbr: data.abbreviation(index),
                    leap_correction,
                    leap_hit,
                };
                if n == 0 || t < data.transitions[0] {
                    return Some(type_state(*initial_type));
                }
                let last_type = usize::from(data.transition_types[n - 1]);
                if t >= data.transitions[n - 1] {
                    return Some(match footer.as_ref().and_then(|f| f.state_at(t)) {
                        Some(s) => ZoneState {
                            utoff: s.offset,
                            isdst: s.isdst,
                            abbr: s.name,
                            leap_correction,
                            leap_hit,
                        },
                        None => type_state(last_type),
                    });
                }
                let i = data.transitions.partition_point(|&tr| tr <= t);
                Some(type_state(usize::from(data.transition_types[i - 1])))
            }
        }
    }

    /// Local time at UT second `t`, as glibc's `localtime_r` gives it.
    pub fn localtime(&self, t: i64) -> Option<LocalTime<'_>> {
        let s = self.state_at(t)?;
        let mut tm = civil::offtime(t, i64::from(s.utoff) - i64::from(s.leap_correction))?;
        tm.sec += s.leap_hit;
        Some(LocalTime {
            tm,
            utoff: s.utoff,
            isdst: s.isdst,
            abbr: s.abbr,
        })
    }

    /// UT at second `t`, as glibc's `gmtime_r` gives it while this zone is
    /// set: a zone that counts leap seconds shifts UT too.
    pub fn gmtime(&self, t: i64) -> Option<BrokenDown> {
        let (correction, hit) = leap_at(self.leaps(), t);
        let mut tm = civil::offtime(t, -i64::from(correction))?;
        tm.sec += hit;
        Some(tm)
    }

    /// The first second after `t` at which the zone's state (offset, DST
    /// flag, abbreviation, leap correction, or whether local time exists at
    /// all) may differ from its state at `t`. None if it never changes again.
    pub fn next_change_after(&self, t: i64) -> Option<i64> {
        let i = self.change_points.partition_point(|&p| p <= t);
        let fixed = self.change_points.get(i).copied();
        let rule = match &self.rules {
            Rules::Posix(tz) => tz.next_change_after(t),
            Rules::Tzif {
                data,
                footer: Some(f),
                ..
            } => match data.transitions.last() {
                Some(&last) if t >= last.saturating_sub(1) => f.next_change_after(t),
                _ => None,
            },
            Rules::Tzif { .. } => None,
        };
        match (fixed, rule) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn compute_change_points(&self) -> Vec<i64> {
        let mut offsets: Vec<i64> = Vec::new();
        let mut points: Vec<i64> = Vec::new();
        let add_rules = |tz: &PosixTz, offsets: &mut Vec<i64>| {
            offsets.extend(tz.rules.iter().map(|r| i64::from(r.offset)));
        };
        match &self.rules {
            Rules::Posix(tz) => add_rules(tz, &mut offsets),
            Rules::Tzif { data, footer, .. } => {
                points.extend_from_slice(&data.transitions);
                offsets.extend(data.types.iter().map(|t| i64::from(t.utoff)));
                if let Some(f) = footer {
                    add_rules(f, &mut offsets);
                }
            }
        }
        let mut corrections: Vec<i64> = vec![0];
        for leap in self.leaps() {
            points.push(leap.occurrence);
            points.push(leap.occurrence.saturating_add(1));
            corrections.push(i64::from(leap.correction));
        }
        // Local time exists while t + utoff - correction stays within the
        // representable years; the footer needs t itself to be.
        let (first, last) = (civil::first_representable(), civil::last_representable());
        offsets.push(0);
        for &off in &offsets {
            for &corr in &corrections {
                let e = off - corr;
                points.push(first - e);
                points.push(last - e + 1);
            }
        }
        points.sort_unstable();
        points.dedup();
        points
    }
}

/// glibc's `rule_stdoff`: the offset of the last transition into standard
/// time (0 if none), or of the only type when there are no transitions.
fn last_standard_offset(data: &TzifData) -> i32 {
    if data.transitions.is_empty() {
        return data.types[0].utoff;
    }
    data.transition_types
        .iter()
        .rev()
        .map(|&ti| &data.types[usize::from(ti)])
        .find(|t| !t.isdst)
        .map_or(0, |t| t.utoff)
}
