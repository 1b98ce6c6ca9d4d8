//! What the engine shows: the system variables (for replies to clients
//! and mode 6) and the associations (for `ntpq -p` and friends).

use super::assoc::{Assoc, Role};
use super::core::Engine;
use super::filter::NSTAGES;
use super::{PeerVars, SystemVars};
use crate::proto::status::{peer_bits, PeerStatus, SystemStatus};
use crate::proto::Leap;

/// The smallest time constant classic reports (`mintc`).
const MIN_TIME_CONSTANT: u8 = 3;

impl Engine {
    pub(super) fn system_status(&self) -> SystemStatus {
        SystemStatus {
            leap: if self.sys.is_synchronised() {
                self.advertised_leap()
            } else {
                Leap::Unsynchronized
            },
            source: self.sys.source,
            event_count: self.sys.event_count,
            event_code: self.sys.event_code,
        }
    }

    pub(super) fn peer_status(&self, a: &Assoc) -> PeerStatus {
        let mut bits = 0;
        if a.configured {
            bits |= peer_bits::CONFIGURED;
        }
        if a.reach != 0 {
            bits |= peer_bits::REACHABLE;
        }
        if matches!(a.role, Role::BroadcastClient | Role::BroadcastServer) {
            bits |= peer_bits::BROADCAST;
        }
        if a.options.key.is_some() {
            bits |= peer_bits::AUTH_ENABLED;
        }
        if a.authentic {
            bits |= peer_bits::AUTHENTIC;
        }
        PeerStatus {
            bits,
            select: a.select,
            event_count: a.event_count,
            event_code: a.event_code,
        }
    }

    /// The system variables now: what replies to clients advertise
    /// (unsynchronised: leap 3, stratum 16, refid INIT) and what mode 6
    /// reads.
    pub fn system(&self) -> SystemVars {
        let synced = self.sys.is_synchronised();
        let d = &self.discipline;
        SystemVars {
            status: self.system_status(),
            leap: if synced {
                self.advertised_leap()
            } else {
                Leap::Unsynchronized
            },
            stratum: if synced { self.sys.stratum } else { 16 },
            precision: self.start.precision,
            root_delay: if synced { self.sys.root_delay } else { 0.0 },
            root_dispersion: if synced {
                self.current_root_dispersion()
            } else {
                0.0
            },
            refid: if synced {
                self.sys.refid
            } else {
                crate::proto::RefId(*b"INIT")
            },
            reference_time: if synced {
                self.sys.reference_time
            } else {
                crate::proto::NtpTimestamp::ZERO
            },
            peer: self.sys.peer.unwrap_or(0),
            tc: d.poll.max(0) as u8,
            mintc: MIN_TIME_CONSTANT,
            offset: self.sys.offset,
            frequency: d.freq_ppm(),
            sys_jitter: self.sys.jitter,
            clk_jitter: d.jitter,
            clk_wander: d.wander * 1e6,
            tai: self
                .leap_table
                .as_ref()
                .map_or(0, |t| t.tai_at(self.unix(self.t))),
            leapsec: self
                .leap_table
                .as_ref()
                .and_then(|t| t.leapsec(self.unix(self.t))),
            expire: self.leap_table.as_ref().and_then(|t| t.expire_timestamp()),
        }
    }

    /// Every association, in the order they were mobilised.
    pub fn peers(&self) -> Vec<PeerVars> {
        self.assocs.iter().map(|a| self.peer_vars(a)).collect()
    }

    pub fn peer(&self, assoc_id: u16) -> Option<PeerVars> {
        self.assocs
            .iter()
            .find(|a| a.id == assoc_id)
            .map(|a| self.peer_vars(a))
    }

    fn peer_vars(&self, a: &Assoc) -> PeerVars {
        let phase = self.discipline.timescale.phase_at(self.t);
        let mut filter = a.filter.clone();
        filter.catch_up(phase);
        let stages = filter.stages(self.t);
        let mut filter_delay = [0.0; NSTAGES];
        let mut filter_offset = [0.0; NSTAGES];
        let mut filter_dispersion = [0.0; NSTAGES];
        for (k, s) in stages.iter().enumerate() {
            filter_delay[k] = s.delay;
            filter_offset[k] = s.offset;
            filter_dispersion[k] = s.dispersion;
        }
        let primed = a.filter.primed;
        PeerVars {
            assoc_id: a.id,
            status: self.peer_status(a),
            kind: a.role.kind(),
            hostname: a.hostname.clone(),
            srcadr: a.addr,
            dstadr: a.local,
            leap: a.leap,
            stratum: a.stratum,
            precision: a.precision,
            root_delay: a.root_delay,
            root_dispersion: a.root_dispersion,
            refid: a.refid,
            reference_time: a.reference_time,
            rec: a.rec,
            reach: a.reach,
            unreach: a.unreach,
            hmode: a.role.host_mode(),
            pmode: a.pmode,
            hpoll: a.poll_exponent(),
            ppoll: a.ppoll,
            headway: 0,
            flash: a.flash,
            keyid: a.options.key.unwrap_or(0),
            offset: if primed { filter.offset } else { 0.0 },
            delay: if primed { a.filter.delay } else { 0.0 },
            dispersion: a.filter.dispersion_at(self.t),
            jitter: a.filter.jitter,
            filter_delay,
            filter_offset,
            filter_dispersion,
        }
    }
}
