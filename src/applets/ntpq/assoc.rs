//! `associations` (`as`), `lassociations`, and the `passociations` forms
//! that print the last list again without asking.

use super::shell::{Association, Shell};
use crate::proto::status::peer_bits;

const HEADER: &str = "\nind assid status  conf reach auth condition  last_event cnt\n";
const RULE_WIDTH: usize = 59;

/// The `last_event` words of this table (ntpq's printassoc, which differs
/// from the status word names: `clock_alarm`, and nothing past code 11).
fn last_event(code: u8) -> &'static str {
    match code {
        1 => "mobilize",
        2 => "demobilize",
        3 => "unreachable",
        4 => "reachable",
        5 => "restart",
        6 => "no_reply",
        7 => "rate_exceeded",
        8 => "access_denied",
        9 => "leap_armed",
        10 => "sys_peer",
        11 => "clock_alarm",
        _ => "",
    }
}

/// One row: `  2 17768  b62a   yes   yes  none  sys.peer    sys_peer  2`.
pub fn format_row(index: usize, a: Association) -> String {
    let s = a.peer_status();
    let conf = if s.bits & peer_bits::CONFIGURED != 0 {
        "yes"
    } else {
        "no"
    };
    let (reach, auth) = if s.bits & peer_bits::BROADCAST != 0 {
        let auth = if s.bits & peer_bits::AUTH_ENABLED != 0 {
            "yes"
        } else {
            "none"
        };
        ("none", auth)
    } else {
        let reach = if s.bits & peer_bits::REACHABLE != 0 {
            "yes"
        } else {
            "no"
        };
        let auth = match (
            s.bits & peer_bits::AUTH_ENABLED != 0,
            s.bits & peer_bits::AUTHENTIC != 0,
        ) {
            (false, _) => "none",
            (true, true) => "ok ",
            (true, false) => "bad",
        };
        (reach, auth)
    };
    let row = format!(
        "{:3} {:5}  {:04x}   {:>3}  {:>4}  {:>4} {:>9} {:>11} {:2}",
        index,
        a.id,
        a.status,
        conf,
        reach,
        auth,
        s.condition(),
        last_event(s.event_code),
        s.event_count
    );
    format!("{}\n", row.trim_end())
}

/// The table for the list in `sh.associations`; `all` includes
/// associations neither configured nor reachable.
pub fn print(sh: &mut Shell, all: bool) {
    if sh.associations.is_empty() {
        sh.say("No association ID's in list\n");
        return;
    }
    let mut text = String::from(HEADER);
    text.push_str(&"=".repeat(RULE_WIDTH));
    text.push('\n');
    for (i, a) in sh.associations.iter().enumerate() {
        if all || a.peer_status().is_listed() {
            text.push_str(&format_row(i + 1, *a));
        }
    }
    sh.say(&text);
}

/// `associations`/`lassociations`: ask, then print.
pub fn fetch_and_print(sh: &mut Shell, all: bool) {
    if sh.fetch_associations() {
        print(sh, all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The association list of the reference lab (`ntpq -c as`).
    #[test]
    fn rows_match_the_reference_transcript() {
        let rows = [
            (
                17767,
                0x8013,
                "  1 17767  8013   yes    no  none    reject unreachable  1",
            ),
            (
                17768,
                0xb62a,
                "  2 17768  b62a   yes   yes  none  sys.peer    sys_peer  2",
            ),
            (
                17769,
                0xb414,
                "  3 17769  b414   yes   yes  none candidate   reachable  1",
            ),
            (
                17770,
                0xb31a,
                "  4 17770  b31a   yes   yes  none   outlier    sys_peer  1",
            ),
            (
                17771,
                0xb114,
                "  5 17771  b114   yes   yes  none falsetick   reachable  1",
            ),
            (
                17772,
                0xb514,
                "  6 17772  b514   yes   yes  none    backup   reachable  1",
            ),
            (
                17773,
                0xa011,
                "  7 17773  a011   yes    no  none    reject    mobilize  1",
            ),
        ];
        for (i, (id, status, want)) in rows.into_iter().enumerate() {
            assert_eq!(
                format_row(i + 1, Association { id, status }),
                format!("{want}\n")
            );
        }
    }

    #[test]
    fn authentication_and_broadcast_columns() {
        let a = |status| format_row(1, Association { id: 1, status });
        // conf + authenb + authentic + reach, candidate.
        assert!(
            a(0xf414).contains(" yes   yes   ok  candidate"),
            "{}",
            a(0xf414)
        );
        // conf + authenb, not authentic, not reachable.
        assert!(
            a(0xc014).contains(" yes    no   bad    reject"),
            "{}",
            a(0xc014)
        );
        // Broadcast: reach "none".
        assert!(
            a(0x0800).contains("  no  none  none    reject"),
            "{}",
            a(0x0800)
        );
    }
}
