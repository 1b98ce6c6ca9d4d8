//! The client side of one NTP exchange (RFC 5905 §8 and appendix A.5.1.1):
//! is a packet the reply to our request, is the server fit to be used, and
//! the offset, delay and root distance its four timestamps give.
//!
//! ```text
//!   client T1 ──request──▶ T2 server
//!   client T4 ◀──reply─── T3 server
//!   offset = ((T2 - T1) + (T3 - T4)) / 2      delay = (T4 - T1) - (T3 - T2)
//! ```
//!
//! Differences are taken modulo the NTP era (`NtpTimestamp::diff_secs`), so
//! the formulas hold across the 2036 rollover and for offsets of decades.

use std::fmt;

use super::packet::{Header, Leap, Mode};
use super::refid::KissCode;
use super::timestamp::NtpTimestamp;

/// Stratum 16 and above means "unsynchronised" (RFC 5905 MAXSTRAT).
pub const MAX_STRATUM: u8 = 16;
/// ntpd's default `tos maxdist`: a server whose root distance (half its
/// round trip to the primary source plus its dispersion) reaches this is
/// too uncertain to set a clock from. RFC 5905's MAXDIST is 1 s; ntpd 4.2.8
/// raised the default to 1.5 s, and so do we.
pub const MAX_ROOT_DISTANCE: f64 = 1.5;
/// RFC 5905 MAXDISP: a root dispersion this large is nonsense.
pub const MAX_DISPERSION: f64 = 16.0;
/// RFC 5905 MINDISP: the floor of a root distance, seconds.
pub const MIN_DISPERSION: f64 = 0.01;

/// The four timestamps of one exchange, T1 and T4 on our clock, T2 and T3 on
/// the server's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Our clock when the request left (not necessarily what the request
    /// carried: the transmit field may hold a random cookie instead).
    pub t1: NtpTimestamp,
    /// The server's clock when the request arrived (its receive timestamp).
    pub t2: NtpTimestamp,
    /// The server's clock when the reply left (its transmit timestamp).
    pub t3: NtpTimestamp,
    /// Our clock when the reply arrived.
    pub t4: NtpTimestamp,
}

impl Exchange {
    /// Our clock's error: how far to move it to agree with the server.
    pub fn offset(&self) -> f64 {
        (self.t2.diff_secs(self.t1) + self.t3.diff_secs(self.t4)) / 2.0
    }

    /// The round trip, less the time the server held the request.
    pub fn delay(&self) -> f64 {
        self.t4.diff_secs(self.t1) - self.t3.diff_secs(self.t2)
    }
}

/// Why a packet is not the reply to the request we sent. Such packets are
/// dropped without a word: they may be late duplicates or forgeries, and the
/// real reply may still come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotOurReply {
    /// A reply to a client request is mode 4 (server).
    WrongMode(Mode),
    /// The origin timestamp does not echo our request's transmit timestamp.
    OriginMismatch,
}

impl fmt::Display for NotOurReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotOurReply::WrongMode(m) => write!(f, "mode {} is not a server reply", m.bits()),
            NotOurReply::OriginMismatch => {
                f.write_str("origin timestamp does not match our request (bogus or late reply)")
            }
        }
    }
}

/// Checks that `reply` answers the request whose transmit timestamp was
/// `sent`.
pub fn match_reply(reply: &Header, sent: NtpTimestamp) -> Result<(), NotOurReply> {
    if reply.mode != Mode::Server {
        return Err(NotOurReply::WrongMode(reply.mode));
    }
    if reply.origin_ts != sent || sent.is_zero() {
        return Err(NotOurReply::OriginMismatch);
    }
    Ok(())
}

/// Why a genuine reply cannot be used to set a clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unusable {
    /// A kiss-o'-death packet (stratum 0): the server tells us something
    /// instead of the time.
    Kiss(KissCode),
    /// Leap indicator 3: the server's own clock is not synchronised.
    Unsynchronized,
    /// Stratum 0 without a kiss code (unspecified), or 16 and more
    /// (unsynchronised).
    BadStratum(u8),
    /// A zero transmit timestamp: the reply carries no time.
    ZeroTransmit,
    /// A zero receive timestamp: the reply carries no time.
    ZeroReceive,
    /// The server says it sent the reply before it got the request.
    TransmitBeforeReceive,
    /// The server's reference time is later than its transmit time.
    ReferenceAfterTransmit,
    /// Root delay / 2 + root dispersion of at least MAX_DISPERSION.
    RootDispersion(f64),
    /// Root distance of at least MAX_ROOT_DISTANCE.
    RootDistance(f64),
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unusable::Kiss(code) => write!(f, "kiss-o'-death {code}"),
            Unusable::Unsynchronized => {
                f.write_str("leap not in sync (the server is unsynchronised)")
            }
            Unusable::BadStratum(0) => f.write_str("stratum 0 (unspecified) without a kiss code"),
            Unusable::BadStratum(s) => write!(f, "strata too high (stratum {s})"),
            Unusable::ZeroTransmit => f.write_str("zero transmit timestamp"),
            Unusable::ZeroReceive => f.write_str("zero receive timestamp"),
            Unusable::TransmitBeforeReceive => {
                f.write_str("server is very broken (transmit time before receive time)")
            }
            Unusable::ReferenceAfterTransmit => {
                f.write_str("server is very broken (reference time after transmit time)")
            }
            Unusable::RootDispersion(d) => {
                write!(
                    f,
                    "root dispersion {d:.6} s is too large (limit {MAX_DISPERSION} s)"
                )
            }
            Unusable::RootDistance(d) => {
                write!(
                    f,
                    "root distance {d:.6} s is too large (limit {MAX_ROOT_DISTANCE} s)"
                )
            }
        }
    }
}

/// The header tests of RFC 5905 A.5.1.1 that tell whether a reply carries
/// usable time. Run after `match_reply`: a kiss code is only believed from a
/// packet that echoes our origin timestamp.
pub fn check_header(reply: &Header) -> Result<(), Unusable> {
    // A kiss code is four printable letters; a stratum-0 reply without one
    // (an unsynchronised server saying "stratum unspecified") is no kiss.
    if let Some(code) = reply.kiss_code() {
        if reply
            .reference_id
            .ascii()
            .is_some_and(|text| !text.is_empty())
        {
            return Err(Unusable::Kiss(code));
        }
    }
    if reply.leap == Leap::Unsynchronized {
        return Err(Unusable::Unsynchronized);
    }
    if reply.stratum == 0 || reply.stratum >= MAX_STRATUM {
        return Err(Unusable::BadStratum(reply.stratum));
    }
    if reply.transmit_ts.is_zero() {
        return Err(Unusable::ZeroTransmit);
    }
    if reply.receive_ts.is_zero() {
        return Err(Unusable::ZeroReceive);
    }
    if reply.transmit_ts.diff_secs(reply.receive_ts) < 0.0 {
        return Err(Unusable::TransmitBeforeReceive);
    }
    // A zero reference time means "unknown" (ntpsec serving in orphan mode
    // with `disable ntp` never sets it); only a known one can be wrong.
    if !reply.reference_ts.is_zero() && reply.reference_ts.diff_secs(reply.transmit_ts) > 0.0 {
        return Err(Unusable::ReferenceAfterTransmit);
    }
    let dispersion = reply.root_delay.as_secs_f64() / 2.0 + reply.root_dispersion.as_secs_f64();
    if dispersion >= MAX_DISPERSION {
        return Err(Unusable::RootDispersion(dispersion));
    }
    Ok(())
}

/// The root distance through this server: the error bound of its time as
/// we see it, half the round trip to the primary source plus the
/// dispersions (RFC 5905 §11.2, without the jitter term, which one exchange
/// cannot know).
pub fn root_distance(reply: &Header, delay: f64, dispersion: f64) -> f64 {
    (reply.root_delay.as_secs_f64() + delay).max(MIN_DISPERSION) / 2.0
        + reply.root_dispersion.as_secs_f64()
        + dispersion
}

/// Fails when the root distance is too large to set a clock from.
pub fn check_root_distance(reply: &Header, delay: f64, dispersion: f64) -> Result<f64, Unusable> {
    let distance = root_distance(reply, delay, dispersion);
    if distance >= MAX_ROOT_DISTANCE {
        Err(Unusable::RootDistance(distance))
    } else {
        Ok(distance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{NtpShort, RefId};

    const BASE: u32 = 3_972_758_400; // 2025-11-21, any era-0 second will do

    fn ts(secs: f64) -> NtpTimestamp {
        NtpTimestamp::from_parts(BASE, 0).add_secs_f64(secs)
    }

    fn good_reply(sent: NtpTimestamp) -> Header {
        Header {
            mode: Mode::Server,
            stratum: 2,
            origin_ts: sent,
            reference_ts: ts(-10.0),
            receive_ts: ts(0.001),
            transmit_ts: ts(0.002),
            root_delay: NtpShort::from_secs_f64(0.02),
            root_dispersion: NtpShort::from_secs_f64(0.01),
            ..Header::default()
        }
    }

    #[test]
    fn offset_and_delay_follow_the_rfc_formulas() {
        // Server 2.5 s ahead, 10 ms each way, 1 ms in the server.
        let e = Exchange {
            t1: ts(0.0),
            t2: ts(2.510),
            t3: ts(2.511),
            t4: ts(0.021),
        };
        assert!((e.offset() - 2.5).abs() < 1e-9, "{}", e.offset());
        assert!((e.delay() - 0.020).abs() < 1e-9, "{}", e.delay());
    }

    #[test]
    fn a_decade_behind_works_across_the_era_boundary() {
        // Client in 2030, server after the 2036 rollover (era 1).
        let t1 = NtpTimestamp::from_parts(u32::MAX - 100, 0);
        let e = Exchange {
            t1,
            t2: t1.add_secs_f64(200.0),
            t3: t1.add_secs_f64(200.0),
            t4: t1,
        };
        assert_eq!(e.offset(), 200.0);
        assert_eq!(e.delay(), 0.0);
    }

    #[test]
    fn only_a_server_reply_echoing_our_cookie_matches() {
        let sent = NtpTimestamp::from_bits(0x1234_5678_9abc_def0);
        let reply = good_reply(sent);
        assert_eq!(match_reply(&reply, sent), Ok(()));
        let other = NtpTimestamp::from_bits(0x1234_5678_9abc_def1);
        assert_eq!(match_reply(&reply, other), Err(NotOurReply::OriginMismatch));
        let sym = Header {
            mode: Mode::SymmetricActive,
            ..reply
        };
        assert_eq!(
            match_reply(&sym, sent),
            Err(NotOurReply::WrongMode(Mode::SymmetricActive))
        );
    }

    #[test]
    fn unsynchronised_and_kiss_replies_are_unusable() {
        let sent = ts(0.0);
        let ok = good_reply(sent);
        assert_eq!(check_header(&ok), Ok(()));
        let kiss = Header {
            stratum: 0,
            leap: Leap::Unsynchronized,
            reference_id: RefId(*b"RATE"),
            ..ok
        };
        assert_eq!(check_header(&kiss), Err(Unusable::Kiss(KissCode::Rate)));
        let leap3 = Header {
            leap: Leap::Unsynchronized,
            ..ok
        };
        assert_eq!(check_header(&leap3), Err(Unusable::Unsynchronized));
        let s16 = Header { stratum: 16, ..ok };
        assert_eq!(check_header(&s16), Err(Unusable::BadStratum(16)));
        let s0 = Header {
            stratum: 0,
            reference_id: RefId([0; 4]),
            ..ok
        };
        assert_eq!(check_header(&s0), Err(Unusable::BadStratum(0)));
        let no_xmt = Header {
            transmit_ts: NtpTimestamp::ZERO,
            ..ok
        };
        assert_eq!(check_header(&no_xmt), Err(Unusable::ZeroTransmit));
        let future_ref = Header {
            reference_ts: ts(5.0),
            ..ok
        };
        assert_eq!(
            check_header(&future_ref),
            Err(Unusable::ReferenceAfterTransmit)
        );
    }

    #[test]
    fn root_distance_limits_apply() {
        let reply = good_reply(ts(0.0));
        let d = check_root_distance(&reply, 0.004, 0.0).unwrap();
        assert!((d - (0.012 + 0.01)).abs() < 1e-4, "{d}");
        let far = Header {
            root_dispersion: NtpShort::from_secs_f64(1.6),
            ..reply
        };
        assert!(matches!(
            check_root_distance(&far, 0.004, 0.0),
            Err(Unusable::RootDistance(_))
        ));
    }
}
