//! Tests that really set clocks run in a throwaway qemu VM (TCG, a Debian
//! kernel, a busybox initramfs), never on the host. This module drives the
//! project's VM kit in scripts/vm/:
//!
//! ```text
//! scripts/vm/setup.sh      once per machine, from the project root (root)
//! ```
//!
//! [`run_test`] builds an initramfs holding this build's `ntpbox` (with one
//! symlink per applet in /usr/local/bin, first on the guest's PATH; busybox's
//! own tools stay reachable as `busybox NAME`), the guest script as /test.sh
//! and any extra files, boots it with a hard time limit and returns the
//! script's exit status and output. The script runs under dash (the guest's
//! /bin/sh), so plain `hwclock` means ntpbox's. Busybox tools that run other
//! programs (`timeout`, `env`, `nice`, `xargs`) prefer busybox's built-in
//! applets to PATH: give them a full path, `timeout 5 /usr/local/bin/hwclock`. Each run has its own directory under
//! `$VMTEST_DIR/runs`, so tests may boot VMs in parallel.
//!
//! Networking, when asked for, is qemu's user-mode network with qemu run in
//! a fresh network namespace that has only `lo`: the guest reaches the
//! namespace's 127.0.0.1 as 10.0.2.2 and nothing else. Host-side programs the
//! guest should talk to (an NTP server, say) are started in that same
//! namespace with [`VmOptions::host_command`].

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{ntpbox, project_root, skip_or_fail};

/// Where the guest finds ntpbox and its applet symlinks (first on its PATH).
pub const GUEST_BIN_DIR: &str = "/usr/local/bin";

/// The longest a whole VM run (boot, script, power-off) may take by default.
/// A boot alone takes 2 to 4 s under TCG; the guest clock runs at real speed,
/// so every `sleep` in a script costs real seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What boot.sh exits with when the VM hit its time limit.
pub const STATUS_TIMEOUT: i32 = 124;

/// What boot.sh exits with when the VM died without reporting a status.
pub const STATUS_CRASH: i32 = 125;

/// How one VM is booted. Build it with the methods, e.g.
/// `VmOptions::new().rtc_base("2020-01-01T00:00:00").env("PORT", "123")`.
#[derive(Clone, Debug)]
pub struct VmOptions {
    rtc_base: Option<String>,
    env: Vec<(String, String)>,
    network: bool,
    host_commands: Vec<String>,
    files: Vec<(PathBuf, String)>,
    contents: Vec<(String, Vec<u8>)>,
    timeout: Duration,
}

impl Default for VmOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl VmOptions {
    pub fn new() -> Self {
        VmOptions {
            rtc_base: None,
            env: Vec::new(),
            network: false,
            host_commands: Vec::new(),
            files: Vec::new(),
            contents: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// qemu's `-rtc base=`: `utc` (the default), `localtime` or a date such as
    /// `2020-01-01T00:00:00`. The guest kernel sets its clock from the RTC at
    /// boot, so this is also where the guest's system clock starts.
    pub fn rtc_base(mut self, base: &str) -> Self {
        self.rtc_base = Some(base.to_string());
        self
    }

    /// A kernel command-line word KEY=VALUE, which /test.sh sees as an
    /// environment variable. VALUE must not contain spaces.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        assert!(
            !value.contains(char::is_whitespace) && !key.contains(char::is_whitespace),
            "kernel command-line words cannot hold spaces: {key}={value}"
        );
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Gives the guest a network card on qemu's user-mode network; qemu runs
    /// in a private network namespace, and 10.0.2.2 in the guest is that
    /// namespace's 127.0.0.1.
    pub fn network(mut self) -> Self {
        self.network = true;
        self
    }

    /// Starts COMMAND (a simple shell command line, run with `exec` so that
    /// its PID is its own) in the VM's network namespace before the VM boots,
    /// and stops it by that PID once the VM is done. Implies [`Self::network`].
    /// Its output is in [`VmResult::host_output`].
    pub fn host_command(mut self, command: &str) -> Self {
        self.host_commands.push(command.to_string());
        self.network = true;
        self
    }

    /// Copies the host file SRC to DEST in the guest. A dynamically linked
    /// program brings its shared libraries along.
    pub fn file(mut self, src: impl Into<PathBuf>, dest: &str) -> Self {
        self.files.push((src.into(), dest.to_string()));
        self
    }

    /// Puts a file with these CONTENTS at DEST in the guest (mode 0644).
    pub fn file_contents(mut self, dest: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.contents.push((dest.to_string(), contents.into()));
        self
    }

    /// The hard limit for the whole run.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }
}

/// What one VM run gave back.
#[derive(Debug)]
pub struct VmResult {
    /// The exit status of /test.sh; [`STATUS_TIMEOUT`] or [`STATUS_CRASH`]
    /// when the VM did not finish normally.
    pub status: i32,
    /// Everything /test.sh wrote to stdout and stderr.
    pub output: String,
    /// The kernel and /init messages (serial console), for diagnosis.
    pub console: String,
    /// The output of the host commands and of the kit's scripts.
    pub host_output: String,
    /// From starting to build the initramfs to qemu's exit.
    pub elapsed: Duration,
}

impl VmResult {
    /// Fails the test, with everything needed to see why, unless the guest
    /// script exited 0.
    pub fn assert_success(&self) {
        assert_eq!(self.status, 0, "the guest script failed\n{}", self.report());
    }

    /// The rest of the guest output line that starts with `KEY ` (a script
    /// reports values as `echo "KEY $value"`). Fails the test when there is
    /// no such line.
    pub fn value(&self, key: &str) -> &str {
        self.output
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no `{key} ...` line in the guest output\n{}", self.report()))
    }

    /// The output, console tail and host output, for assertion messages.
    pub fn report(&self) -> String {
        let console_tail: Vec<&str> = self.console.lines().rev().take(30).collect();
        let console_tail: Vec<&str> = console_tail.into_iter().rev().collect();
        format!(
            "--- guest status {} after {:.1?}\n--- guest output:\n{}--- host side:\n{}--- console (tail):\n{}\n",
            self.status,
            self.elapsed,
            self.output,
            self.host_output,
            console_tail.join("\n")
        )
    }
}

/// The VM kit of this machine, as scripts/vm/setup.sh left it.
struct Kit {
    dir: PathBuf,
    scripts: PathBuf,
}

/// Finds the kit: $VMTEST_DIR (default target/vmtest of the project) with
/// the env file, kernel and busybox setup.sh writes, and qemu on the PATH.
fn find_kit() -> Option<Kit> {
    let dir = std::env::var_os("VMTEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("target/vmtest"));
    let env = fs::read_to_string(dir.join("env")).ok()?;
    let setting = |key: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(PathBuf::from)
    };
    let present = |p: Option<PathBuf>| p.is_some_and(|p| p.is_file());
    if !present(setting("VMTEST_KERNEL")) || !present(setting("VMTEST_BUSYBOX")) {
        return None;
    }
    let qemu = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    qemu.then(|| Kit {
        dir,
        scripts: project_root().join("scripts/vm"),
    })
}

/// A file setup.sh fetched, named by its key in $VMTEST_DIR/env (e.g.
/// `VMTEST_UTIL_LINUX_HWCLOCK`), when the kit has it.
pub fn kit_file(key: &str) -> Option<PathBuf> {
    let kit = find_kit()?;
    let env = fs::read_to_string(kit.dir.join("env")).ok()?;
    env.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(PathBuf::from)
        .filter(|p| p.is_file())
}

/// Whether this process may create network namespaces (needs root).
fn can_unshare_net() -> bool {
    Command::new("unshare")
        .args(["--net", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// The applet names, as the binary itself lists them.
fn applet_names() -> Vec<String> {
    let out = Command::new(ntpbox())
        .arg("--list")
        .output()
        .expect("run ntpbox --list");
    assert!(out.status.success(), "ntpbox --list failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Boots a VM that runs SCRIPT (with the guest's /bin/sh, dash, as root) and returns its result.
/// Returns None, after [`skip_or_fail`], when the VM kit (or, for a network
/// test, a network namespace) is not available on this machine.
pub fn run_test(script: &str, opts: &VmOptions) -> Option<VmResult> {
    let Some(kit) = find_kit() else {
        skip_or_fail("the VM kit (scripts/vm/setup.sh)");
        return None;
    };
    if opts.network && !can_unshare_net() {
        skip_or_fail("a private network namespace for the VM (needs root)");
        return None;
    }
    let started = Instant::now();
    let runs = kit.dir.join("runs");
    fs::create_dir_all(&runs).expect("create the VM runs directory");
    let run_dir = tempfile::Builder::new()
        .prefix("vmtest-")
        .tempdir_in(&runs)
        .expect("create a VM run directory");
    let dir = run_dir.path();

    let test_sh = dir.join("test.sh");
    fs::write(&test_sh, script).expect("write the guest script");
    let initrd = dir.join("test.cpio");
    let mut mkinitramfs = Command::new(kit.scripts.join("mkinitramfs.sh"));
    mkinitramfs
        .env("VMTEST_DIR", &kit.dir)
        .arg("-o")
        .arg(&initrd)
        .arg("-t")
        .arg(&test_sh);
    let mut add_file = |src: &Path, dest: &str| {
        let mut spec = OsString::from(src);
        spec.push(":");
        spec.push(dest);
        mkinitramfs.arg("-f").arg(spec);
    };
    add_file(&ntpbox(), &format!("{GUEST_BIN_DIR}/ntpbox"));
    for (src, dest) in &opts.files {
        add_file(src, dest);
    }
    for (i, (dest, contents)) in opts.contents.iter().enumerate() {
        let staged = dir.join(format!("content-{i}"));
        fs::write(&staged, contents).expect("stage a guest file");
        add_file(&staged, dest);
    }
    for name in applet_names() {
        mkinitramfs
            .arg("-l")
            .arg(format!("{GUEST_BIN_DIR}/{name}:ntpbox"));
    }
    let built = mkinitramfs.output().expect("run scripts/vm/mkinitramfs.sh");
    assert!(
        built.status.success(),
        "mkinitramfs.sh failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );

    let mut boot_args: Vec<OsString> = vec![
        kit.scripts.join("boot.sh").into(),
        "-i".into(),
        initrd.into(),
        "-l".into(),
        dir.join("log").into(),
        "-T".into(),
        opts.timeout.as_secs().max(1).to_string().into(),
    ];
    if let Some(base) = &opts.rtc_base {
        boot_args.extend(["-r".into(), base.into()]);
    }
    if opts.network {
        boot_args.push("-n".into());
    }
    if !opts.env.is_empty() {
        let words: Vec<String> = opts.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        boot_args.extend(["-a".into(), words.join(" ").into()]);
    }

    let mut boot = if opts.network {
        // boot.sh, and the host commands around it, inside a private namespace
        let wrapper = dir.join("netns.sh");
        fs::write(&wrapper, netns_wrapper(&opts.host_commands)).expect("write the netns wrapper");
        let mut cmd = Command::new(kit.scripts.join("netns-run.sh"));
        cmd.arg("bash").arg(&wrapper).args(&boot_args);
        cmd
    } else {
        let mut cmd = Command::new("bash");
        cmd.args(&boot_args);
        cmd
    };
    boot.env("VMTEST_DIR", &kit.dir).current_dir(dir);
    let out = boot.output().expect("run scripts/vm/boot.sh");

    let read = |p: PathBuf| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
    let mut host_output = read(dir.join("host.log"));
    host_output.push_str(&String::from_utf8_lossy(&out.stderr));
    let result = VmResult {
        status: out.status.code().unwrap_or(STATUS_CRASH),
        output: String::from_utf8_lossy(&out.stdout).into_owned(),
        console: read(dir.join("log/console.log")),
        host_output,
        elapsed: started.elapsed(),
    };
    if std::env::var_os("VMTEST_KEEP").is_some() {
        eprintln!("VM run kept in {}", run_dir.keep().display());
    }
    Some(result)
}

/// A bash script that starts each host command in the background, runs its
/// arguments (boot.sh ...), stops the host commands by PID and exits with
/// boot.sh's status. Host output goes to host.log in the run directory.
fn netns_wrapper(host_commands: &[String]) -> String {
    let mut s = String::from("#!/bin/bash\npids=()\n");
    for c in host_commands {
        s.push_str(&format!(
            "bash -c {} >> host.log 2>&1 &\npids+=($!)\n",
            shell_quote(&format!("exec {c}"))
        ));
    }
    s.push_str("\"$@\"\nrc=$?\n");
    s.push_str(
        "for p in \"${pids[@]}\"; do kill \"$p\" 2>/dev/null; wait \"$p\" 2>/dev/null; done\n",
    );
    s.push_str("exit $rc\n");
    s
}

/// STR as one single-quoted shell word.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
