//! Where the clock-synchronising engine plugs into the daemon.
//!
//! The loop feeds the engine (`crate::engine`) events and carries out the
//! actions it returns, as DESIGN.md describes; client requests (mode 3)
//! never reach it: the responder answers them from `system_state()`, and
//! mode 6 reads the `View`. The traits keep the loop testable with a
//! scripted engine.

use super::server::SystemState;
pub use crate::engine::{Action, Event, Level};
use crate::engine::{PeerVars, SystemVars};
use crate::proto::{Leap, NtpShort, UnixTime};

pub trait Engine: View {
    fn handle(&mut self, event: Event<'_>, now: UnixTime) -> Vec<Action>;
    /// What replies to clients advertise right now.
    fn system_state(&self) -> SystemState;
    /// SIGUSR1: the drift file now, not at the hourly save.
    fn save_drift_now(&mut self, _now: UnixTime) -> Vec<Action> {
        Vec::new()
    }
    /// An authenticated `writevar 0 leap=N`.
    fn set_leap_warning(&mut self, _leap: Leap) {}
}

/// What mode 6 (ntpq, ntpstat) reads: the system and peer variables.
pub trait View {
    fn system_vars(&self) -> SystemVars;
    /// Every association, in association-ID order.
    fn peer_vars(&self) -> Vec<PeerVars>;
}

/// The real engine (`crate::engine`), driven by the daemon's loop.
impl View for crate::engine::Engine {
    fn system_vars(&self) -> SystemVars {
        self.system()
    }

    fn peer_vars(&self) -> Vec<PeerVars> {
        self.peers()
    }
}

impl Engine for crate::engine::Engine {
    fn handle(&mut self, event: Event<'_>, now: UnixTime) -> Vec<Action> {
        crate::engine::Engine::handle(self, event, now)
    }

    fn system_state(&self) -> SystemState {
        let s = self.system();
        if s.leap == Leap::Unsynchronized || s.stratum >= 16 {
            let mut unsync = SystemState::unsynchronised(s.precision);
            unsync.refid = s.refid;
            unsync.reference_time = s.reference_time;
            return unsync;
        }
        SystemState {
            leap: s.leap,
            stratum: s.stratum,
            precision: s.precision,
            root_delay: NtpShort::from_secs_f64(s.root_delay),
            root_dispersion: NtpShort::from_secs_f64(s.root_dispersion),
            refid: s.refid,
            reference_time: s.reference_time,
        }
    }

    fn save_drift_now(&mut self, now: UnixTime) -> Vec<Action> {
        crate::engine::Engine::save_drift_now(self, now)
    }

    fn set_leap_warning(&mut self, leap: Leap) {
        crate::engine::Engine::set_leap_warning(self, leap);
    }
}
