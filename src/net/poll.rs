//! Waiting for datagrams on several sockets at once, with poll(2).

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use super::UdpSocket;

/// Waits until at least one of `sockets` has a datagram to read or
/// `timeout` has passed (`None`: no limit), and says which are readable.
///
/// ppoll takes a timespec, so short waits are not rounded up to whole
/// milliseconds. A signal interrupting the wait returns with nothing
/// readable, so the caller re-checks its deadlines and signal flags.
pub fn wait_readable(sockets: &[&UdpSocket], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let limit = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let limit_ptr = limit
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: fds is a live array of fds.len() pollfds; the timespec pointer
    // is null or points to `limit`, which outlives the call.
    let r = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            limit_ptr,
            std::ptr::null(),
        )
    };
    if r < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![false; sockets.len()]);
        }
        return Err(err);
    }
    // POLLERR/POLLHUP also mean a recv will not block (it reports the error).
    let ready = libc::POLLIN | libc::POLLERR | libc::POLLHUP;
    Ok(fds.iter().map(|f| f.revents & ready != 0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddr};
    use std::time::Instant;

    #[test]
    fn an_idle_socket_times_out_after_roughly_the_timeout() {
        let s = UdpSocket::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        let start = Instant::now();
        let ready = wait_readable(&[&s], Some(Duration::from_millis(30))).unwrap();
        assert_eq!(ready, vec![false]);
        assert!(start.elapsed() >= Duration::from_millis(29));
    }

    #[test]
    fn only_the_socket_with_a_datagram_is_readable() {
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let (a, b) = (UdpSocket::bind(any).unwrap(), UdpSocket::bind(any).unwrap());
        a.send_to(b"x", b.local_addr().unwrap()).unwrap();
        let ready = wait_readable(&[&a, &b], Some(Duration::from_secs(2))).unwrap();
        assert_eq!(ready, vec![false, true]);
    }
}
