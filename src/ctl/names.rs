//! Process names as supervisorctl handles them: splitting what the user typed into
//! (group, process) and building the `group:process` form shown in output (ctl.md §4).

/// Splits a namespec: `g:p` → (g, Some(p)); `g:*` and `g:` → (g, None) (the whole group);
/// `x` → (x, Some(x)).
pub fn split(name: &str) -> (&str, Option<&str>) {
    match name.split_once(':') {
        Some((g, p)) if p.is_empty() || p == "*" => (g, None),
        Some((g, p)) => (g, Some(p)),
        None => (name, Some(name)),
    }
}

/// `process` if it is its group's name, else `group:process`.
pub fn make(group: &str, process: &str) -> String {
    if group == process {
        process.to_string()
    } else {
        format!("{group}:{process}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_make() {
        assert_eq!(split("x"), ("x", Some("x")));
        assert_eq!(split("g:p"), ("g", Some("p")));
        assert_eq!(split("g:*"), ("g", None));
        assert_eq!(split("g:"), ("g", None));
        assert_eq!(split("a:b:c"), ("a", Some("b:c")));
        assert_eq!(make("x", "x"), "x");
        assert_eq!(make("g", "p"), "g:p");
    }
}
