//! The few raw socket calls both the client socket (`udp`) and the server's
//! batched socket (`batch`) make: socket flags, the kernel receive
//! timestamp in a received message, and socket addresses to and from C.

use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use socket2::Socket;

use crate::proto::UnixTime;

/// A zeroed C struct. Only for plain-data libc structs, where all-zero
/// bytes are a valid value.
pub(crate) fn zeroed_plain<T: Copy>() -> T {
    // SAFETY: used only for libc's plain-data structs (msghdr, mmsghdr,
    // iovec, sockaddr_storage), for which zero is a valid bit pattern.
    unsafe { std::mem::zeroed() }
}

/// Turns on an integer socket option (`setsockopt(level, name, 1)`).
pub(crate) fn set_flag(socket: &Socket, level: libc::c_int, name: libc::c_int) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket and a c_int option value of the stated size.
    let r = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Asks the kernel to stamp every received datagram (SO_TIMESTAMPNS).
pub(crate) fn enable_kernel_timestamps(socket: &Socket) -> io::Result<()> {
    set_flag(socket, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS)
}

/// The SCM_TIMESTAMPNS control message of a received datagram, if any.
pub(crate) fn kernel_timestamp(msg: &libc::msghdr) -> Option<UnixTime> {
    // SAFETY: msg was filled in by a successful recvmsg/recvmmsg; the CMSG_*
    // helpers stay within msg_control/msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                // A zero stamp means the kernel had none for this datagram.
                if ts.tv_sec == 0 && ts.tv_nsec == 0 {
                    return None;
                }
                return Some(UnixTime::new(ts.tv_sec, ts.tv_nsec as u32));
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

/// The IP address and port in a C socket address, if it is one.
pub(crate) fn socket_addr_of(name: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match name.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: &libc::sockaddr_in = unsafe { &*(name as *const _ as *const _) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6: &libc::sockaddr_in6 = unsafe { &*(name as *const _ as *const _) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                u32::from_be(sin6.sin6_flowinfo),
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Writes `addr` as a C socket address into `storage`; returns its length.
pub(crate) fn write_sockaddr(
    addr: SocketAddr,
    storage: &mut libc::sockaddr_storage,
) -> libc::socklen_t {
    match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large and aligned enough for any
            // sockaddr type.
            let sin: &mut libc::sockaddr_in =
                unsafe { &mut *(storage as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = v4.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            };
            sin.sin_zero = [0; 8];
            size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(v6) => {
            // SAFETY: as above.
            let sin6: &mut libc::sockaddr_in6 =
                unsafe { &mut *(storage as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_flowinfo = v6.flowinfo().to_be();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: v6.ip().octets(),
            };
            sin6.sin6_scope_id = v6.scope_id();
            size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses_survive_the_c_round_trip() {
        let v6 = SocketAddr::V6(SocketAddrV6::new(
            "fe80::1".parse().unwrap(),
            123,
            0x000a_bcde,
            4,
        ));
        for addr in [SocketAddr::from(([127, 0, 0, 2], 11123)), v6] {
            let mut storage: libc::sockaddr_storage = zeroed_plain();
            let len = write_sockaddr(addr, &mut storage);
            assert!(len as usize >= size_of::<libc::sockaddr_in>());
            assert_eq!(socket_addr_of(&storage), Some(addr));
        }
        // flowinfo is in network byte order in the C struct
        let mut storage: libc::sockaddr_storage = zeroed_plain();
        write_sockaddr(v6, &mut storage);
        let sin6: &libc::sockaddr_in6 = unsafe { &*(&storage as *const _ as *const _) };
        assert_eq!(sin6.sin6_flowinfo, 0x000a_bcdeu32.to_be());
    }
}
