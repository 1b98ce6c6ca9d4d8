//! Where the clock-synchronising engine plugs into the daemon.
//!
//! The loop feeds an engine events and carries out the actions it returns,
//! as DESIGN.md describes; client requests (mode 3) never reach it: the
//! responder answers them from `system_state()`. Part 2 of ntpd puts the
//! real engine (associations, clock filter, selection, discipline) behind
//! this trait and adds the clock actions. Until then `StandaloneEngine`
//! serves from the local clock driver, orphan mode or nothing.

use super::server::SystemState;
use crate::config::{Config, Target};
pub use crate::engine::{Action, Event, Level};
use crate::engine::{PeerKind, PeerVars, SystemVars};
use crate::proto::status::{peer_bits, select, source, PeerStatus, SystemStatus};
use crate::proto::{Leap, NtpShort, NtpTimestamp, RefId, UnixTime};

pub trait Engine: View {
    fn handle(&mut self, event: Event<'_>, now: UnixTime) -> Vec<Action>;
    /// What replies to clients advertise right now.
    fn system_state(&self) -> SystemState;
    /// SIGUSR1: the drift file now, not at the hourly save.
    fn save_drift_now(&mut self, _now: UnixTime) -> Vec<Action> {
        Vec::new()
    }
}

/// What mode 6 (ntpq, ntpstat) reads: the system and peer variables.
pub trait View {
    fn system_vars(&self) -> SystemVars;
    /// Every association, in association-ID order.
    fn peer_vars(&self) -> Vec<PeerVars>;
}

/// The local clock driver polls every 2^6 s unless `minpoll` says otherwise.
const LOCAL_CLOCK_DEFAULT_POLL: u8 = 6;
/// Classic's default stratum for the local clock driver without a fudge.
const LOCAL_CLOCK_DEFAULT_STRATUM: u8 = 5;
/// The dispersion classic's local clock driver reports, seconds.
const LOCAL_CLOCK_DISPERSION: f64 = 0.01;
/// Seconds without a source before becoming an orphan parent (classic's
/// `tos orphanwait` default).
const DEFAULT_ORPHAN_WAIT: f64 = 300.0;
/// An orphan parent's refid: the loopback address, as classic sends it.
const ORPHAN_REFID: RefId = RefId([127, 0, 0, 1]);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    /// `server 127.127.1.u` (+ `fudge ... stratum N`).
    LocalClock {
        stratum: u8,
        refid: RefId,
        poll: f64,
    },
    /// `tos orphan N`, after `orphanwait`.
    Orphan {
        stratum: u8,
        wait: f64,
    },
    None,
}

/// Part 1's engine: the time it serves is the system clock as it is.
pub struct StandaloneEngine {
    source: Source,
    precision: i8,
    started: Option<UnixTime>,
    synchronised: bool,
    reference_time: NtpTimestamp,
}

impl StandaloneEngine {
    pub fn new(config: &Config, precision: i8) -> StandaloneEngine {
        StandaloneEngine {
            source: source_of(config),
            precision,
            started: None,
            synchronised: false,
            reference_time: NtpTimestamp::ZERO,
        }
    }

    fn update(&mut self, now: UnixTime) -> Vec<Action> {
        let started = *self.started.get_or_insert(now);
        let mut actions = Vec::new();
        match self.source {
            Source::LocalClock { stratum, poll, .. } => {
                self.reference_time = NtpTimestamp::from_unix(now);
                if !self.synchronised {
                    self.synchronised = true;
                    actions.push(Action::Log {
                        level: Level::Notice,
                        text: format!("synchronized to LOCAL(0), stratum {stratum}"),
                    });
                }
                actions.push(Action::ArmTimer(now.add_secs_f64(poll)));
            }
            Source::Orphan { stratum, wait } => {
                let due = started.add_secs_f64(wait);
                if now.secs_since(due) >= 0.0 {
                    if !self.synchronised {
                        self.synchronised = true;
                        self.reference_time = NtpTimestamp::from_unix(now);
                        actions.push(Action::Log {
                            level: Level::Notice,
                            text: format!(
                                "no source is reachable: orphan mode, serving at stratum {stratum}"
                            ),
                        });
                    }
                } else {
                    actions.push(Action::ArmTimer(due));
                }
            }
            Source::None => {}
        }
        actions
    }
}

impl Engine for StandaloneEngine {
    fn handle(&mut self, event: Event<'_>, now: UnixTime) -> Vec<Action> {
        match event {
            // No associations yet: packets from servers and peers are not
            // ours to interpret until part 2.
            Event::Received { .. } | Event::Resolved { .. } => Vec::new(),
            Event::TimerFired => self.update(now),
        }
    }

    fn system_state(&self) -> SystemState {
        let (stratum, refid, dispersion) = match self.source {
            _ if !self.synchronised => return SystemState::unsynchronised(self.precision),
            Source::LocalClock { stratum, refid, .. } => (stratum, refid, LOCAL_CLOCK_DISPERSION),
            Source::Orphan { stratum, .. } => (stratum, ORPHAN_REFID, 0.0),
            Source::None => return SystemState::unsynchronised(self.precision),
        };
        SystemState {
            leap: Leap::NoWarning,
            stratum,
            precision: self.precision,
            root_delay: NtpShort::default(),
            root_dispersion: NtpShort::from_secs_f64(dispersion),
            refid,
            reference_time: self.reference_time,
        }
    }
}

/// The association ID the local clock driver shows in mode 6.
const LOCAL_CLOCK_ASSOC_ID: u16 = 1;
/// The local clock's address as ntpq shows it.
const LOCAL_CLOCK_ADDR: [u8; 4] = [127, 127, 1, 0];

impl View for StandaloneEngine {
    fn system_vars(&self) -> SystemVars {
        let s = self.system_state();
        let synced = s.is_synchronised();
        let local = matches!(self.source, Source::LocalClock { .. });
        let (source, peer) = match () {
            _ if !synced => (source::UNSPEC, 0),
            _ if local => (source::LOCAL, LOCAL_CLOCK_ASSOC_ID),
            _ => (source::LOCAL, 0),
        };
        SystemVars {
            status: SystemStatus {
                leap: s.leap,
                source,
                event_count: 0,
                event_code: 0,
            },
            leap: s.leap,
            stratum: s.stratum,
            precision: s.precision,
            root_delay: s.root_delay.as_secs_f64(),
            root_dispersion: s.root_dispersion.as_secs_f64(),
            refid: s.refid,
            reference_time: s.reference_time,
            peer,
            tc: LOCAL_CLOCK_DEFAULT_POLL,
            mintc: 3,
            offset: 0.0,
            frequency: 0.0,
            sys_jitter: 0.0,
            clk_jitter: 0.0,
            clk_wander: 0.0,
            tai: 0,
            leapsec: None,
            expire: None,
        }
    }

    fn peer_vars(&self) -> Vec<PeerVars> {
        let Source::LocalClock {
            stratum,
            refid,
            poll,
        } = self.source
        else {
            return Vec::new();
        };
        let synced = self.synchronised;
        let hpoll = poll.log2().round() as i8;
        vec![PeerVars {
            assoc_id: LOCAL_CLOCK_ASSOC_ID,
            status: PeerStatus {
                bits: peer_bits::CONFIGURED | if synced { peer_bits::REACHABLE } else { 0 },
                select: if synced {
                    select::SYS_PEER
                } else {
                    select::REJECT
                },
                event_count: 0,
                event_code: 0,
            },
            kind: PeerKind::Local,
            hostname: None,
            srcadr: (LOCAL_CLOCK_ADDR, 123).into(),
            dstadr: None,
            leap: if synced {
                Leap::NoWarning
            } else {
                Leap::Unsynchronized
            },
            stratum,
            precision: self.precision,
            root_delay: 0.0,
            root_dispersion: 0.0,
            refid,
            reference_time: self.reference_time,
            rec: self.started,
            reach: if synced { 0o377 } else { 0 },
            unreach: 0,
            hmode: 3,
            pmode: 4,
            hpoll,
            ppoll: hpoll,
            headway: 0,
            flash: 0,
            keyid: 0,
            offset: 0.0,
            delay: 0.0,
            dispersion: LOCAL_CLOCK_DISPERSION,
            jitter: 0.0,
            filter_delay: [0.0; 8],
            filter_offset: [0.0; 8],
            filter_dispersion: [LOCAL_CLOCK_DISPERSION; 8],
        }]
    }
}

fn source_of(config: &Config) -> Source {
    if let Some(local) = config.local_clock() {
        let Target::Refclock(clock) = local.target else {
            return Source::None;
        };
        let fudge = config.fudge(clock);
        // Stratum 0 would read as a kiss-o'-death on the wire: a local
        // clock fudged to 0 serves as a primary server, stratum 1.
        let stratum = fudge
            .and_then(|f| f.stratum)
            .unwrap_or(LOCAL_CLOCK_DEFAULT_STRATUM)
            .max(1);
        let refid = fudge
            .and_then(|f| f.refid.as_deref())
            .map_or(RefId(*b"LOCL"), RefId::from_ascii);
        let poll_exp = local.options.minpoll.unwrap_or(LOCAL_CLOCK_DEFAULT_POLL);
        return Source::LocalClock {
            stratum,
            refid,
            poll: f64::from(1u32 << poll_exp),
        };
    }
    match config.tos.orphan {
        Some(stratum) => Source::Orphan {
            stratum,
            wait: config.tos.orphanwait.unwrap_or(DEFAULT_ORPHAN_WAIT),
        },
        None => Source::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    fn engine(conf: &str) -> StandaloneEngine {
        let l = parse_str(conf, std::path::Path::new("t.conf"));
        StandaloneEngine::new(&l.config, -23)
    }

    const T0: UnixTime = UnixTime::EPOCH;

    #[test]
    fn the_local_clock_serves_at_its_fudged_stratum() {
        let mut e = engine("server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n");
        assert_eq!(e.system_state().stratum, 16);
        let t = T0.add_secs_f64(1.7e9);
        let actions = e.handle(Event::TimerFired, t);
        assert_eq!(
            actions,
            [
                Action::Log {
                    level: Level::Notice,
                    text: "synchronized to LOCAL(0), stratum 10".into()
                },
                Action::ArmTimer(t.add_secs_f64(64.0))
            ]
        );
        let s = e.system_state();
        assert_eq!(
            (s.leap, s.stratum, s.refid),
            (Leap::NoWarning, 10, RefId(*b"LOCL"))
        );
        assert_eq!(s.reference_time, NtpTimestamp::from_unix(t));
        assert!((s.root_dispersion.as_secs_f64() - 0.01).abs() < 1e-4);
    }

    #[test]
    fn defaults_and_fudged_refid() {
        let mut e = engine("server 127.127.1.0 minpoll 4\n");
        e.handle(Event::TimerFired, T0);
        assert_eq!(e.system_state().stratum, 5);
        let mut e = engine("server 127.127.1.0\nfudge 127.127.1.0 stratum 0 refid GPS\n");
        e.handle(Event::TimerFired, T0);
        let s = e.system_state();
        assert_eq!((s.stratum, s.refid), (1, RefId(*b"GPS\0")));
        let mut e = engine("server 127.127.1.0 noselect\n");
        e.handle(Event::TimerFired, T0);
        assert!(!e.system_state().is_synchronised());
    }

    #[test]
    fn orphan_mode_waits_then_serves() {
        let mut e = engine("tos orphan 12 orphanwait 30\n");
        assert_eq!(
            e.handle(Event::TimerFired, T0),
            [Action::ArmTimer(T0.add_secs_f64(30.0))]
        );
        assert!(!e.system_state().is_synchronised());
        e.handle(Event::TimerFired, T0.add_secs_f64(30.0));
        let s = e.system_state();
        assert_eq!((s.stratum, s.refid), (12, RefId([127, 0, 0, 1])));
    }

    #[test]
    fn with_nothing_configured_it_stays_unsynchronised() {
        let mut e = engine("server 192.0.2.1 iburst\n");
        assert!(e.handle(Event::TimerFired, T0).is_empty());
        assert_eq!(e.system_state(), SystemState::unsynchronised(-23));
    }
}
