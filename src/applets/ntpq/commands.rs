//! The command language of ntpq: commands (names, arguments, help; the
//! table is in `table.rs`), unique-prefix matching (`pe` is `peers`), tokenizing with
//! quotes, argument checks (`&2` is the second association), `> file`
//! output redirection, and running one command line.

use std::fs::File;
use std::io::BufWriter;

use super::shell::Shell;
use super::table::COMMANDS;

/// ntpq takes at most this many arguments per command (MAXARGS).
const MAX_ARGS: usize = 4;
/// ntpq's longest command line (MAXLINE).
const MAX_LINE: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Str,
    Uint,
    Int,
    IpVersion,
}

#[derive(Clone, Copy)]
pub(super) struct ArgSpec {
    pub kind: Kind,
    pub optional: bool,
    pub desc: &'static str,
}

pub(super) const fn req(kind: Kind, desc: &'static str) -> ArgSpec {
    ArgSpec {
        kind,
        optional: false,
        desc,
    }
}

pub(super) const fn opt(kind: Kind, desc: &'static str) -> ArgSpec {
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

pub(super) type Handler = fn(&mut Shell, &[Value]);

pub(super) struct Command {
    pub name: &'static str,
    pub args: &'static [ArgSpec],
    pub help: &'static str,
    pub run: Handler,
}

pub(super) const fn cmd(
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

/// Finds a command by exact name or unique prefix: Ok(command), or
/// Err(number of candidates: 0 unknown, 2+ ambiguous).
pub(super) fn find(word: &str) -> Result<&'static Command, usize> {
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
        Kind::Str => Some(Value::Str(word.to_string())),
        Kind::Uint => {
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
        Kind::Int => match word.parse::<i64>() {
            Ok(v) => Some(Value::Int(v)),
            Err(_) => {
                sh.error(&format!("***Illegal integer value {word}"));
                None
            }
        },
        Kind::IpVersion => match word {
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

pub(super) fn usage(c: &Command) -> String {
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

pub(super) fn uint(args: &[Value], i: usize) -> Option<u32> {
    match args.get(i) {
        Some(Value::Uint(v)) => Some(*v),
        _ => None,
    }
}

pub(super) fn text(args: &[Value], i: usize) -> Option<&str> {
    match args.get(i) {
        Some(Value::Str(s)) => Some(s.as_str()),
        _ => None,
    }
}

pub(super) fn ip_version(args: &[Value]) -> Option<u8> {
    match args.first() {
        Some(Value::IpVersion(v)) => Some(*v),
        _ => None,
    }
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
