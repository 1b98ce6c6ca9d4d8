//! Reading the clocks the loop needs: CLOCK_REALTIME for timestamps,
//! CLOCK_MONOTONIC for rate limiting, and the measured precision.

use crate::proto::UnixTime;

/// How many back-to-back readings the precision estimate takes.
const PRECISION_SAMPLES: usize = 200;

fn read(clock: libc::clockid_t) -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to fill; these clocks always exist.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts
}

pub fn realtime() -> UnixTime {
    let ts = read(libc::CLOCK_REALTIME);
    UnixTime::new(ts.tv_sec, ts.tv_nsec as u32)
}

/// Seconds on the monotonic clock.
pub fn monotonic() -> f64 {
    let ts = read(libc::CLOCK_MONOTONIC);
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The system precision (log2 seconds) as classic measures it: the
/// smallest step seen between successive clock readings.
pub fn measure_precision() -> i8 {
    let mut smallest = f64::MAX;
    let mut last = realtime();
    for _ in 0..PRECISION_SAMPLES {
        let now = realtime();
        let step = now.secs_since(last);
        if step > 0.0 && step < smallest {
            smallest = step;
        }
        last = now;
    }
    if smallest == f64::MAX {
        // A clock that never moved between readings: call it 1 µs.
        smallest = 1e-6;
    }
    smallest.log2().floor().clamp(-32.0, 0.0) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_is_plausible_for_a_modern_clock() {
        let p = measure_precision();
        assert!((-32..=-10).contains(&p), "precision {p}");
        let a = monotonic();
        assert!(monotonic() >= a);
    }
}
