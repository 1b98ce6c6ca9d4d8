//! ntpdate against the loopback test server: offsets, rejections and their
//! messages, exit codes, and the refusal to touch the clock without
//! CAP_SYS_TIME. Every run of the binary is wrapped in setpriv without
//! CAP_SYS_TIME, so even a mistake here cannot change the host clock.

mod common;
#[path = "common/ntp_test_server.rs"]
mod ntp_test_server;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ntp_test_server::{Behaviour, TestServer};
use ntpbox::proto::{Leap, Mode};

/// Loopback offsets between two programs on one clock are microseconds.
/// The test server stamps its replies in user space, so a busy machine that
/// preempts its thread can add a millisecond or two; the configured offsets
/// (0.2 s and up) stay far apart from this.
const LOOPBACK_TOLERANCE: f64 = 0.005;

struct Outcome {
    status: i32,
    pid: u32,
    stdout: Vec<String>,
    stderr: Vec<String>,
    elapsed: Duration,
}

impl Outcome {
    fn describe(&self) -> String {
        format!(
            "status {}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout.join("\n"),
            self.stderr.join("\n")
        )
    }

    /// The message of a log line (`21 Nov 23:47:50 ntpdate[PID]: MESSAGE`),
    /// checking the prefix and that PID is this run's.
    fn message<'a>(&self, line: &'a str) -> &'a str {
        let msg = log_message(line, self.pid)
            .unwrap_or_else(|| panic!("not a log line of pid {}: {line:?}", self.pid));
        msg
    }

    fn stderr_messages(&self) -> Vec<&str> {
        self.stderr.iter().map(|l| self.message(l)).collect()
    }
}

/// Splits `DD Mon HH:MM:SS ntpdate[PID]: MESSAGE`, day space-padded.
fn log_message(line: &str, pid: u32) -> Option<&str> {
    let b = line.as_bytes();
    let day_ok = b.len() > 16
        && (b[0] == b' ' || b[0].is_ascii_digit())
        && b[1].is_ascii_digit()
        && b[2] == b' ';
    let month_ok = b.get(3..6)?.iter().all(u8::is_ascii_alphabetic) && b[6] == b' ';
    let time = line.get(7..15)?;
    let time_ok = time.len() == 8
        && time.bytes().enumerate().all(|(i, c)| {
            if i == 2 || i == 5 {
                c == b':'
            } else {
                c.is_ascii_digit()
            }
        });
    let rest = line
        .get(15..)?
        .strip_prefix(&format!(" ntpdate[{pid}]: "))?;
    (day_ok && month_ok && time_ok).then_some(rest)
}

/// The ntpdate applet, unable to change the clock: setpriv drops
/// CAP_SYS_TIME from the bounding and inheritable sets before exec.
fn ntpdate() -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--bounding-set=-sys_time", "--inh-caps=-sys_time"])
        .arg(common::applet_dir().join("ntpdate"))
        .env("LC_ALL", "C")
        .env("TZ", "UTC");
    cmd
}

fn run(args: &[&str]) -> Outcome {
    run_in_zone(args, "UTC")
}

fn run_in_zone(args: &[&str], tz: &str) -> Outcome {
    let start = Instant::now();
    let child = ntpdate()
        .env("TZ", tz)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run setpriv ntpdate (util-linux setpriv is required)");
    // setpriv execs ntpdate, so the child's PID is ntpdate's.
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let lines = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .map(str::to_string)
            .collect()
    };
    Outcome {
        status: out.status.code().unwrap_or(-1),
        pid,
        stdout: lines(&out.stdout),
        stderr: lines(&out.stderr),
        elapsed: start.elapsed(),
    }
}

fn serve(b: Behaviour) -> TestServer {
    TestServer::start(b)
}

/// Parses `server ADDR, stratum N, offset X, delay Y`.
fn parse_server_line(line: &str) -> (String, u8, f64, f64) {
    let rest = line.strip_prefix("server ").expect(line);
    let parts: Vec<&str> = rest.split(", ").collect();
    assert_eq!(parts.len(), 4, "{line}");
    let value = |p: &str, key: &str| p.strip_prefix(key).expect(line).to_string();
    let offset = value(parts[2], "offset ");
    let delay = value(parts[3], "delay ");
    assert_eq!(offset.split('.').nth(1).map(str::len), Some(6), "{line}");
    assert_eq!(delay.split('.').nth(1).map(str::len), Some(5), "{line}");
    (
        parts[0].to_string(),
        value(parts[1], "stratum ").parse().expect(line),
        offset.parse().expect(line),
        delay.parse().expect(line),
    )
}

/// Parses `step|adjust time server ADDR offset X sec`.
fn parse_result(msg: &str) -> (String, String, f64) {
    let words: Vec<&str> = msg.split(' ').collect();
    assert_eq!(words.len(), 7, "{msg}");
    assert_eq!(&words[1..3], ["time", "server"], "{msg}");
    assert_eq!(words[4], "offset", "{msg}");
    assert_eq!(words[6], "sec", "{msg}");
    assert_eq!(words[5].split('.').nth(1).map(str::len), Some(6), "{msg}");
    (
        words[0].to_string(),
        words[3].to_string(),
        words[5].parse().expect(msg),
    )
}

#[test]
fn query_prints_the_server_line_and_the_adjust_line() {
    let server = serve(Behaviour::default());
    let out = run(&["-q", "-u", &server.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    assert_eq!(out.stdout.len(), 2, "{}", out.describe());
    assert!(out.stderr.is_empty(), "{}", out.describe());
    let (addr, stratum, offset, delay) = parse_server_line(&out.stdout[0]);
    assert_eq!(addr, server.arg());
    assert_eq!(stratum, 2);
    assert!(offset.abs() < LOOPBACK_TOLERANCE, "{}", out.describe());
    assert!((0.0..0.01).contains(&delay), "{}", out.describe());
    let (verb, result_addr, result_offset) = parse_result(out.message(&out.stdout[1]));
    assert_eq!(verb, "adjust");
    assert_eq!(result_addr, server.arg());
    assert_eq!(result_offset, offset);
    assert_eq!(server.requests(), 4, "default -p is 4 samples");
}

#[test]
fn a_server_two_and_a_half_seconds_ahead_is_a_step() {
    let server = serve(Behaviour {
        offset: 2.5,
        ..Behaviour::default()
    });
    let out = run(&["-q", "-u", &server.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    let (verb, _, offset) = parse_result(out.message(&out.stdout[1]));
    assert_eq!(verb, "step");
    assert!(
        (offset - 2.5).abs() < LOOPBACK_TOLERANCE,
        "{}",
        out.describe()
    );
}

#[test]
fn a_server_behind_gives_a_negative_offset_and_a_slew_under_half_a_second() {
    let server = serve(Behaviour {
        offset: -0.3,
        ..Behaviour::default()
    });
    let out = run(&["-q", "-u", "-p", "2", &server.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    let (verb, _, offset) = parse_result(out.message(&out.stdout[1]));
    assert_eq!(verb, "adjust");
    assert!(
        (offset + 0.3).abs() < LOOPBACK_TOLERANCE,
        "{}",
        out.describe()
    );
    assert_eq!(server.requests(), 2);
}

#[test]
fn b_and_capital_b_override_the_threshold_in_the_result_line() {
    let ahead = serve(Behaviour {
        offset: 2.5,
        ..Behaviour::default()
    });
    let out = run(&["-q", "-u", "-B", "-p", "1", &ahead.arg()]);
    assert_eq!(parse_result(out.message(&out.stdout[1])).0, "adjust");
    let close = serve(Behaviour::default());
    let out = run(&["-q", "-u", "-b", "-p", "1", &close.arg()]);
    assert_eq!(parse_result(out.message(&out.stdout[1])).0, "step");
}

#[test]
fn path_delay_shows_in_the_delay_not_the_offset() {
    let server = serve(Behaviour {
        delay: Duration::from_millis(40),
        ..Behaviour::default()
    });
    let out = run(&["-q", "-u", "-p", "2", &server.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    let (_, _, offset, delay) = parse_server_line(&out.stdout[0]);
    assert!((0.040..0.2).contains(&delay), "{}", out.describe());
    // All of the delay is on the way back, so the offset is off by half.
    assert!((offset + 0.020).abs() < 0.01, "{}", out.describe());
}

#[test]
fn the_falseticker_among_three_servers_is_not_chosen() {
    let good_a = serve(Behaviour::default());
    let good_b = serve(Behaviour {
        offset: 0.0005,
        ..Behaviour::default()
    });
    let wrong = serve(Behaviour {
        offset: 0.35,
        ..Behaviour::default()
    });
    let out = run(&["-q", "-u", &wrong.arg(), &good_a.arg(), &good_b.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    assert_eq!(out.stdout.len(), 4, "{}", out.describe());
    let listed: Vec<String> = out.stdout[..3]
        .iter()
        .map(|l| parse_server_line(l).0)
        .collect();
    assert_eq!(listed, [wrong.arg(), good_a.arg(), good_b.arg()]);
    let (_, chosen, offset) = parse_result(out.message(&out.stdout[3]));
    assert_ne!(chosen, wrong.arg(), "{}", out.describe());
    assert!(offset.abs() < LOOPBACK_TOLERANCE, "{}", out.describe());
}

#[test]
fn the_lower_stratum_wins() {
    let s3 = serve(Behaviour {
        stratum: 3,
        ..Behaviour::default()
    });
    let s1 = serve(Behaviour {
        stratum: 1,
        refid: *b"GPS\0",
        ..Behaviour::default()
    });
    let out = run(&["-q", "-u", "-p", "2", &s3.arg(), &s1.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    assert_eq!(parse_result(out.message(&out.stdout[2])).1, s1.arg());
}

#[test]
fn ipv6_loopback_works() {
    let Ok(server) = TestServer::start_on("[::1]:0".parse().unwrap(), Behaviour::default()) else {
        return common::skip_or_fail("IPv6 loopback (::1)");
    };
    let out = run(&["-q", "-u", "-p", "1", &server.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    assert_eq!(parse_server_line(&out.stdout[0]).0, server.arg());
}

/// Runs a query against a server with `behaviour` that must fail, and
/// returns the stderr messages (prefix checked) and the request count.
fn rejected(behaviour: Behaviour, extra: &[&str]) -> (Vec<String>, usize, Outcome) {
    let server = serve(behaviour);
    let mut args = vec!["-q", "-u", "-t", "0.3"];
    args.extend_from_slice(extra);
    let arg = server.arg();
    args.push(&arg);
    let out = run(&args);
    assert_eq!(out.status, 1, "{}", out.describe());
    let msgs = out
        .stderr_messages()
        .iter()
        .map(|m| m.replace(&arg, "SERVER"))
        .collect();
    (msgs, server.requests(), out)
}

const NO_SERVER: &str = "no server suitable for synchronization found";

#[test]
fn a_wrong_origin_timestamp_is_never_believed() {
    let (msgs, requests, out) = rejected(
        Behaviour {
            bad_origin: true,
            ..Behaviour::default()
        },
        &["-p", "2"],
    );
    assert_eq!(
        msgs,
        [
            "SERVER: no valid reply: origin timestamp does not match our request (bogus or late reply)",
            NO_SERVER
        ]
    );
    assert_eq!(requests, 2);
    // Each request waited out its timeout: bogus replies end nothing.
    assert!(
        out.elapsed >= Duration::from_millis(600),
        "{:?}",
        out.elapsed
    );
}

#[test]
fn leap_three_is_rejected_after_every_sample_was_tried() {
    let (msgs, requests, out) = rejected(
        Behaviour {
            leap: Leap::Unsynchronized,
            ..Behaviour::default()
        },
        &[],
    );
    assert_eq!(
        msgs,
        [
            "SERVER: Server dropped: leap not in sync (the server is unsynchronised)",
            NO_SERVER
        ]
    );
    assert_eq!(requests, 4);
    assert!(out.stdout.is_empty(), "{}", out.describe());
}

#[test]
fn stratum_sixteen_is_rejected() {
    let (msgs, _, _) = rejected(
        Behaviour {
            stratum: 16,
            ..Behaviour::default()
        },
        &[],
    );
    assert_eq!(
        msgs,
        [
            "SERVER: Server dropped: strata too high (stratum 16)",
            NO_SERVER
        ]
    );
}

#[test]
fn kiss_of_death_codes_each_have_their_message_and_stop_the_queries() {
    for (code, message) in [
        (
            "DENY",
            "SERVER access denied by server (kiss code DENY), server dropped.",
        ),
        (
            "RSTR",
            "SERVER access restricted by server (kiss code RSTR), server dropped.",
        ),
        ("RATE", "SERVER rate limit response from server."),
    ] {
        let (msgs, requests, _) = rejected(
            Behaviour {
                kiss: Some(code),
                ..Behaviour::default()
            },
            &[],
        );
        assert_eq!(msgs, [message, NO_SERVER], "{code}");
        assert_eq!(requests, 1, "{code}: no request after a kiss-o'-death");
    }
}

#[test]
fn a_rate_kiss_after_good_samples_keeps_the_good_samples() {
    let server = serve(Behaviour {
        kiss_after: Some((2, "RATE")),
        ..Behaviour::default()
    });
    let out = run(&["-q", "-u", &server.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    assert_eq!(
        out.stderr_messages(),
        [format!("{} rate limit response from server.", server.arg())]
    );
    assert_eq!(server.requests(), 3);
    assert_eq!(parse_result(out.message(&out.stdout[1])).0, "adjust");
}

#[test]
fn an_unknown_kiss_code_rejects_the_sample_only() {
    let (msgs, requests, _) = rejected(
        Behaviour {
            kiss: Some("INIT"),
            ..Behaviour::default()
        },
        &[],
    );
    assert_eq!(
        msgs,
        ["SERVER: Server dropped: kiss-o'-death INIT", NO_SERVER]
    );
    assert_eq!(requests, 4);
}

#[test]
fn zero_transmit_wrong_mode_and_huge_root_distance_are_rejected() {
    let (msgs, _, _) = rejected(
        Behaviour {
            zero_transmit: true,
            ..Behaviour::default()
        },
        &["-p", "1"],
    );
    assert_eq!(
        msgs,
        ["SERVER: Server dropped: zero transmit timestamp", NO_SERVER]
    );

    let (msgs, _, _) = rejected(
        Behaviour {
            mode: Mode::SymmetricPassive,
            ..Behaviour::default()
        },
        &["-p", "1"],
    );
    assert_eq!(
        msgs,
        [
            "SERVER: no valid reply: mode 2 is not a server reply",
            NO_SERVER
        ]
    );

    let (msgs, _, _) = rejected(
        Behaviour {
            root_dispersion: 2.0,
            ..Behaviour::default()
        },
        &["-p", "1"],
    );
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].starts_with("SERVER: Server dropped: root distance 2.0")
            && msgs[0].ends_with(" s is too large (limit 1.5 s)"),
        "{msgs:?}"
    );
}

#[test]
fn a_server_unsynchronised_for_days_is_dropped() {
    let (msgs, _, out) = rejected(
        Behaviour {
            reference_age: 3.0 * 86_400.0,
            ..Behaviour::default()
        },
        &["-p", "1"],
    );
    assert_eq!(
        msgs,
        [
            "SERVER: Server dropped: server has gone too long without sync (reference time 72 h old)",
            NO_SERVER
        ]
    );
    // Its samples were fine, so -q lists it, as classic does.
    assert_eq!(out.stdout.len(), 1, "{}", out.describe());
    parse_server_line(&out.stdout[0]);
}

#[test]
fn a_silent_server_times_out_each_sample() {
    let (msgs, requests, out) = rejected(
        Behaviour {
            silent: true,
            ..Behaviour::default()
        },
        &["-t", "0.1"],
    );
    assert_eq!(msgs, ["SERVER: no reply (4 requests timed out)", NO_SERVER]);
    assert_eq!(requests, 4);
    assert!(
        out.elapsed >= Duration::from_millis(400),
        "{:?}",
        out.elapsed
    );
    assert!(out.elapsed < Duration::from_secs(3), "{:?}", out.elapsed);
}

#[test]
fn nothing_listening_fails_fast_on_the_icmp_error() {
    // A port that was free a moment ago: nothing listens there, and the
    // kernel answers each request with "port unreachable" at once.
    let closed = common::free_udp_port();
    let arg = format!("127.0.0.1:{closed}");
    let out = run(&["-q", "-u", "-t", "2", &arg]);
    assert_eq!(out.status, 1, "{}", out.describe());
    assert_eq!(
        out.stderr_messages(),
        [
            format!("{arg}: no reply: Connection refused"),
            NO_SERVER.to_string()
        ]
    );
    assert!(out.elapsed < Duration::from_secs(1), "{:?}", out.elapsed);
}

#[test]
fn every_address_of_a_name_is_asked_and_dead_ones_cost_no_timeout() {
    // localhost is 127.0.0.1 and often ::1 too; only 127.0.0.1 answers.
    let server = serve(Behaviour::default());
    let arg = format!("localhost:{}", server.addr().port());
    let out = run(&["-q", "-u", "-t", "2", &arg]);
    assert_eq!(out.status, 0, "{}", out.describe());
    let (_, chosen, _) = parse_result(out.message(out.stdout.last().unwrap()));
    assert_eq!(chosen, server.arg());
    assert!(out.elapsed < Duration::from_secs(1), "{:?}", out.elapsed);
}

#[test]
fn one_good_server_is_enough_when_another_is_silent() {
    let silent = serve(Behaviour {
        silent: true,
        ..Behaviour::default()
    });
    let good = serve(Behaviour::default());
    let out = run(&["-q", "-u", "-t", "0.2", &silent.arg(), &good.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    assert_eq!(out.stdout.len(), 2, "{}", out.describe());
    assert_eq!(parse_result(out.message(&out.stdout[1])).1, good.arg());
}

#[test]
fn an_unknown_host_is_named_and_then_nothing_is_left() {
    let out = run(&["-q", "-u", "no-such-host.invalid"]);
    assert_eq!(out.status, 1, "{}", out.describe());
    let msgs = out.stderr_messages();
    assert_eq!(msgs.len(), 2, "{}", out.describe());
    assert!(
        msgs[0].starts_with("Can't find host no-such-host.invalid: "),
        "{}",
        out.describe()
    );
    assert_eq!(msgs[1], "no servers can be used, exiting");
}

#[test]
fn an_unknown_host_among_good_ones_is_skipped() {
    let good = serve(Behaviour::default());
    let out = run(&["-q", "-u", "-p", "1", "no-such-host.invalid", &good.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    assert_eq!(out.stderr.len(), 1, "{}", out.describe());
    assert_eq!(parse_result(out.message(&out.stdout[1])).1, good.arg());
}

#[test]
fn the_log_line_is_in_local_time() {
    let server = serve(Behaviour::default());
    // A POSIX TZ string needs no zone files: eight hours east of UTC.
    let east8 = |t: chrono::DateTime<chrono::Utc>| {
        (t + chrono::Duration::hours(8))
            .format("%e %b %H:%M")
            .to_string()
    };
    let before = east8(chrono::Utc::now());
    let out = run_in_zone(&["-q", "-u", "-p", "1", &server.arg()], "CST-8");
    let after = east8(chrono::Utc::now());
    assert_eq!(out.status, 0, "{}", out.describe());
    let line = &out.stdout[1];
    out.message(line);
    assert!(
        line.starts_with(&before) || line.starts_with(&after),
        "{line:?} is not at {before:?} (UTC+8)"
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["-p", "9", "127.0.0.1"],
        &["-p", "0", "127.0.0.1"],
        &["-o", "5", "127.0.0.1"],
        &["-t", "soon", "127.0.0.1"],
        &["-Z", "127.0.0.1"],
        &["[::1", "127.0.0.1"],
    ] {
        let out = run(args);
        assert_eq!(out.status, 2, "{args:?}: {}", out.describe());
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn authentication_without_a_keys_file_is_a_clear_error() {
    let out = run(&[
        "-q",
        "-u",
        "-a",
        "1",
        "-k",
        "/nonexistent/ntp.keys",
        "127.0.0.1",
    ]);
    assert_eq!(out.status, 1, "{}", out.describe());
    let msgs = out.stderr_messages();
    assert_eq!(
        msgs,
        [
            "authreadkeys: file '/nonexistent/ntp.keys': No such file or directory",
            "no key file </nonexistent/ntp.keys>, exiting"
        ],
        "{}",
        out.describe()
    );
}

#[test]
fn verbose_prints_the_version_line_first() {
    let server = serve(Behaviour::default());
    let out = run(&["-q", "-u", "-v", "-p", "1", &server.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    assert_eq!(
        out.message(&out.stdout[0]),
        format!("ntpdate {} (ntpbox)", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(out.stdout.len(), 3, "{}", out.describe());
}

#[test]
fn syslog_takes_the_log_lines_but_not_the_server_lines() {
    let server = serve(Behaviour::default());
    let out = run(&["-q", "-u", "-s", "-p", "1", &server.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    assert_eq!(out.stdout.len(), 1, "{}", out.describe());
    parse_server_line(&out.stdout[0]);
    assert!(out.stderr.is_empty(), "{}", out.describe());
}

#[test]
fn debug_shows_each_exchange_and_never_sets_the_clock() {
    let server = serve(Behaviour {
        offset: 0.2,
        ..Behaviour::default()
    });
    // No -q: -d alone must not try to set the clock, so this succeeds even
    // without CAP_SYS_TIME.
    let out = run(&["-d", "-u", "-p", "2", &server.arg()]);
    assert_eq!(out.status, 0, "{}", out.describe());
    let text = out.stdout.join("\n");
    let transmit = format!("transmit({})", server.arg());
    assert_eq!(text.matches(&transmit).count(), 2, "{text}");
    assert_eq!(
        text.matches(&format!("receive({})", server.arg())).count(),
        2,
        "{text}"
    );
    for label in [
        "t1 originate:",
        "t2 receive:",
        "t3 transmit:",
        "t4 arrival:",
    ] {
        assert_eq!(text.matches(label).count(), 2, "{label}\n{text}");
    }
    assert!(text.contains(&format!(
        "server {}, port {}",
        server.addr().ip(),
        server.addr().port()
    )));
    assert!(
        text.contains("stratum 2, precision -20, leap 00, trust 000"),
        "{text}"
    );
    assert!(text.contains("refid [127.0.0.1]"), "{text}");
    let last = out.stdout.last().unwrap();
    let (verb, _, offset) = parse_result(out.message(last));
    assert_eq!(verb, "adjust");
    assert!((offset - 0.2).abs() < LOOPBACK_TOLERANCE);
}

#[test]
fn debug_says_why_a_reply_was_rejected() {
    let server = serve(Behaviour {
        leap: Leap::Unsynchronized,
        ..Behaviour::default()
    });
    let out = run(&["-d", "-u", "-p", "1", &server.arg()]);
    assert_eq!(out.status, 1, "{}", out.describe());
    assert!(
        out.stdout.contains(&format!(
            "receive({}): rejected: leap not in sync (the server is unsynchronised)",
            server.arg()
        )),
        "{}",
        out.describe()
    );
}

/// Without CAP_SYS_TIME, setting the clock fails with one clear line and
/// exit 1; nothing is printed as if it had worked.
#[test]
fn without_cap_sys_time_setting_the_clock_is_one_clear_error() {
    const EPERM_TAIL: &str = "Operation not permitted (setting the clock needs CAP_SYS_TIME: \
                              run ntpdate as root, or use -q to query only)";
    let cases = [
        (0.3, &[][..], "slew"),
        (2.5, &[][..], "step"),
        (0.3, &["-b"][..], "step"),
        (2.5, &["-B"][..], "slew"),
        (3000.0, &["-B"][..], "slew"),
    ];
    for (offset, flags, verb) in cases {
        let server = serve(Behaviour {
            offset,
            ..Behaviour::default()
        });
        let mut args = vec!["-u", "-p", "1"];
        args.extend_from_slice(flags);
        let arg = server.arg();
        args.push(&arg);
        let out = run(&args);
        assert_eq!(out.status, 1, "{flags:?}: {}", out.describe());
        assert!(out.stdout.is_empty(), "{flags:?}: {}", out.describe());
        let msgs = out.stderr_messages();
        assert_eq!(msgs.len(), 1, "{flags:?}: {}", out.describe());
        // `cannot VERB the clock by X s: WHY`
        let rest = msgs[0]
            .strip_prefix(&format!("cannot {verb} the clock by "))
            .unwrap_or_else(|| panic!("{flags:?}: {msgs:?}"));
        let (by, why) = rest.split_once(" s: ").expect(msgs[0]);
        let by: f64 = by.parse().expect(msgs[0]);
        assert!((by - offset).abs() < LOOPBACK_TOLERANCE, "{msgs:?}");
        if offset > 2145.0 {
            // Beyond adjtime's bound: refused before the kernel is asked, and
            // the line still says what failed and what to do.
            assert_eq!(why, "too far to slew (use -b to step)", "{msgs:?}");
        } else {
            assert_eq!(why, EPERM_TAIL, "{flags:?}: {msgs:?}");
        }
    }
}

/// Classic ntpdate binds source port 123 unless -u, -q or -d; a port held by
/// another program gives its classic message. Port 123 is only ever bound
/// in a network namespace this test creates.
#[test]
fn the_ntp_port_in_use_is_reported_in_classic_words() {
    let probe = Command::new("unshare").args(["--net", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        return common::skip_or_fail("unshare --net (root, util-linux)");
    }
    let ntpdate = common::applet_dir().join("ntpdate");
    // The first ntpdate holds port 123 while it waits for an answer from
    // 127.0.0.1:123, which is itself (it ignores its own request); the
    // second finds the port taken.
    let script = format!(
        "ip link set lo up || exit 90
         {nd} -p 1 -t 5 127.0.0.1 >/dev/null 2>&1 &
         holder=$!
         i=0
         until grep -q ':007B ' /proc/net/udp; do
           i=$((i+1)); [ $i -gt 200 ] && {{ kill $holder; exit 91; }}
           sleep 0.01
         done
         {nd} -p 1 -t 0.2 127.0.0.1
         status=$?
         {{ kill $holder; wait $holder; }} 2>/dev/null
         exit $status",
        nd = ntpdate.display()
    );
    let child = Command::new("setpriv")
        .args(["--bounding-set=-sys_time", "--inh-caps=-sys_time"])
        .args(["unshare", "--net", "--", "sh", "-c", &script])
        .env("LC_ALL", "C")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert_eq!(child.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].ends_with("]: the NTP socket is in use, exiting"),
        "{stderr}"
    );
}
