//! `ntpd`: the NTP daemon.
//!
//! Part 1 (this module): the command line, ntp.conf, the sockets and the
//! poll loop, and the server side (replies, restrict, rate limiting, the
//! local clock driver, orphan mode). Part 2 will plug the clock-
//! synchronising engine into `engine::Engine`; until then the options and
//! directives that need it say so instead of doing nothing.

pub mod adjust;
pub mod cli;
pub mod control;
mod daemon;
pub mod drift;
pub mod engine;
pub mod listen;
pub mod log;
mod privs;
pub mod resolve;
mod seccomp;
pub mod serve;
pub mod server;
mod signals;
pub mod stats;
pub mod time;

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;

use cli::Options;
use log::Logger;
use server::{AccessTable, Mru, Responder};

use crate::clock::{ClockError, LinuxClock};
use crate::config::{self, Config, Loaded, DEFAULT_CONFIG_PATH, NTP_PORT};

pub fn command() -> clap::Command {
    cli::command()
}

pub fn run(args: Vec<OsString>) -> i32 {
    let matches = match crate::applets::parse_args(command(), args.clone(), 1) {
        Ok(m) => m,
        Err(status) => return status,
    };
    let options = Options::from_matches(&matches, &args);
    let conffile = options
        .conffile
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
    let mut loaded = config::load_file(&conffile);
    apply_command_line(&options, &mut loaded);

    if options.check {
        for d in &loaded.diagnostics.items {
            eprintln!("{d}");
        }
        return i32::from(loaded.diagnostics.has_errors());
    }
    if loaded.diagnostics.has_errors() {
        for d in &loaded.diagnostics.items {
            eprintln!("ntpd: {d}");
        }
        eprintln!(
            "ntpd: not started: fix the errors above (ntpd --check -c {} lists them)",
            conffile.display()
        );
        return 1;
    }
    match start(&options, loaded.config, &loaded.diagnostics) {
        Ok(status) => status,
        Err(message) => {
            eprintln!("ntpd: {message}");
            1
        }
    }
}

/// Command-line options override ntp.conf, as in classic ntpd.
fn apply_command_line(o: &Options, loaded: &mut Loaded) {
    let c = &mut loaded.config;
    if let Some(path) = &o.driftfile {
        c.driftfile = Some(config::Driftfile {
            path: path.clone(),
            tolerance: None,
        });
    }
    if let Some(path) = &o.keyfile {
        c.keys = Some(path.clone());
        match config::auth::read_keys_file(path, &mut loaded.diagnostics) {
            Ok(keys) => c.keyring = keys,
            Err(e) => loaded.diagnostics.warning(
                path,
                0,
                format!(
                    "keys file: {}; running without keys",
                    config::auth::os_message(&e)
                ),
            ),
        }
    }
    if let Some(path) = &o.logfile {
        c.logfile = Some(path.clone());
    }
    if let Some(path) = &o.pidfile {
        c.pidfile = Some(path.clone());
    }
    if let Some(path) = &o.statsdir {
        c.statsdir = Some(path.clone());
    }
    c.trusted_keys.extend(&o.trusted_keys);
    if let Some(auth) = o.auth_required {
        c.flags.auth = auth;
    }
    if let Some(port) = o.port {
        c.port = Some(port);
    }
}

fn open_log(o: &Options, config: &Config) -> Result<Logger, String> {
    match &config.logfile {
        Some(path) => Logger::file(path, o.debug).map_err(|e| {
            format!(
                "cannot open log file {}: {}",
                path.display(),
                config::auth::os_message(&e)
            )
        }),
        None if o.foreground || o.quit => Ok(Logger::stderr(o.debug)),
        None => Ok(Logger::syslog(o.debug)),
    }
}

/// Everything from opening the log to the end of the loop.
fn start(o: &Options, config: Config, diagnostics: &config::Diagnostics) -> Result<i32, String> {
    let mut log = open_log(o, &config)?;
    log.notice(&format!(
        "ntpd ntpbox-{}: Starting",
        env!("CARGO_PKG_VERSION")
    ));
    log.info(&format!("Command line: {}", o.command_line));
    for d in diagnostics.warnings() {
        log.warning(&d.to_string());
    }
    check_clock_control(&config, &mut log)?;
    if o.nice {
        // SAFETY: setpriority with constant arguments.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, -20) } != 0 {
            log.warning(&format!(
                "-N: cannot raise the priority: {}",
                std::io::Error::last_os_error()
            ));
        }
    }

    let precision = time::measure_precision();
    log.info(&format!(
        "proto: precision = {:.3} usec ({precision})",
        2f64.powi(i32::from(precision)) * 1e6
    ));
    let responder = build_responder(&config, &mut log);

    let port = config.port.unwrap_or(NTP_PORT);
    let limits = listen::ListenLimits {
        ipv4_only: o.ipv4_only,
        ipv6_only: o.ipv6_only,
        no_virtual: o.no_virtual_ips,
    };
    let (listeners, lines) = listen::open(&listen::candidates(), &config.interfaces, limits, port);
    for (ok, line) in &lines {
        if *ok {
            log.info(line);
        } else {
            log.warning(line);
        }
    }
    if !listeners.iter().any(|l| l.serve) {
        let reason = format!("no address to serve on port {port} (see the log)");
        log.error(&reason);
        return Err(reason);
    }

    let mut readiness = if o.foreground || o.quit {
        daemon::Readiness::none()
    } else {
        match daemon::daemonize() {
            Ok(r) => r,
            Err(parent_status) => return Ok(parent_status),
        }
    };
    let result = serve(
        o,
        &config,
        precision,
        responder,
        &listeners,
        &mut log,
        &mut readiness,
    );
    if let Err(reason) = &result {
        log.error(reason);
        readiness.failed(reason);
    }
    result
}

/// With clock control on (no `disable ntp`) ntpd must be able to adjust
/// the clock; part 1 then still leaves it alone, and says so.
fn check_clock_control(config: &Config, log: &mut Logger) -> Result<(), String> {
    if !config.flags.ntp {
        privs::drop_clock_capability().map_err(|e| format!("cannot drop CAP_SYS_TIME: {e}"))?;
        if privs::has_capability(privs::CAP_SYS_TIME) {
            return Err("CAP_SYS_TIME is still effective after dropping it".into());
        }
        log.notice(
            "disable ntp: the clock is never adjusted; serving time only, without CAP_SYS_TIME",
        );
        return Ok(());
    }
    match LinuxClock::realtime().probe_write_permission() {
        Ok(()) => Ok(()),
        Err(ClockError::PermissionDenied(_)) => Err(
            "cannot adjust the clock: Operation not permitted (needs CAP_SYS_TIME: run as root, or put \"disable ntp\" in ntp.conf to serve time without touching the clock)".to_string(),
        ),
        Err(e) => Err(e.to_string()),
    }
}

fn build_responder(config: &Config, log: &mut Logger) -> Responder {
    let resolve = |name: &str| -> Result<Vec<IpAddr>, String> {
        use std::net::ToSocketAddrs;
        (name, 0)
            .to_socket_addrs()
            .map(|it| it.map(|a| a.ip()).collect())
            .map_err(|e| e.to_string())
    };
    let (access, problems) = AccessTable::build(&config.restrictions, resolve);
    for p in problems {
        log.warning(&format!("{}: {}", p.origin, p.message));
    }
    let mru = config
        .flags
        .monitor
        .then(|| Mru::with_capacity(Mru::capacity_for(&config.mru)));
    if mru.is_none()
        && config
            .restrictions
            .iter()
            .any(|r| r.flags.contains(config::RestrictFlags::LIMITED))
    {
        log.warning("restrict ... limited has no effect with \"disable monitor\"");
    }
    let keys = match crate::auth::Keyring::from_config(&config.keyring, &config.trusted_keys) {
        Ok(keys) => keys,
        Err(e) => {
            log.warning(&format!(
                "keys: {e}; answering signed requests with a crypto-NAK"
            ));
            crate::auth::Keyring::new()
        }
    };
    Responder::new(access, mru, config.discard).with_keys(keys)
}

#[allow(clippy::too_many_arguments)]
fn serve(
    o: &Options,
    config: &Config,
    precision: i8,
    mut responder: Responder,
    listeners: &[listen::Listener],
    log: &mut Logger,
    readiness: &mut daemon::Readiness,
) -> Result<i32, String> {
    let _pidfile = match &config.pidfile {
        Some(path) => Some(daemon::Pidfile::write(path).map_err(|e| {
            format!(
                "cannot write pidfile {}: {}",
                path.display(),
                config::auth::os_message(&e)
            )
        })?),
        None => None,
    };
    let account = o.user.as_deref().map(privs::lookup_account).transpose()?;
    if let Some(dir) = &o.jaildir {
        privs::chroot(dir).map_err(|e| format!("-i {}: {e}", dir.display()))?;
    }
    if let Some(account) = account {
        let keep: &[u32] = if config.flags.ntp {
            &[privs::CAP_SYS_TIME]
        } else {
            &[]
        };
        privs::switch_user(account, keep)?;
    }
    let signals = signals::StopSignals::install().map_err(|e| format!("signals: {e}"))?;

    let drift_ppm = read_drift(config, log);
    let mut engine = crate::engine::Engine::new(
        config,
        crate::engine::Start {
            precision,
            panic_gate: o.panicgate,
            slew_only: o.slew_only,
            once: o.quit,
            drift_ppm,
            seed: random_seed(),
        },
    );
    if let Some(path) = &config.leapfile {
        if let Some(table) = read_leapfile(path, log) {
            engine.set_leap_table(table);
        }
    }
    let effects = serve::Effects {
        clock: adjust::ClockControl::new(LinuxClock::realtime(), config.flags.ntp),
        stats: stats::Stats::new(config),
        driftfile: config.driftfile.as_ref().map(|d| d.path.clone()),
        resolver: resolve::Resolver::new().map_err(|e| format!("resolver: {e}"))?,
    };
    let control = control::Control::new(config);
    // Start-up is over: from here on only the loop's system calls.
    if o.seccomp {
        let filter = seccomp::Filter::new(config.flags.ntp)?;
        filter.install()?;
        log.notice(&format!(
            "seccomp filter installed ({} system calls allowed)",
            filter.allowed
        ));
    }
    readiness.ready();
    let mut running = serve::Loop::new(
        listeners,
        &mut responder,
        &mut engine,
        log,
        control,
        effects,
    );
    let stop = running.run(&signals);
    if let Err(e) = running.effects.clock.settle() {
        log.error(&format!("cannot restore the clock's base frequency: {e}"));
    }
    let c = responder.counters;
    let counts = format!(
        "{} requests, {} replies, {} kiss-o'-death, {} malformed, {} rate-limited, {} refused",
        c.received,
        c.replied,
        c.kod_sent,
        c.malformed,
        c.rate_limited,
        c.refused + c.ignored
    );
    match stop {
        serve::Stop::Signal(signal) => {
            log.notice(&format!(
                "ntpd exiting on signal {signal} ({}): {counts}",
                signals::name(signal)
            ));
            Ok(0)
        }
        serve::Stop::Exit(status) => {
            log.notice(&format!("ntpd exiting: {counts}"));
            Ok(status)
        }
    }
}

/// The `leapfile`, with classic's log lines; None when it cannot be used.
fn read_leapfile(
    path: &std::path::Path,
    log: &mut Logger,
) -> Option<crate::engine::leapfile::LeapTable> {
    use crate::engine::leapfile::LeapTable;
    let shown = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            log.warning(&format!(
                "leapsecond file ('{shown}'): {}; leap warnings come from the servers only",
                config::auth::os_message(&e)
            ));
            return None;
        }
    };
    let table = match LeapTable::parse(&text) {
        Ok(t) => t,
        Err(e) => {
            log.warning(&format!("leapsecond file ('{shown}'): {e}; ignored"));
            return None;
        }
    };
    let now = time::realtime();
    let date = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    let last = table.entries.last().map_or(0, |e| e.at);
    log.info(&format!(
        "leapsecond file ('{shown}'): loaded, expire={} last={} ofs={}",
        table.expire.map(date).unwrap_or_else(|| "never".into()),
        date(last),
        table.tai_at(now)
    ));
    if let Some(expire) = table.expire.filter(|_| table.is_expired(now)) {
        log.warning(&format!(
            "leapsecond file ('{shown}'): expired {} days ago; get a new one (tzdata or IERS)",
            (now.secs() - expire) / 86_400
        ));
    }
    Some(table)
}

/// Unpredictable: the engine's transmit cookies and start delays use it.
fn random_seed() -> u64 {
    let mut seed = [0u8; 8];
    // SAFETY: getrandom fills at most the 8 bytes of `seed`.
    let n = unsafe { libc::getrandom(seed.as_mut_ptr().cast(), seed.len(), 0) };
    if n != seed.len() as isize {
        // No entropy source: the time and PID still differ per start.
        let t = time::realtime();
        return (t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32);
    }
    u64::from_ne_bytes(seed)
}

/// The drift file's frequency, with classic's log lines.
fn read_drift(config: &Config, log: &mut Logger) -> Option<f64> {
    let path = &config.driftfile.as_ref()?.path;
    match drift::read(path) {
        // The engine logs classic's freq_set / freq_not_set events.
        Ok(Some(ppm)) => Some(ppm),
        Ok(None) => {
            log.info(&format!(
                "frequency file {}: No such file or directory",
                path.display()
            ));
            None
        }
        Err(e) => {
            log.warning(&e);
            None
        }
    }
}
