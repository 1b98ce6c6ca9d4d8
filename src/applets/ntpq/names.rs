//! Addresses as ntpq shows them: numeric, reference clock names
//! (`127.127.1.0` is `LOCAL(0)`), or host names from reverse DNS
//! (getnameinfo, so /etc/hosts answers for loopback: `localhost`).

use std::collections::HashMap;
use std::ffi::CStr;
use std::net::{IpAddr, SocketAddr};

/// Reference clocks live at 127.127.TYPE.UNIT.
const REFCLOCK_NET: [u8; 2] = [127, 127];

/// Driver names by type number (ntp's clocktypes.c), for `NAME(unit)`.
const CLOCK_TYPE_NAMES: [(u8, &str); 44] = [
    (1, "LOCAL"),
    (2, "GPS_TRAK"),
    (3, "WWV_PST"),
    (4, "SPECTRACOM"),
    (5, "TRUETIME"),
    (6, "IRIG_AUDIO"),
    (7, "CHU_AUDIO"),
    (8, "GENERIC"),
    (9, "GPS_MX4200"),
    (10, "GPS_AS2201"),
    (11, "GPS_ARBITER"),
    (12, "IRIG_TPRO"),
    (13, "ATOM_LEITCH"),
    (14, "MSF_EES"),
    (15, "GPSTM_TRUE"),
    (16, "GPS_BANC"),
    (17, "GPS_DATUM"),
    (18, "ACTS_MODEM"),
    (19, "WWV_HEATH"),
    (20, "GPS_NMEA"),
    (21, "GPS_VME"),
    (22, "PPS"),
    (23, "PTB_ACTS"),
    (24, "USNO"),
    (26, "GPS_HP"),
    (27, "MSF_ARCRON"),
    (28, "SHM"),
    (29, "GPS_PALISADE"),
    (30, "GPS_ONCORE"),
    (31, "GPS_JUPITER"),
    (32, "CHRONOLOG"),
    (33, "DUMBCLOCK"),
    (34, "ULINK_M320"),
    (35, "PCF"),
    (36, "WWV_AUDIO"),
    (37, "GPS_FG"),
    (38, "HOPF_S"),
    (39, "HOPF_P"),
    (40, "JJY"),
    (41, "TT_IRIG"),
    (42, "GPS_ZYFER"),
    (43, "GPS_RIPENCC"),
    (44, "NEOCLK4X"),
    (46, "GPSD_JSON"),
];

/// The reference clock an address stands for, if it is one: `LOCAL(0)`.
pub fn refclock_name(addr: IpAddr) -> Option<String> {
    let IpAddr::V4(v4) = addr else {
        return None;
    };
    let [a, b, kind, unit] = v4.octets();
    if [a, b] != REFCLOCK_NET {
        return None;
    }
    Some(match CLOCK_TYPE_NAMES.iter().find(|(k, _)| *k == kind) {
        Some((_, name)) => format!("{name}({unit})"),
        None => format!("REFCLK({kind},{unit})"),
    })
}

/// An address as a mode 6 value gives it: `1.2.3.4`, `1.2.3.4:123`,
/// `::1`, `[::1]:123` (ntpq's decodenetnum).
pub fn parse_netnum(text: &str) -> Option<SocketAddr> {
    let t = text.trim().trim_matches('"');
    if let Ok(sa) = t.parse::<SocketAddr>() {
        return Some(sa);
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 0));
    }
    let inner = t.strip_prefix('[').and_then(|r| r.strip_suffix(']'))?;
    inner
        .parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 0))
}

/// Whether an address is the all-zero "unspecified" one.
pub fn is_unspecified(addr: IpAddr) -> bool {
    addr.is_unspecified()
}

/// `1.2.3.4:123` or `[::1]:123`: ntp's sptoa.
pub fn with_port(addr: SocketAddr) -> String {
    addr.to_string()
}

/// Turns addresses into names, remembering each answer (the peers table
/// asks about the same addresses again and again).
#[derive(Debug, Default)]
pub struct Names {
    /// `-n` / `hostnames no`: numbers only.
    pub numeric: bool,
    cache: HashMap<IpAddr, String>,
}

impl Names {
    pub fn new(numeric: bool) -> Names {
        Names {
            numeric,
            cache: HashMap::new(),
        }
    }

    /// ntpq's nntohost: the number with `-n` (or for 0.0.0.0), the clock
    /// name for a reference clock address, otherwise the host name from
    /// reverse DNS, falling back to the number.
    pub fn host(&mut self, addr: IpAddr) -> String {
        if self.numeric || is_unspecified(addr) {
            return addr.to_string();
        }
        if let Some(name) = refclock_name(addr) {
            return name;
        }
        self.reverse(addr)
    }

    /// nntohostp: the host name (or number) with `:port`.
    pub fn host_port(&mut self, addr: SocketAddr) -> String {
        if self.numeric || is_unspecified(addr.ip()) {
            return with_port(addr);
        }
        if let Some(name) = refclock_name(addr.ip()) {
            return name;
        }
        format!("{}:{}", self.reverse(addr.ip()), addr.port())
    }

    fn reverse(&mut self, addr: IpAddr) -> String {
        self.cache
            .entry(addr)
            .or_insert_with(|| reverse_lookup(addr).unwrap_or_else(|| addr.to_string()))
            .clone()
    }
}

/// getnameinfo(NI_NAMEREQD): the name, or None when there is none.
fn reverse_lookup(addr: IpAddr) -> Option<String> {
    let sa = socket2::SockAddr::from(SocketAddr::new(addr, 0));
    let mut host = [0 as libc::c_char; libc::NI_MAXHOST as usize];
    // SAFETY: sa is a valid socket address of the given length, host is a
    // writable buffer of the given length, and no service is asked for.
    let rc = unsafe {
        libc::getnameinfo(
            sa.as_ptr().cast(),
            sa.len(),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(host.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_clock_addresses_have_driver_names() {
        let name = |s: &str| refclock_name(s.parse().unwrap());
        assert_eq!(name("127.127.1.0").as_deref(), Some("LOCAL(0)"));
        assert_eq!(name("127.127.28.2").as_deref(), Some("SHM(2)"));
        assert_eq!(name("127.127.99.1").as_deref(), Some("REFCLK(99,1)"));
        assert_eq!(name("127.0.0.1"), None);
        assert_eq!(name("::1"), None);
    }

    #[test]
    fn mode_6_addresses_parse_with_and_without_ports() {
        let p = |s: &str| parse_netnum(s).map(|a| a.to_string());
        assert_eq!(p("198.18.0.2").as_deref(), Some("198.18.0.2:0"));
        assert_eq!(p("198.18.0.2:123").as_deref(), Some("198.18.0.2:123"));
        assert_eq!(p("[::1]:123").as_deref(), Some("[::1]:123"));
        assert_eq!(p("fe80::1").as_deref(), Some("[fe80::1]:0"));
        assert_eq!(p("LOCL"), None);
    }

    #[test]
    fn numeric_mode_never_looks_names_up() {
        let mut names = Names::new(true);
        assert_eq!(names.host("127.0.0.1".parse().unwrap()), "127.0.0.1");
        assert_eq!(
            names.host_port("127.0.0.1:123".parse().unwrap()),
            "127.0.0.1:123"
        );
        // Reference clocks keep their names only when names are shown.
        assert_eq!(names.host("127.127.1.0".parse().unwrap()), "127.127.1.0");
    }

    #[test]
    fn loopback_resolves_to_localhost_through_the_hosts_file() {
        let mut names = Names::new(false);
        assert_eq!(names.host("127.0.0.1".parse().unwrap()), "localhost");
        assert_eq!(names.host("127.127.1.0".parse().unwrap()), "LOCAL(0)");
    }
}
