//! `ntpstat`: show whether the NTP daemon is synchronised, in the words
//! and exit codes of Debian's ntpstat: 0 synchronised, 1 not, 2 when the
//! daemon cannot be asked.
//!
//! ```text
//! synchronised to NTP server (131.107.13.100) at stratum 2
//!    time correct to within 461 ms
//!    polling server every 64 s
//! ```
//!
//! It sends one mode 6 READVAR to 127.0.0.1:123 (or `HOST[:PORT]`, an
//! ntpbox extension) and waits a second for the answer.

mod report;

use std::ffi::OsString;
use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use clap::{Arg, Command};

use crate::proto::control::{opcode, ControlMessage, Reassembly};
use report::NO_DAEMON;

/// Where Debian's ntpstat asks.
const DEFAULT_HOST: &str = "127.0.0.1";
const NTP_PORT: u16 = 123;
/// How long it waits for the answer (Debian's select timeout).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(1);
/// The sequence number of its one request.
const SEQUENCE: u16 = 1;
/// Room for one fragment and then some.
const RECEIVE_BUFFER: usize = 2048;
/// Debian's messages, on stderr, exit 2.
const NO_ANSWER: &str = "timeout";
const CANNOT_TALK: &str = "Unable to talk to NTP daemon. Is it running?";

pub fn command() -> Command {
    Command::new("ntpstat")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Show whether the NTP daemon is synchronised (exit 0 synced, 1 not, 2 no daemon)")
        .arg(
            Arg::new("host")
                .value_name("HOST[:PORT]")
                .help("The daemon to ask (default 127.0.0.1); [ADDRESS]:PORT for IPv6"),
        )
}

pub fn run(args: Vec<OsString>) -> i32 {
    let m = match crate::applets::parse_args(command(), args, NO_DAEMON) {
        Ok(m) => m,
        Err(status) => return status,
    };
    let host = m
        .get_one::<String>("host")
        .map_or(DEFAULT_HOST, String::as_str);
    let addr = match resolve(host) {
        Ok(a) => a,
        Err(why) => {
            eprintln!("ntpstat: {why}");
            return NO_DAEMON;
        }
    };
    match ask(addr) {
        Ok((status, data)) => {
            let (text, rc) = report::report(status, &data);
            let mut out = io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            rc
        }
        Err(Failure::Timeout) => {
            eprintln!("{NO_ANSWER}");
            NO_DAEMON
        }
        Err(Failure::Socket) => {
            eprintln!("{CANNOT_TALK}");
            NO_DAEMON
        }
        Err(Failure::ErrorReply(status)) => {
            eprintln!("error bit is set in reply (status word 0x{status:04x})");
            NO_DAEMON
        }
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
fn resolve(arg: &str) -> Result<SocketAddr, String> {
    let bad = || format!("bad host `{arg}': use HOST, HOST:PORT or [ADDRESS]:PORT");
    let (host, port) = if let Some(rest) = arg.strip_prefix('[') {
        let (inner, after) = rest.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (inner, None),
            p => (inner, Some(p.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else if arg.matches(':').count() == 1 {
        let (h, p) = arg.split_once(':').ok_or_else(bad)?;
        (h, Some(p))
    } else {
        (arg, None)
    };
    let port = match port {
        None => NTP_PORT,
        Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(bad)?,
    };
    if host.is_empty() {
        return Err(bad());
    }
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}: no address"))
}

enum Failure {
    Timeout,
    /// The request could not be sent or the reply read (nothing listens).
    Socket,
    /// The daemon answered with the error bit.
    ErrorReply(u16),
}

/// Sends READVAR for the system variables and collects the answer.
fn ask(addr: SocketAddr) -> Result<(u16, Vec<u8>), Failure> {
    let local: SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(local).map_err(|_| Failure::Socket)?;
    socket.connect(addr).map_err(|_| Failure::Socket)?;
    let request = ControlMessage::request(opcode::READVAR, SEQUENCE, 0, b"").to_vec();
    socket.send(&request).map_err(|_| Failure::Socket)?;
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    let mut buf = [0u8; RECEIVE_BUFFER];
    let mut reassembly = Reassembly::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::Timeout);
        }
        socket
            .set_read_timeout(Some(left))
            .map_err(|_| Failure::Socket)?;
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(_) => return Err(Failure::Socket),
        };
        let Ok(msg) = ControlMessage::decode(&buf[..n]) else {
            continue;
        };
        if !msg.response || msg.opcode != opcode::READVAR || msg.sequence != SEQUENCE {
            continue;
        }
        if msg.error {
            return Err(Failure::ErrorReply(msg.status));
        }
        if let Ok(Some(data)) = reassembly.add(&msg) {
            return Ok((reassembly.status, data));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_take_an_optional_port() {
        assert_eq!(
            resolve("127.0.0.1").unwrap(),
            "127.0.0.1:123".parse().unwrap()
        );
        assert_eq!(
            resolve("127.0.0.1:4123").unwrap(),
            "127.0.0.1:4123".parse().unwrap()
        );
        assert_eq!(resolve("[::1]:99").unwrap(), "[::1]:99".parse().unwrap());
        assert_eq!(resolve("::1").unwrap(), "[::1]:123".parse().unwrap());
        assert!(resolve("127.0.0.1:x").is_err());
        assert!(resolve("[::1").is_err());
    }
}
