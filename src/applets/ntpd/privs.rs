//! Privileges: `-i` chroot, `-u user[:group]`, and Linux capabilities.
//!
//! After the sockets are bound ntpd needs at most one privilege, the right
//! to adjust the clock (CAP_SYS_TIME); with `disable ntp` it needs none. So
//! the daemon drops CAP_SYS_TIME when clock control is off, and when it
//! changes user it keeps nothing but what the clock discipline needs.

use std::ffi::CString;
use std::io;
use std::path::Path;

/// CAP_SYS_TIME, from <linux/capability.h>.
pub const CAP_SYS_TIME: u32 = 25;
/// _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn capget() -> io::Result<[CapData; 2]> {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and data have the layout capget(2) expects for v3.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if r == 0 {
        Ok(data)
    } else {
        Err(io::Error::last_os_error())
    }
}

fn capset(data: &[CapData; 2]) -> io::Result<()> {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: as above.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn bit(cap: u32) -> (usize, u32) {
    ((cap / 32) as usize, 1 << (cap % 32))
}

/// Whether the process may use `cap` now.
pub fn has_capability(cap: u32) -> bool {
    let (word, mask) = bit(cap);
    capget().is_ok_and(|d| d[word].effective & mask != 0)
}

/// Gives up CAP_SYS_TIME for good: out of the bounding set (when allowed)
/// and out of the effective, permitted and inheritable sets.
pub fn drop_clock_capability() -> io::Result<()> {
    // Needs CAP_SETPCAP; without it the bounding set is the parent's
    // business, and dropping the permitted bit below is what counts.
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(
            libc::PR_CAPBSET_DROP,
            CAP_SYS_TIME as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    let mut data = capget()?;
    let (word, mask) = bit(CAP_SYS_TIME);
    if data[word].permitted & mask == 0 && data[word].effective & mask == 0 {
        return Ok(());
    }
    for d in &mut data[word..=word] {
        d.effective &= !mask;
        d.permitted &= !mask;
        d.inheritable &= !mask;
    }
    capset(&data)
}

/// `-i DIR`: confine the daemon to DIR.
pub fn chroot(dir: &Path) -> io::Result<()> {
    std::os::unix::fs::chroot(dir)?;
    std::env::set_current_dir("/")
}

/// A `-u` user, looked up before any chroot hides /etc/passwd.
#[derive(Clone, Copy, Debug)]
pub struct Account {
    uid: libc::uid_t,
    gid: libc::gid_t,
}

/// `-u USER[:GROUP]`: USER, and GROUP or else USER's primary group.
pub fn lookup_account(spec: &str) -> Result<Account, String> {
    let (user_name, group_name) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let (uid, primary) = lookup_user(user_name)?;
    let gid = match group_name {
        Some(g) => lookup_group(g)?,
        None => primary,
    };
    Ok(Account { uid, gid })
}

/// Becomes `account`, keeping only `keep` among the capabilities.
pub fn switch_user(account: Account, keep: &[u32]) -> Result<(), String> {
    let user = (account.uid, account.gid);
    let gid = account.gid;
    // SAFETY: plain system calls with integer arguments and a one-element
    // group list; each result is checked.
    unsafe {
        if libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 {
            return Err(format!(
                "prctl(PR_SET_KEEPCAPS): {}",
                io::Error::last_os_error()
            ));
        }
        if libc::setgroups(1, &gid) != 0 {
            return Err(format!("setgroups: {}", io::Error::last_os_error()));
        }
        if libc::setgid(gid) != 0 {
            return Err(format!(
                "cannot set group ID {gid}: {}",
                io::Error::last_os_error()
            ));
        }
        if libc::setuid(user.0) != 0 {
            return Err(format!(
                "cannot set user ID {}: {}",
                user.0,
                io::Error::last_os_error()
            ));
        }
    }
    let mut data = [CapData::default(); 2];
    for &cap in keep {
        let (word, mask) = bit(cap);
        data[word].effective |= mask;
        data[word].permitted |= mask;
    }
    capset(&data).map_err(|e| format!("cannot keep the clock capability after -u: {e}"))
}

fn lookup_user(name: &str) -> Result<(libc::uid_t, libc::gid_t), String> {
    if let Ok(uid) = name.parse::<libc::uid_t>() {
        // SAFETY: getpwuid returns NULL or a pointer to static data.
        let pw = unsafe { libc::getpwuid(uid) };
        // SAFETY: non-null pointers from getpwuid are valid until the next call.
        let gid = if pw.is_null() {
            uid
        } else {
            unsafe { (*pw).pw_gid }
        };
        return Ok((uid, gid));
    }
    let c = CString::new(name).map_err(|_| format!("bad user name \"{name}\""))?;
    // SAFETY: c is NUL-terminated; the result is checked for NULL.
    let pw = unsafe { libc::getpwnam(c.as_ptr()) };
    if pw.is_null() {
        return Err(format!("Cannot find user `{name}'"));
    }
    // SAFETY: non-null and valid until the next getpw* call.
    Ok(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

fn lookup_group(name: &str) -> Result<libc::gid_t, String> {
    if let Ok(gid) = name.parse::<libc::gid_t>() {
        return Ok(gid);
    }
    let c = CString::new(name).map_err(|_| format!("bad group name \"{name}\""))?;
    // SAFETY: as for getpwnam.
    let gr = unsafe { libc::getgrnam(c.as_ptr()) };
    if gr.is_null() {
        return Err(format!("Cannot find group `{name}'"));
    }
    // SAFETY: non-null and valid until the next getgr* call.
    Ok(unsafe { (*gr).gr_gid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_run_has_no_clock_capability_and_dropping_it_again_is_harmless() {
        // The suite runs without CAP_SYS_TIME (setpriv): this is the case
        // the daemon meets under `disable ntp` in tests.
        assert!(!has_capability(CAP_SYS_TIME));
        drop_clock_capability().unwrap();
        assert!(!has_capability(CAP_SYS_TIME));
    }

    #[test]
    fn unknown_users_are_reported_in_classic_words() {
        assert_eq!(
            lookup_user("no-such-user-ntpbox").unwrap_err(),
            "Cannot find user `no-such-user-ntpbox'"
        );
        assert!(lookup_group("no-such-group-ntpbox").is_err());
        assert_eq!(lookup_user("0").unwrap().0, 0);
    }
}
