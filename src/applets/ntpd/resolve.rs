//! Host names resolved off the timekeeping path.
//!
//! getaddrinfo can block for seconds; the loop must not. Each lookup runs
//! in a short-lived thread that sends its answer back over a channel and
//! wakes the poll loop through a pipe.

use std::net::{IpAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::mpsc::{channel, Receiver, Sender};

pub struct Resolver {
    wake_read: OwnedFd,
    wake_write: std::sync::Arc<OwnedFd>,
    answers: Receiver<(String, Vec<IpAddr>)>,
    sender: Sender<(String, Vec<IpAddr>)>,
}

impl Resolver {
    pub fn new() -> std::io::Result<Resolver> {
        let (r, w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(std::io::Error::from)?;
        let (sender, answers) = channel();
        Ok(Resolver {
            wake_read: r,
            wake_write: std::sync::Arc::new(w),
            answers,
            sender,
        })
    }

    /// The descriptor that becomes readable when an answer is waiting.
    pub fn fd(&self) -> RawFd {
        self.wake_read.as_raw_fd()
    }

    /// Starts resolving `name`; its answer (empty on failure) comes later.
    pub fn start(&self, name: String) {
        let sender = self.sender.clone();
        let wake = self.wake_write.clone();
        let fallback = (self.sender.clone(), self.wake_write.clone(), name.clone());
        let spawned = std::thread::Builder::new()
            .name("resolve".into())
            .spawn(move || {
                let addrs = (name.as_str(), 0)
                    .to_socket_addrs()
                    .map(|it| it.map(|a| a.ip()).collect())
                    .unwrap_or_default();
                let _ = sender.send((name, addrs));
                let _ = nix::unistd::write(&*wake, &[1]);
            });
        if spawned.is_err() {
            // No thread: answer "nothing", so the engine retries later.
            let (sender, wake, name) = fallback;
            let _ = sender.send((name, Vec::new()));
            let _ = nix::unistd::write(&*wake, &[1]);
        }
    }

    /// The answers that have arrived.
    pub fn answers(&self) -> Vec<(String, Vec<IpAddr>)> {
        let mut buf = [0u8; 64];
        while matches!(nix::unistd::read(&self.wake_read, &mut buf), Ok(n) if n > 0) {}
        self.answers.try_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_resolves_and_wakes_the_loop() {
        let r = Resolver::new().unwrap();
        r.start("localhost".into());
        let mut pfd = libc::pollfd {
            fd: r.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        assert_eq!(unsafe { libc::poll(&mut pfd, 1, 10_000) }, 1);
        let answers = r.answers();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].0, "localhost");
        assert!(answers[0].1.iter().all(|a| a.is_loopback()), "{answers:?}");
        assert!(!answers[0].1.is_empty());
    }
}
