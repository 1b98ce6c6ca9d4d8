//! The TZif reader (RFC 9636, versions 1 to 4).
//!
//! A version 1 file is read from its 32-bit block; for version 2 and later
//! the 32-bit block is skipped and the 64-bit block and the footer TZ string
//! are read, as glibc does on a 64-bit `time_t` system. The acceptance
//! checks are glibc's (`__tzfile_read`), so that a file is usable here
//! exactly when it is usable by the C library: everything else is a typed
//! error, never a panic.

use super::error::TzifError;

/// "TZif", the first four bytes of every TZif file.
const MAGIC: &[u8; 4] = b"TZif";
/// Header size: magic, version, 15 reserved bytes, six 4-byte counts.
const HEADER_LEN: usize = 44;
/// Bytes per local time type record: utoff (4), isdst (1), abbreviation index (1).
const TTINFO_LEN: usize = 6;

/// One local time type (`ttinfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalTimeType {
    /// Seconds east of UT.
    pub utoff: i32,
    pub isdst: bool,
    /// Index of the abbreviation in `TzifData::abbreviation_chars`.
    pub abbr_index: u8,
    /// Transition times into this type are standard time (not wall clock).
    pub is_std: bool,
    /// Transition times into this type are UT (not local).
    pub is_ut: bool,
}

/// One leap-second record: from `occurrence` on, `correction` seconds of
/// leap correction apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeapSecond {
    pub occurrence: i64,
    pub correction: i32,
}

/// The contents of a TZif file, as glibc uses them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TzifData {
    /// The version byte: 0 for version 1, otherwise b'2', b'3', b'4', ...
    pub version: u8,
    /// Transition times, seconds since 1970 (UT).
    pub transitions: Vec<i64>,
    /// For each transition, the index of the local time type it starts.
    pub transition_types: Vec<u8>,
    pub types: Vec<LocalTimeType>,
    /// The NUL-separated abbreviation characters.
    pub abbreviation_chars: Vec<u8>,
    pub leap_seconds: Vec<LeapSecond>,
    /// The footer TZ string (version 2+), if present and not empty.
    pub footer: Option<Vec<u8>>,
}

impl TzifData {
    /// The abbreviation of local time type `index`: the bytes from its
    /// abbreviation index up to the next NUL (or the end of the characters).
    pub fn abbreviation(&self, index: usize) -> &[u8] {
        let Some(t) = self.types.get(index) else {
            return b"";
        };
        let start = usize::from(t.abbr_index).min(self.abbreviation_chars.len());
        let rest = &self.abbreviation_chars[start..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        &rest[..end]
    }
}

/// The six counts of a TZif header.
#[derive(Clone, Copy, Debug)]
struct Counts {
    isut: usize,
    isstd: usize,
    leap: usize,
    time: usize,
    types: usize,
    chars: usize,
}

impl Counts {
    /// Size of the data block that follows a header, with `time_size`-byte times.
    fn block_len(&self, time_size: usize) -> Option<usize> {
        let parts = [
            self.time.checked_mul(time_size + 1)?,
            self.types.checked_mul(TTINFO_LEN)?,
            self.chars,
            self.leap.checked_mul(time_size + 4)?,
            self.isstd,
            self.isut,
        ];
        parts.iter().try_fold(0usize, |acc, &p| acc.checked_add(p))
    }
}

/// A bounds-checked reader over the file's bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], TzifError> {
        let end = self.pos.checked_add(n).ok_or(TzifError::Truncated(what))?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(TzifError::Truncated(what))?;
        self.pos = end;
        Ok(slice)
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, TzifError> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, TzifError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    fn time(&mut self, size: usize, what: &'static str) -> Result<i64, TzifError> {
        if size == 8 {
            self.i64(what)
        } else {
            self.i32(what).map(i64::from)
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }
}

fn count(value: i32, what: &'static str) -> Result<usize, TzifError> {
    usize::try_from(value).map_err(|_| TzifError::BadCount(what))
}

/// Reads a header; returns its version byte and counts.
fn read_header(cur: &mut Cursor<'_>) -> Result<(u8, Counts), TzifError> {
    let head = cur.take(HEADER_LEN, "header")?;
    if &head[..4] != MAGIC {
        return Err(TzifError::BadMagic);
    }
    let version = head[4];
    let field = |i: usize| {
        let o = 20 + 4 * i;
        i32::from_be_bytes([head[o], head[o + 1], head[o + 2], head[o + 3]])
    };
    let counts = Counts {
        isut: count(field(0), "isut")?,
        isstd: count(field(1), "isstd")?,
        leap: count(field(2), "leap")?,
        time: count(field(3), "time")?,
        types: count(field(4), "type")?,
        chars: count(field(5), "char")?,
    };
    if counts.isstd > counts.types || counts.isut > counts.types {
        return Err(TzifError::TooManyIndicators);
    }
    Ok((version, counts))
}

/// Parses a TZif file.
pub fn parse(bytes: &[u8]) -> Result<TzifData, TzifError> {
    let mut cur = Cursor { bytes, pos: 0 };
    let (version, mut counts) = read_header(&mut cur)?;
    let mut time_size = 4;
    if version != 0 {
        // Version 2+: skip the 32-bit block and use the 64-bit one.
        let skip = counts.block_len(4).ok_or(TzifError::BadCount("v1 block"))?;
        cur.take(skip, "version 1 data")?;
        let (_, counts64) = read_header(&mut cur)?;
        counts = counts64;
        time_size = 8;
    }
    if counts.types == 0 {
        return Err(TzifError::NoLocalTimeTypes);
    }
    let footer_len = if time_size == 8 {
        Some(footer_length(&counts, cur.remaining())?)
    } else {
        None
    };

    let mut transitions = Vec::with_capacity(counts.time.min(cur.remaining()));
    for _ in 0..counts.time {
        transitions.push(cur.time(time_size, "transition times")?);
    }
    let transition_types = cur.take(counts.time, "transition types")?.to_vec();
    if let Some((i, &index)) = transition_types
        .iter()
        .enumerate()
        .find(|(_, &ix)| usize::from(ix) >= counts.types)
    {
        return Err(TzifError::BadTypeIndex {
            transition: i,
            index,
        });
    }

    let mut types = Vec::with_capacity(counts.types.min(cur.remaining()));
    for i in 0..counts.types {
        let utoff = cur.i32("local time types")?;
        let rest = cur.take(2, "local time types")?;
        if rest[0] > 1 {
            return Err(TzifError::BadIsdst {
                local_type: i,
                value: rest[0],
            });
        }
        if usize::from(rest[1]) > counts.chars {
            return Err(TzifError::BadAbbreviationIndex {
                local_type: i,
                index: rest[1],
            });
        }
        types.push(LocalTimeType {
            utoff,
            isdst: rest[0] == 1,
            abbr_index: rest[1],
            is_std: false,
            is_ut: false,
        });
    }
    let abbreviation_chars = cur.take(counts.chars, "abbreviations")?.to_vec();

    let mut leap_seconds = Vec::with_capacity(counts.leap.min(cur.remaining()));
    for _ in 0..counts.leap {
        let occurrence = cur.time(time_size, "leap seconds")?;
        let correction = cur.i32("leap seconds")?;
        leap_seconds.push(LeapSecond {
            occurrence,
            correction,
        });
    }
    for t in types.iter_mut().take(counts.isstd) {
        t.is_std = cur.take(1, "standard/wall indicators")?[0] != 0;
    }
    for t in types.iter_mut().take(counts.isut) {
        t.is_ut = cur.take(1, "UT/local indicators")?[0] != 0;
    }

    let footer = footer_len.and_then(|len| read_footer(&mut cur, len));
    let data = TzifData {
        version,
        transitions,
        transition_types,
        types,
        abbreviation_chars,
        leap_seconds,
        footer,
    };
    check_standard_type(&data)?;
    Ok(data)
}

/// glibc's size arithmetic for the footer of a 64-bit block: returns the
/// number of footer bytes it reads (the leading newline and the string).
fn footer_length(counts: &Counts, remaining: usize) -> Result<usize, TzifError> {
    let truncated = TzifError::Truncated("64-bit data");
    let fixed = counts
        .time
        .checked_mul(9)
        .and_then(|n| n.checked_add(counts.types.checked_mul(TTINFO_LEN)?))
        .and_then(|n| n.checked_add(counts.chars))
        .ok_or(TzifError::BadCount("64-bit block"))?;
    let mut len = remaining.checked_sub(fixed).ok_or(truncated.clone())?;
    let leaps = counts
        .leap
        .checked_mul(12)
        .ok_or(TzifError::BadCount("leap"))?;
    len = len.checked_sub(leaps).ok_or(truncated.clone())?;
    len = len.checked_sub(counts.isstd).ok_or(truncated.clone())?;
    if len == 0 || len - 1 < counts.isut {
        return Err(truncated);
    }
    len -= counts.isut + 1;
    if len == 0 {
        return Err(TzifError::Truncated("footer"));
    }
    Ok(len)
}

/// The footer: a newline, then the TZ string up to (not including) the
/// file's last byte. A missing newline or an empty string means no footer.
fn read_footer(cur: &mut Cursor<'_>, len: usize) -> Option<Vec<u8>> {
    let bytes = cur.take(len, "footer").ok()?;
    if bytes[0] != b'\n' {
        return None;
    }
    let text = &bytes[1..];
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    (end > 0).then(|| text[..end].to_vec())
}

/// glibc asserts that a zone with several types has a standard-time type
/// among its transitions; refuse what would make it abort.
fn check_standard_type(data: &TzifData) -> Result<(), TzifError> {
    let has_std = data
        .transition_types
        .iter()
        .any(|&i| !data.types[usize::from(i)].isdst);
    if has_std || data.types.len() == 1 {
        Ok(())
    } else {
        Err(TzifError::NoStandardType)
    }
}
