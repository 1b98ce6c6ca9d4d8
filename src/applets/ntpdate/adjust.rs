//! Correcting the clock: a step for large offsets (or always, with -b), a
//! slew for small ones (or always, with -B).

use super::options::Correction;
use super::report::{self, Action};
use crate::clock::{Clock, ClockError, SLEW_RATE};

/// Classic NTPDATE_THRESHOLD: offsets of at least half a second are stepped,
/// smaller ones slewed, so the clock never jumps for a small error and never
/// takes hours to slew away a large one.
pub const STEP_THRESHOLD: f64 = 0.5;

pub fn choose(correction: Correction, offset: f64) -> Action {
    match correction {
        Correction::AlwaysStep => Action::Step,
        Correction::AlwaysSlew => Action::Adjust,
        Correction::ByThreshold if offset.abs() >= STEP_THRESHOLD => Action::Step,
        Correction::ByThreshold => Action::Adjust,
    }
}

/// Steps (atomically, relative to now) or starts slewing the clock. On
/// failure nothing has changed: both are one system call.
pub fn apply(clock: &mut impl Clock, action: Action, offset: f64) -> Result<(), ClockError> {
    match action {
        Action::Step => clock.step(offset),
        Action::Adjust => clock.slew(offset),
    }
}

/// -v after a slew: `adjtime: 0.300000 s left to slew (about 600 s at 500 ppm)`.
pub fn slew_progress(left: f64) -> String {
    format!(
        "adjtime: {} s left to slew (about {:.0} s at {:.0} ppm)",
        report::offset(left),
        left.abs() / SLEW_RATE,
        SLEW_RATE * 1e6
    )
}

/// The one line that says why the clock was not set.
pub fn failure_message(action: Action, offset: f64, err: &ClockError) -> String {
    let what = match action {
        Action::Step => "step",
        Action::Adjust => "slew",
    };
    let by = report::offset(offset);
    match err {
        ClockError::PermissionDenied(_) => format!(
            "cannot {what} the clock by {by} s: Operation not permitted \
             (setting the clock needs CAP_SYS_TIME: run ntpdate as root, or use -q to query only)"
        ),
        ClockError::Os { errno, .. } => format!(
            "cannot {what} the clock by {by} s: {}",
            std::io::Error::from_raw_os_error(*errno)
        ),
        ClockError::OutOfRange { .. } => format!(
            "cannot {what} the clock by {by} s: too far to {what}{}",
            if action == Action::Adjust {
                " (use -b to step)"
            } else {
                ""
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_and_the_overrides() {
        assert_eq!(choose(Correction::ByThreshold, 0.499), Action::Adjust);
        assert_eq!(choose(Correction::ByThreshold, -0.5), Action::Step);
        assert_eq!(choose(Correction::AlwaysStep, 0.001), Action::Step);
        assert_eq!(choose(Correction::AlwaysSlew, 100.0), Action::Adjust);
    }

    #[test]
    fn slew_progress_names_the_time_it_takes() {
        assert_eq!(
            slew_progress(0.3),
            "adjtime: 0.300000 s left to slew (about 600 s at 500 ppm)"
        );
    }

    #[test]
    fn permission_denied_says_what_to_do() {
        let msg = failure_message(
            Action::Step,
            2.5,
            &ClockError::PermissionDenied("step the clock"),
        );
        assert_eq!(
            msg,
            "cannot step the clock by 2.500000 s: Operation not permitted \
             (setting the clock needs CAP_SYS_TIME: run ntpdate as root, or use -q to query only)"
        );
    }
}
