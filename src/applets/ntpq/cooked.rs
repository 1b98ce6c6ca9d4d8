//! Printing a variable list as `readvar` shows it: "cooked" (the default),
//! where a few variables are decoded into friendlier forms and the list is
//! wrapped before 72 columns, or "raw", the server's text as it came.

use std::net::IpAddr;

use super::names::{parse_netnum, refclock_name, Names};
use super::values::{decode_ts, decode_uint, make_ascii, parse_ms, pretty_date, ValueContext};
use crate::proto::status::{describe_clock_status, PeerStatus, SystemStatus};
use crate::proto::varlist::{self, Variable};

/// ntpq's MAXOUTLINE: a cooked line is broken before it would pass this.
const MAX_OUT_LINE: usize = 72;
/// Array values are padded so that the first number starts where it would
/// after an 11-character name (`filtoffset=` lines up with `filtdelay=`).
const ARRAY_NAME_WIDTH: usize = 11;
/// Each array element is right-aligned in this many columns.
const ARRAY_ELEMENT_WIDTH: usize = 7;
/// At most this many elements of an array are shown.
const ARRAY_MAX: usize = 8;

/// The packet test names, bit 0 first, for `flash=` (ntpq's tstflagnames).
const FLASH_NAMES: [&str; 13] = [
    "pkt_dup",
    "pkt_bogus",
    "pkt_unsync",
    "pkt_denied",
    "pkt_auth",
    "pkt_stratum",
    "pkt_header",
    "pkt_autokey",
    "pkt_crypto",
    "peer_stratum",
    "peer_dist",
    "peer_loop",
    "peer_unreach",
];

/// Which kind of variables a response holds: it decides how the status
/// word reads and how `refid` is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    System,
    Peer,
    Clock,
}

/// The words after `status=XXXX` for a status word of this kind.
pub fn describe_status(kind: VarKind, status: u16) -> String {
    match kind {
        VarKind::System => SystemStatus::from_word(status).describe(),
        VarKind::Peer => PeerStatus::from_word(status).describe(),
        VarKind::Clock => describe_clock_status(status),
    }
}

/// Lays out `name=value` items, `, ` between them, `,\n` instead once a
/// line would grow past 72 columns (ntpq's output()).
#[derive(Default)]
struct Wrapper {
    text: String,
    line_len: usize,
}

impl Wrapper {
    fn item(&mut self, name: &str, value: &str) {
        let len = name.len() + 1 + value.len();
        if !self.text.is_empty() {
            if self.line_len + len + 2 > MAX_OUT_LINE {
                self.text.push_str(",\n");
                self.line_len = 0;
            } else {
                self.text.push_str(", ");
                self.line_len += 2;
            }
        }
        self.text.push_str(name);
        self.text.push('=');
        self.text.push_str(value);
        self.line_len += len;
    }

    fn finish(mut self) -> String {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text
    }
}

/// The value text as the server sent it (quotes and all).
fn raw_value(var: &Variable) -> String {
    match (&var.value, var.quoted) {
        (Some(v), true) => format!("\"{v}\""),
        (Some(v), false) => v.clone(),
        (None, _) => String::new(),
    }
}

/// The cooked form of one variable, or None to print it raw with a `?`
/// after it (a value ntpq could not decode).
fn cook(kind: VarKind, var: &Variable, names: &mut Names, ctx: &ValueContext) -> Cooked {
    let Some(value) = var.value.as_deref() else {
        return Cooked::AsIs;
    };
    match var.name.as_str() {
        "leap" => match decode_uint(value) {
            Some(v) if v <= 3 => Cooked::Text(format!("{}{}", v >> 1, v & 1)),
            _ => Cooked::Undecodable,
        },
        "reach" => match decode_uint(value) {
            Some(v) => Cooked::Text(format!("{v:03o}")),
            None => Cooked::Undecodable,
        },
        "refid" => cook_refid(kind, value),
        "reftime" | "clock" | "org" | "rec" | "xmt" => match decode_ts(value) {
            Some(ts) => Cooked::Text(pretty_date(ts, ctx.now, &ctx.zone)),
            None => Cooked::Undecodable,
        },
        "flash" => match decode_uint(value) {
            Some(bits) => Cooked::Text(flash_text(bits)),
            None => Cooked::Undecodable,
        },
        "srcadr" | "peeradr" => match parse_netnum(value) {
            Some(addr) => Cooked::Text(names.host(addr.ip())),
            None => Cooked::Undecodable,
        },
        "dstadr" => match parse_netnum(value) {
            Some(addr) => Cooked::Text(addr.ip().to_string()),
            None => Cooked::Undecodable,
        },
        "filtdelay" | "filtoffset" | "filtdisp" | "filterror" => match array_text(&var.name, value)
        {
            Some(text) => Cooked::Text(text),
            None => Cooked::Undecodable,
        },
        _ => Cooked::AsIs,
    }
}

enum Cooked {
    Text(String),
    AsIs,
    Undecodable,
}

/// `refid=`: an address (a clock's name for 127.127.t.u; for clock
/// variables the four bytes as text), or up to four characters as sent.
fn cook_refid(kind: VarKind, value: &str) -> Cooked {
    match parse_netnum(value).map(|a| a.ip()) {
        Some(IpAddr::V4(v4)) if kind == VarKind::Clock => {
            let text: String = v4
                .octets()
                .iter()
                .take_while(|&&b| b != 0)
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '?'
                    }
                })
                .collect();
            Cooked::Text(text)
        }
        Some(ip) => Cooked::Text(refclock_name(ip).unwrap_or_else(|| ip.to_string())),
        None if value.len() <= 4 => Cooked::Text(value.to_string()),
        None => Cooked::Undecodable,
    }
}

/// `flash=00 ok`, `flash=1000 peer_unreach`, `flash=0c pkt_unsync, pkt_denied`.
pub fn flash_text(bits: u64) -> String {
    let mut text = format!("{bits:02x}");
    if bits == 0 {
        text.push_str(" ok");
        return text;
    }
    let mut sep = " ";
    for (i, name) in FLASH_NAMES.iter().enumerate() {
        if bits & (1 << i) != 0 {
            text.push_str(sep);
            text.push_str(name);
            sep = ", ";
        }
    }
    text
}

/// The clock filter arrays: up to eight millisecond values, two decimals,
/// each in seven columns, aligned after an 11-character name.
fn array_text(name: &str, value: &str) -> Option<String> {
    let mut text = " ".repeat(ARRAY_NAME_WIDTH.saturating_sub(name.len()));
    for (i, item) in value.split_whitespace().take(ARRAY_MAX).enumerate() {
        let ms = parse_ms(item)?;
        if i > 0 {
            text.push(' ');
        }
        let number: String = format!("{ms:.2}")
            .chars()
            .take(ARRAY_ELEMENT_WIDTH)
            .collect();
        text.push_str(&format!("{number:>ARRAY_ELEMENT_WIDTH$}"));
    }
    Some(text)
}

/// The cooked printout: `status=0615 leap_none, ...,` (unless `quiet`,
/// which is for lists of named variables) and the wrapped variables.
pub fn cooked(
    kind: VarKind,
    status: u16,
    data: &[u8],
    quiet: bool,
    names: &mut Names,
    ctx: &ValueContext,
) -> String {
    let mut head = String::new();
    if !quiet {
        head = format!("status={status:04x} {},\n", describe_status(kind, status));
    }
    let mut w = Wrapper::default();
    for var in varlist::parse(data) {
        let name = make_ascii(var.name.as_bytes());
        match cook(kind, &var, names, ctx) {
            Cooked::Text(text) => w.item(&name, &text),
            Cooked::AsIs => w.item(&name, &make_ascii(raw_value(&var).as_bytes())),
            Cooked::Undecodable => {
                let shown = format!("{}?", make_ascii(raw_value(&var).as_bytes()));
                w.item(&name, &shown);
            }
        }
    }
    head + &w.finish()
}

/// The raw printout: `status=0x0016,` (unless quiet), then the data as it
/// came, with CR before LF dropped and unprintable bytes made visible.
pub fn raw(status: u16, data: &[u8], quiet: bool) -> String {
    let mut text = String::new();
    if !quiet {
        text.push_str(&format!("status=0x{status:04x},\n"));
    }
    for (i, &b) in data.iter().enumerate() {
        match b {
            b'\r' if data.get(i + 1) == Some(&b'\n') => {}
            b'\n' | b'\t' | b' ' | 0x0b | 0x0c => text.push(b as char),
            0x21..=0x7e => text.push(b as char),
            // NULs pad the end of some servers' last fragment.
            0 if data[i..].iter().all(|&z| z == 0) => break,
            _ => text.push_str(&make_ascii(&[b])),
        }
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::UnixTime;
    use crate::tz::{LocalZone, PosixTz, Zone};

    fn ctx() -> ValueContext {
        ValueContext {
            now: UnixTime::new(1_795_000_000, 0),
            zone: LocalZone::new(Zone::from_posix(PosixTz::fixed(b"UTC", 0))),
        }
    }

    /// ntpsec's answer to `rv` from the reference capture (wire #2).
    const NTPSEC_SYSVARS: &[u8] =
        b"leap=0, stratum=3, precision=-24, rootdelay=0.049, rootdisp=1.060,\r\n\
refid=198.18.0.2, reftime=0xeeaca5bc.b6c7cab5, tc=3, peer=17768,\r\n\
offset=0.000000, frequency=0.000000, sys_jitter=0.029866,\r\n\
clk_jitter=0.000060, clock=0xeeaca5c0.d20398b8, processor=\"x86_64\",\r\n\
system=\"Linux/6.18.44-fc-v669\", version=\"ntpd ntpsec-1.2.2\",\r\n\
clk_wander=0.000000, mintc=0\r\n";

    #[test]
    fn system_variables_cook_and_wrap_like_ntpq() {
        let text = cooked(
            VarKind::System,
            0x0016,
            NTPSEC_SYSVARS,
            false,
            &mut Names::new(true),
            &ctx(),
        );
        assert_eq!(
            text,
            "status=0016 leap_none, sync_unspec, 1 event, restart,\n\
leap=00, stratum=3, precision=-24, rootdelay=0.049, rootdisp=1.060,\n\
refid=198.18.0.2,\n\
reftime=eeaca5bc.b6c7cab5  Sat, Nov 21 2026 23:20:28.713, tc=3,\n\
peer=17768, offset=0.000000, frequency=0.000000, sys_jitter=0.029866,\n\
clk_jitter=0.000060,\n\
clock=eeaca5c0.d20398b8  Sat, Nov 21 2026 23:20:32.820,\n\
processor=\"x86_64\", system=\"Linux/6.18.44-fc-v669\",\n\
version=\"ntpd ntpsec-1.2.2\", clk_wander=0.000000, mintc=0\n"
        );
        for line in text.lines() {
            assert!(line.len() <= MAX_OUT_LINE, "{line:?}");
        }
    }

    #[test]
    fn peer_variables_decode_reach_flash_refid_and_arrays() {
        let data = b"srcadr=127.127.1.0, srcport=123, dstadr=127.0.0.1, leap=3, \
reach=0xff, refid=LOCL, flash=0x1000, filtdelay=\" 0.00 0.01 0.02 0.03 0.04 0.05 0.06 0.07\", \
filtoffset=\"-0.01 -350.123 0.0 0.0 0.0 0.0 0.0 0.0\", refid2=ABCDEF, reftime=bogus";
        let text = cooked(
            VarKind::Peer,
            0x9614,
            data,
            true,
            &mut Names::new(true),
            &ctx(),
        );
        assert_eq!(
            text,
            "srcadr=127.127.1.0, srcport=123, dstadr=127.0.0.1, leap=11, reach=377,\n\
refid=LOCL, flash=1000 peer_unreach,\n\
filtdelay=     0.00    0.01    0.02    0.03    0.04    0.05    0.06    0.07,\n\
filtoffset=   -0.01 -350.12    0.00    0.00    0.00    0.00    0.00    0.00,\n\
refid2=ABCDEF, reftime=bogus?\n"
        );
    }

    #[test]
    fn refids_of_reference_clocks_and_clock_variables() {
        let t = |kind, v: &str| match cook_refid(kind, v) {
            Cooked::Text(t) => t,
            _ => "?".to_string(),
        };
        assert_eq!(t(VarKind::Peer, "127.127.1.0"), "LOCAL(0)");
        assert_eq!(t(VarKind::Clock, "76.79.67.76"), "LOCL");
        assert_eq!(t(VarKind::System, "INIT"), "INIT");
        assert_eq!(t(VarKind::System, "TOOLONG"), "?");
    }

    #[test]
    fn flash_bits_have_names() {
        assert_eq!(flash_text(0), "00 ok");
        assert_eq!(flash_text(0x0c), "0c pkt_unsync, pkt_denied");
    }

    #[test]
    fn raw_output_keeps_the_servers_text() {
        assert_eq!(
            raw(0x0016, b"leap=0, stratum=3\r\n\x1a\0\0", false),
            "status=0x0016,\nleap=0, stratum=3\n^Z\n"
        );
        assert_eq!(raw(0, b"a=1", true), "a=1\n");
    }
}
