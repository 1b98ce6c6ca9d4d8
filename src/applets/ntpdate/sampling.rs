//! Querying every server at once: one poll loop over (at most) one socket
//! per address family. Each server gets its next request as soon as the
//! previous one is answered or timed out, until it has had its samples.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::auth::{Auth, Unauthentic};
use crate::auth::MAX_MAC_FIELD_LEN;
use crate::net::{self, Received, UdpSocket};
use crate::proto::onwire::{self, Exchange, NotOurReply, Unusable};
use crate::proto::{Header, KissCode, Leap, NtpTimestamp, Packet, PacketError};

/// Large enough for any reply with extension fields and a MAC; anything
/// longer is not an NTP reply to a 48-byte request.
const RECV_BUFFER: usize = 1024;
/// The header length of a request: no extension fields; a MAC with -a.
const REQUEST_LEN: usize = 48;
/// Datagrams read from one socket before looking at the timers again, so a
/// flood cannot keep the loop from its deadlines.
const MAX_READS_PER_WAKEUP: usize = 256;

/// One usable exchange.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub exchange: Exchange,
    pub offset: f64,
    pub delay: f64,
    pub root_distance: f64,
    /// The reply it came from: stratum, leap, precision, reference...
    pub reply: Header,
}

/// Why a server stopped being asked before it had all its samples.
#[derive(Clone, Debug)]
pub enum Stop {
    /// It sent a DENY, RSTR or RATE kiss-o'-death.
    Kiss(KissCode),
    /// Requests to it could not be sent.
    SendFailed(String),
}

/// One address being queried, and what came of it.
#[derive(Clone, Debug)]
pub struct Server {
    pub addr: SocketAddr,
    /// Requests sent.
    pub sent: u32,
    /// Requests that got no answer in time.
    pub timeouts: u32,
    /// Requests an ICMP error answered (port or host unreachable), and the
    /// last such error.
    pub unreachable: u32,
    pub unreachable_error: Option<String>,
    /// Usable samples, in arrival order.
    pub samples: Vec<Sample>,
    /// The last reply that matched a request, usable or not.
    pub last_reply: Option<Header>,
    /// Why the last unusable reply was unusable.
    pub rejected: Option<Unusable>,
    /// Why the last datagram from this address that was not a reply to our
    /// request was dropped (e.g. a wrong origin timestamp).
    pub ignored: Option<String>,
    /// With -a: why the last reply that failed authentication failed.
    pub unauthentic: Option<Unauthentic>,
    /// Classic's trust register: one bit per reply, newest lowest, set
    /// when the reply failed authentication (-d prints it in octal).
    pub trust: u8,
    pub stopped: Option<Stop>,
    pending: Option<Pending>,
    done: bool,
}

/// The request in flight to a server.
#[derive(Clone, Copy, Debug)]
struct Pending {
    /// What the request carried as its transmit timestamp, which the reply
    /// must echo: a random value, so that only someone who saw the request
    /// can answer it, and our clock is not disclosed.
    cookie: NtpTimestamp,
    /// Our clock when the request left.
    t1: NtpTimestamp,
    deadline: Instant,
}

impl Server {
    pub fn new(addr: SocketAddr) -> Server {
        Server {
            addr,
            sent: 0,
            timeouts: 0,
            unreachable: 0,
            unreachable_error: None,
            samples: Vec::new(),
            last_reply: None,
            rejected: None,
            ignored: None,
            unauthentic: None,
            trust: 0,
            stopped: None,
            pending: None,
            done: false,
        }
    }
}

/// What happened, for -d.
#[derive(Debug)]
pub enum Event<'a> {
    Transmit {
        server: &'a Server,
    },
    /// A datagram that is not the answer to a request of ours.
    Ignored {
        from: SocketAddr,
        why: Ignored,
    },
    Accepted {
        server: &'a Server,
        sample: &'a Sample,
    },
    Rejected {
        server: &'a Server,
        exchange: Option<Exchange>,
        why: Unusable,
    },
    /// With -a: a reply to our request that is not signed with our key.
    Unauthentic {
        server: &'a Server,
        why: Unauthentic,
    },
    Timeout {
        server: &'a Server,
    },
    /// An ICMP error answered the request.
    Unreachable {
        server: &'a Server,
        error: &'a str,
    },
}

/// Why a datagram was dropped.
#[derive(Debug)]
pub enum Ignored {
    UnknownSender,
    NothingOutstanding,
    Malformed(PacketError),
    NotOurs(NotOurReply),
}

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ignored::UnknownSender => f.write_str("not from a server we asked"),
            Ignored::NothingOutstanding => f.write_str("no request outstanding (duplicate?)"),
            Ignored::Malformed(e) => write!(f, "malformed: {e}"),
            Ignored::NotOurs(e) => e.fmt(f),
        }
    }
}

/// How to query.
#[derive(Clone, Copy, Debug)]
pub struct Plan<'a> {
    pub samples: u8,
    pub timeout: Duration,
    pub version: u8,
    /// -a: the key requests are signed with and replies checked against.
    pub auth: Option<&'a Auth>,
}

/// The sockets requests go out on: one per address family in use.
#[derive(Debug)]
pub struct Sockets {
    v4: Option<UdpSocket>,
    v6: Option<UdpSocket>,
}

impl Sockets {
    /// Opens a socket for each family among `servers`, bound to `port` on
    /// the wildcard address (0: any free port). A family this host cannot
    /// use (no IPv6, say) is left out, and its servers fail to send, as long
    /// as the other family works; a port in use or a port refused is always
    /// an error.
    pub fn open(servers: &[Server], port: u16) -> io::Result<Sockets> {
        let wanted = |v6: bool| servers.iter().any(|s| s.addr.is_ipv6() == v6);
        let bind = |ip: IpAddr| UdpSocket::bind(SocketAddr::new(ip, port));
        let v4 = wanted(false).then(|| bind(Ipv4Addr::UNSPECIFIED.into()));
        let v6 = wanted(true).then(|| bind(Ipv6Addr::UNSPECIFIED.into()));
        let is_fatal = |e: &io::Error| {
            matches!(
                e.kind(),
                io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied
            )
        };
        let fatal = |r: &Option<io::Result<UdpSocket>>| matches!(r, Some(Err(e)) if is_fatal(e));
        let usable = |r: &Option<io::Result<UdpSocket>>| matches!(r, Some(Ok(_)));
        if fatal(&v4) || fatal(&v6) || !(usable(&v4) || usable(&v6)) {
            let errors: Vec<io::Error> = [v4, v6]
                .into_iter()
                .flatten()
                .filter_map(Result::err)
                .collect();
            let pick = errors.iter().position(is_fatal).unwrap_or(0);
            return Err(errors.into_iter().nth(pick).unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "no server to ask")
            }));
        }
        Ok(Sockets {
            v4: v4.and_then(Result::ok),
            v6: v6.and_then(Result::ok),
        })
    }

    fn for_addr(&self, addr: SocketAddr) -> Option<&UdpSocket> {
        if addr.is_ipv4() {
            self.v4.as_ref()
        } else {
            self.v6.as_ref()
        }
    }

    fn all(&self) -> Vec<&UdpSocket> {
        self.v4.iter().chain(self.v6.iter()).collect()
    }
}

/// Queries every server until each has had `plan.samples` requests
/// answered or timed out, or has been told to stop. `observe` sees each
/// step (for -d).
pub fn run(
    sockets: &Sockets,
    servers: &mut [Server],
    plan: Plan<'_>,
    observe: &mut dyn FnMut(Event),
) -> io::Result<()> {
    let mut buf = [0u8; RECV_BUFFER];
    for server in servers.iter_mut() {
        send_next(sockets, server, plan, observe);
    }
    let socks = sockets.all();
    while let Some(deadline) = servers
        .iter()
        .filter_map(|s| s.pending.map(|p| p.deadline))
        .min()
    {
        let wait = deadline.saturating_duration_since(Instant::now());
        let ready = net::wait_readable(&socks, Some(wait))?;
        for (sock, _) in socks.iter().zip(ready).filter(|(_, r)| *r) {
            for _ in 0..MAX_READS_PER_WAKEUP {
                match sock.recv(&mut buf) {
                    Ok(got) => handle(sockets, servers, &buf[..got.len], got, plan, observe),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    // EINTR, or an ICMP error reported once (it waits in the
                    // error queue, read below): keep reading.
                    Err(_) => continue,
                }
            }
            while let Ok(Some(failed)) = sock.recv_error() {
                unreachable(sockets, servers, failed, plan, observe);
            }
        }
        let now = Instant::now();
        for server in servers.iter_mut() {
            if server.pending.is_some_and(|p| p.deadline <= now) {
                server.pending = None;
                server.timeouts += 1;
                observe(Event::Timeout { server });
                send_next(sockets, server, plan, observe);
            }
        }
    }
    Ok(())
}

fn send_next(
    sockets: &Sockets,
    server: &mut Server,
    plan: Plan<'_>,
    observe: &mut dyn FnMut(Event),
) {
    if server.done || server.sent >= plan.samples as u32 {
        server.done = true;
        return;
    }
    let Some(sock) = sockets.for_addr(server.addr) else {
        server.stopped = Some(Stop::SendFailed("no socket for its address family".into()));
        server.done = true;
        return;
    };
    let cookie = random_cookie();
    let request = Header {
        // We are not synchronised: say so, as classic ntpdate does.
        leap: Leap::Unsynchronized,
        ..Header::client_request(plan.version, cookie)
    };
    let mut header = [0u8; REQUEST_LEN];
    // The buffer holds a bare header exactly, so encoding cannot fail.
    let _ = Packet::new(request).encode_into(&mut header);
    let mut signed = [0u8; REQUEST_LEN + MAX_MAC_FIELD_LEN];
    let bytes = match plan.auth {
        Some(auth) => {
            let len = auth.sign(&header, &mut signed);
            &signed[..len]
        }
        None => &header[..],
    };
    let t1 = NtpTimestamp::from_unix(net::realtime_now());
    match sock.send_to(bytes, server.addr) {
        // A full send queue loses this request like the network might: it
        // times out and the next one follows. ECONNREFUSED is an earlier
        // ICMP error reported late; it says nothing about this request.
        Ok(_) => {}
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) | Some(libc::ECONNREFUSED)
            ) => {}
        Err(e) => {
            server.stopped = Some(Stop::SendFailed(e.to_string()));
            server.done = true;
            return;
        }
    }
    server.sent += 1;
    server.pending = Some(Pending {
        cookie,
        t1,
        deadline: Instant::now() + plan.timeout,
    });
    observe(Event::Transmit { server });
}

fn handle(
    sockets: &Sockets,
    servers: &mut [Server],
    bytes: &[u8],
    got: Received,
    plan: Plan<'_>,
    observe: &mut dyn FnMut(Event),
) {
    let from = got.from;
    let Some(server) = servers
        .iter_mut()
        .find(|s| s.addr.ip() == from.ip() && s.addr.port() == from.port())
    else {
        return observe(Event::Ignored {
            from,
            why: Ignored::UnknownSender,
        });
    };
    let verdict = match (server.pending, Packet::decode(bytes)) {
        (None, _) => Err(Ignored::NothingOutstanding),
        (_, Err(e)) => Err(Ignored::Malformed(e)),
        (Some(pending), Ok(p)) => onwire::match_reply(&p.header, pending.cookie)
            .map(|()| (pending, p.header))
            .map_err(Ignored::NotOurs),
    };
    let (pending, reply) = match verdict {
        Ok(ours) => ours,
        Err(why) => {
            if !matches!(why, Ignored::NothingOutstanding) {
                server.ignored = Some(why.to_string());
            }
            return observe(Event::Ignored { from, why });
        }
    };
    server.pending = None;
    let checked = plan.auth.map(|auth| auth.check(bytes));
    server.trust = (server.trust << 1) | u8::from(matches!(checked, Some(Err(_))));
    if let Some(Err(why)) = checked {
        // Answered, but not by someone holding our key: no sample, and
        // nothing it says (a kiss code either) is believed.
        server.unauthentic = Some(why);
        observe(Event::Unauthentic { server, why });
        return send_next(sockets, server, plan, observe);
    }
    server.last_reply = Some(reply);
    let exchange = Exchange {
        t1: pending.t1,
        t2: reply.receive_ts,
        t3: reply.transmit_ts,
        t4: NtpTimestamp::from_unix(got.time),
    };
    match usable_sample(&reply, exchange) {
        Ok(sample) => {
            server.samples.push(sample);
            observe(Event::Accepted {
                server,
                sample: &sample,
            });
        }
        Err(why) => {
            server.rejected = Some(why);
            let shown = matches!(why, Unusable::RootDistance(_)).then_some(exchange);
            observe(Event::Rejected {
                server,
                exchange: shown,
                why,
            });
            if let Unusable::Kiss(code @ (KissCode::Deny | KissCode::Rstr | KissCode::Rate)) = why {
                // RFC 5905 §7.4: stop sending to this server. After DENY or
                // RSTR nothing it said before counts either.
                if code != KissCode::Rate {
                    server.samples.clear();
                }
                server.stopped = Some(Stop::Kiss(code));
                server.done = true;
            }
        }
    }
    send_next(sockets, server, plan, observe);
}

/// An ICMP error for a request: that request is over (no need to wait out
/// its timeout), and the next one goes. The server is not dropped for it:
/// ICMP is easily forged, so it only ever ends one request.
fn unreachable(
    sockets: &Sockets,
    servers: &mut [Server],
    failed: net::SendError,
    plan: Plan<'_>,
    observe: &mut dyn FnMut(Event),
) {
    let dest = failed.dest;
    let Some(server) = servers
        .iter_mut()
        .find(|s| s.addr.ip() == dest.ip() && s.addr.port() == dest.port() && s.pending.is_some())
    else {
        return;
    };
    let text = failed.error.to_string();
    // "Connection refused (os error 111)": the words are enough.
    let text = match text.rfind(" (os error ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    };
    server.pending = None;
    server.unreachable += 1;
    observe(Event::Unreachable {
        server,
        error: &text,
    });
    server.unreachable_error = Some(text);
    send_next(sockets, server, plan, observe);
}

fn usable_sample(reply: &Header, exchange: Exchange) -> Result<Sample, Unusable> {
    onwire::check_header(reply)?;
    let delay = exchange.delay();
    // The server's read-out granularity adds to the error of the sample;
    // a positive precision is nonsense and counts as one second.
    let precision = 2f64.powi(reply.precision.min(0) as i32);
    let root_distance = onwire::check_root_distance(reply, delay.max(0.0), precision)?;
    Ok(Sample {
        exchange,
        offset: exchange.offset(),
        delay,
        root_distance,
        reply: *reply,
    })
}

/// 64 random bits for a request's transmit timestamp (never zero, which
/// means "no timestamp").
fn random_cookie() -> NtpTimestamp {
    let mut bits = [0u8; 8];
    // SAFETY: bits is a valid 8-byte buffer.
    let n = unsafe { libc::getrandom(bits.as_mut_ptr().cast(), bits.len(), 0) };
    let mut value = u64::from_ne_bytes(bits);
    if n != bits.len() as isize {
        // No getrandom (very old kernel): the time is still unique per
        // request, which is all matching replies needs.
        value = NtpTimestamp::from_unix(net::realtime_now()).bits();
    }
    NtpTimestamp::from_bits(value.max(1))
}
