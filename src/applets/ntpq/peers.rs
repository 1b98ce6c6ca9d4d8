//! `peers` (`-p`), `lpeers`, `opeers`, `lopeers`, `apeers`: one line per
//! association, laid out exactly as classic ntpq lays it out.
//!
//! ```text
//!      remote           refid      st t when poll reach   delay   offset  jitter
//! ==============================================================================
//! *131.107.13.100  .ACTS.           1 u   30   64   67  237.165    1.539  20.382
//! ```

use std::net::{IpAddr, SocketAddr};

use super::names::{parse_netnum, refclock_name, Names};
use super::shell::Shell;
use super::values::{clip, decode_int, decode_ts, decode_uint, ms3, parse_ms, pretty_interval};
use crate::proto::control::opcode;
use crate::proto::status::PeerStatus;
use crate::proto::varlist::{self, Variable};
use crate::proto::NtpTimestamp;

pub const PEERS_HEADER: &str =
    "     remote           refid      st t when poll reach   delay   offset  jitter";
pub const OPEERS_HEADER: &str =
    "     remote           local      st t when poll reach   delay   offset    disp";
pub const APEERS_HEADER: &str =
    "     remote       refid   assid  st t when poll reach   delay   offset  jitter";
/// The `=` rule under each header.
pub const RULE_WIDTH: usize = 78;

/// Width of the remote and refid columns.
const NAME_COLUMN: usize = 15;
/// Width of apeers' shorter refid column.
const APEERS_REFID_COLUMN: usize = 9;
/// `-w` puts a long remote name on its own line, and the rest of the row
/// on the next, starting under the refid column.
const WIDE_CONTINUATION: &str = "\n                 ";
/// ntpq's NTP_MINPOLL: what a negative poll exponent is taken as.
const MIN_POLL: i64 = 3;
/// Largest poll exponent worth shifting by (ntpd's maximum is 17).
const MAX_POLL_SHIFT: i64 = 30;

/// Association modes (the `hmode` variable).
mod mode {
    pub const ACTIVE: i64 = 1;
    pub const PASSIVE: i64 = 2;
    pub const CLIENT: i64 = 3;
    pub const BROADCAST: i64 = 5;
    /// MODE_BCLIENT shares the number of MODE_CONTROL.
    pub const BROADCAST_CLIENT: i64 = 6;
}

/// Which table: they differ in the third column and the last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// refid, jitter.
    Peers,
    /// local address, dispersion.
    Old,
    /// short refid and association ID, jitter.
    WithIds,
}

impl Layout {
    pub fn header(self) -> &'static str {
        match self {
            Layout::Peers => PEERS_HEADER,
            Layout::Old => OPEERS_HEADER,
            Layout::WithIds => APEERS_HEADER,
        }
    }
}

/// The variables of one association that the table uses, decoded as
/// ntpq decodes them (missing or undecodable ones stay zero).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeerFields {
    pub srcadr: Option<SocketAddr>,
    pub srchost: Option<String>,
    pub dstadr: Option<SocketAddr>,
    pub refid: Option<String>,
    pub hmode: i64,
    pub stratum: u64,
    pub hpoll: i64,
    pub ppoll: i64,
    pub reach: u64,
    /// Milliseconds.
    pub delay: f64,
    pub offset: f64,
    pub jitter: Option<f64>,
    pub dispersion: f64,
    pub rec: NtpTimestamp,
    pub reftime: NtpTimestamp,
}

impl PeerFields {
    pub fn from_vars(vars: &[Variable]) -> PeerFields {
        let mut f = PeerFields::default();
        let poll = |v: &str| decode_int(v).map(|p| if p < 0 { MIN_POLL } else { p });
        for var in vars {
            let value = var.value.as_deref().unwrap_or("");
            match var.name.as_str() {
                "srcadr" | "peeradr" => f.srcadr = parse_netnum(value),
                "srchost" if !value.is_empty() => f.srchost = Some(value.to_string()),
                "dstadr" => f.dstadr = parse_netnum(value),
                "hmode" => f.hmode = decode_int(value).unwrap_or(0),
                "refid" => f.refid = Some(value.to_string()),
                "stratum" => f.stratum = decode_uint(value).unwrap_or(0),
                "hpoll" => f.hpoll = poll(value).unwrap_or(0),
                "ppoll" => f.ppoll = poll(value).unwrap_or(0),
                "reach" => f.reach = decode_uint(value).unwrap_or(0),
                "delay" => f.delay = parse_ms(value).unwrap_or(0.0),
                "offset" => f.offset = parse_ms(value).unwrap_or(0.0),
                "jitter" => f.jitter = parse_ms(value),
                "dispersion" | "rootdisp" => f.dispersion = parse_ms(value).unwrap_or(0.0),
                "rec" => f.rec = decode_ts(value).unwrap_or_default(),
                "reftime" => f.reftime = decode_ts(value).unwrap_or_default(),
                _ => {}
            }
        }
        f
    }

    /// The `t` column: from the association mode, else from the kind of
    /// local address.
    pub fn type_char(&self) -> char {
        let src = self.srcadr.map(|a| a.ip());
        match self.hmode {
            mode::BROADCAST_CLIENT => 'b',
            mode::BROADCAST if src.is_some_and(|ip| ip.is_multicast()) => 'M',
            mode::BROADCAST => 'B',
            mode::CLIENT => match src {
                Some(ip) if refclock_name(ip).is_some() => 'l',
                None => 'p',
                Some(ip) if ip.is_unspecified() => 'p',
                Some(ip) if ip.is_multicast() => 'a',
                Some(_) => 'u',
            },
            mode::ACTIVE => 's',
            mode::PASSIVE => 'S',
            _ => match self.dstadr.map(|a| a.ip()) {
                None => '?',
                Some(IpAddr::V4(v4)) => {
                    let a = u32::from(v4);
                    if v4.is_multicast() {
                        'm'
                    } else if a & 0xff == 0xff {
                        'b'
                    } else if v4.is_loopback() && a == 0x7f00_0001 {
                        'l'
                    } else if a & 0xffff_ffe0 == 0 {
                        '-'
                    } else {
                        'u'
                    }
                }
                Some(IpAddr::V6(v6)) if v6.is_multicast() => 'm',
                Some(IpAddr::V6(_)) => 'u',
            },
        }
    }

    /// Seconds since the last packet (or the reference time), in NTP
    /// seconds of the era: `now` is the NTP seconds field of the time now.
    pub fn when(&self, now: u32) -> i64 {
        let last = if self.rec.era_secs() != 0 {
            self.rec
        } else if self.reftime.era_secs() != 0 {
            self.reftime
        } else {
            return 0;
        };
        i64::from(now.wrapping_sub(last.era_secs()) as i32)
    }

    /// The poll interval in seconds: the smaller of ours and the peer's.
    pub fn poll_secs(&self) -> i64 {
        1i64 << self.ppoll.min(self.hpoll).clamp(0, MAX_POLL_SHIFT)
    }
}

/// The refid column: `.LOCL.` for a text refid, an address, a clock's
/// name for 127.127.t.u, blank for something else.
pub fn refid_column(text: &str, layout: Layout) -> String {
    if text.is_empty() {
        return String::new();
    }
    if text.len() <= 4 {
        let shown: String = text
            .bytes()
            .map(|b| if b.is_ascii_graphic() { b as char } else { '?' })
            .collect();
        return format!(".{shown}.");
    }
    match parse_netnum(text).map(|a| a.ip()) {
        Some(ip) if ip.is_unspecified() => "0.0.0.0".to_string(),
        Some(ip) => match refclock_name(ip) {
            Some(name) => name,
            None => match (layout, ip) {
                // apeers shows IPv4 refids as hex, to fit its short column.
                (Layout::WithIds, IpAddr::V4(v4)) => format!("{:x}", u32::from(v4)),
                _ => ip.to_string(),
            },
        },
        None => String::new(),
    }
}

/// `_` and the right end of TEXT when it is longer than WIDTH (how ntpq
/// shortens numeric local addresses, whose low bits tell them apart).
fn trunc_left(text: &str, width: usize) -> String {
    if text.len() > width && width > 1 {
        format!("_{}", &text[text.len() + 1 - width..])
    } else {
        text.to_string()
    }
}

/// One row of the table, newline included (two lines with `-w` and a
/// long name).
pub fn format_row(
    f: &PeerFields,
    status: PeerStatus,
    association: u16,
    layout: Layout,
    wide: bool,
    names: &mut Names,
    now: u32,
) -> String {
    let remote = match (&f.srchost, f.srcadr) {
        (Some(host), _) => host.clone(),
        (None, Some(addr)) => match refclock_name(addr.ip()) {
            Some(clock) => clock,
            None => names.host(addr.ip()),
        },
        (None, None) => "0.0.0.0".to_string(),
    };
    let mut row = String::new();
    row.push(status.tally());
    if wide && remote.len() > NAME_COLUMN {
        row.push_str(&remote);
        row.push_str(WIDE_CONTINUATION);
    } else {
        let clipped: String = remote.chars().take(NAME_COLUMN).collect();
        row.push_str(&format!("{clipped:<NAME_COLUMN$} "));
    }
    let third = match layout {
        Layout::Old => f
            .dstadr
            .map(|a| trunc_left(&a.ip().to_string(), NAME_COLUMN))
            .unwrap_or_else(|| "0.0.0.0".to_string()),
        _ => f
            .refid
            .as_deref()
            .map(|r| refid_column(r, layout))
            .unwrap_or_default(),
    };
    let shown = super::values::make_ascii(third.as_bytes());
    match layout {
        Layout::WithIds => row.push_str(&format!("{shown:<APEERS_REFID_COLUMN$}{association:<6}")),
        _ => row.push_str(&format!("{shown:<NAME_COLUMN$}")),
    }
    let last = match (layout, f.jitter) {
        (Layout::Old, _) | (_, None) => f.dispersion,
        (_, Some(jitter)) => jitter,
    };
    row.push_str(&format!(
        " {:>2} {} {} {}  {:>3o}  {} {} {}\n",
        f.stratum,
        f.type_char(),
        clip(&pretty_interval(f.when(now)), 4, 4),
        clip(&pretty_interval(f.poll_secs()), 4, 4),
        f.reach,
        clip(&ms3(f.delay), 7, 7),
        clip(&ms3(f.offset), 8, 7),
        clip(&ms3(last), 7, 7),
    ));
    row
}

/// The peers commands. `all` lists every association (`lpeers`), else
/// only configured or reachable ones; `family` limits the rows to IPv4
/// or IPv6 peers (`peers -4`).
pub fn peers(sh: &mut Shell, all: bool, layout: Layout, family: Option<u8>) {
    if !sh.fetch_associations() {
        return;
    }
    let host_width = server_column_width(sh);
    let mut head = String::new();
    if let Some(width) = host_width {
        let label = if layout == Layout::Old {
            "server"
        } else {
            "server (local)"
        };
        let label: String = label.chars().take(width).collect();
        head.push_str(&format!("{label:<width$} "));
    }
    head.push_str(layout.header());
    head.push('\n');
    if let Some(width) = host_width {
        head.push_str(&"=".repeat(width + 1));
    }
    head.push_str(&"=".repeat(RULE_WIDTH));
    head.push('\n');
    sh.say(&head);

    let listed: Vec<_> = sh
        .associations
        .iter()
        .copied()
        .filter(|a| all || a.peer_status().is_listed())
        .collect();
    for assoc in listed {
        let Some(r) = sh.query(opcode::READVAR, assoc.id, &[]) else {
            return;
        };
        if r.data.is_empty() {
            let server = if sh.many_hosts() {
                format!("server={} ", sh.host_name())
            } else {
                String::new()
            };
            sh.error(&format!(
                "{server}***No information returned for association {}",
                assoc.id
            ));
            return;
        }
        let fields = PeerFields::from_vars(&varlist::parse(&r.data));
        let wanted = match family {
            Some(4) => fields.srcadr.is_none_or(|a| a.is_ipv4()),
            Some(6) => fields.srcadr.is_none_or(|a| a.is_ipv6()),
            _ => true,
        };
        if !wanted {
            continue;
        }
        let mut line = String::new();
        if let Some(width) = host_width {
            let local = match fields.dstadr {
                Some(a) if layout != Layout::Old => {
                    let name = sh.names.host(a.ip());
                    if sh.names.numeric {
                        trunc_left(&name, width)
                    } else {
                        name.chars().take(width).collect()
                    }
                }
                _ => sh.host_name(),
            };
            line.push_str(&format!("{local:<width$} "));
        }
        let now = NtpTimestamp::from_unix(crate::net::realtime_now()).era_secs();
        line.push_str(&format_row(
            &fields,
            PeerStatus::from_word(r.status),
            assoc.id,
            layout,
            sh.wide,
            &mut sh.names,
            now,
        ));
        sh.say(&line);
    }
}

/// With several hosts, a first column names the server: as wide as the
/// longest host name.
fn server_column_width(sh: &mut Shell) -> Option<usize> {
    if !sh.many_hosts() {
        return None;
    }
    let hosts = sh.hosts.clone();
    let family = sh.family;
    let width = hosts
        .iter()
        .filter_map(|h| h.resolve(family).ok().map(|a| a[0]))
        .map(|a| sh.names.host(a.ip()).len())
        .max()
        .unwrap_or(0);
    Some(width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &[u8]) -> PeerFields {
        PeerFields::from_vars(&varlist::parse(text))
    }

    /// NTP seconds of 2026-11-22T00:01:07Z, a moment of the reference lab.
    const NOW: u32 = 0xeeac_af43;

    fn row(f: &PeerFields, status: u16, wide: bool) -> String {
        format_row(
            f,
            PeerStatus::from_word(status),
            17768,
            Layout::Peers,
            wide,
            &mut Names::new(true),
            NOW,
        )
    }

    #[test]
    fn the_header_and_rule_are_classic() {
        assert_eq!(PEERS_HEADER.len(), 78);
        assert_eq!(OPEERS_HEADER.len(), 78);
    }

    #[test]
    fn a_sys_peer_row_matches_the_seed_layout() {
        let f = fields(
            b"srcadr=131.107.13.100, srcport=123, dstadr=192.168.6.51, hmode=3, \
stratum=1, refid=ACTS, hpoll=6, ppoll=6, reach=0x37, delay=237.165, offset=1.539, \
jitter=20.382, rec=0xeeacaf25.00000000",
        );
        assert_eq!(
            row(&f, 0x9614 | 0x0200, false),
            "*131.107.13.100  .ACTS.           1 u   30   64   67  237.165    1.539  20.382\n"
        );
    }

    #[test]
    fn long_offsets_clip_and_long_names_wrap_only_with_w() {
        let f = PeerFields {
            srchost: Some("golem.canonical.com".to_string()),
            srcadr: Some("91.189.94.4:123".parse().unwrap()),
            refid: Some("140.203.204.77".to_string()),
            hmode: 3,
            stratum: 2,
            hpoll: 6,
            ppoll: 6,
            reach: 3,
            delay: 241.382,
            offset: 179133.2,
            jitter: Some(150.142),
            ..PeerFields::default()
        };
        assert_eq!(
            row(&f, 0x9014, false),
            " golem.canonical 140.203.204.77   2 u    -   64    3  241.382  179133. 150.142\n"
        );
        assert_eq!(
            row(&f, 0x9014, true),
            " golem.canonical.com\n                 140.203.204.77   2 u    -   64    3  241.382  179133. 150.142\n"
        );
    }

    #[test]
    fn tally_type_and_refid_of_local_and_unreachable_peers() {
        let local = fields(
            b"srcadr=127.127.1.0, hmode=3, stratum=10, refid=LOCL, hpoll=6, ppoll=6, \
reach=0374, rec=0xeeacaeb3.0, srchost=\"LOCAL(0)\"",
        );
        assert_eq!(
            row(&local, 0x8000, false),
            " LOCAL(0)        .LOCL.          10 l  144   64  374    0.000    0.000   0.000\n"
        );
        let init = fields(
            b"srcadr=198.18.0.7, hmode=3, stratum=16, refid=INIT, hpoll=4, ppoll=4, \
reach=0x0, delay=0.000, offset=0.000, jitter=0.0001",
        );
        assert_eq!(
            row(&init, 0x8011, false),
            " 198.18.0.7      .INIT.          16 u    -   16    0    0.000    0.000   0.000\n"
        );
    }

    #[test]
    fn every_select_code_has_its_tally() {
        let f = fields(b"srcadr=10.0.0.1, hmode=3, hpoll=6, ppoll=6");
        let tallies: String = (0..8u16)
            .map(|s| row(&f, 0x9000 | (s << 8), false).chars().next().unwrap())
            .collect();
        assert_eq!(tallies, " x.-+#*o");
    }

    #[test]
    fn type_column_follows_the_mode_and_address() {
        let t = |text: &[u8]| fields(text).type_char();
        assert_eq!(t(b"srcadr=10.0.0.1, hmode=1"), 's');
        assert_eq!(t(b"srcadr=10.0.0.1, hmode=2"), 'S');
        assert_eq!(t(b"srcadr=224.0.1.1, hmode=5"), 'M');
        assert_eq!(t(b"srcadr=10.0.0.255, hmode=5"), 'B');
        assert_eq!(t(b"srcadr=10.0.0.1, hmode=6"), 'b');
        assert_eq!(t(b"srcadr=0.0.0.0, hmode=3"), 'p');
        assert_eq!(t(b"srcadr=239.1.1.1, hmode=3"), 'a');
        assert_eq!(t(b"srcadr=127.127.28.0, hmode=3"), 'l');
        assert_eq!(t(b"srcadr=10.0.0.1, dstadr=127.0.0.1"), 'l');
        assert_eq!(t(b"srcadr=10.0.0.1"), '?');
    }

    #[test]
    fn refid_forms() {
        assert_eq!(refid_column("LOCL", Layout::Peers), ".LOCL.");
        assert_eq!(refid_column("198.18.0.2", Layout::Peers), "198.18.0.2");
        assert_eq!(refid_column("127.127.1.1", Layout::Peers), "LOCAL(1)");
        assert_eq!(refid_column("0.0.0.0", Layout::Peers), "0.0.0.0");
        assert_eq!(refid_column("198.18.0.2", Layout::WithIds), "c6120002");
        assert_eq!(refid_column("", Layout::Peers), "");
        assert_eq!(refid_column("garbage!", Layout::Peers), "");
    }

    #[test]
    fn when_counts_from_rec_then_reftime() {
        let mut f = PeerFields::default();
        assert_eq!(f.when(NOW), 0);
        f.reftime = NtpTimestamp::from_parts(NOW - 100, 0);
        assert_eq!(f.when(NOW), 100);
        f.rec = NtpTimestamp::from_parts(NOW - 7, 0);
        assert_eq!(f.when(NOW), 7);
        f.rec = NtpTimestamp::from_parts(NOW + 2, 0);
        assert_eq!(pretty_interval(f.when(NOW)), "-");
    }
}
