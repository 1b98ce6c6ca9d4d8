//! The counters behind `ntpq -c sysstats`, `iostats` and `monstats`, read
//! by name at association 0 under the names ntpsec's ntpq asks for.
//!
//! ntpsec's sysstats asks for each counter twice, `NAME` (since the last
//! hourly reset) and `NAME_r` (since start); this daemon never resets, so
//! both are the same. A counter this daemon does not keep (packets by
//! version, authentication failures, receive buffers, ...) is a known name
//! without a value: it is left out of the answer, and ntpq leaves its line
//! out, rather than being shown as a made-up zero.

use super::format::{self, Value};
use super::vars::VarSet;
use crate::applets::ntpd::server::{Counters, Mru};

/// The suffix of ntpsec's "since start" twin of each sysstats counter.
const SINCE_START_SUFFIX: &str = "_r";
/// `mru_enabled` as classic reports a running monitor (MON_ON).
const MONITOR_ON: i64 = 1;

/// Counter names this daemon knows but does not count.
const NOT_KEPT: &[&str] = &[
    "ss_thisver",
    "ss_oldver",
    "ss_ver1",
    "ss_ver1client",
    "ss_ver1zero",
    "ss_ver1symm",
    "ss_badauth",
    "ss_declined",
    "total_rbuf",
    "free_rbuf",
    "used_rbuf",
    "rbuf_lowater",
    "io_dropped",
    "io_ignored",
    "io_sent",
    "io_sendfailed",
    "io_wakeups",
    "io_goodwakeups",
    "mru_maxage",
    "mru_minage",
    "mru_mem",
    "mru_maxmem",
    "mru_exists",
    "mru_new",
    "mru_recycleold",
    "mru_recyclefull",
    "mru_none",
];

/// The counters at one moment.
pub struct StatsSet<'a> {
    pub counters: &'a Counters,
    /// None with `disable monitor`.
    pub mru: Option<&'a Mru>,
    /// Seconds since the daemon started serving.
    pub uptime: f64,
    /// Mode 6 requests received so far, this one included.
    pub control_requests: u64,
    /// Seconds since the least recently seen MRU client was seen.
    pub oldest_age: Option<f64>,
}

impl StatsSet<'_> {
    fn packets(&self, name: &str) -> Option<u64> {
        let c = self.counters;
        Some(match name {
            "ss_received" | "io_received" => c.received,
            "ss_badformat" => c.malformed,
            "ss_restricted" => c.ignored + c.refused,
            "ss_limited" => c.rate_limited,
            "ss_kodsent" => c.kod_sent,
            // Answered from the server state, or passed on to the engine
            // or to mode 6: every packet that was not turned away.
            "ss_processed" => c.replied + c.passed,
            _ => return None,
        })
    }

    fn monitor(&self, name: &str) -> Option<Value> {
        let Some(mru) = self.mru else {
            return match name {
                "mru_enabled" => Some(format::int(0)),
                _ if name.starts_with("mru_") => Some(Value::Absent),
                _ => None,
            };
        };
        let len = mru.len() as u64;
        Some(match name {
            "mru_enabled" => format::int(MONITOR_ON),
            // Open addressing: each entry holds one index slot. Entries
            // are only ever replaced, never removed, so the deepest the
            // list has been is how deep it is now.
            "mru_hashslots" | "mru_depth" | "mru_deepest" => Value::Raw(len.to_string()),
            // Only a full table reclaims (the least recent entry).
            "mru_maxdepth" | "mru_mindepth" => Value::Raw(mru.capacity().to_string()),
            "mru_oldest_age" => self
                .oldest_age
                .map_or(Value::Absent, |a| format::int(a.max(0.0) as i64)),
            _ => return None,
        })
    }
}

impl VarSet for StatsSet<'_> {
    fn value(&self, name: &str) -> Option<Value> {
        let base = name.strip_suffix(SINCE_START_SUFFIX).unwrap_or(name);
        if let Some(n) = self.packets(base) {
            return Some(Value::Raw(n.to_string()));
        }
        if NOT_KEPT.contains(&base) {
            return Some(Value::Absent);
        }
        match base {
            // Seconds begun, so never 0: ntpsec's ntpq divides the packet
            // counts by this to print rates.
            "ss_uptime" | "ss_reset" | "iostats_reset" => {
                Some(format::int(self.uptime.max(0.0).ceil().max(1.0) as i64))
            }
            "ss_numctlreq" => Some(Value::Raw(self.control_requests.to_string())),
            _ => self.monitor(name),
        }
    }

    /// The counters are only ever read by name.
    fn defaults(&self) -> &'static [&'static str] {
        &[]
    }
}
