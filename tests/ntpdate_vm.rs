//! ntpdate really setting a clock: only ever inside a throwaway VM. The NTP
//! servers run on the host side, in the VM's private network namespace (the
//! guest reaches them at 10.0.2.2), as this same test binary started in
//! server mode (`vm_host_ntp_servers`, below).

mod common;
#[path = "common/ntp_test_server.rs"]
mod ntp_test_server;

use std::net::SocketAddr;
use std::time::Duration;

use common::vm::{self, VmOptions, VmResult};
use ntp_test_server::{Behaviour, TestServer};

/// Six years before this machine's time: the guest starts here.
const RTC_PAST: &str = "2020-01-01T00:00:00";
/// The issue's bound for the stepped guest clock against the host's.
const STEP_TOLERANCE: f64 = 0.020;
/// The error the slew test gives the guest clock.
const SLEW_ERROR: f64 = 0.3;
/// The error the threshold test gives it for a step.
const STEP_ERROR: f64 = 2.0;
/// Names the servers for the host-side helper: `PORT:OFFSET,...`.
const SERVERS_ENV: &str = "NTPBOX_VM_NTP_SERVERS";
/// Ports of the host-side servers (inside the VM's own namespace).
const PORT_TRUE: u16 = 123;
const PORT_SLEW: u16 = 124;
const PORT_STEP: u16 = 125;
/// A VM run: boot (2 to 4 s under TCG) plus a few ntpdate runs.
const VM_TIMEOUT: Duration = Duration::from_secs(120);

/// Host side: while the VM runs, serve time on 127.0.0.1 of the VM's
/// namespace: the true time on 123, +0.3 s on 124, +2 s on 125.
fn vm_options() -> VmOptions {
    let exe = std::env::current_exe().expect("the test binary's path");
    let servers = format!("{PORT_TRUE}:0,{PORT_SLEW}:{SLEW_ERROR},{PORT_STEP}:{STEP_ERROR}");
    VmOptions::new()
        .host_command(&format!(
            "env {SERVERS_ENV}={servers} setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
             {} --ignored --exact vm_host_ntp_servers --nocapture",
            exe.display()
        ))
        .timeout(VM_TIMEOUT)
}

/// Not a test: the host-side server process of the VM tests, run by
/// `vm_options` with the server list in the environment. Serves until killed.
#[test]
#[ignore = "helper process for the VM tests, started by them"]
fn vm_host_ntp_servers() {
    let Ok(spec) = std::env::var(SERVERS_ENV) else {
        return;
    };
    let servers: Vec<TestServer> = spec
        .split(',')
        .map(|s| {
            let (port, offset) = s.split_once(':').expect("PORT:OFFSET");
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let behaviour = Behaviour {
                offset: offset.parse().expect("offset"),
                ..Behaviour::default()
            };
            TestServer::start_on(addr, behaviour).expect("bind the host-side server")
        })
        .collect();
    eprintln!(
        "serving on {:?}",
        servers.iter().map(|s| s.addr()).collect::<Vec<_>>()
    );
    // The servers answer from their threads until the VM wrapper stops
    // this process by its PID.
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// The number after `offset ` in the guest's `KEY ... offset X sec` line.
fn offset_of(r: &VmResult, key: &str) -> f64 {
    let line = r.value(key);
    line.split(" offset ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no offset in `{key} {line}`\n{}", r.report()))
}

fn verb_of<'a>(r: &'a VmResult, key: &str) -> &'a str {
    let line = r.value(key);
    let msg = line.split("]: ").nth(1).unwrap_or("");
    msg.split(' ').next().unwrap_or("")
}

#[test]
fn b_steps_a_guest_six_years_behind_to_the_host_time() {
    let script = r#"
echo "year-before $(date -u +%Y)"
ntpdate -b 10.0.2.2 > /tmp/step 2>&1
echo "step-status $?"
echo "step $(cat /tmp/step)"
echo "check $(ntpdate -q 10.0.2.2 2>&1 | tail -n 1)"
echo "year-after $(date -u +%Y)"
"#;
    let opts = vm_options().rtc_base(RTC_PAST);
    let Some(r) = vm::run_test(script, &opts) else {
        return;
    };
    eprintln!("{}", r.report());
    r.assert_success();
    assert_eq!(r.value("year-before"), "2020", "{}", r.report());
    assert_eq!(r.value("step-status"), "0", "{}", r.report());
    assert_eq!(verb_of(&r, "step"), "step", "{}", r.report());
    let stepped = offset_of(&r, "step");
    assert!(stepped > 5.0 * 365.0 * 86_400.0, "{}", r.report());
    let host_year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(r.value("year-after"), host_year, "{}", r.report());
    let residual = offset_of(&r, "check");
    assert!(
        residual.abs() < STEP_TOLERANCE,
        "guest clock {residual} s off the host's after the step\n{}",
        r.report()
    );
}

#[test]
fn capital_b_slews_and_adjtime_reports_the_slew_in_progress() {
    // First the true time (a step), then a server 0.3 s ahead, slewed to.
    let script = r#"
ntpdate -b 10.0.2.2 > /dev/null || exit 10
ntpdate -B -v 10.0.2.2:124 > /tmp/slew 2>&1
echo "slew-status $?"
echo "slew $(grep 'time server' /tmp/slew)"
echo "adjtime $(grep 'adjtime:' /tmp/slew)"
"#;
    let Some(r) = vm::run_test(script, &vm_options()) else {
        return;
    };
    eprintln!("{}", r.report());
    r.assert_success();
    assert_eq!(r.value("slew-status"), "0", "{}", r.report());
    assert_eq!(verb_of(&r, "slew"), "adjust", "{}", r.report());
    assert!(
        (offset_of(&r, "slew") - SLEW_ERROR).abs() < STEP_TOLERANCE,
        "{}",
        r.report()
    );
    // `adjtime: 0.29xxxx s left to slew (about 600 s at 500 ppm)`: the
    // kernel's own remainder (ADJ_OFFSET_SS_READ) right after the call.
    let adjtime = r.value("adjtime");
    let left: f64 = adjtime
        .split("adjtime: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("{}", r.report()));
    assert!(
        (left - SLEW_ERROR).abs() < STEP_TOLERANCE,
        "adjtime reports {left} s left\n{}",
        r.report()
    );
}

#[test]
fn the_default_threshold_slews_small_errors_and_steps_large_ones() {
    let script = r#"
ntpdate -b 10.0.2.2 > /dev/null || exit 10
echo "small $(ntpdate 10.0.2.2:124 2>&1)"
echo "large $(ntpdate 10.0.2.2:125 2>&1)"
echo "after-large $(ntpdate -q 10.0.2.2:125 2>&1 | tail -n 1)"
echo "true-after $(ntpdate -q 10.0.2.2 2>&1 | tail -n 1)"
"#;
    let Some(r) = vm::run_test(script, &vm_options()) else {
        return;
    };
    eprintln!("{}", r.report());
    r.assert_success();
    assert_eq!(verb_of(&r, "small"), "adjust", "{}", r.report());
    assert!((offset_of(&r, "small") - SLEW_ERROR).abs() < STEP_TOLERANCE);
    assert_eq!(verb_of(&r, "large"), "step", "{}", r.report());
    // The 0.3 s slew has barely begun (500 ppm: a millisecond in 2 s), so
    // the guest is still about on true time, 2 s behind this server.
    let large = offset_of(&r, "large");
    assert!((large - STEP_ERROR).abs() < 0.05, "{}", r.report());
    assert!(
        offset_of(&r, "after-large").abs() < STEP_TOLERANCE,
        "{}",
        r.report()
    );
    assert!(
        (offset_of(&r, "true-after") + STEP_ERROR).abs() < 0.05,
        "{}",
        r.report()
    );
}
