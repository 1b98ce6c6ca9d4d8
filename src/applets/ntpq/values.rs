//! Decoding the values in mode 6 variable lists and formatting them the way
//! classic ntpq (ntp 4.2.8) prints them: milliseconds with three decimals,
//! `when`/`poll` intervals with s/m/h/d suffixes, hex timestamps with the
//! local date after them.

use crate::proto::{NtpTimestamp, UnixTime};
use crate::tz::LocalZone;

/// What decoding needs besides the value: the time now (for the era of a
/// timestamp) and the local zone (to print dates).
pub struct ValueContext {
    pub now: UnixTime,
    pub zone: LocalZone,
}

impl ValueContext {
    /// The current time and the zone of TZ or /etc/localtime.
    pub fn current() -> ValueContext {
        ValueContext {
            now: crate::net::realtime_now(),
            zone: LocalZone::from_env(),
        }
    }
}

/// `prettyinterval` prints plain seconds up to this many.
const PLAIN_SECONDS_MAX: i64 = 2048;
/// ... then minutes up to this many.
const MINUTES_MAX: i64 = 300;
/// ... then hours up to this many, then days.
const HOURS_MAX: i64 = 96;

/// One millisecond as a fraction of 2^32 (ntp's `4294967`), which is how
/// classic ntpq turns a timestamp fraction into milliseconds.
const FRACTION_PER_MS: u32 = 4_294_967;
const MS_PER_SEC: u32 = 1000;

const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A time value in milliseconds as ntpd sends it (`delay=0.0507`). ntpq
/// reads these with `mstolfp`, which takes an optional sign and decimals.
pub fn parse_ms(text: &str) -> Option<f64> {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    t.parse().ok()
}

/// Milliseconds with three decimals, as `lfptoms(x, 3)` prints them.
pub fn ms3(ms: f64) -> String {
    format!("{ms:.3}")
}

/// `%W.Ps` of C printf: at most `precision` characters, right-aligned in
/// `width` (how the peers table clips long numbers: `179133.`).
pub fn clip(text: &str, width: usize, precision: usize) -> String {
    let clipped: String = text.chars().take(precision).collect();
    format!("{clipped:>width$}")
}

/// An interval in seconds as the `when` and `poll` columns show it:
/// `-` for none, seconds up to 2048, then minutes, hours and days, each
/// rounded to the nearest unit.
pub fn pretty_interval(secs: i64) -> String {
    if secs <= 0 {
        return "-".to_string();
    }
    if secs <= PLAIN_SECONDS_MAX {
        return secs.to_string();
    }
    let minutes = (secs + 29) / 60;
    if minutes <= MINUTES_MAX {
        return format!("{minutes}m");
    }
    let hours = (minutes + 29) / 60;
    if hours <= HOURS_MAX {
        return format!("{hours}h");
    }
    format!("{}d", (hours + 11) / 24)
}

/// An unsigned integer as ntpq's `decodeuint` reads it: `0x` hex, a
/// leading `0` octal, otherwise decimal.
pub fn decode_uint(text: &str) -> Option<u64> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if t.len() > 1 && t.starts_with('0') {
        u64::from_str_radix(&t[1..], 8).ok()
    } else {
        t.parse().ok()
    }
}

/// A signed integer as `decodeint` reads it (hex and octal as above).
pub fn decode_int(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.starts_with('0') {
        decode_uint(t).and_then(|v| i64::try_from(v).ok())
    } else {
        t.parse().ok()
    }
}

/// A timestamp as `decodets` reads it: `0x` followed by hex seconds, a dot
/// and hex fraction (what ntpd sends), bare hex starting with a letter, or
/// decimal seconds.
pub fn decode_ts(text: &str) -> Option<NtpTimestamp> {
    let t = text.trim();
    let hex = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .or_else(|| {
            t.starts_with(|c: char| matches!(c, 'a'..='f' | 'A'..='F'))
                .then_some(t)
        });
    if let Some(hex) = hex {
        let (secs, frac) = hex.split_once('.').unwrap_or((hex, "0"));
        let secs = u32::from_str_radix(secs, 16).ok()?;
        let frac = if frac.is_empty() {
            0
        } else {
            u32::from_str_radix(frac, 16).ok()?
        };
        return Some(NtpTimestamp::from_parts(secs, frac));
    }
    let secs: f64 = t.parse().ok()?;
    if !(0.0..4_294_967_296.0).contains(&secs) {
        return None;
    }
    let whole = secs.trunc();
    let frac = ((secs - whole) * 4_294_967_296.0) as u32;
    Some(NtpTimestamp::from_parts(whole as u32, frac))
}

/// `e4c8ae74.7e3b36e5  Mon, Aug 30 2021 11:06:12.493` (local time, the era
/// nearest `now`), or `(no time)` for a zero timestamp: ntp's prettydate.
pub fn pretty_date(ts: NtpTimestamp, now: UnixTime, zone: &LocalZone) -> String {
    if ts.is_zero() {
        return "(no time)".to_string();
    }
    let mut secs = ts.era_secs();
    let mut msec = ts.fraction() / FRACTION_PER_MS;
    if msec >= MS_PER_SEC {
        msec -= MS_PER_SEC;
        secs = secs.wrapping_add(1);
    }
    let unix = NtpTimestamp::from_parts(secs, 0).to_unix(now).secs();
    let hex = format!("{:08x}.{:08x}", ts.era_secs(), ts.fraction());
    match zone.zone().localtime(unix) {
        Some(local) => {
            let tm = local.tm;
            format!(
                "{hex}  {}, {} {:2} {:4} {:2}:{:02}:{:02}.{msec:03}",
                DAY_NAMES[tm.wday as usize % 7],
                MONTH_NAMES[tm.mon as usize % 12],
                tm.mday,
                tm.year,
                tm.hour,
                tm.min,
                tm.sec
            )
        }
        None => format!("{hex}  --- --- -- ---- --:--:--"),
    }
}

/// Printable text the way `cat -v` (and ntpq's makeascii) shows bytes:
/// `^X` for control characters, `M-` for the high bit.
pub fn make_ascii(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        let mut c = b;
        if c & 0x80 != 0 {
            out.push_str("M-");
            c &= 0x7f;
        }
        match c {
            0..=0x1f => {
                out.push('^');
                out.push((c + b'@') as char);
            }
            0x7f => out.push_str("^?"),
            _ => out.push(c as char),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_take_the_classic_suffixes() {
        let cases = [
            (0, "-"),
            (-5, "-"),
            (1, "1"),
            (64, "64"),
            (2048, "2048"),
            (2049, "34m"),
            (300 * 60, "300m"),
            (300 * 60 + 31, "5h"),
            (96 * 3600, "96h"),
            (97 * 3600, "4d"),
            (86400 * 10, "10d"),
        ];
        for (secs, text) in cases {
            assert_eq!(pretty_interval(secs), text, "{secs} s");
        }
    }

    #[test]
    fn numbers_decode_as_ntpq_reads_them() {
        assert_eq!(decode_uint("0xff"), Some(255));
        assert_eq!(decode_uint("0377"), Some(255));
        assert_eq!(decode_uint("377"), Some(377));
        assert_eq!(decode_uint("0"), Some(0));
        assert_eq!(decode_uint("x"), None);
        assert_eq!(decode_int("-24"), Some(-24));
        assert_eq!(decode_int("0x10"), Some(16));
        assert_eq!(parse_ms("0.0507"), Some(0.0507));
        assert_eq!(parse_ms("-350.06"), Some(-350.06));
        assert_eq!(parse_ms("abc"), None);
        assert_eq!(parse_ms("1e3"), None);
    }

    #[test]
    fn milliseconds_print_with_three_decimals_and_clip_like_printf() {
        assert_eq!(ms3(0.0507), "0.051");
        assert_eq!(ms3(350.0637), "350.064");
        assert_eq!(ms3(-60.2184), "-60.218");
        assert_eq!(clip(&ms3(179133.2), 8, 7), " 179133.");
        assert_eq!(clip("0.320", 7, 7), "  0.320");
    }

    #[test]
    fn timestamps_decode_in_hex_and_decimal() {
        let ts = decode_ts("0xeeacaf3c.b6732789").unwrap();
        assert_eq!((ts.era_secs(), ts.fraction()), (0xeeacaf3c, 0xb6732789));
        assert_eq!(decode_ts("eeacaf3c.b6732789"), Some(ts));
        assert_eq!(decode_ts("0x00000000.00000000"), Some(NtpTimestamp::ZERO));
        assert_eq!(
            decode_ts("3600.5"),
            Some(NtpTimestamp::from_parts(3600, 1 << 31))
        );
        assert_eq!(decode_ts("junk"), None);
    }

    #[test]
    fn dates_print_in_local_time_with_milliseconds() {
        use crate::tz::{PosixTz, Zone};
        let utc = LocalZone::new(Zone::from_posix(PosixTz::fixed(b"UTC", 0)));
        let now = UnixTime::new(1_795_000_000, 0);
        let ts = decode_ts("0xeeacaf3c.b6732789").unwrap();
        assert_eq!(
            pretty_date(ts, now, &utc),
            "eeacaf3c.b6732789  Sun, Nov 22 2026  0:01:00.712"
        );
        assert_eq!(pretty_date(NtpTimestamp::ZERO, now, &utc), "(no time)");
        // A fraction this close to a second carries into the next second.
        let carry = NtpTimestamp::from_parts(0xeeacaf3c, 0xffff_ffff);
        assert!(pretty_date(carry, now, &utc).ends_with(" 0:01:01.000"));
    }

    #[test]
    fn control_characters_are_shown_as_cat_minus_v_does() {
        assert_eq!(make_ascii(b"a\r\x7f\xc1"), "a^M^?M-A");
    }
}
