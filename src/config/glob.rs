//! `[include] files` pattern matching: Python's `glob.glob` and `fnmatch` rules (`*`, `?`,
//! `[...]`, `[!...]`; hidden names only match a pattern starting with `.`; no `**`, no braces).

use std::fs;
use std::path::Path;

use super::pypath;

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// `fnmatch.fnmatchcase(name, pat)`.
pub fn fnmatch(name: &str, pat: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    let pat: Vec<char> = pat.chars().collect();
    match_from(&name, &pat)
}

/// One pattern element.
enum Item {
    Any,
    One,
    Lit(char),
    /// (negated, single chars and inclusive ranges)
    Set(bool, Vec<(char, char)>),
}

fn compile(pat: &[char]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut i = 0;
    while i < pat.len() {
        let c = pat[i];
        i += 1;
        match c {
            '*' => items.push(Item::Any),
            '?' => items.push(Item::One),
            '[' => {
                // The closing bracket: a `]` right after `[` or `[!` is a member, not the end.
                let mut j = i;
                if pat.get(j) == Some(&'!') {
                    j += 1;
                }
                if pat.get(j) == Some(&']') {
                    j += 1;
                }
                while j < pat.len() && pat[j] != ']' {
                    j += 1;
                }
                if j >= pat.len() {
                    items.push(Item::Lit('['));
                    continue;
                }
                let mut body = &pat[i..j];
                i = j + 1;
                let negated = body.first() == Some(&'!');
                if negated {
                    body = &body[1..];
                }
                let mut ranges = Vec::new();
                let mut k = 0;
                while k < body.len() {
                    if k + 2 < body.len() && body[k + 1] == '-' {
                        ranges.push((body[k], body[k + 2]));
                        k += 3;
                    } else {
                        ranges.push((body[k], body[k]));
                        k += 1;
                    }
                }
                items.push(Item::Set(negated, ranges));
            }
            c => items.push(Item::Lit(c)),
        }
    }
    items
}

fn match_from(name: &[char], pat: &[char]) -> bool {
    let items = compile(pat);
    matches(name, &items)
}

fn matches(name: &[char], items: &[Item]) -> bool {
    let Some((first, rest)) = items.split_first() else {
        return name.is_empty();
    };
    match first {
        Item::Any => (0..=name.len()).any(|k| matches(&name[k..], rest)),
        _ => {
            let Some((&c, tail)) = name.split_first() else {
                return false;
            };
            let ok = match first {
                Item::One => true,
                Item::Lit(l) => *l == c,
                Item::Set(negated, ranges) => {
                    ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
                }
                Item::Any => unreachable!("handled above"),
            };
            ok && matches(tail, rest)
        }
    }
}

fn lexists(p: &str) -> bool {
    fs::symlink_metadata(p).is_ok()
}

/// `glob.glob(pattern)`: existing paths matching the pattern, in directory order.
pub fn glob(pattern: &str) -> Vec<String> {
    iglob(pattern, false)
}

fn iglob(path: &str, dironly: bool) -> Vec<String> {
    let (dir, base) = pypath::split(path);
    if !has_magic(path) {
        let found = if base.is_empty() {
            Path::new(&dir).is_dir()
        } else {
            lexists(path)
        };
        return if found {
            vec![path.to_string()]
        } else {
            Vec::new()
        };
    }
    let dirs = if dir != path && has_magic(&dir) {
        iglob(&dir, true)
    } else {
        vec![dir]
    };
    let mut out = Vec::new();
    for d in dirs {
        let names = if has_magic(&base) {
            glob_in_dir(&d, &base, dironly)
        } else if base.is_empty() {
            if Path::new(&d).is_dir() {
                vec![String::new()]
            } else {
                Vec::new()
            }
        } else if lexists(&pypath::join(&d, &base)) {
            vec![base.clone()]
        } else {
            Vec::new()
        };
        out.extend(names.into_iter().map(|n| pypath::join(&d, &n)));
    }
    out
}

fn glob_in_dir(dir: &str, pat: &str, dironly: bool) -> Vec<String> {
    let listing = if dir.is_empty() { "." } else { dir };
    let Ok(entries) = fs::read_dir(listing) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') && !pat.starts_with('.') {
            continue;
        }
        if dironly && !entry.path().is_dir() {
            continue;
        }
        if fnmatch(&name, pat) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn fnmatch_rules() {
        assert!(fnmatch("a.conf", "*.conf"));
        assert!(!fnmatch("a.conf.bak", "*.conf"));
        assert!(fnmatch("a1", "a?"));
        assert!(!fnmatch("a", "a?"));
        assert!(fnmatch("b", "[abc]"));
        assert!(!fnmatch("d", "[abc]"));
        assert!(fnmatch("d", "[!abc]"));
        assert!(fnmatch("m", "[a-z]"));
        assert!(!fnmatch("M", "[a-z]"));
        assert!(fnmatch("-", "[a-]"));
        assert!(fnmatch("-", "[-a]"));
        assert!(fnmatch("]", "[]]"));
        assert!(fnmatch("x", "[!]]"));
        assert!(fnmatch("[", "["));
        assert!(fnmatch("[x", "[x"));
        assert!(!fnmatch("b", "[z-a]"));
        assert!(fnmatch("", "*"));
        assert!(fnmatch("abc", "a*c*"));
    }

    #[test]
    fn glob_matches_files_sorted_by_caller() {
        let t = TempDir::new("config");
        for f in ["b.conf", "a.conf", ".hidden.conf", "x.txt"] {
            t.write(f, "");
        }
        t.mkdir("sub");
        t.write("sub/c.conf", "");
        let root = t.path_str();
        let mut got = glob(&format!("{root}/*.conf"));
        got.sort();
        assert_eq!(
            got,
            vec![format!("{root}/a.conf"), format!("{root}/b.conf")]
        );
        assert_eq!(
            glob(&format!("{root}/.h*")),
            vec![format!("{root}/.hidden.conf")]
        );
        assert_eq!(
            glob(&format!("{root}/s*/c.conf")),
            vec![format!("{root}/sub/c.conf")]
        );
        assert_eq!(
            glob(&format!("{root}/*/*.conf")),
            vec![format!("{root}/sub/c.conf")]
        );
        assert_eq!(
            glob(&format!("{root}/x.txt")),
            vec![format!("{root}/x.txt")]
        );
        assert!(glob(&format!("{root}/none.txt")).is_empty());
        assert!(glob(&format!("{root}/nodir/*.conf")).is_empty());
    }
}
