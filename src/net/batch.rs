//! Batched UDP for a busy server: many datagrams per system call with
//! recvmmsg(2) and sendmmsg(2), each received datagram carrying the kernel's
//! receive timestamp (SO_TIMESTAMPNS), and no allocation after setup.
//!
//! `ServerSocket` binds the way classic ntpd does (SO_REUSEADDR, so the
//! wildcard and each interface address can share the port; IPV6_V6ONLY, so
//! the v4 and v6 wildcards do not collide) and never blocks: the daemon
//! waits in poll(2) and drains each ready socket in batches.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use socket2::{Domain, Protocol, Socket, Type};

use super::sys::{enable_kernel_timestamps, kernel_timestamp, socket_addr_of, write_sockaddr};
use crate::proto::UnixTime;

/// Room for any NTP packet we accept (header, extension fields, MAC) and
/// then some: a datagram larger than this is flagged truncated.
pub const RECV_BUF_LEN: usize = 2048;
/// The largest reply the server sends: the header and a MAC field (key ID
/// and a MAC of up to 20 bytes), with room to spare.
pub const SEND_BUF_LEN: usize = 96;
/// Control buffer for one SCM_TIMESTAMPNS (a timespec) with headroom.
const CMSG_BUF_LEN: usize = 64;

/// A non-blocking UDP socket bound for serving.
pub struct ServerSocket {
    fd: OwnedFd,
    local: SocketAddr,
    kernel_timestamps: bool,
}

impl ServerSocket {
    pub fn bind(addr: SocketAddr) -> io::Result<ServerSocket> {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_reuse_address(true)?;
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.set_nonblocking(true)?;
        let kernel_timestamps = enable_kernel_timestamps(&socket).is_ok();
        socket.bind(&addr.into())?;
        let local = socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("bound socket has no IP address"))?;
        Ok(ServerSocket {
            fd: socket.into(),
            local,
            kernel_timestamps,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether datagrams carry the kernel's receive timestamp.
    pub fn kernel_timestamps(&self) -> bool {
        self.kernel_timestamps
    }

    /// Sends one datagram of any size (control replies, the engine's own
    /// packets): the rare path, beside the batched replies.
    pub fn send_to(&self, bytes: &[u8], to: SocketAddr) -> io::Result<usize> {
        let addr = socket2::SockAddr::from(to);
        // SAFETY: bytes and addr are valid for the lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_DONTWAIT,
                addr.as_ptr().cast(),
                addr.len(),
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

impl AsRawFd for ServerSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// One received datagram, borrowed from a `RecvBatch`.
pub struct Datagram<'a> {
    pub bytes: &'a [u8],
    pub from: Option<SocketAddr>,
    /// The kernel's receive timestamp, when the socket has them.
    pub kernel_rx: Option<UnixTime>,
    /// Larger than the buffer: the tail was cut off.
    pub truncated: bool,
}

/// Buffers for receiving up to `capacity` datagrams in one recvmmsg.
pub struct RecvBatch {
    bufs: Vec<[u8; RECV_BUF_LEN]>,
    addrs: Vec<libc::sockaddr_storage>,
    cmsgs: Vec<[u8; CMSG_BUF_LEN]>,
    iovecs: Vec<libc::iovec>,
    msgs: Vec<libc::mmsghdr>,
    count: usize,
}

impl RecvBatch {
    pub fn new(capacity: usize) -> RecvBatch {
        let capacity = capacity.max(1);
        RecvBatch {
            bufs: vec![[0; RECV_BUF_LEN]; capacity],
            // SAFETY: sockaddr_storage, iovec and mmsghdr are plain C data
            // for which all-zero is valid.
            addrs: vec![unsafe { zeroed() }; capacity],
            cmsgs: vec![[0; CMSG_BUF_LEN]; capacity],
            iovecs: vec![unsafe { zeroed() }; capacity],
            msgs: vec![unsafe { zeroed() }; capacity],
            count: 0,
        }
    }

    /// Receives what is queued, up to the capacity, without blocking.
    /// Returns the number of datagrams; 0 when nothing was waiting.
    pub fn recv(&mut self, socket: &ServerSocket) -> io::Result<usize> {
        self.count = 0;
        for i in 0..self.bufs.len() {
            self.iovecs[i] = libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: RECV_BUF_LEN,
            };
            let hdr = &mut self.msgs[i].msg_hdr;
            hdr.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            hdr.msg_iov = &mut self.iovecs[i];
            hdr.msg_iovlen = 1;
            hdr.msg_control = self.cmsgs[i].as_mut_ptr().cast();
            hdr.msg_controllen = CMSG_BUF_LEN as _;
            hdr.msg_flags = 0;
            self.msgs[i].msg_len = 0;
        }
        // SAFETY: every pointer in msgs points into buffers owned by self
        // that outlive the call, with the lengths given.
        let n = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.msgs.as_mut_ptr(),
                self.msgs.len() as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
                _ => Err(e),
            };
        }
        self.count = n as usize;
        Ok(self.count)
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The `i`th datagram of the last `recv`.
    pub fn get(&self, i: usize) -> Option<Datagram<'_>> {
        if i >= self.count {
            return None;
        }
        let msg = &self.msgs[i];
        let len = (msg.msg_len as usize).min(RECV_BUF_LEN);
        Some(Datagram {
            bytes: &self.bufs[i][..len],
            from: socket_addr_of(&self.addrs[i]),
            kernel_rx: kernel_timestamp(&msg.msg_hdr),
            truncated: msg.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
        })
    }
}

/// Replies waiting to go out in one sendmmsg.
pub struct SendBatch {
    bufs: Vec<[u8; SEND_BUF_LEN]>,
    lens: Vec<usize>,
    addrs: Vec<libc::sockaddr_storage>,
    addr_lens: Vec<libc::socklen_t>,
    iovecs: Vec<libc::iovec>,
    msgs: Vec<libc::mmsghdr>,
    count: usize,
}

impl SendBatch {
    pub fn new(capacity: usize) -> SendBatch {
        let capacity = capacity.max(1);
        SendBatch {
            bufs: vec![[0; SEND_BUF_LEN]; capacity],
            lens: vec![0; capacity],
            // SAFETY: plain C data, all-zero is valid.
            addrs: vec![unsafe { zeroed() }; capacity],
            addr_lens: vec![0; capacity],
            iovecs: vec![unsafe { zeroed() }; capacity],
            msgs: vec![unsafe { zeroed() }; capacity],
            count: 0,
        }
    }

    pub fn is_full(&self) -> bool {
        self.count == self.bufs.len()
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The buffer the next reply is written into (call `commit` to keep
    /// it), or None when the batch is full.
    pub fn next_buffer(&mut self) -> Option<&mut [u8; SEND_BUF_LEN]> {
        self.bufs.get_mut(self.count)
    }

    /// Keeps the first `len` bytes of the buffer from `next_buffer`, to be
    /// sent to `to`.
    pub fn commit(&mut self, len: usize, to: SocketAddr) {
        if self.count < self.bufs.len() {
            self.lens[self.count] = len.min(SEND_BUF_LEN);
            self.addr_lens[self.count] = write_sockaddr(to, &mut self.addrs[self.count]);
            self.count += 1;
        }
    }

    /// The committed replies' whole buffers and lengths, for last-moment
    /// changes (the transmit timestamp, then a MAC that sets the length).
    pub fn committed_mut(
        &mut self,
    ) -> impl Iterator<Item = (&mut [u8; SEND_BUF_LEN], &mut usize)> + '_ {
        self.bufs[..self.count]
            .iter_mut()
            .zip(self.lens[..self.count].iter_mut())
    }

    /// Sends every committed reply and empties the batch. Returns how many
    /// went out; a reply the kernel refuses (e.g. no route) is skipped.
    pub fn flush(&mut self, socket: &ServerSocket) -> io::Result<usize> {
        let total = self.count;
        for i in 0..total {
            self.iovecs[i] = libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: self.lens[i],
            };
            // SAFETY: plain C data, all-zero is valid.
            self.msgs[i] = unsafe { zeroed() };
            let hdr = &mut self.msgs[i].msg_hdr;
            hdr.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            hdr.msg_namelen = self.addr_lens[i];
            hdr.msg_iov = &mut self.iovecs[i];
            hdr.msg_iovlen = 1;
        }
        let mut sent = 0;
        let mut at = 0;
        while at < total {
            // SAFETY: msgs[at..total] point into buffers owned by self.
            let n = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    self.msgs[at..].as_mut_ptr(),
                    (total - at) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    // The socket buffer is full: the rest is lost, as a
                    // router would lose it; the clients will retry.
                    io::ErrorKind::WouldBlock => break,
                    // This one datagram failed (e.g. EPERM from a firewall):
                    // skip it and send the rest.
                    _ => {
                        at += 1;
                        continue;
                    }
                }
            }
            sent += n as usize;
            at += n as usize;
            if n == 0 {
                break;
            }
        }
        self.count = 0;
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_round_trip_on_loopback_with_kernel_timestamps() {
        let server = ServerSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        for i in 0..3u8 {
            client.send_to(&[i; 48], server.local_addr()).unwrap();
        }
        client.send_to(&[9; 3000], server.local_addr()).unwrap();
        let mut batch = RecvBatch::new(8);
        let mut got = 0;
        let start = std::time::Instant::now();
        while got < 4 && start.elapsed().as_secs() < 2 {
            got += batch.recv(&server).unwrap();
            if got < 4 {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        assert_eq!(batch.len(), 4, "all four in one batch");
        let first = batch.get(0).unwrap();
        assert_eq!(first.bytes, &[0; 48]);
        assert_eq!(first.from, Some(client.local_addr().unwrap()));
        assert!(!first.truncated);
        if server.kernel_timestamps() {
            let rx = first.kernel_rx.expect("kernel timestamp");
            let now = UnixTime::from_system_time(std::time::SystemTime::now());
            assert!(now.secs_since(rx).abs() < 5.0);
        }
        let big = batch.get(3).unwrap();
        assert!(big.truncated);
        assert_eq!(big.bytes.len(), RECV_BUF_LEN);

        let mut out = SendBatch::new(4);
        for i in 0..2u8 {
            let buf = out.next_buffer().unwrap();
            buf[..48].fill(i + 1);
            out.commit(48, client.local_addr().unwrap());
        }
        for (reply, _) in out.committed_mut() {
            reply[47] = 0xee;
        }
        assert_eq!(out.flush(&server).unwrap(), 2);
        let mut buf = [0u8; 100];
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!((n, from), (48, server.local_addr()));
        assert_eq!(buf[0], 1);
        assert_eq!(buf[47], 0xee);
        assert_eq!(batch.recv(&server).unwrap(), 0, "nothing left: no blocking");
    }
}
