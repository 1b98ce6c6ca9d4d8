//! One association: a server, pool member, symmetric peer, broadcast
//! server or client, or the local clock driver; its poll state (reach,
//! hpoll, bursts, unreach backoff) and what the peer last said.

use std::net::SocketAddr;

use super::estimator::Estimator;
use super::filter::ClockFilter;
use super::PeerKind;
use crate::proto::{Leap, NtpTimestamp, RefId, UnixTime};

/// Classic's poll bounds and defaults, log2 s.
pub const NTP_MINPOLL: i8 = 3;
pub const NTP_MAXPOLL: i8 = 17;
pub const DEFAULT_MINPOLL: i8 = 6;
pub const DEFAULT_MAXPOLL: i8 = 10;
/// Packets in a burst (`burst`, `iburst`), and the spacing, seconds.
pub const BURST_PACKETS: u8 = 8;
pub const BURST_SPACING: f64 = 2.0;
/// Unanswered polls before the poll interval backs off (and a pool member
/// is replaced): classic NTP_UNREACH.
pub const UNREACH_LIMIT: u32 = 10;
/// A new association's first poll comes after a random delay of up to
/// this many seconds, so that many clients started together do not poll
/// in step; `iburst` cuts it to `IBURST_START_SECS`.
pub const START_SPREAD_SECS: f64 = 16.0;
pub const IBURST_START_SECS: f64 = 1.0;
/// Classic randomises each poll interval by up to 255/4096 of itself.
pub const POLL_FUZZ: f64 = 255.0 / 4096.0;

/// The packet tests (RFC 5905 and classic's `flash` bits), as mode 6
/// shows them.
pub mod flash {
    /// Duplicate packet.
    pub const DUPLICATE: u16 = 0x0001;
    /// Bogus: not the answer to what we sent (origin mismatch).
    pub const BOGUS: u16 = 0x0002;
    /// Protocol unsynchronised (zero timestamps in symmetric mode).
    pub const UNSYNC_PROTO: u16 = 0x0004;
    /// Access denied (a DENY/RSTR kiss).
    pub const DENIED: u16 = 0x0008;
    /// Bad synchronisation or stratum of the peer.
    pub const UNSYNC_PEER: u16 = 0x0020;
    /// Bad header (timestamps or dispersion make no sense).
    pub const BAD_HEADER: u16 = 0x0040;
    /// Root distance beyond `tos maxdist`.
    pub const DISTANCE: u16 = 0x0400;
    /// Synchronisation loop (the peer gets its time from us).
    pub const LOOP: u16 = 0x0800;
    /// Authentication failed (a `key N` association got no valid MAC).
    pub const AUTH: u16 = 0x0010;
    /// Unreachable.
    pub const UNREACHABLE: u16 = 0x1000;
}

/// Peer event codes (mode 6 status word, classic's PEVNT_*).
pub mod event {
    pub const MOBILIZE: u8 = 1;
    pub const DEMOBILIZE: u8 = 2;
    pub const UNREACHABLE: u8 = 3;
    pub const REACHABLE: u8 = 4;
    pub const RATE_EXCEEDED: u8 = 7;
    pub const ACCESS_DENIED: u8 = 8;
    pub const SYS_PEER: u8 = 10;
    pub const POPCORN: u8 = 13;
}

/// What the association does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Mode 3 to a server (also pool members).
    Client,
    /// Mode 1 to a configured `peer`.
    SymmetricActive,
    /// Mode 2, mobilised by a peer's mode 1 packet.
    SymmetricPassive,
    /// Listens to a broadcast server's mode 5 packets.
    BroadcastClient,
    /// `broadcast ADDR`: sends mode 5 packets.
    BroadcastServer,
    /// `server 127.127.1.u`: the undisciplined local clock.
    LocalClock,
    /// `pool NAME`: the prototype its members are mobilised from; it
    /// never polls itself.
    Pool,
}

impl Role {
    pub fn host_mode(self) -> u8 {
        match self {
            Role::Client | Role::BroadcastClient => 3,
            Role::SymmetricActive => 1,
            Role::SymmetricPassive => 2,
            Role::BroadcastServer => 5,
            Role::LocalClock | Role::Pool => 3,
        }
    }

    pub fn kind(self) -> PeerKind {
        match self {
            Role::Client => PeerKind::Unicast,
            Role::SymmetricActive | Role::SymmetricPassive => PeerKind::Symmetric,
            Role::BroadcastClient | Role::BroadcastServer => PeerKind::Broadcast,
            Role::LocalClock => PeerKind::Local,
            Role::Pool => PeerKind::Pool,
        }
    }
}

/// The options an association line gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub prefer: bool,
    pub iburst: bool,
    pub burst: bool,
    pub noselect: bool,
    pub truechimer: bool,
    pub minpoll: i8,
    pub maxpoll: i8,
    pub version: u8,
    /// `key N`: requests are signed with it, and only replies signed with
    /// it (trusted) count.
    pub key: Option<u32>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            prefer: false,
            iburst: false,
            burst: false,
            noselect: false,
            truechimer: false,
            minpoll: DEFAULT_MINPOLL,
            maxpoll: DEFAULT_MAXPOLL,
            version: 4,
            key: None,
        }
    }
}

impl Options {
    pub fn from_config(o: &crate::config::AssociationOptions) -> Options {
        let minpoll = o
            .minpoll
            .map_or(DEFAULT_MINPOLL, |p| p as i8)
            .clamp(NTP_MINPOLL, NTP_MAXPOLL);
        let maxpoll = o
            .maxpoll
            .map_or(DEFAULT_MAXPOLL.max(minpoll), |p| p as i8)
            .clamp(minpoll, NTP_MAXPOLL);
        Options {
            prefer: o.prefer,
            iburst: o.iburst,
            burst: o.burst,
            noselect: o.noselect,
            truechimer: o.truechimer,
            minpoll,
            maxpoll,
            version: o.version.unwrap_or(4).clamp(1, 4),
            key: o.key,
        }
    }
}

/// A client request in flight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Request {
    /// The random transmit timestamp the reply must echo.
    pub cookie: NtpTimestamp,
    /// The real transmit time (engine seconds).
    pub sent: f64,
}

/// The local clock driver's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalDriver {
    pub stratum: u8,
    pub refid: RefId,
}

#[derive(Clone, Debug)]
pub struct Assoc {
    pub id: u16,
    pub role: Role,
    /// From a configuration line (not mobilised by a packet or a pool).
    pub configured: bool,
    /// The pool this member came from.
    pub pool: Option<String>,
    pub addr: SocketAddr,
    pub hostname: Option<String>,
    /// Our address the last packet came in on.
    pub local: Option<SocketAddr>,
    pub options: Options,
    pub driver: Option<LocalDriver>,
    // poll state
    pub reach: u8,
    pub unreach: u32,
    pub hpoll: i8,
    pub ppoll: i8,
    pub burst_left: u8,
    /// Engine time of the next poll; None: does not poll (denied).
    pub next_poll: Option<f64>,
    // on-wire state
    pub outstanding: Option<Request>,
    /// Transmit timestamp of the last packet accepted from the peer.
    pub last_xmt: NtpTimestamp,
    /// Symmetric modes: the peer's last transmit timestamp and when we
    /// received it, echoed as origin and receive in our next packet.
    pub their_xmt: NtpTimestamp,
    pub their_rx: NtpTimestamp,
    /// Symmetric modes: the transmit timestamp of our last packet and its
    /// engine time.
    pub our_xmt: NtpTimestamp,
    pub our_xmt_at: f64,
    /// Broadcast client: the calibrated round trip, seconds.
    pub broadcast_delay: Option<f64>,
    // what the peer says
    pub leap: Leap,
    pub stratum: u8,
    pub precision: i8,
    pub root_delay: f64,
    pub root_dispersion: f64,
    pub refid: RefId,
    pub reference_time: NtpTimestamp,
    pub rec: Option<UnixTime>,
    /// The mode of the peer's last packet.
    pub pmode: u8,
    /// A RATE kiss asked for at least this poll, log2 s.
    pub rate_floor: i8,
    // what we make of it
    pub filter: ClockFilter,
    pub estimator: Estimator,
    pub flash: u16,
    /// The last packet from the peer passed its `key N` check (the status
    /// word's `auth` bit, which ntpq -c as shows as `ok`).
    pub authentic: bool,
    pub select: u8,
    pub event_count: u8,
    pub event_code: u8,
}

/// The most events of one kind a status word counts.
pub const MAX_EVENTS: u8 = 15;

/// The refid classic shows before the first reply.
pub const INIT_REFID: RefId = RefId(*b"INIT");

impl Assoc {
    pub fn new(id: u16, role: Role, addr: SocketAddr, options: Options, now: f64) -> Assoc {
        Assoc {
            id,
            role,
            configured: true,
            pool: None,
            addr,
            hostname: None,
            local: None,
            options,
            driver: None,
            reach: 0,
            unreach: 0,
            hpoll: options.minpoll,
            ppoll: options.maxpoll,
            burst_left: 0,
            next_poll: None,
            outstanding: None,
            last_xmt: NtpTimestamp::ZERO,
            their_xmt: NtpTimestamp::ZERO,
            their_rx: NtpTimestamp::ZERO,
            our_xmt: NtpTimestamp::ZERO,
            our_xmt_at: now,
            broadcast_delay: None,
            leap: Leap::Unsynchronized,
            stratum: 16,
            precision: 0,
            root_delay: 0.0,
            root_dispersion: 0.0,
            refid: INIT_REFID,
            reference_time: NtpTimestamp::ZERO,
            rec: None,
            pmode: 0,
            rate_floor: 0,
            filter: ClockFilter::new(now),
            estimator: Estimator::new(0.0, 1.0),
            flash: 0,
            authentic: false,
            select: 0,
            event_count: 0,
            event_code: 0,
        }
    }

    /// Records a peer event for the status word, as classic counts them:
    /// the counter restarts with each new kind of event and stops at 15.
    pub fn event(&mut self, code: u8) {
        if self.event_code != code {
            self.event_count = 0;
        }
        self.event_code = code;
        self.event_count = (self.event_count + 1).min(MAX_EVENTS);
    }

    /// The poll interval the next poll uses, log2 s.
    pub fn poll_exponent(&self) -> i8 {
        let o = &self.options;
        let p = match self.role {
            Role::SymmetricActive | Role::SymmetricPassive => {
                self.hpoll.min(self.ppoll.max(o.minpoll))
            }
            _ => self.hpoll,
        };
        p.clamp(o.minpoll, o.maxpoll.max(o.minpoll))
            .max(self.rate_floor.min(NTP_MAXPOLL))
    }

    pub fn is_reachable(&self) -> bool {
        self.reach != 0
    }

    /// Forgets what the peer said (after a kiss or a demobilisation).
    pub fn clear(&mut self, refid: RefId, now: f64) {
        self.leap = Leap::Unsynchronized;
        self.stratum = 16;
        self.refid = refid;
        self.reach = 0;
        self.outstanding = None;
        self.filter.clear(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AssociationOptions;

    #[test]
    fn poll_bounds_come_from_the_line_and_stay_in_range() {
        let o = Options::from_config(&AssociationOptions {
            minpoll: Some(4),
            maxpoll: Some(20),
            ..AssociationOptions::default()
        });
        assert_eq!((o.minpoll, o.maxpoll), (4, NTP_MAXPOLL));
        let o = Options::from_config(&AssociationOptions {
            minpoll: Some(12),
            ..AssociationOptions::default()
        });
        assert_eq!((o.minpoll, o.maxpoll), (12, 12));
        let d = Options::from_config(&AssociationOptions::default());
        assert_eq!((d.minpoll, d.maxpoll, d.version), (6, 10, 4));
    }

    #[test]
    fn the_event_counter_saturates() {
        let addr: SocketAddr = "192.0.2.1:123".parse().unwrap();
        let mut a = Assoc::new(1, Role::Client, addr, Options::default(), 0.0);
        for _ in 0..20 {
            a.event(event::REACHABLE);
        }
        assert_eq!((a.event_count, a.event_code), (15, event::REACHABLE));
        a.event(event::SYS_PEER);
        assert_eq!((a.event_count, a.event_code), (1, event::SYS_PEER));
    }
}
