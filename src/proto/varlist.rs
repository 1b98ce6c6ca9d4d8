//! Mode 6 variable lists: `name=value, name="quoted", name` as ntpd writes
//! them and ntpq reads them.
//!
//! ntpd separates items with `, ` and starts a new line (`,\r\n`) before a
//! line would pass 72 characters; ntpq accepts any whitespace around items.

/// ntpd's MAXDATALINELEN: where it wraps variable lists.
const MAX_LINE_LEN: usize = 72;

/// One variable: a name and, unless it was a bare name, its value with any
/// surrounding quotes removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub value: Option<String>,
    /// The value was in double quotes on the wire.
    pub quoted: bool,
}

/// Parses a variable list. Never fails: text that is not `name=value`
/// becomes a bare name, as ntpq treats it. Commas inside quotes are kept.
pub fn parse(data: &[u8]) -> Vec<Variable> {
    let text = String::from_utf8_lossy(data);
    let mut vars = Vec::new();
    let mut item = String::new();
    let mut in_quotes = false;
    for c in text.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                item.push(c);
            }
            ',' if !in_quotes => {
                push_item(&mut vars, &item);
                item.clear();
            }
            _ => item.push(c),
        }
    }
    push_item(&mut vars, &item);
    vars
}

fn push_item(vars: &mut Vec<Variable>, item: &str) {
    // NULs pad the last fragment of some servers' responses.
    let item = item.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    if item.is_empty() {
        return;
    }
    let (name, value) = match item.split_once('=') {
        Some((n, v)) => (n.trim(), Some(v.trim())),
        None => (item, None),
    };
    let (value, quoted) = match value {
        Some(v) if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') => {
            (Some(v[1..v.len() - 1].to_string()), true)
        }
        Some(v) => (Some(v.to_string()), false),
        None => (None, false),
    };
    vars.push(Variable {
        name: name.to_string(),
        value,
        quoted,
    });
}

/// Builds a variable list the way ntpd lays it out.
#[derive(Clone, Debug, Default)]
pub struct VarListWriter {
    out: String,
    line_len: usize,
}

impl VarListWriter {
    pub fn new() -> VarListWriter {
        VarListWriter::default()
    }

    /// `name=value`, unquoted (numbers, timestamps, addresses).
    pub fn raw(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        let item = format!("{name}={value}");
        self.push(&item)
    }

    /// `name="value"` (strings such as version, system, srchost).
    pub fn quoted(&mut self, name: &str, value: &str) -> &mut Self {
        let item = format!("{name}=\"{value}\"");
        self.push(&item)
    }

    /// A bare name (in requests, which list the variables wanted).
    pub fn name(&mut self, name: &str) -> &mut Self {
        self.push(name)
    }

    fn push(&mut self, item: &str) -> &mut Self {
        if !self.out.is_empty() {
            self.out.push(',');
            if self.line_len + item.len() + 2 >= MAX_LINE_LEN {
                self.out.push_str("\r\n");
                self.line_len = 0;
            } else {
                self.out.push(' ');
                self.line_len += 2;
            }
        }
        self.out.push_str(item);
        self.line_len += item.len();
        self
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.out.as_bytes()
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_ntpsec_sends() {
        let data = b"version=\"ntpd ntpsec-1.2.2\", processor=\"x86_64\",\r\n\
                     leap=0, stratum=3, refid=198.18.0.2, filtdelay=\"0.00 0.01\", tai\0\0";
        let vars = parse(data);
        let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "version",
                "processor",
                "leap",
                "stratum",
                "refid",
                "filtdelay",
                "tai"
            ]
        );
        assert_eq!(vars[0].value.as_deref(), Some("ntpd ntpsec-1.2.2"));
        assert!(vars[0].quoted);
        assert_eq!(vars[3].value.as_deref(), Some("3"));
        assert!(!vars[3].quoted);
        assert_eq!(vars[6].value, None);
    }

    #[test]
    fn commas_inside_quotes_stay_in_the_value() {
        let vars = parse(b"system=\"Linux, x86\", a=1");
        assert_eq!(vars[0].value.as_deref(), Some("Linux, x86"));
        assert_eq!(vars.len(), 2);
    }

    #[test]
    fn the_writer_wraps_lines_before_72_characters_and_parses_back() {
        let mut w = VarListWriter::new();
        w.quoted("version", "ntpbox 0.1.0")
            .quoted("processor", "x86_64")
            .quoted("system", "Linux/6.1.0");
        for i in 0..8 {
            w.raw(&format!("v{i}"), 1000 + i);
        }
        let text = w.finish();
        assert!(text.starts_with("version=\"ntpbox 0.1.0\", processor=\"x86_64\","));
        for line in text.split("\r\n") {
            assert!(line.len() < 72, "{line:?}");
        }
        assert!(text.contains(",\r\n"));
        let vars = parse(text.as_bytes());
        assert_eq!(vars.len(), 11);
        assert_eq!(vars[10].name, "v7");
        assert_eq!(vars[10].value.as_deref(), Some("1007"));
    }

    #[test]
    fn junk_never_panics() {
        assert!(parse(b"").is_empty());
        assert_eq!(parse(b"\"unterminated, a=1").len(), 1);
        assert_eq!(parse(&[0xff, b'=', 0xfe]).len(), 1);
    }
}
