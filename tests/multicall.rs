//! The multi-call binary: dispatch by argv[0] and by first argument,
//! --list, --install, --version, --help, unknown applets.

mod common;

use std::process::Command;

use common::{applet, applet_dir, ntpbox};

const APPLETS: [&str; 6] = ["ntpd", "ntpdate", "ntpq", "ntpstat", "hwclock", "zdump"];

fn stdout(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run ntpbox");
    (
        out.status.code().expect("exit status"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn list_prints_the_six_applets_one_a_line() {
    let (status, out, _) = stdout(Command::new(ntpbox()).arg("--list"));
    assert_eq!(status, 0);
    assert_eq!(out, "ntpd\nntpdate\nntpq\nntpstat\nhwclock\nzdump\n");
}

#[test]
fn install_creates_a_symlink_per_applet_pointing_at_the_binary() {
    let target = std::fs::canonicalize(ntpbox()).unwrap();
    for name in APPLETS {
        let link = applet_dir().join(name);
        let meta = link.symlink_metadata().unwrap();
        assert!(meta.file_type().is_symlink(), "{name} is not a symlink");
        assert_eq!(std::fs::canonicalize(&link).unwrap(), target);
    }
}

#[test]
fn install_refuses_to_overwrite_without_force_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ntpq"), "mine").unwrap();
    let (status, _, err) = stdout(Command::new(ntpbox()).arg("--install").arg(dir.path()));
    assert_eq!(status, 1);
    assert!(
        err.contains("ntpq already exists; use --force to replace"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one error line: {err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ntpq")).unwrap(),
        "mine"
    );
    assert!(
        dir.path().join("ntpd").symlink_metadata().is_err(),
        "nothing half-done"
    );

    let (status, _, err) = stdout(
        Command::new(ntpbox())
            .arg("--install")
            .arg("--force")
            .arg(dir.path()),
    );
    assert_eq!(status, 0, "{err}");
    for name in APPLETS {
        assert!(dir
            .path()
            .join(name)
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink());
    }
}

#[test]
fn install_into_a_missing_directory_is_one_clear_error() {
    let (status, _, err) =
        stdout(Command::new(ntpbox()).args(["--install", "/nonexistent/ntpbox-dir"]));
    assert_eq!(status, 1);
    assert_eq!(err, "ntpbox: /nonexistent/ntpbox-dir: not a directory\n");
}

#[test]
fn unknown_applet_is_one_line_and_status_1() {
    let (status, out, err) = stdout(Command::new(ntpbox()).arg("chronyc"));
    assert_eq!(status, 1);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "ntpbox: unknown applet 'chronyc' (`ntpbox --list` shows the applets)\n"
    );
}

#[test]
fn version_and_help() {
    let (status, out, _) = stdout(Command::new(ntpbox()).arg("--version"));
    assert_eq!(status, 0);
    assert_eq!(out, format!("ntpbox {}\n", env!("CARGO_PKG_VERSION")));
    let (status, out, _) = stdout(Command::new(ntpbox()).arg("--help"));
    assert_eq!(status, 0);
    assert!(
        out.contains("Applets: ntpd, ntpdate, ntpq, ntpstat, hwclock, zdump"),
        "{out}"
    );
}

#[test]
fn symlink_and_first_argument_dispatch_to_the_same_applet() {
    for name in APPLETS {
        let (s1, o1, _) = stdout(applet(name).arg("--version"));
        let (s2, o2, _) = stdout(Command::new(ntpbox()).args([name, "--version"]));
        assert_eq!((s1, &o1), (s2, &o2), "{name}");
        assert!(
            o1.contains(env!("CARGO_PKG_VERSION")) || o1.contains(name),
            "{name}: {o1}"
        );
    }
}
