//! Wire formats, with no I/O: NTP timestamps and packets (RFC 5905), extension
//! fields and MACs (RFC 7822), and reference IDs.

pub mod packet;
pub mod refid;
pub mod timestamp;

pub use packet::{Digest, Extensions, Header, Leap, MacField, Mode, Packet, PacketError};
pub use refid::{KissCode, RefId, RefIdMeaning};
pub use timestamp::{NtpShort, NtpTimestamp, UnixTime};
