//! The server side of ntpd without any I/O: what a request gets in reply,
//! given the request bytes, when it arrived, who sent it and the state the
//! server advertises.
//!
//! Nothing here reads a clock or touches a socket, so the daemon loop, the
//! tests and (later) the engine's simulation drive exactly the same code.
//! Nothing here allocates per packet either: the access table is built once,
//! the MRU table is allocated once at its full size, and replies are
//! written into the caller's buffer.

pub mod access;
pub mod moderate;
pub mod mru;
pub mod pace;
pub mod respond;
pub mod system;

pub use access::AccessTable;
pub use mru::{Mru, MruEntry};
pub use respond::{Counters, DropReason, Outcome, Responder};
pub use system::SystemState;
