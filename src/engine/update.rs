//! After each sample: selection, the system peer, and the clock update,
//! with the system variables, logs and statistics it brings; plus local
//! clock and orphan mode when no server will do.

use super::assoc::{event, flash, Role};
use super::core::Engine;
use super::discipline::Outcome;
use super::filter::PHI;
use super::select::{self, Candidate};
use super::{stats, Action, KernelSync, Level, StatsFile};
use crate::proto::onwire::MAX_ROOT_DISTANCE;
use crate::proto::status::{select as code, source};
use crate::proto::{Leap, NtpTimestamp, RefId};

/// An orphan parent's refid: the loopback address, as classic sends it.
pub const ORPHAN_REFID: RefId = RefId([127, 0, 0, 1]);
/// The root dispersion the local clock driver claims, seconds.
pub const LOCAL_CLOCK_DISPERSION: f64 = 0.01;
/// Before the first clock update the engine waits for every server that
/// answers to have enough samples to be judged (so that a falseticker
/// answering first cannot set the clock), but no longer than this, seconds.
const FIRST_UPDATE_PATIENCE: f64 = 60.0;
/// The samples that make a fresh association's dispersion small enough
/// to be a candidate (16 s halved per sample, under `tos maxdist`).
const SAMPLES_TO_BE_FIT: usize = 4;
/// The floor of a source's weight in the combined estimate, seconds.
const ESTIMATE_FLOOR: f64 = 1e-7;

impl Engine {
    /// The root distance of association `i` at engine time `t`.
    pub(super) fn distance(&self, i: usize) -> f64 {
        let a = &self.assocs[i];
        let f = &a.filter;
        (a.root_delay + f.delay).max(self.settled.mindist) / 2.0
            + a.root_dispersion
            + f.dispersion_at(self.t)
            + f.jitter
    }

    /// Whether association `i` may be a candidate (RFC 5905 `fit()`).
    fn fit(&mut self, i: usize) -> bool {
        let distance = self.distance(i);
        let s = &self.settled;
        let orphan = s.orphan;
        let (maxdist, floor, ceiling) = (s.maxdist, s.floor, s.ceiling);
        let a = &mut self.assocs[i];
        if !matches!(
            a.role,
            Role::Client | Role::SymmetricActive | Role::SymmetricPassive | Role::BroadcastClient
        ) || a.options.noselect
        {
            return false;
        }
        if a.reach == 0 || !a.filter.primed {
            return false;
        }
        if a.leap == Leap::Unsynchronized
            || a.stratum >= 16
            || a.stratum > ceiling
            || a.stratum < floor
        {
            return false;
        }
        if orphan.is_some_and(|o| a.stratum >= o) {
            return false;
        }
        if distance >= maxdist {
            a.flash |= flash::DISTANCE;
            return false;
        }
        a.flash & flash::LOOP == 0
    }

    /// Selection after a sample of association `trigger` (None: the local
    /// clock polled), then the clock update if the sample counts.
    pub(super) fn select_and_update(&mut self, trigger: Option<usize>, out: &mut Vec<Action>) {
        let mut indices = Vec::new();
        let mut cands = Vec::new();
        let phase = self.discipline.timescale.phase_at(self.t);
        for a in &mut self.assocs {
            a.filter.catch_up(phase);
        }
        for i in 0..self.assocs.len() {
            if self.assocs[i].role != Role::LocalClock {
                self.assocs[i].select = code::REJECT;
            }
            if self.fit(i) {
                let a = &self.assocs[i];
                cands.push(Candidate {
                    offset: a.filter.offset,
                    distance: self.distance(i),
                    jitter: a.filter.jitter,
                    stratum: a.stratum,
                    prefer: a.options.prefer,
                    truechimer: a.options.truechimer,
                });
                indices.push(i);
            }
        }
        let previous = self
            .sys
            .peer
            .and_then(|id| indices.iter().position(|&i| self.assocs[i].id == id));
        let sel = select::select(&cands, previous, self.settled.select);
        for (k, &i) in indices.iter().enumerate() {
            self.assocs[i].select = sel.codes[k];
        }
        let survivors: Vec<usize> = sel.survivors.iter().map(|&k| indices[k]).collect();
        match sel.system_peer.map(|k| indices[k]) {
            Some(peer) => {
                self.sys.orphan = false;
                for a in self
                    .assocs
                    .iter_mut()
                    .filter(|a| a.role == Role::LocalClock)
                {
                    a.select = code::REJECT;
                }
                self.set_system_peer(peer, out);
                let counts = trigger.is_some_and(|t| survivors.contains(&t));
                if counts && (self.discipline.is_set() || !self.warming_up()) {
                    self.clock_update(peer, &survivors, sel.offset, sel.jitter, out);
                }
            }
            None => self.no_system_peer(out),
        }
    }

    /// Whether an answering server is still collecting its first samples
    /// (and the start is recent enough to wait for it).
    fn warming_up(&self) -> bool {
        self.t < FIRST_UPDATE_PATIENCE
            && self.assocs.iter().any(|a| {
                matches!(
                    a.role,
                    Role::Client | Role::SymmetricActive | Role::SymmetricPassive
                ) && !a.options.noselect
                    && a.reach != 0
                    && a.leap != Leap::Unsynchronized
                    && a.stratum < 16
                    && a.filter.valid_stages() < SAMPLES_TO_BE_FIT
            })
    }

    fn set_system_peer(&mut self, i: usize, out: &mut Vec<Action>) {
        let id = self.assocs[i].id;
        if self.sys.peer == Some(id) {
            return;
        }
        self.sys.peer = Some(id);
        self.assocs[i].event(event::SYS_PEER);
        let a = &self.assocs[i];
        let name = match a.role {
            Role::LocalClock => format!(
                "LOCAL({})",
                a.addr.ip().to_string().rsplit('.').next().unwrap_or("0")
            ),
            _ => a.addr.ip().to_string(),
        };
        let stratum = if a.role == Role::LocalClock {
            a.stratum
        } else {
            a.stratum.saturating_add(1).min(15)
        };
        self.log(
            out,
            Level::Info,
            format!("synchronized to {name}, stratum {stratum}"),
        );
        self.peer_event_log(i, "sys_peer", out);
    }

    /// No server will do: the local clock driver, orphan mode, or nothing.
    fn no_system_peer(&mut self, out: &mut Vec<Action>) {
        let local = self
            .assocs
            .iter()
            .position(|a| a.role == Role::LocalClock && a.reach != 0 && !a.options.noselect);
        if let Some(i) = local {
            self.assocs[i].select = code::SYS_PEER;
            self.sys.orphan = false;
            self.set_system_peer(i, out);
            let a = &self.assocs[i];
            let (stratum, refid) = a
                .driver
                .map_or((a.stratum, a.refid), |d| (d.stratum, d.refid));
            self.sys.leap = Leap::NoWarning;
            self.sys.stratum = stratum;
            self.sys.refid = refid;
            self.sys.root_delay = 0.0;
            self.sys.root_dispersion = LOCAL_CLOCK_DISPERSION;
            self.sys.updated = self.t;
            self.sys.reference_time = self.timestamp(self.t);
            self.sys.source = source::LOCAL;
            return;
        }
        for a in self
            .assocs
            .iter_mut()
            .filter(|a| a.role == Role::LocalClock)
        {
            a.select = code::REJECT;
        }
        if self.sys.peer.take().is_some() && !self.sys.orphan {
            self.system_event(8, "", out);
        }
    }

    /// The clock update: combine, discipline, and the new system variables.
    fn clock_update(
        &mut self,
        peer: usize,
        survivors: &[usize],
        classic_offset: f64,
        jitter: f64,
        out: &mut Vec<Action>,
    ) {
        let estimate = if self.discipline.settings.kernel {
            None
        } else {
            self.combined_estimate(survivors)
        };
        let classic_offset = self.huff_n_puff(peer, classic_offset);
        let was_set = self.discipline.is_set();
        self.sys.source = source::NTP;
        self.log(
            out,
            Level::Debug,
            format!(
                "clock update: estimate {:?} classic {classic_offset:+.9} survivors {}",
                estimate,
                survivors.len()
            ),
        );
        let outcome = self.discipline.update(
            self.t,
            estimate.map(|e| e.0),
            classic_offset,
            estimate.map(|e| e.1),
            out,
        );
        let offset = match outcome {
            Outcome::Panic(offset) => {
                self.panic(offset, out);
                return;
            }
            Outcome::Spike(offset) => {
                if self.sys.event_code != 3 {
                    self.system_event(3, &format!("{offset:+.6} s"), out);
                }
                return;
            }
            Outcome::Stepped(offset) => {
                self.shift_deadlines(offset);
                self.system_event(12, &format!("{offset:+.6} s"), out);
                self.log(out, Level::Notice, format!("time reset {offset:+.6} s"));
                offset
            }
            Outcome::Slewed(offset) | Outcome::Disabled(offset) => offset,
        };
        let a = &self.assocs[peer];
        let peer_dispersion = a.filter.dispersion_at(self.t) + a.filter.jitter + PHI * 0.0;
        self.sys.leap = a.leap;
        self.sys.stratum = a.stratum.saturating_add(1).min(15);
        self.sys.refid = if a.stratum == 0 {
            a.refid
        } else {
            RefId::for_upstream(a.addr.ip())
        };
        self.sys.root_delay = a.root_delay + a.filter.delay;
        self.sys.root_dispersion = a.root_dispersion + peer_dispersion + offset.abs();
        self.sys.updated = self.t;
        self.sys.reference_time = self.timestamp(self.t);
        self.sys.offset = offset;
        self.sys.jitter = jitter;
        self.sys.source = source::NTP;
        if !was_set {
            self.system_event(5, "", out);
        }
        if self.config.flags.ntp {
            out.push(Action::KernelSync(self.kernel_sync(true)));
        }
        if self.settled.loopstats {
            let d = &self.discipline;
            let line = stats::loopstats(
                self.unix(self.t),
                offset,
                d.freq_ppm(),
                d.jitter,
                d.wander * 1e6,
                d.poll,
            );
            out.push(Action::Stats {
                file: StatsFile::Loopstats,
                line,
            });
        }
        if self.start.once {
            let verb = if matches!(outcome, Outcome::Stepped(_)) {
                "set"
            } else {
                "slew"
            };
            self.log(
                out,
                Level::Notice,
                format!("ntpd: time {verb} {offset:+.6} s"),
            );
            if self.discipline.exit_when_settled() {
                out.push(Action::Exit(0));
            }
        }
    }

    /// Classic's huff-n'-puff filter (`tinker huffpuff SECONDS`): on a
    /// path whose queues fill in one direction, a round trip above the
    /// window's minimum is taken to be all queueing on the side the offset
    /// leans to, and half of it is taken off. (The estimators need no such
    /// correction; for them the window only keeps the minimum delay longer.)
    pub(super) fn huff_n_puff(&mut self, peer: usize, offset: f64) -> f64 {
        let Some(window) = self.config.tinker.huffpuff.filter(|w| *w > 0.0) else {
            return offset;
        };
        let delay = self.assocs[peer].filter.delay;
        self.huffpuff.push_back((self.t, delay));
        while self
            .huffpuff
            .front()
            .is_some_and(|(t, _)| self.t - t > window)
        {
            self.huffpuff.pop_front();
        }
        let min = self
            .huffpuff
            .iter()
            .map(|(_, d)| *d)
            .fold(f64::INFINITY, f64::min);
        let excess = (delay - min).max(0.0) / 2.0;
        if offset > 0.0 {
            offset - excess
        } else {
            offset + excess
        }
    }

    /// The survivors' estimators combined: how far to move the clock now,
    /// and the frequency correction (s/s).
    fn combined_estimate(&self, survivors: &[usize]) -> Option<(f64, f64)> {
        let ts = &self.discipline.timescale;
        let raw = ts.raw(self.t);
        let (mut sum_w, mut phase, mut freq) = (0.0, 0.0, 0.0);
        for &i in survivors {
            let e = &self.assocs[i].estimator;
            if !e.is_primed() {
                continue;
            }
            let (p, var) = e.predict(raw);
            let w = 1.0 / (var + ESTIMATE_FLOOR * ESTIMATE_FLOOR);
            sum_w += w;
            phase += w * p;
            freq += w * e.freq();
        }
        if sum_w == 0.0 {
            return None;
        }
        Some((phase / sum_w - ts.correction_at(self.t), freq / sum_w))
    }

    /// Beyond the panic threshold: classic's words, and exit.
    fn panic(&mut self, offset: f64, out: &mut Vec<Action>) {
        let limit = self.discipline.settings.panic;
        self.system_event(
            7,
            &format!("{offset:+.0} s; set clock manually within {limit:.0} s."),
            out,
        );
        self.log(
            out,
            Level::Error,
            format!(
                "time correction of {:.0} seconds exceeds sanity limit ({limit:.0}); set clock manually to the correct UTC time.",
                offset.abs()
            ),
        );
        out.push(Action::Exit(1));
    }

    pub(super) fn kernel_sync(&self, synchronised: bool) -> KernelSync {
        let maxerror = if synchronised {
            self.sys.root_delay / 2.0 + self.current_root_dispersion()
        } else {
            16.0
        };
        KernelSync {
            synchronised,
            pll: self.config.flags.kernel,
            leap: if synchronised {
                self.advertised_leap()
            } else {
                Leap::NoWarning
            },
            maxerror,
            esterror: if synchronised {
                self.discipline.jitter
            } else {
                16.0
            },
            time_constant: i64::from(self.discipline.poll),
        }
    }

    /// The root dispersion grown since the last update.
    pub(super) fn current_root_dispersion(&self) -> f64 {
        self.sys.root_dispersion + PHI * (self.t - self.sys.updated).max(0.0)
    }

    /// When orphan mode would start, if it is configured and not on.
    pub(super) fn orphan_deadline(&self) -> Option<f64> {
        let stratum = self.settled.orphan?;
        let _ = stratum;
        (self.sys.peer.is_none() && !self.sys.orphan).then_some(self.settled.orphan_wait)
    }

    /// On every event: orphan mode, and giving up on a clock left too long
    /// without a source.
    pub(super) fn housekeeping(&mut self, out: &mut Vec<Action>) {
        if let Some(stratum) = self.settled.orphan {
            if self.sys.peer.is_none()
                && !self.sys.orphan
                && self.t + super::core::DUE_SLACK >= self.settled.orphan_wait
            {
                self.sys.orphan = true;
                self.sys.leap = Leap::NoWarning;
                self.sys.stratum = stratum;
                self.sys.refid = ORPHAN_REFID;
                self.sys.root_delay = 0.0;
                self.sys.root_dispersion = 0.0;
                self.sys.updated = self.t;
                self.sys.reference_time = self.timestamp(self.t);
                self.sys.source = source::UNSPEC;
                self.log(
                    out,
                    Level::Notice,
                    format!("no source is reachable: orphan mode, serving at stratum {stratum}"),
                );
            }
        }
        if self.sys.orphan {
            self.sys.updated = self.t;
            self.sys.reference_time = self.timestamp(self.t);
            return;
        }
        let holding = self.sys.peer.is_none() && self.sys.is_synchronised();
        if holding
            && self.sys.root_delay / 2.0 + self.current_root_dispersion() >= MAX_ROOT_DISTANCE
        {
            self.sys.leap = Leap::Unsynchronized;
            self.sys.stratum = 16;
            self.sys.refid = RefId(*b"INIT");
            self.sys.reference_time = NtpTimestamp::ZERO;
            self.sys.source = source::UNSPEC;
            if self.config.flags.ntp {
                out.push(Action::KernelSync(self.kernel_sync(false)));
            }
        }
    }
}
