//! Differential test: our local time against the C library's, which is
//! what the classic tools print. Every zone file on the machine and a
//! stream of generated TZ strings (valid, v3-extended and malformed) are
//! set in `TZ` for glibc and resolved by us, and `localtime_r`/`gmtime_r`
//! must agree with `Zone::localtime`/`Zone::gmtime` on every field.
//!
//! This binary holds a single test because it changes the process's `TZ`.

use std::ffi::CStr;
use std::path::Path;

use ntpbox::tz::civil;
use ntpbox::tz::{Zone, ZoneDir};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const ZONEINFO: &str = "/usr/share/zoneinfo";

extern "C" {
    fn tzset();
}

/// What both sides say about one moment, in comparable form.
#[derive(Debug, PartialEq, Eq)]
struct Moment {
    year: i64,
    mon: u32,
    mday: u32,
    hour: u32,
    min: u32,
    sec: u32,
    wday: u32,
    yday: u32,
    isdst: i32,
    gmtoff: i64,
    zone: Vec<u8>,
}

fn glibc_convert(t: i64, local: bool) -> Option<Moment> {
    // SAFETY: an all-zero `tm` is a valid value to be overwritten.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let tt: libc::time_t = t;
    // SAFETY: valid pointers to a time and a tm, as the functions require.
    let r = unsafe {
        if local {
            libc::localtime_r(&tt, &mut tm)
        } else {
            libc::gmtime_r(&tt, &mut tm)
        }
    };
    if r.is_null() {
        return None;
    }
    let zone = if tm.tm_zone.is_null() {
        Vec::new()
    } else {
        // SAFETY: glibc sets tm_zone to a NUL-terminated string it owns.
        unsafe { CStr::from_ptr(tm.tm_zone) }.to_bytes().to_vec()
    };
    Some(Moment {
        year: i64::from(tm.tm_year) + 1900,
        mon: tm.tm_mon as u32,
        mday: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        min: tm.tm_min as u32,
        sec: tm.tm_sec as u32,
        wday: tm.tm_wday as u32,
        yday: tm.tm_yday as u32,
        isdst: tm.tm_isdst,
        gmtoff: tm.tm_gmtoff,
        zone: if local { zone } else { b"GMT".to_vec() },
    })
}

fn ours_local(zone: &Zone, t: i64) -> Option<Moment> {
    zone.localtime(t).map(|lt| Moment {
        year: lt.tm.year,
        mon: lt.tm.mon,
        mday: lt.tm.mday,
        hour: lt.tm.hour,
        min: lt.tm.min,
        sec: lt.tm.sec,
        wday: lt.tm.wday,
        yday: lt.tm.yday,
        isdst: i32::from(lt.isdst),
        gmtoff: i64::from(lt.utoff),
        zone: lt.abbr.to_vec(),
    })
}

fn ours_utc(zone: &Zone, t: i64) -> Option<Moment> {
    zone.gmtime(t).map(|tm| Moment {
        year: tm.year,
        mon: tm.mon,
        mday: tm.mday,
        hour: tm.hour,
        min: tm.min,
        sec: tm.sec,
        wday: tm.wday,
        yday: tm.yday,
        isdst: 0,
        gmtoff: 0,
        zone: b"GMT".to_vec(),
    })
}

fn set_tz(value: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    std::env::set_var("TZ", std::ffi::OsStr::from_bytes(value));
    // SAFETY: tzset has no preconditions.
    unsafe { tzset() };
}

/// Compares both sides at `t`; returns a description of any difference.
fn compare(tz: &[u8], zone: &Zone, t: i64) -> Result<(), String> {
    let (g, o) = (glibc_convert(t, true), ours_local(zone, t));
    if g != o {
        return Err(format!(
            "TZ={:?} t={t}: localtime glibc {g:?} ours {o:?}",
            String::from_utf8_lossy(tz)
        ));
    }
    let (g, o) = (glibc_convert(t, false), ours_utc(zone, t));
    if g != o {
        return Err(format!(
            "TZ={:?} t={t}: gmtime glibc {g:?} ours {o:?}",
            String::from_utf8_lossy(tz)
        ));
    }
    Ok(())
}

/// A deterministic spread of times: the zone's changes between 1800 and
/// 2100 and the seconds around them, then pseudo-random times over the
/// whole 64-bit range and near the edges of representable years.
fn probe_times(zone: &Zone, seed: u64) -> Vec<i64> {
    let mut times = Vec::new();
    let mut t = civil::year_start(1800);
    let end = civil::year_start(2100);
    while times.len() < 600 {
        match zone.next_change_after(t) {
            Some(c) if c < end => {
                times.extend([c - 1, c, c + 1]);
                t = c;
            }
            _ => break,
        }
    }
    let mut x = seed | 1;
    for i in 0..200 {
        // xorshift64: cheap, deterministic, spread over all bits.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = x as i64;
        times.push(match i % 4 {
            0 => r,
            1 => r >> 28,
            2 => civil::last_representable() - (r & 0xffff_ffff) + (1 << 31),
            _ => civil::first_representable() + (r & 0xffff_ffff) - (1 << 31),
        });
    }
    times
}

fn zone_files() -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![Path::new(ZONEINFO).to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let is_tzif = std::fs::read(&path).is_ok_and(|b| b.starts_with(b"TZif"));
                if is_tzif {
                    let rel = path.strip_prefix(ZONEINFO).unwrap();
                    found.push(rel.to_string_lossy().into_owned());
                }
            }
        }
    }
    found.sort();
    found
}

/// TZ strings: abbreviations, offsets and rules of every form glibc
/// knows, with out-of-range numbers and junk mixed in.
fn tz_string() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        "[A-Z]{3,5}",
        "<[+-]?[0-9]{2,4}>",
        "<[A-Za-z0-9+-]{1,6}>",
        // Too short to be a name; never "M", which would start a month rule.
        "[A-LN-Za-z][A-Za-z]?",
        Just(String::new()),
    ];
    let num = prop_oneof![0u32..25, 0u32..200, Just(65535u32), Just(70000u32)];
    let hms = (
        num.clone(),
        prop::option::of(0u32..70),
        prop::option::of(0u32..70),
    )
        .prop_map(|(h, m, s)| {
            let mut v = h.to_string();
            if let Some(m) = m {
                v += &format!(":{m:02}");
                if let Some(s) = s {
                    v += &format!(":{s:02}");
                }
            }
            v
        });
    let offset = (prop_oneof![Just(""), Just("+"), Just("-")], hms.clone())
        .prop_map(|(sign, hms)| format!("{sign}{hms}"));
    let time = prop::option::of((prop_oneof![Just(""), Just("-"), Just("+")], hms))
        .prop_map(|t| t.map_or(String::new(), |(sign, hms)| format!("/{sign}{hms}")));
    let date = prop_oneof![
        // Months stay 1-12: with another month glibc reads past its
        // month table, and what it finds there is not ours to know.
        (1u32..13, 0u32..7, 0u32..8).prop_map(|(m, n, d)| format!("M{m}.{n}.{d}")),
        (0u32..370).prop_map(|n| format!("J{n}")),
        (0u32..370).prop_map(|n| n.to_string()),
        Just("X".to_string()),
    ];
    let rule = (date, time).prop_map(|(d, t)| format!("{d}{t}"));
    let dst = prop::option::of((
        name.clone(),
        prop::option::of(offset.clone()),
        prop::option::of((rule.clone(), prop::option::of(rule))),
    ));
    // Junk never starts a month rule, for the same reason.
    let junk = prop_oneof![4 => Just(String::new()), 1 => "[ -LN-~]{1,4}"];
    (name, offset, dst, junk).prop_map(|(std_name, std_off, dst, junk)| {
        let mut s = format!("{std_name}{std_off}");
        if let Some((dst_name, dst_off, rules)) = dst {
            s += &dst_name;
            s += &dst_off.unwrap_or_default();
            if let Some((start, end)) = rules {
                s += &format!(",{start}");
                if let Some(end) = end {
                    s += &format!(",{end}");
                }
            }
        }
        s + &junk
    })
}

/// Room for proptest's deeply nested strategies in unoptimized builds.
const TEST_STACK: usize = 64 << 20;

#[test]
fn local_time_matches_the_c_library() {
    let worker = std::thread::Builder::new().stack_size(TEST_STACK);
    let result = worker.spawn(compare_with_glibc).unwrap().join();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn compare_with_glibc() {
    let zones = zone_files();
    if zones.is_empty() {
        if std::env::var_os("NTPBOX_REQUIRE_ALL").is_some_and(|v| v == "1") {
            panic!("no zone files under {ZONEINFO}, and NTPBOX_REQUIRE_ALL=1 requires them");
        }
        eprintln!("SKIPPED: no zone files under {ZONEINFO}");
        return;
    }
    std::env::remove_var("TZDIR");
    // One resolver for the whole run: it mirrors glibc's state across zones.
    let dir = ZoneDir::new(None);
    let mut failures = Vec::new();
    for (i, name) in zones.iter().enumerate() {
        set_tz(name.as_bytes());
        let zone = dir.resolve(Some(name.as_bytes()));
        for t in probe_times(&zone, 0x9e37_79b9_7f4a_7c15 ^ i as u64) {
            if let Err(e) = compare(name.as_bytes(), &zone, t) {
                failures.push(e);
                break;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} zones differ:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // glibc keeps the start of year 0 cached in rules it failed to parse,
    // so times in that one year are left out of the string comparison.
    let year0 = civil::year_start(0)..civil::year_start(1);
    let mut runner = TestRunner::new(Config {
        cases: 3000,
        failure_persistence: None,
        ..Config::default()
    });
    let times = prop::collection::vec(
        prop_oneof![
            any::<i64>(),
            -(1i64 << 36)..(1i64 << 36),
            -(1i64 << 33)..(1i64 << 32)
        ],
        30,
    );
    // Zone names are mixed in: glibc carries state from one zone to the
    // next (a TZ string without rules depends on the zones read before).
    let tz_value = prop_oneof![3 => tz_string(), 1 => prop::sample::select(zones)];
    runner
        .run(&(tz_value, times), |(s, times)| {
            set_tz(s.as_bytes());
            let zone = dir.resolve(Some(s.as_bytes()));
            for t in times.into_iter().filter(|t| !year0.contains(t)) {
                compare(s.as_bytes(), &zone, t).map_err(TestCaseError::fail)?;
            }
            Ok(())
        })
        .unwrap();
}
