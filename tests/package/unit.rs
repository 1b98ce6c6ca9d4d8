//! The systemd unit: its settings, `systemd-analyze verify` and
//! systemd's own exposure score.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{common, run, text, tools_present};

/// The unit's settings: (section, key) -> values, in file order.
fn unit_settings(unit: &str) -> BTreeMap<(String, String), Vec<String>> {
    let mut settings: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut section = String::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("{line}"));
        settings
            .entry((section.clone(), key.to_string()))
            .or_default()
            .push(value.to_string());
    }
    settings
}

fn read_unit() -> String {
    fs::read_to_string(common::project_root().join("pkg/ntpd.service")).unwrap()
}

#[test]
fn the_unit_runs_ntpd_as_ntp_with_only_the_capabilities_it_needs() {
    let s = unit_settings(&read_unit());
    let get = |section: &str, key: &str| -> Vec<String> {
        s.get(&(section.to_string(), key.to_string()))
            .cloned()
            .unwrap_or_default()
    };
    let words = |section: &str, key: &str| -> BTreeSet<String> {
        get(section, key)
            .iter()
            .flat_map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    let set =
        |items: &[&str]| -> BTreeSet<String> { items.iter().map(|i| i.to_string()).collect() };
    assert_eq!(
        get("Service", "ExecStart"),
        ["/usr/sbin/ntpd -n -u ntp:ntp -g $NTPD_OPTS"]
    );
    assert_eq!(get("Service", "EnvironmentFile"), ["-/etc/default/ntp"]);
    assert_eq!(get("Install", "Alias"), ["ntp.service"]);
    assert_eq!(get("Install", "WantedBy"), ["multi-user.target"]);
    assert_eq!(
        words("Unit", "Conflicts"),
        set(&[
            "chrony.service",
            "systemd-timesyncd.service",
            "openntpd.service",
            "ntpsec.service"
        ])
    );
    assert_eq!(
        words("Service", "CapabilityBoundingSet"),
        set(&[
            "CAP_SYS_TIME",
            "CAP_NET_BIND_SERVICE",
            "CAP_SETUID",
            "CAP_SETGID"
        ])
    );
    assert_eq!(get("Service", "ProtectSystem"), ["strict"]);
    assert!(words("Service", "ReadWritePaths").contains("/var/lib/ntp"));
    for key in [
        "PrivateTmp",
        "ProtectHome",
        "NoNewPrivileges",
        "ProtectKernelModules",
    ] {
        assert_eq!(get("Service", key), ["yes"], "{key}");
    }
    assert_eq!(get("Service", "SystemCallArchitectures"), ["native"]);
    assert_eq!(
        words("Service", "RestrictAddressFamilies"),
        set(&["AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"])
    );
    // ProtectClock= would take away the very thing ntpd is for.
    assert!(get("Service", "ProtectClock").is_empty());
}

/// Writes the unit to DIR/ntpd.service with ExecStart pointing at this
/// build's ntpd (systemd-analyze wants an executable there), after EDIT.
fn unit_for_analysis(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let ntpd = common::applet_dir().join("ntpd");
    let unit = edit(read_unit()).replace("/usr/sbin/ntpd", &ntpd.to_string_lossy());
    let path = dir.join("ntpd.service");
    fs::write(&path, unit).unwrap();
    path
}

fn analyze(args: &[&str], unit: &Path, cwd: &Path) -> Output {
    run(Command::new("systemd-analyze")
        .args(args)
        .arg(unit)
        .current_dir(cwd))
}

#[test]
fn systemd_analyze_verifies_the_unit_without_a_warning() {
    if !tools_present(&["systemd-analyze"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_analysis(dir.path(), |u| u);
    let out = analyze(&["verify", "--man=no"], &unit, dir.path());
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(0), String::new())
    );

    // The same check catches a misspelt directive.
    let bad = unit_for_analysis(dir.path(), |u| u.replace("ProtectHome=", "ProtectHomes="));
    let out = analyze(&["verify", "--man=no"], &bad, dir.path());
    assert!(
        text(&out.stderr).contains("Unknown key 'ProtectHomes' in section [Service]"),
        "{}",
        text(&out.stderr)
    );

    // systemd's own score of the sandbox: below 4.0 is what it calls OK.
    let unit = unit_for_analysis(dir.path(), |u| u);
    let out = analyze(
        &["security", "--offline=yes", "--no-pager"],
        &unit,
        dir.path(),
    );
    let report = text(&out.stdout);
    let score: f64 = report
        .lines()
        .find_map(|l| l.split("Overall exposure level for ntpd.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level:\n{report}{}", text(&out.stderr)));
    assert!(score < 4.0, "exposure {score}:\n{report}");
}
