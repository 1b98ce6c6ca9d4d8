//! UDP sockets for NTP: bind, send, receive with the kernel's receive
//! timestamp, and wait with poll(2).
//!
//! The receive timestamp is the T4 (or T2 on a server) of the on-wire
//! formulas, so it is taken as close to the wire as the kernel allows: the
//! socket asks for SO_TIMESTAMPNS and each datagram carries the time the
//! kernel queued it. When that is not available, the time is read with
//! clock_gettime right after recvmsg returns. Either way it is CLOCK_REALTIME,
//! the clock whose error NTP measures.
//!
//! ICMP errors for datagrams sent (port unreachable, say) are reported with
//! the destination they concern (IP_RECVERR), so a client need not wait out
//! a timeout for a server that is not there.
//!
//! No async runtime and no threads: ntpdate and ntpd each drive their
//! sockets from one poll loop.

pub mod batch;
mod poll;
mod sys;
mod udp;

pub use poll::wait_readable;
pub use udp::{realtime_now, Received, RxTimestamp, SendError, UdpSocket};
