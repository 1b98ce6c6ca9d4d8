//! The Debian package and the service files (issue 10): what `cargo deb`
//! builds from Cargo.toml's `[package.metadata.deb]` and pkg/, the package
//! installed and purged in a throwaway dpkg root (never this machine's),
//! the systemd unit, the default ntp.conf, and the sysv init script
//! driving a real daemon (`disable ntp`, a spare loopback port).

mod common;

#[path = "package/deb.rs"]
mod deb;
#[path = "package/dpkg_root.rs"]
mod dpkg_root;
#[path = "package/files.rs"]
mod files;
#[path = "package/init_script.rs"]
mod init_script;
#[path = "package/unit.rs"]
mod unit;

use std::path::Path;
use std::process::{Command, Output};

/// What a user's PATH lacks for dpkg and the maintainer scripts when the
/// tests run as a normal user: useradd, update-rc.d and ldconfig live here.
const SBIN_DIRS: &str = "/usr/local/sbin:/usr/sbin:/sbin";

// Tools shared by the modules

/// Whether PROGRAM is on PATH (or in an sbin directory).
fn have(program: &str) -> bool {
    path_with_sbin()
        .split(':')
        .any(|dir| Path::new(dir).join(program).is_file())
}

fn path_with_sbin() -> String {
    format!("{SBIN_DIRS}:{}", std::env::var("PATH").unwrap_or_default())
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn have_cargo_deb() -> bool {
    cargo()
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Skips (or, under NTPBOX_REQUIRE_ALL=1, fails) unless every tool is here.
fn tools_present(programs: &[&str]) -> bool {
    for p in programs {
        let present = if *p == "cargo-deb" {
            have_cargo_deb()
        } else {
            have(p)
        };
        if !present {
            common::skip_or_fail(p);
            return false;
        }
    }
    true
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs CMD to completion, with the sbin directories on PATH.
fn run(cmd: &mut Command) -> Output {
    cmd.env("PATH", path_with_sbin());
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs CMD and insists on exit status 0; returns its stdout.
fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}
