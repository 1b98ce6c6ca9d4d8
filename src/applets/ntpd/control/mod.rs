//! Mode 6 control messages (ntpq, ntpstat): the daemon's side.
//!
//! Placeholder until the control server lands: every request is answered
//! with nothing, as a daemon without mode 6 support would.

use std::net::SocketAddr;

use super::engine::View;
use super::server::Responder;
use crate::config::Config;
use crate::proto::UnixTime;

/// The mode 6 server: its state (nonces, counters) between requests.
pub struct Control {}

/// What `Control::respond` may read besides the engine's variables.
pub struct Context<'a> {
    /// The address the request came from and the one it was sent to.
    pub from: SocketAddr,
    pub to: SocketAddr,
    /// The clock reading when the request arrived.
    pub now: UnixTime,
    pub view: &'a dyn View,
    /// Request counters, the MRU list and the access table.
    pub server: &'a Responder,
}

impl Control {
    pub fn new(_config: &Config) -> Control {
        Control {}
    }

    /// Answers one mode 6 request: each reply datagram is pushed on `out`.
    pub fn respond(&mut self, _request: &[u8], _cx: &Context<'_>, _out: &mut Vec<Vec<u8>>) {}
}
