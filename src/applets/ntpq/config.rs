//! Remote configuration: `:config LINE`, `config-from-file FILE` and
//! `saveconfig FILE`, each a signed request (CONFIGURE or SAVECONFIG) whose
//! answer ntpd words itself.

use std::io::BufRead;

use super::shell::Shell;
use crate::proto::control::opcode;

/// ntpd's words for a configuration line it could not parse.
const SYNTAX_ERROR: &str = "syntax error";
/// What the caret line starts with at the prompt: the width of `ntpq> `
/// and `:config ` drawn as underscores.
const PROMPT_UNDERLINE: &str = "______________";
/// A configuration line is retried this many times when lost.
const CONFIG_RETRIES: usize = 2;

/// The answer as text, without the newline ntpd ends it with.
fn answer_text(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    text.strip_suffix('\n')
        .unwrap_or(&text)
        .trim_end_matches('\r')
        .to_string()
}

/// `column N syntax error`: N.
fn error_column(answer: &str) -> Option<usize> {
    let rest = answer.strip_prefix("column ")?;
    let (n, tail) = rest.split_once(' ')?;
    if tail.starts_with(SYNTAX_ERROR) {
        n.parse().ok()
    } else {
        None
    }
}

/// `:config LINE`.
pub fn config(sh: &mut Shell, line: &str) {
    let Some(r) = sh.query_signed(opcode::CONFIGURE, 0, line.as_bytes()) else {
        return;
    };
    let answer = answer_text(&r.data);
    let mut text = String::new();
    if let Some(col) = error_column(&answer).filter(|&c| c <= line.len() + 1) {
        if sh.interactive {
            text.push_str(PROMPT_UNDERLINE);
        } else {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&"_".repeat(col.saturating_sub(1)));
        text.push_str("^\n");
    }
    text.push_str(&answer);
    text.push('\n');
    sh.say(&text);
}

/// `config-from-file FILE`: each line as its own CONFIGURE request.
pub fn config_from_file(sh: &mut Shell, path: &str) {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(_) => {
            sh.say(&format!("ERROR!! Couldn't open file: {path}\n"));
            return;
        }
    };
    sh.say("Sending configuration file, one line at a time.\n");
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let Ok(mut line) = line else {
            break;
        };
        line.push('\n');
        let mut answer = None;
        for _ in 0..=CONFIG_RETRIES {
            answer = sh.query_signed(opcode::CONFIGURE, 0, line.as_bytes());
            if answer.is_some() {
                break;
            }
        }
        let Some(r) = answer else {
            sh.say(&format!("Line No: {} query failed: {line}", i + 1));
            sh.say("Subsequent lines not sent.\n");
            return;
        };
        let text = format!("Line No: {} {}: {line}", i + 1, answer_text(&r.data));
        sh.say(&text);
    }
    sh.say("Done sending file\n");
}

/// `saveconfig FILE` (`.` for ntpd's own configuration file).
pub fn saveconfig(sh: &mut Shell, name: &str) {
    let Some(r) = sh.query_signed(opcode::SAVECONFIG, 0, name.as_bytes()) else {
        return;
    };
    if r.data.is_empty() {
        sh.say("(no response message, curiously)");
    } else {
        sh.say(&String::from_utf8_lossy(&r.data));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_their_column() {
        assert_eq!(error_column("column 8 syntax error"), Some(8));
        assert_eq!(error_column("Config Succeeded"), None);
        assert_eq!(answer_text(b"Config Succeeded\r\n"), "Config Succeeded");
    }
}
