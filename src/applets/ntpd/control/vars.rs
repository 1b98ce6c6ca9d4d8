//! Answering READVAR-style requests from a set of variables: all of the
//! set's defaults when the request names none, else exactly the names
//! asked for, in the order asked, or CERR_UNKNOWNVAR for the whole request
//! when one name is not the set's (as classic ntpd answers).

use super::format::Value;
use crate::proto::control::error_code;
use crate::proto::varlist::{self, VarListWriter};

/// Classic ntpd ends every text response with a line break.
pub const END_OF_TEXT: &str = "\r\n";

/// The system, peer or clock variables (or the counters) of one moment.
pub trait VarSet {
    /// The value of `name`; None when the name is not one of this set's.
    fn value(&self, name: &str) -> Option<Value>;
    /// What a request without names gets, in this order.
    fn defaults(&self) -> &'static [&'static str];
}

/// The names a request asks for: `leap,stratum` or `leap, stratum`
/// (classic's ctl_getitem also accepts `name=value`; the value is ignored).
pub fn requested_names(data: &[u8]) -> Vec<String> {
    varlist::parse(data).into_iter().map(|v| v.name).collect()
}

/// The response text for `names` (all defaults when empty), or the error
/// code when a name is unknown.
pub fn render(set: &dyn VarSet, names: &[String]) -> Result<Vec<u8>, u16> {
    let mut w = VarListWriter::new();
    if names.is_empty() {
        for name in set.defaults() {
            put(&mut w, name, set.value(name).unwrap_or(Value::Absent));
        }
    } else {
        for name in names {
            let value = set.value(name).ok_or(error_code::UNKNOWNVAR)?;
            put(&mut w, name, value);
        }
    }
    let mut text = w.finish();
    if !text.is_empty() {
        text.push_str(END_OF_TEXT);
    }
    Ok(text.into_bytes())
}

/// Several sets answering one request together (the system variables and
/// the counters both live at association 0).
pub struct Chain<'a>(pub &'a dyn VarSet, pub &'a dyn VarSet);

impl VarSet for Chain<'_> {
    fn value(&self, name: &str) -> Option<Value> {
        self.0.value(name).or_else(|| self.1.value(name))
    }

    fn defaults(&self) -> &'static [&'static str] {
        self.0.defaults()
    }
}

fn put(w: &mut VarListWriter, name: &str, value: Value) {
    match value {
        Value::Raw(v) => {
            w.raw(name, v);
        }
        Value::Quoted(v) => {
            w.quoted(name, &v);
        }
        Value::Absent => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Two;

    impl VarSet for Two {
        fn value(&self, name: &str) -> Option<Value> {
            match name {
                "a" => Some(Value::Raw("1".into())),
                "b" => Some(Value::Quoted("x y".into())),
                "c" => Some(Value::Absent),
                _ => None,
            }
        }

        fn defaults(&self) -> &'static [&'static str] {
            &["a", "b", "c"]
        }
    }

    #[test]
    fn defaults_names_and_unknown_names() {
        assert_eq!(render(&Two, &[]).unwrap(), b"a=1, b=\"x y\"\r\n");
        let names = requested_names(b"b, a");
        assert_eq!(render(&Two, &names).unwrap(), b"b=\"x y\", a=1\r\n");
        assert_eq!(render(&Two, &requested_names(b"c")).unwrap(), b"");
        assert_eq!(
            render(&Two, &requested_names(b"a,zz")),
            Err(error_code::UNKNOWNVAR)
        );
        assert_eq!(requested_names(b"leap=3,stratum\0\0"), ["leap", "stratum"]);
    }
}
