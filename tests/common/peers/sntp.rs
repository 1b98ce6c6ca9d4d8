//! A tiny SNTP client (RFC 4330 / RFC 5905 mode 3 -> mode 4), independent of
//! the crate's own `proto`, so the harness can check real peers without
//! trusting the code under test.

use super::netns::Netns;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Leap indicator 3: the server's clock is not synchronised.
pub const LEAP_UNSYNCHRONISED: u8 = 3;
/// Association mode of a server's reply.
pub const MODE_SERVER: u8 = 4;
/// Association mode of a client's request.
const MODE_CLIENT: u8 = 3;
/// NTP version we speak.
const VERSION: u8 = 4;
/// A header without extension fields or MAC.
const HEADER_LEN: usize = 48;
/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch).
const NTP_TO_UNIX_SECONDS: u64 = 2_208_988_800;
/// Room for a reply with extension fields and a MAC.
const RECEIVE_BUFFER: usize = 1024;

/// A server's mode-4 reply, decoded, with our own send and receive times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SntpReply {
    pub leap: u8,
    pub version: u8,
    pub mode: u8,
    pub stratum: u8,
    pub poll: i8,
    pub precision: i8,
    /// NTP short format (16.16 seconds).
    pub root_delay: u32,
    pub root_dispersion: u32,
    pub refid: [u8; 4],
    /// NTP timestamps (32.32 seconds since 1900).
    pub reference: u64,
    pub origin: u64,
    pub receive: u64,
    pub transmit: u64,
    /// Our transmit (t1) and receive (t4) times.
    pub sent: u64,
    pub received: u64,
}

impl SntpReply {
    /// Decodes a reply to the request whose transmit timestamp was `sent`.
    pub fn decode(bytes: &[u8], sent: u64, received: u64) -> Result<SntpReply, String> {
        if bytes.len() < HEADER_LEN {
            return Err(format!("{} bytes, shorter than an NTP header", bytes.len()));
        }
        let u32_at = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
        let u64_at = |i: usize| u64::from_be_bytes(bytes[i..i + 8].try_into().unwrap());
        let reply = SntpReply {
            leap: bytes[0] >> 6,
            version: (bytes[0] >> 3) & 0b111,
            mode: bytes[0] & 0b111,
            stratum: bytes[1],
            poll: bytes[2] as i8,
            precision: bytes[3] as i8,
            root_delay: u32_at(4),
            root_dispersion: u32_at(8),
            refid: bytes[12..16].try_into().unwrap(),
            reference: u64_at(16),
            origin: u64_at(24),
            receive: u64_at(32),
            transmit: u64_at(40),
            sent,
            received,
        };
        if reply.mode != MODE_SERVER {
            return Err(format!("mode {} instead of {MODE_SERVER}", reply.mode));
        }
        if reply.origin != sent {
            return Err(format!(
                "origin {:#018x} does not echo our transmit {sent:#018x}",
                reply.origin
            ));
        }
        Ok(reply)
    }

    /// Clock offset of the server against ours, in seconds (RFC 5905 theta).
    pub fn offset(&self) -> f64 {
        let (t1, t2, t3, t4) = self.times();
        ((t2 - t1) + (t3 - t4)) / 2.0
    }

    /// Round-trip delay minus the server's own time, in seconds (delta).
    pub fn delay(&self) -> f64 {
        let (t1, t2, t3, t4) = self.times();
        (t4 - t1) - (t3 - t2)
    }

    /// The reference ID as ntpq shows it: ASCII for stratum 0 and 1 (kiss
    /// codes, refclock names), a dotted quad otherwise (IPv4 upstreams).
    pub fn refid_text(&self) -> String {
        if self.stratum <= 1 {
            self.refid
                .iter()
                .take_while(|b| **b != 0)
                .map(|b| *b as char)
                .collect()
        } else {
            Ipv4Addr::from(self.refid).to_string()
        }
    }

    fn times(&self) -> (f64, f64, f64, f64) {
        (
            seconds(self.sent),
            seconds(self.receive),
            seconds(self.transmit),
            seconds(self.received),
        )
    }
}

/// Sends one mode-3 request to SERVER (from inside NETNS when given) and
/// waits up to TIMEOUT for its mode-4 reply. Packets from elsewhere, or that
/// do not echo our transmit timestamp, are ignored.
pub fn query(
    netns: Option<&Netns>,
    server: SocketAddr,
    timeout: Duration,
) -> io::Result<SntpReply> {
    let local = match server.ip() {
        IpAddr::V4(_) => SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        IpAddr::V6(_) => SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
    };
    let socket = match netns {
        Some(ns) => ns.udp_socket(local)?,
        None => UdpSocket::bind(local)?,
    };
    // Connected: an ICMP port unreachable ends the wait at once.
    socket.connect(server)?;
    let sent = ntp_now();
    socket.send(&request(sent))?;
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; RECEIVE_BUFFER];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "no NTP reply"));
        }
        socket.set_read_timeout(Some(left))?;
        let len = match socket.recv(&mut buf) {
            Ok(len) => len,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock) => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no NTP reply"))
            }
            Err(e) => return Err(e),
        };
        let received = ntp_now();
        match SntpReply::decode(&buf[..len], sent, received) {
            Ok(reply) => return Ok(reply),
            Err(why) => eprintln!("sntp: ignoring a packet from {server}: {why}"),
        }
    }
}

/// A client request: version 4, mode 3, everything zero but the transmit
/// timestamp, which the server must echo as origin.
fn request(transmit: u64) -> [u8; HEADER_LEN] {
    let mut packet = [0u8; HEADER_LEN];
    packet[0] = (VERSION << 3) | MODE_CLIENT;
    packet[40..48].copy_from_slice(&transmit.to_be_bytes());
    packet
}

/// Now as an NTP timestamp (32.32 seconds since 1900, era 0).
fn ntp_now() -> u64 {
    let since_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    let secs = since_unix.as_secs() + NTP_TO_UNIX_SECONDS;
    let frac = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// An NTP timestamp in seconds (era 0), for offset and delay arithmetic.
fn seconds(ts: u64) -> f64 {
    (ts >> 32) as f64 + (ts & 0xffff_ffff) as f64 / 4_294_967_296.0
}
