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

pub use crate::namespec::namespec as make;

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
