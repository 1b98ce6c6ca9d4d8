//! ntpd disciplining a real kernel clock: only ever inside a throwaway VM.
//! The server is `ntpbox ntpd` itself on the host side, in the VM's private
//! network namespace (the guest reaches it at 10.0.2.2), serving its local
//! clock with `disable ntp` and without CAP_SYS_TIME.

mod common;

use std::time::Duration;

use common::vm::{self, VmOptions, VmResult};

/// Six years before this machine's time: the guest starts here.
const RTC_PAST: &str = "2020-01-01T00:00:00";
/// The issue's bound for the stepped guest clock against the host's.
const STEP_TOLERANCE: f64 = 0.020;
/// A run: boot (2 to 8 s under TCG) plus a minute of discipline.
const VM_TIMEOUT: Duration = Duration::from_secs(150);
/// CAP_SYS_TIME's bit in /proc/PID/status CapEff.
const CAP_SYS_TIME_MASK: u64 = 1 << 25;

/// The host-side server's ntp.conf.
const HOST_CONF: &str = "\
server 127.127.1.0
fudge 127.127.1.0 stratum 10
disable ntp
restrict default
";

fn vm_options() -> VmOptions {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ntpd_vm");
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join(format!("host-{}.conf", std::process::id()));
    std::fs::write(&conf, HOST_CONF).unwrap();
    let ntpd = common::applet_dir().join("ntpd");
    VmOptions::new()
        .host_command(&format!(
            "setpriv --bounding-set=-sys_time --inh-caps=-sys_time {} -n -c {} --port 123",
            ntpd.display(),
            conf.display()
        ))
        .timeout(VM_TIMEOUT)
}

/// The number after `offset ` in a `KEY ... offset X sec` line.
fn offset_of(r: &VmResult, key: &str) -> f64 {
    let line = r.value(key);
    line.split(" offset ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no offset in `{key} {line}`\n{}", r.report()))
}

/// The guest's ntp.conf: the host server, polled fast so a minute is enough.
const GUEST_CONF: &str = "\
server 10.0.2.2 iburst minpoll 4 maxpoll 4
driftfile /var/lib/ntp/ntp.drift
";

#[test]
fn g_steps_a_guest_six_years_behind_then_disciplines_it() {
    let script = r#"
mkdir -p /var/lib/ntp
echo "year-before $(date -u +%Y)"
ntpd -g -n -c /etc/ntp.conf > /tmp/ntpd.log 2>&1 &
pid=$!
i=0
while [ $i -lt 60 ] && [ "$(date -u +%Y)" = 2020 ]; do sleep 1; i=$((i+1)); done
echo "stepped-within $i"
echo "year-after $(date -u +%Y)"
sleep 2
echo "check $(ntpdate -q -u 10.0.2.2 2>&1 | tail -n 1)"
sleep 20
adjtimex > /tmp/adjtimex 2>&1
echo "status $(grep -i status /tmp/adjtimex | head -n 1)"
echo "frequency $(grep -i 'freq' /tmp/adjtimex | head -n 1)"
echo "tick $(grep -i tick /tmp/adjtimex | head -n 1)"
kill -USR1 $pid
sleep 1
echo "drift $(cat /var/lib/ntp/ntp.drift 2>&1)"
kill -TERM $pid
wait $pid
echo "exit $?"
echo "stepped-line $(grep -m1 -i 'step' /tmp/ntpd.log)"
echo "sync-line $(grep -m1 'synchronized to' /tmp/ntpd.log)"
cat /tmp/ntpd.log
"#;
    let opts = vm_options()
        .rtc_base(RTC_PAST)
        .file_contents("/etc/ntp.conf", GUEST_CONF);
    let Some(r) = vm::run_test(script, &opts) else {
        return;
    };
    eprintln!("{}", r.report());
    r.assert_success();
    assert_eq!(r.value("year-before"), "2020", "{}", r.report());
    let host_year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(r.value("year-after"), host_year, "{}", r.report());
    let within: u32 = r.value("stepped-within").parse().unwrap();
    assert!(within < 60, "not stepped within a minute\n{}", r.report());
    let residual = offset_of(&r, "check");
    assert!(
        residual.abs() < STEP_TOLERANCE,
        "guest clock {residual} s off the host's after the step\n{}",
        r.report()
    );
    // busybox adjtimex prints `status: N` (decimal STA_* bits).
    let status: i64 = r
        .value("status")
        .rsplit([' ', ':'])
        .find_map(|w| w.trim().parse().ok())
        .unwrap_or_else(|| panic!("no status\n{}", r.report()));
    assert_eq!(status & 0x40, 0, "STA_UNSYNC still set\n{}", r.report());
    // `-f  freq.adjust:  -225049 (65536 = 1ppm)`: the discipline's
    // frequency in the kernel (tick and freq together are the rate).
    let freq: f64 = r
        .value("frequency")
        .split(':')
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no freq.adjust\n{}", r.report()));
    let tick: f64 = r
        .value("tick")
        .split(':')
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no tick\n{}", r.report()));
    let rate_ppm = (tick - 10_000.0) * 100.0 + freq / 65536.0;
    eprintln!("kernel rate {rate_ppm:.3} ppm (tick {tick}, freq {freq})");
    assert!(rate_ppm.abs() < 500.0, "{}", r.report());
    let drift: f64 = r
        .value("drift")
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no drift file\n{}", r.report()));
    assert!(drift.abs() <= 500.0, "{}", r.report());
    assert_eq!(r.value("exit"), "0", "{}", r.report());
    assert!(r.value("sync-line").contains("10.0.2.2"), "{}", r.report());
}

#[test]
fn q_sets_the_clock_once_and_exits_0() {
    let script = r#"
echo "year-before $(date -u +%Y)"
ntpd -q -g -c /etc/ntp.conf > /tmp/ntpd.log 2>&1
echo "status $?"
echo "year-after $(date -u +%Y)"
echo "check $(ntpdate -q -u 10.0.2.2 2>&1 | tail -n 1)"
cat /tmp/ntpd.log
"#;
    let opts = vm_options()
        .rtc_base(RTC_PAST)
        .file_contents("/etc/ntp.conf", GUEST_CONF);
    let Some(r) = vm::run_test(script, &opts) else {
        return;
    };
    eprintln!("{}", r.report());
    r.assert_success();
    assert_eq!(r.value("status"), "0", "{}", r.report());
    let host_year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(r.value("year-after"), host_year, "{}", r.report());
    assert!(
        offset_of(&r, "check").abs() < STEP_TOLERANCE,
        "{}",
        r.report()
    );
}

#[test]
fn u_keeps_only_cap_sys_time() {
    let script = r#"
echo "ntp:x:123:123:ntp:/nonexistent:/bin/false" >> /etc/passwd
echo "ntp:x:123:" >> /etc/group
ntpdate -b 10.0.2.2 > /dev/null 2>&1 || exit 10
ntpd -n -u ntp:ntp -c /etc/ntp.conf > /tmp/ntpd.log 2>&1 &
pid=$!
sleep 3
echo "uid $(grep '^Uid:' /proc/$pid/status)"
echo "capeff $(grep '^CapEff:' /proc/$pid/status)"
echo "capprm $(grep '^CapPrm:' /proc/$pid/status)"
kill -TERM $pid
wait $pid
echo "exit $?"
cat /tmp/ntpd.log
"#;
    let opts = vm_options().file_contents(
        "/etc/ntp.conf",
        GUEST_CONF.replace("driftfile /var/lib/ntp/ntp.drift\n", ""),
    );
    let Some(r) = vm::run_test(script, &opts) else {
        return;
    };
    eprintln!("{}", r.report());
    r.assert_success();
    let uid = r.value("uid");
    assert!(
        uid.split_whitespace().skip(1).all(|u| u == "123"),
        "{}",
        r.report()
    );
    let caps = |key: &str| {
        let hex = r
            .value(key)
            .split_whitespace()
            .last()
            .unwrap_or("")
            .to_string();
        u64::from_str_radix(&hex, 16).unwrap_or_else(|_| panic!("{}", r.report()))
    };
    assert_eq!(caps("capeff"), CAP_SYS_TIME_MASK, "{}", r.report());
    assert_eq!(caps("capprm"), CAP_SYS_TIME_MASK, "{}", r.report());
    assert_eq!(r.value("exit"), "0", "{}", r.report());
}
