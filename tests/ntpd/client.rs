//! A tiny NTP client for the tests, written from RFC 5905 and independent
//! of the crate's own `proto`: it can bind any 127.x.y.z source address and
//! send any bytes at all.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from 1900 (NTP era 0) to 1970.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// How long to wait for a reply that should come.
pub const REPLY_WAIT: Duration = Duration::from_secs(2);
/// How long to wait to be sure that no reply comes (loopback answers in
/// microseconds).
pub const SILENCE_WAIT: Duration = Duration::from_millis(300);

/// A decoded reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub len: usize,
    pub leap: u8,
    pub version: u8,
    pub mode: u8,
    pub stratum: u8,
    pub poll: i8,
    pub precision: i8,
    pub root_delay: u32,
    pub root_dispersion: u32,
    pub refid: [u8; 4],
    pub reference: u64,
    pub origin: u64,
    pub receive: u64,
    pub transmit: u64,
}

impl Reply {
    pub fn decode(b: &[u8]) -> Reply {
        assert!(b.len() >= 48, "reply of {} bytes", b.len());
        let u32_at = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
        let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap());
        Reply {
            len: b.len(),
            leap: b[0] >> 6,
            version: (b[0] >> 3) & 7,
            mode: b[0] & 7,
            stratum: b[1],
            poll: b[2] as i8,
            precision: b[3] as i8,
            root_delay: u32_at(4),
            root_dispersion: u32_at(8),
            refid: b[12..16].try_into().unwrap(),
            reference: u64_at(16),
            origin: u64_at(24),
            receive: u64_at(32),
            transmit: u64_at(40),
        }
    }
}

/// Now as an NTP timestamp.
pub fn ntp_now() -> u64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    ((d.as_secs() + NTP_UNIX_OFFSET) << 32) | ((u64::from(d.subsec_nanos()) << 32) / 1_000_000_000)
}

/// An NTP timestamp as seconds.
pub fn secs(ts: u64) -> f64 {
    (ts >> 32) as f64 + (ts & 0xffff_ffff) as f64 / 4_294_967_296.0
}

/// A mode 3 request of VERSION carrying TRANSMIT, poll 6.
pub fn request(version: u8, transmit: u64) -> [u8; 48] {
    let mut p = [0u8; 48];
    p[0] = (version << 3) | 3;
    p[2] = 6;
    p[40..48].copy_from_slice(&transmit.to_be_bytes());
    p
}

/// A client socket bound to SOURCE (any 127.x.y.z works on Linux).
pub struct Client {
    socket: UdpSocket,
}

impl Client {
    pub fn bind(source: &str) -> Client {
        let socket = UdpSocket::bind((source, 0)).expect("bind the client");
        Client { socket }
    }

    pub fn send(&self, bytes: &[u8], to: SocketAddr) {
        self.socket.send_to(bytes, to).expect("send");
    }

    /// The next datagram from TO within WAIT, if any.
    pub fn receive(&self, from: SocketAddr, wait: Duration) -> Option<Vec<u8>> {
        let deadline = std::time::Instant::now() + wait;
        let mut buf = [0u8; 2048];
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            self.socket.set_read_timeout(Some(left)).unwrap();
            match self.socket.recv_from(&mut buf) {
                Ok((n, addr)) if addr == from => return Some(buf[..n].to_vec()),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// Sends a version-4 request and returns the reply, if one comes
    /// within WAIT.
    pub fn ask(&self, server: SocketAddr, wait: Duration) -> Option<Reply> {
        self.ask_version(server, 4, wait)
    }

    /// A reply whose origin is not our transmit timestamp (a late answer
    /// to an earlier request) is skipped, so every reply returned echoes
    /// this request.
    pub fn ask_version(&self, server: SocketAddr, version: u8, wait: Duration) -> Option<Reply> {
        let sent = ntp_now();
        self.send(&request(version, sent), server);
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let reply = Reply::decode(&self.receive(server, left)?);
            if reply.origin == sent {
                return Some(reply);
            }
        }
    }
}
