//! Attaching the terminal to a running process: Supervisor's `fg` (ctl.md §7.2) and our
//! `debug`. Lines typed go to the process' stdin (sendProcessStdin); its stdout and stderr are
//! followed over `/logtail` by two threads; Ctrl-C or Ctrl-D detaches and never signals the
//! process. Unlike 4.3's `fg` the followers are stopped on exit (no hang, T10) and stderr is
//! shown in red when stdout is a terminal.

use super::follow::{to_stdout, Follow, OpenError};
use super::words;
use crate::api::faults;
use crate::ctl::client::{CallError, Server};
use crate::ctl::controller::{exit, Controller};
use crate::ctl::format::{ProcInfo, RUNNING};
use crate::ctl::http::Stream;
use crate::ctl::interrupt;
use crate::ctl::term::{self, Line};
use crate::rpc::Value;
use std::thread::JoinHandle;
use std::time::Duration;

const RED: &[u8] = b"\x1b[31m";
const RESET: &[u8] = b"\x1b[0m";

/// How often `debug` checks that the process still runs while nothing is typed.
const STATE_CHECK: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Fg,
    Debug,
}

/// The two log followers.
struct Followers {
    running: Vec<(Option<Stream>, JoinHandle<()>)>,
}

impl Followers {
    /// `merged`: stderr goes to the stdout log (redirect_stderr), so only stdout is followed.
    fn start(server: &Server, name: &str, ns: &str, style: Style, merged: bool) -> Followers {
        let color = term::stdout_is_tty();
        let mut running = Vec::new();
        if merged {
            to_stdout(
                format!(
                    "==> {ns} has redirect_stderr=true: its stderr is merged into the stdout \
                     shown here <==\n"
                )
                .as_bytes(),
            );
        }
        for channel in ["stdout", "stderr"] {
            if merged && channel == "stderr" {
                continue;
            }
            let path = format!("/logtail/{name}/{channel}");
            let follow = match Follow::open(server, &path) {
                Ok(f) => f,
                Err(OpenError::Status(404)) if style == Style::Debug => {
                    to_stdout(
                        format!(
                            "==> {ns} has no {channel} log file: its {channel} is not shown <==\n"
                        )
                        .as_bytes(),
                    );
                    continue;
                }
                Err(e) => {
                    eprintln!("{}", e.message(server, &path));
                    continue;
                }
            };
            let stopper = follow.stopper();
            let red = color && channel == "stderr";
            let handle = std::thread::spawn(move || {
                // The follow ends when the socket is shut down or the server closes it.
                let _ = follow.pump(|piece| {
                    if red {
                        let mut marked = Vec::with_capacity(piece.len() + 9);
                        marked.extend_from_slice(RED);
                        marked.extend_from_slice(piece);
                        marked.extend_from_slice(RESET);
                        to_stdout(&marked)
                    } else {
                        to_stdout(piece)
                    }
                });
            });
            running.push((stopper, handle));
        }
        Followers { running }
    }

    fn stop(self) {
        for (stopper, handle) in self.running {
            if let Some(s) = stopper {
                s.shutdown();
            }
            let _ = handle.join();
        }
    }
}

/// How an attachment ended.
enum End {
    /// Ctrl-C or Ctrl-D.
    Detached { interrupted: bool },
    /// The process is no longer running (its statename and description).
    Gone(String),
    /// sendProcessStdin failed with this fault text.
    Fault(String),
    /// Another failure talking to the server.
    Error(CallError),
}

/// Looks the process up; None (after printing why) if it cannot be attached to.
fn check(ctl: &mut Controller, name: &str, style: Style) -> Result<Option<ProcInfo>, CallError> {
    let info = match ctl.call("supervisor.getProcessInfo", &[Value::String(name.into())]) {
        Ok(v) => ProcInfo::from_value(&v)?,
        Err(CallError::Fault { code, text }) => {
            let msg = match (style, code) {
                (Style::Fg, faults::BAD_NAME) => "ERROR: bad process name supplied".to_string(),
                (Style::Debug, faults::BAD_NAME) => format!("ERROR: no such process: {name}"),
                _ => format!("ERROR: {text}"),
            };
            ctl.say(&msg);
            ctl.exit = exit::GENERIC;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if info.state != RUNNING {
        match style {
            Style::Fg => {
                ctl.say("ERROR: process not running");
                ctl.exit = exit::GENERIC;
            }
            Style::Debug => {
                ctl.say(&format!(
                    "ERROR: {} is not running ({}); debug attaches only to a running process",
                    info.namespec(),
                    info.statename
                ));
                ctl.exit = exit::NOT_RUNNING;
            }
        }
        return Ok(None);
    }
    Ok(Some(info))
}

/// Whether the process' stderr is written to its stdout log (`redirect_stderr=true`), as
/// getAllConfigInfo reports it; false when the server cannot say.
fn stderr_merged(ctl: &mut Controller, info: &ProcInfo) -> bool {
    let Ok(Value::Array(all)) = ctl.call("supervisor.getAllConfigInfo", &[]) else {
        return false;
    };
    let is = |c: &Value, key: &str, want: &str| c.get(key).and_then(Value::as_str) == Some(want);
    all.iter().any(|c| {
        is(c, "group", &info.group)
            && is(c, "name", &info.name)
            && c.get("redirect_stderr") == Some(&Value::Bool(true))
    })
}

/// The state of the process now: None while it runs, else a description of how it is.
fn gone(ctl: &mut Controller, name: &str) -> Result<Option<String>, CallError> {
    let info = ProcInfo::from_value(
        &ctl.call("supervisor.getProcessInfo", &[Value::String(name.into())])?,
    )?;
    if info.state == RUNNING {
        return Ok(None);
    }
    Ok(Some(if info.description.is_empty() {
        info.statename
    } else {
        format!("{}: {}", info.statename, info.description)
    }))
}

/// Forwards typed lines until the user detaches or the process goes away.
fn forward(ctl: &mut Controller, name: &str, style: Style) -> End {
    loop {
        let timeout = (style == Style::Debug).then_some(STATE_CHECK);
        let line = match term::read_line(timeout) {
            Ok(Line::Text(l)) => l,
            Ok(Line::Eof) => return End::Detached { interrupted: false },
            Ok(Line::Interrupted) => return End::Detached { interrupted: true },
            Ok(Line::TimedOut) => match gone(ctl, name) {
                Ok(None) => continue,
                Ok(Some(state)) => return End::Gone(state),
                Err(e) => return End::Error(e),
            },
            Err(e) => return End::Error(CallError::Other(format!("reading stdin: {e}"))),
        };
        let params = [
            Value::String(name.into()),
            Value::String(format!("{line}\n")),
        ];
        match ctl.call("supervisor.sendProcessStdin", &params) {
            Ok(_) => {}
            Err(CallError::Fault { code, .. }) if code == faults::NOT_RUNNING => {
                return End::Gone(gone(ctl, name).ok().flatten().unwrap_or_default())
            }
            Err(CallError::Fault { text, .. }) => return End::Fault(text),
            Err(CallError::Interrupted) => return End::Detached { interrupted: true },
            Err(e) => return End::Error(e),
        }
        // Supervisor's fg checks the state after every line.
        match gone(ctl, name) {
            Ok(None) => {}
            Ok(Some(state)) => return End::Gone(state),
            Err(e) => return End::Error(e),
        }
    }
}

fn attach(ctl: &mut Controller, arg: &str, style: Style) -> Result<(), CallError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args = words(arg);
    let command = if style == Style::Fg { "fg" } else { "debug" };
    match args.len() {
        0 => {
            ctl.usage_error("ERROR: no process name supplied", command, exit::GENERIC);
            return Ok(());
        }
        1 => {}
        _ => {
            ctl.say("ERROR: too many process names supplied");
            ctl.exit = exit::GENERIC;
            return Ok(());
        }
    }
    let name = args[0];
    let Some(info) = check(ctl, name, style)? else {
        return Ok(());
    };
    let ns = info.namespec();
    if let Err(e) = interrupt::enable() {
        return Err(CallError::Other(format!("cannot catch Ctrl-C: {e}")));
    }
    match style {
        Style::Fg => ctl.say("==> Press Ctrl-C to exit <=="),
        Style::Debug => ctl.say(&format!(
            "==> Attached to {ns} (pid {}): lines you type go to its stdin; Ctrl-C or Ctrl-D \
             detaches <==",
            info.pid
        )),
    }
    let merged = style == Style::Debug && stderr_merged(ctl, &info);
    let followers = Followers::start(&ctl.client.server, name, &ns, style, merged);
    let end = forward(ctl, name, style);
    if matches!(end, End::Gone(_)) {
        // Let the last output of an exiting process reach the followers.
        std::thread::sleep(Duration::from_millis(200));
    }
    followers.stop();
    interrupt::clear();
    let interrupted_on_tty =
        matches!(end, End::Detached { interrupted: true }) && term::stdin_is_tty();
    if interrupted_on_tty {
        // Keep the message off the line where the terminal echoed ^C.
        ctl.say("");
    }
    match (style, end) {
        (Style::Fg, End::Detached { .. }) => ctl.say("Exiting foreground"),
        (Style::Fg, End::Gone(_)) => ctl.say("Process got killed\nExiting foreground"),
        (Style::Fg, End::Fault(text)) => ctl.say(&format!("ERROR: {text}\nExiting foreground")),
        (Style::Debug, End::Detached { .. }) => {
            ctl.say(&format!("==> Detached from {ns}; it keeps running <=="))
        }
        (Style::Debug, End::Gone(state)) => {
            ctl.say(&format!(
                "==> {ns} is no longer running ({state}); detached <=="
            ));
        }
        (Style::Debug, End::Fault(text)) => {
            ctl.say(&format!("ERROR: {text}\n==> Detached from {ns} <=="));
            ctl.exit = exit::GENERIC;
        }
        (_, End::Error(e)) => return Err(e),
    }
    Ok(())
}

pub fn fg(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    attach(ctl, arg, Style::Fg)
}

pub fn debug(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    attach(ctl, arg, Style::Debug)
}
