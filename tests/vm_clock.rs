//! The VM kit itself: the guest boots at the `-rtc base` date qemu was given,
//! its system clock and /dev/rtc0 agree, ntpbox runs in it, kernel
//! command-line words reach the script, and with networking the guest
//! reaches the host side's loopback and nothing else.

mod common;

use std::time::Duration;

use common::vm::{self, VmOptions};

/// qemu's `-rtc base` for these tests and the same instant in Unix seconds.
const RTC_BASE: &str = "2020-01-01T00:00:00";
const RTC_BASE_EPOCH: i64 = 1_577_836_800;

/// From the RTC base to the script's first `date`: the boot, 2 to 4 s under
/// TCG, with a wide margin for a loaded host.
const MAX_BOOT: i64 = 40;

/// Prints the guest's clocks as `name value` lines.
const CLOCK_SCRIPT: &str = r#"
set -e
echo "system $(date -u +%s)"
echo "rtc $(cat /sys/class/rtc/rtc0/since_epoch)"
echo "rtc-date $(cat /sys/class/rtc/rtc0/date) $(cat /sys/class/rtc/rtc0/time)"
echo "busybox-hwclock $(busybox hwclock -r -u)"
echo "applets $(ntpbox --list | tr '\n' ' ')"
echo "which-hwclock $(command -v hwclock)"
echo "mark $MARK"
"#;

fn value<'a>(output: &'a str, name: &str) -> &'a str {
    output
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no `{name}` line in the guest output:\n{output}"))
}

fn seconds(output: &str, name: &str) -> i64 {
    value(output, name)
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("`{name}` is not a number ({e}):\n{output}"))
}

#[test]
fn guest_starts_at_the_rtc_base_and_its_rtc_agrees() {
    let opts = VmOptions::new()
        .rtc_base(RTC_BASE)
        .env("MARK", "kernel-cmdline-reaches-the-script")
        .timeout(Duration::from_secs(60));
    let Some(r) = vm::run_test(CLOCK_SCRIPT, &opts) else {
        return;
    };
    eprintln!("{}", r.output);
    eprintln!("VM run took {:.2?}", r.elapsed);
    r.assert_success();
    let out = &r.output;

    let system = seconds(out, "system");
    assert!(
        (RTC_BASE_EPOCH..=RTC_BASE_EPOCH + MAX_BOOT).contains(&system),
        "guest system clock {system} is not just after the RTC base {RTC_BASE_EPOCH}\n{}",
        r.report()
    );
    let rtc = seconds(out, "rtc");
    assert!(
        (rtc - system).abs() <= 1,
        "rtc0 ({rtc}) and system clock ({system}) disagree\n{}",
        r.report()
    );
    assert!(
        value(out, "rtc-date").starts_with("2020-01-01 00:00:"),
        "{}",
        r.report()
    );
    assert!(
        value(out, "busybox-hwclock").starts_with("Wed Jan  1 00:00:"),
        "{}",
        r.report()
    );
    assert!(value(out, "applets").contains("hwclock"), "{}", r.report());
    assert_eq!(
        value(out, "which-hwclock"),
        format!("{}/hwclock", vm::GUEST_BIN_DIR)
    );
    assert_eq!(value(out, "mark"), "kernel-cmdline-reaches-the-script");
}

/// A port for the host-side TCP greeter (inside the VM's own namespace, so
/// any fixed port is free there).
const GREETER_PORT: u16 = 12_300;

#[test]
fn network_reaches_the_host_side_loopback_and_nothing_else() {
    let greeter = format!(
        "python3 -c 'import socket; s = socket.create_server((\"127.0.0.1\", {GREETER_PORT})); \
         c, _ = s.accept(); c.sendall(b\"hello-from-host\\n\"); c.close()'"
    );
    let script = format!(
        r#"
# the greeter may still be starting: retry for a few seconds
for i in 1 2 3 4 5 6 7 8 9 10; do
    reply=$(nc 10.0.2.2 {GREETER_PORT} 2>/dev/null) && [ -n "$reply" ] && break
    sleep 0.5
done
echo "reply $reply"
# slirp's DNS forwarder and any other address are unroutable
if ping -c 1 -W 1 10.0.2.3 > /dev/null 2>&1; then echo "dns reachable"; else echo "dns unreachable"; fi
if ping -c 1 -W 1 192.0.2.1 > /dev/null 2>&1; then echo "world reachable"; else echo "world unreachable"; fi
"#
    );
    let opts = VmOptions::new()
        .host_command(&greeter)
        .timeout(Duration::from_secs(60));
    let Some(r) = vm::run_test(&script, &opts) else {
        return;
    };
    eprintln!("VM run took {:.2?}", r.elapsed);
    r.assert_success();
    assert_eq!(
        value(&r.output, "reply"),
        "hello-from-host",
        "{}",
        r.report()
    );
    assert!(r.output.contains("dns unreachable"), "{}", r.report());
    assert!(r.output.contains("world unreachable"), "{}", r.report());
}
