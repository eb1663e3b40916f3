//! Result handlers: what a listener's RESULT body means. `standard` (Supervisor's default:
//! `OK` accepts, anything else rejects), `command` (also carries actions for the daemon) and
//! `supervisor_stdlog:log_handler` (prints the echoed PROCESS_LOG payload on supervisord's
//! own stdout/stderr, see [`StdLog`]). A new handler is one more type implementing
//! [`ResultHandler`].

use crate::process::Stream;

/// An action the `command` handler asks the daemon to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Start(String),
    Stop(String),
    Restart(String),
    Signal(String, String),
    /// Bytes for supervisord's own standard output or error.
    Print(Stream, Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Reject,
    /// The body could not be understood: rejected, with this error logged.
    Error(String),
}

pub trait ResultHandler {
    fn handle(&mut self, body: &[u8]) -> (Verdict, Vec<Action>);
}

pub struct Standard;

impl ResultHandler for Standard {
    fn handle(&mut self, body: &[u8]) -> (Verdict, Vec<Action>) {
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
    fn handle(&mut self, body: &[u8]) -> (Verdict, Vec<Action>) {
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

/// The PyPI package supervisor-stdlog's `log_handler` (0.7.9), built in so that its
/// documented container config runs unchanged: its listener (`supervisor-stdlog`) answers
/// each PROCESS_LOG event with the event's own payload, and this handler prints every line
/// of it as that package does, on supervisord's stdout (stderr for a stderr event):
/// `ESC[<c>m<name padded>| ESC[<k>m<line>ESC[m` + newline, where the name is
/// left-justified to one more than the longest name seen so far, `<k>` is 37 for stdout, 31
/// for stderr, 34 otherwise, and `<c>` is the name's colour: a new name takes the current
/// position of the cycle 36 33 32 35 34, which advances at *every* event (the package calls
/// `next()` as the argument of `dict.setdefault`, evaluated even for a known name). One
/// trailing newline of the data is dropped before it is split into lines. Every result is
/// accepted, as the package's handler never raises; a body it cannot read gets an error
/// line on stderr (where the package prints a traceback).
#[derive(Default)]
pub struct StdLog {
    /// Each process name seen and its colour.
    colours: Vec<(String, u8)>,
    /// Events handled: the position in the colour cycle.
    events: usize,
    pad: usize,
}

const STDLOG_COLOURS: [u8; 5] = [36, 33, 32, 35, 34];

impl ResultHandler for StdLog {
    fn handle(&mut self, body: &[u8]) -> (Verdict, Vec<Action>) {
        // The package decodes the body as UTF-8 (and prints a traceback for anything else);
        // we print the lines with replacement characters rather than lose them.
        let text = String::from_utf8_lossy(body);
        let unreadable = |why: &str| {
            let line = format!("supervisor_stdlog:log_handler: {why}\n");
            (
                Verdict::Accept,
                vec![Action::Print(Stream::Stderr, line.into_bytes())],
            )
        };
        let Some((head, data)) = text.split_once('\n') else {
            return unreadable("no payload after the PROCESS_LOG header line");
        };
        let header = |key: &str| {
            head.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix(':'))
        };
        let Some(name) = header("processname") else {
            return unreadable("no processname in the PROCESS_LOG header");
        };
        let chars = name.chars().count();
        self.pad = self.pad.max(chars + 1);
        let next = STDLOG_COLOURS[self.events % STDLOG_COLOURS.len()];
        self.events += 1;
        let colour = match self.colours.iter().find(|(n, _)| n == name) {
            Some(&(_, c)) => c,
            None => {
                self.colours.push((name.to_string(), next));
                next
            }
        };
        let Some(channel) = header("channel") else {
            return unreadable("no channel in the PROCESS_LOG header");
        };
        let (stream, line_colour) = match channel {
            "stderr" => (Stream::Stderr, 31),
            "stdout" => (Stream::Stdout, 37),
            _ => (Stream::Stdout, 34),
        };
        let padded = format!("{name}{}| ", " ".repeat(self.pad.saturating_sub(chars)));
        let data = data.strip_suffix('\n').unwrap_or(data);
        let mut out = Vec::with_capacity(data.len() + 32);
        for line in data.split('\n') {
            out.extend_from_slice(
                format!("\x1b[{colour}m{padded}\x1b[{line_colour}m{line}\x1b[m\n").as_bytes(),
            );
        }
        (Verdict::Accept, vec![Action::Print(stream, out)])
    }
}

/// The handler named in the config (names were validated there).
pub fn by_name(name: &str) -> Box<dyn ResultHandler> {
    match name {
        "command" => Box::new(Command),
        // supervisor_stdout (the older package) is accepted as the same handler.
        "supervisor_stdlog:log_handler" | "supervisor_stdout:event_handler" => {
            Box::<StdLog>::default()
        }
        _ => Box::new(Standard),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(h: &mut StdLog, body: &str) -> (Stream, String) {
        match h.handle(body.as_bytes()) {
            (Verdict::Accept, a) => match a.as_slice() {
                [Action::Print(s, b)] => (*s, String::from_utf8(b.clone()).unwrap()),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stdlog_prints_like_supervisor_stdlog() {
        let mut h = StdLog::default();
        assert_eq!(
            printed(
                &mut h,
                "processname:web groupname:web pid:12 channel:stdout\nhello\nworld\n"
            ),
            (
                Stream::Stdout,
                "\x1b[36mweb | \x1b[37mhello\x1b[m\n\x1b[36mweb | \x1b[37mworld\x1b[m\n".into()
            )
        );
        // The colour cycle advances at every event, so the next new name skips 33.
        printed(&mut h, "processname:web channel:stderr\nx\n");
        assert_eq!(
            printed(
                &mut h,
                "processname:db_long groupname:db pid:13 channel:stderr\noops"
            ),
            (
                Stream::Stderr,
                "\x1b[32mdb_long | \x1b[31moops\x1b[m\n".into()
            )
        );
        // A longer name widened the padding of every later line.
        assert_eq!(
            printed(
                &mut h,
                "processname:web groupname:web pid:12 channel:stdout\n\n"
            )
            .1,
            "\x1b[36mweb     | \x1b[37m\x1b[m\n",
            "one trailing newline is dropped, an empty line is kept"
        );
        // Events so far: 4; the 5th, 6th... pick 34, 36, 33.
        for (name, colour) in [("c", 34), ("d", 36), ("e", 33)] {
            let out = printed(&mut h, &format!("processname:{name} channel:stdout\nx\n")).1;
            assert!(
                out.starts_with(&format!("\x1b[{colour}m{name} ")),
                "{out:?}"
            );
        }
        assert!(printed(&mut h, "processname:g channel:other\nx\n")
            .1
            .contains("\x1b[34mx"));
        for bad in ["OK", "processname:x channel:stdout", "pid:1\nx"] {
            let (s, text) = printed(&mut h, bad);
            assert!(s == Stream::Stderr && text.starts_with("supervisor_stdlog:log_handler: "));
        }
        assert!(matches!(
            by_name("supervisor_stdout:event_handler")
                .handle(b"processname:a channel:stdout\nx\n")
                .1[..],
            [Action::Print(Stream::Stdout, _)]
        ));
    }

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
