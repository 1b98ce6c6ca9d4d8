//! ntp.conf parsing: any text gives a configuration and diagnostics, never
//! a panic, and every diagnostic is one line pointing at a line that exists.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ntpbox::config::parse_str;

/// `includefile` and `keys` read the files they name: inputs that could
/// name a device or kernel file (which may block or never end) are skipped.
const UNSAFE_PATHS: [&[u8]; 4] = [b"/dev", b"/proc", b"/sys", b"/run"];

fuzz_target!(|data: &[u8]| {
    if UNSAFE_PATHS
        .iter()
        .any(|p| data.windows(p.len()).any(|w| w == *p))
    {
        return;
    }
    let text = String::from_utf8_lossy(data);
    let name = Path::new("fuzz.conf");
    let loaded = parse_str(&text, name);
    let lines = text.lines().count();
    for d in &loaded.diagnostics.items {
        if d.file == name {
            assert!(d.line <= lines.max(1), "{d} of {lines} lines");
        }
        assert!(!d.message.is_empty());
        assert!(!d.to_string().contains('\n'), "one line: {d}");
    }
});
