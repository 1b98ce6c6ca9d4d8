//! Wire formats, with no I/O: NTP timestamps and packets (RFC 5905), extension
//! fields and MACs (RFC 7822), reference IDs, and mode 6 control messages
//! (header, fragments, variable lists, status words).

pub mod control;
pub mod onwire;
pub mod packet;
pub mod refid;
pub mod status;
pub mod timestamp;
pub mod varlist;

pub use packet::{Digest, Extensions, Header, Leap, MacField, Mode, Packet, PacketError};
pub use refid::{KissCode, RefId, RefIdMeaning};
pub use timestamp::{NtpShort, NtpTimestamp, UnixTime};
