//! The default ntp.conf, and shellcheck on every shell script of the
//! package.

use std::fs;
use std::process::Command;

use crate::{common, run, text, tools_present};

#[test]
fn the_default_ntp_conf_passes_ntpd_check_and_is_safe_anywhere() {
    let conf = common::project_root().join("pkg/ntp.conf");
    let out = common::applet("ntpd")
        .arg("--check")
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(
        (out.status.code(), text(&out.stdout), text(&out.stderr)),
        (Some(0), String::new(), String::new())
    );
    let text = fs::read_to_string(&conf).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for required in [
        "driftfile /var/lib/ntp/ntp.drift",
        "restrict default kod nomodify notrap nopeer noquery limited",
        "restrict 127.0.0.1",
        "restrict ::1",
    ] {
        assert!(lines.contains(&required), "{required}");
    }
    let pools: Vec<&&str> = lines.iter().filter(|l| l.starts_with("pool ")).collect();
    assert!(!pools.is_empty());
    assert!(pools.iter().all(|l| l.ends_with(" iburst")), "{pools:?}");
    // Only pool servers, and no local clock driver to serve an unsynced clock.
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("server ") || l.starts_with("fudge ")));
}

#[test]
fn the_shell_scripts_pass_shellcheck() {
    if !tools_present(&["shellcheck"]) {
        return;
    }
    let root = common::project_root();
    let scripts = [
        "pkg/ntp.init",
        "pkg/debian/postinst",
        "pkg/debian/prerm",
        "pkg/debian/postrm",
        "scripts/build-deb.sh",
    ];
    let out = run(Command::new("shellcheck").args(scripts).current_dir(&root));
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), String::new()),
        "{}",
        text(&out.stderr)
    );
}
