//! The packet tests of RFC 5905 and what a packet that passes them does.
//!
//! A reply is believed only if it echoes the cookie of the request still
//! outstanding, which is then forgotten: a forged reply (wrong origin), a
//! replay or duplicate (the cookie is used up, or the transmit timestamp
//! seen before) changes nothing but the `flash` bits, not even the kiss
//! codes it may carry. Symmetric packets must echo our last transmit
//! timestamp; broadcast ones must move forward in time.

use std::net::SocketAddr;

use super::assoc::{event, flash, Options, Role};
use super::core::Engine;
use super::estimator::Point;
use super::filter::{Outcome as FilterOutcome, Sample, PHI};
use super::stats;
use super::{Action, Level, StatsFile};
use crate::proto::onwire::{check_header, Exchange, Unusable};
use crate::proto::{Header, KissCode, Leap, Mode, Packet};

/// The round trip assumed for broadcast packets before the client-server
/// volley has measured one (classic's `broadcastdelay` default), seconds.
pub const DEFAULT_BROADCAST_DELAY: f64 = 0.004;
/// The most associations packets may mobilise (passive peers, broadcast
/// servers, pool members).
pub const MAX_EPHEMERAL: usize = 64;
/// A negative round trip beyond this means broken timestamps, seconds.
const NEGATIVE_DELAY_LIMIT: f64 = 1e-3;

impl Engine {
    /// A packet for the engine: `rx` is its receive time (engine seconds).
    pub(super) fn on_packet(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        rx: f64,
        bytes: &[u8],
        out: &mut Vec<Action>,
    ) {
        let Ok(packet) = Packet::decode(bytes) else {
            return;
        };
        let h = packet.header;
        let found = self.find(from);
        // `key N`: only replies signed with that trusted key count, and
        // nothing else about them is looked at.
        if let Some(i) = found {
            if let Some(key) = self.assocs[i].options.key {
                let authentic = self.keys.verify_decoded(bytes, &packet)
                    == crate::auth::Verdict::Authentic(key);
                self.assocs[i].authentic = authentic;
                if !authentic {
                    self.assocs[i].flash = super::assoc::flash::AUTH;
                    return;
                }
            }
        }
        match (h.mode, found) {
            (Mode::Server, Some(i))
                if matches!(self.assocs[i].role, Role::Client | Role::BroadcastClient) =>
            {
                self.client_reply(i, &h, to, rx, out)
            }
            (Mode::SymmetricActive | Mode::SymmetricPassive, Some(i))
                if matches!(
                    self.assocs[i].role,
                    Role::SymmetricActive | Role::SymmetricPassive
                ) =>
            {
                self.symmetric(i, &h, to, rx, out)
            }
            (Mode::SymmetricActive, None) if self.ephemeral_room() => {
                // A peer we do not know: a passive association answers it,
                // as classic does (the daemon's `restrict nopeer` decides
                // whether such packets reach the engine at all).
                let options = Options {
                    minpoll: h
                        .poll
                        .clamp(super::assoc::NTP_MINPOLL, super::assoc::NTP_MAXPOLL),
                    ..Options::default()
                };
                let i = self.mobilize(Role::SymmetricPassive, from, options, false, out);
                self.symmetric(i, &h, to, rx, out);
            }
            (Mode::Broadcast, found) if self.settled.broadcast_client => {
                let i = match found {
                    Some(i) if self.assocs[i].role == Role::BroadcastClient => i,
                    Some(_) => return,
                    None if self.ephemeral_room() => {
                        let i = self.mobilize(
                            Role::BroadcastClient,
                            from,
                            Options::default(),
                            false,
                            out,
                        );
                        self.assocs[i].burst_left = super::assoc::BURST_PACKETS;
                        i
                    }
                    None => return,
                };
                self.broadcast(i, &h, to, rx, out);
            }
            _ => {}
        }
    }

    /// Whether another association may be mobilised by a packet: a flood
    /// of mode 1 or 5 packets from many (forged) addresses must not eat
    /// the memory.
    fn ephemeral_room(&self) -> bool {
        self.assocs.iter().filter(|a| !a.configured).count() < MAX_EPHEMERAL
    }

    fn client_reply(
        &mut self,
        i: usize,
        h: &Header,
        to: SocketAddr,
        rx: f64,
        out: &mut Vec<Action>,
    ) {
        let a = &mut self.assocs[i];
        if !a.last_xmt.is_zero() && h.transmit_ts == a.last_xmt {
            a.flash = flash::DUPLICATE;
            return;
        }
        let Some(request) = a.outstanding else {
            a.flash = flash::BOGUS;
            return;
        };
        if h.origin_ts != request.cookie {
            a.flash = flash::BOGUS;
            return;
        }
        a.outstanding = None;
        a.last_xmt = h.transmit_ts;
        a.local = Some(to);
        a.pmode = h.mode.bits();
        if self.kiss(i, h, out) {
            return;
        }
        self.heard(i, h, out);
        if !self.usable(i, h, to) {
            return;
        }
        if self.discipline.timescale.before_last_step(request.sent) {
            return;
        }
        let exchange = Exchange {
            t1: self.timestamp(request.sent),
            t2: h.receive_ts,
            t3: h.transmit_ts,
            t4: self.timestamp(rx),
        };
        self.exchange(i, exchange, request.sent, rx, out);
        if self
            .assocs
            .get(i)
            .is_some_and(|a| a.role == Role::BroadcastClient)
        {
            let d = exchange.delay().max(0.0);
            let a = &mut self.assocs[i];
            a.broadcast_delay = Some(a.broadcast_delay.map_or(d, |old: f64| old.min(d)));
        }
    }

    fn symmetric(&mut self, i: usize, h: &Header, to: SocketAddr, rx: f64, out: &mut Vec<Action>) {
        let rx_ts = self.timestamp(rx);
        let a = &mut self.assocs[i];
        if h.transmit_ts.is_zero() {
            a.flash = flash::UNSYNC_PROTO;
            return;
        }
        if h.transmit_ts == a.their_xmt {
            a.flash = flash::DUPLICATE;
            return;
        }
        let answers_us = !a.our_xmt.is_zero() && h.origin_ts == a.our_xmt;
        if !answers_us && !h.origin_ts.is_zero() {
            a.flash = flash::BOGUS;
            return;
        }
        a.their_xmt = h.transmit_ts;
        a.their_rx = rx_ts;
        a.local = Some(to);
        a.pmode = h.mode.bits();
        a.ppoll = h.poll;
        if !answers_us || h.receive_ts.is_zero() {
            // The peer has not heard from us yet: nothing to measure.
            a.flash = flash::UNSYNC_PROTO;
            if a.role == Role::SymmetricPassive && a.reach == 0 {
                a.next_poll = Some(self.t);
            }
            return;
        }
        let sent = a.our_xmt_at;
        if self.kiss(i, h, out) {
            return;
        }
        self.heard(i, h, out);
        if !self.usable(i, h, to) {
            return;
        }
        if self.discipline.timescale.before_last_step(sent) {
            return;
        }
        let exchange = Exchange {
            t1: h.origin_ts,
            t2: h.receive_ts,
            t3: h.transmit_ts,
            t4: rx_ts,
        };
        self.exchange(i, exchange, sent, rx, out);
    }

    fn broadcast(&mut self, i: usize, h: &Header, to: SocketAddr, rx: f64, out: &mut Vec<Action>) {
        let a = &mut self.assocs[i];
        if h.transmit_ts.is_zero() || h.transmit_ts == a.last_xmt {
            a.flash = flash::DUPLICATE;
            return;
        }
        if !a.last_xmt.is_zero() && h.transmit_ts.diff_secs(a.last_xmt) <= 0.0 {
            // Older than one already seen: a replay.
            a.flash = flash::BOGUS;
            return;
        }
        a.last_xmt = h.transmit_ts;
        a.local = Some(to);
        a.pmode = h.mode.bits();
        a.ppoll = h.poll;
        a.hpoll = h.poll.clamp(a.options.minpoll, a.options.maxpoll);
        let delay = a.broadcast_delay.unwrap_or(DEFAULT_BROADCAST_DELAY);
        if self.kiss(i, h, out) {
            return;
        }
        self.heard(i, h, out);
        if !self.usable(i, h, to) {
            return;
        }
        let t4 = self.timestamp(rx);
        let offset = h.transmit_ts.diff_secs(t4) + delay / 2.0;
        let dispersion = self.precision + 2f64.powi(i32::from(h.precision)) + PHI * delay;
        self.sample(i, offset, delay, dispersion, rx - delay / 2.0, rx, out);
    }

    /// A kiss-o'-death from a genuine reply. Returns true if it was one.
    fn kiss(&mut self, i: usize, h: &Header, out: &mut Vec<Action>) -> bool {
        let Some(code) = h.kiss_code() else {
            return false;
        };
        if h.reference_id.ascii().is_none_or(|s| s.is_empty()) {
            return false;
        }
        let t = self.t;
        let a = &mut self.assocs[i];
        match code {
            KissCode::Rate => {
                a.burst_left = 0;
                a.rate_floor = (a.hpoll + 1).max(h.poll).min(super::assoc::NTP_MAXPOLL);
                a.hpoll = a.rate_floor.min(a.options.maxpoll);
                a.event(event::RATE_EXCEEDED);
                let addr = a.addr;
                self.schedule(i);
                self.log(
                    out,
                    Level::Notice,
                    format!(
                        "{} kiss code RATE: rate exceeded, polling less often",
                        addr.ip()
                    ),
                );
            }
            KissCode::Deny | KissCode::Rstr => {
                a.clear(code.refid(), t);
                a.flash = flash::DENIED;
                a.next_poll = None;
                a.event(event::ACCESS_DENIED);
                let addr = a.addr;
                let keep = a.configured && a.pool.is_none();
                self.log(
                    out,
                    Level::Notice,
                    format!(
                        "{} kiss code {code}: access denied, no more requests",
                        addr.ip()
                    ),
                );
                if !keep {
                    self.demobilize(i, "access denied", out);
                }
            }
            KissCode::Other(_) => {
                a.flash = flash::UNSYNC_PEER;
            }
        }
        true
    }

    /// A genuine packet arrived: reach and the peer's header variables.
    fn heard(&mut self, i: usize, h: &Header, out: &mut Vec<Action>) {
        let rec = self.unix(self.t);
        let a = &mut self.assocs[i];
        let was = a.reach;
        a.reach |= 1;
        a.flash = 0;
        a.leap = h.leap;
        a.stratum = h.stratum;
        a.precision = h.precision;
        a.root_delay = h.root_delay.as_secs_f64();
        a.root_dispersion = h.root_dispersion.as_secs_f64();
        a.refid = h.reference_id;
        a.reference_time = h.reference_ts;
        a.rec = Some(rec);
        if h.mode != Mode::Broadcast {
            a.ppoll = h.poll;
        }
        if was == 0 {
            a.event(event::REACHABLE);
            self.peer_event_log(i, "reachable", out);
        }
    }

    /// The header tests that decide whether the time in a packet may be
    /// used (RFC 5905 tests 6, 7, and the loop test).
    fn usable(&mut self, i: usize, h: &Header, to: SocketAddr) -> bool {
        let a = &mut self.assocs[i];
        let bits = match check_header(h) {
            Ok(()) if h.stratum >= 2 && Engine::is_our_refid(h.reference_id, to) => flash::LOOP,
            Ok(()) => 0,
            Err(Unusable::Unsynchronized | Unusable::BadStratum(_) | Unusable::Kiss(_)) => {
                flash::UNSYNC_PEER
            }
            Err(_) => flash::BAD_HEADER,
        };
        a.flash |= bits;
        if h.leap == Leap::Unsynchronized {
            a.stratum = 16;
        }
        bits == 0
    }

    /// The four timestamps of a genuine exchange become a sample.
    fn exchange(&mut self, i: usize, x: Exchange, sent: f64, rx: f64, out: &mut Vec<Action>) {
        let delay = x.delay();
        if delay < -NEGATIVE_DELAY_LIMIT {
            self.assocs[i].flash |= flash::BAD_HEADER;
            return;
        }
        let delay = delay.max(self.precision);
        let peer_precision = 2f64.powi(i32::from(self.assocs[i].precision));
        let dispersion = self.precision + peer_precision + PHI * (rx - sent).max(0.0);
        self.sample(i, x.offset(), delay, dispersion, sent, rx, out);
    }

    /// One sample: into the clock filter and the estimator, then selection
    /// and (perhaps) a clock update.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn sample(
        &mut self,
        i: usize,
        offset: f64,
        delay: f64,
        dispersion: f64,
        sent: f64,
        rx: f64,
        out: &mut Vec<Action>,
    ) {
        let precision = self.precision;
        let ts = &self.discipline.timescale;
        let mid = (sent + rx) / 2.0;
        let point = Point {
            time: ts.raw(mid),
            offset: offset + ts.correction_at(mid),
            delay: delay / (1.0 + ts.rate_at(mid)),
        };
        // The phase corrected since the middle of the exchange is no longer
        // in the offset the filter should keep.
        let phase_now = ts.phase_at(self.t);
        let since = phase_now - ts.phase_at(mid);
        let a = &mut self.assocs[i];
        let poll = 2f64.powi(i32::from(a.poll_exponent()));
        a.filter.catch_up(phase_now);
        let outcome = a.filter.add(
            Sample {
                offset: offset - since,
                delay,
                dispersion,
                epoch: rx,
            },
            precision,
            poll,
        );
        if outcome == FilterOutcome::Popcorn {
            a.event(event::POPCORN);
        }
        a.estimator.update(point);
        if self.settled.peerstats {
            let a = &self.assocs[i];
            let line = stats::peerstats(
                self.unix(self.t),
                a.addr,
                self.peer_status(a).word(),
                offset,
                delay,
                dispersion,
                a.filter.jitter,
            );
            out.push(Action::Stats {
                file: StatsFile::Peerstats,
                line,
            });
        }
        self.select_and_update(Some(i), out);
    }
}
