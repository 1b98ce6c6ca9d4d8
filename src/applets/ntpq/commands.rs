//! The command language of ntpq: the command table (names, arguments,
//! help), unique-prefix matching (`pe` is `peers`), tokenizing with
//! quotes, argument checks (`&2` is the second association), `> file`
//! output redirection, and running one command line.

use std::fs::File;
use std::io::BufWriter;

use super::assoc;
use super::auth;
use super::config;
use super::host::{Family, HostSpec};
use super::mru;
use super::ordlist;
use super::peers::{self, Layout};
use super::readvar;
use super::shell::Shell;
use super::stats;

/// ntpq takes at most this many arguments per command (MAXARGS).
const MAX_ARGS: usize = 4;
/// `help` lays the command names out in columns within this width.
const SCREEN_WIDTH: usize = 76;
/// ntpq's longest command line (MAXLINE).
const MAX_LINE: usize = 512;
/// What `version` prints.
pub const VERSION_TEXT: &str = concat!("ntpq ntpbox-", env!("CARGO_PKG_VERSION"));

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Str,
    Uint,
    Int,
    IpVersion,
}

#[derive(Clone, Copy)]
struct ArgSpec {
    kind: Kind,
    optional: bool,
    desc: &'static str,
}

const fn req(kind: Kind, desc: &'static str) -> ArgSpec {
    ArgSpec {
        kind,
        optional: false,
        desc,
    }
}

const fn opt(kind: Kind, desc: &'static str) -> ArgSpec {
    ArgSpec {
        kind,
        optional: true,
        desc,
    }
}

/// A checked argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Uint(u32),
    Int(i64),
    IpVersion(u8),
}

type Handler = fn(&mut Shell, &[Value]);

struct Command {
    name: &'static str,
    args: &'static [ArgSpec],
    help: &'static str,
    run: Handler,
}

const fn cmd(
    name: &'static str,
    args: &'static [ArgSpec],
    help: &'static str,
    run: Handler,
) -> Command {
    Command {
        name,
        args,
        help,
        run,
    }
}

use Kind::{Int, IpVersion, Str, Uint};

const COMMANDS: &[Command] = &[
    // ntpq's built-in commands.
    cmd(
        "?",
        &[opt(Str, "command")],
        "tell the use and syntax of commands",
        help,
    ),
    cmd(
        "help",
        &[opt(Str, "command")],
        "tell the use and syntax of commands",
        help,
    ),
    cmd(
        "timeout",
        &[opt(Uint, "msec")],
        "set the primary receive time out",
        timeout,
    ),
    cmd(
        "delay",
        &[opt(Int, "msec")],
        "set the delay added to encryption time stamps",
        delay,
    ),
    cmd(
        "host",
        &[opt(Str, "-4|-6"), opt(Str, "hostname")],
        "specify the host whose NTP server we talk to",
        host,
    ),
    cmd(
        "poll",
        &[opt(Uint, "n"), opt(Str, "verbose")],
        "poll an NTP server in client mode `n' times",
        poll,
    ),
    cmd(
        "passwd",
        &[opt(Str, "")],
        "specify a password to use for authenticated requests",
        passwd,
    ),
    cmd(
        "hostnames",
        &[opt(Str, "yes|no")],
        "specify whether hostnames or net numbers are printed",
        hostnames,
    ),
    cmd(
        "debug",
        &[opt(Str, "no|more|less")],
        "set/change debugging level",
        debug,
    ),
    cmd("quit", &[], "exit ntpq", quit),
    cmd("exit", &[], "exit ntpq", quit),
    cmd(
        "keyid",
        &[opt(Uint, "key#")],
        "set keyid to use for authenticated requests",
        keyid,
    ),
    cmd("version", &[], "print version number", version),
    cmd("raw", &[], "do raw mode variable output", raw),
    cmd("cooked", &[], "do cooked mode variable output", cooked),
    cmd(
        "authenticate",
        &[opt(Str, "yes|no")],
        "always authenticate requests to this server",
        authenticate,
    ),
    cmd(
        "ntpversion",
        &[opt(Uint, "version number")],
        "set the NTP version number to use for requests",
        ntpversion,
    ),
    cmd(
        "keytype",
        &[opt(Str, "digest-name")],
        "set key type to use for authenticated requests (md5, sha1, aes128cmac, ...)",
        keytype,
    ),
    // Its mode 6 operations.
    cmd(
        "saveconfig",
        &[req(Str, "filename")],
        "save ntpd configuration to file, . for current config file",
        saveconfig,
    ),
    cmd(
        "associations",
        &[],
        "print list of association ID's and statuses for the server's peers",
        associations,
    ),
    cmd(
        "passociations",
        &[],
        "print list of associations returned by last associations command",
        passociations,
    ),
    cmd(
        "lassociations",
        &[],
        "print list of associations including all client information",
        lassociations,
    ),
    cmd(
        "lpassociations",
        &[],
        "print last obtained list of associations, including client information",
        lpassociations,
    ),
    cmd(
        "addvars",
        &[req(Str, "name[=value][,...]")],
        "add variables to the variable list or change their values",
        addvars,
    ),
    cmd(
        "rmvars",
        &[req(Str, "name[,...]")],
        "remove variables from the variable list",
        rmvars,
    ),
    cmd(
        "clearvars",
        &[],
        "remove all variables from the variable list",
        clearvars,
    ),
    cmd(
        "showvars",
        &[],
        "print variables on the variable list",
        showvars,
    ),
    cmd(
        "readlist",
        &[opt(Uint, "assocID")],
        "read the system or peer variables included in the variable list",
        readlist,
    ),
    cmd(
        "rl",
        &[opt(Uint, "assocID")],
        "read the system or peer variables included in the variable list",
        readlist,
    ),
    cmd(
        "writelist",
        &[opt(Uint, "assocID")],
        "write the system or peer variables included in the variable list",
        writelist,
    ),
    cmd(
        "readvar",
        &[
            opt(Uint, "assocID"),
            opt(Str, "varname1"),
            opt(Str, "varname2"),
            opt(Str, "varname3"),
        ],
        "read system or peer variables",
        readvar,
    ),
    cmd(
        "rv",
        &[
            opt(Uint, "assocID"),
            opt(Str, "varname1"),
            opt(Str, "varname2"),
            opt(Str, "varname3"),
        ],
        "read system or peer variables",
        readvar,
    ),
    cmd(
        "writevar",
        &[req(Uint, "assocID"), req(Str, "name=value,[...]")],
        "write system or peer variables",
        writevar,
    ),
    cmd(
        "mreadlist",
        &[req(Uint, "assocIDlow"), req(Uint, "assocIDhigh")],
        "read the peer variables in the variable list for multiple peers",
        mreadlist,
    ),
    cmd(
        "mrl",
        &[req(Uint, "assocIDlow"), req(Uint, "assocIDhigh")],
        "read the peer variables in the variable list for multiple peers",
        mreadlist,
    ),
    cmd(
        "mreadvar",
        &[
            req(Uint, "assocIDlow"),
            req(Uint, "assocIDhigh"),
            opt(Str, "name=value[,...]"),
        ],
        "read peer variables from multiple peers",
        mreadvar,
    ),
    cmd(
        "mrv",
        &[
            req(Uint, "assocIDlow"),
            req(Uint, "assocIDhigh"),
            opt(Str, "name=value[,...]"),
        ],
        "read peer variables from multiple peers",
        mreadvar,
    ),
    cmd(
        "clocklist",
        &[opt(Uint, "assocID")],
        "read the clock variables included in the variable list",
        clocklist,
    ),
    cmd(
        "cl",
        &[opt(Uint, "assocID")],
        "read the clock variables included in the variable list",
        clocklist,
    ),
    cmd(
        "clockvar",
        &[opt(Uint, "assocID"), opt(Str, "name=value[,...]")],
        "read clock variables",
        clockvar,
    ),
    cmd(
        "cv",
        &[opt(Uint, "assocID"), opt(Str, "name=value[,...]")],
        "read clock variables",
        clockvar,
    ),
    cmd(
        "pstats",
        &[req(Uint, "assocID")],
        "show statistics for a peer",
        pstats,
    ),
    cmd(
        "peers",
        &[opt(IpVersion, "-4|-6")],
        "obtain and print a list of the server's peers [IP version]",
        peers_cmd,
    ),
    cmd(
        "apeers",
        &[opt(IpVersion, "-4|-6")],
        "obtain and print a list of the server's peers and their assocIDs [IP version]",
        apeers,
    ),
    cmd(
        "lpeers",
        &[opt(IpVersion, "-4|-6")],
        "obtain and print a list of all peers and clients [IP version]",
        lpeers,
    ),
    cmd(
        "opeers",
        &[opt(IpVersion, "-4|-6")],
        "print peer list the old way, with dstadr shown rather than refid [IP version]",
        opeers,
    ),
    cmd(
        "lopeers",
        &[opt(IpVersion, "-4|-6")],
        "obtain and print a list of all peers and clients showing dstadr [IP version]",
        lopeers,
    ),
    cmd(
        ":config",
        &[req(Str, "<configuration command line>")],
        "send a remote configuration command to ntpd",
        config_line,
    ),
    cmd(
        "config-from-file",
        &[req(Str, "<configuration filename>")],
        "configure ntpd using the configuration filename",
        config_from_file,
    ),
    cmd(
        "mrulist",
        &[
            opt(Str, "tag=value"),
            opt(Str, "tag=value"),
            opt(Str, "tag=value"),
            opt(Str, "tag=value"),
        ],
        concat!(
            "display the list of most recently seen source addresses,",
            " tags mincount=... resall=0x... resany=0x..."
        ),
        mrulist,
    ),
    cmd(
        "ifstats",
        &[],
        "show statistics for each local address ntpd is using",
        |sh, _| ordlist::ifstats(sh),
    ),
    cmd("reslist", &[], "show ntpd access control list", |sh, _| {
        ordlist::reslist(sh)
    }),
    cmd("sysinfo", &[], "display system summary", |sh, _| {
        stats::sysinfo(sh)
    }),
    cmd(
        "kerninfo",
        &[],
        "display kernel loop and PPS statistics",
        |sh, _| stats::kerninfo(sh),
    ),
    cmd(
        "sysstats",
        &[],
        "display system uptime and packet counts",
        |sh, _| stats::sysstats(sh),
    ),
    cmd(
        "monstats",
        &[],
        "display monitor (mrulist) counters and limits",
        |sh, _| stats::monstats(sh),
    ),
    cmd(
        "authinfo",
        &[],
        "display symmetric authentication counters",
        |sh, _| stats::authinfo(sh),
    ),
    cmd(
        "iostats",
        &[],
        "display network input and output counters",
        |sh, _| stats::iostats(sh),
    ),
    cmd(
        "timerstats",
        &[],
        "display interval timer counters",
        |sh, _| stats::timerstats(sh),
    ),
];

/// Finds a command by exact name or unique prefix: Ok(command), or
/// Err(number of candidates: 0 unknown, 2+ ambiguous).
fn find(word: &str) -> Result<&'static Command, usize> {
    if let Some(c) = COMMANDS.iter().find(|c| c.name == word) {
        return Ok(c);
    }
    let mut matches = COMMANDS.iter().filter(|c| c.name.starts_with(word));
    match (matches.next(), matches.next()) {
        (Some(c), None) => Ok(c),
        (None, _) => Err(0),
        (Some(_), Some(_)) => Err(2 + matches.count()),
    }
}

/// Splits a command line into words. A word may be quoted ("a b"); after
/// a first word starting with `:`, the rest of the line is one word.
pub fn tokenize(line: &str) -> Option<Vec<String>> {
    if line.len() > MAX_LINE {
        return None;
    }
    let is_space = |c: char| c == ' ' || c == '\t';
    let is_eol = |c: char| c == '\n' || c == '\r' || c == '\0';
    let mut tokens: Vec<String> = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches(is_space);
        let Some(first) = rest.chars().next() else {
            break;
        };
        if is_eol(first) {
            break;
        }
        let end;
        let word;
        if tokens.len() == 1 && tokens[0].starts_with(':') {
            end = rest.find(is_eol).unwrap_or(rest.len());
            word = rest[..end].to_string();
        } else if let Some(quoted) = rest.strip_prefix('"') {
            let close = quoted
                .find(|c| c == '"' || is_eol(c))
                .unwrap_or(quoted.len());
            word = quoted[..close].to_string();
            // Skip the closing quote when there is one.
            end = 1 + close + usize::from(quoted[close..].starts_with('"'));
        } else {
            end = rest
                .find(|c| c == '"' || is_space(c) || is_eol(c))
                .unwrap_or(rest.len());
            word = rest[..end].to_string();
        }
        tokens.push(word);
        rest = &rest[end..];
    }
    Some(tokens)
}

/// Checks one argument (ntpq's getarg); prints why not and returns None.
fn check_arg(sh: &mut Shell, word: &str, kind: Kind) -> Option<Value> {
    match kind {
        Str => Some(Value::Str(word.to_string())),
        Uint => {
            if let Some(index) = word.strip_prefix('&') {
                return association_index(sh, word, index).map(Value::Uint);
            }
            match parse_unsigned(word) {
                Some(v) => Some(Value::Uint(v)),
                None => {
                    sh.error(&format!("***Illegal unsigned value {word}"));
                    None
                }
            }
        }
        Int => match word.parse::<i64>() {
            Ok(v) => Some(Value::Int(v)),
            Err(_) => {
                sh.error(&format!("***Illegal integer value {word}"));
                None
            }
        },
        IpVersion => match word {
            "-4" => Some(Value::IpVersion(4)),
            "-6" => Some(Value::IpVersion(6)),
            _ => {
                sh.error("***Version must be either 4 or 6");
                None
            }
        },
    }
}

/// Decimal digits only, as atouint takes them.
fn parse_unsigned(word: &str) -> Option<u32> {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    word.parse().ok()
}

/// `&N`: the ID of the Nth association of the list (fetched if need be;
/// past the end means the last one).
fn association_index(sh: &mut Shell, word: &str, index: &str) -> Option<u32> {
    let n = match parse_unsigned(index) {
        Some(n) if n > 0 => n as usize,
        _ => {
            sh.error(&format!(
                "***Association index `{word}' invalid/undecodable"
            ));
            return None;
        }
    };
    if sh.associations.is_empty() {
        sh.fetch_associations();
        if sh.associations.is_empty() {
            sh.error(&format!("***No associations found, `{word}' unknown"));
            return None;
        }
    }
    let i = n.min(sh.associations.len()) - 1;
    Some(u32::from(sh.associations[i].id))
}

fn usage(c: &Command) -> String {
    let mut text = format!("usage: {}", c.name);
    for a in c.args {
        if a.optional {
            text.push_str(&format!(" [ {} ]", a.desc));
        } else {
            text.push_str(&format!(" {}", a.desc));
        }
    }
    text
}

/// Where a command line sent its output, which decides whether ntpq puts a
/// blank line before the output of the next `-c` command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ran {
    /// The line failed before any output (unknown command, bad argument).
    NotRun,
    ToStdout,
    /// To a `> file`: afterwards no output stream is current.
    ToFile,
}

/// Runs one command line.
pub fn run_line(sh: &mut Shell, line: &str) -> Ran {
    let Some(tokens) = tokenize(line) else {
        sh.error(&format!("***Line `{line}' is too big"));
        return Ran::NotRun;
    };
    let Some(word) = tokens.first() else {
        return Ran::NotRun;
    };
    let command = match find(word) {
        Ok(c) => c,
        Err(0) => {
            sh.error(&format!("***Command `{word}' unknown"));
            return Ran::NotRun;
        }
        Err(_) => {
            sh.error(&format!("***Command `{word}' ambiguous"));
            return Ran::NotRun;
        }
    };
    for extra in tokens.iter().skip(MAX_ARGS + 1) {
        sh.error(&format!("***Extra arg `{extra}' ignored"));
    }
    let mut values = Vec::new();
    let mut next = 1;
    for spec in command.args {
        let Some(token) = tokens.get(next) else {
            if !spec.optional {
                sh.error(&usage(command));
                return Ran::NotRun;
            }
            break;
        };
        if spec.optional && token.starts_with('>') {
            break;
        }
        match check_arg(sh, token, spec.kind) {
            Some(v) => values.push(v),
            None => return Ran::NotRun,
        }
        next += 1;
    }
    let redirect = match tokens.get(next) {
        Some(t) if t.starts_with('>') => {
            let name = if t.len() > 1 {
                Some(t[1..].to_string())
            } else {
                tokens.get(next + 1).cloned()
            };
            let Some(name) = name else {
                sh.error("***No file for redirect");
                return Ran::NotRun;
            };
            match File::create(&name) {
                Ok(f) => Some(f),
                Err(e) => {
                    sh.error(&format!(
                        "***Error opening {name}: {}",
                        super::session::words(&e)
                    ));
                    return Ran::NotRun;
                }
            }
        }
        _ => None,
    };
    match redirect {
        Some(file) => {
            sh.flush();
            let stdout = std::mem::replace(&mut sh.out, Box::new(BufWriter::new(file)));
            (command.run)(sh, &values);
            sh.flush();
            sh.out = stdout;
            Ran::ToFile
        }
        None => {
            (command.run)(sh, &values);
            sh.flush();
            Ran::ToStdout
        }
    }
}

fn uint(args: &[Value], i: usize) -> Option<u32> {
    match args.get(i) {
        Some(Value::Uint(v)) => Some(*v),
        _ => None,
    }
}

fn text(args: &[Value], i: usize) -> Option<&str> {
    match args.get(i) {
        Some(Value::Str(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn ip_version(args: &[Value]) -> Option<u8> {
    match args.first() {
        Some(Value::IpVersion(v)) => Some(*v),
        _ => None,
    }
}

fn help(sh: &mut Shell, args: &[Value]) {
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

fn timeout(sh: &mut Shell, args: &[Value]) {
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

fn delay(sh: &mut Shell, args: &[Value]) {
    match args.first() {
        Some(Value::Int(ms)) => sh.auth.delay_ms = *ms,
        _ => {
            let ms = sh.auth.delay_ms;
            sh.say(&format!("delay {ms} ms\n"));
        }
    }
}

fn host(sh: &mut Shell, args: &[Value]) {
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

fn poll(sh: &mut Shell, _: &[Value]) {
    sh.say("poll not implemented yet\n");
}

fn passwd(sh: &mut Shell, args: &[Value]) {
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

fn hostnames(sh: &mut Shell, args: &[Value]) {
    match text(args, 0) {
        None if sh.names.numeric => sh.say("hostnames not being shown\n"),
        None => sh.say("hostnames being shown\n"),
        Some("yes") => sh.names.numeric = false,
        Some("no") => sh.names.numeric = true,
        Some(_) => sh.error("What?"),
    }
}

fn debug(sh: &mut Shell, args: &[Value]) {
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

fn quit(sh: &mut Shell, _: &[Value]) {
    sh.quit = true;
}

fn keyid(sh: &mut Shell, args: &[Value]) {
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

fn version(sh: &mut Shell, _: &[Value]) {
    sh.say(&format!("{VERSION_TEXT}\n"));
}

fn raw(sh: &mut Shell, _: &[Value]) {
    sh.raw = true;
    sh.say("Output set to raw\n");
}

fn cooked(sh: &mut Shell, _: &[Value]) {
    sh.raw = false;
    sh.say("Output set to cooked\n");
}

fn authenticate(sh: &mut Shell, args: &[Value]) {
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

fn ntpversion(sh: &mut Shell, args: &[Value]) {
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

fn keytype(sh: &mut Shell, args: &[Value]) {
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

fn associations(sh: &mut Shell, _: &[Value]) {
    assoc::fetch_and_print(sh, false);
}

fn lassociations(sh: &mut Shell, _: &[Value]) {
    assoc::fetch_and_print(sh, true);
}

fn passociations(sh: &mut Shell, _: &[Value]) {
    assoc::print(sh, false);
}

fn lpassociations(sh: &mut Shell, _: &[Value]) {
    assoc::print(sh, true);
}

fn addvars(sh: &mut Shell, args: &[Value]) {
    if let Some(t) = text(args, 0) {
        readvar::add_vars(&mut sh.varlist, t);
    }
}

fn rmvars(sh: &mut Shell, args: &[Value]) {
    if let Some(t) = text(args, 0) {
        readvar::remove_vars(sh, t);
    }
}

fn clearvars(sh: &mut Shell, _: &[Value]) {
    sh.varlist.clear();
}

fn showvars(sh: &mut Shell, _: &[Value]) {
    readvar::show_vars(sh);
}

fn readlist(sh: &mut Shell, args: &[Value]) {
    readvar::readlist(sh, uint(args, 0));
}

fn writelist(sh: &mut Shell, args: &[Value]) {
    readvar::writelist(sh, uint(args, 0));
}

fn readvar(sh: &mut Shell, args: &[Value]) {
    let vars: Vec<String> = (1..args.len())
        .filter_map(|i| text(args, i).map(str::to_string))
        .collect();
    readvar::readvar(sh, uint(args, 0), &vars);
}

fn writevar(sh: &mut Shell, args: &[Value]) {
    if let (Some(id), Some(vars)) = (uint(args, 0), text(args, 1)) {
        readvar::writevar(sh, id, vars);
    }
}

fn config_line(sh: &mut Shell, args: &[Value]) {
    if let Some(line) = text(args, 0) {
        config::config(sh, line);
    }
}

fn config_from_file(sh: &mut Shell, args: &[Value]) {
    if let Some(path) = text(args, 0) {
        config::config_from_file(sh, path);
    }
}

fn saveconfig(sh: &mut Shell, args: &[Value]) {
    if let Some(name) = text(args, 0) {
        config::saveconfig(sh, name);
    }
}

fn mreadlist(sh: &mut Shell, args: &[Value]) {
    if let (Some(a), Some(b)) = (uint(args, 0), uint(args, 1)) {
        readvar::mreadlist(sh, a, b);
    }
}

fn mreadvar(sh: &mut Shell, args: &[Value]) {
    if let (Some(a), Some(b)) = (uint(args, 0), uint(args, 1)) {
        readvar::mreadvar(sh, a, b, text(args, 2));
    }
}

fn clocklist(sh: &mut Shell, args: &[Value]) {
    readvar::clocklist(sh, uint(args, 0));
}

fn clockvar(sh: &mut Shell, args: &[Value]) {
    readvar::clockvar(sh, uint(args, 0), text(args, 1));
}

fn pstats(sh: &mut Shell, args: &[Value]) {
    if let Some(id) = uint(args, 0) {
        stats::pstats(sh, id);
    }
}

fn peers_cmd(sh: &mut Shell, args: &[Value]) {
    peers::peers(sh, false, Layout::Peers, ip_version(args));
}

fn apeers(sh: &mut Shell, args: &[Value]) {
    peers::peers(sh, false, Layout::WithIds, ip_version(args));
}

fn lpeers(sh: &mut Shell, args: &[Value]) {
    peers::peers(sh, true, Layout::Peers, ip_version(args));
}

fn opeers(sh: &mut Shell, args: &[Value]) {
    peers::peers(sh, false, Layout::Old, ip_version(args));
}

fn lopeers(sh: &mut Shell, args: &[Value]) {
    peers::peers(sh, true, Layout::Old, ip_version(args));
}

fn mrulist(sh: &mut Shell, args: &[Value]) {
    let words: Vec<String> = (0..args.len())
        .filter_map(|i| text(args, i).map(str::to_string))
        .collect();
    mru::mrulist(sh, &words);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_find_commands_or_say_why_not() {
        assert_eq!(find("pe").map(|c| c.name), Ok("peers"));
        assert_eq!(find("as").map(|c| c.name), Ok("associations"));
        assert_eq!(find("rv").map(|c| c.name), Ok("rv"));
        assert_eq!(find("mrv").map(|c| c.name), Ok("mrv"));
        assert_eq!(find("cv").map(|c| c.name), Ok("cv"));
        assert_eq!(find("q").map(|c| c.name), Ok("quit"));
        assert_eq!(find("bogus").map(|c| c.name), Err(0));
        assert!(matches!(find("p"), Err(n) if n > 2));
    }

    #[test]
    fn lines_split_into_words_with_quotes_and_config_lines() {
        assert_eq!(
            tokenize("rv 0 leap,stratum").unwrap(),
            ["rv", "0", "leap,stratum"]
        );
        assert_eq!(
            tokenize("  rv\t&1  \"a b\" c\r\n").unwrap(),
            ["rv", "&1", "a b", "c"]
        );
        assert_eq!(
            tokenize(":config server 10.0.0.1 iburst").unwrap(),
            [":config", "server 10.0.0.1 iburst"]
        );
        assert!(tokenize("").unwrap().is_empty());
        assert!(tokenize(&"x".repeat(MAX_LINE + 1)).is_none());
    }

    #[test]
    fn unsigned_arguments_are_decimal_only() {
        assert_eq!(parse_unsigned("17767"), Some(17767));
        assert_eq!(parse_unsigned("-1"), None);
        assert_eq!(parse_unsigned("0x10"), None);
        assert_eq!(parse_unsigned(""), None);
    }

    #[test]
    fn help_lists_every_command_in_columns() {
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len(), "duplicate command names");
        assert_eq!(
            usage(find("rv").unwrap()),
            "usage: rv [ assocID ] [ varname1 ] [ varname2 ] [ varname3 ]"
        );
        assert_eq!(
            usage(find("mrv").unwrap()),
            "usage: mrv assocIDlow assocIDhigh [ name=value[,...] ]"
        );
    }
}
