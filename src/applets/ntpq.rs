//! `ntpq`: query an NTP daemon with mode 6 control messages, as classic
//! ntpq (ntp 4.2.8) does: `ntpq -p`, `ntpq -c rv`, or commands typed at
//! the `ntpq> ` prompt (or piped in).
//!
//! Output, messages and exit codes follow the classic program: queries
//! that fail (`localhost: timed out, nothing received`, `ntpq: read:
//! Connection refused`) are reported and ntpq still exits 0; only bad
//! command lines exit 1. Hosts may carry a port (`127.0.0.1:4123`,
//! `[::1]:4123`), an ntpbox extension for daemons on other ports.

mod assoc;
mod auth;
mod builtins;
mod commands;
mod config;
mod cooked;
mod host;
mod mru;
mod names;
mod ordlist;
mod peers;
mod readvar;
mod session;
mod shell;
mod stats;
mod table;
mod values;

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal};

use clap::{Arg, ArgAction, ArgMatches, Command};

use commands::Ran;
use host::{Family, HostSpec};
use shell::Shell;

/// The host asked when none is named.
const DEFAULT_HOST: &str = "localhost";
/// What interactive mode prints before reading a command.
const PROMPT: &str = "ntpq> ";
/// Exit status for a bad command line.
const USAGE_STATUS: i32 = 1;

pub fn command() -> Command {
    Command::new("ntpq")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Query an NTP daemon with mode 6 control messages")
        .override_usage("ntpq [-46dinpw] [-c COMMAND]... [HOST[:PORT]]...")
        .after_help(
            "Without -c or -p, ntpq reads commands from standard input (with the \
             `ntpq> ` prompt on a terminal or with -i). Type `help` for the list.",
        )
        .arg(
            Arg::new("ipv4")
                .short('4')
                .long("ipv4")
                .action(ArgAction::SetTrue)
                .conflicts_with("ipv6")
                .help("Resolve host names to IPv4 addresses only"),
        )
        .arg(
            Arg::new("ipv6")
                .short('6')
                .long("ipv6")
                .action(ArgAction::SetTrue)
                .help("Resolve host names to IPv6 addresses only"),
        )
        .arg(
            Arg::new("command")
                .short('c')
                .long("command")
                .value_name("COMMAND")
                .action(ArgAction::Append)
                .help("Run COMMAND (as typed at the prompt) and exit; may be repeated"),
        )
        .arg(
            Arg::new("debug")
                .short('d')
                .long("debug-level")
                .action(ArgAction::Count)
                .help("Trace the packets on standard error; may be repeated"),
        )
        .arg(
            Arg::new("interactive")
                .short('i')
                .long("interactive")
                .action(ArgAction::SetTrue)
                .help("Prompt for commands even when standard input is not a terminal"),
        )
        .arg(
            Arg::new("numeric")
                .short('n')
                .long("numeric")
                .action(ArgAction::SetTrue)
                .help("Print addresses as numbers, without looking up host names"),
        )
        .arg(
            Arg::new("peers")
                .short('p')
                .long("peers")
                // Each -p is a `peers` command in line with the -c ones:
                // appending keeps the index of every occurrence.
                .action(ArgAction::Append)
                .num_args(0)
                .default_missing_value("peers")
                .help("Print the list of peers (the `peers` command)"),
        )
        .arg(
            Arg::new("wide")
                .short('w')
                .long("wide")
                .action(ArgAction::SetTrue)
                .help("Print long remote names in full, on a line of their own"),
        )
        .arg(
            Arg::new("host")
                .value_name("HOST[:PORT]")
                .action(ArgAction::Append)
                .help("Daemons to query (default localhost); [ADDRESS]:PORT for IPv6"),
        )
}

/// The -c and -p commands, in the order they were given.
fn commands_in_order(m: &ArgMatches) -> Vec<String> {
    let mut cmds: Vec<(usize, String)> = Vec::new();
    if let (Some(idx), Some(vals)) = (m.indices_of("command"), m.get_many::<String>("command")) {
        cmds.extend(idx.zip(vals.cloned()));
    }
    if let Some(idx) = m.indices_of("peers") {
        cmds.extend(idx.map(|i| (i, "peers".to_string())));
    }
    cmds.sort_by_key(|(i, _)| *i);
    cmds.into_iter().map(|(_, c)| c).collect()
}

pub fn run(args: Vec<OsString>) -> i32 {
    let m = match crate::applets::parse_args(command(), args, USAGE_STATUS) {
        Ok(m) => m,
        Err(status) => return status,
    };
    let family = if m.get_flag("ipv4") {
        Family::V4
    } else if m.get_flag("ipv6") {
        Family::V6
    } else {
        Family::Any
    };
    let names: Vec<String> = m
        .get_many::<String>("host")
        .map(|v| v.cloned().collect())
        .unwrap_or_else(|| vec![DEFAULT_HOST.to_string()]);
    let mut hosts = Vec::new();
    for name in &names {
        match HostSpec::parse(name) {
            Ok(spec) => hosts.push(spec),
            Err(e) => {
                eprintln!("ntpq: {e}");
                return USAGE_STATUS;
            }
        }
    }
    let cmds = commands_in_order(&m);
    let debug = u32::from(m.get_count("debug"));
    let mut sh = Shell::new(m.get_flag("numeric"), m.get_flag("wide"), debug, family);
    sh.hosts = hosts.clone();
    if cmds.is_empty() {
        let interactive = m.get_flag("interactive")
            || (std::io::stdin().is_terminal() && std::io::stderr().is_terminal());
        sh.interactive = interactive;
        sh.open_host(&hosts[0]);
        read_commands(&mut sh, interactive);
    } else {
        run_commands(&mut sh, &hosts, &cmds);
    }
    sh.flush();
    0
}

/// Runs every -c command against every host, as ntpq does: a blank line
/// between the output of two commands and between two hosts.
fn run_commands(sh: &mut Shell, hosts: &[HostSpec], cmds: &[String]) {
    let mut output_current = false;
    for (i, spec) in hosts.iter().enumerate() {
        if !sh.open_host(spec) {
            continue;
        }
        if i > 0 && output_current {
            sh.say("\n");
        }
        for (j, cmd) in cmds.iter().enumerate() {
            if j > 0 && output_current {
                sh.say("\n");
            }
            match commands::run_line(sh, cmd) {
                Ran::ToStdout => output_current = true,
                Ran::ToFile => output_current = false,
                Ran::NotRun => {}
            }
            if sh.quit {
                return;
            }
        }
    }
}

/// Reads command lines from standard input until `quit` or its end.
fn read_commands(sh: &mut Shell, interactive: bool) {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    loop {
        if interactive {
            sh.say(PROMPT);
            sh.flush();
        }
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        commands::run_line(sh, &text);
        if sh.quit {
            break;
        }
    }
}
