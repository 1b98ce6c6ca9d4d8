//! NTP time formats (RFC 5905 §6) and their exact conversion to Unix time.
//!
//! A 64-bit timestamp holds seconds since 1900 modulo 2^32 (the era is not on
//! the wire) and a 32-bit binary fraction. To turn one into an absolute time
//! the reader supplies a pivot near the true time; the timestamp is taken in
//! the era that puts it within 68 years of the pivot, so times after the 2036
//! era rollover read correctly.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from the NTP prime epoch (1900-01-01) to the Unix epoch (1970-01-01).
pub const NTP_UNIX_OFFSET: i64 = 2_208_988_800;
const NANOS_PER_SEC: u64 = 1_000_000_000;
/// One unit of the 32-bit fraction is 2^-32 s.
const FRACTION_SCALE: f64 = 4_294_967_296.0;

/// A point in time as seconds and nanoseconds since the Unix epoch; `secs`
/// may be negative. `nanos` is always below one second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime {
    secs: i64,
    nanos: u32,
}

impl UnixTime {
    pub const EPOCH: UnixTime = UnixTime { secs: 0, nanos: 0 };

    /// `nanos` may exceed one second; the excess carries into `secs`.
    pub fn new(secs: i64, nanos: u32) -> UnixTime {
        let carry = (nanos as u64 / NANOS_PER_SEC) as i64;
        UnixTime {
            secs: secs.saturating_add(carry),
            nanos: (nanos as u64 % NANOS_PER_SEC) as u32,
        }
    }

    pub fn secs(self) -> i64 {
        self.secs
    }

    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the epoch, exact.
    pub fn as_nanos(self) -> i128 {
        self.secs as i128 * NANOS_PER_SEC as i128 + self.nanos as i128
    }

    /// The inverse of `as_nanos`, saturating outside the i64 seconds range.
    pub fn from_nanos(nanos: i128) -> UnixTime {
        let secs = nanos.div_euclid(NANOS_PER_SEC as i128);
        let sub = nanos.rem_euclid(NANOS_PER_SEC as i128) as u32;
        match i64::try_from(secs) {
            Ok(secs) => UnixTime { secs, nanos: sub },
            Err(_) if secs < 0 => UnixTime {
                secs: i64::MIN,
                nanos: 0,
            },
            Err(_) => UnixTime {
                secs: i64::MAX,
                nanos: (NANOS_PER_SEC - 1) as u32,
            },
        }
    }

    /// Seconds since the epoch as f64 (sub-microsecond precision today).
    pub fn as_secs_f64(self) -> f64 {
        self.secs as f64 + self.nanos as f64 * 1e-9
    }

    /// This time moved by `delta` seconds, rounded to the nanosecond.
    pub fn add_secs_f64(self, delta: f64) -> UnixTime {
        UnixTime::from_nanos(self.as_nanos() + (delta * 1e9).round() as i128)
    }

    /// `self - earlier` in seconds.
    pub fn secs_since(self, earlier: UnixTime) -> f64 {
        let whole = (self.secs as i128 - earlier.secs as i128) as f64;
        whole + (self.nanos as f64 - earlier.nanos as f64) * 1e-9
    }

    pub fn from_system_time(t: SystemTime) -> UnixTime {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => UnixTime::from_nanos(d.as_nanos() as i128),
            Err(e) => UnixTime::from_nanos(-(e.duration().as_nanos() as i128)),
        }
    }

    pub fn to_system_time(self) -> SystemTime {
        if self.secs >= 0 {
            UNIX_EPOCH + Duration::new(self.secs as u64, self.nanos)
        } else {
            let before = (-self.as_nanos()) as u128;
            UNIX_EPOCH
                - Duration::new(
                    (before / 1_000_000_000) as u64,
                    (before % 1_000_000_000) as u32,
                )
        }
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.secs, self.nanos)
    }
}

/// The 64-bit NTP timestamp: 32 bits of seconds (modulo the era) and 32 bits
/// of fraction. Zero means "unknown" on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct NtpTimestamp(u64);

impl NtpTimestamp {
    pub const ZERO: NtpTimestamp = NtpTimestamp(0);

    pub const fn from_bits(bits: u64) -> NtpTimestamp {
        NtpTimestamp(bits)
    }

    pub const fn bits(self) -> u64 {
        self.0
    }

    pub fn from_parts(secs: u32, fraction: u32) -> NtpTimestamp {
        NtpTimestamp(((secs as u64) << 32) | fraction as u64)
    }

    /// Seconds field (since 1900, modulo 2^32).
    pub fn era_secs(self) -> u32 {
        (self.0 >> 32) as u32
    }

    pub fn fraction(self) -> u32 {
        self.0 as u32
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The timestamp of `t`, with the fraction rounded to the nearest 2^-32 s.
    /// `to_unix` gives back exactly `t` (for a pivot within 68 years).
    pub fn from_unix(t: UnixTime) -> NtpTimestamp {
        let secs = t.secs.wrapping_add(NTP_UNIX_OFFSET) as u32;
        // nanos < 1e9, so the rounded fraction stays below 2^32.
        let fraction = ((t.nanos as u64) << 32) + NANOS_PER_SEC / 2;
        NtpTimestamp::from_parts(secs, (fraction / NANOS_PER_SEC) as u32)
    }

    /// The Unix time this timestamp denotes in the era nearest `pivot`.
    pub fn to_unix(self, pivot: UnixTime) -> UnixTime {
        let pivot_ntp = pivot.secs as i128 + NTP_UNIX_OFFSET as i128;
        let step = (self.era_secs().wrapping_sub(pivot_ntp as u32)) as i32;
        let ntp_secs = pivot_ntp + step as i128;
        let nanos = (self.fraction() as u64 * NANOS_PER_SEC + (1 << 31)) >> 32;
        UnixTime::from_nanos(
            (ntp_secs - NTP_UNIX_OFFSET as i128) * NANOS_PER_SEC as i128 + nanos as i128,
        )
    }

    /// `self - other` in seconds, modulo the era: exact for differences within
    /// ±68 years, which is what the on-wire offset and delay formulas need.
    pub fn diff_secs(self, other: NtpTimestamp) -> f64 {
        self.0.wrapping_sub(other.0) as i64 as f64 / FRACTION_SCALE
    }

    /// This timestamp moved by `delta` seconds (modulo the era).
    pub fn add_secs_f64(self, delta: f64) -> NtpTimestamp {
        NtpTimestamp(
            self.0
                .wrapping_add((delta * FRACTION_SCALE).round() as i64 as u64),
        )
    }
}

impl fmt::Display for NtpTimestamp {
    /// ntpq's hex form, e.g. `ecc0a8ba.5e1b1a29`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}.{:08x}", self.era_secs(), self.fraction())
    }
}

/// The 32-bit NTP short format: 16 bits of seconds and 16 of fraction, used
/// for root delay and root dispersion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct NtpShort(u32);

impl NtpShort {
    pub const fn from_bits(bits: u32) -> NtpShort {
        NtpShort(bits)
    }

    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Rounded to the nearest 2^-16 s and clamped to the format's range
    /// (0 to 65536 s): these quantities are never negative.
    pub fn from_secs_f64(secs: f64) -> NtpShort {
        let units = (secs * 65536.0).round();
        if units.is_nan() || units <= 0.0 {
            NtpShort(0)
        } else if units >= u32::MAX as f64 {
            NtpShort(u32::MAX)
        } else {
            NtpShort(units as u32)
        }
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 65536.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_epoch_is_the_documented_ntp_second() {
        let ts = NtpTimestamp::from_unix(UnixTime::EPOCH);
        assert_eq!(ts.era_secs(), 2_208_988_800);
        assert_eq!(ts.fraction(), 0);
    }

    #[test]
    fn half_a_second_is_half_the_fraction() {
        let ts = NtpTimestamp::from_unix(UnixTime::new(0, 500_000_000));
        assert_eq!(ts.fraction(), 1 << 31);
    }

    #[test]
    fn era_rollover_2036_reads_after_the_rollover() {
        // 2036-02-07T06:28:16Z is NTP second 2^32, i.e. era 1 second 0.
        let rollover = UnixTime::new(2_085_978_496, 0);
        let ts = NtpTimestamp::from_unix(rollover.add_secs_f64(10.0));
        assert_eq!(ts.era_secs(), 10);
        let pivot = UnixTime::new(2_085_978_496 - 86_400, 0);
        assert_eq!(ts.to_unix(pivot), UnixTime::new(2_085_978_506, 0));
        // and a time just before the rollover, read with a pivot after it
        let before = NtpTimestamp::from_unix(UnixTime::new(2_085_978_490, 0));
        assert_eq!(
            before.to_unix(rollover.add_secs_f64(3600.0)),
            UnixTime::new(2_085_978_490, 0)
        );
    }

    #[test]
    fn nanoseconds_survive_the_round_trip_at_the_edges() {
        for nanos in [0, 1, 499_999_999, 500_000_000, 999_999_999] {
            let t = UnixTime::new(1_763_769_600, nanos);
            assert_eq!(NtpTimestamp::from_unix(t).to_unix(t), t, "{nanos}");
        }
    }

    #[test]
    fn the_largest_fraction_carries_into_the_next_second() {
        let ts = NtpTimestamp::from_parts(3_972_758_400, u32::MAX);
        let t = ts.to_unix(UnixTime::new(1_763_769_600, 0));
        assert_eq!(t, UnixTime::new(1_763_769_601, 0));
    }

    #[test]
    fn differences_wrap_across_eras() {
        let a = NtpTimestamp::from_parts(u32::MAX, 0);
        let b = NtpTimestamp::from_parts(1, 1 << 31);
        assert_eq!(b.diff_secs(a), 2.5);
        assert_eq!(a.diff_secs(b), -2.5);
    }

    #[test]
    fn short_format_clamps_and_rounds() {
        assert_eq!(NtpShort::from_secs_f64(-1.0).bits(), 0);
        assert_eq!(NtpShort::from_secs_f64(1.5).bits(), 0x0001_8000);
        assert_eq!(NtpShort::from_secs_f64(1e9).bits(), u32::MAX);
        assert_eq!(NtpShort::from_secs_f64(f64::NAN).bits(), 0);
        assert_eq!(NtpShort::from_bits(0x0001_8000).as_secs_f64(), 1.5);
    }

    #[test]
    fn negative_unix_times_convert_to_system_time_and_back() {
        let t = UnixTime::new(-5, 250_000_000);
        assert_eq!(UnixTime::from_system_time(t.to_system_time()), t);
        assert_eq!(t.as_nanos(), -4_750_000_000);
    }
}
