//! Running a program for a test: what it printed goes to the test's log
//! (shown when the test fails), and files a program insists be private.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs CMD to completion, prints `$ LABEL -> STATUS` and its output,
/// and returns the output.
pub fn logged(label: &str, cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{label}: cannot run: {e}"));
    println!(
        "$ {label} -> {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What a program printed, as text, and how it ended.
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

/// [`logged`], with the output as text.
pub fn ran(label: &str, cmd: &mut Command) -> Ran {
    let out = logged(label, cmd);
    Ran {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

/// Writes a file only its owner may read: keys files, which ntpd, ntpdate
/// and chronyd warn about (or refuse) when others can read them.
pub fn private_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}
