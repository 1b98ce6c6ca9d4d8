//! zdump against the system's zdump (glibc 2.36, tzcode-based): the same
//! arguments must give the same bytes on stdout and stderr and the same
//! exit status. Covers every zone file on the machine (`-v -c 1900,2040`),
//! `-i` and `-V` over a sample, TZ strings, crafted zone files (including
//! ones where zdump's 12-hour sampling misses or merges transitions), the
//! options and every error.

mod common;

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ntpbox::tz::tzif::{LeapSecond, LocalTimeType, TzifData};
use ntpbox::tz::tzif_write::encode;

const SYSTEM_ZDUMP: &str = "/usr/bin/zdump";
const ZONEINFO: &str = "/usr/share/zoneinfo";
/// The all-zones comparison runs in this many batches, two at a time.
const BATCHES: usize = 6;

/// The system zdump, or None (after skip_or_fail) when it is missing.
fn system_zdump() -> Option<PathBuf> {
    let path = PathBuf::from(SYSTEM_ZDUMP);
    if path.is_file() && Path::new(ZONEINFO).join("UTC").is_file() {
        Some(path)
    } else {
        common::skip_or_fail("the system zdump (/usr/bin/zdump) and /usr/share/zoneinfo");
        None
    }
}

/// Both commands get the same argv[0], so messages name the same program.
fn ours() -> Command {
    let mut cmd = common::applet("zdump");
    clean_env(&mut cmd);
    cmd
}

fn theirs(system: &Path) -> Command {
    let argv0 = common::applet_dir().join("zdump");
    let mut cmd = Command::new(system);
    cmd.arg0(argv0).env("LC_ALL", "C");
    clean_env(&mut cmd);
    cmd
}

fn clean_env(cmd: &mut Command) {
    cmd.env_remove("TZDIR")
        .env_remove("POSIXLY_CORRECT")
        .env_remove("TZ");
}

fn run(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run zdump")
}

/// Shows the first differing line of two outputs, with its neighbours.
fn first_difference(what: &str, a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let (al, bl): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let i = al
        .iter()
        .zip(&bl)
        .position(|(x, y)| x != y)
        .unwrap_or(al.len().min(bl.len()));
    format!(
        "{what} differs at line {}:\n  system: {:?}\n  ours:   {:?}\n  ({} vs {} lines)",
        i + 1,
        al.get(i),
        bl.get(i),
        al.len(),
        bl.len()
    )
}

/// Asserts that both programs behave identically for `args`.
fn assert_same_with(system: &Path, args: &[&OsStr], setup: impl Fn(&mut Command)) {
    let mut a = theirs(system);
    let mut b = ours();
    a.args(args);
    b.args(args);
    setup(&mut a);
    setup(&mut b);
    let (sys, our) = (run(a), run(b));
    let shown: Vec<_> = args.iter().take(6).map(|a| a.to_string_lossy()).collect();
    assert!(
        sys.stdout == our.stdout,
        "{}",
        first_difference(&format!("stdout of {shown:?}"), &sys.stdout, &our.stdout)
    );
    assert!(
        sys.stderr == our.stderr,
        "{}",
        first_difference(&format!("stderr of {shown:?}"), &sys.stderr, &our.stderr)
    );
    assert_eq!(
        sys.status.code(),
        our.status.code(),
        "exit status of {shown:?}"
    );
}

fn assert_same(system: &Path, args: &[&str]) {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    assert_same_with(system, &args, |_| {});
}

/// Every TZif file under the zone directory, as zone names.
fn all_zone_names() -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::from(ZONEINFO)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read zoneinfo").flatten() {
            let path = entry.path();
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && std::fs::read(&path).is_ok_and(|b| b.starts_with(b"TZif")) {
                found.push(
                    path.strip_prefix(ZONEINFO)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_zone_file_verbose_1900_to_2040() {
    let Some(system) = system_zdump() else { return };
    let zones = all_zone_names();
    assert!(zones.len() > 400, "only {} zone files found", zones.len());
    let batches: Vec<Vec<String>> = zones
        .chunks(zones.len().div_ceil(BATCHES))
        .map(<[String]>::to_vec)
        .collect();
    // Two system zdumps at a time (the machine has two cores); ours is quick.
    for pair in batches.chunks(2) {
        std::thread::scope(|s| {
            for batch in pair {
                let system = system.clone();
                s.spawn(move || {
                    let mut args: Vec<&str> = vec!["-v", "-c", "1900,2040"];
                    args.extend(batch.iter().map(String::as_str));
                    assert_same(&system, &args);
                });
            }
        });
    }
}

/// A spread of zones: every 12th zone file, and zones known to be odd
/// (negative DST, leap seconds, 15-minute offsets, many changes).
fn sample_zones() -> Vec<String> {
    let mut zones: Vec<String> = all_zone_names().into_iter().step_by(12).collect();
    for z in [
        "Europe/Dublin",
        "Africa/Casablanca",
        "Asia/Kathmandu",
        "Pacific/Chatham",
        "Australia/Lord_Howe",
        "America/Sao_Paulo",
        "Antarctica/Troll",
        "right/Europe/London",
        "right/UTC",
        "Hongkong",
        "Factory",
    ] {
        zones.push(z.to_string());
    }
    zones
}

#[test]
fn brief_and_less_verbose_listings_of_a_sample() {
    let Some(system) = system_zdump() else { return };
    let zones = sample_zones();
    for opts in [
        &["-i", "-c", "1900,2040"][..],
        &["-V", "-c", "1900,2040"],
        &["-i", "-t", "-2000000000,4000000000"],
    ] {
        let mut args = opts.to_vec();
        args.extend(zones.iter().map(String::as_str));
        assert_same(&system, &args);
    }
}

#[test]
fn default_range_and_time_ranges() {
    let Some(system) = system_zdump() else { return };
    // The default -v range is -500..2500.
    assert_same(
        &system,
        &["-v", "America/New_York", "right/Australia/Sydney"],
    );
    assert_same(&system, &["-V", "-c", "2024", "Europe/Berlin"]);
    assert_same(&system, &["-v", "-c", "2024,2026", "Europe/Berlin"]);
    assert_same(&system, &["-i", "-c", "2020,2026", "Europe/London"]);
    // -t: the upper cut includes a transition exactly at it.
    assert_same(
        &system,
        &["-V", "-t", "1710050400,1710054000", "America/New_York"],
    );
    assert_same(
        &system,
        &[
            "-v",
            "-c",
            "2000,2030",
            "-t",
            "1000000000,1800000000",
            "Asia/Tehran",
        ],
    );
    assert_same(&system, &["-v", "-c", "2030,2000", "UTC"]);
    // The edges of representable years, where local time stops existing.
    let first = -67_768_040_609_740_800i64;
    let last = 67_767_976_233_532_799i64;
    for edge in [first, last] {
        let range = format!("{},{}", edge - 400_000, edge + 400_000);
        for zone in [
            "Asia/Tokyo",
            "America/New_York",
            "right/UTC",
            "<-24>24<+24>,M3.2.0,M11.1.0",
        ] {
            assert_same(&system, &["-v", "-t", &range, zone]);
            assert_same(&system, &["-i", "-t", &range, zone]);
        }
    }
}

#[test]
fn tz_strings_and_zone_names() {
    let Some(system) = system_zdump() else { return };
    let names = [
        "EST5EDT,M3.2.0,M11.1.0",
        "<+0330>-3:30",
        "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
        "EST5EDT,0/0,J365/25",
        "XXX3YYY,J60/-1:30,300/26",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
        "<-25>25",
        "AAA3BBB",
        "CCC4DDD",
        "AAA3BBB",
        // A zone without transitions changes how the next such string reads.
        "Etc/GMT-6",
        "AAA3BBB",
        "EST5EDT,M3.2.0",
        "EST5,M3.2.0,M11.1.0",
        "EST5EDT,M3.2.0,M11.1.0junk",
        "No/Such_Zone",
        "America",
        ":Europe/Paris",
        "/usr/share/zoneinfo/Asia/Tokyo",
        "",
        "UTC0",
        "right/Etc/GMT-14",
        "../zoneinfo/Europe/Oslo",
    ];
    for opts in [&["-v", "-c", "1900,2040"][..], &["-i", "-c", "1960,2040"]] {
        let mut args = opts.to_vec();
        args.extend(names);
        assert_same(&system, &args);
    }
    // Without -v: the current time. The clock may tick between the two
    // runs, so a difference is retried.
    let mut now_args = vec!["Hongkong", "Europe/Berlin", "America", "UTC"];
    now_args.extend(names);
    let same_now = (0..3).any(|_| {
        let (mut a, mut b) = (theirs(&system), ours());
        a.args(&now_args);
        b.args(&now_args);
        let (x, y) = (run(a), run(b));
        x.stdout == y.stdout && x.stderr == y.stderr && x.status.code() == y.status.code()
    });
    assert!(same_now, "the current time is shown differently");
}

#[test]
fn options_messages_and_exit_statuses() {
    let Some(system) = system_zdump() else { return };
    for args in [
        &["-x"][..],
        &["-c"],
        &["-vt"],
        &["--foo", "UTC"],
        &["-v", "-c", "abc", "UTC"],
        &["-c", "abc", "UTC"],
        &["-V", "-c", "1,", "UTC"],
        &["-i", "-t", "5,x", "UTC"],
        &["="],
        &["-v", "="],
        &["=", "="],
        &["--help"],
        &["-v", "--help", "-x"],
        &["--version"],
        &[],
        &["-v"],
        &["-vV", "-c2000,2001", "Europe/Paris", "Asia/Tokyo"],
        &["Europe/Paris", "-v", "-c", "2000,2001", "Asia/Tokyo"],
        &["-v", "-c", "2000,2001", "--", "-v", "UTC"],
        &["-iv", "-c", " +2000, 2001", "UTC"],
        &["-i", "-c", "2020,2021", "America", "Europe", "<A>1"],
        &["-V", "-c", "2020,2021", "America", "Europe"],
    ] {
        assert_same(&system, args);
    }
    // With POSIXLY_CORRECT, options stop at the first zone name.
    let args: Vec<&OsStr> = ["-c", "2000,2001", "Europe/Paris", "-v"]
        .iter()
        .map(OsStr::new)
        .collect();
    assert_same_with(&system, &args, |c| {
        c.env("POSIXLY_CORRECT", "1");
    });
}

#[test]
fn version_and_help_text() {
    let out = run({
        let mut c = ours();
        c.arg("--version");
        c
    });
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "zdump (Debian GLIBC 2.36-9+deb12u14) 2.36\n"
    );
    assert_eq!(out.status.code(), Some(0));
    let out = run({
        let mut c = ours();
        c.arg("--help");
        c
    });
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(": usage: "), "{text}");
    assert!(
        text.ends_with("Report bugs to <http://www.debian.org/Bugs/>.\n"),
        "{text}"
    );
}

#[test]
fn write_errors_are_reported() {
    let Some(system) = system_zdump() else { return };
    if !Path::new("/dev/full").exists() {
        return common::skip_or_fail("/dev/full");
    }
    for args in [
        &["UTC"][..],
        &["-v", "-c", "1900,2040", "Europe/London", "America/New_York"],
    ] {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        assert_same_with(&system, &args, |c| {
            c.stdout(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            );
        });
    }
}

fn ttype(utoff: i32, isdst: bool, abbr_index: u8) -> LocalTimeType {
    LocalTimeType {
        utoff,
        isdst,
        abbr_index,
        is_std: false,
        is_ut: false,
    }
}

/// Zone files made to probe corners, written into a private TZDIR.
fn crafted_zones(dir: &Path) -> Vec<&'static str> {
    let chars = b"AAA\0BBB\0CCC\0a b\0X\0".to_vec();
    let base =
        |version: u8, transitions: Vec<i64>, types: Vec<u8>, footer: Option<&str>| TzifData {
            version,
            transitions,
            transition_types: types,
            types: vec![
                ttype(0, false, 0),
                ttype(3600, false, 0),
                ttype(7200, true, 4),
                ttype(-1800, false, 8),
            ],
            abbreviation_chars: chars.clone(),
            leap_seconds: vec![],
            footer: footer.map(|f| f.as_bytes().to_vec()),
        };
    let day = 86_400;
    let t0 = 1_000_000_000 + 7 * 3600;
    let files: Vec<(&str, TzifData)> = vec![
        // +1 h for one hour, same abbreviation: 12-hour samples skip it.
        (
            "Odd/Blip",
            base(b'2', vec![t0, t0 + 3600], vec![1, 0], Some("AAA0")),
        ),
        // Two real changes 2 h apart: bisection lands on one of them.
        (
            "Odd/Pair",
            base(
                b'2',
                vec![t0, t0 + 7200, t0 + 30 * day],
                vec![2, 3, 0],
                Some("AAA0"),
            ),
        ),
        // A 2-hour change, back, then a real one, all within 12 hours: the
        // bisection can jump over the first and land on the last.
        (
            "Odd/Skip",
            base(
                b'2',
                vec![t0, t0 + 7200, t0 + 14_400],
                vec![2, 0, 3],
                Some("CCC0:30"),
            ),
        ),
        // A version 1 file: no footer, the last type forever.
        (
            "Odd/V1",
            base(0, vec![t0, t0 + 100 * day], vec![2, 3], None),
        ),
        // Transitions in year 500 and before the first one in 1800.
        (
            "Odd/Ancient",
            base(
                b'2',
                vec![-46_800_000_000, -5_364_662_400],
                vec![3, 0],
                Some("AAA0"),
            ),
        ),
        // A footer with DST all year and a 25-hour switch (version 3).
        (
            "Odd/AllYearDst",
            base(b'3', vec![t0], vec![0], Some("AAA0BBB-1,0/0,J365/25")),
        ),
        // Abbreviations zdump warns about.
        ("Odd/Names", {
            let mut d = base(b'2', vec![t0, t0 + day], vec![3, 0], Some("AAA0"));
            d.types[3].abbr_index = 12;
            d.types[0].abbr_index = 16;
            d
        }),
        // Leap seconds with a version 4 truncated start and an expiry.
        ("Odd/Leaps", {
            let mut d = base(b'4', vec![t0], vec![1], Some("<+01>-1"));
            d.leap_seconds = vec![
                LeapSecond {
                    occurrence: t0 + day,
                    correction: 25,
                },
                LeapSecond {
                    occurrence: t0 + 200 * day + 26,
                    correction: 26,
                },
                LeapSecond {
                    occurrence: t0 + 400 * day + 27,
                    correction: 26,
                },
            ];
            d
        }),
    ];
    std::fs::create_dir_all(dir.join("Odd")).unwrap();
    let mut names = Vec::new();
    for (name, data) in files {
        std::fs::write(dir.join(name), encode(&data)).unwrap();
        names.push(name);
    }
    std::fs::write(dir.join("Odd/Broken"), b"TZif2 not really").unwrap();
    names.push("Odd/Broken");
    names
}

#[test]
fn crafted_zone_files_including_sampling_oddities() {
    let Some(system) = system_zdump() else { return };
    let dir = tempfile::tempdir().unwrap();
    let names = crafted_zones(dir.path());
    let with_tzdir = |c: &mut Command| {
        c.env("TZDIR", dir.path());
    };
    for opts in [
        &["-v", "-c", "400,2040"][..],
        &["-i", "-c", "400,2040"],
        &["-V", "-c", "1990,2040"],
        &[],
    ] {
        let mut args: Vec<&OsStr> = opts.iter().map(OsStr::new).collect();
        args.extend(names.iter().map(OsStr::new));
        assert_same_with(&system, &args, with_tzdir);
    }
    // Each zone alone too: zdump's warnings come once per invocation
    // without -v.
    for name in &names {
        assert_same_with(&system, &[OsStr::new(name)], with_tzdir);
    }
}
