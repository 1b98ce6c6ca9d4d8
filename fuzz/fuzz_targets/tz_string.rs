//! POSIX TZ strings on their own: the strict parser accepts exactly what
//! the lenient (glibc) parser understands completely, and agrees with it;
//! local time and change points from any string never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntpbox::tz::{PosixTz, Zone};

/// Instants spread over the whole range a zone must answer for.
const PROBES: [i64; 7] = [i64::MIN, -1 << 40, -2_208_988_800, 0, 1_763_769_600, 1 << 40, i64::MAX];

fuzz_target!(|data: &[u8]| {
    let lenient = PosixTz::parse_lenient(data);
    if let Ok(text) = std::str::from_utf8(data) {
        match PosixTz::parse(text) {
            Ok(strict) => {
                assert!(lenient.complete);
                assert_eq!(strict, lenient);
            }
            Err(e) => {
                assert!(!lenient.complete, "strict refused what glibc reads whole: {e}");
                assert!(!e.to_string().is_empty());
            }
        }
    }
    let zone = Zone::from_posix(lenient);
    for t in PROBES {
        let _ = zone.localtime(t);
        let _ = zone.gmtime(t);
        let _ = zone.next_change_after(t);
    }
});
