//! hwclock on a real RTC: the guest's rtc_cmos in a throwaway VM, where it
//! may set both the RTC and the system clock. Each test is one boot.
//! The kernel writes the RTC by itself (11-minute mode) only once something
//! clears STA_UNSYNC; nothing here does, and setting the clock sets it.

mod common;

use std::time::Duration;

use common::vm::{self, VmOptions, VmResult};

/// Where the tests put util-linux's hwclock in the guest.
const UTIL_LINUX: &str = "/opt/util-linux/hwclock";

/// The RTC's start for most tests, and the same instant in Unix seconds.
const RTC_BASE: &str = "2020-01-01T00:00:00";
const RTC_BASE_EPOCH: f64 = 1_577_836_800.0;

/// 2023-03-04 05:06:07 UTC, a system time the tests set.
const KNOWN: &str = "2023-03-04 05:06:07";
const KNOWN_EPOCH: f64 = 1_677_906_367.0;

/// A European zone with summer time, as a POSIX TZ rule (the guest has no
/// zoneinfo files): UTC+1, UTC+2 from late March to late October.
const CET: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

/// Each VM run's limit: the boot plus a handful of hwclock runs of up to
/// 2 s each (a tick wait, a set at the half second).
const VM_LIMIT: Duration = Duration::from_secs(90);

/// The host's GNU date in the guest, for `+%s.%N`: busybox's date has no
/// sub-second output, and the tests compare times to the millisecond.
const PRECISE_DATE: &str = "/opt/coreutils/date";

fn boot(script: &str, opts: VmOptions) -> Option<VmResult> {
    let script = script.replace("date +%s.%N", &format!("{PRECISE_DATE} +%s.%N"));
    let opts = opts.file("/bin/date", PRECISE_DATE).timeout(VM_LIMIT);
    let r = vm::run_test(&script, &opts)?;
    eprintln!("VM run took {:.2?}\n{}", r.elapsed, r.output);
    r.assert_success();
    Some(r)
}

/// The VM options with util-linux's hwclock in the guest, or None (after
/// skip_or_fail) when the kit has not fetched it.
fn with_util_linux(opts: VmOptions) -> Option<VmOptions> {
    match vm::kit_file("VMTEST_UTIL_LINUX_HWCLOCK") {
        Some(path) => Some(opts.file(path, UTIL_LINUX)),
        None => {
            common::skip_or_fail("util-linux's hwclock in the VM kit (scripts/vm/setup.sh)");
            None
        }
    }
}

/// hwclock's display format, `2023-03-04 05:06:07.123456+00:00`, as Unix
/// seconds.
fn displayed(r: &VmResult, key: &str) -> f64 {
    let text = r.value(key);
    let t = chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z").unwrap_or_else(|e| {
        panic!(
            "`{key}` is not hwclock's format ({e}): {text}\n{}",
            r.report()
        )
    });
    t.timestamp_micros() as f64 / 1e6
}

/// A number the guest printed (`date +%s.%N`, sysfs seconds).
fn number(r: &VmResult, key: &str) -> f64 {
    let text = r.value(key);
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("`{key}` is not a number ({e}): {text}\n{}", r.report()))
}

fn assert_near(r: &VmResult, what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: {got:.6} is not within {tolerance} s of {want:.6} (off by {:.6})\n{}",
        got - want,
        r.report()
    );
}

#[test]
fn systohc_then_show_agrees_with_the_system_clock() {
    let script = format!(
        r#"set -e
date -u -s "{KNOWN}" > /dev/null
hwclock -w
echo "before $(date +%s.%N)"
echo "show $(hwclock -r)"
echo "system $(date +%s.%N)"
echo "sysfs $(cat /sys/class/rtc/rtc0/since_epoch)"
echo "adjtime $(tr '\n' '|' < /etc/adjtime)"
"#
    );
    let Some(r) = boot(&script, VmOptions::new().rtc_base(RTC_BASE)) else {
        return;
    };
    let before = number(&r, "before");
    // -r reports the RTC at the moment it started, right after `before`.
    // Within a second, not better: qemu's RTC keeps its own phase of the
    // second whatever the moment it is written at (util-linux's hwclock
    // reads it 0.2 to 0.3 s off as well; the interop test compares them).
    assert_near(&r, "RTC read by -r", displayed(&r, "show"), before, 1.0);
    assert_near(
        &r,
        "rtc0 since_epoch",
        number(&r, "sysfs"),
        number(&r, "system"),
        1.0,
    );
    assert_near(&r, "the time written", before, KNOWN_EPOCH, 10.0);
    // the calibration time is when -w ran: the known time plus a second or two
    let adjtime = r.value("adjtime");
    let fields: Vec<&str> = adjtime.split(['|', ' ']).collect();
    let calibrated: f64 = fields[3].parse().unwrap();
    assert_near(&r, "last calibration", calibrated, KNOWN_EPOCH, 5.0);
    assert_eq!(
        adjtime,
        format!("0.000000 {} 0.000000|{}|UTC|", fields[3], fields[3])
    );
}

#[test]
fn hctosys_puts_the_system_clock_back_to_the_rtc() {
    let script = format!(
        r#"set -e
date -u -s "{KNOWN}" > /dev/null
hwclock -w
date -u -s "2030-01-01 00:00:00" > /dev/null
echo "moved $(date +%s)"
hwclock -s
echo "system $(date +%s.%N)"
echo "sysfs $(cat /sys/class/rtc/rtc0/since_epoch)"
"#
    );
    let Some(r) = boot(&script, VmOptions::new().rtc_base(RTC_BASE)) else {
        return;
    };
    assert!(number(&r, "moved") > 1.89e9, "{}", r.report());
    let system = number(&r, "system");
    // back at the known time plus the few seconds the script took
    assert!(
        (KNOWN_EPOCH..KNOWN_EPOCH + 10.0).contains(&system),
        "system clock {system} not restored near {KNOWN_EPOCH}\n{}",
        r.report()
    );
    assert_near(
        &r,
        "rtc0 and the system clock",
        number(&r, "sysfs"),
        system,
        1.0,
    );
}

#[test]
fn set_date_round_trips_in_the_forms_people_use() {
    let script = r#"set -e
hwclock --set --date "2024-02-29 23:59:30"
echo "show $(hwclock -r)"
echo "sysfs $(cat /sys/class/rtc/rtc0/date) $(cat /sys/class/rtc/rtc0/time)"
echo "system $(date -u +%Y-%m-%d)"
echo "adjtime $(tr '\n' '|' < /etc/adjtime)"
hwclock --set --date @1700000000
echo "epoch $(hwclock -r)"
hwclock --set --date 2025-01-01T12:00:00+02:00
echo "iso $(hwclock -r)"
"#;
    let Some(r) = boot(script, VmOptions::new().rtc_base(RTC_BASE)) else {
        return;
    };
    // set at its start, read a second or two later
    let show = displayed(&r, "show");
    assert!(
        (1_709_251_170.0..1_709_251_174.0).contains(&show),
        "{show}\n{}",
        r.report()
    );
    assert!(
        r.value("sysfs").starts_with("2024-02-29 23:59:3"),
        "{}",
        r.report()
    );
    assert_eq!(r.value("system"), "2020-01-01", "the system clock moved");
    assert_eq!(
        r.value("adjtime"),
        "0.000000 1709251170 0.000000|1709251170|UTC|"
    );
    let epoch = displayed(&r, "epoch");
    assert!((1.7e9..1.7e9 + 3.0).contains(&epoch), "{}", r.report());
    let iso = displayed(&r, "iso");
    assert!(
        (1_735_725_600.0..1_735_725_603.0).contains(&iso),
        "{}",
        r.report()
    );
}

#[test]
fn localtime_rtc_follows_tz_and_adjtime_local() {
    let Some(opts) = with_util_linux(VmOptions::new().rtc_base(RTC_BASE)) else {
        return;
    };
    let script = format!(
        r#"set -e
export TZ='{CET}'
printf '0.0 0 0.0\n0\nLOCAL\n' > /etc/adjtime
date -u -s "2023-06-15 12:00:00" > /dev/null
hwclock -w
echo "sysfs $(cat /sys/class/rtc/rtc0/time)"
echo "show $(hwclock -r)"
echo "asutc $(hwclock -r --utc)"
echo "noadj $(hwclock -r --noadjfile --localtime)"
echo "theirs $({UTIL_LINUX} -r)"
echo "adjtime $(tail -1 /etc/adjtime)"
hwclock -w --utc
echo "utc_sysfs $(cat /sys/class/rtc/rtc0/time)"
echo "utc_adjtime $(tail -1 /etc/adjtime)"
"#
    );
    let Some(r) = boot(&script, opts) else {
        return;
    };
    let written = 1_686_830_400.0; // 2023-06-15 12:00:00 UTC = 14:00 CEST
    assert!(r.value("sysfs").starts_with("14:00:0"), "{}", r.report());
    assert!(r.value("show").ends_with("+02:00"), "{}", r.report());
    assert!(
        r.value("show").starts_with("2023-06-15 14:00:0"),
        "{}",
        r.report()
    );
    assert_near(&r, "local RTC read", displayed(&r, "show"), written, 8.0);
    assert_near(
        &r,
        "--noadjfile --localtime",
        displayed(&r, "noadj"),
        written,
        8.0,
    );
    // read as UTC, 14:00 is two hours later than the truth
    assert_near(&r, "--utc", displayed(&r, "asutc"), written + 7200.0, 8.0);
    assert_near(
        &r,
        "util-linux on the same RTC",
        displayed(&r, "theirs"),
        displayed(&r, "show"),
        5.0,
    );
    assert_eq!(r.value("adjtime"), "LOCAL");
    // switching to --utc rewrites the RTC in UTC and records it
    assert!(r.value("utc_sysfs").starts_with("12:00:"), "{}", r.report());
    assert_eq!(r.value("utc_adjtime"), "UTC");
}

#[test]
fn adjust_applies_the_drift_of_a_crafted_adjtime() {
    let Some(opts) = with_util_linux(VmOptions::new().rtc_base(RTC_BASE)) else {
        return;
    };
    // 86.4 s/day (1 ms/s) for 10 days: the RTC is 864 s slow
    let script = format!(
        r#"set -e
last=$(($(date +%s) - 864000))
printf '86.4 %s 0.0\n%s\nUTC\n' $last $last > /etc/adjtime
echo "before $(date +%s.%N)"
echo "get $(hwclock --get)"
echo "show $(hwclock -r)"
hwclock --adjust
echo "after $(date +%s.%N)"
echo "adjusted $(hwclock -r)"
echo "adjtime $(tr '\n' '|' < /etc/adjtime)"
echo "theirs $({UTIL_LINUX} --get)"
echo "mine $(hwclock --get)"
"#
    );
    let Some(r) = boot(&script, opts) else {
        return;
    };
    let before = number(&r, "before");
    assert_near(&r, "before the boot", before, RTC_BASE_EPOCH, 30.0);
    assert_near(
        &r,
        "--get corrects",
        displayed(&r, "get"),
        before + 864.0,
        2.0,
    );
    assert_near(&r, "-r does not", displayed(&r, "show"), before, 2.0);
    let after = number(&r, "after");
    assert_near(
        &r,
        "the adjusted RTC",
        displayed(&r, "adjusted"),
        after + 864.0,
        1.0,
    );
    // line 1 now: same factor, last adjustment = the corrected time then
    let adjtime = r.value("adjtime");
    let fields: Vec<&str> = adjtime.split(['|', ' ']).collect();
    assert_eq!(fields[0], "86.400000", "{adjtime}");
    let last_adjust: f64 = fields[1].parse().unwrap();
    assert_near(&r, "last adjustment", last_adjust, after + 864.0, 3.0);
    assert_eq!(fields[2], "0.000000");
    // with the history reset, both tools now see a near-zero correction
    assert_near(
        &r,
        "util-linux --get after the adjustment",
        displayed(&r, "theirs"),
        displayed(&r, "adjusted"),
        5.0,
    );
    assert_near(
        &r,
        "--get",
        displayed(&r, "mine"),
        displayed(&r, "theirs"),
        2.0,
    );
}

#[test]
fn test_mode_changes_nothing() {
    let script = format!(
        r#"
date -u -s "{KNOWN}" > /dev/null
hwclock -w --test > w.out; echo "w_rc $?"
echo "w_last $(tail -1 w.out)"
echo "rtc_after_w $(cat /sys/class/rtc/rtc0/date)"
if [ -e /etc/adjtime ]; then echo "adjtime present"; else echo "adjtime absent"; fi
hwclock --set --date 2030-01-01 --test > /dev/null; echo "set_rc $?"
echo "rtc_after_set $(cat /sys/class/rtc/rtc0/date)"
hwclock -s --test > /dev/null; echo "s_rc $?"
echo "system_after_s $(date -u +%Y-%m-%d)"
printf '86.4 1 0.0\n1\nUTC\n' > /etc/adjtime
cp /etc/adjtime /tmp/adjtime.before
hwclock -a --test > /dev/null; echo "a_rc $?"
if cmp -s /etc/adjtime /tmp/adjtime.before; then echo "adjtime unchanged"; fi
echo "rtc_after_a $(cat /sys/class/rtc/rtc0/date)"
TZ=CET-1 hwclock --systz --localtime --test > /dev/null; echo "systz_rc $?"
echo "system_after_systz $(date -u +%Y-%m-%d\ %H)"
"#
    );
    let Some(r) = boot(&script, VmOptions::new().rtc_base(RTC_BASE)) else {
        return;
    };
    for rc in ["w_rc", "set_rc", "s_rc", "a_rc", "systz_rc"] {
        assert_eq!(r.value(rc), "0", "{rc}\n{}", r.report());
    }
    assert_eq!(r.value("w_last"), "Test mode: nothing was changed.");
    assert_eq!(r.value("rtc_after_w"), "2020-01-01");
    assert_eq!(r.value("adjtime"), "absent");
    assert_eq!(r.value("rtc_after_set"), "2020-01-01");
    assert_eq!(r.value("system_after_s"), "2023-03-04");
    assert!(r.output.contains("adjtime unchanged"), "{}", r.report());
    assert_eq!(r.value("rtc_after_a"), "2020-01-01");
    assert_eq!(r.value("system_after_systz"), "2023-03-04 05");
}

/// `--systz` on an RTC in local time: the first zone setting after boot
/// shifts the system clock, which the kernel set from the RTC as if it were
/// UTC, by the zone offset; later ones do not.
#[test]
fn systz_on_a_local_rtc_corrects_the_clock_once() {
    // the RTC holds 01:00 CET, which is 00:00 UTC
    let script = r#"set -e
export TZ=CET-1
echo "before $(date +%s)"
hwclock --systz --localtime
echo "after $(date +%s)"
hwclock --systz --localtime
echo "again $(date +%s)"
"#;
    let Some(r) = boot(script, VmOptions::new().rtc_base("2020-01-01T01:00:00")) else {
        return;
    };
    let (before, after, again) = (
        number(&r, "before"),
        number(&r, "after"),
        number(&r, "again"),
    );
    assert_near(
        &r,
        "booted as if the RTC were UTC",
        before,
        RTC_BASE_EPOCH + 3600.0,
        30.0,
    );
    assert_near(&r, "warped back by an hour", after - before, -3600.0, 2.0);
    assert_near(&r, "not warped twice", again - after, 0.0, 2.0);
}

#[test]
fn systz_on_a_utc_rtc_keeps_the_clock_and_locks_the_warp() {
    let script = r#"set -e
export TZ=CET-1
echo "before $(date +%s)"
hwclock --systz --utc
echo "after $(date +%s)"
hwclock --systz --localtime
echo "again $(date +%s)"
"#;
    let Some(r) = boot(script, VmOptions::new().rtc_base(RTC_BASE)) else {
        return;
    };
    let (before, after, again) = (
        number(&r, "before"),
        number(&r, "after"),
        number(&r, "again"),
    );
    assert_near(&r, "--systz --utc", after - before, 0.0, 2.0);
    assert_near(&r, "a later --localtime", again - after, 0.0, 2.0);
}

#[test]
fn verbose_shows_the_clock_tick_wait_and_the_set() {
    let script = r#"
hwclock -r -v > /tmp/r.out 2>&1; echo "r_rc $?"
sed 's/^/R /' /tmp/r.out
hwclock -w -v > /tmp/w.out 2>&1; echo "w_rc $?"
sed 's/^/W /' /tmp/w.out
"#;
    let Some(r) = boot(script, VmOptions::new().rtc_base(RTC_BASE)) else {
        return;
    };
    assert_eq!(r.value("r_rc"), "0");
    assert_eq!(r.value("w_rc"), "0");
    let lines = |prefix: &str| -> Vec<String> {
        r.output
            .lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(str::to_string)
            .collect()
    };
    let read = lines("R ");
    let expected_start = [
        format!("hwclock from ntpbox {}", env!("CARGO_PKG_VERSION")),
        "System Time: ".into(),
        "Trying to open: /dev/rtc0".into(),
        "Using the rtc interface to the clock.".into(),
        "Assuming hardware clock is kept in UTC time.".into(),
        "Waiting for clock tick...".into(),
        "...got clock tick".into(),
        "Time read from Hardware Clock: 2020/01/01 00:00:".into(),
        "Hw clock time : 2020/01/01 00:00:".into(),
        "Time since last adjustment is 15778368".into(),
        "Calculated Hardware Clock drift is 0.000000 seconds".into(),
        "2020-01-01 00:00:".into(),
    ];
    assert_eq!(read.len(), expected_start.len(), "{}", r.report());
    for (line, want) in read.iter().zip(&expected_start) {
        assert!(
            line.starts_with(want.as_str()),
            "{line:?} should start with {want:?}"
        );
    }
    let write = lines("W ");
    for want in [
        "RTC type: 'rtc_cmos'",
        "Using delay: 0.500000 seconds",
        "Setting Hardware Clock to 00:00:",
        "ioctl(RTC_SET_TIME) was successful.",
        "Not adjusting drift factor because the --update-drift option was not used.",
        "New /etc/adjtime data:",
    ] {
        assert!(
            write.iter().any(|l| l.starts_with(want)),
            "no {want:?} in -w -v\n{}",
            r.report()
        );
    }
}

#[test]
fn util_linux_and_ntpbox_read_the_same_rtc_and_each_others_adjtime() {
    let Some(opts) = with_util_linux(VmOptions::new().rtc_base(RTC_BASE)) else {
        return;
    };
    let script = format!(
        r#"set -e
UL={UTIL_LINUX}
date -u -s "{KNOWN}" > /dev/null
hwclock -w
echo "ours_before $(date +%s.%N)"
echo "ours $(hwclock -r)"
echo "theirs_before $(date +%s.%N)"
echo "theirs $($UL -r)"
echo "our_adjtime $(tr '\n' '|' < /etc/adjtime)"
$UL -r -v > /tmp/ul.out 2> /tmp/ul.err
echo "ul_stderr_bytes $(wc -c < /tmp/ul.err)"
echo "ul_calibration $(grep 'Last calibration' /tmp/ul.out)"
echo "ul_scale $(grep 'Hardware clock is on' /tmp/ul.out)"
TZ=CET-1 $UL -w --localtime
echo "ul_adjtime $(tr '\n' '|' < /etc/adjtime)"
TZ=CET-1 hwclock -r -v > /tmp/our.out 2> /tmp/our.err
echo "our_stderr_bytes $(wc -c < /tmp/our.err)"
echo "our_scale $(grep 'Hardware clock is on' /tmp/our.out)"
echo "our_calibration $(grep 'Last calibration' /tmp/our.out)"
echo "ours_local $(TZ=CET-1 hwclock -r)"
echo "theirs_local $(TZ=CET-1 $UL -r)"
last=$(($(date +%s) - 864000))
printf '86.4 %s 0.0\n%s\nUTC\n' $last $last > /etc/adjtime
$UL --adjust
echo "ul_adjusted $(tr '\n' '|' < /etc/adjtime)"
hwclock --get -v > /tmp/get.out 2> /tmp/get.err
echo "get_stderr_bytes $(wc -c < /tmp/get.err)"
echo "our_last_adjust $(grep 'Last drift adjustment' /tmp/get.out)"
"#
    );
    let Some(r) = boot(&script, opts) else {
        return;
    };
    // each reports the RTC at its own start, just after its `before`
    let ours = displayed(&r, "ours") - number(&r, "ours_before");
    let theirs = displayed(&r, "theirs") - number(&r, "theirs_before");
    // (both see qemu's RTC phase, a fraction of a second from the guest's)
    assert_near(&r, "our reading", ours, 0.0, 1.0);
    assert_near(&r, "util-linux's reading", theirs, 0.0, 1.0);
    // (the rest is the start-up time of each program after its `before`,
    // a few tens of ms, more on a loaded host)
    assert_near(&r, "the two readings", ours, theirs, 0.25);

    // util-linux reads the file we wrote, without complaint
    let our_adjtime = r.value("our_adjtime").to_string();
    let calibrated = our_adjtime.split('|').nth(1).unwrap();
    assert_eq!(r.value("ul_stderr_bytes"), "0", "{}", r.report());
    assert_eq!(
        r.value("ul_calibration"),
        format!("Last calibration done at {calibrated} seconds after 1969")
    );
    assert_eq!(r.value("ul_scale"), "Hardware clock is on UTC time");

    // and we read the one it wrote
    let ul_adjtime = r.value("ul_adjtime").to_string();
    assert!(ul_adjtime.ends_with("|LOCAL|"), "{ul_adjtime}");
    let ul_calibrated = ul_adjtime.split('|').nth(1).unwrap();
    assert_eq!(r.value("our_stderr_bytes"), "0", "{}", r.report());
    assert_eq!(r.value("our_scale"), "Hardware clock is on local time");
    assert_eq!(
        r.value("our_calibration"),
        format!("Last calibration done at {ul_calibrated} seconds after 1969")
    );
    assert_near(
        &r,
        "both on the local-time RTC",
        displayed(&r, "ours_local"),
        displayed(&r, "theirs_local"),
        3.0,
    );

    // a drift adjustment util-linux wrote
    let adjusted = r.value("ul_adjusted").to_string();
    assert!(adjusted.starts_with("86.400000 "), "{adjusted}");
    let last_adjust = adjusted.split([' ', '|']).nth(1).unwrap();
    assert_eq!(r.value("get_stderr_bytes"), "0", "{}", r.report());
    assert_eq!(
        r.value("our_last_adjust"),
        format!("Last drift adjustment done at {last_adjust} seconds after 1969")
    );
}

/// `--update-drift`: a day after the last calibration the RTC is found
/// about 10 s slow (10 s plus the fraction of the second `--set` started
/// in), so it loses that much a day. Both tools learn the same factor from
/// the same RTC: ours first in --test mode, then util-linux's for real.
#[test]
fn update_drift_learns_the_rate_like_util_linux() {
    let Some(opts) = with_util_linux(VmOptions::new().rtc_base(RTC_BASE)) else {
        return;
    };
    let script = format!(
        r#"set -e
calibrated_yesterday() {{
    cal=$(($(date +%s) - 86400))
    printf '0.0 %s 0.0\n%s\nUTC\n' $cal $cal > /etc/adjtime
    hwclock --set --date -10s --noadjfile --utc
}}
calibrated_yesterday
hwclock -w --update-drift --test > /tmp/test.out
grep -A1 '^New /etc/adjtime data:' /tmp/test.out | sed -n '2s/^/ours_test /p'
grep -A2 '^Clock drifted' /tmp/test.out | sed 's/^/said /'
{UTIL_LINUX} -w --update-drift
echo "theirs $(head -1 /etc/adjtime)"
calibrated_yesterday
hwclock -w --update-drift
echo "ours $(head -1 /etc/adjtime)"
"#
    );
    let Some(r) = boot(&script, opts) else {
        return;
    };
    let factor = |key: &str| -> f64 {
        let line = r.value(key);
        line.split(' ').next().unwrap().parse().unwrap()
    };
    for key in ["ours_test", "theirs", "ours"] {
        let f = factor(key);
        assert!(
            (9.5..11.5).contains(&f),
            "{key}: factor {f}\n{}",
            r.report()
        );
    }
    assert_near(
        &r,
        "the two factors",
        factor("ours_test"),
        factor("theirs"),
        0.2,
    );
    let said: Vec<&str> = r
        .output
        .lines()
        .filter_map(|l| l.strip_prefix("said "))
        .collect();
    assert_eq!(said.len(), 3, "{}", r.report());
    assert!(said[0].starts_with("Clock drifted "), "{said:?}");
    assert_eq!(
        said[1],
        "in spite of a drift factor of 0.000000 seconds/day."
    );
    assert!(
        said[2].starts_with("Adjusting drift factor by "),
        "{said:?}"
    );
}

/// Without CAP_SYS_TIME, setting fails with one clear line and exit 1 and
/// leaves the adjtime file alone; reading still works.
#[test]
fn setting_without_cap_sys_time_fails_cleanly() {
    let opts = VmOptions::new()
        .rtc_base(RTC_BASE)
        .file("/usr/bin/setpriv", "/opt/util-linux/setpriv");
    let script = r#"
NOCAP="/opt/util-linux/setpriv --bounding-set=-sys_time --inh-caps=-sys_time"
printf '0.0 0 0.0\n0\nUTC\n' > /etc/adjtime
cp /etc/adjtime /tmp/adjtime.before
$NOCAP hwclock -w 2> /tmp/w.err; echo "w_rc $?"
echo "w_err $(cat /tmp/w.err)"
$NOCAP hwclock --set --date 2030-01-01 2> /tmp/set.err; echo "set_rc $?"
echo "set_err $(cat /tmp/set.err)"
if cmp -s /etc/adjtime /tmp/adjtime.before; then echo "adjtime unchanged"; fi
$NOCAP hwclock -s 2> /tmp/s.err; echo "s_rc $?"
echo "s_err $(cat /tmp/s.err)"
$NOCAP hwclock -r > /dev/null 2>&1; echo "r_rc $?"
echo "rtc $(cat /sys/class/rtc/rtc0/date)"
"#;
    let Some(r) = boot(script, opts) else {
        return;
    };
    let needs = " (needs CAP_SYS_TIME; run as root)";
    assert_eq!(r.value("w_rc"), "1");
    assert_eq!(
        r.value("w_err"),
        format!(
            "hwclock: ioctl(RTC_SET_TIME) to /dev/rtc0 to set the time failed: Permission denied{needs}"
        )
    );
    assert_eq!(r.value("set_rc"), "1");
    assert_eq!(r.value("set_err"), r.value("w_err"));
    assert!(r.output.contains("adjtime unchanged"), "{}", r.report());
    assert_eq!(r.value("s_rc"), "1");
    assert_eq!(
        r.value("s_err"),
        format!("hwclock: cannot set the kernel time zone: Operation not permitted{needs}")
    );
    assert_eq!(r.value("r_rc"), "0");
    assert_eq!(r.value("rtc"), "2020-01-01");
}
