//! The lines of the classic statistics files, which ntpviz and many
//! scripts read.
//!
//! ```text
//! loopstats: MJD SECONDS OFFSET FREQ_PPM JITTER WANDER_PPM POLL
//!   61041 3600.125 0.000012345 -12.345 0.000004567 0.001234 6
//! peerstats: MJD SECONDS ADDRESS STATUS OFFSET DELAY DISPERSION JITTER
//!   61041 3600.125 192.0.2.1 963a 0.000012345 0.000234567 0.001234567 0.000004567
//! ```

use std::net::SocketAddr;

use crate::proto::UnixTime;

/// The Modified Julian Day of 1970-01-01.
const MJD_UNIX_EPOCH: i64 = 40_587;
const SECS_PER_DAY: i64 = 86_400;

/// The day (MJD) and the seconds past midnight, UTC.
pub fn day_and_seconds(t: UnixTime) -> (i64, f64) {
    let day = t.secs().div_euclid(SECS_PER_DAY);
    let secs = t.secs().rem_euclid(SECS_PER_DAY) as f64 + f64::from(t.subsec_nanos()) * 1e-9;
    (day + MJD_UNIX_EPOCH, secs)
}

fn stamp(t: UnixTime) -> String {
    let (day, secs) = day_and_seconds(t);
    // Milliseconds, truncated as classic's ulfptoa(.., 3) rounds: rounding
    // up to 86400.000 would name the wrong day.
    let millis = (secs * 1000.0).floor() as i64;
    format!("{day} {}.{:03}", millis / 1000, millis % 1000)
}

/// One loopstats line: offset and jitter in seconds, frequency and wander
/// in ppm, the poll (time constant) as log2 s.
pub fn loopstats(
    t: UnixTime,
    offset: f64,
    freq_ppm: f64,
    jitter: f64,
    wander_ppm: f64,
    poll: i8,
) -> String {
    format!(
        "{} {offset:.9} {freq_ppm:.3} {jitter:.9} {wander_ppm:.6} {poll}",
        stamp(t)
    )
}

/// One peerstats line: the peer's address (no port, as classic), its
/// status word in hex, then seconds.
pub fn peerstats(
    t: UnixTime,
    addr: SocketAddr,
    status: u16,
    offset: f64,
    delay: f64,
    dispersion: f64,
    jitter: f64,
) -> String {
    format!(
        "{} {} {status:04x} {offset:.9} {delay:.9} {dispersion:.9} {jitter:.9}",
        stamp(t),
        addr.ip()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mjd_of_known_days() {
        // 2026-01-01T01:00:00.125Z is MJD 61041
        let t = UnixTime::new(1_767_229_200, 125_000_000);
        assert_eq!(day_and_seconds(t).0, 61_041);
        assert_eq!(stamp(t), "61041 3600.125");
        assert_eq!(day_and_seconds(UnixTime::EPOCH), (40_587, 0.0));
    }

    #[test]
    fn lines_in_the_classic_layout() {
        let t = UnixTime::new(1_767_229_200, 125_000_000);
        assert_eq!(
            loopstats(t, 1.2345e-5, -12.3454, 4.567e-6, 0.001234, 6),
            "61041 3600.125 0.000012345 -12.345 0.000004567 0.001234 6"
        );
        let addr: SocketAddr = "192.0.2.1:123".parse().unwrap();
        assert_eq!(
            peerstats(
                t,
                addr,
                0x963a,
                1.2345e-5,
                2.34567e-4,
                1.234567e-3,
                4.567e-6
            ),
            "61041 3600.125 192.0.2.1 963a 0.000012345 0.000234567 0.001234567 0.000004567"
        );
    }
}
