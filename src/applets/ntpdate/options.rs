//! ntpdate's command line: `ntpdate [-46bBdqsuv] [-a keyid] [-e authdelay]
//! [-k keyfile] [-o version] [-p samples] [-t timeout] server ...`, as in
//! ntp 4.2.8, plus `HOST:PORT` and `[V6]:PORT` server forms.

use std::path::PathBuf;
use std::time::Duration;

use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

/// The NTP port a server is asked on unless HOST:PORT says otherwise.
pub const NTP_PORT: u16 = 123;
/// Samples per server unless -p says otherwise (classic DEFSAMPLES).
pub const DEFAULT_SAMPLES: u8 = 4;
/// The most samples per server: the depth of the classic clock filter.
pub const MAX_SAMPLES: u8 = 8;
/// How long to wait for each reply unless -t says otherwise: ntp 4.2.8p15's
/// DEFTIMEOUT, two seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest -t accepted: a minute per reply is already more than any
/// path on Earth needs.
const MAX_TIMEOUT_SECS: f64 = 60.0;
/// The NTP version requests carry unless -o says otherwise.
pub const DEFAULT_VERSION: u8 = 4;

/// Which address family -4 / -6 restrict names to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// How the clock is to be corrected, when it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Correction {
    /// Step when the offset is at least the threshold, slew otherwise.
    ByThreshold,
    /// -b: always step.
    AlwaysStep,
    /// -B: always slew.
    AlwaysSlew,
}

/// A server as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSpec {
    /// The name or address literal, without brackets or port.
    pub host: String,
    pub port: u16,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub family: Option<Family>,
    pub correction: Correction,
    /// -d, repeatable: print each exchange; never touch the clock.
    pub debug: u8,
    /// -q: query only.
    pub query_only: bool,
    /// -s: log to syslog instead of the terminal.
    pub syslog: bool,
    /// -u: an unprivileged source port instead of 123.
    pub unprivileged_port: bool,
    /// -v: print the version line first.
    pub verbose: bool,
    /// -a: authenticate with this key.
    pub auth_key: Option<u32>,
    /// -k: where the keys are.
    pub key_file: PathBuf,
    pub version: u8,
    pub samples: u8,
    pub timeout: Duration,
    pub servers: Vec<ServerSpec>,
}

pub fn command() -> Command {
    let flag = |id: &'static str, help: &'static str| {
        Arg::new(id)
            .short(id.chars().next().unwrap_or('?'))
            .action(ArgAction::SetTrue)
            .help(help)
    };
    Command::new("ntpdate")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Set the date and time via NTP")
        .long_about(
            "Set the date and time via NTP.\n\n\
             Queries each SERVER (every address a name resolves to), keeps the \
             best of its samples, picks the best server and steps the clock \
             when it is off by 0.5 s or more, slews it otherwise. With -q it \
             only prints what it found.",
        )
        // As with getopt, a repeated option takes its last value.
        .args_override_self(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("version-info")
                .long("version")
                .action(ArgAction::Version)
                .help("Print version"),
        )
        .arg(flag("4", "Resolve names to IPv4 addresses only").conflicts_with("6"))
        .arg(flag("6", "Resolve names to IPv6 addresses only"))
        .arg(flag(
            "b",
            "Always step the clock (settimeofday), never slew",
        ))
        .arg(flag("B", "Always slew the clock (adjtime), never step"))
        .arg(
            Arg::new("d").short('d').action(ArgAction::Count).help(
                "Debug: show each exchange and why replies were rejected; do not set the clock",
            ),
        )
        .arg(flag(
            "q",
            "Query only: print the offsets, do not set the clock",
        ))
        .arg(flag("s", "Log to syslog instead of the terminal"))
        .arg(flag("u", "Use an unprivileged source port instead of 123"))
        .arg(flag("v", "Print the version line first"))
        .arg(
            Arg::new("a")
                .short('a')
                .value_name("KEYID")
                .value_parser(value_parser!(u32))
                .help("Sign requests with this key of the keys file; accept only replies signed with it"),
        )
        .arg(
            Arg::new("e")
                .short('e')
                .value_name("AUTHDELAY")
                .value_parser(parse_authdelay)
                .help("Authentication delay, below 1 s (accepted for compatibility, not needed)"),
        )
        .arg(
            Arg::new("k")
                .short('k')
                .value_name("KEYFILE")
                .value_parser(value_parser!(PathBuf))
                .help("Keys file for -a, in ntp.keys format (default /etc/ntp.keys)"),
        )
        .arg(
            Arg::new("o")
                .short('o')
                .value_name("VERSION")
                .value_parser(value_parser!(u8).range(1..=4))
                .help("NTP version of the requests, 1 to 4 (default 4)"),
        )
        .arg(
            Arg::new("p")
                .short('p')
                .value_name("SAMPLES")
                .value_parser(value_parser!(u8).range(1..=MAX_SAMPLES as i64))
                .help("Samples per server, 1 to 8 (default 4)"),
        )
        .arg(
            Arg::new("t")
                .short('t')
                .value_name("TIMEOUT")
                .value_parser(parse_timeout)
                .help("Seconds to wait for each reply, with a fraction (default 2)"),
        )
        .arg(
            Arg::new("servers")
                .value_name("SERVER")
                .required(true)
                .num_args(1..)
                .value_parser(parse_server)
                .help("Server: NAME, IPv4, IPv6, NAME:PORT, IPv4:PORT or [IPv6]:PORT"),
        )
}

impl Options {
    pub fn from_matches(m: &ArgMatches) -> Options {
        // -b and -B: the later one wins, as in classic ntpdate.
        let last_index = |id: &str| m.get_flag(id).then(|| m.index_of(id)).flatten();
        let correction = match (last_index("b"), last_index("B")) {
            (Some(b), Some(big_b)) if b > big_b => Correction::AlwaysStep,
            (_, Some(_)) => Correction::AlwaysSlew,
            (Some(_), None) => Correction::AlwaysStep,
            (None, None) => Correction::ByThreshold,
        };
        let family = if m.get_flag("4") {
            Some(Family::V4)
        } else if m.get_flag("6") {
            Some(Family::V6)
        } else {
            None
        };
        Options {
            family,
            correction,
            debug: m.get_count("d"),
            query_only: m.get_flag("q"),
            syslog: m.get_flag("s"),
            unprivileged_port: m.get_flag("u"),
            verbose: m.get_flag("v"),
            auth_key: m.get_one::<u32>("a").copied(),
            key_file: m
                .get_one::<PathBuf>("k")
                .cloned()
                .unwrap_or_else(|| PathBuf::from(super::auth::DEFAULT_KEY_FILE)),
            version: m.get_one::<u8>("o").copied().unwrap_or(DEFAULT_VERSION),
            samples: m.get_one::<u8>("p").copied().unwrap_or(DEFAULT_SAMPLES),
            timeout: m
                .get_one::<Duration>("t")
                .copied()
                .unwrap_or(DEFAULT_TIMEOUT),
            servers: m
                .get_many::<ServerSpec>("servers")
                .map(|v| v.cloned().collect())
                .unwrap_or_default(),
        }
    }

    /// Whether this run may change the clock at all.
    pub fn sets_clock(&self) -> bool {
        !self.query_only && self.debug == 0
    }
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("timeout {s} is undecodeable: give seconds, e.g. 2 or 0.5"))?;
    if !(secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
        return Err(format!(
            "timeout {s} is out of range: give more than 0 and at most {MAX_TIMEOUT_SECS} seconds"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_authdelay(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(d) if (0.0..1.0).contains(&d) => Ok(d),
        _ => Err(format!(
            "encryption delay {s} is unlikely: give seconds below 1"
        )),
    }
}

/// Parses NAME, an address literal, NAME:PORT, IPv4:PORT or [IPv6]:PORT.
/// An IPv6 literal without brackets has several colons and takes no port.
pub fn parse_server(s: &str) -> Result<ServerSpec, String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{s}' has '[' without a closing ']'"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("'{s}': expected ':PORT' after ']'"))?,
            ),
        };
        (host, port)
    } else {
        match s.matches(':').count() {
            0 => (s, None),
            1 => {
                let (h, p) = s.split_once(':').unwrap_or((s, ""));
                (h, Some(p))
            }
            _ => (s, None), // a bare IPv6 literal
        }
    };
    if host.is_empty() {
        return Err(format!("'{s}' names no host"));
    }
    let port = match port {
        None => NTP_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("'{s}': port must be a number from 1 to 65535")),
        },
    };
    Ok(ServerSpec {
        host: host.to_string(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(host: &str, port: u16) -> ServerSpec {
        ServerSpec {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn the_clap_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn server_forms() {
        assert_eq!(parse_server("pool.ntp.org"), Ok(spec("pool.ntp.org", 123)));
        assert_eq!(parse_server("10.0.0.1"), Ok(spec("10.0.0.1", 123)));
        assert_eq!(parse_server("10.0.0.1:1123"), Ok(spec("10.0.0.1", 1123)));
        assert_eq!(parse_server("host:9"), Ok(spec("host", 9)));
        assert_eq!(parse_server("::1"), Ok(spec("::1", 123)));
        assert_eq!(parse_server("2001:db8::1"), Ok(spec("2001:db8::1", 123)));
        assert_eq!(parse_server("[::1]"), Ok(spec("::1", 123)));
        assert_eq!(parse_server("[::1]:1123"), Ok(spec("::1", 1123)));
    }

    #[test]
    fn bad_server_forms_say_what_is_wrong() {
        assert!(parse_server("[::1").unwrap_err().contains("closing"));
        assert!(parse_server("[::1]x").unwrap_err().contains(":PORT"));
        assert!(parse_server("host:0").unwrap_err().contains("port"));
        assert!(parse_server("host:http").unwrap_err().contains("port"));
        assert!(parse_server(":123").unwrap_err().contains("no host"));
    }

    fn parse(args: &[&str]) -> Options {
        let m = command()
            .try_get_matches_from(std::iter::once("ntpdate").chain(args.iter().copied()))
            .unwrap();
        Options::from_matches(&m)
    }

    #[test]
    fn defaults_are_classic() {
        let o = parse(&["10.0.0.1"]);
        assert_eq!(o.samples, 4);
        assert_eq!(o.timeout, Duration::from_secs(2));
        assert_eq!(o.version, 4);
        assert_eq!(o.correction, Correction::ByThreshold);
        assert!(o.sets_clock());
    }

    #[test]
    fn the_later_of_b_and_capital_b_wins() {
        assert_eq!(parse(&["-b", "-B", "x"]).correction, Correction::AlwaysSlew);
        assert_eq!(parse(&["-B", "-b", "x"]).correction, Correction::AlwaysStep);
        assert_eq!(parse(&["-bq", "x"]).correction, Correction::AlwaysStep);
    }

    #[test]
    fn fractional_timeouts_and_ranges() {
        assert_eq!(
            parse(&["-t", "0.25", "x"]).timeout,
            Duration::from_millis(250)
        );
        assert!(command()
            .try_get_matches_from(["ntpdate", "-p", "9", "x"])
            .is_err());
        assert!(command()
            .try_get_matches_from(["ntpdate", "-t", "soon", "x"])
            .is_err());
        assert!(command()
            .try_get_matches_from(["ntpdate", "-o", "5", "x"])
            .is_err());
        assert!(!parse(&["-q", "x"]).sets_clock());
        assert!(!parse(&["-d", "x"]).sets_clock());
    }
}
