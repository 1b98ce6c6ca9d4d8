//! The drift file: the clock's frequency correction in ppm, one number on
//! one line, as classic ntpd reads and writes it.
//!
//! It is written so that a crash at any moment leaves either the old file or
//! the new one, never a broken one: the new value goes to `FILE.TEMP`, is
//! flushed to disk, renamed over `FILE` (atomic within a directory), and the
//! directory is flushed so the rename itself survives a power cut.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A frequency beyond what the kernel can correct is not a drift value.
const MAX_DRIFT_PPM: f64 = 500.0;

/// Reads the frequency, ppm. `Ok(None)`: there is no drift file yet.
pub fn read(path: &Path) -> Result<Option<f64>, String> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("frequency file {}: {e}", path.display())),
    };
    let word = text.split_whitespace().next().unwrap_or("");
    match word.parse::<f64>() {
        Ok(ppm) if ppm.is_finite() && ppm.abs() <= MAX_DRIFT_PPM => Ok(Some(ppm)),
        Ok(_) | Err(_) => Err(format!(
            "frequency file {}: \"{word}\" is not a frequency in ppm within ±{MAX_DRIFT_PPM}; ignoring it",
            path.display()
        )),
    }
}

/// The steps of `write`, in order; a simulated crash can stop after any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Created,
    Written,
    Synced,
    Renamed,
    DirectorySynced,
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".TEMP");
    PathBuf::from(name)
}

/// Replaces the drift file with `ppm`, crash-safely.
pub fn write(path: &Path, ppm: f64) -> io::Result<()> {
    write_until(path, ppm, Step::DirectorySynced)
}

/// `write`, stopping after `last` as if the machine had crashed there.
pub fn write_until(path: &Path, ppm: f64, last: Step) -> io::Result<()> {
    let temp = temp_path(path);
    let mut file = File::create(&temp)?;
    if last == Step::Created {
        return Ok(());
    }
    writeln!(file, "{ppm:.3}")?;
    if last == Step::Written {
        return Ok(());
    }
    file.sync_all()?;
    drop(file);
    if last == Step::Synced {
        return Ok(());
    }
    fs::rename(&temp, path)?;
    if last == Step::Renamed {
        return Ok(());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_at_any_step_leaves_the_old_or_the_new_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ntp.drift");
        write(&path, -12.5).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "-12.500\n");
        for last in [
            Step::Created,
            Step::Written,
            Step::Synced,
            Step::Renamed,
            Step::DirectorySynced,
        ] {
            write(&path, -12.5).unwrap();
            write_until(&path, 7.25, last).unwrap();
            let seen = read(&path).unwrap().unwrap();
            if last >= Step::Renamed {
                assert_eq!(seen, 7.25, "{last:?}");
            } else {
                assert_eq!(seen, -12.5, "{last:?}");
            }
        }
    }

    #[test]
    fn missing_bad_and_good_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drift");
        assert_eq!(read(&path), Ok(None));
        fs::write(&path, "  31.337 \n").unwrap();
        assert_eq!(read(&path), Ok(Some(31.337)));
        fs::write(&path, "garbage\n").unwrap();
        let e = read(&path).unwrap_err();
        assert!(e.contains("\"garbage\" is not a frequency"), "{e}");
        fs::write(&path, "900\n").unwrap();
        assert!(read(&path).is_err());
    }
}
