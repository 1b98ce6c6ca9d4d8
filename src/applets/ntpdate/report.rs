//! The lines ntpdate prints, in classic ntpdate's formats.

use std::fmt::Write;
use std::net::SocketAddr;

use super::log::local_time;
use super::options::NTP_PORT;
use super::sampling::{Event, Server};
use super::select::Filtered;
use crate::proto::{Header, Leap, NtpTimestamp, RefIdMeaning, UnixTime};

/// A server's address as classic prints it (`10.0.0.1`, `2001:db8::1`),
/// with the port only when it is not 123 (`127.0.0.1:11123`, `[::1]:11123`).
pub fn addr(addr: SocketAddr) -> String {
    if addr.port() == NTP_PORT {
        addr.ip().to_string()
    } else {
        SocketAddr::new(addr.ip(), addr.port()).to_string()
    }
}

/// An offset as classic's lfptoa(.., 6): sign only when negative.
pub fn offset(secs: f64) -> String {
    format!("{secs:.6}")
}

/// A delay as classic's fptoa(.., 5).
pub fn delay(secs: f64) -> String {
    format!("{secs:.5}")
}

/// `-q`'s per-server line: `server 10.0.0.1, stratum 2, offset -0.000065, delay 0.02570`.
pub fn server_line(server: &Server, f: &Filtered) -> String {
    format!(
        "server {}, stratum {}, offset {}, delay {}",
        addr(server.addr),
        f.best.reply.stratum,
        offset(f.best.offset),
        delay(f.best.delay)
    )
}

/// Whether the clock is (or would be) stepped or slewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Step,
    Adjust,
}

/// The result line: `step time server 10.0.0.1 offset -1.234567 sec` or
/// `adjust time server ...`.
pub fn result_line(action: Action, server: SocketAddr, secs: f64) -> String {
    let verb = match action {
        Action::Step => "step",
        Action::Adjust => "adjust",
    };
    format!(
        "{verb} time server {} offset {} sec",
        addr(server),
        offset(secs)
    )
}

/// A timestamp as ntp's prettydate: `eeaca4fe.0cc39000  Sat, Nov 21 2026 23:17:18.049`,
/// in local time.
pub fn pretty(ts: NtpTimestamp) -> String {
    if ts.is_zero() {
        return format!("{ts}  (none)");
    }
    let t = ts.to_unix(crate::net::realtime_now());
    format!("{ts}  {}", local_time(t, "%a, %b %e %Y %H:%M:%S%.3f"))
}

/// A timestamp as Unix seconds with microseconds, for -d.
fn unix(ts: NtpTimestamp) -> String {
    let t: UnixTime = ts.to_unix(crate::net::realtime_now());
    format!("{}.{:06}", t.secs(), t.subsec_nanos() / 1000)
}

/// The -d lines for one step of the sampling.
pub fn debug_event(event: &Event) -> String {
    match event {
        Event::Transmit { server } => format!("transmit({})", addr(server.addr)),
        Event::Ignored { from, why } => format!("receive({}): ignored: {why}", addr(*from)),
        Event::Unauthentic { server, why } => format!(
            "receive({}): authentication failed: {why}",
            addr(server.addr)
        ),
        Event::Timeout { server } => format!("timeout({}): no reply", addr(server.addr)),
        Event::Unreachable { server, error } => {
            format!("receive({}): {error}", addr(server.addr))
        }
        Event::Accepted { server, sample } => {
            let e = &sample.exchange;
            let mut s = format!("receive({})\n", addr(server.addr));
            let _ = writeln!(s, "  t1 originate: {}  {}", e.t1, unix(e.t1));
            let _ = writeln!(s, "  t2 receive:   {}  {}", e.t2, unix(e.t2));
            let _ = writeln!(s, "  t3 transmit:  {}  {}", e.t3, unix(e.t3));
            let _ = writeln!(s, "  t4 arrival:   {}  {}", e.t4, unix(e.t4));
            let _ = write!(
                s,
                "  offset {} delay {} root distance {}",
                offset(sample.offset),
                delay(sample.delay),
                offset(sample.root_distance)
            );
            s
        }
        Event::Rejected {
            server,
            exchange,
            why,
        } => {
            let mut s = format!("receive({}): rejected: {why}", addr(server.addr));
            if let Some(e) = exchange {
                let _ = write!(
                    s,
                    " (offset {} delay {})",
                    offset(e.offset()),
                    delay(e.delay())
                );
            }
            s
        }
    }
}

/// The -d block for one server after sampling, as classic's print_server.
pub fn debug_server(server: &Server, filtered: Option<&Filtered>, requested: u8) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "server {}, port {}",
        server.addr.ip(),
        server.addr.port()
    );
    let Some(reply) = filtered.map(|f| f.best.reply).or(server.last_reply) else {
        match &server.unauthentic {
            Some(why) => writeln!(
                s,
                "no authentic reply: transmitted {}, trust {:03o}: {why}\n",
                server.sent, server.trust
            ),
            None => writeln!(
                s,
                "no reply: transmitted {}, timed out {}, unreachable {}\n",
                server.sent, server.timeouts, server.unreachable
            ),
        }
        .unwrap_or_default();
        return s;
    };
    let _ = writeln!(
        s,
        "stratum {}, precision {}, leap {}, trust {:03o}",
        reply.stratum,
        reply.precision,
        leap_bits(reply.leap),
        server.trust
    );
    let _ = writeln!(
        s,
        "refid [{}], root delay {}, root dispersion {}",
        refid(&reply),
        offset(reply.root_delay.as_secs_f64()),
        offset(reply.root_dispersion.as_secs_f64())
    );
    let _ = writeln!(
        s,
        "transmitted {}, in filter {}",
        server.sent,
        server.samples.len()
    );
    let _ = writeln!(s, "reference time:      {}", pretty(reply.reference_ts));
    let _ = writeln!(s, "originate timestamp: {}", pretty(reply.transmit_ts));
    // Our own transmit time; the request itself carried a random cookie.
    let sent = filtered.map_or_else(|| "-".to_string(), |f| pretty(f.best.exchange.t1));
    let _ = writeln!(s, "transmit timestamp:  {sent}");
    if requested > 1 {
        let cells = |f: &dyn Fn(usize) -> Option<String>| {
            (0..requested as usize)
                .map(|i| format!(" {:<10}", f(i).unwrap_or_else(|| "----".into())))
                .collect::<String>()
        };
        let _ = writeln!(
            s,
            "filter delay: {}",
            cells(&|i| server.samples.get(i).map(|x| delay(x.delay)))
        );
        let _ = writeln!(
            s,
            "filter offset:{}",
            cells(&|i| server.samples.get(i).map(|x| offset(x.offset)))
        );
    }
    match filtered {
        Some(f) => {
            let _ = writeln!(
                s,
                "delay {}, dispersion {}, offset {}\n",
                delay(f.best.delay),
                delay(f.dispersion),
                offset(f.best.offset)
            );
        }
        None => {
            let why = server
                .rejected
                .map_or_else(|| "no usable reply".to_string(), |r| r.to_string());
            let _ = writeln!(s, "no usable sample: {why}\n");
        }
    }
    s
}

fn leap_bits(leap: Leap) -> String {
    format!("{:02b}", leap.bits())
}

/// The reference ID as classic prints it: text for stratum 0 and 1, a
/// dotted quad above.
fn refid(reply: &Header) -> String {
    match reply.reference_id.meaning(reply.stratum) {
        RefIdMeaning::Kiss(text) | RefIdMeaning::Source(text) => text,
        RefIdMeaning::Address(a) => a.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_classic_prints_them() {
        assert_eq!(offset(-0.0000654), "-0.000065");
        assert_eq!(offset(2.5000461), "2.500046");
        assert_eq!(delay(0.025701), "0.02570");
        assert_eq!(
            result_line(Action::Adjust, "10.0.0.1:123".parse().unwrap(), -0.000065),
            "adjust time server 10.0.0.1 offset -0.000065 sec"
        );
        assert_eq!(
            result_line(Action::Step, "[::1]:1123".parse().unwrap(), 2.5),
            "step time server [::1]:1123 offset 2.500000 sec"
        );
    }
}
