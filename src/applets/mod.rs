//! The applet table and argv[0] dispatch.
//!
//! Every applet is a module with two public functions: `command()`, its clap
//! definition (also the source of its man page and shell completions), and
//! `run(args)`, its entry point, which gets the full argument vector with the
//! applet name first and returns the process exit status.

use std::ffi::OsString;
use std::path::Path;

mod front;
pub mod hwclock;
pub mod ntpd;
pub mod ntpdate;
pub mod ntpq;
pub mod ntpstat;
pub mod zdump;

/// One entry of the applet table.
pub struct Applet {
    pub name: &'static str,
    /// The clap definition: parsing, `--help`, man page and completions.
    pub command: fn() -> clap::Command,
    /// Entry point: full argv (applet name first) in, exit status out.
    pub run: fn(Vec<OsString>) -> i32,
}

/// All applets, in the order `ntpbox --list` prints them.
pub const APPLETS: &[Applet] = &[
    Applet {
        name: "ntpd",
        command: ntpd::command,
        run: ntpd::run,
    },
    Applet {
        name: "ntpdate",
        command: ntpdate::command,
        run: ntpdate::run,
    },
    Applet {
        name: "ntpq",
        command: ntpq::command,
        run: ntpq::run,
    },
    Applet {
        name: "ntpstat",
        command: ntpstat::command,
        run: ntpstat::run,
    },
    Applet {
        name: "hwclock",
        command: hwclock::command,
        run: hwclock::run,
    },
    Applet {
        name: "zdump",
        command: zdump::command,
        run: zdump::run,
    },
];

/// The name of the multi-call binary itself.
pub const MULTICALL_NAME: &str = "ntpbox";

pub fn find(name: &str) -> Option<&'static Applet> {
    APPLETS.iter().find(|a| a.name == name)
}

/// The clap definition of the `ntpbox` front end (for docs and completions).
pub fn multicall_command() -> clap::Command {
    front::command()
}

/// Runs the applet named by the basename of argv[0]; any other name is the
/// `ntpbox` front end, which takes the applet name as its first argument.
pub fn dispatch(args: Vec<OsString>) -> i32 {
    let invoked = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match find(&invoked) {
        Some(applet) => (applet.run)(args),
        None => front::run(args),
    }
}

/// Parses `args` with `cmd`. Help and version go to stdout with status 0;
/// usage errors print clap's message and give `usage_status`.
pub(crate) fn parse_args(
    cmd: clap::Command,
    args: Vec<OsString>,
    usage_status: i32,
) -> Result<clap::ArgMatches, i32> {
    match cmd.try_get_matches_from(args) {
        Ok(m) => Ok(m),
        Err(e) => {
            let _ = e.print();
            Err(if e.use_stderr() { usage_status } else { 0 })
        }
    }
}
