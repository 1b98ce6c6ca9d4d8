//! What the server says about itself in every reply: the system variables
//! of RFC 5905 §11.2 that go into the header.

use crate::proto::{Leap, NtpShort, NtpTimestamp, RefId};

/// The stratum a server gives when it is not synchronised. RFC 5905 sends 0
/// ("unspecified") on the wire, but classic clients print 16 and the issue
/// asks for 16, which no client can mistake for a kiss-o'-death.
pub const UNSYNCHRONISED_STRATUM: u8 = 16;

/// The refid of a server that has not synchronised yet.
pub const INIT_REFID: RefId = RefId(*b"INIT");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemState {
    pub leap: Leap,
    /// 1 to 15 when synchronised, 16 when not.
    pub stratum: u8,
    /// log2 seconds.
    pub precision: i8,
    pub root_delay: NtpShort,
    pub root_dispersion: NtpShort,
    pub refid: RefId,
    pub reference_time: NtpTimestamp,
}

impl SystemState {
    /// A server with no source yet: leap 3, stratum 16, refid INIT.
    pub fn unsynchronised(precision: i8) -> SystemState {
        SystemState {
            leap: Leap::Unsynchronized,
            stratum: UNSYNCHRONISED_STRATUM,
            precision,
            root_delay: NtpShort::default(),
            root_dispersion: NtpShort::default(),
            refid: INIT_REFID,
            reference_time: NtpTimestamp::ZERO,
        }
    }

    pub fn is_synchronised(&self) -> bool {
        self.leap != Leap::Unsynchronized && self.stratum < UNSYNCHRONISED_STRATUM
    }
}
