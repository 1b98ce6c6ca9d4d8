//! The ntp.conf parser never panics, whatever it is fed, and every problem
//! it reports points at a line that exists.

use std::path::Path;

use ntpbox::config::parse_str;
use proptest::prelude::*;

/// Words that make the parser go deep: keywords, options, flags, numbers,
/// addresses and junk.
const WORDS: &[&str] = &[
    "server",
    "peer",
    "pool",
    "restrict",
    "fudge",
    "driftfile",
    "includefile",
    "keys",
    "trustedkey",
    "requestkey",
    "controlkey",
    "statistics",
    "statsdir",
    "filegen",
    "logfile",
    "logconfig",
    "tinker",
    "tos",
    "enable",
    "disable",
    "interface",
    "nic",
    "broadcast",
    "broadcastclient",
    "multicastclient",
    "manycastserver",
    "manycastclient",
    "leapfile",
    "discard",
    "port",
    "mru",
    "crypto",
    "-4",
    "-6",
    "default",
    "source",
    "mask",
    "prefer",
    "iburst",
    "minpoll",
    "maxpoll",
    "key",
    "version",
    "stratum",
    "refid",
    "flag1",
    "time1",
    "ignore",
    "kod",
    "limited",
    "noserve",
    "orphan",
    "average",
    "minimum",
    "listen",
    "drop",
    "all",
    "wildcard",
    "127.127.1.0",
    "127.0.0.1",
    "::1",
    "[::1]:123",
    "10.0.0.0/8",
    "255.255.0.0",
    "0",
    "1",
    "16",
    "99999",
    "-1",
    "1e308",
    "nan",
    "(",
    "...",
    ")",
    "(1",
    "2)",
    "\"",
    "#",
    "//",
    "中文",
    "a:b:c",
    "[",
    "]",
    "x.y",
    "=syncall",
    "/tmp/none/x",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(WORDS).prop_map(String::from),
        "[ -~]{0,12}",
        any::<String>(),
    ]
}

fn line() -> impl Strategy<Value = String> {
    proptest::collection::vec(word(), 0..8).prop_map(|w| w.join(" "))
}

fn config_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(line(), 0..12).prop_map(|l| l.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn parsing_never_panics_and_diagnostics_point_at_real_lines(text in config_text()) {
        let loaded = parse_str(&text, Path::new("fuzz.conf"));
        let lines = text.lines().count();
        for d in &loaded.diagnostics.items {
            if d.file == Path::new("fuzz.conf") {
                prop_assert!(d.line >= 1 && d.line <= lines.max(1), "{d} of {lines} lines");
            }
            prop_assert!(!d.message.is_empty());
            prop_assert!(!d.to_string().contains('\n'), "one line: {d}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_str(&text, Path::new("bytes.conf"));
    }
}
