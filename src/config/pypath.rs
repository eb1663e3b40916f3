//! Python `posixpath` semantics on strings (`dirname`, `join`, `normpath`, `abspath`,
//! `expanduser`), because Supervisor's path rules and messages are defined in terms of them and
//! `std::path` normalises differently (it never removes `..`, and it drops trailing slashes).

use super::users;

/// `os.path.isabs`.
pub fn isabs(p: &str) -> bool {
    p.starts_with('/')
}

/// `os.path.dirname`: everything before the last `/`, trailing slashes removed unless the head
/// is only slashes.
pub fn dirname(p: &str) -> String {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    let head = &p[..i];
    if !head.is_empty() && head.chars().any(|c| c != '/') {
        head.trim_end_matches('/').to_string()
    } else {
        head.to_string()
    }
}

/// `os.path.split`: (`dirname`, basename).
pub fn split(p: &str) -> (String, String) {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    (dirname(p), p[i..].to_string())
}

/// `os.path.join(a, b)`: an absolute `b` replaces `a`.
pub fn join(a: &str, b: &str) -> String {
    if b.starts_with('/') {
        b.to_string()
    } else if a.is_empty() || a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// `os.path.normpath`: removes `.`, empty components and resolvable `..`; keeps exactly two
/// leading slashes (POSIX leaves `//` implementation-defined), otherwise one.
pub fn normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let initial = if p.starts_with("//") && !p.starts_with("///") {
        2
    } else if p.starts_with('/') {
        1
    } else {
        0
    };
    let mut comps: Vec<&str> = Vec::new();
    for comp in p.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (initial == 0 && comps.is_empty()) || comps.last() == Some(&"..") {
            comps.push(comp);
        } else {
            comps.pop();
        }
    }
    let joined = comps.join("/");
    let out = format!("{}{}", "/".repeat(initial), joined);
    if out.is_empty() {
        ".".to_string()
    } else {
        out
    }
}

/// `os.path.abspath`: joined to the current directory, then normalised.
pub fn abspath(p: &str) -> String {
    if isabs(p) {
        return normpath(p);
    }
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/".to_string());
    normpath(&join(&cwd, p))
}

/// `os.path.expanduser`: `~` and `~/x` use `$HOME` (else the passwd entry of the current uid),
/// `~name/x` the home of `name`; an unknown user leaves the path unchanged.
pub fn expanduser(p: &str) -> String {
    if !p.starts_with('~') {
        return p.to_string();
    }
    let i = p[1..].find('/').map_or(p.len(), |i| i + 1);
    let home = if i == 1 {
        match std::env::var("HOME") {
            Ok(h) => Some(h),
            // SAFETY: getuid has no preconditions and cannot fail.
            Err(_) => users::passwd_by_uid(unsafe { libc::getuid() }).map(|pw| pw.dir),
        }
    } else {
        users::passwd_by_name(&p[1..i]).map(|pw| pw.dir)
    };
    match home {
        None => p.to_string(),
        Some(h) => {
            let out = format!("{}{}", h.trim_end_matches('/'), &p[i..]);
            if out.is_empty() {
                "/".to_string()
            } else {
                out
            }
        }
    }
}

/// Supervisor's `normalize_path`: `~` expanded, made absolute, normalised.
pub fn normalize_path(p: &str) -> String {
    abspath(&expanduser(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirname_like_python() {
        assert_eq!(dirname("/usr/bin/supervisord"), "/usr/bin");
        assert_eq!(dirname("/usr/bin/"), "/usr/bin");
        assert_eq!(dirname("supervisord"), "");
        assert_eq!(dirname("/x"), "/");
        assert_eq!(dirname("//x"), "//");
        assert_eq!(dirname("a//b"), "a");
    }

    #[test]
    fn join_like_python() {
        assert_eq!(join("", "etc"), "etc");
        assert_eq!(join("/", "etc"), "/etc");
        assert_eq!(join("/usr", "etc"), "/usr/etc");
        assert_eq!(join("/usr", "/abs"), "/abs");
    }

    #[test]
    fn normpath_like_python() {
        assert_eq!(normpath(""), ".");
        assert_eq!(normpath("/a/./b/../c//"), "/a/c");
        assert_eq!(normpath("/.."), "/");
        assert_eq!(normpath("../a/.."), "..");
        assert_eq!(normpath("a/../.."), "..");
        assert_eq!(normpath("//a"), "//a");
        assert_eq!(normpath("///a"), "/a");
    }

    #[test]
    fn abspath_uses_cwd() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(abspath("x/../y"), format!("{}/y", cwd.display()));
        assert_eq!(abspath("/a/b/.."), "/a");
    }

    #[test]
    fn expanduser_root_and_unknown() {
        assert_eq!(expanduser("/abs"), "/abs");
        assert_eq!(expanduser("~root/x"), "/root/x");
        assert_eq!(
            expanduser("~no_such_user_xyz/x"),
            "~no_such_user_xyz/x".to_string()
        );
    }
}
