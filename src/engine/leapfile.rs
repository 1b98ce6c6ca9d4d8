//! The leap second file (`leapfile`, the IERS/NIST `leap-seconds.list`):
//! when each leap second took or takes effect, TAI-UTC from then on, and
//! when the file expires.
//!
//! Lines are `NTP_SECONDS TAI_UTC [# comment]`; `#@ NTP_SECONDS` is the
//! expiry, `#$` the last update; other `#` lines are comments. The times
//! are NTP seconds (era 0) of the first second after the leap.

use crate::proto::{NtpTimestamp, UnixTime};

/// Seconds from the NTP era 0 epoch (1900) to the Unix epoch (1970).
const NTP_TO_UNIX: i64 = 2_208_988_800;
/// The leap warning goes out this long before the leap: the last day.
pub const WARNING_WINDOW: f64 = 86_400.0;

/// One entry: from `at` (Unix seconds) on, TAI-UTC is `tai`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub at: i64,
    pub tai: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeapTable {
    /// In time order.
    pub entries: Vec<Entry>,
    /// Unix seconds.
    pub expire: Option<i64>,
}

impl LeapTable {
    /// Parses the file's text; an error names the 1-based line.
    pub fn parse(text: &str) -> Result<LeapTable, String> {
        let mut table = LeapTable::default();
        for (n, line) in text.lines().enumerate() {
            let n = n + 1;
            if let Some(rest) = line.strip_prefix("#@") {
                let secs: i64 = rest
                    .trim()
                    .parse()
                    .map_err(|_| format!("line {n}: bad expiry \"{}\"", rest.trim()))?;
                table.expire = Some(secs - NTP_TO_UNIX);
                continue;
            }
            let data = line.split('#').next().unwrap_or("").trim();
            if data.is_empty() {
                continue;
            }
            let mut words = data.split_whitespace();
            let (Some(at), Some(tai), None) = (words.next(), words.next(), words.next()) else {
                return Err(format!("line {n}: expected \"NTP_SECONDS TAI_OFFSET\""));
            };
            let at: i64 = at
                .parse()
                .map_err(|_| format!("line {n}: bad time \"{at}\""))?;
            let tai: i32 = tai
                .parse()
                .map_err(|_| format!("line {n}: bad offset \"{tai}\""))?;
            let entry = Entry {
                at: at - NTP_TO_UNIX,
                tai,
            };
            if table.entries.last().is_some_and(|e| e.at >= entry.at) {
                return Err(format!("line {n}: entries out of order"));
            }
            table.entries.push(entry);
        }
        if table.entries.is_empty() {
            return Err("no leap second entries".into());
        }
        Ok(table)
    }

    /// TAI-UTC at `now`.
    pub fn tai_at(&self, now: UnixTime) -> i32 {
        self.entries
            .iter()
            .rev()
            .find(|e| e.at <= now.secs())
            .map_or(0, |e| e.tai)
    }

    /// The next leap after `now`, else the last one: classic's `leapsec`.
    pub fn leapsec(&self, now: UnixTime) -> Option<NtpTimestamp> {
        let e = self
            .entries
            .iter()
            .find(|e| e.at > now.secs())
            .or(self.entries.last())?;
        Some(NtpTimestamp::from_unix(UnixTime::new(e.at, 0)))
    }

    /// A leap second at the end of today (UTC): insert (+1) or delete (-1).
    pub fn pending(&self, now: UnixTime) -> Option<i32> {
        let mut previous = 0;
        for e in &self.entries {
            let until = (e.at - now.secs()) as f64;
            if until > 0.0 {
                return (until <= WARNING_WINDOW).then_some((e.tai - previous).signum());
            }
            previous = e.tai;
        }
        None
    }

    pub fn is_expired(&self, now: UnixTime) -> bool {
        self.expire.is_some_and(|x| x <= now.secs())
    }

    pub fn expire_timestamp(&self) -> Option<NtpTimestamp> {
        self.expire
            .map(|x| NtpTimestamp::from_unix(UnixTime::new(x, 0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
#\tthe list
#$\t3960835200
#@\t3991593600
2272060800\t10\t# 1 Jan 1972
3692217600\t37\t# 1 Jan 2017
";

    #[test]
    fn entries_offsets_and_expiry() {
        let t = LeapTable::parse(SAMPLE).unwrap();
        assert_eq!(t.entries.len(), 2);
        // 1 Jan 2017 00:00:00 UTC
        assert_eq!(t.entries[1].at, 1_483_228_800);
        // 28 Jun 2026
        assert_eq!(t.expire, Some(1_782_604_800));
        let now = UnixTime::new(1_795_305_475, 0);
        assert_eq!(t.tai_at(now), 37);
        assert_eq!(t.tai_at(UnixTime::new(1_000_000_000, 0)), 10);
        assert!(t.is_expired(now));
        assert_eq!(
            t.leapsec(now),
            Some(NtpTimestamp::from_unix(UnixTime::new(1_483_228_800, 0)))
        );
        assert_eq!(t.pending(now), None);
        // On the last day of 2016 the insertion is announced.
        assert_eq!(t.pending(UnixTime::new(1_483_228_800 - 3600, 0)), Some(1));
        assert_eq!(t.pending(UnixTime::new(1_483_228_800 - 100_000, 0)), None);
    }

    #[test]
    fn the_systems_own_file_parses() {
        let Ok(text) = std::fs::read_to_string("/usr/share/zoneinfo/leap-seconds.list") else {
            return;
        };
        let t = LeapTable::parse(&text).unwrap();
        assert_eq!(t.entries.first().map(|e| e.tai), Some(10));
        assert!(t.entries.last().unwrap().tai >= 37);
        assert!(t.expire.is_some());
    }

    #[test]
    fn bad_lines_are_named() {
        assert_eq!(
            LeapTable::parse("2272060800 ten\n"),
            Err("line 1: bad offset \"ten\"".into())
        );
        assert!(LeapTable::parse("# nothing\n").is_err());
        assert_eq!(
            LeapTable::parse("3692217600 37\n2272060800 10\n"),
            Err("line 2: entries out of order".into())
        );
    }
}
