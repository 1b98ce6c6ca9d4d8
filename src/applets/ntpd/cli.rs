//! ntpd's command line: the classic options and ntpbox's `--check` and
//! `--port`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

pub fn command() -> Command {
    Command::new("ntpd")
        .version(env!("CARGO_PKG_VERSION"))
        .about("The NTP daemon: synchronise the clock to NTP servers and serve time")
        .long_about(
            "The NTP daemon. It reads ntp.conf (classic grammar), polls the servers, \
             pools and peers it names, selects the best of them and disciplines the \
             system clock (steps above 128 ms, otherwise a bounded change of rate). \
             It answers NTP client requests and ntpq's mode 6 queries on UDP port 123 \
             (or --port), applies restrict rules and rate limits, and can serve from \
             the local clock driver (server 127.127.1.0 + fudge 127.127.1.0 stratum N) \
             or in orphan mode. With 'disable ntp' it never touches the clock and runs \
             without the right to change it.",
        )
        .disable_version_flag(true)
        .arg(flag("version", None, "Print the version and exit").long("version").action(ArgAction::Version))
        .arg(value("conffile", 'c', "FILE", "Configuration file (default /etc/ntp.conf)"))
        .arg(flag("nofork", Some('n'), "Stay in the foreground and log to stderr"))
        .arg(
            flag("debug", Some('d'), "More debugging output (repeatable); implies -n")
                .action(ArgAction::Count),
        )
        .arg(
            value("debug-level", 'D', "LEVEL", "Set the debugging level")
                .value_parser(value_parser!(u8)),
        )
        .arg(value("driftfile", 'f', "FILE", "Frequency (drift) file"))
        .arg(flag("panicgate", Some('g'), "Allow the first clock adjustment to be beyond the panic threshold (1000 s)"))
        .arg(flag("slew", Some('x'), "Slew, never step, offsets up to 600 s (at most 500 ppm)"))
        .arg(flag("quit", Some('q'), "Set the clock once and exit (stays in the foreground)"))
        .arg(value("keyfile", 'k', "FILE", "Symmetric keys file"))
        .arg(value("logfile", 'l', "FILE", "Log to FILE instead of syslog"))
        .arg(flag("novirtualips", Some('L'), "Do not listen on virtual interfaces (eth0:1 aliases)"))
        .arg(flag("nice", Some('N'), "Run at high priority"))
        .arg(value("pidfile", 'p', "FILE", "Write the process ID to FILE"))
        .arg(value("statsdir", 's', "DIR", "Directory for statistics files"))
        .arg(
            value("trustedkey", 't', "KEY", "Add a key number to the trusted keys (repeatable)")
                .action(ArgAction::Append)
                .value_parser(value_parser!(u32).range(1..=65535)),
        )
        .arg(value("user", 'u', "USER[:GROUP]", "Drop root privileges, keeping only the clock capability"))
        .arg(value("jaildir", 'i', "DIR", "Chroot to DIR after startup"))
        .arg(flag("ipv4", Some('4'), "Use IPv4 only").conflicts_with("ipv6"))
        .arg(flag("ipv6", Some('6'), "Use IPv6 only"))
        .arg(flag("authreq", Some('a'), "Require authentication (the default)").conflicts_with("authnoreq"))
        .arg(flag("authnoreq", Some('A'), "Do not require authentication"))
        .arg(
            Arg::new("check")
                .long("check")
                .action(ArgAction::SetTrue)
                .help("Check the configuration: print each problem as FILE:LINE: message, exit 0 if ntpd could run with it, else 1"),
        )
        .arg(
            value("filter-level", 'F', "LEVEL", "System call filter (seccomp), as chronyd's -F: 0 none (the default); 1 once started, allow only the system calls ntpd needs: any other kills it with SIGSYS, and the kernel log (journalctl -k) names the call")
                .value_parser(value_parser!(u8).range(0..=1))
                // chronyd's negative levels (SIGSYS instead of a kill) are
                // refused as a value, not mistaken for an option: the kill
                // here already ends with SIGSYS and a core dump.
                .allow_negative_numbers(true)
                .conflicts_with("seccomp"),
        )
        .arg(
            Arg::new("seccomp")
                .long("seccomp")
                .action(ArgAction::SetTrue)
                .help("The same as -F 1"),
        )
        .arg(
            Arg::new("port")
                .long("port")
                .value_name("N")
                .value_parser(value_parser!(u16).range(1..))
                .help("UDP port to serve (default 123, or ntp.conf's 'port')"),
        )
}

fn flag(id: &'static str, short: Option<char>, help: &'static str) -> Arg {
    let arg = Arg::new(id).action(ArgAction::SetTrue).help(help);
    match short {
        Some(c) => arg.short(c),
        None => arg,
    }
}

fn value(id: &'static str, short: char, name: &'static str, help: &'static str) -> Arg {
    Arg::new(id)
        .short(short)
        .value_name(name)
        .help(help)
        .action(ArgAction::Set)
}

/// The parsed command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub conffile: Option<PathBuf>,
    pub foreground: bool,
    pub debug: u8,
    pub driftfile: Option<PathBuf>,
    pub panicgate: bool,
    pub slew_only: bool,
    pub quit: bool,
    pub keyfile: Option<PathBuf>,
    pub logfile: Option<PathBuf>,
    pub no_virtual_ips: bool,
    pub nice: bool,
    pub pidfile: Option<PathBuf>,
    pub statsdir: Option<PathBuf>,
    pub trusted_keys: Vec<u32>,
    pub user: Option<String>,
    pub jaildir: Option<PathBuf>,
    pub ipv4_only: bool,
    pub ipv6_only: bool,
    pub auth_required: Option<bool>,
    pub check: bool,
    pub port: Option<u16>,
    /// `-F 1` / `--seccomp`: install the system call filter.
    pub seccomp: bool,
    /// The command line as given, for the startup log line.
    pub command_line: String,
}

impl Options {
    pub fn from_matches(m: &ArgMatches, args: &[OsString]) -> Options {
        let path = |id: &str| m.get_one::<String>(id).map(PathBuf::from);
        let debug = m
            .get_one::<u8>("debug-level")
            .copied()
            .unwrap_or(0)
            .max(m.get_count("debug"));
        Options {
            conffile: path("conffile"),
            // Classic: debugging output goes to the terminal, no fork.
            foreground: m.get_flag("nofork") || debug > 0,
            debug,
            driftfile: path("driftfile"),
            panicgate: m.get_flag("panicgate"),
            slew_only: m.get_flag("slew"),
            quit: m.get_flag("quit"),
            keyfile: path("keyfile"),
            logfile: path("logfile"),
            no_virtual_ips: m.get_flag("novirtualips"),
            nice: m.get_flag("nice"),
            pidfile: path("pidfile"),
            statsdir: path("statsdir"),
            trusted_keys: m
                .get_many::<u32>("trustedkey")
                .map(|v| v.copied().collect())
                .unwrap_or_default(),
            user: m.get_one::<String>("user").cloned(),
            jaildir: path("jaildir"),
            ipv4_only: m.get_flag("ipv4"),
            ipv6_only: m.get_flag("ipv6"),
            auth_required: if m.get_flag("authreq") {
                Some(true)
            } else if m.get_flag("authnoreq") {
                Some(false)
            } else {
                None
            },
            check: m.get_flag("check"),
            port: m.get_one::<u16>("port").copied(),
            seccomp: m.get_flag("seccomp") || m.get_one::<u8>("filter-level") == Some(&1),
            command_line: args
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        command()
            .try_get_matches_from(&args)
            .map(|m| Options::from_matches(&m, &args))
    }

    #[test]
    fn the_classic_options() {
        let o = parse(&[
            "ntpd",
            "-n",
            "-c",
            "/tmp/ntp.conf",
            "-p",
            "/run/ntpd.pid",
            "-u",
            "ntp:ntp",
            "-g",
            "-x",
            "-t",
            "4",
            "-t",
            "8",
            "-4",
            "-l",
            "/var/log/ntp.log",
            "-k",
            "/etc/ntp/keys",
            "-A",
            "--port",
            "11123",
        ])
        .unwrap();
        assert!(o.foreground && o.panicgate && o.slew_only && o.ipv4_only);
        assert_eq!(o.conffile, Some(PathBuf::from("/tmp/ntp.conf")));
        assert_eq!(o.user.as_deref(), Some("ntp:ntp"));
        assert_eq!(o.trusted_keys, [4, 8]);
        assert_eq!(o.auth_required, Some(false));
        assert_eq!(o.port, Some(11123));
        assert!(o.command_line.starts_with("ntpd -n -c /tmp/ntp.conf"));
    }

    #[test]
    fn debugging_implies_the_foreground() {
        let o = parse(&["ntpd", "-d", "-d"]).unwrap();
        assert_eq!((o.debug, o.foreground), (2, true));
        assert_eq!(parse(&["ntpd", "-D", "3"]).unwrap().debug, 3);
    }

    #[test]
    fn the_system_call_filter_is_off_unless_asked_for() {
        assert!(!parse(&["ntpd"]).unwrap().seccomp);
        assert!(!parse(&["ntpd", "-F", "0"]).unwrap().seccomp);
        assert!(parse(&["ntpd", "-F", "1"]).unwrap().seccomp);
        assert!(parse(&["ntpd", "-nF1"]).unwrap().seccomp);
        assert!(parse(&["ntpd", "--seccomp"]).unwrap().seccomp);
        assert!(parse(&["ntpd", "-F", "2"]).is_err());
        assert!(parse(&["ntpd", "-F", "-1"]).is_err());
        assert!(parse(&["ntpd", "-F", "0", "--seccomp"]).is_err());
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert!(parse(&["ntpd", "--port", "0"]).is_err());
        assert!(parse(&["ntpd", "-4", "-6"]).is_err());
        assert!(parse(&["ntpd", "-t", "x"]).is_err());
        assert!(parse(&["ntpd", "-Z"]).is_err());
    }
}
