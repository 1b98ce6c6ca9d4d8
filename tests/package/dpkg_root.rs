//! The package installed, removed and purged in a dpkg root made in a
//! temporary directory, with the maintainer scripts run chrootless
//! (DPKG_ROOT): the ntp user, /var/lib/ntp and the service links appear in
//! the root, and this machine is left alone.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::deb::{build_deb, SYMLINKS};
use crate::{common, is_root, run, run_ok, text, tools_present};

/// The packaged files that are copies of files in this repository.
const SOURCES: &[(&str, &str)] = &[
    ("etc/ntp.conf", "pkg/ntp.conf"),
    ("etc/default/ntp", "pkg/default-ntp"),
    ("etc/init.d/ntp", "pkg/ntp.init"),
    ("lib/systemd/system/ntpd.service", "pkg/ntpd.service"),
];

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
