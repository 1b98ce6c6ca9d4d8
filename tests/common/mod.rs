//! Shared support for the integration tests: the real binary through
//! symlinks, free loopback ports, and the policy for optional resources.
#![allow(dead_code)]

pub mod peers;
pub mod run;
pub mod vm;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The ntpbox binary cargo built for this test run.
pub fn ntpbox() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ntpbox"))
}

/// A directory holding one symlink per applet, made by `ntpbox --install`,
/// as a user would install them. It lives in cargo's target tmpdir and is
/// shared by every test process of the build: the first one creates it
/// under a private name and renames it into place, so concurrent test
/// binaries never see it half made, and nothing is left in /tmp.
pub fn applet_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("applets");
        if dir.join("zdump").symlink_metadata().is_ok() {
            return dir;
        }
        let building = dir.with_file_name(format!("applets.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        std::fs::create_dir_all(&building).expect("create the applet directory");
        let status = Command::new(ntpbox())
            .arg("--install")
            .arg(&building)
            .status()
            .expect("run ntpbox --install");
        assert!(status.success(), "ntpbox --install failed");
        if std::fs::rename(&building, &dir).is_err() {
            // Another test process won the race; its directory is the same.
            let _ = std::fs::remove_dir_all(&building);
        }
        dir
    })
}

/// A command that runs APPLET through its symlink, with a clean locale.
pub fn applet(name: &str) -> Command {
    let mut cmd = Command::new(applet_dir().join(name));
    cmd.env("LC_ALL", "C");
    cmd
}

/// A UDP port on 127.0.0.1 that was free a moment ago and that no other
/// test of this process has been given.
pub fn free_udp_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    loop {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback UDP port");
        let port = sock.local_addr().unwrap().port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Whether the full suite is running (the README's test command sets
/// NTPBOX_REQUIRE_ALL=1): then a missing peer, VM or tool is a failure, not
/// a skip.
pub fn require_all() -> bool {
    std::env::var_os("NTPBOX_REQUIRE_ALL").is_some_and(|v| v == "1")
}

/// Called by a test whose resource is missing: fails under the full suite,
/// otherwise prints why it is skipped. Returns normally only when skipping.
pub fn skip_or_fail(what: &str) {
    if require_all() {
        panic!("{what} is missing, and NTPBOX_REQUIRE_ALL=1 requires it");
    }
    eprintln!("SKIPPED: {what} is missing (run the README's test command to set it up)");
}

/// The project root (where Cargo.toml is).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
