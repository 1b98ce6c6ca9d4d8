//! The `ntpbox` front end: `ntpbox APPLET ARGS...`, `--list`, `--install`.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Arg, ArgAction, Command};

use super::{find, parse_args, APPLETS, MULTICALL_NAME};

pub fn command() -> Command {
    let names: Vec<&str> = APPLETS.iter().map(|a| a.name).collect();
    Command::new(MULTICALL_NAME)
        .version(env!("CARGO_PKG_VERSION"))
        .about("The classic Unix time tools in one multi-call binary")
        .override_usage("ntpbox APPLET [ARGS...]\n       ntpbox --list\n       ntpbox --install [--force] DIR\n       APPLET [ARGS...]   (through a symlink named after the applet)")
        .after_help(format!(
            "Applets: {}\n\nRun `ntpbox APPLET --help` for an applet's own options.",
            names.join(", ")
        ))
        .arg(
            Arg::new("list")
                .long("list")
                .action(ArgAction::SetTrue)
                .exclusive(true)
                .help("Print the applet names, one a line"),
        )
        .arg(
            Arg::new("install")
                .long("install")
                .action(ArgAction::SetTrue)
                .requires("dir")
                .help("Create a symlink for every applet in DIR"),
        )
        .arg(
            Arg::new("dir")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .requires("install")
                .help("Where --install puts the symlinks"),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .requires("install")
                .help("With --install: replace files that already exist"),
        )
}

pub fn run(args: Vec<OsString>) -> i32 {
    // `ntpbox APPLET ...`: the applet sees its own name as argv[0].
    if let Some(first) = args.get(1) {
        let first = first.to_string_lossy();
        if let Some(applet) = find(&first) {
            return (applet.run)(args[1..].to_vec());
        }
        if !first.starts_with('-') {
            eprintln!("ntpbox: unknown applet '{first}' (`ntpbox --list` shows the applets)");
            return 1;
        }
    }
    let matches = match parse_args(command(), args, 1) {
        Ok(m) => m,
        Err(status) => return status,
    };
    if matches.get_flag("list") {
        let mut out = std::io::stdout().lock();
        for applet in APPLETS {
            let _ = writeln!(out, "{}", applet.name);
        }
        return 0;
    }
    if let Some(dir) = matches.get_one::<PathBuf>("dir") {
        return match install(dir, matches.get_flag("force")) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("ntpbox: {e:#}");
                1
            }
        };
    }
    let _ = command().print_help();
    1
}

/// Creates DIR/APPLET -> this executable for every applet. Without `force`
/// nothing is created when any target exists, so a refusal changes nothing.
fn install(dir: &Path, force: bool) -> Result<()> {
    let exe = std::env::current_exe().context("cannot find the path of this executable")?;
    if !dir.is_dir() {
        bail!("{}: not a directory", dir.display());
    }
    let links: Vec<PathBuf> = APPLETS.iter().map(|a| dir.join(a.name)).collect();
    if !force {
        let existing: Vec<String> = links
            .iter()
            .filter(|l| l.symlink_metadata().is_ok())
            .map(|l| l.display().to_string())
            .collect();
        if !existing.is_empty() {
            bail!(
                "{} already exist{}; use --force to replace",
                existing.join(", "),
                if existing.len() == 1 { "s" } else { "" }
            );
        }
    }
    for link in &links {
        if force && link.symlink_metadata().is_ok() {
            std::fs::remove_file(link)
                .with_context(|| format!("cannot replace {}", link.display()))?;
        }
        std::os::unix::fs::symlink(&exe, link)
            .with_context(|| format!("cannot create {}", link.display()))?;
    }
    Ok(())
}
