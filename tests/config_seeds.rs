//! `ntpd --check -c FILE`: every ntp.conf of the seed notes passes (exit 0)
//! with exactly the warnings pinned here, and broken files give the exact
//! `FILE:LINE: message` errors and exit 1.

mod common;

use std::path::{Path, PathBuf};

fn seeds_dir() -> PathBuf {
    common::project_root().join("tests/fixtures/seeds")
}

/// Runs `ntpd --check -c PATH` from DIR: (exit status, stdout, stderr).
fn check_in(dir: &Path, path: &str) -> (i32, String, String) {
    let out = common::applet("ntpd")
        .current_dir(dir)
        .args(["--check", "-c", path])
        .output()
        .expect("run ntpd --check");
    (
        out.status.code().expect("exit status"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What classic ntpd would also have complained about in the seeds, when
/// /etc/ntp/keys and /etc/ntp/crypto/pw do not exist on the test machine.
fn expected_warnings(name: &str) -> Vec<String> {
    let keys = "warning: keys /etc/ntp/keys: No such file or directory; running without keys";
    let pw = "warning: includefile /etc/ntp/crypto/pw: No such file or directory; ignored";
    let slash = "warning: \"//\" does not start a comment in ntp.conf (use \"#\"); the rest of the line is ignored";
    let lines: Vec<(usize, String)> = match name {
        "000_ba33bc13a96ac154_L18-107.conf" => vec![
            (71, "warning: fudge 192.168.2.193: not a reference clock address (127.127.TYPE.UNIT); line ignored".into()),
            (76, pw.into()),
            (81, keys.into()),
        ],
        "002_5e951f756fafbbd2_L23-40.conf" => vec![
            (10, slash.into()),
            (11, slash.into()),
            (12, slash.into()),
            (18, keys.into()),
            (16, "warning: fudge 127.127.1.0: no \"server 127.127.1.0\" line configures this clock, so the fudge has no effect".into()),
        ],
        "003_065d77b76d2a59c4_L28-72.conf" => vec![(41, pw.into()), (45, keys.into())],
        "004_2e33d9901482cc47_L251-258.conf" => vec![
            (6, "warning: ignoring text that is not ntp.conf syntax: \"stratum 这行是时间服务器的层次。设为0则为顶级，如果要向别的NTP服务器更新时间，请不要把它设为0\"".into()),
            (8, "warning: ignoring text that is not ntp.conf syntax: \"非常的简单. 接下来我们就启动NTP Server,并且设置其在开机后自动运行\"".into()),
            (6, "warning: fudge 127.127.1.0: no \"server 127.127.1.0\" line configures this clock, so the fudge has no effect".into()),
        ],
        _ => vec![],
    };
    lines
        .into_iter()
        .map(|(line, text)| format!("{name}:{line}: {text}"))
        .collect()
}

#[test]
fn every_seed_config_passes_the_check() {
    let mut names: Vec<String> = std::fs::read_dir(seeds_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        10,
        "one fixture per ntp.conf in the seeds: {names:?}"
    );
    if Path::new("/etc/ntp/keys").exists() || Path::new("/etc/ntp/crypto/pw").exists() {
        eprintln!("note: /etc/ntp files exist here; their warnings are not pinned");
    }
    for name in names {
        let (status, stdout, stderr) = check_in(&seeds_dir(), &name);
        assert_eq!(status, 0, "{name}:\n{stderr}");
        assert_eq!(stdout, "", "{name}");
        if !Path::new("/etc/ntp").exists() {
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines, expected_warnings(&name), "{name}");
        }
    }
}

/// A broken copy of a seed: (file contents, expected stderr lines).
fn broken_cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let seed =
        std::fs::read_to_string(seeds_dir().join("001_a68814128a579697_L24-37.conf")).unwrap();
    vec![
        (
            "typo-flag.conf",
            seed.replace("nomodify notrap", "nomodfiy notrap"),
            vec!["typo-flag.conf:4: restrict: unknown flag \"nomodfiy\""],
        ),
        (
            "bad-mask.conf",
            seed.replace("255.255.255.0", "255.255.255.300"),
            vec!["bad-mask.conf:4: restrict: \"255.255.255.300\" is not a valid mask"],
        ),
        (
            "bad-stratum.conf",
            seed.replace("stratum 10", "stratum ten"),
            vec!["bad-stratum.conf:14: fudge stratum: \"ten\" is not a number from 0 to 15"],
        ),
        (
            "unknown.conf",
            format!("{seed}serevr 192.168.0.1\ndriftfile\n"),
            vec![
                "unknown.conf:15: unknown directive \"serevr\"",
                "unknown.conf:16: driftfile: missing file name",
            ],
        ),
        (
            "options.conf",
            "server 10.0.0.1 iburst minpoll 12 maxpoll 6\nserver 10.0.0.2:0\nport 70000\n"
                .to_string(),
            vec![
                "options.conf:1: server: minpoll 12 is greater than maxpoll 6",
                "options.conf:2: server: \"10.0.0.2:0\": \"0\" is not a port number (1-65535)",
                "options.conf:3: port: \"70000\" is not a port number (1-65535)",
            ],
        ),
    ]
}

#[test]
fn broken_configs_give_file_line_errors_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, expected) in broken_cases() {
        std::fs::write(dir.path().join(name), text).unwrap();
        let (status, stdout, stderr) = check_in(dir.path(), name);
        assert_eq!(status, 1, "{name}: {stderr}");
        assert_eq!(stdout, "");
        assert_eq!(stderr.lines().collect::<Vec<_>>(), expected, "{name}");
    }
}

#[test]
fn errors_in_an_included_file_name_that_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ntp.conf"),
        "disable ntp\nincludefile local.conf\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("local.conf"),
        "# local additions\nrestrict 10.0.0.0 mask\n",
    )
    .unwrap();
    let (status, _, stderr) = check_in(dir.path(), "ntp.conf");
    assert_eq!(status, 1);
    assert_eq!(stderr, "local.conf:2: restrict mask: missing value\n");
}

#[test]
fn a_missing_config_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, stderr) = check_in(dir.path(), "nonexistent.conf");
    assert_eq!(status, 1);
    assert_eq!(
        stderr,
        "nonexistent.conf: cannot read the configuration: No such file or directory\n"
    );
}

#[test]
fn unimplemented_directives_are_one_line_warnings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ntp.conf"),
        "crypto\nserver 127.127.20.0 mode 1\nserver 127.127.1.0\nbroadcastclient\nmanycastclient 239.255.254.254\n",
    )
    .unwrap();
    let (status, _, stderr) = check_in(dir.path(), "ntp.conf");
    assert_eq!(status, 0);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "ntp.conf:1: warning: crypto: Autokey public-key authentication is not implemented by ntpbox; line ignored",
            "ntp.conf:2: warning: server 127.127.20.0: reference clock driver 20 is not implemented by ntpbox (only the local clock, 127.127.1.u); line ignored",
            "ntp.conf:5: warning: manycastclient: manycast client mode is not implemented by ntpbox yet; line ignored",
        ]
    );
}

#[test]
fn key_lines_naming_keys_the_keys_file_lacks_are_warnings() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("ntp.keys");
    std::fs::write(&keys, "1 MD5 secret\n2 SHA1 other\n").unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(
        dir.path().join("ntp.conf"),
        "keys ntp.keys\ntrustedkey 1 2 7\nrequestkey 2\ncontrolkey 8\n",
    )
    .unwrap();
    let (status, stdout, stderr) = check_in(dir.path(), "ntp.conf");
    assert_eq!((status, stdout.as_str()), (0, ""));
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "ntp.conf:2: warning: trustedkey 7: no such key in ntp.keys",
            "ntp.conf:4: warning: controlkey 8: no such key in ntp.keys",
        ]
    );
    // The `keys` line may come last: the same warnings, at the key lines.
    std::fs::write(
        dir.path().join("ntp.conf"),
        "trustedkey 1 2 7\nrequestkey 2\ncontrolkey 8\nkeys ntp.keys\n",
    )
    .unwrap();
    let (status, _, stderr) = check_in(dir.path(), "ntp.conf");
    assert_eq!(status, 0);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "ntp.conf:1: warning: trustedkey 7: no such key in ntp.keys",
            "ntp.conf:3: warning: controlkey 8: no such key in ntp.keys",
        ]
    );
}
