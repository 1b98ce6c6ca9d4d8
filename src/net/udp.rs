//! A non-blocking UDP socket that hands back every datagram with the time it
//! arrived.

use std::io;
use std::mem::{size_of, size_of_val};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use socket2::{Domain, Protocol, Socket, Type};

use super::sys::{
    enable_kernel_timestamps, kernel_timestamp, set_flag, socket_addr_of, zeroed_plain,
};
use crate::proto::UnixTime;

/// Room for the control messages of one datagram: SCM_TIMESTAMPNS needs a
/// cmsghdr and a timespec (32 bytes on 64-bit Linux); the rest is slack for
/// anything else the kernel adds. Kept in u64s so it is aligned for cmsghdr.
const CONTROL_WORDS: usize = 32;

/// Where a receive timestamp came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxTimestamp {
    /// The kernel stamped the datagram when it queued it (SO_TIMESTAMPNS).
    Kernel,
    /// No kernel timestamp: clock_gettime right after recvmsg returned.
    AfterReceive,
}

/// One received datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// Bytes stored in the caller's buffer.
    pub len: usize,
    /// The datagram did not fit the buffer and was cut to `len` bytes.
    pub truncated: bool,
    pub from: SocketAddr,
    /// When it arrived, on CLOCK_REALTIME.
    pub time: UnixTime,
    pub source: RxTimestamp,
}

/// An ICMP error the kernel reported for a datagram we sent (IP_RECVERR),
/// e.g. "port unreachable" as `ConnectionRefused`.
#[derive(Debug)]
pub struct SendError {
    /// Where the datagram that failed was going.
    pub dest: SocketAddr,
    pub error: io::Error,
}

/// A UDP socket bound to one address family.
#[derive(Debug)]
pub struct UdpSocket {
    socket: Socket,
    kernel_timestamps: bool,
}

impl UdpSocket {
    /// Binds a non-blocking UDP socket to `addr` (port 0: any free port).
    ///
    /// An IPv6 socket is IPv6-only, so an IPv4 and an IPv6 socket can hold
    /// the same port side by side. SO_REUSEADDR is deliberately not set:
    /// binding a port another program holds fails with `AddrInUse`, which is
    /// how ntpdate notices a running ntpd.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        let kernel_timestamps = enable_kernel_timestamps(&socket).is_ok();
        // Best effort: without it, ICMP errors are simply not reported and
        // the requests they concern time out.
        let _ = enable_error_queue(&socket, addr.is_ipv6());
        Ok(UdpSocket {
            socket,
            kernel_timestamps,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP socket"))
    }

    /// Whether received datagrams carry kernel timestamps.
    pub fn kernel_timestamps(&self) -> bool {
        self.kernel_timestamps
    }

    pub fn send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.socket.send_to(buf, &to.into())
    }

    /// Receives one waiting datagram into `buf`, or fails with `WouldBlock`
    /// when none is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        let mut name: libc::sockaddr_storage = zeroed_plain();
        let mut control = [0u64; CONTROL_WORDS];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut msg: libc::msghdr = zeroed_plain();
        msg.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control) as _;

        // SAFETY: msg points to live buffers of the sizes it states.
        let n = unsafe { libc::recvmsg(self.socket.as_raw_fd(), &mut msg, 0) };
        let after = realtime_now();
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let from = socket_addr_of(&name).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "datagram from a non-IP address")
        })?;
        let (time, source) = match kernel_timestamp(&msg) {
            Some(t) => (t, RxTimestamp::Kernel),
            None => (after, RxTimestamp::AfterReceive),
        };
        Ok(Received {
            len: n as usize,
            truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
            from,
            time,
            source,
        })
    }
}

impl UdpSocket {
    /// Takes one queued ICMP error (MSG_ERRQUEUE), if any: which destination
    /// it concerns and what it means. A plain `recv` that fails with such an
    /// error (ECONNREFUSED, EHOSTUNREACH, ...) means one is queued.
    pub fn recv_error(&self) -> io::Result<Option<SendError>> {
        let mut name: libc::sockaddr_storage = zeroed_plain();
        let mut control = [0u64; CONTROL_WORDS];
        let mut payload = [0u8; 64];
        let mut iov = libc::iovec {
            iov_base: payload.as_mut_ptr().cast(),
            iov_len: payload.len(),
        };
        let mut msg: libc::msghdr = zeroed_plain();
        msg.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control) as _;
        // SAFETY: as in `recv`.
        let n = unsafe {
            libc::recvmsg(
                self.socket.as_raw_fd(),
                &mut msg,
                libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            return match err.kind() {
                io::ErrorKind::WouldBlock => Ok(None),
                _ => Err(err),
            };
        }
        let Some(dest) = socket_addr_of(&name) else {
            return Ok(None);
        };
        Ok(extended_errno(&msg).map(|errno| SendError {
            dest,
            error: io::Error::from_raw_os_error(errno),
        }))
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// CLOCK_REALTIME now. The same clock the kernel stamps datagrams with, so
/// transmit and receive times of one exchange are comparable.
pub fn realtime_now() -> UnixTime {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer; CLOCK_REALTIME always exists, so
    // the call cannot fail and its result need not be checked.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    UnixTime::new(ts.tv_sec, ts.tv_nsec as u32)
}

fn enable_error_queue(socket: &Socket, ipv6: bool) -> io::Result<()> {
    let (level, name) = if ipv6 {
        (libc::IPPROTO_IPV6, libc::IPV6_RECVERR)
    } else {
        (libc::IPPROTO_IP, libc::IP_RECVERR)
    };
    set_flag(socket, level, name)
}

/// The errno of the IP_RECVERR / IPV6_RECVERR control message, if any.
fn extended_errno(msg: &libc::msghdr) -> Option<i32> {
    // SAFETY: msg was filled in by a successful recvmsg; the CMSG_* helpers
    // stay within msg_control/msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            let c = &*cmsg;
            let is_error = (c.cmsg_level == libc::IPPROTO_IP && c.cmsg_type == libc::IP_RECVERR)
                || (c.cmsg_level == libc::IPPROTO_IPV6 && c.cmsg_type == libc::IPV6_RECVERR);
            if is_error {
                let ee: libc::sock_extended_err =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                return Some(ee.ee_errno as i32);
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    fn loopback(port: u16) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, port))
    }

    #[test]
    fn a_datagram_arrives_with_its_sender_and_a_timestamp_near_now() {
        let a = UdpSocket::bind(loopback(0)).unwrap();
        let b = UdpSocket::bind(loopback(0)).unwrap();
        let before = realtime_now();
        a.send_to(b"hello", b.local_addr().unwrap()).unwrap();
        assert!(crate::net::wait_readable(&[&b], Some(Duration::from_secs(2))).unwrap()[0]);
        let mut buf = [0u8; 64];
        let got = b.recv(&mut buf).unwrap();
        let after = realtime_now();
        assert_eq!(&buf[..got.len], b"hello");
        assert!(!got.truncated);
        assert_eq!(got.from, a.local_addr().unwrap());
        assert!(got.time >= before && got.time <= after, "{got:?}");
        if b.kernel_timestamps() {
            assert_eq!(got.source, RxTimestamp::Kernel);
        }
    }

    #[test]
    fn nothing_waiting_is_would_block() {
        let a = UdpSocket::bind(loopback(0)).unwrap();
        let err = a.recv(&mut [0u8; 8]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn a_port_in_use_cannot_be_bound_again() {
        let a = UdpSocket::bind(loopback(0)).unwrap();
        let err = UdpSocket::bind(a.local_addr().unwrap()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[test]
    fn port_unreachable_is_reported_with_its_destination() {
        let a = UdpSocket::bind(loopback(0)).unwrap();
        // A port that was free a moment ago: nothing listens there.
        let closed = UdpSocket::bind(loopback(0)).unwrap().local_addr().unwrap();
        a.send_to(b"anyone?", closed).unwrap();
        crate::net::wait_readable(&[&a], Some(Duration::from_secs(2))).unwrap();
        // The plain receive reports the error once...
        let err = a.recv(&mut [0u8; 8]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        // ...and the error queue says which destination it was.
        let queued = a.recv_error().unwrap().expect("a queued ICMP error");
        assert_eq!(queued.dest, closed);
        assert_eq!(queued.error.kind(), io::ErrorKind::ConnectionRefused);
        assert!(a.recv_error().unwrap().is_none());
    }

    #[test]
    fn an_oversized_datagram_is_marked_truncated() {
        let a = UdpSocket::bind(loopback(0)).unwrap();
        let b = UdpSocket::bind(loopback(0)).unwrap();
        a.send_to(&[7u8; 100], b.local_addr().unwrap()).unwrap();
        crate::net::wait_readable(&[&b], Some(Duration::from_secs(2))).unwrap();
        let got = b.recv(&mut [0u8; 10]).unwrap();
        assert!(got.truncated);
        assert_eq!(got.len, 10);
    }

    #[test]
    fn ipv6_loopback_works_when_the_host_has_it() {
        let Ok(a) = UdpSocket::bind("[::1]:0".parse().unwrap()) else {
            return; // no IPv6 on this host
        };
        let b = UdpSocket::bind("[::1]:0".parse().unwrap()).unwrap();
        a.send_to(b"v6", b.local_addr().unwrap()).unwrap();
        crate::net::wait_readable(&[&b], Some(Duration::from_secs(2))).unwrap();
        let got = b.recv(&mut [0u8; 8]).unwrap();
        assert_eq!(got.from, a.local_addr().unwrap());
    }
}
