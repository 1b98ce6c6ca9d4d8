//! ntpq's built-in commands: `help`, `timeout`, `host`, `hostnames`,
//! `debug`, `quit`, `version`, `raw`/`cooked`, `ntpversion`, and the key
//! settings `keyid`, `passwd`, `keytype`, `authenticate`, `delay`.

use super::auth;
use super::commands::{find, text, uint, usage, Value};
use super::host::{Family, HostSpec};
use super::shell::Shell;
use super::table::COMMANDS;

/// `help` lays the command names out in columns within this width.
const SCREEN_WIDTH: usize = 76;
/// What `version` prints.
pub const VERSION_TEXT: &str = concat!("ntpq ntpbox-", env!("CARGO_PKG_VERSION"));

pub(super) fn help(sh: &mut Shell, args: &[Value]) {
    if let Some(word) = text(args, 0) {
        match find(word) {
            Ok(c) => {
                let text = format!("function: {}\n{}\n", c.help, usage(c));
                sh.say(&text);
            }
            Err(0) => sh.error(&format!("Command `{word}' is unknown")),
            Err(_) => sh.error(&format!("Command `{word}' is ambiguous")),
        }
        return;
    }
    let mut names: Vec<&str> = COMMANDS
        .iter()
        .map(|c| c.name)
        .filter(|n| *n != "?")
        .collect();
    names.sort_unstable();
    let col = names.iter().map(|n| n.len()).max().unwrap_or(0) + 1;
    let cols = (SCREEN_WIDTH / col).max(1);
    let rows = names.len().div_ceil(cols);
    let mut out = String::from("ntpq commands:\n");
    for row in 0..rows {
        for name in names.iter().skip(row).step_by(rows) {
            let clipped: String = name.chars().take(col - 1).collect();
            out.push_str(&format!("{clipped:<col$}"));
        }
        out.push('\n');
    }
    sh.say(&out);
}

pub(super) fn timeout(sh: &mut Shell, args: &[Value]) {
    match (uint(args, 0), sh.session.as_mut()) {
        (Some(ms), Some(s)) => s.timeout = std::time::Duration::from_millis(u64::from(ms)),
        (Some(_), None) => sh.error("***No host open, use `host' command"),
        (None, _) => {
            let ms = sh
                .session
                .as_ref()
                .map_or(super::session::DEFAULT_TIMEOUT.as_millis(), |s| {
                    s.timeout.as_millis()
                });
            sh.say(&format!("primary timeout {ms} ms\n"));
        }
    }
}

pub(super) fn delay(sh: &mut Shell, args: &[Value]) {
    match args.first() {
        Some(Value::Int(ms)) => sh.auth.delay_ms = *ms,
        _ => {
            let ms = sh.auth.delay_ms;
            sh.say(&format!("delay {ms} ms\n"));
        }
    }
}

pub(super) fn host(sh: &mut Shell, args: &[Value]) {
    let Some(first) = text(args, 0) else {
        let line = match &sh.session {
            Some(s) => format!("current host is {}\n", s.name),
            None => "no current host\n".to_string(),
        };
        sh.say(&line);
        return;
    };
    let mut name = first;
    let mut family = Family::Any;
    if let Some(second) = text(args, 1) {
        family = match first {
            "-4" => Family::V4,
            "-6" => Family::V6,
            _ => return remains(sh),
        };
        name = second;
    }
    sh.family = family;
    let opened = match HostSpec::parse(name) {
        Ok(spec) => sh.open_host(&spec),
        Err(e) => {
            sh.error(&e.to_string());
            false
        }
    };
    if opened {
        let line = format!("current host set to {}\n", sh.host_name());
        sh.say(&line);
    } else {
        remains(sh);
    }
}

fn remains(sh: &mut Shell) {
    let line = match &sh.session {
        Some(s) => format!("current host remains {}\n", s.name),
        None => "still no current host\n".to_string(),
    };
    sh.say(&line);
}

pub(super) fn poll(sh: &mut Shell, _: &[Value]) {
    sh.say("poll not implemented yet\n");
}

pub(super) fn passwd(sh: &mut Shell, args: &[Value]) {
    if sh.auth.keyid.is_none() {
        let id = auth::ask("Keyid: ", true).and_then(|t| t.trim().parse::<u32>().ok());
        match id {
            Some(id) if id > 0 => sh.auth.keyid = Some(id),
            _ => {
                sh.say("Keyid must be defined\n");
                return;
            }
        }
    }
    let password = match text(args, 0) {
        Some(p) => Some(p.to_string()),
        None => {
            let prompt = format!("{} Password: ", sh.auth.algorithm.name());
            auth::ask(&prompt, false).filter(|p| !p.is_empty())
        }
    };
    match password {
        Some(p) => sh.auth.password = Some(p),
        None => sh.say("Password unchanged\n"),
    }
}

pub(super) fn hostnames(sh: &mut Shell, args: &[Value]) {
    match text(args, 0) {
        None if sh.names.numeric => sh.say("hostnames not being shown\n"),
        None => sh.say("hostnames being shown\n"),
        Some("yes") => sh.names.numeric = false,
        Some("no") => sh.names.numeric = true,
        Some(_) => sh.error("What?"),
    }
}

pub(super) fn debug(sh: &mut Shell, args: &[Value]) {
    match text(args, 0) {
        None => {
            let level = sh.debug;
            sh.say(&format!("debug level is {level}\n"));
            return;
        }
        Some("no") => sh.debug = 0,
        Some("more") => sh.debug += 1,
        Some("less") => sh.debug = sh.debug.saturating_sub(1),
        Some(_) => {
            sh.say("What?\n");
            return;
        }
    }
    if let Some(s) = sh.session.as_mut() {
        s.debug = sh.debug;
    }
    let level = sh.debug;
    sh.say(&format!("debug level set to {level}\n"));
}

pub(super) fn quit(sh: &mut Shell, _: &[Value]) {
    sh.quit = true;
}

pub(super) fn keyid(sh: &mut Shell, args: &[Value]) {
    match uint(args, 0) {
        // Zero clears it.
        Some(0) => sh.auth.keyid = None,
        Some(id) if id <= crate::auth::MAX_KEY_ID => sh.auth.keyid = Some(id),
        Some(_) => sh.say("Invalid key identifier\n"),
        None => match sh.auth.keyid {
            Some(id) => sh.say(&format!("keyid is {id}\n")),
            None => sh.say("no keyid defined\n"),
        },
    }
}

pub(super) fn version(sh: &mut Shell, _: &[Value]) {
    sh.say(&format!("{VERSION_TEXT}\n"));
}

pub(super) fn raw(sh: &mut Shell, _: &[Value]) {
    sh.raw = true;
    sh.say("Output set to raw\n");
}

pub(super) fn cooked(sh: &mut Shell, _: &[Value]) {
    sh.raw = false;
    sh.say("Output set to cooked\n");
}

pub(super) fn authenticate(sh: &mut Shell, args: &[Value]) {
    match text(args, 0) {
        None if sh.auth.always => sh.say("authenticated requests being sent\n"),
        None => sh.say("unauthenticated requests being sent\n"),
        Some("yes") => sh.auth.always = true,
        Some("no") => sh.auth.always = false,
        Some(_) => sh.error("What?"),
    }
}

/// Versions of NTP ntpq may claim in its requests.
const NTP_VERSIONS: std::ops::RangeInclusive<u32> = 1..=4;

pub(super) fn ntpversion(sh: &mut Shell, args: &[Value]) {
    match uint(args, 0) {
        None => {
            let v = sh
                .session
                .as_ref()
                .map_or(super::session::DEFAULT_VERSION, |s| s.version);
            sh.say(&format!("NTP version being claimed is {v}\n"));
        }
        Some(v) if NTP_VERSIONS.contains(&v) => {
            if let Some(s) = sh.session.as_mut() {
                s.version = v as u8;
            }
        }
        Some(_) => sh.error("versions 1 to 4, please"),
    }
}

pub(super) fn keytype(sh: &mut Shell, args: &[Value]) {
    match text(args, 0) {
        None => {
            let a = sh.auth.algorithm;
            sh.say(&format!(
                "keytype is {} with {} octet digests\n",
                a.name(),
                a.mac_len()
            ));
        }
        Some(name) => match crate::auth::Algorithm::from_name(name) {
            Some(a) => sh.auth.algorithm = a,
            None => sh.say(
                "keytype is not valid. Type \"help keytype\" for the available digest types.\n",
            ),
        },
    }
}
