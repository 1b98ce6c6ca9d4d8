//! The Debian package and the service files (issue 10): what `cargo deb`
//! builds from Cargo.toml's `[package.metadata.deb]` and pkg/, the package
//! installed and purged in a throwaway dpkg root (never this machine's),
//! the systemd unit, the default ntp.conf, and the sysv init script
//! driving a real daemon (`disable ntp`, a spare loopback port).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
const SYMLINKS: &[(&str, &str)] = &[
    ("lib/systemd/system/ntp.service", "ntpd.service"),
    ("usr/bin/ntpq", "ntpbox"),
    ("usr/bin/ntpstat", "ntpbox"),
    ("usr/sbin/ntpd", "../bin/ntpbox"),
    ("usr/sbin/ntpdate", "../bin/ntpbox"),
];

/// The conffiles, sorted: everything the package puts under /etc.
const CONFFILES: &[&str] = &["/etc/default/ntp", "/etc/init.d/ntp", "/etc/ntp.conf"];

/// The packaged files that are copies of files in this repository.
const SOURCES: &[(&str, &str)] = &[
    ("etc/ntp.conf", "pkg/ntp.conf"),
    ("etc/default/ntp", "pkg/default-ntp"),
    ("etc/init.d/ntp", "pkg/ntp.init"),
    ("lib/systemd/system/ntpd.service", "pkg/ntpd.service"),
];

/// The maintainer scripts, all in pkg/debian/.
const SCRIPTS: &[&str] = &["postinst", "prerm", "postrm"];

/// The user database files a Debian root starts with (base-passwd); the
/// maintainer scripts add the ntp user and group to them.
const USER_DATABASE: &[(&str, &str, u32)] = &[
    ("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644),
    ("etc/group", "root:x:0:\n", 0o644),
    ("etc/shadow", "root:*:19000:0:99999:7:::\n", 0o640),
    ("etc/gshadow", "root:*::\n", 0o640),
];

/// The backups useradd and groupadd leave of the files they change.
const USER_DATABASE_BACKUPS: &[&str] =
    &["etc/passwd-", "etc/group-", "etc/shadow-", "etc/gshadow-"];

/// What a user's PATH lacks for dpkg and the maintainer scripts when the
/// tests run as a normal user: useradd, update-rc.d and ldconfig live here.
const SBIN_DIRS: &str = "/usr/local/sbin:/usr/sbin:/sbin";

// ---------------------------------------------------------------------------
// Tools and the package build

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

/// Builds the .deb into DIR from this test run's ntpbox binary, the way
/// scripts/build-deb.sh does from a release build: cargo-deb takes the
/// binary from `$CARGO_TARGET_DIR/release/`, so a private target dir
/// holding a copy of the test binary stands in for a release build
/// (--no-build: seconds instead of the minutes of an LTO build).
fn build_deb(dir: &Path) -> PathBuf {
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

// ---------------------------------------------------------------------------
// The package

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

// ---------------------------------------------------------------------------
// Installing into a dpkg root

/// A minimal Debian root in a temporary directory: an empty dpkg database
/// and base-passwd's user database, nothing else.
struct DpkgRoot {
    dir: tempfile::TempDir,
}

impl DpkgRoot {
    fn new() -> DpkgRoot {
        let dir = tempfile::Builder::new()
            .prefix("ntpbox-dpkg-root")
            .tempdir()
            .unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("var/lib/dpkg/info")).unwrap();
        fs::create_dir_all(root.join("var/lib/dpkg/updates")).unwrap();
        fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
        fs::create_dir_all(root.join("etc")).unwrap();
        for (path, content, mode) in USER_DATABASE {
            fs::write(root.join(path), content).unwrap();
            fs::set_permissions(root.join(path), fs::Permissions::from_mode(*mode)).unwrap();
        }
        DpkgRoot { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// dpkg on this root. --force-script-chrootless runs the maintainer
    /// scripts with this machine's tools and DPKG_ROOT set (the root has no
    /// shell of its own); --force-depends: the root has no libc6 package.
    fn dpkg(&self, args: &[&str], deb: Option<&Path>) -> String {
        let mut cmd = Command::new("dpkg");
        cmd.arg(format!("--root={}", self.dir.path().display()))
            .args(["--force-script-chrootless", "--force-depends"])
            .args(args);
        if let Some(deb) = deb {
            cmd.arg(deb);
        }
        run_ok(&mut cmd)
    }

    fn status(&self) -> String {
        let out = run(Command::new("dpkg-query")
            .arg(format!(
                "--admindir={}",
                self.path("var/lib/dpkg").display()
            ))
            .args(["-W", "-f=${Status}", "ntpbox"]));
        text(&out.stdout)
    }

    /// Every file and symlink outside dpkg's database, relative to the root.
    fn files(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut dirs = vec![self.dir.path().to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let rel = path.strip_prefix(self.dir.path()).unwrap();
                if rel.starts_with("var/lib/dpkg") {
                    continue;
                }
                if path.symlink_metadata().unwrap().is_dir() {
                    dirs.push(path);
                } else {
                    found.insert(rel.to_string_lossy().into_owned());
                }
            }
        }
        found
    }

    /// The line for NAME in the root's etc/passwd or etc/group, split.
    fn entry(&self, file: &str, name: &str) -> Option<Vec<String>> {
        fs::read_to_string(self.path(file))
            .unwrap()
            .lines()
            .map(|l| l.split(':').map(str::to_string).collect::<Vec<_>>())
            .find(|f| f[0] == name)
    }
}

fn read_link(path: &Path) -> String {
    fs::read_link(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_string_lossy()
        .into_owned()
}

/// The PIDs of processes running EXE (none may run out of a dpkg root).
fn processes_running(exe: &Path) -> Vec<String> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| fs::read_link(e.path().join("exe")).is_ok_and(|p| p == exe))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// What must stay untouched on this machine while packages go into a root.
fn host_state() -> Vec<Vec<u8>> {
    ["/etc/passwd", "/etc/group", "/var/lib/dpkg/status"]
        .iter()
        .map(|p| fs::read(p).unwrap_or_default())
        .collect()
}

#[test]
fn installs_creates_the_ntp_user_and_var_lib_ntp_and_removes_and_purges_cleanly() {
    let tools = [
        "cargo-deb",
        "dpkg",
        "dpkg-deb",
        "dpkg-query",
        "strip",
        "useradd",
        "groupadd",
        "deb-systemd-helper",
        "update-rc.d",
    ];
    if !tools_present(&tools) {
        return;
    }
    if !is_root() {
        common::skip_or_fail("root (dpkg --root and the ntp user's chown)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let deb = build_deb(dir.path());
    let root = DpkgRoot::new();
    let seeded = root.files();
    let host_before = host_state();

    // Install, then again (an upgrade in place: nothing may be doubled).
    root.dpkg(&["-i"], Some(&deb));
    root.dpkg(&["-i"], Some(&deb));
    assert_eq!(root.status(), "install ok installed");
    for (path, target) in SYMLINKS {
        assert_eq!(read_link(&root.path(path)), *target, "{path}");
    }
    for (packaged, source) in SOURCES {
        assert_eq!(
            fs::read(root.path(packaged)).unwrap(),
            fs::read(common::project_root().join(source)).unwrap(),
            "{packaged}"
        );
    }
    // The installed ntpd, through its symlink, accepts the installed conffile.
    let check = run(Command::new(root.path("usr/sbin/ntpd"))
        .arg("--check")
        .arg("-c")
        .arg(root.path("etc/ntp.conf")));
    assert_eq!(
        (check.status.code(), text(&check.stderr)),
        (Some(0), String::new())
    );

    let user = root.entry("etc/passwd", "ntp").expect("the ntp user");
    let group = root.entry("etc/group", "ntp").expect("the ntp group");
    let passwd = fs::read_to_string(root.path("etc/passwd")).unwrap();
    assert_eq!(passwd.matches("\nntp:").count(), 1, "{passwd}");
    let uid: u32 = user[2].parse().unwrap();
    let gid: u32 = group[2].parse().unwrap();
    assert!((100..1000).contains(&uid), "a system uid: {uid}");
    assert_eq!(user[3], group[2], "primary group ntp");
    assert_eq!(
        &user[4..],
        ["NTP daemon", "/nonexistent", "/usr/sbin/nologin"]
    );
    assert!(root.entry("etc/shadow", "ntp").is_some());
    for state_dir in ["var/lib/ntp", "var/log/ntpstats"] {
        let m = fs::metadata(root.path(state_dir)).unwrap();
        assert!(m.is_dir(), "{state_dir}");
        assert_eq!(
            (m.uid(), m.gid(), m.mode() & 0o7777),
            (uid, gid, 0o755),
            "{state_dir}"
        );
    }
    // Enabled for systemd (with its alias) and for sysv init, in the root.
    let unit = "/lib/systemd/system/ntpd.service";
    assert_eq!(
        read_link(&root.path("etc/systemd/system/multi-user.target.wants/ntpd.service")),
        unit
    );
    assert_eq!(
        read_link(&root.path("etc/systemd/system/ntp.service")),
        unit
    );
    assert_eq!(read_link(&root.path("etc/rc2.d/S01ntp")), "../init.d/ntp");
    assert_eq!(read_link(&root.path("etc/rc0.d/K01ntp")), "../init.d/ntp");
    assert_eq!(
        processes_running(&root.path("usr/bin/ntpbox")),
        Vec::<String>::new()
    );

    // remove: the program goes; conffiles, the drift file and the user stay.
    let drift = root.path("var/lib/ntp/ntp.drift");
    fs::write(&drift, "-12.345\n").unwrap();
    root.dpkg(&["-r", "ntpbox"], None);
    assert_eq!(root.status(), "deinstall ok config-files");
    for gone in [
        "usr/bin/ntpbox",
        "usr/sbin/ntpd",
        "lib/systemd/system/ntpd.service",
    ] {
        assert!(root.path(gone).symlink_metadata().is_err(), "{gone}");
    }
    for kept in ["etc/ntp.conf", "etc/default/ntp", "etc/init.d/ntp"] {
        assert!(root.path(kept).is_file(), "{kept}");
    }
    assert!(drift.is_file());

    // purge: only the ntp user and group are left, as Debian leaves them.
    root.dpkg(&["-P", "ntpbox"], None);
    assert_eq!(root.status(), "");
    let mut expected = seeded.clone();
    expected.extend(USER_DATABASE_BACKUPS.iter().map(|s| s.to_string()));
    assert_eq!(root.files(), expected);
    assert!(!root.path("var/lib/ntp").exists());
    assert!(!root.path("var/log/ntpstats").exists());
    assert!(root.entry("etc/passwd", "ntp").is_some());
    assert_eq!(host_state(), host_before, "this machine was left alone");
}

// ---------------------------------------------------------------------------
// The systemd unit

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

// ---------------------------------------------------------------------------
// The default ntp.conf

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

// ---------------------------------------------------------------------------
// The sysv init script

/// The init script run against this build's ntpd, with its pidfile,
/// defaults file and configuration in a temporary directory.
struct InitScript {
    dir: tempfile::TempDir,
    port: u16,
}

/// A daemon that serves its local clock on loopback and never touches the
/// system clock.
const TEST_CONF: &str = "disable ntp
server 127.127.1.0
fudge 127.127.1.0 stratum 10
interface ignore all
interface listen 127.0.0.1
";

impl InitScript {
    fn new(conf: &str) -> InitScript {
        let dir = tempfile::Builder::new()
            .prefix("ntpbox-init")
            .tempdir()
            .unwrap();
        let port = common::free_udp_port();
        let d = dir.path().display();
        fs::write(dir.path().join("ntp.conf"), conf).unwrap();
        // As root the daemon drops to nobody, as it drops to ntp when
        // installed; then it cannot remove its pidfile, and stop must.
        let user = if is_root() { "nobody:nogroup" } else { "" };
        fs::write(
            dir.path().join("default"),
            format!(
                "NTPD_OPTS='-c {d}/ntp.conf --port {port} -l {d}/ntpd.log'\nNTPD_USER='{user}'\n"
            ),
        )
        .unwrap();
        InitScript { dir, port }
    }

    fn pidfile(&self) -> PathBuf {
        self.dir.path().join("ntpd.pid")
    }

    /// Runs `ntp.init ACTION`: (exit code, stdout, stderr).
    fn run(&self, action: &[&str]) -> (i32, String, String) {
        let out = run(Command::new(common::project_root().join("pkg/ntp.init"))
            .args(action)
            .env("NTPD_DAEMON", common::applet_dir().join("ntpd"))
            .env("NTPD_PIDFILE", self.pidfile())
            .env("NTPD_DEFAULTS", self.dir.path().join("default")));
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    fn pid(&self) -> u32 {
        fs::read_to_string(self.pidfile())
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("ntpd.log")).unwrap_or_default()
    }
}

impl Drop for InitScript {
    fn drop(&mut self) {
        // A failed assertion must not leave the daemon behind.
        if let Ok(pid) = fs::read_to_string(self.pidfile()) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                if is_ntpd(pid as u32) {
                    // SAFETY: kill(2) on the daemon this test started.
                    unsafe { libc::kill(pid, libc::SIGTERM) };
                }
            }
        }
    }
}

fn is_ntpd(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "ntpd\n")
}

/// The real user ID of PID.
fn uid_of(pid: u32) -> u32 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn ok(stdout: String) -> (i32, String, String) {
    (0, stdout, String::new())
}

#[test]
fn the_init_script_starts_reports_restarts_and_stops_a_real_daemon() {
    let s = InitScript::new(TEST_CONF);
    assert_eq!(
        s.run(&["status"]),
        (3, "ntpd is not running\n".into(), String::new())
    );

    let (code, out, err) = s.run(&["start"]);
    assert_eq!((code, err.as_str()), (0, ""), "{}", s.log());
    let pid = s.pid();
    assert_eq!(out, format!("Started ntpd (pid {pid})\n"));
    assert!(is_ntpd(pid));
    if is_root() {
        assert_eq!(uid_of(pid), 65534, "ran as nobody (-u)");
    }
    let query = common::applet("ntpdate")
        .args(["-q", &format!("127.0.0.1:{}", s.port)])
        .output()
        .unwrap();
    assert!(query.status.success(), "{}", text(&query.stderr));
    assert!(text(&query.stdout).starts_with(&format!("server 127.0.0.1:{}, stratum 10, ", s.port)));

    assert_eq!(
        s.run(&["status"]),
        ok(format!("ntpd is running (pid {pid})\n"))
    );
    assert_eq!(
        s.run(&["start"]),
        ok(format!("ntpd is already running (pid {pid})\n"))
    );

    let (code, out, err) = s.run(&["restart"]);
    let new_pid = s.pid();
    assert_ne!(new_pid, pid);
    assert_eq!(
        (code, out, err),
        ok(format!(
            "Stopped ntpd (pid {pid})\nStarted ntpd (pid {new_pid})\n"
        ))
    );
    assert!(!is_ntpd(pid) && is_ntpd(new_pid));

    assert_eq!(
        s.run(&["stop"]),
        ok(format!("Stopped ntpd (pid {new_pid})\n"))
    );
    assert!(!is_ntpd(new_pid));
    assert!(!s.pidfile().exists(), "stop removes the pidfile");
    assert_eq!(
        s.run(&["status"]),
        (3, "ntpd is not running\n".into(), String::new())
    );
    assert_eq!(s.run(&["stop"]), ok("ntpd is not running\n".into()));
}

#[test]
fn the_init_script_reports_stale_pidfiles_failed_starts_and_bad_actions() {
    let s = InitScript::new(TEST_CONF);
    let stale = format!(
        "ntpd is not running, but {} exists\n",
        s.pidfile().display()
    );
    // A pidfile naming a process that is gone, then one that is not ntpd.
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    fs::write(s.pidfile(), format!("{}\n", gone.id())).unwrap();
    assert_eq!(s.run(&["status"]), (1, stale.clone(), String::new()));
    fs::write(s.pidfile(), format!("{}\n", std::process::id())).unwrap();
    assert_eq!(s.run(&["status"]), (1, stale, String::new()));
    assert_eq!(s.run(&["stop"]), ok("ntpd is not running\n".into()));
    assert!(!s.pidfile().exists());

    let usage = "Usage: ntp.init {start|stop|restart|force-reload|status}\n";
    assert_eq!(s.run(&[]), (2, String::new(), usage.into()));
    assert_eq!(s.run(&["bogus"]), (2, String::new(), usage.into()));
    assert_eq!(
        s.run(&["reload"]),
        (
            3,
            String::new(),
            "ntpd: reload is not supported; use restart\n".into()
        )
    );

    // ntpd refuses a bad configuration: start fails with ntpd's reason.
    let bad = InitScript::new("disable ntp\nrestrict 10.0.0.0 mask 255.0.0.0 nomodfiy\n");
    let (code, out, err) = bad.run(&["start"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("nomodfiy"), "{err}");
    assert!(err.ends_with("ntpd: not started\n"), "{err}");
    assert_eq!(bad.run(&["status"]).0, 3);
}

// ---------------------------------------------------------------------------
// The shell scripts

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
