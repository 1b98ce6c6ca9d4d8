//! The engine: its state, the event dispatch and the timers.
//!
//! Internally times are "engine seconds": clock readings relative to the
//! first reading the engine was given, as f64 (nanosecond resolution for
//! months). A step of the clock moves every deadline with it.

use std::net::{IpAddr, SocketAddr};

use super::assoc::Assoc;
use super::discipline::{self, Discipline, Settings};
use super::select::Params;
use super::{Action, Event, Level, Start};
use crate::clock::{SimRng, MAX_RATE_PPM};
use crate::config::{Config, Family};
use crate::proto::status::{self, source};
use crate::proto::{Leap, NtpTimestamp, RefId, UnixTime};

/// A deadline this close is due: clock readings are whole nanoseconds and
/// engine time is f64, so a timer may fire a hair before its f64 deadline.
pub const DUE_SLACK: f64 = 1e-6;
/// How often the drift file is written, seconds.
pub const DRIFT_SAVE_INTERVAL: f64 = 3600.0;
/// Classic's `tos orphanwait` default, seconds.
pub const DEFAULT_ORPHAN_WAIT: f64 = 300.0;
/// Classic 4.2.8's `tos mindist` default: the floor of a peer's round
/// trip in its root distance, seconds.
pub const DEFAULT_MINDIST: f64 = 0.001;
/// Classic's `tos maxdist` default, seconds.
pub const DEFAULT_MAXDIST: f64 = 1.5;
/// How sure a drift file's frequency is taken to be, s/s: written within
/// the hour by a synchronised daemon, it is off by what the temperature
/// changed since, typically well under a ppm.
pub const DRIFT_FILE_SIGMA: f64 = 1e-6;
/// Without a drift file any frequency within classic's tolerance may be.
pub const NO_DRIFT_SIGMA: f64 = 500e-6;
/// Retrying a name that did not resolve: first after this, doubling.
pub const RESOLVE_RETRY: f64 = 64.0;
pub const RESOLVE_RETRY_MAX: f64 = 1024.0;

/// What the engine takes from ntp.conf beyond the associations.
#[derive(Clone, Debug)]
pub(super) struct Settled {
    pub select: Params,
    pub maxdist: f64,
    pub mindist: f64,
    pub floor: u8,
    pub ceiling: u8,
    pub orphan: Option<u8>,
    pub orphan_wait: f64,
    pub loopstats: bool,
    pub peerstats: bool,
    pub driftfile: bool,
    pub broadcast_client: bool,
}

/// A name waiting for `Event::Resolved`: a server or peer line, or a pool.
#[derive(Clone, Debug)]
pub(super) struct Name {
    pub name: String,
    pub line: crate::config::Association,
    pub port: u16,
    pub family: Option<Family>,
    /// Engine time of the next `Resolve`, None while one is pending or
    /// nothing is needed.
    pub next: Option<f64>,
    pub retry: f64,
    /// The association this name gave (servers and peers), once resolved.
    pub done: bool,
}

/// The system variables, as the last clock update left them.
#[derive(Clone, Debug)]
pub(super) struct Sys {
    pub leap: Leap,
    pub stratum: u8,
    pub refid: RefId,
    pub reference_time: NtpTimestamp,
    pub root_delay: f64,
    /// At `updated`; grows at PHI since.
    pub root_dispersion: f64,
    pub updated: f64,
    pub peer: Option<u16>,
    pub offset: f64,
    pub jitter: f64,
    pub source: u8,
    pub event_count: u8,
    pub event_code: u8,
    pub orphan: bool,
}

impl Sys {
    fn unsynchronised() -> Sys {
        Sys {
            leap: Leap::Unsynchronized,
            stratum: 16,
            refid: RefId(*b"INIT"),
            reference_time: NtpTimestamp::ZERO,
            root_delay: 0.0,
            root_dispersion: 0.0,
            updated: 0.0,
            peer: None,
            offset: 0.0,
            jitter: 0.0,
            source: source::UNSPEC,
            event_count: 0,
            event_code: 0,
            orphan: false,
        }
    }

    pub fn is_synchronised(&self) -> bool {
        self.leap != Leap::Unsynchronized && self.stratum < 16
    }
}

/// The NTP engine. See the module documentation of `engine`.
pub struct Engine {
    pub(super) start: Start,
    pub(super) config: Config,
    pub(super) settled: Settled,
    epoch: Option<UnixTime>,
    /// The current clock reading in engine seconds (moves on a step).
    pub(super) t: f64,
    pub(super) rng: SimRng,
    pub(super) assocs: Vec<Assoc>,
    next_id: u16,
    pub(super) names: Vec<Name>,
    pub(super) discipline: Discipline,
    pub(super) sys: Sys,
    next_drift_save: Option<f64>,
    pub(super) exited: bool,
    /// The precision, seconds.
    pub(super) precision: f64,
    /// `tinker huffpuff`: the system peer's round trips of the window,
    /// (engine time, delay).
    pub(super) huffpuff: std::collections::VecDeque<(f64, f64)>,
    /// Keys (`keys`, `trustedkey`) for `server ... key N`.
    pub(super) keys: crate::auth::Keyring,
    /// A leap warning set by the administrator (`ntpq writevar 0 leap=1`),
    /// advertised instead of the servers' while synchronised.
    pub(super) leap_warning: Option<Leap>,
    /// The `leapfile`, read by the daemon.
    pub(super) leap_table: Option<super::leapfile::LeapTable>,
}

impl Engine {
    pub fn new(config: &Config, start: Start) -> Engine {
        let mut rng = SimRng::new(start.seed);
        let precision = 2f64.powi(i32::from(start.precision));
        let tinker = &config.tinker;
        let step = if start.slew_only {
            discipline::SLEW_ONLY_STEP
        } else {
            tinker.step.unwrap_or(discipline::DEFAULT_STEP)
        };
        let (minpoll, maxpoll) = poll_bounds(config);
        let settings = Settings {
            enabled: config.flags.ntp,
            kernel: config.flags.kernel,
            step,
            panic: tinker.panic.unwrap_or(discipline::DEFAULT_PANIC),
            stepout: tinker.stepout.unwrap_or(discipline::DEFAULT_STEPOUT),
            max_slew_rate: if start.slew_only {
                discipline::CLASSIC_SLEW_RATE
            } else {
                MAX_RATE_PPM * 1e-6
            },
            once: start.once,
            minpoll,
            maxpoll,
        };
        let freq = start.drift_ppm.or(config.tinker.freq).unwrap_or(0.0) * 1e-6;
        let mut discipline = Discipline::new(settings, 0.0, freq, precision);
        if start.panic_gate {
            discipline.allow_panic();
        }
        let tos = &config.tos;
        let wants = |name: &str| {
            config.flags.stats
                && config.statistics.iter().any(|s| s == name)
                && !config
                    .filegens
                    .iter()
                    .any(|f| f.name == name && f.enable == Some(false))
        };
        let settled = Settled {
            select: Params {
                minclock: tos
                    .minclock
                    .map_or(super::select::DEFAULT_MINCLOCK, |n| n as usize),
                maxclock: tos
                    .maxclock
                    .map_or(super::select::DEFAULT_MAXCLOCK, |n| n as usize),
                minsane: tos
                    .minsane
                    .map_or(super::select::DEFAULT_MINSANE, |n| n as usize),
            },
            maxdist: tos.maxdist.unwrap_or(DEFAULT_MAXDIST),
            mindist: tos.mindist.unwrap_or(DEFAULT_MINDIST),
            floor: tos.floor.unwrap_or(1),
            ceiling: tos.ceiling.unwrap_or(15),
            orphan: tos.orphan,
            orphan_wait: tos.orphanwait.unwrap_or(DEFAULT_ORPHAN_WAIT),
            loopstats: wants("loopstats"),
            peerstats: wants("peerstats"),
            driftfile: config.driftfile.is_some(),
            broadcast_client: config.broadcast_client || config.flags.bclient,
        };
        // Association IDs start somewhere random, as classic's do.
        let next_id = (rng.next_u64() % 30_000) as u16 + 1;
        Engine {
            start,
            config: config.clone(),
            settled,
            epoch: None,
            t: 0.0,
            rng,
            assocs: Vec::new(),
            next_id,
            names: Vec::new(),
            discipline,
            sys: Sys::unsynchronised(),
            next_drift_save: None,
            exited: false,
            precision,
            huffpuff: std::collections::VecDeque::new(),
            keys: crate::auth::Keyring::from_config(&config.keyring, &config.trusted_keys)
                .unwrap_or_default(),
            leap_warning: None,
            leap_table: None,
        }
    }

    /// Feeds one event; `now` is the disciplined clock's reading.
    pub fn handle(&mut self, event: Event<'_>, now: UnixTime) -> Vec<Action> {
        let mut out = Vec::new();
        if self.exited {
            return out;
        }
        let first = self.epoch.is_none();
        let epoch = *self.epoch.get_or_insert(now);
        self.t = now.secs_since(epoch);
        if first {
            self.startup(&mut out);
        }
        match event {
            Event::TimerFired => {}
            Event::Received {
                from,
                to,
                rx,
                bytes,
            } => {
                let rx = rx.secs_since(epoch);
                self.on_packet(from, to, rx, bytes, &mut out);
            }
            Event::Resolved { name, addrs } => self.on_resolved(name, addrs, &mut out),
        }
        if !self.exited {
            self.on_timers(&mut out);
        }
        if out.iter().any(|a| matches!(a, Action::Exit(_))) {
            self.exited = true;
            return out;
        }
        if let Some(at) = self.next_deadline() {
            out.push(Action::ArmTimer(self.unix(at)));
        }
        out
    }

    /// The drift file's line right now, for a forced save (SIGHUP-style or
    /// at shutdown): nothing before the frequency is known or without a
    /// `driftfile`.
    pub fn save_drift_now(&mut self, _now: UnixTime) -> Vec<Action> {
        if self.settled.driftfile && self.config.flags.ntp && self.discipline.is_set() {
            vec![Action::SaveDrift(self.discipline.freq_ppm())]
        } else {
            Vec::new()
        }
    }

    /// `writevar 0 leap=N` (authenticated mode 6): the leap warning to
    /// advertise while synchronised; `Leap::NoWarning` clears it.
    pub fn set_leap_warning(&mut self, leap: Leap) {
        self.leap_warning = match leap {
            Leap::NoWarning | Leap::Unsynchronized => None,
            warning => Some(warning),
        };
    }

    /// The `leapfile`'s table: TAI-UTC, the leap seconds and the expiry
    /// for mode 6, and the warning on the day of a leap second.
    pub fn set_leap_table(&mut self, table: super::leapfile::LeapTable) {
        self.leap_table = Some(table);
    }

    /// The leap indicator while synchronised: the administrator's warning,
    /// else a leap second of the leapfile due today, else the servers'.
    pub(super) fn advertised_leap(&self) -> Leap {
        if let Some(warning) = self.leap_warning {
            return warning;
        }
        let now = self.unix(self.t);
        match self.leap_table.as_ref().and_then(|t| t.pending(now)) {
            Some(1) => Leap::AddSecond,
            Some(-1) => Leap::DeleteSecond,
            _ => self.sys.leap,
        }
    }

    /// Engine seconds as a clock reading.
    pub(super) fn unix(&self, t: f64) -> UnixTime {
        self.epoch.unwrap_or(UnixTime::EPOCH).add_secs_f64(t)
    }

    pub(super) fn timestamp(&self, t: f64) -> NtpTimestamp {
        NtpTimestamp::from_unix(self.unix(t))
    }

    pub(super) fn log(&self, out: &mut Vec<Action>, level: Level, text: String) {
        out.push(Action::Log { level, text });
    }

    /// A system event: counted for the status word and logged the way
    /// classic's report_event does (`0.0.0.0 0615 05 clock_sync`).
    pub(super) fn system_event(&mut self, code: u8, detail: &str, out: &mut Vec<Action>) {
        if self.sys.event_code != code {
            self.sys.event_count = 0;
        }
        if self.sys.event_count >= super::assoc::MAX_EVENTS {
            return;
        }
        self.sys.event_code = code;
        self.sys.event_count += 1;
        let word = self.system_status().word();
        let name = status::SystemStatus {
            leap: Leap::NoWarning,
            source: 0,
            event_count: 1,
            event_code: code,
        }
        .describe();
        let name = name.rsplit(", ").next().unwrap_or_default().to_string();
        let mut text = format!("0.0.0.0 {word:04x} {code:02x} {name}");
        if !detail.is_empty() {
            text.push(' ');
            text.push_str(detail);
        }
        self.log(out, Level::Info, text);
    }

    /// The frequency to start from, ppm: the drift file's, else `tinker
    /// freq`'s.
    pub(super) fn initial_freq_ppm(&self) -> Option<f64> {
        self.start.drift_ppm.or(self.config.tinker.freq)
    }

    pub(super) fn new_id(&mut self) -> u16 {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        id
    }

    pub(super) fn find(&self, addr: SocketAddr) -> Option<usize> {
        self.assocs
            .iter()
            .position(|a| a.addr == addr && !matches!(a.role, super::assoc::Role::Pool))
    }

    fn startup(&mut self, out: &mut Vec<Action>) {
        self.discipline = Discipline::new(
            self.discipline.settings,
            self.t,
            self.discipline.freq_ppm() * 1e-6,
            self.precision,
        );
        if self.start.panic_gate {
            self.discipline.allow_panic();
        }
        self.system_event(6, "", out);
        let initial = self.initial_freq_ppm();
        match initial {
            Some(ppm) => self.system_event(2, &format!("kernel {ppm:.3} PPM"), out),
            None => self.system_event(1, "", out),
        }
        if self.config.flags.ntp {
            if !self.config.flags.kernel || initial.is_some() {
                out.push(Action::SetRate(initial.unwrap_or(0.0)));
            }
            out.push(Action::KernelSync(self.kernel_sync(false)));
            if self.settled.driftfile {
                self.next_drift_save = Some(self.t + DRIFT_SAVE_INTERVAL);
            }
        }
        self.mobilize_configured(out);
    }

    /// Runs every timer that has come due.
    fn on_timers(&mut self, out: &mut Vec<Action>) {
        if self.discipline.on_timer(self.t + DUE_SLACK, out) {
            out.push(Action::Exit(0));
            return;
        }
        for i in 0..self.assocs.len() {
            if i >= self.assocs.len() {
                break;
            }
            if self.assocs[i].next_poll.is_some_and(|p| self.due(p)) {
                self.poll(i, out);
                if self.exited || out.iter().any(|a| matches!(a, Action::Exit(_))) {
                    return;
                }
            }
        }
        for n in 0..self.names.len() {
            if self.names[n].next.is_some_and(|at| self.due(at)) {
                self.names[n].next = None;
                out.push(Action::Resolve {
                    name: self.names[n].name.clone(),
                });
            }
        }
        if let Some(at) = self.next_drift_save {
            if self.due(at) {
                self.next_drift_save = Some(at + DRIFT_SAVE_INTERVAL);
                if self.discipline.is_set() {
                    out.push(Action::SaveDrift(self.discipline.freq_ppm()));
                }
            }
        }
        self.housekeeping(out);
    }

    fn due(&self, at: f64) -> bool {
        at <= self.t + DUE_SLACK
    }

    /// The earliest deadline of anything the engine waits for.
    fn next_deadline(&self) -> Option<f64> {
        let polls = self.assocs.iter().filter_map(|a| a.next_poll);
        let names = self.names.iter().filter_map(|n| n.next);
        let orphan = self.orphan_deadline();
        polls
            .chain(names)
            .chain(self.discipline.deadline())
            .chain(self.next_drift_save)
            .chain(orphan)
            .min_by(f64::total_cmp)
    }

    /// Every deadline moves with a step of the clock.
    pub(super) fn shift_deadlines(&mut self, delta: f64) {
        for a in &mut self.assocs {
            if let Some(p) = a.next_poll.as_mut() {
                *p += delta;
            }
        }
        for n in &mut self.names {
            if let Some(p) = n.next.as_mut() {
                *p += delta;
            }
        }
        if let Some(p) = self.next_drift_save.as_mut() {
            *p += delta;
        }
        self.sys.updated += delta;
        self.t += delta;
    }

    /// A random fraction in [0, 1).
    pub(super) fn random(&mut self) -> f64 {
        self.rng.uniform()
    }

    /// Our address for the loop test: a peer whose refid is it gets its
    /// time from us.
    pub(super) fn is_our_refid(refid: RefId, to: SocketAddr) -> bool {
        matches!(to.ip(), IpAddr::V4(v4) if v4.octets() == refid.0 && !v4.is_unspecified())
    }
}

/// The discipline's poll range: the widest the configured servers allow.
fn poll_bounds(config: &Config) -> (i8, i8) {
    let mut min = i8::MAX;
    let mut max = i8::MIN;
    for a in config.network_sources() {
        let o = super::assoc::Options::from_config(&a.options);
        min = min.min(o.minpoll);
        max = max.max(o.maxpoll);
    }
    if min > max {
        (super::assoc::DEFAULT_MINPOLL, super::assoc::DEFAULT_MAXPOLL)
    } else {
        (min, max)
    }
}
