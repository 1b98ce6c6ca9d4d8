//! Mode 6 status words and the names ntpq gives their fields.
//!
//! System status: leap(2) | clock source(6) | event count(4) | event code(4).
//! Peer status:   status bits(5) | select code(3) | event count(4) | event code(4).
//! Clock status:  clock status(8) | event code(8).

use super::packet::Leap;

const LEAP_NAMES: [&str; 4] = ["leap_none", "leap_add_sec", "leap_del_sec", "leap_alarm"];

const SYNC_SOURCE_NAMES: [&str; 10] = [
    "sync_unspec",
    "sync_pps",
    "sync_lf_radio",
    "sync_hf_radio",
    "sync_uhf_radio",
    "sync_local",
    "sync_ntp",
    "sync_other",
    "sync_wristwatch",
    "sync_telephone",
];

const SYSTEM_EVENT_NAMES: [&str; 16] = [
    "unspecified",
    "freq_not_set",
    "freq_set",
    "spike_detect",
    "freq_mode",
    "clock_sync",
    "restart",
    "panic_stop",
    "no_sys_peer",
    "leap_armed",
    "leap_disarmed",
    "leap_event",
    "clock_step",
    "kern",
    "TAI",
    "stale_leapsecond_values",
];

const PEER_EVENT_NAMES: [&str; 16] = [
    "unspecified",
    "mobilize",
    "demobilize",
    "unreachable",
    "reachable",
    "restart",
    "no_reply",
    "rate_exceeded",
    "access_denied",
    "leap_armed",
    "sys_peer",
    "clock_event",
    "bad_auth",
    "popcorn",
    "interleave_mode",
    "interleave_error",
];

/// Classic ntpq's words (libntp statestr.c), spelling included.
const SELECT_NAMES: [&str; 8] = [
    "sel_reject",
    "sel_falsetick",
    "sel_excess",
    "sel_outlyer",
    "sel_candidate",
    "sel_backup",
    "sel_sys.peer",
    "sel_pps.peer",
];

/// ntpq's `as` table words for the select codes.
const CONDITION_NAMES: [&str; 8] = [
    "reject",
    "falsetick",
    "excess",
    "outlier",
    "candidate",
    "backup",
    "sys.peer",
    "pps.peer",
];

/// ntpq's tally characters, indexed by select code (its `flash3` string).
const TALLY_CHARS: [char; 8] = [' ', 'x', '.', '-', '+', '#', '*', 'o'];

const CLOCK_STATUS_NAMES: [&str; 9] = [
    "clk_unspec",
    "clk_noreply",
    "clk_badformat",
    "clk_fault",
    "clk_badsignal",
    "clk_baddate",
    "clk_badtime",
    "clk_unspec",
    "clk_unspec",
];

/// Clock sources in the system status word.
pub mod source {
    pub const UNSPEC: u8 = 0;
    pub const PPS: u8 = 1;
    pub const LOCAL: u8 = 5;
    pub const NTP: u8 = 6;
}

/// Bits of the peer status byte.
pub mod peer_bits {
    pub const CONFIGURED: u8 = 0x10;
    pub const AUTH_ENABLED: u8 = 0x08;
    pub const AUTHENTIC: u8 = 0x04;
    pub const REACHABLE: u8 = 0x02;
    pub const BROADCAST: u8 = 0x01;
}

/// Select codes: how the selection algorithm judged a peer (the tally).
pub mod select {
    pub const REJECT: u8 = 0;
    pub const FALSETICK: u8 = 1;
    pub const EXCESS: u8 = 2;
    pub const OUTLIER: u8 = 3;
    pub const CANDIDATE: u8 = 4;
    pub const BACKUP: u8 = 5;
    pub const SYS_PEER: u8 = 6;
    pub const PPS_PEER: u8 = 7;
}

/// `1 event`, `2 events`, `no events`, as ntpq words the counter.
fn events(count: u8) -> String {
    match count {
        0 => "no events".to_string(),
        1 => "1 event".to_string(),
        n => format!("{n} events"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemStatus {
    pub leap: Leap,
    pub source: u8,
    pub event_count: u8,
    pub event_code: u8,
}

impl SystemStatus {
    pub fn from_word(w: u16) -> SystemStatus {
        SystemStatus {
            leap: Leap::from_bits((w >> 14) as u8),
            source: ((w >> 8) & 0x3f) as u8,
            event_count: ((w >> 4) & 0xf) as u8,
            event_code: (w & 0xf) as u8,
        }
    }

    pub fn word(self) -> u16 {
        ((self.leap.bits() as u16) << 14)
            | (((self.source & 0x3f) as u16) << 8)
            | (((self.event_count & 0xf) as u16) << 4)
            | (self.event_code & 0xf) as u16
    }

    /// `leap_none, sync_ntp, 1 event, clock_sync`. Classic ntpq names the
    /// last event even when the counter is zero (`no events, unspecified`).
    pub fn describe(self) -> String {
        let source = match SYNC_SOURCE_NAMES.get(self.source as usize) {
            Some(name) => (*name).to_string(),
            // statestr.c's getcode() fallback for codes it has no name for.
            None => format!("sync_{}", self.source),
        };
        format!(
            "{}, {source}, {}, {}",
            LEAP_NAMES[self.leap.bits() as usize],
            events(self.event_count),
            SYSTEM_EVENT_NAMES[self.event_code as usize & 0xf]
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    /// `peer_bits`.
    pub bits: u8,
    /// `select`.
    pub select: u8,
    pub event_count: u8,
    pub event_code: u8,
}

impl PeerStatus {
    pub fn from_word(w: u16) -> PeerStatus {
        PeerStatus {
            bits: (w >> 11) as u8,
            select: ((w >> 8) & 7) as u8,
            event_count: ((w >> 4) & 0xf) as u8,
            event_code: (w & 0xf) as u8,
        }
    }

    pub fn word(self) -> u16 {
        (((self.bits & 0x1f) as u16) << 11)
            | (((self.select & 7) as u16) << 8)
            | (((self.event_count & 0xf) as u16) << 4)
            | (self.event_code & 0xf) as u16
    }

    /// `conf, reach, sel_sys.peer, 2 events, sys_peer`, as classic ntpq
    /// words it: the last event is named whenever its code is not zero.
    pub fn describe(self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for (bit, name) in [
            (peer_bits::CONFIGURED, "conf"),
            (peer_bits::AUTH_ENABLED, "authenb"),
            (peer_bits::AUTHENTIC, "auth"),
            (peer_bits::REACHABLE, "reach"),
            (peer_bits::BROADCAST, "bcst"),
        ] {
            if self.bits & bit != 0 {
                parts.push(name.to_string());
            }
        }
        parts.push(SELECT_NAMES[self.select as usize & 7].to_string());
        parts.push(events(self.event_count));
        if self.event_code != 0 {
            parts.push(self.last_event().to_string());
        }
        parts.join(", ")
    }

    /// The tally character `ntpq -p` prints in column 1 for this peer.
    pub fn tally(self) -> char {
        TALLY_CHARS[self.select as usize & 7]
    }

    /// Whether `peers` and `associations` (without the `l` prefix) list this
    /// association: configured, or reachable.
    pub fn is_listed(self) -> bool {
        self.bits & (peer_bits::CONFIGURED | peer_bits::REACHABLE) != 0
    }

    /// The `condition` column of `ntpq -c as`.
    pub fn condition(self) -> &'static str {
        CONDITION_NAMES[self.select as usize & 7]
    }

    /// The `last_event` column of `ntpq -c as`.
    pub fn last_event(self) -> &'static str {
        PEER_EVENT_NAMES[self.event_code as usize & 0xf]
    }
}

/// `no events, clk_unspec` for a clock status word.
pub fn describe_clock_status(w: u16) -> String {
    let status = (w >> 8) as usize;
    let count = (w & 0xff) as u8;
    let name = CLOCK_STATUS_NAMES
        .get(status)
        .copied()
        .unwrap_or("clk_unspec");
    format!("{}, {name}", events(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_words_from_the_reference_transcripts() {
        assert_eq!(
            SystemStatus::from_word(0x0615).describe(),
            "leap_none, sync_ntp, 1 event, clock_sync"
        );
        assert_eq!(
            SystemStatus::from_word(0x0016).describe(),
            "leap_none, sync_unspec, 1 event, restart"
        );
        assert_eq!(
            SystemStatus::from_word(0xc516).describe(),
            "leap_alarm, sync_local, 1 event, restart"
        );
        for w in [0x0615u16, 0xc516, 0x0016, 0xffff] {
            assert_eq!(SystemStatus::from_word(w).word(), w);
        }
    }

    #[test]
    fn peer_words_from_the_reference_transcripts() {
        let p = PeerStatus::from_word(0x8013);
        assert_eq!(p.describe(), "conf, sel_reject, 1 event, unreachable");
        assert_eq!((p.condition(), p.last_event()), ("reject", "unreachable"));
        let sys = PeerStatus::from_word(0xb62a);
        assert_eq!(
            (sys.condition(), sys.last_event(), sys.event_count),
            ("sys.peer", "sys_peer", 2)
        );
        assert_eq!(PeerStatus::from_word(0xb114).condition(), "falsetick");
        assert_eq!(
            PeerStatus::from_word(0x9014).describe(),
            "conf, reach, sel_reject, 1 event, reachable"
        );
        assert_eq!(PeerStatus::from_word(0xb62a).word(), 0xb62a);
    }

    #[test]
    fn classic_wording_of_quiet_words_and_tallies() {
        assert_eq!(
            SystemStatus::from_word(0xc000).describe(),
            "leap_alarm, sync_unspec, no events, unspecified"
        );
        assert_eq!(
            SystemStatus::from_word(0x3f00).describe(),
            "leap_none, sync_63, no events, unspecified"
        );
        assert_eq!(
            PeerStatus::from_word(0x9301).describe(),
            "conf, reach, sel_outlyer, no events, mobilize"
        );
        assert_eq!(
            PeerStatus::from_word(0x0800).describe(),
            "bcst, sel_reject, no events"
        );
        let tallies: String = (0..8u16)
            .map(|s| PeerStatus::from_word(0x9000 | (s << 8)).tally())
            .collect();
        assert_eq!(tallies, " x.-+#*o");
        assert!(PeerStatus::from_word(0x8000).is_listed());
        assert!(PeerStatus::from_word(0x1000).is_listed());
        assert!(!PeerStatus::from_word(0x6000).is_listed());
    }

    #[test]
    fn clock_status_words() {
        assert_eq!(describe_clock_status(0x0000), "no events, clk_unspec");
    }
}
