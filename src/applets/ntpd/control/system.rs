//! The system variables (association 0): `ntpq -c rv`, and what ntpstat
//! reads (stratum, rootdelay, rootdisp, refid, tc).

use super::format::{self, Value};
use super::vars::VarSet;
use crate::engine::SystemVars;
use crate::proto::{NtpTimestamp, UnixTime};

/// Classic ntpd's default system variables, in its order. `tc` must come
/// before `mintc`: Debian's ntpstat finds the first `tc=` in the text.
/// ntpstat also reads only the first datagram, so what it needs (stratum,
/// rootdelay, rootdisp, refid, tc) comes well within the first 468 bytes.
pub const DEFAULTS: &[&str] = &[
    "version",
    "processor",
    "system",
    "leap",
    "stratum",
    "precision",
    "rootdelay",
    "rootdisp",
    "refid",
    "reftime",
    "clock",
    "peer",
    "tc",
    "mintc",
    "offset",
    "frequency",
    "sys_jitter",
    "clk_jitter",
    "clk_wander",
    "tai",
    "leapsec",
    "expire",
];

/// What the daemon says about itself: fixed for its lifetime.
#[derive(Clone, Debug)]
pub struct HostInfo {
    /// `ntpd ntpbox-0.1.0`, as the log's first line names the daemon.
    pub version: String,
    /// uname's machine (`x86_64`).
    pub processor: String,
    /// uname's system and release (`Linux/6.1.0-18-amd64`).
    pub system: String,
}

impl HostInfo {
    pub fn of_this_machine() -> HostInfo {
        let (system, processor) = uname();
        HostInfo {
            version: format!("ntpd ntpbox-{}", env!("CARGO_PKG_VERSION")),
            processor,
            system,
        }
    }
}

/// (`Linux/6.1.0`, `x86_64`), or "UNKNOWN" where uname fails.
fn uname() -> (String, String) {
    // SAFETY: utsname is plain old data; uname fills it or fails.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return ("UNKNOWN".into(), "UNKNOWN".into());
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (
        format!("{}/{}", field(&u.sysname), field(&u.release)),
        field(&u.machine),
    )
}

/// The system variables at one moment.
pub struct SystemSet<'a> {
    pub vars: &'a SystemVars,
    pub host: &'a HostInfo,
    /// The clock reading when the request arrived (`clock=`).
    pub now: UnixTime,
    /// Whether the system peer is a reference clock (the local clock
    /// driver): then `refid` is its ASCII name at any stratum.
    pub refclock_peer: bool,
}

impl VarSet for SystemSet<'_> {
    fn value(&self, name: &str) -> Option<Value> {
        let s = self.vars;
        Some(match name {
            "version" => Value::Quoted(self.host.version.clone()),
            "processor" => Value::Quoted(self.host.processor.clone()),
            "system" => Value::Quoted(self.host.system.clone()),
            "leap" => format::int(s.leap.bits()),
            "stratum" => format::int(s.stratum),
            "precision" => format::int(s.precision),
            "rootdelay" => format::ms3(s.root_delay),
            "rootdisp" => format::ms3(s.root_dispersion),
            // Synchronised to the local clock the engine's refid is
            // `LOCL` at stratum 10 (issue 5): written as text, as a
            // reference clock's own refid, not as 76.79.67.76.
            "refid" if self.refclock_peer => format::refid_text(s.refid),
            "refid" => format::refid(s.refid, s.stratum),
            "reftime" => format::timestamp(s.reference_time),
            "clock" => format::timestamp(NtpTimestamp::from_unix(self.now)),
            "peer" => format::int(s.peer),
            "tc" => format::int(s.tc),
            "mintc" => format::int(s.mintc),
            "offset" => format::ms6(s.offset),
            "frequency" => format::fixed6(s.frequency),
            "sys_jitter" => format::ms6(s.sys_jitter),
            "clk_jitter" => format::ms6(s.clk_jitter),
            "clk_wander" => format::fixed6(s.clk_wander),
            // Classic writes these only once a leap second file says them.
            "tai" if s.tai > 0 => format::int(s.tai),
            "tai" => Value::Absent,
            "leapsec" => s.leapsec.map_or(Value::Absent, leap_date),
            "expire" => s.expire.map_or(Value::Absent, leap_date),
            _ => return None,
        })
    }

    fn defaults(&self) -> &'static [&'static str] {
        DEFAULTS
    }
}

/// The leap second file's dates as classic writes them (ctl_putfs):
/// `201701010000`, UTC, to the minute.
fn leap_date(t: NtpTimestamp) -> Value {
    let unix = t.to_unix(UnixTime::new(PIVOT_UNIX_SECS, 0));
    match chrono::DateTime::from_timestamp(unix.secs(), 0) {
        Some(d) => Value::Raw(d.format("%Y%m%d%H%M").to_string()),
        None => Value::Absent,
    }
}

/// Leap second dates are read in the era around 2020 (the NTP era wraps in
/// 2036; a pivot there keeps dates from 1968 to 2104 right).
const PIVOT_UNIX_SECS: i64 = 1_600_000_000;
