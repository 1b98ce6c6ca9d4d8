//! What the configuration asks for that part 1 of ntpd does not do yet,
//! said once at startup instead of silently ignored.

use crate::config::{Config, Target};

/// One log line per configured feature that is not implemented yet.
pub fn not_yet_implemented(config: &Config) -> Vec<String> {
    let mut lines = Vec::new();
    for source in config.network_sources() {
        if let Target::Network { host, .. } = &source.target {
            lines.push(format!(
                "{} {host} ({}): polling servers is not implemented yet (ntpd part 2); not used",
                source.kind.keyword(),
                source.origin
            ));
        }
    }
    if let Some(drift) = &config.driftfile {
        lines.push(format!(
            "driftfile {}: frequency correction is not implemented yet (ntpd part 2); the file is neither read nor written",
            drift.path.display()
        ));
    }
    if !config.statistics.is_empty() || config.filegens.iter().any(|g| g.enable == Some(true)) {
        lines.push("statistics: statistics files are not implemented yet; none is written".into());
    }
    if config.keys.is_some() {
        lines.push("keys: symmetric-key authentication is not implemented yet; signed requests get a crypto-NAK".into());
    }
    if let Some(leapfile) = &config.leapfile {
        lines.push(format!(
            "leapfile {}: leap second handling is not implemented yet; the file is not read",
            leapfile.display()
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    #[test]
    fn each_unimplemented_feature_gets_one_line() {
        let l = parse_str(
            "server a.example\ndriftfile /var/lib/ntp/drift\nstatistics loopstats\nkeys /nonexistent\nleapfile /x\nserver 127.127.1.0\n",
            std::path::Path::new("n.conf"),
        );
        let lines = not_yet_implemented(&l.config);
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert_eq!(lines[0], "server a.example (n.conf:1): polling servers is not implemented yet (ntpd part 2); not used");
        assert!(not_yet_implemented(
            &parse_str("server 127.127.1.0\n", std::path::Path::new("n")).config
        )
        .is_empty());
    }
}
