//! Statistics files (`statistics loopstats peerstats`, `statsdir`,
//! `filegen`): the engine formats each line; this appends it to the file
//! of the day, as classic's filegen does by default (`type day`: the name
//! plus `.YYYYMMDD`, with a symlink from the plain name to today's file,
//! so tools such as ntpviz find them).

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::DateTime;

use crate::config::Config;
use crate::engine::StatsFile;
use crate::proto::UnixTime;

/// Classic's statistics directory when ntp.conf names none.
const DEFAULT_STATSDIR: &str = "/var/NTP";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rotation {
    /// `type none`: one file forever.
    None,
    /// `type day` (the default): one file per UTC day.
    Day,
}

#[derive(Clone, Debug)]
struct Generation {
    base: PathBuf,
    rotation: Rotation,
    link: bool,
}

/// Where each enabled statistics file goes.
pub struct Stats {
    files: HashMap<&'static str, Generation>,
    /// Problems already reported, so a full disk is logged once per file.
    reported: Vec<PathBuf>,
}

impl Stats {
    /// The files ntp.conf enables; with `disable stats` none.
    pub fn new(config: &Config) -> Stats {
        let mut files = HashMap::new();
        let dir = config
            .statsdir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STATSDIR));
        for kind in [StatsFile::Loopstats, StatsFile::Peerstats] {
            let name = kind.name();
            let filegen = config.filegens.iter().rev().find(|f| f.name == name);
            let enabled = filegen
                .and_then(|f| f.enable)
                .unwrap_or_else(|| config.statistics.iter().any(|s| s == name));
            if !enabled || !config.flags.stats {
                continue;
            }
            let file = filegen.and_then(|f| f.file.clone());
            let rotation = match filegen.and_then(|f| f.kind.as_deref()) {
                Some("none") => Rotation::None,
                _ => Rotation::Day,
            };
            files.insert(
                name,
                Generation {
                    base: dir.join(file.as_deref().unwrap_or(name)),
                    rotation,
                    link: filegen.and_then(|f| f.link).unwrap_or(true),
                },
            );
        }
        Stats {
            files,
            reported: Vec::new(),
        }
    }

    /// Appends `line`; a failure is returned once per file, for the log.
    pub fn append(&mut self, file: StatsFile, line: &str, now: UnixTime) -> Option<String> {
        let g = self.files.get(file.name())?;
        let path = match g.rotation {
            Rotation::None => g.base.clone(),
            Rotation::Day => {
                let day = DateTime::from_timestamp(now.secs(), 0)
                    .map(|d| d.format("%Y%m%d").to_string())
                    .unwrap_or_default();
                let mut p = g.base.clone().into_os_string();
                p.push(format!(".{day}"));
                PathBuf::from(p)
            }
        };
        let result = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if g.link && g.rotation == Rotation::Day {
            relink(&g.base, &path);
        }
        match result {
            Ok(()) => None,
            Err(_) if self.reported.contains(&path) => None,
            Err(e) => {
                self.reported.push(path.clone());
                Some(format!("cannot write {}: {e}", path.display()))
            }
        }
    }
}

/// Points `link` at today's file, unless it already does.
fn relink(link: &Path, target: &Path) {
    let Some(name) = target.file_name() else {
        return;
    };
    if std::fs::read_link(link).ok().as_deref() == Some(Path::new(name)) {
        return;
    }
    let _ = std::fs::remove_file(link);
    let _ = std::os::unix::fs::symlink(name, link);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    fn stats(conf: &str) -> Stats {
        Stats::new(&parse_str(conf, Path::new("t.conf")).config)
    }

    #[test]
    fn daily_files_with_a_link_and_only_the_enabled_ones() {
        let dir = tempfile::tempdir().unwrap();
        let conf = format!("statsdir {}/\nstatistics loopstats\n", dir.path().display());
        let mut s = stats(&conf);
        // 2026-11-22T10:00:00Z
        let now = UnixTime::new(1_795_341_600, 0);
        assert_eq!(
            s.append(StatsFile::Loopstats, "61366 36000.000 a", now),
            None
        );
        assert_eq!(s.append(StatsFile::Peerstats, "nope", now), None);
        let day = dir.path().join("loopstats.20261122");
        assert_eq!(
            std::fs::read_to_string(&day).unwrap(),
            "61366 36000.000 a\n"
        );
        assert_eq!(
            std::fs::read_link(dir.path().join("loopstats")).unwrap(),
            Path::new("loopstats.20261122")
        );
        assert!(!dir.path().join("peerstats.20261122").exists());
    }

    #[test]
    fn filegen_type_none_and_disable_stats() {
        let dir = tempfile::tempdir().unwrap();
        let conf = format!(
            "statsdir {}\nstatistics peerstats\nfilegen peerstats file peers type none enable\n",
            dir.path().display()
        );
        let mut s = stats(&conf);
        s.append(StatsFile::Peerstats, "x", UnixTime::EPOCH);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("peers")).unwrap(),
            "x\n"
        );
        let mut s = stats(&format!("{conf}disable stats\n"));
        assert_eq!(s.append(StatsFile::Peerstats, "y", UnixTime::EPOCH), None);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("peers")).unwrap(),
            "x\n"
        );
    }
}
