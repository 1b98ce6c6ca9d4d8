//! SIGTERM and SIGINT end the daemon cleanly: the handler only writes a
//! byte to a pipe (the self-pipe trick) that the poll loop watches, so the
//! loop notices at once and shuts down from its own context. SIGUSR1 asks
//! for the drift file to be written now rather than at the hourly save
//! (for tests, and before a planned reboot); the loop goes on.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The write end of the pipe, for the handler; -1 before setup.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
/// The last stop signal received, 0 when none.
static LAST_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Set by SIGUSR1: save the drift file now.
static SAVE_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(signal: libc::c_int) {
    if signal == libc::SIGUSR1 {
        SAVE_REQUESTED.store(true, Ordering::SeqCst);
    } else {
        LAST_SIGNAL.store(signal, Ordering::SeqCst);
    }
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; a full pipe just means a
        // wake-up is already pending.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
}

/// The read end of the self-pipe, readable once a stop signal arrived.
pub struct StopSignals {
    read: OwnedFd,
    _write: OwnedFd,
}

impl StopSignals {
    pub fn install() -> io::Result<StopSignals> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: fds has room for the two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 just returned these two open descriptors.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        WAKE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
        for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
            // SAFETY: a zeroed sigaction with a valid handler and an empty
            // mask; SA_RESTART keeps other system calls going.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        // A closed client connection must not kill the daemon.
        // SAFETY: ignoring SIGPIPE is always allowed.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        Ok(StopSignals {
            read,
            _write: write,
        })
    }

    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Whether SIGUSR1 came since the last call.
    pub fn take_save_request(&self) -> bool {
        SAVE_REQUESTED.swap(false, Ordering::SeqCst)
    }

    /// The stop signal received, if any (drains the pipe).
    pub fn received(&self) -> Option<i32> {
        let mut buf = [0u8; 16];
        // SAFETY: reading into a local buffer from our own non-blocking fd.
        while unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {
        }
        match LAST_SIGNAL.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }
}

/// The classic name of a signal for the log.
pub fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGTERM => "Terminated",
        libc::SIGINT => "Interrupt",
        _ => "signal",
    }
}
