//! hwclock on the host, where there is no RTC to touch: the messages and
//! exit statuses scripts see, option checking, and --predict (pure
//! arithmetic on an adjtime file). Reading and setting a real RTC is tested
//! in a VM (tests/vm_hwclock.rs).

mod common;

use std::path::Path;
use std::process::Output;

use common::applet;

const NO_ACCESS: &str = "hwclock: Cannot access the Hardware Clock via any known method.\n";
const VERBOSE_HINT: &str =
    "hwclock: Use the --verbose option to see the details of our search for an access method.\n";

fn hwclock(args: &[&str]) -> Output {
    applet("hwclock")
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("run hwclock")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn adjfile(dir: &tempfile::TempDir, contents: &str) -> String {
    let path = dir.path().join("adjtime");
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn missing_device_gives_util_linux_message_and_exit_1() {
    let out = hwclock(&["-r", "-f", "/nonexistent/rtc7"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(text(&out.stderr), format!("{NO_ACCESS}{VERBOSE_HINT}"));
}

#[test]
fn no_rtc_at_the_default_paths_gives_the_same_message() {
    if ["/dev/rtc0", "/dev/rtc", "/dev/misc/rtc"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        eprintln!("SKIPPED: this host has an RTC device; the -f test covers the message");
        return;
    }
    for args in [
        &[][..],
        &["-r"],
        &["--show"],
        &["--get"],
        &["-s"],
        &["-w"],
        &["-a"],
    ] {
        let out = hwclock(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            text(&out.stderr),
            format!("{NO_ACCESS}{VERBOSE_HINT}"),
            "{args:?}"
        );
    }
}

#[test]
fn verbose_shows_the_search_instead_of_the_hint() {
    let out = hwclock(&["-r", "-v", "-f", "/nonexistent/rtc7"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), NO_ACCESS);
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("hwclock from ntpbox {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(lines[1].starts_with("System Time: "), "{stdout}");
    assert_eq!(
        &lines[2..],
        [
            "Trying to open: /nonexistent/rtc7",
            "No usable clock interface found."
        ]
    );
}

#[test]
fn a_device_that_refuses_is_named() {
    // a path that is there but cannot be opened is reported with its
    // reason, not as "no clock" (a path under a plain file: ENOTDIR)
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, "").unwrap();
    let dev = file.join("rtc0");
    let out = hwclock(&["-r", "-f", dev.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("hwclock: cannot open {}: Not a directory\n", dev.display())
    );
}

#[test]
fn help_lists_the_util_linux_options() {
    let out = hwclock(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for option in [
        "-r, --show",
        "--get",
        "--set",
        "-s, --hctosys",
        "-w, --systohc",
        "--systz",
        "-a, --adjust",
        "--predict",
        "-u, --utc",
        "-l, --localtime",
        "-f, --rtc <file>",
        "--date <time>",
        "--delay <sec>",
        "--update-drift",
        "--noadjfile",
        "--adjfile <file>",
        "--test",
        "-v, --verbose",
        "-h, --help",
        "-V, --version",
    ] {
        assert!(help.contains(option), "--help lacks {option}:\n{help}");
    }
    assert_eq!(text(&hwclock(&["-h"]).stdout), help);
}

#[test]
fn version_names_the_program() {
    let out = hwclock(&["-V"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!("hwclock from ntpbox {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_date_is_one_line_and_exit_1_before_any_device_access() {
    for date in [
        "garbage",
        "2026-13-01",
        "2026-02-30 10:00",
        "@x",
        "+5 parsecs",
    ] {
        let out = hwclock(&["--set", "--date", date, "-f", "/nonexistent/rtc7"]);
        assert_eq!(out.status.code(), Some(1), "{date}");
        assert_eq!(
            text(&out.stderr),
            format!("hwclock: invalid date '{date}'\n")
        );
    }
}

#[test]
fn usage_errors_in_util_linux_words() {
    let cases: &[(&[&str], &str)] = &[
        (&["--set"], "hwclock: --date is required for --set or --predict\n"),
        (&["--predict"], "hwclock: --date is required for --set or --predict\n"),
        (
            &["-r", "-w"],
            "hwclock: mutually exclusive arguments: --adjust --show --hctosys --systohc --get --predict --set --systz\n",
        ),
        (&["-u", "-l"], "hwclock: mutually exclusive arguments: --localtime --utc\n"),
        (
            &["--noadjfile"],
            "hwclock: With --noadjfile, you must specify either --utc or --localtime\n",
        ),
        (
            &["-r", "--update-drift"],
            "hwclock: --update-drift requires --set or --systohc\n",
        ),
        (
            &["-w", "--delay", "soon"],
            "hwclock: invalid --delay argument: 'soon' (seconds, 0 to 5)\n",
        ),
        (
            &["foo"],
            "hwclock: 1 too many arguments given\nTry 'hwclock --help' for more information.\n",
        ),
    ];
    for (args, message) in cases {
        let out = hwclock(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&out.stderr), *message, "{args:?}");
        assert_eq!(text(&out.stdout), "", "{args:?}");
    }
    let out = hwclock(&["--bogus"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--bogus"));
}

#[test]
fn predict_applies_the_drift_backwards() {
    // 86.4 s/day since 2023-11-14 22:13:20: one day later the RTC reads
    // 86.4 s behind
    let dir = tempfile::tempdir().unwrap();
    let adj = adjfile(&dir, "86.4 1700000000 0.0\n1700000000\nUTC\n");
    let out = hwclock(&["--predict", "--date", "@1700086400", "--adjfile", &adj]);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "2023-11-15 22:11:53.600000+00:00\n");

    let local = applet("hwclock")
        .args([
            "--predict",
            "--date",
            "2023-11-15 23:13:20",
            "--adjfile",
            &adj,
        ])
        .env("TZ", "CET-1")
        .output()
        .unwrap();
    assert_eq!(text(&local.stdout), "2023-11-15 23:11:53.600000+01:00\n");
    // predicting reads the adjtime file, never writes it
    assert_eq!(
        std::fs::read_to_string(&adj).unwrap(),
        "86.4 1700000000 0.0\n1700000000\nUTC\n"
    );
}

#[test]
fn predict_verbose_shows_the_arithmetic() {
    let dir = tempfile::tempdir().unwrap();
    let adj = adjfile(&dir, "86.4 1700000000 0.0\n1700000000\nLOCAL\n");
    let out = hwclock(&[
        "--predict",
        "--date",
        "@1700086400",
        "--adjfile",
        &adj,
        "-v",
        "-u",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().skip(2).collect();
    assert_eq!(
        lines,
        [
            "Last drift adjustment done at 1700000000 seconds after 1969",
            "Last calibration done at 1700000000 seconds after 1969",
            "Hardware clock is on local time",
            "Assuming hardware clock is kept in UTC time.",
            "Time since last adjustment is 86400 seconds",
            "Calculated Hardware Clock drift is 86.400000 seconds",
            "Target date:   1700086400",
            "Predicted RTC: 1700086313",
            "2023-11-15 22:11:53.600000+00:00",
        ]
    );
}

#[test]
fn corrupt_adjtime_is_one_warning_per_bad_line_and_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let adj = adjfile(&dir, "garbage\n1700000000\nSIDEREAL\n");
    let out = hwclock(&["--predict", "--date", "@1700086400", "--adjfile", &adj]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "2023-11-15 22:13:20.000000+00:00\n");
    assert_eq!(
        text(&out.stderr),
        format!(
            "hwclock: warning: {adj}: line 1 should be 'DRIFT LAST_ADJUST_TIME NOT_ADJUSTED', not 'garbage'; ignoring it\n\
             hwclock: warning: {adj}: line 3 should be 'UTC or LOCAL', not 'SIDEREAL'; ignoring it\n"
        )
    );
}

#[test]
fn unreadable_adjtime_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_string_lossy().into_owned();
    let out = hwclock(&["--predict", "--date", "now", "--adjfile", &path]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("hwclock: cannot open {path}: Is a directory\n")
    );
}
