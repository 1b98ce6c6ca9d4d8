//! A scripted mode 6 server for the ntpq and ntpstat tests: a thread with
//! a UDP socket that answers each request with what the test's script
//! says (data cut into fragments as ntpd cuts them, an error code, or
//! silence), and records the requests it saw.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ntpbox::proto::control::{fragments, ControlMessage, MAX_FRAGMENT_DATA};

/// How often the thread looks at its stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Seconds from 1900 (NTP) to 1970 (Unix).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// A request as the responder received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub version: u8,
    pub opcode: u8,
    pub sequence: u16,
    pub association: u16,
    pub data: Vec<u8>,
    /// Length of the whole datagram.
    pub len: usize,
    /// The whole datagram (for checking a MAC).
    pub raw: Vec<u8>,
}

impl Request {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// What to answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Data with this status word, in fragments of at most `max` bytes.
    Data { status: u16, data: Vec<u8> },
    /// The E bit with this error code (in the status word's high byte).
    Error(u8),
    /// No answer at all.
    Silent,
}

impl Reply {
    pub fn data(status: u16, data: &[u8]) -> Reply {
        Reply::Data {
            status,
            data: data.to_vec(),
        }
    }
}

pub type Script = Box<dyn Fn(&Request) -> Reply + Send>;

/// How fragments go out.
#[derive(Clone, Copy, Debug, Default)]
pub struct Delivery {
    /// Largest fragment (default: ntpd's 468).
    pub fragment: usize,
    /// Send the fragments last first, and the first one twice.
    pub shuffle: bool,
}

pub struct Responder {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Request>>>,
    thread: Option<JoinHandle<()>>,
}

impl Responder {
    /// On 127.0.0.1, a free port.
    pub fn start(script: Script) -> Responder {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the responder");
        Responder::on(socket, script, Delivery::default())
    }

    /// On a socket the test made (in a namespace, on port 123, ...).
    pub fn on(socket: UdpSocket, script: Script, delivery: Delivery) -> Responder {
        socket.set_read_timeout(Some(POLL)).unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let stop = Arc::clone(&stop);
            let requests = Arc::clone(&requests);
            std::thread::spawn(move || serve(socket, script, delivery, stop, requests))
        };
        Responder {
            addr,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT` as ntpq takes it.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    socket: UdpSocket,
    script: Script,
    delivery: Delivery,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Request>>>,
) {
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Ok(msg) = ControlMessage::decode(&buf[..n]) else {
            continue;
        };
        let request = Request {
            version: msg.version,
            opcode: msg.opcode,
            sequence: msg.sequence,
            association: msg.association_id,
            data: msg.data.to_vec(),
            len: n,
            raw: buf[..n].to_vec(),
        };
        requests.lock().unwrap().push(request.clone());
        let base = ControlMessage {
            response: true,
            version: msg.version,
            ..ControlMessage::request(msg.opcode, msg.sequence, msg.association_id, b"")
        };
        match script(&request) {
            Reply::Silent => {}
            Reply::Error(code) => {
                let reply = ControlMessage {
                    error: true,
                    status: u16::from(code) << 8,
                    ..base
                };
                let _ = socket.send_to(&reply.to_vec(), from);
            }
            Reply::Data { status, data } => {
                let max = if delivery.fragment == 0 {
                    MAX_FRAGMENT_DATA
                } else {
                    delivery.fragment
                };
                let mut packets: Vec<Vec<u8>> = fragments(&data, max)
                    .map(|(offset, chunk, more)| {
                        ControlMessage {
                            status,
                            more,
                            offset: offset as u16,
                            data: chunk,
                            ..base
                        }
                        .to_vec()
                    })
                    .collect();
                if delivery.shuffle && packets.len() > 1 {
                    let first = packets[0].clone();
                    packets.reverse();
                    packets.push(first);
                }
                for p in packets {
                    let _ = socket.send_to(&p, from);
                }
            }
        }
    }
}

/// The NTP seconds of now.
pub fn ntp_secs_now() -> u32 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    (now.as_secs() + NTP_UNIX_OFFSET) as u32
}

/// A whole-second NTP timestamp as ntpd writes them.
pub fn ntp_ts(secs: u32) -> String {
    format!("0x{secs:08x}.00000000")
}

/// The NTP timestamp `age` seconds before now, whole seconds, as ntpd
/// writes timestamps (`0xeeacaf3c.00000000`).
pub fn ntp_seconds_ago(age: u64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let secs = (now.as_secs() + NTP_UNIX_OFFSET - age) as u32;
    format!("0x{secs:08x}.00000000")
}
