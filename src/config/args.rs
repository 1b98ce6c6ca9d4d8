//! A cursor over the words after a directive's keyword, with typed takes
//! whose errors already say which directive and option were wrong.

use std::str::FromStr;

pub struct Args<'a> {
    directive: &'a str,
    words: &'a [String],
    at: usize,
}

impl<'a> Args<'a> {
    pub fn new(directive: &'a str, words: &'a [String]) -> Args<'a> {
        Args {
            directive,
            words,
            at: 0,
        }
    }

    pub fn directive(&self) -> &'a str {
        self.directive
    }

    /// Takes the next word.
    pub fn next_word(&mut self) -> Option<&'a str> {
        let word = self.words.get(self.at)?;
        self.at += 1;
        Some(word.as_str())
    }

    pub fn peek(&self) -> Option<&'a str> {
        self.words.get(self.at).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.at >= self.words.len()
    }

    /// The next word, which must be there: `what` names it in the error.
    pub fn required(&mut self, what: &str) -> Result<&'a str, String> {
        self.next_word()
            .ok_or_else(|| format!("{}: missing {what}", self.directive))
    }

    /// The value of `option`, parsed as T and checked to lie in `range`.
    pub fn value_in<T>(
        &mut self,
        option: &str,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, String>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let text = self.value_text(option)?;
        match text.parse::<T>() {
            Ok(v) if range.contains(&v) => Ok(v),
            _ => Err(format!(
                "{} {option}: \"{text}\" is not a number from {} to {}",
                self.directive,
                range.start(),
                range.end()
            )),
        }
    }

    /// The value of `option` as a finite floating-point number.
    pub fn float(&mut self, option: &str) -> Result<f64, String> {
        let text = self.value_text(option)?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!(
                "{} {option}: \"{text}\" is not a number",
                self.directive
            )),
        }
    }

    /// The value of `option` as text.
    pub fn value_text(&mut self, option: &str) -> Result<&'a str, String> {
        self.next_word()
            .ok_or_else(|| format!("{} {option}: missing value", self.directive))
    }

    /// Fails when words are left over.
    pub fn finish(&self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(extra) => Err(format!("{}: unexpected \"{extra}\"", self.directive)),
        }
    }

    /// An error about `word` in this directive.
    pub fn unknown(&self, word: &str) -> String {
        format!("{}: unknown option \"{word}\"", self.directive)
    }
}
