//! `-F 1` / `--seccomp`: a seccomp-BPF allow-list for the running daemon,
//! like chronyd's `-F`.
//!
//! Installed once start-up is over (configuration read, sockets bound,
//! privileges dropped, daemonised, files opened), it lets through only the
//! system calls the loop and the resolver thread make; any other call
//! kills the whole process (SECCOMP_RET_KILL_PROCESS), so code smuggled
//! into the daemon cannot exec a shell, ptrace, load a kernel module or
//! mount anything. The process dies with SIGSYS, and the kernel's audit
//! log names the call: `journalctl -k` (or `ausearch -m SECCOMP`) shows
//! `type=1326 audit(...): ... comm="ntpd" ... syscall=N`.
//!
//! The list was taken from `strace -f` of the daemon in all its modes:
//! serving, ntpq (rv, peers, mrulist), upstream servers and pools (name
//! resolution through glibc in the resolver thread), statistics and drift
//! files, syslog, a log file, SIGUSR1, SIGTERM and `-q`.
//!
//! The BPF comes from rust-vmm's `seccompiler` (the filter compiler of
//! Firecracker and Cloud Hypervisor): it checks the audit architecture,
//! builds the jump tables and argument comparisons, and depends on libc
//! only; writing the same BPF by hand would gain nothing.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

/// The architectures the filter knows the system call numbers of.
#[cfg(target_arch = "x86_64")]
const ARCH: Option<seccompiler::TargetArch> = Some(seccompiler::TargetArch::x86_64);
#[cfg(target_arch = "aarch64")]
const ARCH: Option<seccompiler::TargetArch> = Some(seccompiler::TargetArch::aarch64);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const ARCH: Option<seccompiler::TargetArch> = None;

/// What a system call may do: anything, or only with some first (or
/// second) argument values.
enum Allow {
    Any,
    /// Argument `index` (a C int) equals one of `values`.
    IntArg {
        index: u8,
        values: &'static [u64],
    },
}

/// Socket families: UDP/IPv4 and IPv6 (NTP, DNS and glibc's source
/// address check when it sorts addresses), AF_UNIX (syslog, nscd) and
/// AF_NETLINK (glibc asks the kernel which address families are up).
const SOCKET_FAMILIES: &[u64] = &[
    libc::AF_UNIX as u64,
    libc::AF_INET as u64,
    libc::AF_INET6 as u64,
    libc::AF_NETLINK as u64,
];
/// ioctls: the DNS stub asks how much a reply holds.
const IOCTLS: &[u64] = &[libc::FIONREAD];
/// prctl: a new thread (the resolver) names itself.
const PRCTLS: &[u64] = &[libc::PR_SET_NAME as u64];

/// The filter for the daemon, compiled and ready to install.
pub struct Filter {
    program: BpfProgram,
    /// How many system calls it lets through.
    pub allowed: usize,
}

impl Filter {
    /// The allow-list for a daemon that may (`clock_enabled`) or may not
    /// (`disable ntp`) set the clock. On an architecture whose system call
    /// numbers the filter does not know this is an error, never a daemon
    /// left silently unfiltered.
    pub fn new(clock_enabled: bool) -> Result<Filter, String> {
        let Some(arch) = ARCH else {
            return Err(format!(
                "-F/--seccomp: no system call filter for this architecture ({}); \
                 it exists for x86_64 and aarch64",
                std::env::consts::ARCH
            ));
        };
        let mut rules = BTreeMap::new();
        for (nr, allow) in allowed_calls(clock_enabled) {
            rules.insert(nr, conditions(&allow)?);
        }
        let allowed = rules.len();
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::KillProcess,
            SeccompAction::Allow,
            arch,
        )
        .map_err(|e| format!("seccomp filter: {e}"))?;
        let program: BpfProgram = filter
            .try_into()
            .map_err(|e| format!("seccomp filter: {e}"))?;
        Ok(Filter { program, allowed })
    }

    /// Installs the filter on every thread of the process (TSYNC), for
    /// good: seccomp filters cannot be removed. Sets no_new_privs first,
    /// as the kernel requires of a process without CAP_SYS_ADMIN.
    pub fn install(&self) -> Result<(), String> {
        seccompiler::apply_filter_all_threads(&self.program)
            .map_err(|e| format!("cannot install the seccomp filter: {e}"))
    }
}

fn conditions(allow: &Allow) -> Result<Vec<SeccompRule>, String> {
    match allow {
        Allow::Any => Ok(Vec::new()),
        Allow::IntArg { index, values } => values
            .iter()
            .map(|&v| {
                let condition =
                    SeccompCondition::new(*index, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, v)
                        .map_err(|e| format!("seccomp rule: {e}"))?;
                SeccompRule::new(vec![condition]).map_err(|e| format!("seccomp rule: {e}"))
            })
            .collect(),
    }
}

/// The system calls the running daemon makes, by what needs them.
fn allowed_calls(clock_enabled: bool) -> Vec<(i64, Allow)> {
    use Allow::Any;
    let mut calls = vec![
        // The loop: poll(2) (ppoll on aarch64, which has no poll), the
        // batched receive and send, error queues, and the timeouts a
        // faster loop may use.
        (libc::SYS_ppoll, Any),
        (libc::SYS_recvmmsg, Any),
        (libc::SYS_sendmmsg, Any),
        (libc::SYS_recvmsg, Any),
        (libc::SYS_sendmsg, Any),
        (libc::SYS_recvfrom, Any),
        (libc::SYS_sendto, Any),
        (libc::SYS_nanosleep, Any),
        (libc::SYS_clock_nanosleep, Any),
        (libc::SYS_getsockname, Any),
        (libc::SYS_getsockopt, Any),
        (libc::SYS_setsockopt, Any),
        // Time (the vDSO answers most reads without a system call), the
        // kernel's clock state for ntpq and the discipline.
        (libc::SYS_clock_gettime, Any),
        (libc::SYS_gettimeofday, Any),
        (libc::SYS_clock_adjtime, Any),
        // Files: the log file, statistics files and their links, the
        // drift file's write, fsync and rename; stdio. fcntl: Rust's
        // debug builds check a descriptor before closing it.
        (libc::SYS_read, Any),
        (libc::SYS_write, Any),
        (libc::SYS_openat, Any),
        (libc::SYS_close, Any),
        (libc::SYS_fstat, Any),
        (libc::SYS_newfstatat, Any),
        (libc::SYS_statx, Any),
        (libc::SYS_lseek, Any),
        (libc::SYS_fcntl, Any),
        (libc::SYS_fsync, Any),
        (libc::SYS_fdatasync, Any),
        (libc::SYS_renameat2, Any),
        (libc::SYS_unlinkat, Any),
        (libc::SYS_symlinkat, Any),
        (libc::SYS_readlinkat, Any),
        // Memory: the allocator, thread stacks, glibc's NSS modules.
        (libc::SYS_brk, Any),
        (libc::SYS_mmap, Any),
        (libc::SYS_munmap, Any),
        (libc::SYS_mremap, Any),
        (libc::SYS_mprotect, Any),
        (libc::SYS_madvise, Any),
        // Signals: handlers return; glibc installs its thread-cancelling
        // handlers at the first pthread_create and masks signals around
        // it; Rust gives every thread an alternate signal stack.
        (libc::SYS_rt_sigreturn, Any),
        (libc::SYS_rt_sigaction, Any),
        (libc::SYS_rt_sigprocmask, Any),
        (libc::SYS_sigaltstack, Any),
        (libc::SYS_restart_syscall, Any),
        // Threads: the resolver's short-lived thread and its channel.
        (libc::SYS_clone, Any),
        (libc::SYS_clone3, Any),
        (libc::SYS_set_robust_list, Any),
        (libc::SYS_rseq, Any),
        (libc::SYS_futex, Any),
        (libc::SYS_sched_yield, Any),
        (libc::SYS_sched_getaffinity, Any),
        (
            libc::SYS_prctl,
            Allow::IntArg {
                index: 0,
                values: PRCTLS,
            },
        ),
        // Name resolution through glibc (DNS over UDP, /etc/hosts), and
        // syslog's socket, which glibc reconnects when journald restarts.
        (
            libc::SYS_socket,
            Allow::IntArg {
                index: 0,
                values: SOCKET_FAMILIES,
            },
        ),
        (libc::SYS_connect, Any),
        (libc::SYS_bind, Any),
        (
            libc::SYS_ioctl,
            Allow::IntArg {
                index: 1,
                values: IOCTLS,
            },
        ),
        // Identity, for log lines and mode 6's system variables.
        (libc::SYS_getpid, Any),
        (libc::SYS_gettid, Any),
        (libc::SYS_uname, Any),
        // Randomness: nonces, cookies, hash seeds.
        (libc::SYS_getrandom, Any),
        // The end.
        (libc::SYS_exit, Any),
        (libc::SYS_exit_group, Any),
    ];
    calls.extend(legacy_calls());
    if clock_enabled {
        calls.push((libc::SYS_clock_settime, Any));
        calls.push((libc::SYS_settimeofday, Any));
        #[cfg(target_arch = "x86_64")]
        calls.push((libc::SYS_adjtimex, Any));
    }
    calls
}

/// x86_64 keeps the old path-based calls, which glibc still uses for some
/// functions there (rename, unlink, symlink, readlink) and musl for more;
/// aarch64 only has the *at forms. `time` and `gettimeofday` are what
/// libc falls back to without the vDSO.
#[cfg(target_arch = "x86_64")]
fn legacy_calls() -> Vec<(i64, Allow)> {
    use Allow::Any;
    vec![
        (libc::SYS_poll, Any),
        (libc::SYS_open, Any),
        (libc::SYS_stat, Any),
        (libc::SYS_lstat, Any),
        (libc::SYS_rename, Any),
        (libc::SYS_renameat, Any),
        (libc::SYS_unlink, Any),
        (libc::SYS_symlink, Any),
        (libc::SYS_readlink, Any),
        (libc::SYS_time, Any),
    ]
}

#[cfg(not(target_arch = "x86_64"))]
fn legacy_calls() -> Vec<(i64, Allow)> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// How a forked child ended: `Ok(exit status)` or `Err(signal)`.
    type Ending = Result<i32, i32>;

    /// Runs `body` in a forked child with the filter installed, so the
    /// test process itself stays unfiltered. The child never returns into
    /// the test harness: it `_exit`s with body's status (100 when the
    /// filter cannot be installed, 101 when body panics).
    fn under_filter(clock_enabled: bool, body: impl FnOnce() -> i32) -> Ending {
        let filter = Filter::new(clock_enabled).unwrap();
        // SAFETY: the child only installs the filter, runs `body` and
        // leaves with _exit; glibc keeps malloc usable in a forked child.
        match unsafe { libc::fork() } {
            -1 => panic!("fork: {}", std::io::Error::last_os_error()),
            0 => {
                let run = std::panic::AssertUnwindSafe(|| match filter.install() {
                    Ok(()) => body(),
                    Err(_) => 100,
                });
                let status = std::panic::catch_unwind(run).unwrap_or(101);
                // SAFETY: ends the child at once, as fork's child should.
                unsafe { libc::_exit(status) }
            }
            child => {
                let mut status = 0;
                // SAFETY: waits for the child forked above.
                let r = unsafe { libc::waitpid(child, &mut status, 0) };
                assert_eq!(r, child, "waitpid: {}", std::io::Error::last_os_error());
                if libc::WIFSIGNALED(status) {
                    Err(libc::WTERMSIG(status))
                } else {
                    Ok(libc::WEXITSTATUS(status))
                }
            }
        }
    }

    /// What the child returns when the call that should have killed it
    /// came back.
    const SURVIVED: i32 = 3;

    #[test]
    fn a_call_outside_the_list_kills_the_process_with_sigsys() {
        let ending = under_filter(false, || {
            // SAFETY: getpid and getppid have no arguments and no effect.
            unsafe {
                libc::getpid();
                libc::syscall(libc::SYS_getppid);
            }
            SURVIVED
        });
        assert_eq!(ending, Err(libc::SIGSYS));
    }

    #[test]
    fn sockets_only_of_the_listed_families() {
        let socket = |family| {
            // SAFETY: socket(2) with integer arguments; closed at once.
            unsafe {
                let fd = libc::socket(family, libc::SOCK_DGRAM, 0);
                if fd >= 0 {
                    libc::close(fd);
                }
                fd >= 0
            }
        };
        let listed = under_filter(false, || {
            let all = [
                libc::AF_INET,
                libc::AF_INET6,
                libc::AF_UNIX,
                libc::AF_NETLINK,
            ];
            i32::from(!all.into_iter().all(socket))
        });
        assert_eq!(listed, Ok(0));
        // A packet socket could sniff the network: never needed, fatal.
        let packet = under_filter(false, || {
            socket(libc::AF_PACKET);
            SURVIVED
        });
        assert_eq!(packet, Err(libc::SIGSYS));
    }

    #[test]
    fn setting_the_clock_is_listed_only_with_clock_control() {
        // Checked on the list, not by calling: a test never sets a clock.
        let listed = |clock: bool, nr: i64| allowed_calls(clock).iter().any(|(n, _)| *n == nr);
        assert!(!listed(false, libc::SYS_clock_settime));
        assert!(!listed(false, libc::SYS_settimeofday));
        assert!(listed(true, libc::SYS_clock_settime));
        assert!(listed(false, libc::SYS_clock_adjtime));
        let off = Filter::new(false).unwrap().allowed;
        let on = Filter::new(true).unwrap().allowed;
        assert!(on > off, "{on} {off}");
    }

    #[test]
    fn the_drift_file_is_replaced_under_the_filter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ntp.drift");
        std::fs::write(&path, "1.000\n").unwrap();
        let ending = under_filter(true, || match super::super::drift::write(&path, -12.5) {
            Ok(()) => 0,
            Err(_) => 2,
        });
        assert_eq!(ending, Ok(0));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "-12.500\n");
    }

    #[test]
    fn statistics_files_and_their_links_are_written_under_the_filter() {
        use crate::engine::StatsFile;
        use crate::proto::UnixTime;
        let dir = tempfile::tempdir().unwrap();
        let conf = format!("statsdir {}/\nstatistics loopstats\n", dir.path().display());
        let config = crate::config::parse_str(&conf, Path::new("t.conf")).config;
        let mut stats = super::super::stats::Stats::new(&config);
        // 2026-11-22T10:00:00Z, then the next day: a new file and link.
        let days = [
            UnixTime::new(1_795_341_600, 0),
            UnixTime::new(1_795_428_000, 0),
        ];
        let ending = under_filter(false, || {
            let problems = days
                .iter()
                .filter_map(|&day| stats.append(StatsFile::Loopstats, "61366 36000.000 a", day))
                .count();
            i32::from(problems > 0)
        });
        assert_eq!(ending, Ok(0));
        let today = dir.path().join("loopstats.20261123");
        assert_eq!(
            std::fs::read_to_string(today).unwrap(),
            "61366 36000.000 a\n"
        );
        assert_eq!(
            std::fs::read_link(dir.path().join("loopstats")).unwrap(),
            Path::new("loopstats.20261123")
        );
    }

    #[test]
    fn names_resolve_in_a_new_thread_under_the_filter() {
        // Made before the filter, as the daemon makes it during start-up.
        let resolver = super::super::resolve::Resolver::new().unwrap();
        let ending = under_filter(false, || {
            resolver.start("localhost".into());
            let mut pfd = libc::pollfd {
                fd: resolver.fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut pfd, 1, 10_000) } != 1 {
                return 2;
            }
            let answers = resolver.answers();
            let loopback = answers.len() == 1
                && !answers[0].1.is_empty()
                && answers[0].1.iter().all(|a| a.is_loopback());
            i32::from(!loopback)
        });
        assert_eq!(ending, Ok(0));
    }
}
