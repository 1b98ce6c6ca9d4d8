//! Becoming a daemon, and the pidfile.
//!
//! The parent does not exit until the child says it is serving (or why it
//! is not), so `ntpd` run from an init script exits 0 only when the daemon
//! really started, and exits 1 with the reason on stderr otherwise.

use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The child's end of the readiness pipe.
pub struct Readiness {
    pipe: Option<std::fs::File>,
}

impl Readiness {
    /// Nothing to report to (foreground mode).
    pub fn none() -> Readiness {
        Readiness { pipe: None }
    }

    /// Tells the waiting parent that the daemon runs.
    pub fn ready(&mut self) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(b"\0");
        }
    }

    /// Tells the waiting parent why the daemon does not run.
    pub fn failed(&mut self, reason: &str) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(format!("\x01{reason}").as_bytes());
        }
    }
}

/// Forks; in the parent waits for the child's word and returns the exit
/// status for the parent (Err), in the child returns its `Readiness`
/// after detaching from the terminal (Ok).
pub fn daemonize() -> Result<Readiness, i32> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds has room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        eprintln!("ntpd: pipe: {}", io::Error::last_os_error());
        return Err(1);
    }
    // SAFETY: pipe2 returned two open descriptors that we now own.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the process is single-threaded here, so fork is safe.
    match unsafe { libc::fork() } {
        -1 => {
            eprintln!("ntpd: fork: {}", io::Error::last_os_error());
            Err(1)
        }
        0 => {
            drop(read_end);
            // SAFETY: setsid in the new child cannot fail harmfully.
            unsafe { libc::setsid() };
            let _ = std::env::set_current_dir("/");
            redirect_stdio_to_null();
            Ok(Readiness {
                pipe: Some(std::fs::File::from(write_end)),
            })
        }
        _child => {
            drop(write_end);
            let mut word = Vec::new();
            let _ = std::fs::File::from(read_end).read_to_end(&mut word);
            match word.first() {
                Some(0) => Err(0),
                Some(_) => {
                    eprintln!("ntpd: {}", String::from_utf8_lossy(&word[1..]));
                    Err(1)
                }
                None => {
                    eprintln!("ntpd: the daemon exited during startup (see the log)");
                    Err(1)
                }
            }
        }
    }
}

fn redirect_stdio_to_null() {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        use std::os::fd::AsRawFd;
        for fd in 0..=2 {
            // SAFETY: dup2 onto the standard descriptors.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

/// A pidfile that is removed again when the daemon stops.
pub struct Pidfile {
    path: PathBuf,
}

impl Pidfile {
    pub fn write(path: &Path) -> io::Result<Pidfile> {
        std::fs::write(path, format!("{}\n", std::process::id()))?;
        Ok(Pidfile {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for Pidfile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
