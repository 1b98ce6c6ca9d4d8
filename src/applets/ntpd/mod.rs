//! `ntpd`: The NTP daemon: synchronise the clock and serve time.

use std::ffi::OsString;

use clap::{Arg, ArgAction, Command};

pub fn command() -> Command {
    Command::new("ntpd")
        .version(env!("CARGO_PKG_VERSION"))
        .about("The NTP daemon: synchronise the clock and serve time")
        .arg(
            Arg::new("args")
                .action(ArgAction::Append)
                .num_args(0..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .help("Arguments (this applet is not built yet)"),
        )
}

pub fn run(args: Vec<OsString>) -> i32 {
    if let Err(status) = crate::applets::parse_args(command(), args, 1) {
        return status;
    }
    crate::applets::not_built("ntpd", 5)
}
