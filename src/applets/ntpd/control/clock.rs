//! Clock variables (READCLOCK, `ntpq -c "cv &1"`): what a reference clock
//! driver says about itself. The only driver is the undisciplined local
//! clock, whose counters are zero by construction (it never fails to
//! answer) and whose calibration is the `fudge` line.

use super::format::{self, Value};
use super::peer::clock_name;
use super::vars::VarSet;
use crate::config::{Config, Fudge, Refclock};
use crate::proto::RefId;

/// The default clock variables, in the order ntpsec's ntpd sends them.
pub const DEFAULTS: &[&str] = &[
    "name",
    "timecode",
    "noreply",
    "badformat",
    "baddata",
    "fudgetime1",
    "fudgetime2",
    "stratum",
    "refid",
    "flags",
    "device",
];

/// The clock status word: no clock event yet, status "unspecified" (the
/// local clock has neither).
pub const CLOCK_STATUS: u16 = 0;

/// How classic describes the local clock driver.
const LOCAL_DEVICE: &str = "Undisciplined local clock";
/// Fudge flags 1 to 4 are bits 0 to 3 of `flags`.
const FUDGE_FLAG_BITS: [u8; 4] = [1, 2, 4, 8];

/// The configured reference clocks and their `fudge` lines.
#[derive(Clone, Debug, Default)]
pub struct Clocks {
    fudges: Vec<(Refclock, Fudge)>,
}

impl Clocks {
    pub fn from_config(config: &Config) -> Clocks {
        let fudges = config
            .associations
            .iter()
            .filter_map(|a| match a.target {
                crate::config::Target::Refclock(clock) => {
                    Some((clock, config.fudge(clock).cloned().unwrap_or_default()))
                }
                _ => None,
            })
            .collect();
        Clocks { fudges }
    }

    /// The variables of clock (driver, unit), if it is configured.
    pub fn get(&self, driver: u8, unit: u8) -> Option<ClockSet<'_>> {
        self.fudges
            .iter()
            .find(|(c, _)| c.driver == driver && c.unit == unit)
            .map(|(clock, fudge)| ClockSet {
                clock: *clock,
                fudge,
            })
    }
}

pub struct ClockSet<'a> {
    clock: Refclock,
    fudge: &'a Fudge,
}

impl VarSet for ClockSet<'_> {
    fn value(&self, name: &str) -> Option<Value> {
        let f = self.fudge;
        Some(match name {
            "name" => Value::Quoted(
                clock_name(self.clock.driver, self.clock.unit)
                    .split('(')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            ),
            "timecode" => Value::Quoted(String::new()),
            "noreply" | "badformat" | "baddata" => format::int(0),
            // Classic writes the calibration only when a fudge line set it.
            "fudgetime1" => f.time1.map_or(Value::Absent, format::ms3),
            "fudgetime2" => f.time2.map_or(Value::Absent, format::ms3),
            "stratum" => f.stratum.map_or(Value::Absent, format::int),
            "refid" => f
                .refid
                .as_deref()
                .map_or(Value::Absent, |r| format::refid_text(RefId::from_ascii(r))),
            "flags" => {
                let bits = f
                    .flags
                    .iter()
                    .zip(FUDGE_FLAG_BITS)
                    .filter(|(set, _)| **set == Some(true))
                    .fold(0u8, |acc, (_, bit)| acc | bit);
                format::int(bits)
            }
            "device" if self.clock.is_local() => Value::Quoted(LOCAL_DEVICE.to_string()),
            "device" => Value::Absent,
            // Counted by classic's driver; this one keeps no poll count.
            "poll" => Value::Absent,
            _ => return None,
        })
    }

    fn defaults(&self) -> &'static [&'static str] {
        DEFAULTS
    }
}
