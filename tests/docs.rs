//! man/ and completions/ are generated from the clap definitions and checked
//! in. This test regenerates them in memory and fails when the checked-in
//! files are stale. `NTPBOX_BLESS=1 cargo test --test docs` rewrites them.

use std::path::{Path, PathBuf};

use clap_complete::{generate, Shell};
use ntpbox::applets::{multicall_command, APPLETS};

/// Daemons and clock setters are administration commands (section 8), as in
/// the classic packages; the query tools are user commands (section 1).
fn man_section(name: &str) -> &'static str {
    match name {
        "ntpd" | "ntpdate" | "hwclock" => "8",
        _ => "1",
    }
}

fn commands() -> Vec<clap::Command> {
    let mut all = vec![multicall_command()];
    all.extend(APPLETS.iter().map(|a| (a.command)()));
    all
}

/// Every generated file: (path relative to the project root, contents).
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for cmd in commands() {
        let name = cmd.get_name().to_string();
        let section = man_section(&name);
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .section(section)
            .source(format!("ntpbox {}", env!("CARGO_PKG_VERSION")))
            .manual("ntpbox")
            .render(&mut page)
            .expect("render man page");
        files.push((PathBuf::from(format!("man/{name}.{section}")), page));
        for (shell, file) in [
            (Shell::Bash, format!("{name}.bash")),
            (Shell::Zsh, format!("_{name}")),
            (Shell::Fish, format!("{name}.fish")),
        ] {
            let mut script = Vec::new();
            generate(shell, &mut cmd.clone(), name.clone(), &mut script);
            files.push((PathBuf::from(format!("completions/{file}")), script));
        }
    }
    files
}

#[test]
fn man_pages_and_completions_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("NTPBOX_BLESS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (rel, contents) in generated() {
        let path = root.join(&rel);
        if std::fs::read(&path).ok().as_deref() == Some(&contents[..]) {
            continue;
        }
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &contents).unwrap();
        } else {
            stale.push(rel.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated docs: {}\nregenerate with: NTPBOX_BLESS=1 cargo test --test docs",
        stale.join(", ")
    );
}

#[test]
fn every_applet_has_a_man_page_and_three_completions() {
    let files: Vec<PathBuf> = generated().into_iter().map(|(p, _)| p).collect();
    for applet in APPLETS {
        let section = man_section(applet.name);
        for want in [
            format!("man/{}.{section}", applet.name),
            format!("completions/{}.bash", applet.name),
            format!("completions/_{}", applet.name),
            format!("completions/{}.fish", applet.name),
        ] {
            assert!(
                files.contains(&PathBuf::from(&want)),
                "{want} is not generated"
            );
        }
    }
}
