//! The man pages as a set: one footer, the sections each kind of page needs, and SEE ALSO
//! naming every other page; supervisord.8's OPTIONS against supervisord's option table
//! (supervisorctl.1 is checked against the command table by unit tests next to it).

use std::fs;
use std::path::PathBuf;

/// (file, name, section)
const PAGES: &[(&str, &str, &str)] = &[
    ("supervisord.8", "supervisord", "8"),
    ("supervisorctl.1", "supervisorctl", "1"),
    ("supervisord.conf.5", "supervisord.conf", "5"),
    ("pidproxy.1", "pidproxy", "1"),
    ("echo_supervisord_conf.1", "echo_supervisord_conf", "1"),
];

fn page(file: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("man")
        .join(file);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn section<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let start = text.find(&format!("\n.SH {name}\n"))? + name.len() + 5;
    let rest = &text[start..];
    Some(&rest[..rest.find("\n.SH ").unwrap_or(rest.len())])
}

#[test]
fn every_page_is_a_file_of_the_man_dir_and_nothing_else_is() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut found: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<String> = PAGES.iter().map(|p| p.0.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed);
}

#[test]
fn one_footer_and_the_sections_each_page_needs() {
    for &(file, name, sec) in PAGES {
        let text = page(file);
        let th = text.lines().next().unwrap();
        assert_eq!(
            th.split('"').nth(3),
            Some("supervisor-rs (Supervisor 4.3.0-compatible)"),
            "{file}: {th}"
        );
        assert!(
            th.starts_with(&format!(".TH {} {sec} \"2026\" ", name.to_uppercase())),
            "{file}: {th}"
        );
        assert_eq!(text.lines().nth(1), Some(".nh"), "{file}");
        let mut needed = vec!["NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"];
        if sec != "5" {
            needed.push("EXIT STATUS");
        }
        if file != "pidproxy.1" {
            needed.push("FILES");
        }
        if file != "pidproxy.1" && sec != "5" {
            needed.push("OPTIONS");
        }
        for s in needed {
            assert!(section(&text, s).is_some(), "{file} lacks {s}");
        }
    }
}

#[test]
fn see_also_names_every_other_page() {
    for &(file, _, _) in PAGES {
        let text = page(file);
        let see = section(&text, "SEE ALSO").unwrap_or_else(|| panic!("{file}: no SEE ALSO"));
        for &(other, name, sec) in PAGES.iter().filter(|p| p.0 != file) {
            assert!(
                see.contains(&format!(".BR {name} ({sec})")),
                "{file}: SEE ALSO lacks {other}:\n{see}"
            );
        }
    }
}

/// The names an OPTIONS entry (the line after each `.TP`) gives: `-c`, `--configuration`.
fn entry_names(options: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = options.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0] == ".TP")
        .map(|w| {
            w[1].replace("\\-", "-")
                .split([' ', ',', '"', '='])
                .filter(|t| t.starts_with('-'))
                .map(String::from)
                .collect()
        })
        .collect()
}

/// Every option of supervisord's table (`daemon::options`, which also makes `-h` and the
/// parser) has an entry of its own in supervisord.8 giving all its forms, and every entry
/// names only options of the table.
#[test]
fn supervisord_8_lists_every_option_of_the_table() {
    let text = page("supervisord.8");
    let options = section(&text, "OPTIONS").unwrap_or_else(|| panic!("no OPTIONS"));
    let entries = entry_names(options);
    let mut known = Vec::new();
    for (short, long) in supervisor::daemon::options::names() {
        let mut forms: Vec<String> = short.iter().map(|c| format!("-{c}")).collect();
        forms.extend(long.iter().map(|l| format!("--{l}")));
        assert!(
            entries.iter().any(|e| forms.iter().all(|f| e.contains(f))),
            "supervisord.8 has no entry listing {forms:?}: {entries:?}"
        );
        known.extend(forms);
    }
    for name in entries.iter().flatten() {
        assert!(
            known.contains(name),
            "supervisord.8 documents {name}, not in the table"
        );
    }
}
