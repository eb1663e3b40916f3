//! Tab completion in the shell (ctl.md §6): command names for the first word; after a command,
//! what its table entry says (command names, group names, or process names with `group:*` and
//! `all`). Names come from one `getAllProcessInfo` call, cached until the next command runs.

use super::client::{Client, Server};
use super::commands::{find, Complete, COMMANDS};
use super::format::ProcInfo;
use std::sync::{Arc, Mutex};

/// Readline's word delimiters without `:`, `*` and `-`, so `grp:*` and `foo-bar` are words.
pub const WORD_BREAK: &str = " \t\n\"\\'`@$><=;|&{(";

/// Commands whose process arguments accept `all`.
const TAKES_ALL: &[&str] = &[
    "clear", "pid", "restart", "signal", "start", "status", "stop",
];

/// Signal names offered as the first argument of `signal`.
const SIGNALS: &[&str] = &[
    "ABRT", "ALRM", "CHLD", "CONT", "HUP", "INT", "KILL", "QUIT", "STOP", "TERM", "TSTP", "TTIN",
    "TTOU", "USR1", "USR2", "WINCH",
];

/// (group, process) pairs as the daemon listed them.
pub type ProcNames = Vec<(String, String)>;

/// Candidates for `word`, which starts at byte `start` of `line`. `names` is only called when
/// process or group names are needed. Each candidate is a whole word (the editor adds the
/// trailing space).
pub fn candidates(
    line: &str,
    start: usize,
    word: &str,
    names: impl FnOnce() -> Option<ProcNames>,
) -> Vec<String> {
    let before: Vec<&str> = line[..start].split_whitespace().collect();
    let Some(&command) = before.first() else {
        return matching(
            COMMANDS
                .iter()
                .filter(|c| c.name != "EOF")
                .map(|c| c.name.to_string()),
            word,
        );
    };
    let Some(cmd) = find(command) else {
        return Vec::new();
    };
    if word.starts_with('-') && !cmd.flags.is_empty() {
        return matching(cmd.flags.iter().map(|f| f.to_string()), word);
    }
    match cmd.complete {
        Complete::Nothing => Vec::new(),
        Complete::Commands => matching(
            COMMANDS
                .iter()
                .filter(|c| c.name != "EOF")
                .map(|c| c.name.to_string()),
            word,
        ),
        Complete::Groups => {
            let mut groups: Vec<String> = names()
                .unwrap_or_default()
                .into_iter()
                .map(|(g, _)| g)
                .collect();
            groups.dedup();
            matching(groups, word)
        }
        Complete::Processes if command == "signal" && before.len() == 1 => {
            matching(SIGNALS.iter().map(|s| s.to_string()), word)
        }
        Complete::Processes => {
            let mut out = process_words(&names().unwrap_or_default(), word.contains(':'));
            if TAKES_ALL.contains(&command) {
                out.push("all".to_string());
            }
            matching(out, word)
        }
    }
}

/// `name` for a process named like its group, else `group:name`, plus `group:*` for groups
/// shown in the second form; always the long forms once the user typed a colon.
fn process_words(names: &ProcNames, long: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut groups: Vec<&str> = Vec::new();
    for (g, p) in names {
        if long || g != p {
            out.push(format!("{g}:{p}"));
            if !groups.contains(&g.as_str()) {
                groups.push(g);
            }
        } else {
            out.push(p.clone());
        }
    }
    out.extend(groups.iter().map(|g| format!("{g}:*")));
    out
}

fn matching(words: impl IntoIterator<Item = String>, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = words
        .into_iter()
        .filter(|w| w.starts_with(prefix))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What the completer needs between commands: where the server is and the cached names.
pub struct NameCache {
    server: Server,
    client: Option<Client>,
    names: Option<ProcNames>,
}

impl NameCache {
    pub fn new(server: Server) -> Arc<Mutex<NameCache>> {
        Arc::new(Mutex::new(NameCache {
            server,
            client: None,
            names: None,
        }))
    }

    /// Called before each prompt: forget the names (a command may have changed them) and
    /// follow `open` or new credentials.
    pub fn reset(&mut self, server: &Server) {
        self.names = None;
        if *server != self.server {
            self.server = server.clone();
            self.client = None;
        }
    }

    /// The names, asking the daemon once per line; None if it cannot be asked.
    pub fn names(&mut self) -> Option<ProcNames> {
        if self.names.is_none() {
            let server = self.server.clone();
            let client = self.client.get_or_insert_with(|| Client::new(server));
            let v = client.call("supervisor.getAllProcessInfo", &[]).ok()?;
            let infos = ProcInfo::list(&v).ok()?;
            self.names = Some(infos.into_iter().map(|i| (i.group, i.name)).collect());
        }
        self.names.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Option<ProcNames> {
        Some(vec![
            ("cat".into(), "cat".into()),
            ("grp".into(), "g1".into()),
            ("grp".into(), "g2".into()),
            ("sleeper".into(), "sleeper".into()),
        ])
    }

    fn complete(line: &str) -> Vec<String> {
        let start = line.rfind(|c| WORD_BREAK.contains(c)).map_or(0, |i| i + 1);
        candidates(line, start, &line[start..], names)
    }

    #[test]
    fn first_word_is_a_command() {
        assert_eq!(complete("st"), ["start", "status", "stop"]);
        assert_eq!(complete("he"), ["help"]);
        assert_eq!(complete("E"), Vec::<String>::new());
        assert!(complete("").contains(&"debug".to_string()));
    }

    #[test]
    fn process_names_groups_and_all() {
        assert_eq!(
            complete("start "),
            ["all", "cat", "grp:*", "grp:g1", "grp:g2", "sleeper"]
        );
        assert_eq!(complete("stop g"), ["grp:*", "grp:g1", "grp:g2"]);
        assert_eq!(complete("status cat:"), ["cat:*", "cat:cat"]);
        assert_eq!(complete("tail s"), ["sleeper"]);
        assert_eq!(complete("fg a"), Vec::<String>::new());
        assert_eq!(complete("start cat s"), ["sleeper"]);
    }

    #[test]
    fn other_argument_kinds() {
        assert_eq!(complete("help sta"), ["start", "status"]);
        assert_eq!(complete("update g"), ["grp"]);
        assert_eq!(complete("signal HU"), ["HUP"]);
        assert_eq!(complete("signal HUP gr"), ["grp:*", "grp:g1", "grp:g2"]);
        assert_eq!(complete("version "), Vec::<String>::new());
        assert_eq!(complete("bogus x"), Vec::<String>::new());
    }

    #[test]
    fn flags_after_a_dash() {
        assert_eq!(complete("status --"), ["--json"]);
        assert_eq!(complete("avail -"), ["--json"]);
        assert_eq!(complete("stop grp:g1 --n"), ["--no-wait"]);
        assert_eq!(complete("tail -"), Vec::<String>::new());
        assert_eq!(
            complete("start --no-wait "),
            ["all", "cat", "grp:*", "grp:g1", "grp:g2", "sleeper"]
        );
    }
}
