//! The one way a process is named by its group: `name` when the group bears its name, else
//! `group:name` (Supervisor's namespec), for the API, the web UI, dependency errors and
//! supervisorctl alike.

/// `name` if it is its group's name, else `group:name`.
pub fn namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        qualified(group, name)
    }
}

/// Always `group:name`, which names the process even when the group bears its name.
pub fn qualified(group: &str, name: &str) -> String {
    format!("{group}:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_only_when_the_group_bears_the_name() {
        assert_eq!(namespec("x", "x"), "x");
        assert_eq!(namespec("g", "p"), "g:p");
        assert_eq!(qualified("x", "x"), "x:x");
    }
}
