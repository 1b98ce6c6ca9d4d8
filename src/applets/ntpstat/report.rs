//! What ntpstat prints for ntpd's system variables, and its exit status:
//! the rules of Debian's ntpstat (G. Richard Keech's C program), which
//! reads the leap bits and clock source from the status word and picks
//! `refid`, `stratum`, `rootdisp`, `rootdelay` and `tc` out of the text.

use crate::proto::varlist;

/// Exit status: synchronised.
pub const SYNCED: i32 = 0;
/// Exit status: not synchronised (or a value missing from the answer).
pub const NOT_SYNCED: i32 = 1;
/// Exit status: no answer from the daemon.
pub const NO_DAEMON: i32 = 2;

/// The leap bits that mean "clock not synchronised".
const LEAP_ALARM: u16 = 3;
/// The system event code that Debian's ntpstat reads as "re-starting"
/// (classic ntpd's freq_not_set, its event right after start).
const EVENT_RESTARTING: u16 = 1;
/// Clock sources whose refid ntpstat shows: local net (127.127.1.0, the
/// classic local clock) and NTP server. Debian's program shows it for an
/// NTP server only; Red Hat's and the seeds also for the local clock.
const SOURCES_WITH_REFID: [u16; 2] = [5, 6];
/// Longest values ntpstat believes (its sanity checks).
const MAX_REFID_LEN: usize = 16;
const MAX_STRATUM_LEN: usize = 2;
const MAX_DISTANCE_LEN: usize = 10;
const MAX_POLL_LEN: usize = 2;
/// Largest poll exponent shifted (ntpd's maximum is 17).
const MAX_POLL_SHIFT: i64 = 30;

/// Names of the clock sources of the system status word (RFC 1305).
const SOURCE_NAMES: [&str; 10] = [
    "unspecified",
    "atomic clock",
    "VLF radio",
    "HF radio",
    "UHF radio",
    "local net",
    "NTP server",
    "UDP/TIME",
    "wristwatch",
    "modem",
];

/// The text to print and the exit status, for a READVAR answer.
pub fn report(status: u16, data: &[u8]) -> (String, i32) {
    let vars = varlist::parse(data);
    let value = |name: &str| {
        vars.iter()
            .find(|v| v.name == name)
            .map(|v| v.value.clone().unwrap_or_default())
    };
    let mut out = String::new();
    let mut rc = SYNCED;
    if status >> 14 == LEAP_ALARM {
        out.push_str("unsynchronised\n");
        if status & 0x0f == EVENT_RESTARTING {
            out.push_str("  time server re-starting\n");
        }
        rc = NOT_SYNCED;
    } else {
        out.push_str("synchronised to ");
        let source = (status >> 8) & 0x3f;
        out.push_str(
            SOURCE_NAMES
                .get(usize::from(source))
                .copied()
                .unwrap_or("unknown source"),
        );
        if SOURCES_WITH_REFID.contains(&source) {
            match value("refid") {
                Some(r) if r.is_empty() || r.len() > MAX_REFID_LEN => {
                    out.push_str(" <IP unreadable>")
                }
                Some(r) => out.push_str(&format!(" ({r})")),
                None => {
                    rc = NOT_SYNCED;
                    out.push_str(" <IP unknown>");
                }
            }
        }
        match value("stratum") {
            Some(s) if s.is_empty() || s.len() > MAX_STRATUM_LEN => {
                out.push_str(", stratum unreadable\n")
            }
            // Debian's program leaves a space before the newline.
            Some(s) => out.push_str(&format!(" at stratum {s} \n")),
            None => {
                rc = NOT_SYNCED;
                out.push_str(", stratum unknown\n");
            }
        }
        match (value("rootdisp"), value("rootdelay")) {
            (Some(disp), Some(delay)) => {
                let bad = |v: &str| v.is_empty() || v.len() > MAX_DISTANCE_LEN;
                if bad(&disp) || bad(&delay) {
                    out.push_str("accuracy unreadable\n");
                } else {
                    let ms = atof(&disp) + atof(&delay) / 2.0;
                    out.push_str(&format!("   time correct to within {ms:.0} ms\n"));
                }
            }
            _ => {
                rc = NOT_SYNCED;
                out.push_str("accuracy unknown\n");
            }
        }
    }
    match value("tc") {
        Some(tc) if tc.is_empty() || tc.len() > MAX_POLL_LEN => {
            out.push_str("poll interval unreadable\n")
        }
        Some(tc) => {
            let exponent = atoi(&tc).clamp(0, MAX_POLL_SHIFT);
            out.push_str(&format!("   polling server every {} s\n", 1i64 << exponent));
        }
        None => {
            rc = NOT_SYNCED;
            out.push_str("poll interval unknown\n");
        }
    }
    (out, rc)
}

/// C's atof: the longest number at the start, 0 if none.
fn atof(text: &str) -> f64 {
    let t = text.trim_start();
    let end = t
        .char_indices()
        .take_while(|&(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    t[..end].parse().unwrap_or(0.0)
}

/// C's atoi.
fn atoi(text: &str) -> i64 {
    let t = text.trim_start();
    let end = t
        .char_indices()
        .take_while(|&(i, c)| c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    t[..end].parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ntpsec's system variables from the reference capture (lab synced to
    /// 198.18.0.2), in the order and layout it sends them.
    const SYNCED_VARS: &[u8] =
        b"leap=0, stratum=3, precision=-24, rootdelay=0.049, rootdisp=1.060,\r\n\
refid=198.18.0.2, reftime=0xeeaca5bc.b6c7cab5, tc=3, peer=17768,\r\n\
offset=0.000000, mintc=0\r\n";

    #[test]
    fn synced_to_an_unspecified_source_as_debian_prints_it() {
        assert_eq!(
            report(0x0016, SYNCED_VARS),
            (
                "synchronised to unspecified at stratum 3 \n   time correct to within 1 ms\n   polling server every 8 s\n"
                    .to_string(),
                SYNCED
            )
        );
    }

    #[test]
    fn synced_to_an_ntp_server_shows_its_address() {
        let data = b"stratum=2, rootdelay=234.5, rootdisp=344.2, refid=131.107.13.100, tc=6";
        assert_eq!(
            report(0x0615, data).0,
            "synchronised to NTP server (131.107.13.100) at stratum 2 \n   time correct to within 461 ms\n   polling server every 64 s\n"
        );
    }

    #[test]
    fn synced_to_the_local_clock_shows_local_net() {
        let data = b"stratum=11, rootdelay=0.000, rootdisp=7947.5, refid=127.127.1.0, tc=6";
        let (text, rc) = report(0x0514, data);
        assert_eq!(
            text.lines().next(),
            Some("synchronised to local net (127.127.1.0) at stratum 11 ")
        );
        assert_eq!(
            text.lines().nth(1),
            Some("   time correct to within 7948 ms")
        );
        assert_eq!(rc, SYNCED);
    }

    #[test]
    fn unsynchronised_and_restarting() {
        let data = b"leap=3, stratum=16, refid=INIT, tc=0";
        assert_eq!(
            report(0xc016, data),
            (
                "unsynchronised\n   polling server every 1 s\n".to_string(),
                NOT_SYNCED
            )
        );
        assert_eq!(
            report(0xc011, b"tc=6").0,
            "unsynchronised\n  time server re-starting\n   polling server every 64 s\n"
        );
    }

    #[test]
    fn missing_and_odd_values() {
        let (text, rc) = report(0x0615, b"refid=, stratum=123");
        assert_eq!(
            text,
            "synchronised to NTP server <IP unreadable>, stratum unreadable\naccuracy unknown\npoll interval unknown\n"
        );
        assert_eq!(rc, NOT_SYNCED);
        assert!(report(0x3f15, b"stratum=2, rootdelay=0, rootdisp=0, tc=4")
            .0
            .starts_with("synchronised to unknown source at stratum 2 \n"));
    }

    #[test]
    fn c_number_parsing() {
        assert_eq!(atof("1.060"), 1.06);
        assert_eq!(atof("12abc"), 12.0);
        assert_eq!(atof("x"), 0.0);
        assert_eq!(atoi("10"), 10);
        assert_eq!(atoi("-3"), -3);
    }
}
