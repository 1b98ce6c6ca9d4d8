//! One mode 6 conversation with one host: send a request, collect the
//! fragments of its response, retry once on silence, as classic ntpq does
//! (`doquery`/`getresponse`), with its messages on stderr.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::auth::Signer;
use super::host::{Family, HostError, HostSpec};
use crate::proto::control::{ControlMessage, Reassembly, ReassemblyError};

/// How long to wait for the first fragment of a response (ntpq: 5 s, the
/// `timeout` command changes it).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for each further fragment (ntpq's DEFSTIMEOUT).
pub const FRAGMENT_TIMEOUT: Duration = Duration::from_secs(3);
/// The NTP version ntpq claims in its requests (2, so that old servers
/// answer too; `ntpversion` changes it).
pub const DEFAULT_VERSION: u8 = 2;
/// Room for the largest datagram a server may send (a fragment is at most
/// 12 + 468 bytes plus a MAC, but a confused server may send more).
const RECEIVE_BUFFER: usize = 2048;
/// The name ntpq's warnings start with, whatever argv[0] was.
const PROGRAM: &str = "ntpq";

/// Why a query produced no data. The session has already printed what
/// classic ntpq prints at that level; `describe` gives the `***` line.
#[derive(Debug)]
pub enum QueryError {
    /// Nothing arrived, twice.
    Timeout,
    /// Some fragments arrived, but not all, twice.
    Incomplete,
    /// The server answered with the E bit and this error code.
    Server(u8),
    /// More fragments than any response may have.
    TooMuch,
    /// A socket error, already reported (`ntpq: read: Connection refused`).
    Io,
}

impl QueryError {
    /// ntpq's `show_error_msg` line for this error, if it has one.
    pub fn describe(&self, association: u16) -> Option<String> {
        use crate::proto::control::error_code as code;
        Some(match self {
            QueryError::Timeout => "***Request timed out".to_string(),
            QueryError::Incomplete => "***Response from server was incomplete".to_string(),
            QueryError::TooMuch => "***Buffer size exceeded for returned data".to_string(),
            QueryError::Io => return None,
            QueryError::Server(c) => match u16::from(*c) {
                code::UNSPEC => "***Server returned an unspecified error".to_string(),
                code::PERMISSION => "***Server disallowed request (authentication?)".to_string(),
                code::BADFMT => "***Server reports a bad format request packet".to_string(),
                code::BADOP => "***Server reports a bad opcode in request".to_string(),
                code::BADASSOC => format!("***Association ID {association} unknown to server"),
                code::UNKNOWNVAR => "***A request variable unknown to the server".to_string(),
                code::BADVALUE => "***Server indicates a request variable was bad".to_string(),
                other => format!("***Server returns unknown error code {other}"),
            },
        })
    }
}

/// The reassembled answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub data: Vec<u8>,
}

/// What one attempt at receiving a response ended with.
enum Attempt {
    Done(Response),
    Failed(QueryError),
    /// The host refused (ICMP port unreachable): the socket error.
    Refused(io::Error),
}

pub struct Session {
    socket: UdpSocket,
    addrs: Vec<SocketAddr>,
    current: usize,
    /// How messages name the host (`localhost: timed out, ...`).
    pub name: String,
    sequence: u16,
    /// Timeout for the first fragment.
    pub timeout: Duration,
    /// `-d` count: trace packets on stderr.
    pub debug: u32,
    /// The version number put in requests.
    pub version: u8,
}

impl Session {
    /// Resolves and connects (a UDP connect: nothing is sent yet).
    pub fn open(spec: &HostSpec, family: Family) -> Result<Session, OpenError> {
        let addrs = spec.resolve(family).map_err(OpenError::Host)?;
        let socket = connect(addrs[0]).map_err(OpenError::Socket)?;
        Ok(Session {
            socket,
            addrs,
            current: 0,
            name: spec.display(),
            sequence: 0,
            timeout: DEFAULT_TIMEOUT,
            debug: 0,
            version: DEFAULT_VERSION,
        })
    }

    /// The address now in use.
    pub fn peer_addr(&self) -> SocketAddr {
        self.addrs[self.current]
    }

    /// Sends a request and returns the whole response. On silence or an
    /// incomplete answer it asks once more, and only then reports, as
    /// ntpq does.
    pub fn query(
        &mut self,
        opcode: u8,
        association: u16,
        data: &[u8],
        signer: Option<&Signer>,
    ) -> Result<Response, QueryError> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut last_try = false;
        loop {
            let attempt = match self.send(opcode, association, data, signer) {
                Ok(()) => self.receive(opcode, last_try),
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Attempt::Refused(e),
                Err(e) => {
                    eprintln!("{PROGRAM}: write to {} failed: {}", self.name, words(&e));
                    return Err(QueryError::Io);
                }
            };
            match attempt {
                Attempt::Done(r) => return Ok(r),
                Attempt::Refused(e) => {
                    // "localhost" may be ::1 and 127.0.0.1: a daemon that
                    // listens on only one of them still gets asked.
                    if self.current + 1 < self.addrs.len() && self.reconnect().is_ok() {
                        continue;
                    }
                    eprintln!("{PROGRAM}: read: {}", words(&e));
                    return Err(QueryError::Io);
                }
                Attempt::Failed(e @ (QueryError::Timeout | QueryError::Incomplete))
                    if !last_try =>
                {
                    // After partial data a new sequence number keeps late
                    // fragments of the first answer out of the second.
                    if matches!(e, QueryError::Incomplete) {
                        self.sequence = self.sequence.wrapping_add(1);
                    }
                    last_try = true;
                }
                Attempt::Failed(e) => return Err(e),
            }
        }
    }

    fn reconnect(&mut self) -> io::Result<()> {
        self.current += 1;
        self.socket = connect(self.addrs[self.current])?;
        Ok(())
    }

    fn send(
        &self,
        opcode: u8,
        association: u16,
        data: &[u8],
        signer: Option<&Signer>,
    ) -> io::Result<()> {
        let mut request = ControlMessage {
            version: self.version,
            ..ControlMessage::request(opcode, self.sequence, association, data)
        }
        .to_vec();
        if let Some(signer) = signer {
            signer.sign(&mut request);
        }
        if self.debug > 0 {
            eprintln!(
                "sending {} octets: opcode {opcode} sequence {} associd {association} to {}",
                request.len(),
                self.sequence,
                self.peer_addr()
            );
        }
        self.socket.send(&request).map(|_| ())
    }

    fn receive(&self, opcode: u8, report: bool) -> Attempt {
        let mut buf = [0u8; RECEIVE_BUFFER];
        let mut reassembly = Reassembly::new();
        let mut fragments = 0usize;
        let mut deadline = Instant::now() + self.timeout;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Attempt::Failed(self.timed_out(fragments, report));
            }
            if let Err(e) = self.socket.set_read_timeout(Some(deadline - now)) {
                eprintln!("{PROGRAM}: setsockopt: {}", words(&e));
                return Attempt::Failed(QueryError::Io);
            }
            let n = match self.socket.recv(&mut buf) {
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
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    return Attempt::Refused(e)
                }
                Err(e) => {
                    eprintln!("{PROGRAM}: read: {}", words(&e));
                    return Attempt::Failed(QueryError::Io);
                }
            };
            let msg = match ControlMessage::decode(&buf[..n]) {
                Ok(m) => m,
                Err(e) => {
                    self.trace(format_args!("ignoring a {n}-octet packet: {e}"));
                    continue;
                }
            };
            if !msg.response || msg.sequence != self.sequence || msg.opcode != opcode {
                self.trace(format_args!(
                    "ignoring a packet with opcode {} sequence {} (want {opcode}, {})",
                    msg.opcode, msg.sequence, self.sequence
                ));
                continue;
            }
            if msg.error {
                // ntpd puts the error code in the high byte of the status.
                return Attempt::Failed(QueryError::Server((msg.status >> 8) as u8));
            }
            self.trace(format_args!(
                "fragment: offset {} count {} more {}",
                msg.offset,
                msg.data.len(),
                msg.more
            ));
            match reassembly.add(&msg) {
                Ok(Some(data)) => {
                    return Attempt::Done(Response {
                        status: reassembly.status,
                        data,
                    })
                }
                Ok(None) => {
                    fragments += 1;
                    deadline = Instant::now() + FRAGMENT_TIMEOUT;
                }
                Err(ReassemblyError::TooLarge) => return Attempt::Failed(QueryError::TooMuch),
                Err(e) => self.trace(format_args!("ignoring a fragment: {e}")),
            }
        }
    }

    fn timed_out(&self, fragments: usize, report: bool) -> QueryError {
        if fragments == 0 {
            if report {
                eprintln!("{}: timed out, nothing received", self.name);
            }
            QueryError::Timeout
        } else {
            if report {
                eprintln!("{}: timed out with incomplete data", self.name);
            }
            QueryError::Incomplete
        }
    }

    fn trace(&self, what: std::fmt::Arguments<'_>) {
        if self.debug > 0 {
            eprintln!("{what}");
        }
    }
}

#[derive(Debug)]
pub enum OpenError {
    Host(HostError),
    Socket(io::Error),
}

fn connect(addr: SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = if addr.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(addr)?;
    Ok(socket)
}

/// strerror's words for an I/O error, without Rust's "(os error N)".
pub fn words(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let text = e.to_string();
            let suffix = format!(" (os error {code})");
            text.strip_suffix(&suffix).unwrap_or(&text).to_string()
        }
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_error_codes_have_ntpqs_words() {
        let d = |e: QueryError| e.describe(17767).unwrap();
        assert_eq!(d(QueryError::Timeout), "***Request timed out");
        assert_eq!(
            d(QueryError::Server(4)),
            "***Association ID 17767 unknown to server"
        );
        assert_eq!(
            d(QueryError::Server(1)),
            "***Server disallowed request (authentication?)"
        );
        assert_eq!(
            d(QueryError::Server(99)),
            "***Server returns unknown error code 99"
        );
        assert!(QueryError::Io.describe(0).is_none());
    }

    #[test]
    fn os_errors_read_like_strerror() {
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(words(&e), "Connection refused");
    }
}
