//! `environment_file=`: the list of files (systemd `EnvironmentFile=` syntax) a child's
//! environment is read from at every spawn, and the parser for those files.
//!
//! The subset of systemd.exec(5) we accept, precisely:
//! - Lines end at `\n`. Empty lines (only blanks: space, tab, `\r`) and lines whose first
//!   non-blank character is `#` or `;` are ignored.
//! - An assignment is `[export ]KEY=VALUE`; blanks may surround `KEY` and `=`. `KEY` is a
//!   letter or `_` followed by letters, digits or `_`.
//! - VALUE, after leading blanks: unquoted text up to the end of the line with trailing blanks
//!   removed, where `\c` stands for `c` and a `\` at the end of the line joins the next line;
//!   `'...'` is literal (no escapes, may span lines); in `"..."` the escapes `\"` `\\` `\$`
//!   `` \` `` stand for the character, a `\` before a line end joins the lines, any other `\`
//!   is kept, and the text may span lines. Quoted and unquoted pieces may follow each other
//!   (`a"b c"d` is `ab cd`). A `#` after the start of a line is part of the value.
//! - Nothing is expanded (`$HOME` stays `$HOME`); a later assignment of a key wins.
//! - Unlike systemd (which skips bad lines with a warning), a line that is not an assignment,
//!   a bad key, an unterminated quote, a NUL byte or invalid UTF-8 is an error naming the file
//!   and line — never the line's text, which may hold a secret.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Largest file read: the spawn path must not stall on a huge (or endless) file.
pub const MAX_SIZE: u64 = 1 << 20;

/// One entry of `environment_file=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFile {
    pub path: PathBuf,
    /// Written with a leading `-`: a file that does not exist is skipped.
    pub optional: bool,
}

/// `environment_file=` after expansion: comma-separated absolute paths, each optionally
/// preceded by `-`.
pub fn env_file_list(value: &str) -> Result<Vec<EnvFile>, String> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (optional, path) = match item.strip_prefix('-') {
            Some(p) => (true, p.trim_start()),
            None => (false, item),
        };
        if !path.starts_with('/') {
            return Err(format!(
                "environment_file paths must be absolute, not {}",
                crate::pyrepr::repr(path)
            ));
        }
        out.push(EnvFile {
            path: PathBuf::from(path),
            optional,
        });
    }
    Ok(out)
}

/// The key's value as shown to clients (getAllConfigInfo): the list, never the contents.
pub fn display_list(files: &[EnvFile]) -> String {
    let items: Vec<String> = files
        .iter()
        .map(|f| format!("{}{}", if f.optional { "-" } else { "" }, f.path.display()))
        .collect();
    items.join(", ")
}

/// Reads every file of `files` in order into `env` (later assignments win). The error names
/// the file (and line) and is meant for the process's spawn error.
pub fn read_into(files: &[EnvFile], env: &mut Vec<(String, String)>) -> Result<(), String> {
    for f in files {
        let Some(text) = read_file(f)? else {
            continue;
        };
        for (k, v) in parse(&text, &f.path)? {
            match env.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v,
                None => env.push((k, v)),
            }
        }
    }
    Ok(())
}

/// The file's bytes; `None` for a missing optional file.
fn read_file(f: &EnvFile) -> Result<Option<Vec<u8>>, String> {
    let path = f.path.display();
    // O_NONBLOCK: a FIFO planted at the path must not hang the daemon in open(2).
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&f.path);
    let mut file: File = match file {
        Ok(file) => file,
        Err(e)
            if f.optional
                && matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(format!("cannot read environment file {path}: {e}")),
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read environment file {path}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("environment file {path} is not a regular file"));
    }
    if meta.len() > MAX_SIZE {
        return Err(format!(
            "environment file {path} is larger than {MAX_SIZE} bytes"
        ));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    // One more than allowed, to notice a file that grew since fstat.
    (&mut file)
        .take(MAX_SIZE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read environment file {path}: {e}"))?;
    if buf.len() as u64 > MAX_SIZE {
        return Err(format!(
            "environment file {path} is larger than {MAX_SIZE} bytes"
        ));
    }
    Ok(Some(buf))
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r')
}

fn valid_key(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses a whole file (see the module header for the syntax). `path` is for errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Vec<(String, String)>, String> {
    let at = |line: usize, what: &str| format!("{}, line {line}: {what}", path.display());
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        at(line, "not valid UTF-8")
    })?;
    if let Some(i) = text.find('\0') {
        let line = 1 + text[..i].matches('\n').count();
        return Err(at(line, "NUL byte"));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    loop {
        // Start of a line: skip blanks, comments and empty lines.
        while chars.peek().is_some_and(|&c| is_blank(c)) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            break;
        };
        if first == '\n' || first == '#' || first == ';' {
            for c in chars.by_ref() {
                if c == '\n' {
                    break;
                }
            }
            line += 1;
            continue;
        }
        let start = line;
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == '\n' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(at(start, "not an assignment (no '=')"));
        }
        let key = key.trim_end_matches(is_blank);
        let key = match key.strip_prefix("export") {
            Some(rest) if rest.starts_with(is_blank) => rest.trim_start_matches(is_blank),
            _ => key,
        };
        if !valid_key(key) {
            return Err(at(start, "invalid variable name"));
        }
        while chars.peek().is_some_and(|&c| is_blank(c)) {
            chars.next();
        }
        let value = parse_value(&mut chars, &mut line).map_err(|what| at(start, what))?;
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key.to_string(), value)),
        }
    }
    Ok(out)
}

/// One value, up to and including the newline that ends it; `line` counts the newlines taken.
fn parse_value(
    chars: &mut std::iter::Peekable<std::str::Chars>,
    line: &mut usize,
) -> Result<String, &'static str> {
    let mut value = String::new();
    // Length of `value` without its trailing unquoted blanks.
    let mut keep = 0;
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                *line += 1;
                break;
            }
            '\\' => match chars.next() {
                Some('\n') => *line += 1,
                Some(e) => {
                    value.push(e);
                    keep = value.len();
                }
                None => {}
            },
            '\'' => {
                loop {
                    match chars.next() {
                        None => return Err("unterminated single quote"),
                        Some('\'') => break,
                        Some(q) => {
                            if q == '\n' {
                                *line += 1;
                            }
                            value.push(q);
                        }
                    }
                }
                keep = value.len();
            }
            '"' => {
                loop {
                    match chars.next() {
                        None => return Err("unterminated double quote"),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            None => return Err("unterminated double quote"),
                            Some('\n') => *line += 1,
                            Some(e @ ('"' | '\\' | '$' | '`')) => value.push(e),
                            Some(e) => {
                                value.push('\\');
                                value.push(e);
                            }
                        },
                        Some(q) => {
                            if q == '\n' {
                                *line += 1;
                            }
                            value.push(q);
                        }
                    }
                }
                keep = value.len();
            }
            c => {
                value.push(c);
                if !is_blank(c) {
                    keep = value.len();
                }
            }
        }
    }
    value.truncate(keep);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::owned;

    fn p(text: &str) -> Result<Vec<(String, String)>, String> {
        parse(text.as_bytes(), Path::new("/e.env"))
    }

    #[test]
    fn plain_comments_and_blank_lines() {
        let text = "# comment\n; also\n\n   \nA=1\n  B = two words  \r\n\tC=\nD=x#y\n";
        assert_eq!(
            p(text),
            Ok(owned(&[
                ("A", "1"),
                ("B", "two words"),
                ("C", ""),
                ("D", "x#y")
            ]))
        );
        assert_eq!(p(""), Ok(vec![]));
        assert_eq!(p("A=1"), Ok(owned(&[("A", "1")])), "no final newline");
    }

    #[test]
    fn export_prefix() {
        assert_eq!(
            p("export A=1\nexport\tB=2\nexportC=3\n"),
            Ok(owned(&[("A", "1"), ("B", "2"), ("exportC", "3")]))
        );
    }

    #[test]
    fn quotes() {
        assert_eq!(
            p("A='x \"y\" $z \\n'"),
            Ok(owned(&[("A", "x \"y\" $z \\n")]))
        );
        assert_eq!(
            p(r#"A="a \"b\" \\ \$c \`d\` \n""#),
            Ok(owned(&[("A", r#"a "b" \ $c `d` \n"#)]))
        );
        assert_eq!(p("A=  'a'b\"c d\"  \n"), Ok(owned(&[("A", "abc d")])));
        assert_eq!(p("A=' kept  '\n"), Ok(owned(&[("A", " kept  ")])));
        assert_eq!(p("A=\"\"\n"), Ok(owned(&[("A", "")])));
    }

    #[test]
    fn multi_line_values_and_continuations() {
        assert_eq!(
            p("A='one\ntwo'\nB=\"x\\\ny\"\nC=un\\\nquoted\nD=4\n"),
            Ok(owned(&[
                ("A", "one\ntwo"),
                ("B", "xy"),
                ("C", "unquoted"),
                ("D", "4")
            ]))
        );
        assert_eq!(p("A=\\ lead\\#\n"), Ok(owned(&[("A", " lead#")])));
    }

    #[test]
    fn later_assignment_wins() {
        assert_eq!(p("A=1\nB=2\nA=3\n"), Ok(owned(&[("A", "3"), ("B", "2")])));
    }

    #[test]
    fn errors_name_file_and_line_but_not_the_text() {
        for (text, want) in [
            (
                &b"A=1\n\nsecret-value\n"[..],
                "line 3: not an assignment (no '=')",
            ),
            (b"A=1\n1BAD=x\n", "line 2: invalid variable name"),
            (b"A=1\nB-C=x\n", "line 2: invalid variable name"),
            (b"A=1\nB='open\nC=2\n", "line 2: unterminated single quote"),
            (b"A=\"x\n", "line 1: unterminated double quote"),
            // Lines inside a quoted value are counted.
            (b"A='a\nb'\nB\n", "line 3: not an assignment (no '=')"),
            (b"A=1\nB=\xff\n", "line 2: not valid UTF-8"),
            (b"A=1\nB=a\0b\n", "line 2: NUL byte"),
        ] {
            assert_eq!(
                parse(text, Path::new("/e.env")),
                Err(format!("/e.env, {want}")),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn list_syntax() {
        assert_eq!(
            env_file_list(" /etc/default/app, -/etc/app/optional.env ,"),
            Ok(vec![
                EnvFile {
                    path: "/etc/default/app".into(),
                    optional: false
                },
                EnvFile {
                    path: "/etc/app/optional.env".into(),
                    optional: true
                },
            ])
        );
        assert!(env_file_list("rel.env").unwrap_err().contains("absolute"));
        assert_eq!(display_list(&env_file_list("/a,-/b").unwrap()), "/a, -/b");
    }

    #[test]
    fn reading_files() {
        let dir = crate::testutil::TempDir::new("envfile");
        let a = dir.path().join("a.env");
        std::fs::write(&a, "A=1\nB=2\n").unwrap();
        let files = vec![
            EnvFile {
                path: a.clone(),
                optional: false,
            },
            EnvFile {
                path: dir.path().join("missing.env"),
                optional: true,
            },
        ];
        let mut env = vec![("B".to_string(), "old".to_string())];
        read_into(&files, &mut env).unwrap();
        assert_eq!(env, super::tests::owned(&[("B", "2"), ("A", "1")]));

        let missing = EnvFile {
            path: dir.path().join("missing.env"),
            optional: false,
        };
        let e = read_into(&[missing], &mut env).unwrap_err();
        assert!(
            e.contains("missing.env") && e.contains("No such file"),
            "{e}"
        );

        let dirpath = EnvFile {
            path: dir.path().to_path_buf(),
            optional: true,
        };
        assert!(read_into(&[dirpath], &mut env)
            .unwrap_err()
            .contains("not a regular file"));

        let big = dir.path().join("big.env");
        std::fs::write(&big, vec![b'#'; MAX_SIZE as usize + 1]).unwrap();
        let e = read_into(
            &[EnvFile {
                path: big,
                optional: false,
            }],
            &mut env,
        )
        .unwrap_err();
        assert!(e.contains("larger than 1048576 bytes"), "{e}");
    }
}
