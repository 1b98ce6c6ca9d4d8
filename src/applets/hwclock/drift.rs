//! Drift arithmetic on the adjtime numbers, as util-linux's hwclock does it.
//!
//! An RTC gains or loses a roughly constant number of seconds per day. The
//! adjtime file keeps that rate (the drift factor) and when the RTC was last
//! set; the correction due at time t is
//! `(t - last_adjust) * drift_factor / 86400 + not_adjusted`.
//! Each time the RTC is set from a good clock (`--systohc`, `--set`) with
//! `--update-drift`, the error the old factor failed to predict refines it.

use super::adjtime::Adjtime;

pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// The largest believable drift, seconds per day (util-linux's limit: the
/// most adjtime(2) could slew in a day on 32-bit systems). A factor beyond
/// it comes from a bad measurement and is reset to 0.
pub const MAX_DRIFT: f64 = 2145.0;

/// A drift factor is only re-estimated over at least this many seconds
/// since the last calibration: over shorter spans the RTC's one-second
/// resolution swamps the drift.
pub const MIN_CALIBRATION_SPAN: i64 = 4 * 3600;

/// The correction (seconds, to be added to the RTC reading) due at `at`.
pub fn correction_at(adj: &Adjtime, at: i64) -> f64 {
    (at - adj.last_adjust) as f64 * adj.drift_factor / SECONDS_PER_DAY + adj.not_adjusted
}

/// Whether `--adjust` sets the RTC for this correction: util-linux splits
/// it into whole seconds rounded down and leaves it alone when that is 0 or
/// -1, i.e. when the correction is in [-1 s, 1 s).
pub fn adjustment_needed(correction: f64) -> bool {
    !(-1.0..1.0).contains(&correction)
}

/// What recalibration did to the drift factor.
#[derive(Clone, Debug, PartialEq)]
pub enum FactorUpdate {
    /// `--update-drift` was not given.
    NotRequested,
    /// There is no earlier calibration to measure against.
    NoHistory,
    /// The last calibration is under `MIN_CALIBRATION_SPAN` ago.
    TooSoon,
    /// The new factor came out beyond `MAX_DRIFT` and was reset to 0.
    Reset { computed: f64 },
    /// The factor changed by `change`, from `drifted` seconds of error over
    /// `span` seconds.
    Updated {
        drifted: f64,
        span: f64,
        old: f64,
        change: f64,
    },
}

/// Records that the RTC was just set to the true time `now` (Unix seconds
/// with fraction). `rtc_corrected` is what the RTC read just before, with
/// the old drift correction applied; with `update`, their difference refines
/// the drift factor. Both timestamps move to `now` either way.
pub fn recalibrate(adj: &mut Adjtime, now: f64, rtc_corrected: f64, update: bool) -> FactorUpdate {
    let outcome = if !update {
        FactorUpdate::NotRequested
    } else if adj.last_calibration == 0 {
        FactorUpdate::NoHistory
    } else if (rtc_corrected.floor() as i64) - adj.last_calibration < MIN_CALIBRATION_SPAN {
        FactorUpdate::TooSoon
    } else {
        let drifted = now - rtc_corrected;
        let span = now - adj.last_calibration as f64;
        let change = drifted / (span / SECONDS_PER_DAY);
        let factor = adj.drift_factor + change;
        if factor.abs() > MAX_DRIFT || !factor.is_finite() {
            adj.drift_factor = 0.0;
            FactorUpdate::Reset { computed: factor }
        } else {
            let old = adj.drift_factor;
            adj.drift_factor = factor;
            FactorUpdate::Updated {
                drifted,
                span,
                old,
                change,
            }
        }
    };
    adj.last_calibration = now.floor() as i64;
    adj.last_adjust = now.floor() as i64;
    adj.not_adjusted = 0.0;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adj(drift: f64, last_adjust: i64, last_calibration: i64) -> Adjtime {
        Adjtime {
            drift_factor: drift,
            last_adjust,
            last_calibration,
            ..Adjtime::default()
        }
    }

    #[test]
    fn correction_grows_with_days_since_the_last_adjustment() {
        let a = adj(10.0, 1_600_000_000, 1_600_000_000);
        assert_eq!(correction_at(&a, 1_600_000_000), 0.0);
        assert_eq!(correction_at(&a, 1_600_000_000 + 86_400), 10.0);
        assert_eq!(correction_at(&a, 1_600_000_000 + 43_200), 5.0);
        // the figure util-linux printed for this file 20208807 s later
        let c = correction_at(&a, 1_620_208_807);
        assert!((c - 2338.982291).abs() < 1e-6, "{c}");
        let leftover = Adjtime {
            not_adjusted: 0.25,
            ..a
        };
        assert_eq!(correction_at(&leftover, 1_600_000_000), 0.25);
    }

    #[test]
    fn adjustment_needs_a_full_second_either_way() {
        assert!(!adjustment_needed(0.0));
        assert!(!adjustment_needed(0.999));
        assert!(!adjustment_needed(-0.5));
        assert!(!adjustment_needed(-1.0));
        assert!(adjustment_needed(1.0));
        assert!(adjustment_needed(-1.001));
        assert!(adjustment_needed(2338.9));
    }

    #[test]
    fn recalibration_without_update_only_moves_the_timestamps() {
        let mut a = adj(3.0, 100, 100);
        a.not_adjusted = 0.4;
        let r = recalibrate(&mut a, 1_000_000.7, 999_990.0, false);
        assert_eq!(r, FactorUpdate::NotRequested);
        assert_eq!(a.drift_factor, 3.0);
        assert_eq!((a.last_adjust, a.last_calibration), (1_000_000, 1_000_000));
        assert_eq!(a.not_adjusted, 0.0);
    }

    #[test]
    fn recalibration_learns_the_missed_drift_rate() {
        // two days since calibration, the corrected RTC is 4 s behind:
        // the factor was 2 s/day too small
        let t0 = 1_700_000_000;
        let now = (t0 + 2 * 86_400) as f64;
        let mut a = adj(1.0, t0, t0);
        let r = recalibrate(&mut a, now, now - 4.0, true);
        assert_eq!(
            r,
            FactorUpdate::Updated {
                drifted: 4.0,
                span: 172_800.0,
                old: 1.0,
                change: 2.0
            }
        );
        assert_eq!(a.drift_factor, 3.0);
        assert_eq!(a.last_calibration, t0 + 2 * 86_400);
    }

    #[test]
    fn recalibration_refuses_short_spans_and_missing_history() {
        let t0 = 1_700_000_000;
        let mut a = adj(1.0, t0, t0);
        let soon = (t0 + MIN_CALIBRATION_SPAN - 1) as f64;
        assert_eq!(
            recalibrate(&mut a, soon, soon - 3.0, true),
            FactorUpdate::TooSoon
        );
        assert_eq!(a.drift_factor, 1.0);
        let mut fresh = adj(1.0, 0, 0);
        assert_eq!(
            recalibrate(&mut fresh, 5e8, 5e8 - 3.0, true),
            FactorUpdate::NoHistory
        );
    }

    #[test]
    fn absurd_factors_are_reset_to_zero() {
        let t0 = 1_700_000_000;
        let now = (t0 + 86_400) as f64;
        let mut a = adj(0.0, t0, t0);
        let r = recalibrate(&mut a, now, now - 3000.0, true);
        assert_eq!(r, FactorUpdate::Reset { computed: 3000.0 });
        assert_eq!(a.drift_factor, 0.0);
    }
}
