//! TZif and POSIX TZ strings: any bytes give a zone or a typed error, never
//! a panic, and local time from whatever parses never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntpbox::tz::{tzif, PosixTz, Zone};

/// Instants spread over the whole range a zone must answer for.
const PROBES: [i64; 7] = [i64::MIN, -1 << 40, -2_208_988_800, 0, 1_763_769_600, 1 << 40, i64::MAX];

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = tzif::parse(data) {
        let zone = Zone::from_tzif(parsed);
        for t in PROBES {
            let _ = zone.localtime(t);
            let _ = zone.next_change_after(t);
        }
    }
    let zone = Zone::from_posix(PosixTz::parse_lenient(data));
    for t in PROBES {
        let _ = zone.localtime(t);
    }
});
