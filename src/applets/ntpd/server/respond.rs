//! One request in, at most one reply out.
//!
//! Checks in classic ntpd's order: the packet must decode; `restrict ignore`
//! drops it before anything else; then the MRU table records it; `noserve`,
//! `notrust` and `version` refuse it; `limited` applies the `discard` rate
//! limits (with `kod`, a RATE kiss-o'-death, itself rate limited). A client
//! request (mode 3) then gets a server reply (mode 4) of its own version.
//! Other modes are not this module's business: they go to the engine.

use std::net::SocketAddr;

use super::access::AccessTable;
use super::mru::Mru;
use super::system::SystemState;
use crate::auth::{Keyring, Verdict, MAX_MAC_FIELD_LEN};
use crate::config::{Discard, RestrictFlags};
use crate::proto::packet::HEADER_LEN;
use crate::proto::{Header, Leap, Mode, NtpTimestamp, Packet, RefId};

/// The current protocol version, for `restrict ... version`.
const NTP_VERSION: u8 = 4;
/// The longest reply: the header and a MAC field (key ID and MAC).
pub const MAX_REPLY_LEN: usize = HEADER_LEN + MAX_MAC_FIELD_LEN;
/// A crypto-NAK is a MAC field of a zero key ID alone.
const CRYPTO_NAK_LEN: usize = 4;
/// NTP control messages (ntpq).
const CONTROL_MODE: u8 = 6;
/// ntpd's private mode (ntpdc).
const PRIVATE_MODE: u8 = 7;
/// Where the version number sits in the first byte (LI VN Mode).
const VERSION_SHIFT: u8 = 3;
const VERSION_MASK: u8 = 0b111;
/// A mode 6 message has at least its 12-byte header.
const CONTROL_HEADER_LEN: usize = 12;
/// Where the transmit timestamp sits in the header.
const TRANSMIT_AT: std::ops::Range<usize> = 40..48;

/// Why a packet got no reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Not an NTP packet: too short, bad version, bad trailer.
    Malformed,
    /// `restrict ... ignore`.
    Ignored,
    /// `restrict ... noserve`.
    NoServe,
    /// `restrict ... notrust` and the packet is not authenticated.
    NotTrusted,
    /// `restrict ... version` and the packet is not NTPv4.
    WrongVersion,
    /// Over the `discard` limits, and no kiss-o'-death due.
    RateLimited,
    /// `restrict ... noquery` and a mode 6 query.
    NoQuery,
    /// `restrict ... nopeer` and a packet that would start a symmetric
    /// association.
    NoPeer,
    /// Mode 7 (ntpdc) requests: never answered.
    NotServed,
}

/// What to do with one received packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send the first `len` bytes of the output buffer back to the sender.
    /// When `stamp` is true the transmit timestamp must be written with
    /// [`stamp_transmit`] as late as possible before sending. With
    /// `sign`, the header must then be signed with that key
    /// ([`Responder::sign`]), which writes the MAC field and gives the
    /// final length.
    Reply {
        len: usize,
        stamp: bool,
        sign: Option<u32>,
    },
    /// Send nothing.
    Drop(DropReason),
    /// A packet for the engine: server replies, symmetric and broadcast
    /// modes, and mode 6 control queries that `restrict` allows.
    Pass,
}

/// What the server did, for `ntpq sysstats` and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub received: u64,
    pub replied: u64,
    pub kod_sent: u64,
    pub malformed: u64,
    pub ignored: u64,
    pub refused: u64,
    pub rate_limited: u64,
    pub passed: u64,
}

pub struct Responder {
    access: AccessTable,
    /// Keys and `trustedkey`: signed requests get signed replies.
    keys: Keyring,
    /// None with `disable monitor`: then nothing can be rate limited.
    mru: Option<Mru>,
    discard: Discard,
    pub counters: Counters,
}

impl Responder {
    pub fn new(access: AccessTable, mru: Option<Mru>, discard: Discard) -> Responder {
        Responder {
            access,
            keys: Keyring::new(),
            mru,
            discard,
            counters: Counters::default(),
        }
    }

    /// Authenticates with these keys from now on.
    pub fn with_keys(mut self, keys: Keyring) -> Responder {
        self.keys = keys;
        self
    }

    /// The keys, for mode 6's authenticated requests.
    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// Signs a stamped reply of `Outcome::Reply { sign: Some(key), .. }`
    /// in place: `reply` holds the header and room for the MAC field.
    /// Returns the length to send.
    pub fn sign(&self, key_id: u32, reply: &mut [u8]) -> usize {
        let (header, field) = reply.split_at_mut(HEADER_LEN);
        match self.keys.sign_into(key_id, header, field) {
            Ok(n) => HEADER_LEN + n,
            // The key verified the request a moment ago, so this cannot
            // happen; a crypto-NAK is the safe answer if it did.
            Err(_) => {
                field[..CRYPTO_NAK_LEN].fill(0);
                HEADER_LEN + CRYPTO_NAK_LEN
            }
        }
    }

    /// The `restrict` table, for mode 6's own access decisions.
    pub fn access(&self) -> &AccessTable {
        &self.access
    }

    pub fn mru(&self) -> Option<&Mru> {
        self.mru.as_ref()
    }

    /// Handles one packet from `from`, received at `rx` (its receive
    /// timestamp) and `now` (monotonic seconds, for rate limiting). A reply
    /// is written into `out`, which must hold [`MAX_REPLY_LEN`] bytes.
    pub fn respond(
        &mut self,
        request: &[u8],
        from: SocketAddr,
        rx: NtpTimestamp,
        now: f64,
        system: &SystemState,
        out: &mut [u8],
    ) -> Outcome {
        self.counters.received += 1;
        if let Some(mode @ (CONTROL_MODE | PRIVATE_MODE)) = request.first().map(|b| b & 7) {
            return self.control_query(request, from, mode, now);
        }
        let packet = match Packet::decode(request) {
            Ok(p) => p,
            Err(_) => return self.drop(DropReason::Malformed),
        };
        let header = packet.header;
        let flags = self.access.classify(from.ip(), from.port());
        if flags.contains(RestrictFlags::IGNORE) {
            return self.drop(DropReason::Ignored);
        }
        let rate = self.mru.as_mut().map(|mru| {
            mru.observe(
                from.ip(),
                from.port(),
                header.mode.bits(),
                header.version,
                now,
                flags,
                &self.discard,
            )
        });
        if header.mode != Mode::Client {
            // A symmetric-active packet would start an association.
            if header.mode == Mode::SymmetricActive && flags.contains(RestrictFlags::NOPEER) {
                return self.drop(DropReason::NoPeer);
            }
            self.counters.passed += 1;
            return Outcome::Pass;
        }
        if flags.contains(RestrictFlags::NOSERVE) {
            return self.drop(DropReason::NoServe);
        }
        let verdict = self.keys.verify_decoded_from(from.ip(), request, &packet);
        if flags.contains(RestrictFlags::NOTRUST) && !verdict.is_authentic() {
            return self.drop(DropReason::NotTrusted);
        }
        if flags.contains(RestrictFlags::VERSION) && header.version != NTP_VERSION {
            return self.drop(DropReason::WrongVersion);
        }
        if flags.contains(RestrictFlags::LIMITED) {
            if let Some(verdict) = rate.filter(|v| v.limited) {
                if verdict.kod && flags.contains(RestrictFlags::KOD) {
                    self.counters.kod_sent += 1;
                    let len = write_rate_kiss(&header, self.discard.average, out);
                    return Outcome::Reply {
                        len,
                        stamp: false,
                        sign: None,
                    };
                }
                return self.drop(DropReason::RateLimited);
            }
        }
        let reply = server_reply(&header, rx, system);
        let mut len = HEADER_LEN;
        out[..HEADER_LEN].copy_from_slice(&reply.encode());
        self.counters.replied += 1;
        match verdict {
            // Signed with the request's key once the transmit time is in.
            Verdict::Authentic(key_id) => {
                return Outcome::Reply {
                    len,
                    stamp: true,
                    sign: Some(key_id),
                }
            }
            Verdict::NoMac | Verdict::CryptoNak => {}
            // A signed request we cannot verify gets a crypto-NAK, so the
            // client knows the answer is not authenticated (RFC 5905 §7.4).
            _ => {
                out[HEADER_LEN..HEADER_LEN + CRYPTO_NAK_LEN].fill(0);
                len = HEADER_LEN + CRYPTO_NAK_LEN;
            }
        }
        Outcome::Reply {
            len,
            stamp: true,
            sign: None,
        }
    }

    /// Mode 6 (ntpq) and mode 7 (ntpdc) packets: mode 7 is never answered
    /// (classic 4.2.8 turned it off for good); mode 6 goes to the engine
    /// unless `ignore` or `noquery` applies. An admitted mode 6 query is
    /// recorded in the MRU list first, as ntpsec and classic releases that
    /// monitor every packet do (`ntpq -c mrulist` shows ntpq itself, mode
    /// 6), so it counts against a `limited` client's time service too. Its
    /// rate verdict is not used here: the control server keeps its own
    /// byte budget.
    fn control_query(&mut self, request: &[u8], from: SocketAddr, mode: u8, now: f64) -> Outcome {
        let flags = self.access.classify(from.ip(), from.port());
        if flags.contains(RestrictFlags::IGNORE) {
            return self.drop(DropReason::Ignored);
        }
        if mode == PRIVATE_MODE {
            return self.drop(DropReason::NotServed);
        }
        if request.len() < CONTROL_HEADER_LEN {
            return self.drop(DropReason::Malformed);
        }
        if flags.contains(RestrictFlags::NOQUERY) {
            return self.drop(DropReason::NoQuery);
        }
        if let Some(mru) = self.mru.as_mut() {
            let version = (request[0] >> VERSION_SHIFT) & VERSION_MASK;
            mru.observe(
                from.ip(),
                from.port(),
                mode,
                version,
                now,
                flags,
                &self.discard,
            );
        }
        self.counters.passed += 1;
        Outcome::Pass
    }

    fn drop(&mut self, reason: DropReason) -> Outcome {
        match reason {
            DropReason::Malformed => self.counters.malformed += 1,
            DropReason::Ignored => self.counters.ignored += 1,
            DropReason::RateLimited => self.counters.rate_limited += 1,
            _ => self.counters.refused += 1,
        }
        Outcome::Drop(reason)
    }
}

/// The mode 4 reply to a client request (RFC 5905 §9.2 fast_xmit): our
/// system variables, the client's poll echoed, its transmit timestamp as
/// origin, and our receive timestamp. The transmit timestamp is set to the
/// receive time here and overwritten just before sending.
pub fn server_reply(request: &Header, rx: NtpTimestamp, system: &SystemState) -> Header {
    Header {
        leap: system.leap,
        version: request.version,
        mode: Mode::Server,
        stratum: system.stratum,
        poll: request.poll,
        precision: system.precision,
        root_delay: system.root_delay,
        root_dispersion: system.root_dispersion,
        reference_id: system.refid,
        reference_ts: system.reference_time,
        origin_ts: request.transmit_ts,
        receive_ts: rx,
        transmit_ts: rx,
    }
}

/// A RATE kiss-o'-death as classic sends it: leap 3, stratum 0, refid RATE,
/// the request's own fields echoed, its transmit timestamp in all three
/// timestamps, and a poll of at least the `discard average`.
fn write_rate_kiss(request: &Header, min_poll: u8, out: &mut [u8]) -> usize {
    let kiss = Header {
        leap: Leap::Unsynchronized,
        version: request.version,
        mode: Mode::Server,
        stratum: 0,
        poll: request.poll.max(min_poll as i8),
        precision: request.precision,
        root_delay: request.root_delay,
        root_dispersion: request.root_dispersion,
        reference_id: RefId(*b"RATE"),
        reference_ts: request.reference_ts,
        origin_ts: request.transmit_ts,
        receive_ts: request.transmit_ts,
        transmit_ts: request.transmit_ts,
    };
    out[..HEADER_LEN].copy_from_slice(&kiss.encode());
    HEADER_LEN
}

/// Writes the transmit timestamp into an encoded reply.
pub fn stamp_transmit(reply: &mut [u8], transmit: NtpTimestamp) {
    reply[TRANSMIT_AT].copy_from_slice(&transmit.bits().to_be_bytes());
}

#[cfg(test)]
mod tests;
