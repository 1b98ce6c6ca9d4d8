//! The .deb itself: its files, symlinks, control fields, conffiles and
//! maintainer scripts.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, common, run_ok, tools_present};

/// Every regular file in the package, with its mode as `dpkg-deb -c` shows
/// it. Man pages are gzipped by cargo-deb; hwclock's and zdump's carry an
/// `ntpbox-` prefix, and neither applet gets a symlink (util-linux-extra
/// and libc-bin own those names).
const FILES: &[(&str, &str)] = &[
    ("-rwxr-xr-x", "etc/init.d/ntp"),
    ("-rw-r--r--", "etc/default/ntp"),
    ("-rw-r--r--", "etc/ntp.conf"),
    ("-rw-r--r--", "lib/systemd/system/ntpd.service"),
    ("-rwxr-xr-x", "usr/bin/ntpbox"),
    ("-rw-r--r--", "usr/share/bash-completion/completions/ntpbox"),
    ("-rw-r--r--", "usr/share/bash-completion/completions/ntpd"),
    ("-rw-r--r--", "usr/share/bash-completion/completions/ntpq"),
    (
        "-rw-r--r--",
        "usr/share/bash-completion/completions/ntpstat",
    ),
    ("-rw-r--r--", "usr/share/doc/ntpbox/README.md"),
    ("-rw-r--r--", "usr/share/doc/ntpbox/copyright"),
    (
        "-rw-r--r--",
        "usr/share/fish/vendor_completions.d/ntpbox.fish",
    ),
    (
        "-rw-r--r--",
        "usr/share/fish/vendor_completions.d/ntpd.fish",
    ),
    (
        "-rw-r--r--",
        "usr/share/fish/vendor_completions.d/ntpdate.fish",
    ),
    (
        "-rw-r--r--",
        "usr/share/fish/vendor_completions.d/ntpq.fish",
    ),
    (
        "-rw-r--r--",
        "usr/share/fish/vendor_completions.d/ntpstat.fish",
    ),
    ("-rw-r--r--", "usr/share/man/man1/ntpbox-zdump.1.gz"),
    ("-rw-r--r--", "usr/share/man/man1/ntpbox.1.gz"),
    ("-rw-r--r--", "usr/share/man/man1/ntpq.1.gz"),
    ("-rw-r--r--", "usr/share/man/man1/ntpstat.1.gz"),
    ("-rw-r--r--", "usr/share/man/man8/ntpbox-hwclock.8.gz"),
    ("-rw-r--r--", "usr/share/man/man8/ntpd.8.gz"),
    ("-rw-r--r--", "usr/share/man/man8/ntpdate.8.gz"),
    ("-rw-r--r--", "usr/share/zsh/vendor-completions/_ntpbox"),
    ("-rw-r--r--", "usr/share/zsh/vendor-completions/_ntpd"),
    ("-rw-r--r--", "usr/share/zsh/vendor-completions/_ntpdate"),
    ("-rw-r--r--", "usr/share/zsh/vendor-completions/_ntpq"),
    ("-rw-r--r--", "usr/share/zsh/vendor-completions/_ntpstat"),
];

/// Every symlink in the package and its target, relative as Debian
/// policy wants within one top-level directory.
pub const SYMLINKS: &[(&str, &str)] = &[
    ("lib/systemd/system/ntp.service", "ntpd.service"),
    ("usr/bin/ntpq", "ntpbox"),
    ("usr/bin/ntpstat", "ntpbox"),
    ("usr/sbin/ntpd", "../bin/ntpbox"),
    ("usr/sbin/ntpdate", "../bin/ntpbox"),
];

/// The conffiles, sorted: everything the package puts under /etc.
const CONFFILES: &[&str] = &["/etc/default/ntp", "/etc/init.d/ntp", "/etc/ntp.conf"];

/// The maintainer scripts, all in pkg/debian/.
const SCRIPTS: &[&str] = &["postinst", "prerm", "postrm"];

/// Builds the .deb into DIR from this test run's ntpbox binary, the way
/// scripts/build-deb.sh does from a release build: cargo-deb takes the
/// binary from `$CARGO_TARGET_DIR/release/`, so a private target dir
/// holding a copy of the test binary stands in for a release build
/// (--no-build: seconds instead of the minutes of an LTO build).
pub fn build_deb(dir: &Path) -> PathBuf {
    let target = dir.join("target");
    fs::create_dir_all(target.join("release")).unwrap();
    fs::copy(common::ntpbox(), target.join("release/ntpbox")).unwrap();
    let deb = dir.join("ntpbox.deb");
    run_ok(
        cargo()
            .arg("deb")
            .arg("--manifest-path")
            .arg(common::project_root().join("Cargo.toml"))
            .args(["--no-build", "--offline", "--fast", "--strip", "-o"])
            .arg(&deb)
            .env("CARGO_TARGET_DIR", &target),
    );
    deb
}

/// `dpkg-deb -c`: path -> (mode string, symlink target) for every entry
/// that is not a directory; every entry must belong to root.
fn contents(deb: &Path) -> BTreeMap<String, (String, Option<String>)> {
    let listing = run_ok(Command::new("dpkg-deb").arg("-c").arg(deb));
    let mut entries = BTreeMap::new();
    for line in listing.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert!(f.len() == 6 || (f.len() == 8 && f[6] == "->"), "{line}");
        assert_eq!(f[1], "0/0", "owned by root: {line}");
        if f[0].starts_with('d') {
            continue;
        }
        let path = f[5].trim_start_matches("./").to_string();
        entries.insert(path, (f[0].to_string(), f.get(7).map(|t| t.to_string())));
    }
    entries
}

#[test]
fn the_deb_holds_the_binary_the_applet_links_the_service_files_man_pages_and_completions() {
    if !tools_present(&["cargo-deb", "dpkg-deb", "strip"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let deb = build_deb(dir.path());
    let mut expected = BTreeMap::new();
    for (mode, path) in FILES {
        expected.insert(path.to_string(), (mode.to_string(), None));
    }
    for (path, target) in SYMLINKS {
        expected.insert(
            path.to_string(),
            ("lrwxrwxrwx".to_string(), Some(target.to_string())),
        );
    }
    assert_eq!(contents(&deb), expected);
}

#[test]
fn the_control_fields_conffiles_and_maintainer_scripts() {
    if !tools_present(&["cargo-deb", "dpkg-deb", "dpkg", "strip", "dpkg-shlibdeps"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let deb = build_deb(dir.path());
    let field = |name: &str| {
        run_ok(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(name))
            .trim_end()
            .to_string()
    };
    let arch = run_ok(Command::new("dpkg").arg("--print-architecture"));
    assert_eq!(field("Package"), "ntpbox");
    assert_eq!(field("Version"), format!("{}-1", env!("CARGO_PKG_VERSION")));
    assert_eq!(field("Architecture"), arch.trim_end());
    assert_eq!(field("Section"), "net");
    assert_eq!(field("Priority"), "optional");
    let depends = field("Depends");
    assert!(depends.starts_with("libc6 (>= 2."), "{depends}");
    assert!(depends.ends_with(", passwd"), "{depends}");
    assert_eq!(field("Provides"), "time-daemon");
    let replaced = "time-daemon, ntpdate, ntpsec-ntpdate, ntpstat";
    assert_eq!(field("Conflicts"), replaced);
    assert_eq!(field("Replaces"), replaced);
    let installed_kib: u64 = field("Installed-Size").parse().unwrap();
    assert!(installed_kib > 0);

    let control = dir.path().join("control");
    run_ok(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    let conffiles = fs::read_to_string(control.join("conffiles")).unwrap();
    let mut conffiles: Vec<&str> = conffiles.lines().collect();
    conffiles.sort_unstable();
    assert_eq!(conffiles, CONFFILES);
    let mut names: Vec<String> = fs::read_dir(&control)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["conffiles", "control", "postinst", "postrm", "prerm"]
    );
    for script in SCRIPTS {
        let packaged = control.join(script);
        assert_eq!(
            fs::read(&packaged).unwrap(),
            fs::read(common::project_root().join("pkg/debian").join(script)).unwrap(),
            "{script}"
        );
        assert_eq!(
            fs::metadata(&packaged).unwrap().mode() & 0o777,
            0o755,
            "{script}"
        );
    }
}
