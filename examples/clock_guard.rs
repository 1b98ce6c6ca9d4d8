//! Run by the test script before any test: proves that this process cannot
//! change the system clock. A harmless clock_adjtime write (the tick length
//! set to its current value) must fail with EPERM; anything else stops the
//! test run before a test could touch the host clock.

use ntpbox::clock::{ClockError, LinuxClock};

fn main() {
    match LinuxClock::realtime().probe_write_permission() {
        Err(ClockError::PermissionDenied(_)) => {
            println!("clock guard holds: clock_adjtime writes fail with EPERM");
        }
        Ok(()) => {
            eprintln!(
                "clock guard BROKEN: this process may change the system clock; \
                 run under `setpriv --bounding-set=-sys_time --inh-caps=-sys_time`"
            );
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("clock guard check failed unexpectedly: {e}");
            std::process::exit(1);
        }
    }
}
