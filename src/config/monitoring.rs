//! Monitoring directives: `statistics`, `filegen` and `logconfig`.

use super::args::Args;
use super::model::Filegen;

/// The statistics files classic ntpd can write.
pub const STATISTICS: &[&str] = &[
    "clockstats",
    "cryptostats",
    "loopstats",
    "peerstats",
    "rawstats",
    "sysstats",
    "protostats",
    "timingstats",
];

/// How often a filegen file set starts a new file.
const FILEGEN_TYPES: &[&str] = &["none", "pid", "day", "week", "month", "year", "age"];

/// Message classes and types of `logconfig` (ntp.conf(5), "Miscellaneous").
const LOG_CLASSES: &[&str] = &["clock", "peer", "sys", "sync", "all"];
const LOG_TYPES: &[&str] = &["info", "events", "statistics", "status", "all"];

pub fn parse_statistics(args: &mut Args) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    while let Some(word) = args.next_word() {
        if !STATISTICS.contains(&word) {
            return Err(format!(
                "statistics: unknown statistics \"{word}\" (one of {})",
                STATISTICS.join(", ")
            ));
        }
        names.push(word.to_string());
    }
    if names.is_empty() {
        return Err("statistics: expected a list of statistics names".into());
    }
    Ok(names)
}

pub fn parse_filegen(args: &mut Args) -> Result<Filegen, String> {
    let name = args.required("statistics name")?;
    if !STATISTICS.contains(&name) {
        return Err(format!("filegen: unknown statistics \"{name}\""));
    }
    let mut g = Filegen {
        name: name.to_string(),
        file: None,
        kind: None,
        link: None,
        enable: None,
    };
    while let Some(word) = args.next_word() {
        match word {
            "file" => g.file = Some(args.value_text("file")?.to_string()),
            "type" => {
                let t = args.value_text("type")?;
                if !FILEGEN_TYPES.contains(&t) {
                    return Err(format!(
                        "filegen type: \"{t}\" is not one of {}",
                        FILEGEN_TYPES.join(", ")
                    ));
                }
                g.kind = Some(t.to_string());
            }
            "link" => g.link = Some(true),
            "nolink" => g.link = Some(false),
            "enable" => g.enable = Some(true),
            "disable" => g.enable = Some(false),
            _ => return Err(args.unknown(word)),
        }
    }
    Ok(g)
}

pub fn parse_logconfig(args: &mut Args) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    while let Some(word) = args.next_word() {
        let bare = word.trim_start_matches(['=', '+', '-']);
        if !is_log_item(bare) {
            return Err(format!(
                "logconfig: \"{word}\" is not a message class and type such as =syncall or +sysevents"
            ));
        }
        items.push(word.to_string());
    }
    if items.is_empty() {
        return Err("logconfig: expected message classes such as =syncall".into());
    }
    Ok(items)
}

fn is_log_item(word: &str) -> bool {
    if word == "all" {
        return true;
    }
    let split_as = |firsts: &[&str], seconds: &[&str]| {
        firsts.iter().any(|first| {
            word.strip_prefix(first)
                .is_some_and(|rest| seconds.contains(&rest))
        })
    };
    split_as(LOG_CLASSES, LOG_TYPES) || split_as(LOG_TYPES, LOG_CLASSES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn statistics_and_filegen() {
        let w = words("clockstats cryptostats loopstats peerstats");
        assert_eq!(
            parse_statistics(&mut Args::new("statistics", &w))
                .unwrap()
                .len(),
            4
        );
        assert!(parse_statistics(&mut Args::new("statistics", &words("loopstat"))).is_err());
        let w = words("loopstats file loopstats type day enable");
        let g = parse_filegen(&mut Args::new("filegen", &w)).unwrap();
        assert_eq!(g.kind.as_deref(), Some("day"));
        assert_eq!(g.enable, Some(true));
        assert!(parse_filegen(&mut Args::new("filegen", &words("loopstats type hourly"))).is_err());
    }

    #[test]
    fn logconfig_items() {
        let w = words("=syncall +clockall -sysinfo +allclock all");
        assert_eq!(
            parse_logconfig(&mut Args::new("logconfig", &w))
                .unwrap()
                .len(),
            5
        );
        assert!(parse_logconfig(&mut Args::new("logconfig", &words("+everything"))).is_err());
    }
}
