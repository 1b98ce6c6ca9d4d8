//! What the configuration asks for that ntpd does not do yet, said once at
//! startup instead of silently ignored.

use crate::config::Config;

/// One log line per configured feature that is not implemented yet.
pub fn not_yet_implemented(config: &Config) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(leapfile) = &config.leapfile {
        lines.push(format!(
            "leapfile {}: reading a leap second file is not implemented yet; leap warnings come from the servers only",
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
            "server a.example key 3\ndriftfile /var/lib/ntp/drift\nstatistics loopstats\nkeys /nonexistent\nleapfile /x\nserver 127.127.1.0\n",
            std::path::Path::new("n.conf"),
        );
        let lines = not_yet_implemented(&l.config);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("leapfile /x: "), "{lines:?}");
        assert!(not_yet_implemented(
            &parse_str(
                "server 127.127.1.0\nserver b.example\n",
                std::path::Path::new("n")
            )
            .config
        )
        .is_empty());
    }
}
