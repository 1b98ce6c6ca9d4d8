//! `ntpdate`: set the date and time via NTP, the way ntp 4.2.8's ntpdate
//! does it, for the cron jobs and boot scripts that call it.
//!
//! Every server address is queried at once from one poll loop; each gets
//! its next request as soon as the last is answered. The best sample of
//! each server (lowest delay) goes into classic ntpdate's selection, and the
//! chosen server's offset is stepped (0.5 s or more, or -b) or slewed
//! (less, or -B). With -q or -d nothing is set. With -a KEYID requests
//! are signed with that key of the keys file (-k) and only replies signed
//! with it are used (see `auth`).

mod adjust;
mod auth;
mod log;
mod options;
mod report;
mod resolve;
mod sampling;
mod select;

use std::ffi::OsString;
use std::io::{self, Write};

use crate::clock::{Clock, LinuxClock};
use crate::proto::KissCode;
use log::Log;
use options::{Options, NTP_PORT};
use sampling::{Plan, Server, Sockets, Stop};
use select::Filtered;

pub use options::command;

/// Classic ntpdate's exit status for a command-line error.
const USAGE_STATUS: i32 = 2;
/// Any failure: no usable server, no clock access, no socket.
const FAILURE: i32 = 1;

pub fn run(args: Vec<OsString>) -> i32 {
    let matches = match crate::applets::parse_args(command(), args, USAGE_STATUS) {
        Ok(m) => m,
        Err(status) => return status,
    };
    let opts = Options::from_matches(&matches);
    let log = Log::new(opts.syslog);
    match ntpdate(&opts, &log) {
        Ok(()) => 0,
        Err(message) => {
            log.error(&message);
            FAILURE
        }
    }
}

/// The whole run; the error is the last line to log before exiting 1.
fn ntpdate(opts: &Options, log: &Log) -> Result<(), String> {
    if opts.debug > 0 || opts.verbose {
        log.notice(&format!("ntpdate {} (ntpbox)", env!("CARGO_PKG_VERSION")));
    }

    let mut servers = Vec::new();
    for spec in &opts.servers {
        match resolve::resolve(spec, opts.family) {
            Ok(addrs) => servers.extend(addrs.into_iter().map(Server::new)),
            Err(why) => log.error(&format!("Can't find host {}: {why}", spec.host)),
        }
    }
    if servers.is_empty() {
        return Err("no servers can be used, exiting".into());
    }
    let auth = match opts.auth_key {
        Some(key_id) => Some(auth::Auth::load(key_id, &opts.key_file, log)?),
        None => None,
    };

    let sockets = open_sockets(opts, &servers)?;
    let plan = Plan {
        samples: opts.samples,
        timeout: opts.timeout,
        version: opts.version,
        auth: auth.as_ref(),
    };
    let debug = opts.debug > 0;
    let mut show = |event: sampling::Event| {
        if debug {
            print_line(&report::debug_event(&event));
        }
    };
    sampling::run(&sockets, &mut servers, plan, &mut show)
        .map_err(|e| format!("poll() error: {e}"))?;

    for server in &servers {
        if let Some(stop) = &server.stopped {
            log.error(&stop_message(server, stop));
        }
    }
    let filtered: Vec<Option<Filtered>> = servers
        .iter()
        .map(|s| select::filter(s, opts.samples))
        .collect();
    let selection = select::select(&filtered);

    if debug {
        print_line("");
        for (server, f) in servers.iter().zip(&filtered) {
            print_block(&report::debug_server(server, f.as_ref(), opts.samples));
        }
    }
    if opts.query_only && !debug {
        for (server, f) in servers.iter().zip(&filtered) {
            if let Some(f) = f {
                print_line(&report::server_line(server, f));
            }
        }
    }

    let Some(chosen) = selection.chosen else {
        for (i, server) in servers.iter().enumerate() {
            let dropped = selection.dropped.iter().find(|(j, _)| *j == i);
            if let Some(why) = unsuitable_reason(server, dropped.map(|(_, d)| d), opts.auth_key) {
                log.error(&format!("{}: {why}", report::addr(server.addr)));
            }
        }
        return Err("no server suitable for synchronization found".into());
    };
    let (server, best) = match &filtered[chosen] {
        Some(f) => (&servers[chosen], f.best),
        None => return Err("no server suitable for synchronization found".into()),
    };
    let action = adjust::choose(opts.correction, best.offset);
    if opts.sets_clock() {
        let mut clock = LinuxClock::realtime();
        adjust::apply(&mut clock, action, best.offset)
            .map_err(|e| adjust::failure_message(action, best.offset, &e))?;
        log.notice(&report::result_line(action, server.addr, best.offset));
        if opts.verbose && action == report::Action::Adjust {
            // What the kernel says is left to slew (ADJ_OFFSET_SS_READ).
            if let Ok(left) = clock.slew_remaining() {
                log.notice(&adjust::slew_progress(left));
            }
        }
        return Ok(());
    }
    log.notice(&report::result_line(action, server.addr, best.offset));
    Ok(())
}

/// The socket(s) for the queries: source port 123 when the clock is to be
/// set (as classic, so that firewalls built for it keep working), any port
/// with -u, -q or -d.
fn open_sockets(opts: &Options, servers: &[Server]) -> Result<Sockets, String> {
    let port = if opts.sets_clock() && !opts.unprivileged_port {
        NTP_PORT
    } else {
        0
    };
    Sockets::open(servers, port).map_err(|e| match e.kind() {
        io::ErrorKind::AddrInUse => "the NTP socket is in use, exiting".to_string(),
        io::ErrorKind::PermissionDenied if port == NTP_PORT => format!(
            "bind() fails: {e} (port {NTP_PORT} needs root; use -u for an unprivileged port)"
        ),
        _ => format!("bind() fails: {e}"),
    })
}

fn stop_message(server: &Server, stop: &Stop) -> String {
    let addr = report::addr(server.addr);
    match stop {
        Stop::Kiss(KissCode::Rate) => format!("{addr} rate limit response from server."),
        Stop::Kiss(KissCode::Deny) => {
            format!("{addr} access denied by server (kiss code DENY), server dropped.")
        }
        Stop::Kiss(KissCode::Rstr) => {
            format!("{addr} access restricted by server (kiss code RSTR), server dropped.")
        }
        Stop::Kiss(other) => format!("{addr} kiss code {other} from server, server dropped."),
        Stop::SendFailed(why) => format!("sendto({addr}): {why}"),
    }
}

/// Why a server could not be used, for the lines before "no server
/// suitable": None when it was already said (kiss-o'-death, send error).
/// `auth_key` is -a's key, which a silent server may not share.
fn unsuitable_reason(
    server: &Server,
    dropped: Option<&select::Dropped>,
    auth_key: Option<u32>,
) -> Option<String> {
    if server.stopped.is_some() {
        return None;
    }
    if let Some(why) = dropped {
        return Some(format!("Server dropped: {why}"));
    }
    if let Some(why) = server.rejected {
        return Some(format!("Server dropped: {why}"));
    }
    if let Some(why) = &server.unauthentic {
        // Classic ntpdate's words, then why.
        return Some(format!("Server dropped: Server is untrusted ({why})"));
    }
    if let Some(why) = &server.ignored {
        return Some(format!("no valid reply: {why}"));
    }
    let requests = |n: u32| format!("{n} request{}", if n == 1 { "" } else { "s" });
    Some(match &server.unreachable_error {
        None => match auth_key {
            // NTPsec and chronyd drop requests whose MAC they cannot verify.
            Some(key) => format!(
                "no reply ({} timed out; servers do not answer requests they cannot \
                 authenticate: is key {key} the same there?)",
                requests(server.timeouts)
            ),
            None => format!("no reply ({} timed out)", requests(server.timeouts)),
        },
        Some(error) if server.timeouts == 0 => format!("no reply: {error}"),
        Some(error) => format!(
            "no reply: {error} ({} timed out)",
            requests(server.timeouts)
        ),
    })
}

fn print_line(line: &str) {
    let _ = writeln!(io::stdout(), "{line}");
}

/// Prints lines that already end in a newline.
fn print_block(text: &str) {
    let _ = write!(io::stdout(), "{text}");
}
