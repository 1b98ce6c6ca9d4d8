//! The test suite must never be able to change the host clock: the README's
//! test command drops CAP_SYS_TIME from the bounding set. This asserts that
//! the guard holds for the test processes themselves.

use ntpbox::clock::{Clock, ClockError, LinuxClock};

#[test]
fn clock_writes_are_refused_with_eperm() {
    let clock = LinuxClock::realtime();
    assert_eq!(
        clock.probe_write_permission(),
        Err(ClockError::PermissionDenied("write the tick length")),
        "the tests must run under setpriv --bounding-set=-sys_time --inh-caps=-sys_time"
    );
}

#[test]
fn reading_the_clock_still_works_under_the_guard() {
    let clock = LinuxClock::realtime();
    let a = clock.now().unwrap();
    let status = clock.kernel_status().unwrap();
    let b = clock.now().unwrap();
    assert!(b >= a);
    assert!(a.secs() > 1_700_000_000, "the host clock reads {a}");
    assert!(status.tick > 0, "{status:?}");
}
