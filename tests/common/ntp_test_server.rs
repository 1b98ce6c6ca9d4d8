//! A loopback NTP server for tests, with faults on request: a clock offset,
//! a wrong origin timestamp, kiss-o'-death codes, leap 3, any stratum,
//! silence, a slow path, and more.
//!
//! ```ignore
//! #[path = "common/ntp_test_server.rs"]
//! mod ntp_test_server;
//! use ntp_test_server::{Behaviour, TestServer};
//! let server = TestServer::start(Behaviour { offset: 2.5, ..Behaviour::default() });
//! // ntpdate -q -u <server.arg()>   (127.0.0.1:PORT)
//! ```
//!
//! It answers from its own thread until dropped, and counts the requests it
//! got, so tests can check how many samples a client took.
#![allow(dead_code)]

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use ntpbox::proto::{Header, Leap, Mode, NtpShort, NtpTimestamp, Packet, RefId, UnixTime};

/// How often the server thread looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(20);

/// What the server does with each request. Fields are public: build one
/// with struct update syntax from `Behaviour::default()` (a well-behaved
/// stratum 2 server with the host's time).
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// Seconds added to the host's clock for the server's timestamps.
    pub offset: f64,
    /// The reply leaves this long after the request arrived, while its
    /// timestamps say it was turned round at once: the client sees this as
    /// path delay.
    pub delay: Duration,
    pub stratum: u8,
    pub leap: Leap,
    /// Send a kiss-o'-death with this code (stratum 0, leap 3) instead of
    /// the time.
    pub kiss: Option<&'static str>,
    /// Echo a wrong origin timestamp.
    pub bad_origin: bool,
    /// Never answer.
    pub silent: bool,
    /// Answer only the first N requests, then nothing.
    pub answer_first: Option<usize>,
    /// Answer the first N requests normally, then with this kiss code.
    pub kiss_after: Option<(usize, &'static str)>,
    pub zero_transmit: bool,
    /// The reply's mode (normally 4, server).
    pub mode: Mode,
    /// The reply's version; None echoes the request's.
    pub version: Option<u8>,
    pub root_delay: f64,
    pub root_dispersion: f64,
    /// How long ago the server's clock was last set (its reference time).
    pub reference_age: f64,
    pub refid: [u8; 4],
    pub precision: i8,
}

impl Default for Behaviour {
    fn default() -> Behaviour {
        Behaviour {
            offset: 0.0,
            delay: Duration::ZERO,
            stratum: 2,
            leap: Leap::NoWarning,
            kiss: None,
            bad_origin: false,
            silent: false,
            answer_first: None,
            kiss_after: None,
            zero_transmit: false,
            mode: Mode::Server,
            version: None,
            root_delay: 0.0,
            root_dispersion: 0.001,
            reference_age: 16.0,
            refid: [127, 0, 0, 1],
            precision: -20,
        }
    }
}

/// A running test server; stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start(behaviour: Behaviour) -> TestServer {
        TestServer::start_on("127.0.0.1:0".parse().unwrap(), behaviour)
            .expect("bind a loopback UDP port for the test NTP server")
    }

    /// Starts a server on `addr` (port 0: a free one).
    pub fn start_on(addr: SocketAddr, behaviour: Behaviour) -> io::Result<TestServer> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_read_timeout(Some(STOP_POLL))?;
        let addr = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || serve(socket, behaviour, &stop, &requests))
        };
        Ok(TestServer {
            addr,
            stop,
            requests,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server as ntpdate takes it: `127.0.0.1:PORT` or `[::1]:PORT`.
    pub fn arg(&self) -> String {
        self.addr.to_string()
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves until `stop` is set, for tests that run the server as a process
/// of its own (the VM tests start one in the VM's network namespace).
pub fn serve_until(addr: SocketAddr, behaviour: Behaviour, stop: &AtomicBool) -> io::Result<()> {
    let socket = UdpSocket::bind(addr)?;
    socket.set_read_timeout(Some(STOP_POLL))?;
    serve(socket, behaviour, stop, &AtomicUsize::new(0));
    Ok(())
}

fn now(offset: f64) -> NtpTimestamp {
    NtpTimestamp::from_unix(UnixTime::from_system_time(SystemTime::now()).add_secs_f64(offset))
}

fn serve(socket: UdpSocket, b: Behaviour, stop: &AtomicBool, requests: &AtomicUsize) {
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::SeqCst) {
        let Ok((len, from)) = socket.recv_from(&mut buf) else {
            continue; // the read timeout: look at the stop flag again
        };
        let received = now(b.offset);
        let seen = requests.fetch_add(1, Ordering::SeqCst);
        let Ok(request) = Packet::decode(&buf[..len]) else {
            continue;
        };
        if request.header.mode != Mode::Client
            || b.silent
            || b.answer_first.is_some_and(|n| seen >= n)
        {
            continue;
        }
        let kiss = match b.kiss_after {
            Some((n, code)) if seen >= n => Some(code),
            _ => b.kiss,
        };
        let reply = reply_to(&request.header, &b, kiss, received);
        if !b.delay.is_zero() {
            std::thread::sleep(b.delay);
        }
        let _ = socket.send_to(&Packet::new(reply).to_vec(), from);
    }
}

fn reply_to(
    request: &Header,
    b: &Behaviour,
    kiss: Option<&'static str>,
    received: NtpTimestamp,
) -> Header {
    let mut origin = request.transmit_ts;
    if b.bad_origin {
        origin = NtpTimestamp::from_bits(origin.bits() ^ 0x0000_0001_0000_0000);
    }
    let transmit = if b.zero_transmit {
        NtpTimestamp::ZERO
    } else if b.delay.is_zero() {
        now(b.offset)
    } else {
        received // turned round at once, as far as the timestamps say
    };
    let mut reply = Header {
        leap: b.leap,
        version: b.version.unwrap_or(request.version),
        mode: b.mode,
        stratum: b.stratum,
        poll: request.poll,
        precision: b.precision,
        root_delay: NtpShort::from_secs_f64(b.root_delay),
        root_dispersion: NtpShort::from_secs_f64(b.root_dispersion),
        reference_id: RefId(b.refid),
        reference_ts: received.add_secs_f64(-b.reference_age),
        origin_ts: origin,
        receive_ts: received,
        transmit_ts: transmit,
    };
    if let Some(code) = kiss {
        reply.leap = Leap::Unsynchronized;
        reply.stratum = 0;
        reply.reference_id = RefId::from_ascii(code);
        reply.reference_ts = NtpTimestamp::ZERO;
    }
    reply
}
