//! /etc/adjtime, in util-linux's three-line format (adjtime_config(5)):
//!
//! ```text
//! DRIFT LAST_ADJUST NOT_ADJUSTED      e.g. 0.000000 1700000000 0.000000
//! LAST_CALIBRATION                    e.g. 1700000000
//! UTC | LOCAL                         the RTC's time scale
//! ```
//!
//! DRIFT is the RTC's systematic drift in seconds per day (positive: the
//! RTC loses time, so the correction is added); the times are Unix seconds.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The adjtime file when none is named.
pub const DEFAULT_PATH: &str = "/etc/adjtime";

/// Permissions of a newly written adjtime file: world-readable, as util-linux
/// leaves it, since boot scripts read it as any user.
const FILE_MODE: u32 = 0o644;

/// What the third line says about the RTC's time scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Utc,
    Local,
    /// The line is missing or unrecognised: treated as UTC, rewritten on
    /// the next write.
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Adjtime {
    /// Seconds per day to add to the RTC's reading.
    pub drift_factor: f64,
    /// When the RTC was last set or drift-adjusted (Unix seconds; 0 = never).
    pub last_adjust: i64,
    /// Correction left over after the last adjustment, seconds.
    pub not_adjusted: f64,
    /// When the RTC was last set from a real time source (0 = never).
    pub last_calibration: i64,
    pub scale: Scale,
}

impl Default for Adjtime {
    /// What holds without an adjtime file: no drift history, RTC in UTC.
    fn default() -> Self {
        Adjtime {
            drift_factor: 0.0,
            last_adjust: 0,
            not_adjusted: 0.0,
            last_calibration: 0,
            scale: Scale::Utc,
        }
    }
}

/// A line of the file that could not be understood; its values are taken
/// as if the line were absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    pub number: usize,
    pub text: String,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expected = match self.number {
            1 => "DRIFT LAST_ADJUST_TIME NOT_ADJUSTED",
            2 => "LAST_CALIBRATION_TIME",
            _ => "UTC or LOCAL",
        };
        write!(
            f,
            "line {} should be '{expected}', not '{}'; ignoring it",
            self.number, self.text
        )
    }
}

/// Parses the file's text. Never fails: unusable lines are reported and
/// read as absent, the way util-linux reads them, so a damaged file cannot
/// stop `hwclock -r` or a boot-time `hwclock -s`.
pub fn parse(text: &str) -> (Adjtime, Vec<BadLine>) {
    let mut adj = Adjtime {
        scale: Scale::Unknown,
        ..Adjtime::default()
    };
    let mut bad = Vec::new();
    let mut lines = text.lines().map(str::trim);
    let mut complain = |number: usize, text: &str| {
        bad.push(BadLine {
            number,
            text: text.to_string(),
        })
    };

    if let Some(line) = lines.next() {
        match parse_first_line(line) {
            Some((drift, last, rest)) => {
                adj.drift_factor = drift;
                adj.last_adjust = last;
                adj.not_adjusted = rest;
            }
            None => complain(1, line),
        }
    }
    if let Some(line) = lines.next() {
        match line.split_whitespace().next().map(str::parse::<i64>) {
            Some(Ok(t)) if t >= 0 => adj.last_calibration = t,
            None => {}
            _ => complain(2, line),
        }
    }
    match lines.next() {
        Some("UTC") => adj.scale = Scale::Utc,
        Some("LOCAL") => adj.scale = Scale::Local,
        Some("") | None => {}
        Some(other) => complain(3, other),
    }
    (adj, bad)
}

/// `DRIFT [LAST_ADJUST [NOT_ADJUSTED]]`; missing trailing fields are 0.
fn parse_first_line(line: &str) -> Option<(f64, i64, f64)> {
    let mut fields = line.split_whitespace();
    let finite = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
    let drift = finite(fields.next()?)?;
    let last = match fields.next() {
        Some(s) => s.parse::<i64>().ok().filter(|t| *t >= 0)?,
        None => 0,
    };
    let rest = match fields.next() {
        Some(s) => finite(s)?,
        None => 0.0,
    };
    Some((drift, last, rest))
}

/// The file's text, exactly as util-linux writes it (`%f %ld %f`).
pub fn format(adj: &Adjtime) -> String {
    let scale = if adj.scale == Scale::Local {
        "LOCAL"
    } else {
        "UTC"
    };
    format!(
        "{:.6} {} {:.6}\n{}\n{scale}\n",
        adj.drift_factor, adj.last_adjust, adj.not_adjusted, adj.last_calibration
    )
}

/// Reads PATH; Ok(None) when it does not exist.
pub fn read(path: &Path) -> io::Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces PATH with CONTENTS atomically: a temporary file in the same
/// directory, flushed to disk, then renamed over PATH. A crash or a full
/// disk leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, contents: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.ntpbox-{}", std::process::id()));
    let written = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    // make the rename itself durable; a failure here loses nothing already
    // visible, so it is not an error
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_util_linux_output() {
        let (adj, bad) = parse("10.000000 1620211145 0.000000\n1600000000\nUTC\n");
        assert!(bad.is_empty());
        assert_eq!(
            adj,
            Adjtime {
                drift_factor: 10.0,
                last_adjust: 1_620_211_145,
                not_adjusted: 0.0,
                last_calibration: 1_600_000_000,
                scale: Scale::Utc,
            }
        );
    }

    #[test]
    fn writes_util_linux_format() {
        let adj = Adjtime {
            drift_factor: -1.25,
            last_adjust: 1_577_836_805,
            not_adjusted: 0.5,
            last_calibration: 1_577_836_805,
            scale: Scale::Local,
        };
        assert_eq!(
            format(&adj),
            "-1.250000 1577836805 0.500000\n1577836805\nLOCAL\n"
        );
        assert_eq!(parse(&format(&adj)), (adj, vec![]));
    }

    #[test]
    fn unknown_scale_is_written_as_utc() {
        let adj = Adjtime {
            scale: Scale::Unknown,
            ..Adjtime::default()
        };
        assert_eq!(format(&adj), "0.000000 0 0.000000\n0\nUTC\n");
    }

    #[test]
    fn short_files_take_defaults_without_complaint() {
        let (adj, bad) = parse("0.0 0 0.0\n");
        assert!(bad.is_empty());
        assert_eq!(adj.scale, Scale::Unknown);
        let (adj, bad) = parse("3.5\n");
        assert!(bad.is_empty());
        assert_eq!((adj.drift_factor, adj.last_adjust), (3.5, 0));
        let (adj, bad) = parse("");
        assert!(bad.is_empty());
        assert_eq!(adj.drift_factor, 0.0);
    }

    #[test]
    fn garbage_lines_are_reported_and_ignored_one_by_one() {
        let (adj, bad) = parse("garbage\nlater\nLOCAL\n");
        assert_eq!(adj.drift_factor, 0.0);
        assert_eq!(adj.last_calibration, 0);
        assert_eq!(adj.scale, Scale::Local);
        assert_eq!(bad.len(), 2);
        assert_eq!(
            bad[0].to_string(),
            "line 1 should be 'DRIFT LAST_ADJUST_TIME NOT_ADJUSTED', not 'garbage'; ignoring it"
        );
        let (adj, bad) = parse("1 2 3\n4\nFOO\n");
        assert_eq!(
            (adj.drift_factor, adj.last_adjust, adj.not_adjusted),
            (1.0, 2, 3.0)
        );
        assert_eq!(adj.scale, Scale::Unknown);
        assert_eq!(
            bad,
            vec![BadLine {
                number: 3,
                text: "FOO".into()
            }]
        );
    }

    #[test]
    fn non_finite_and_negative_values_are_rejected() {
        for text in ["nan 0 0\n", "inf 0 0\n", "1 -5 0\n", "1 2 nan\n"] {
            let (adj, bad) = parse(text);
            assert_eq!(bad.len(), 1, "{text:?}");
            assert_eq!(adj.drift_factor, 0.0, "{text:?}");
        }
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("adjtime");
        fs::write(&path, "old\n").unwrap();
        write_atomic(&path, "0.000000 1 0.000000\n1\nUTC\n").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "0.000000 1 0.000000\n1\nUTC\n"
        );
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing_dir = dir.path().join("no/such/dir/adjtime");
        assert!(write_atomic(&missing_dir, "x").is_err());
        assert_eq!(read(&missing_dir).unwrap(), None);
    }
}
