//! Polling: the reach register, bursts, the unreach backoff, and the
//! packets an association sends.
//!
//! A client request carries nothing but its version, mode, poll and a
//! random 64-bit transmit timestamp (a cookie): a reply must echo it, so
//! an off-path attacker who cannot see the request cannot forge a reply,
//! and the real send time, kept here, never leaves the host. Symmetric and
//! broadcast packets carry real timestamps, as the protocol needs, with
//! random bits below the clock's precision.

use super::assoc::{
    event, flash, Request, Role, BURST_PACKETS, BURST_SPACING, POLL_FUZZ, UNREACH_LIMIT,
};
use super::core::Engine;
use super::filter::{Sample, MAX_DISPERSION};
use super::{Action, Level};
use crate::proto::{Header, Leap, Mode, NtpShort, NtpTimestamp, Packet};

impl Engine {
    /// Association `i`'s poll timer fired.
    pub(super) fn poll(&mut self, i: usize, out: &mut Vec<Action>) {
        match self.assocs[i].role {
            Role::Pool => self.assocs[i].next_poll = None,
            Role::LocalClock => self.poll_local(i, out),
            Role::BroadcastServer => {
                if self.sys.is_synchronised() {
                    let bytes = self.symmetric_packet(i, Mode::Broadcast);
                    out.push(Action::Send {
                        to: self.assocs[i].addr,
                        bytes,
                    });
                }
                self.schedule(i);
            }
            Role::BroadcastClient => {
                if !self.bookkeep(i, out) {
                    return;
                }
                let a = &self.assocs[i];
                if a.broadcast_delay.is_none() && a.burst_left > 0 {
                    self.send(i, out);
                }
                self.schedule(i);
            }
            Role::Client | Role::SymmetricActive | Role::SymmetricPassive => {
                if !self.bookkeep(i, out) {
                    return;
                }
                self.send(i, out);
                self.schedule(i);
            }
        }
    }

    /// The reach register and bursts at a poll (classic `transmit()`).
    /// Returns false when the association was demobilised.
    fn bookkeep(&mut self, i: usize, out: &mut Vec<Action>) -> bool {
        let sys_poll = self.discipline.poll;
        let t = self.t;
        let a = &mut self.assocs[i];
        if a.burst_left > 0 {
            a.burst_left -= 1;
            return true;
        }
        let oreach = a.reach;
        a.unreach += 1;
        a.reach <<= 1;
        if a.reach == 0 {
            // Not heard for eight polls: the filter learns it.
            a.filter.add(
                Sample {
                    offset: 0.0,
                    delay: 0.0,
                    dispersion: MAX_DISPERSION,
                    epoch: t,
                },
                0.0,
                f64::from(1u32 << a.hpoll.clamp(0, 30)),
            );
            a.flash |= flash::UNREACHABLE;
            if oreach != 0 {
                a.event(event::UNREACHABLE);
                self.peer_event_log(i, "unreachable", out);
            }
            let a = &mut self.assocs[i];
            if a.options.iburst {
                a.burst_left = BURST_PACKETS - 1;
            }
        } else {
            a.hpoll = sys_poll.clamp(a.options.minpoll, a.options.maxpoll);
            if a.pool.is_none() {
                a.unreach = 0;
            }
            if a.options.burst {
                a.burst_left = BURST_PACKETS - 1;
            }
        }
        let a = &mut self.assocs[i];
        if a.unreach >= UNREACH_LIMIT && a.reach == 0 {
            a.hpoll = (a.hpoll + 1).min(a.options.maxpoll);
            if a.pool.is_some() {
                self.demobilize(i, "unreachable, replaced from the pool", out);
                return false;
            }
            if !a.configured {
                self.demobilize(i, "timeout", out);
                return false;
            }
        }
        true
    }

    /// The next poll: 2 s within a burst, else the poll interval with a
    /// little randomness.
    pub(super) fn schedule(&mut self, i: usize) {
        let fuzz = self.random();
        let a = &mut self.assocs[i];
        let delay = if a.burst_left > 0 {
            BURST_SPACING
        } else if a.role == Role::LocalClock {
            // A reference clock is read, not asked: no need to spread.
            2f64.powi(i32::from(a.poll_exponent()))
        } else {
            let base = 2f64.powi(i32::from(a.poll_exponent()));
            base * (1.0 + POLL_FUZZ * fuzz)
        };
        a.next_poll = Some(self.t + delay);
    }

    /// Sends association `i`'s packet.
    fn send(&mut self, i: usize, out: &mut Vec<Action>) {
        let bytes = match self.assocs[i].role {
            Role::SymmetricActive => self.symmetric_packet(i, Mode::SymmetricActive),
            Role::SymmetricPassive => self.symmetric_packet(i, Mode::SymmetricPassive),
            _ => {
                let cookie = loop {
                    let bits = self.rng.next_u64();
                    if bits != 0 {
                        break NtpTimestamp::from_bits(bits);
                    }
                };
                let a = &mut self.assocs[i];
                a.outstanding = Some(Request {
                    cookie,
                    sent: self.t,
                });
                let header = Header {
                    version: a.options.version,
                    mode: Mode::Client,
                    poll: a.poll_exponent(),
                    transmit_ts: cookie,
                    ..Header::default()
                };
                Packet::new(header).to_vec()
            }
        };
        let mut bytes = bytes;
        if let Some(key) = self.assocs[i].options.key {
            let header = bytes.clone();
            // An unknown key: the packet goes unsigned, and the reply will
            // fail authentication (flash AUTH), which ntpq shows.
            let _ = self.keys.sign(key, &header, &mut bytes);
        }
        out.push(Action::Send {
            to: self.assocs[i].addr,
            bytes,
        });
    }

    /// A symmetric or broadcast packet: our system variables, the peer's
    /// last transmit time as origin, and our real transmit time.
    fn symmetric_packet(&mut self, i: usize, mode: Mode) -> Vec<u8> {
        let fuzz_bits = self.fuzz_bits();
        let xmt = NtpTimestamp::from_bits(self.timestamp(self.t).bits() ^ fuzz_bits);
        let sys = &self.sys;
        let root_dispersion = self.current_root_dispersion();
        let a = &mut self.assocs[i];
        let (origin, receive) = if mode == Mode::Broadcast {
            (NtpTimestamp::ZERO, NtpTimestamp::ZERO)
        } else {
            (a.their_xmt, a.their_rx)
        };
        let header = Header {
            leap: sys.leap,
            version: a.options.version,
            mode,
            stratum: if sys.stratum >= 16 { 0 } else { sys.stratum },
            poll: a.poll_exponent(),
            precision: self.start.precision,
            root_delay: NtpShort::from_secs_f64(sys.root_delay),
            root_dispersion: NtpShort::from_secs_f64(root_dispersion),
            reference_id: sys.refid,
            reference_ts: sys.reference_time,
            origin_ts: origin,
            receive_ts: receive,
            transmit_ts: xmt,
        };
        a.our_xmt = xmt;
        a.our_xmt_at = self.t;
        if sys.leap == Leap::Unsynchronized {
            // Unsynchronised: stratum 0 with refid INIT would be a kiss;
            // classic sends stratum 16 in symmetric packets.
            let mut h = header;
            h.stratum = 16;
            return Packet::new(h).to_vec();
        }
        Packet::new(header).to_vec()
    }

    /// Random bits below the precision, for the low end of a real
    /// transmit timestamp.
    fn fuzz_bits(&mut self) -> u64 {
        let below = (32 + i32::from(self.start.precision)).clamp(0, 32);
        if below == 0 {
            0
        } else {
            self.rng.next_u64() & ((1u64 << below) - 1)
        }
    }

    /// The local clock driver: always reachable, offset zero.
    fn poll_local(&mut self, i: usize, out: &mut Vec<Action>) {
        let t = self.t;
        let rec = self.unix(t);
        let a = &mut self.assocs[i];
        let was = a.reach;
        a.reach = (a.reach << 1) | 1;
        a.leap = Leap::NoWarning;
        a.rec = Some(rec);
        a.filter.add(
            Sample {
                offset: 0.0,
                delay: 0.0,
                dispersion: self.precision,
                epoch: t,
            },
            self.precision,
            64.0,
        );
        if was == 0 {
            self.assocs[i].event(event::REACHABLE);
        }
        self.schedule(i);
        self.select_and_update(None, out);
    }

    /// Logs a peer event the classic way: `ADDR STATUS CODE name`.
    pub(super) fn peer_event_log(&mut self, i: usize, name: &str, out: &mut Vec<Action>) {
        let a = &self.assocs[i];
        let word = self.peer_status(a).word();
        let text = format!(
            "{} {word:04x} {:02x} {name}",
            a.addr.ip(),
            0x80 | a.event_code
        );
        self.log(out, Level::Info, text);
    }
}
