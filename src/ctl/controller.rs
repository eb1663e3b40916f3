//! The command interpreter shared by one-shot mode and the shell: it owns the RPC client and
//! the exit status, parses a line the way Python's `cmd.Cmd` does, runs the command, and
//! turns every failure into one clear line (ctl.md §2, §3).

use super::client::{CallError, Client};
use super::commands;
use crate::api::faults;
use crate::rpc::Value;
use std::io::Write;

/// LSB exit statuses supervisorctl uses (ctl.md §2).
pub mod exit {
    pub const SUCCESS: i32 = 0;
    pub const GENERIC: i32 = 1;
    pub const INVALID_ARGS: i32 = 2;
    pub const UNIMPLEMENTED_FEATURE: i32 = 3;
    pub const INSUFFICIENT_PRIVILEGES: i32 = 4;
    pub const NOT_INSTALLED: i32 = 5;
    pub const NOT_RUNNING: i32 = 7;
    /// `status` only: some shown process is down.
    pub const STATUS_NOT_RUNNING: i32 = 3;
    /// `status` only: a name matched nothing or the server is unreachable.
    pub const STATUS_UNKNOWN: i32 = 4;
}

/// The API version supervisorctl speaks.
pub const API_VERSION: &str = "3.0";

/// Reads answers from the user in the shell (confirmations, credentials).
pub trait Ask {
    /// Shows `prompt` and reads one line; None at end of input.
    fn ask(&mut self, prompt: &str) -> Option<String>;
    /// Like `ask`, without echoing what is typed.
    fn ask_secret(&mut self, prompt: &str) -> Option<String>;
}

pub struct Controller {
    pub client: Client,
    /// The exit status of a one-shot run (the last value assigned wins).
    pub exit: i32,
    /// Running the shell: confirmations and credential prompts are possible.
    pub interactive: bool,
    /// Set by `quit`, `exit` and EOF.
    pub done: bool,
    pub asker: Option<Box<dyn Ask>>,
    /// A `--json` command runs: stdout is reserved for its document, and every other line
    /// (connection errors, usage) goes to stderr.
    pub json: bool,
}

impl Controller {
    pub fn new(client: Client) -> Controller {
        Controller {
            client,
            exit: exit::SUCCESS,
            interactive: false,
            done: false,
            asker: None,
            json: false,
        }
    }

    /// Prints one message line on stdout (stderr while a `--json` command runs). A closed
    /// stdout (EPIPE) is not worth reporting.
    pub fn say(&self, text: &str) {
        if self.json {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
            let _ = err.write_all(b"\n");
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }

    /// Prints a `--json` command's document: one line of JSON on stdout.
    pub fn print_json(&self, doc: &Value) {
        let mut text = crate::json::encode(doc);
        text.push('\n');
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// A command's `Error: …` line followed by its help text.
    pub fn usage_error(&mut self, message: &str, command: &str, status: i32) {
        self.say(message);
        commands::print_help(self, command);
        self.exit = status;
    }

    pub fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        self.client.call(method, params)
    }

    /// Supervisor's `upcheck`: the server must speak API 3.0. Ok(false) when a known problem
    /// was reported (and the exit status set); other failures propagate.
    pub fn upcheck(&mut self) -> Result<bool, CallError> {
        match self.call("supervisor.getVersion", &[]) {
            Ok(v) => {
                let version = match &v {
                    Value::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                if version == API_VERSION {
                    return Ok(true);
                }
                self.say(&format!(
                    "Sorry, this version of supervisorctl expects to talk to a server with API \
                     version {API_VERSION}, but the remote version is {version}."
                ));
                self.exit = exit::NOT_INSTALLED;
            }
            Err(CallError::Fault { code, .. }) if code == faults::UNKNOWN_METHOD => {
                self.say(
                    "Sorry, supervisord responded but did not recognize the supervisor \
                     namespace commands that supervisorctl uses to control it.  Please check \
                     that the [rpcinterface:supervisor] section is enabled in the configuration \
                     file (see sample.conf).",
                );
                self.exit = exit::UNIMPLEMENTED_FEATURE;
            }
            Err(CallError::Refused(url)) => {
                self.say(&format!("{url} refused connection"));
                self.exit = exit::INSUFFICIENT_PRIVILEGES;
            }
            Err(CallError::NoSuchFile(url)) => {
                self.say(&format!("{url} no such file"));
                self.exit = exit::NOT_RUNNING;
            }
            Err(e) => return Err(e),
        }
        Ok(false)
    }

    /// Exit status from one result of start/stop/signal/clear: success and the command's
    /// `ignored` code change nothing; spawn error, abnormal termination and not running give
    /// 7; anything else 1.
    pub fn status_from_fault(&mut self, code: i64, ignored: Option<i64>) {
        if code == faults::SUCCESS || Some(code) == ignored {
            return;
        }
        self.exit = match code {
            faults::SPAWN_ERROR | faults::ABNORMAL_TERMINATION | faults::NOT_RUNNING => {
                exit::NOT_RUNNING
            }
            _ => exit::GENERIC,
        };
    }

    /// Runs one command line. Errors are printed here: one line, never a backtrace.
    pub fn run_line(&mut self, line: &str) {
        let Some((word, arg)) = split_line(line) else {
            return;
        };
        let Some(cmd) = word.and_then(commands::find) else {
            self.say(&format!("*** Unknown syntax: {}", line.trim()));
            self.exit = exit::GENERIC;
            return;
        };
        loop {
            // A `--json` command sets `json` for its run; the errors reported here go where
            // its other messages went, then the next command starts without it.
            match (cmd.run)(self, &arg) {
                Ok(()) => {}
                Err(CallError::Unauthorized) => {
                    self.say("Server requires authentication");
                    if self.interactive && self.ask_credentials() {
                        continue;
                    }
                    self.exit = exit::GENERIC;
                }
                Err(CallError::Interrupted) => {
                    self.say("");
                    self.exit = exit::GENERIC;
                }
                Err(e) => {
                    self.say(&format!("error: {e}"));
                    self.exit = exit::GENERIC;
                }
            }
            self.json = false;
            return;
        }
    }

    /// Asks for a user name and password (shell only); false if input ended.
    fn ask_credentials(&mut self) -> bool {
        let Some(asker) = self.asker.as_mut() else {
            return false;
        };
        let Some(username) = asker.ask("Username:") else {
            return false;
        };
        let Some(password) = asker.ask_secret("Password:") else {
            return false;
        };
        self.say("");
        let mut server = self.client.server.clone();
        server.username = Some(username);
        server.password = Some(password);
        self.client.set_server(server);
        true
    }

    /// Asks a yes/no question in the shell; anything not starting with y/Y is no.
    pub fn confirm(&mut self, question: &str) -> bool {
        if !self.interactive {
            return true;
        }
        match self.asker.as_mut().and_then(|a| a.ask(question)) {
            Some(answer) => answer.starts_with(['y', 'Y']),
            None => false,
        }
    }
}

/// Splits a line like `cmd.Cmd.parseline`: leading `?` means `help`; the command word is the
/// leading run of `[A-Za-z0-9_]`, the rest (trimmed) is the argument. None for an empty line;
/// Some((None, _)) when there is no command word (unknown syntax).
pub fn split_line(line: &str) -> Option<(Option<&str>, String)> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    if let Some(rest) = line.strip_prefix('?') {
        return Some((Some("help"), rest.trim().to_string()));
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    if end == 0 {
        return Some((None, String::new()));
    }
    Some((Some(&line[..end]), line[end..].trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_python_cmd() {
        assert_eq!(split_line("  "), None);
        assert_eq!(
            split_line(" status  a b "),
            Some((Some("status"), "a b".into()))
        );
        assert_eq!(split_line("?status"), Some((Some("help"), "status".into())));
        assert_eq!(split_line("!ls"), Some((None, String::new())));
        assert_eq!(split_line("st@tus"), Some((Some("st"), "@tus".into())));
        assert_eq!(split_line("status;"), Some((Some("status"), ";".into())));
    }
}
