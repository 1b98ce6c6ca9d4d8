//! Splits one ntp.conf line into words.
//!
//! Classic grammar: words are separated by blanks, `#` starts a comment
//! anywhere outside a double-quoted string, and a quoted string is one word
//! (so a path may hold blanks). Notes people keep, like the seeds, also use
//! `//` as a comment; classic ntpd would reject such a line, so it is
//! accepted as a comment only when it starts a word, and reported.

/// The words of one line, and whether a `//` comment was cut off.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line {
    pub words: Vec<String>,
    pub slash_comment: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexError {
    UnterminatedQuote,
}

pub fn split(text: &str) -> Result<Line, LexError> {
    let mut line = Line::default();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        match first {
            '#' => break,
            '/' if slash_comment_follows(&chars) => {
                line.slash_comment = true;
                break;
            }
            '"' => {
                chars.next();
                let mut word = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => word.push(c),
                        None => return Err(LexError::UnterminatedQuote),
                    }
                }
                line.words.push(word);
            }
            _ => {
                let mut word = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '#') {
                    word.push(c);
                }
                line.words.push(word);
            }
        }
    }
    Ok(line)
}

fn slash_comment_follows(chars: &std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    let mut ahead = chars.clone();
    ahead.next() == Some('/') && ahead.next() == Some('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        split(text).unwrap().words
    }

    #[test]
    fn blanks_separate_and_hash_comments_anywhere() {
        assert_eq!(
            words("server  192.168.2.193 # local clock"),
            ["server", "192.168.2.193"]
        );
        assert_eq!(words("\trestrict 127.0.0.1"), ["restrict", "127.0.0.1"]);
        assert_eq!(words("server a#b"), ["server", "a"]);
        assert!(words("   # only a comment").is_empty());
        assert!(words("").is_empty());
    }

    #[test]
    fn quotes_make_one_word() {
        assert_eq!(
            words("logfile \"/var/log/ntp #1.log\" "),
            ["logfile", "/var/log/ntp #1.log"]
        );
        assert_eq!(split("logfile \"/x"), Err(LexError::UnterminatedQuote));
    }

    #[test]
    fn double_slash_starts_a_comment_only_at_a_word_start() {
        let line = split("server ntp.aliyun.com prefer   // prefer该服务器优先").unwrap();
        assert_eq!(line.words, ["server", "ntp.aliyun.com", "prefer"]);
        assert!(line.slash_comment);
        let path = split("driftfile /var/lib//ntp.drift").unwrap();
        assert_eq!(path.words, ["driftfile", "/var/lib//ntp.drift"]);
        assert!(!path.slash_comment);
    }
}
