//! Result handlers: what a listener's RESULT body means. `standard` (Supervisor's default:
//! `OK` accepts, anything else rejects) and `command` (also carries actions for the daemon).
//! A new handler is one more type implementing [`ResultHandler`].

/// An action the `command` handler asks the daemon to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Start(String),
    Stop(String),
    Restart(String),
    Signal(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Reject,
    /// The body could not be understood: rejected, with this error logged.
    Error(String),
}

pub trait ResultHandler {
    fn handle(&self, body: &[u8]) -> (Verdict, Vec<Action>);
}

pub struct Standard;

impl ResultHandler for Standard {
    fn handle(&self, body: &[u8]) -> (Verdict, Vec<Action>) {
        let v = if body == b"OK" {
            Verdict::Accept
        } else {
            Verdict::Reject
        };
        (v, Vec::new())
    }
}

/// Lines `OK`, `FAIL`, `start <name>`, `stop <name>`, `restart <name>`, `signal <SIG> <name>`.
pub struct Command;

impl ResultHandler for Command {
    fn handle(&self, body: &[u8]) -> (Verdict, Vec<Action>) {
        let text = String::from_utf8_lossy(body);
        let mut verdict = Verdict::Accept;
        let mut actions = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["OK"] => {}
                ["FAIL"] => verdict = Verdict::Reject,
                ["start", name] => actions.push(Action::Start(name.to_string())),
                ["stop", name] => actions.push(Action::Stop(name.to_string())),
                ["restart", name] => actions.push(Action::Restart(name.to_string())),
                ["signal", sig, name] => {
                    actions.push(Action::Signal(sig.to_string(), name.to_string()))
                }
                _ => {
                    return (
                        Verdict::Error(format!("unknown command line {line:?}")),
                        Vec::new(),
                    )
                }
            }
        }
        (verdict, actions)
    }
}

/// The handler named in the config (names were validated there).
pub fn by_name(name: &str) -> Box<dyn ResultHandler> {
    match name {
        "command" => Box::new(Command),
        _ => Box::new(Standard),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard() {
        assert_eq!(Standard.handle(b"OK").0, Verdict::Accept);
        for bad in [&b"FAIL"[..], b"ok", b"OK\n", b""] {
            assert_eq!(Standard.handle(bad).0, Verdict::Reject);
        }
    }

    #[test]
    fn command() {
        let (v, a) = Command.handle(b"OK\nrestart web\nsignal HUP grp:w1\n");
        assert_eq!(v, Verdict::Accept);
        assert_eq!(
            a,
            vec![
                Action::Restart("web".into()),
                Action::Signal("HUP".into(), "grp:w1".into())
            ]
        );
        assert_eq!(Command.handle(b"FAIL").0, Verdict::Reject);
        assert!(matches!(Command.handle(b"reboot now").0, Verdict::Error(_)));
        assert_eq!(
            by_name("command").handle(b"stop x").1,
            vec![Action::Stop("x".into())]
        );
        assert_eq!(by_name("standard").handle(b"OK").0, Verdict::Accept);
    }
}
