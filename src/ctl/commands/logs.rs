//! `tail` and `maintail` (ctl.md §4): the last bytes of a process log or the main log through
//! `read*Log`, or a continuous follow over HTTP with `-f`.

use super::follow::follow_to_stdout;
use super::words;
use crate::api::faults;
use crate::ctl::client::CallError;
use crate::ctl::controller::{exit, Controller};
use crate::rpc::Value;
use crate::text::py_int;

const DEFAULT_BYTES: i64 = 1600;

/// A `-f` or `-<N>` modifier.
enum Modifier {
    Follow,
    Bytes(i64),
}

/// Reads `-f` / `-N` (without the dash): None if it is neither.
fn modifier(what: &str) -> Option<Modifier> {
    if what == "f" {
        return Some(Modifier::Follow);
    }
    // i64::MIN has no negation to send.
    py_int(what, 10)
        .ok()
        .filter(|n| *n != i64::MIN)
        .map(Modifier::Bytes)
}

/// Prints the text a read*Log call returned, followed by a newline as Supervisor does.
fn print_log(ctl: &Controller, v: &Value) {
    ctl.say(v.as_str().unwrap_or_default());
}

pub fn tail(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let mut args = words(arg);
    if args.is_empty() {
        ctl.usage_error("Error: too few arguments", "tail", exit::GENERIC);
        return Ok(());
    }
    if args.len() > 3 {
        ctl.usage_error("Error: too many arguments", "tail", exit::GENERIC);
        return Ok(());
    }
    let mut mode = Modifier::Bytes(DEFAULT_BYTES);
    if args[0].starts_with('-') {
        let m = args.remove(0);
        match modifier(&m[1..]) {
            Some(parsed) => mode = parsed,
            None => {
                ctl.say(&format!("Error: bad argument {m}"));
                ctl.exit = exit::GENERIC;
                return Ok(());
            }
        }
    }
    // One word: the name; more: the first is the name and the last the channel.
    let (name, channel) = match args.as_slice() {
        [] => {
            ctl.say("Error: tail requires process name");
            ctl.exit = exit::GENERIC;
            return Ok(());
        }
        [name] => (*name, "stdout".to_string()),
        [name, .., channel] => (*name, channel.to_lowercase()),
    };
    if channel != "stdout" && channel != "stderr" {
        ctl.say(&format!("Error: bad channel '{channel}'"));
        ctl.exit = exit::GENERIC;
        return Ok(());
    }
    let bytes = match mode {
        Modifier::Follow => {
            // The name goes into the path as typed, like Supervisor.
            let path = format!("/logtail/{name}/{channel}");
            if !follow_to_stdout(&ctl.client.server, &path) {
                ctl.exit = exit::GENERIC;
            }
            return Ok(());
        }
        Modifier::Bytes(n) => n,
    };
    let method = if channel == "stdout" {
        "supervisor.readProcessStdoutLog"
    } else {
        "supervisor.readProcessStderrLog"
    };
    let params = [
        Value::String(name.to_string()),
        Value::Int(-bytes),
        Value::Int(0),
    ];
    match ctl.call(method, &params) {
        Ok(v) => print_log(ctl, &v),
        Err(CallError::Fault { code, .. })
            if matches!(code, faults::NO_FILE | faults::FAILED | faults::BAD_NAME) =>
        {
            let why = match code {
                faults::NO_FILE => "no log file",
                faults::FAILED => "unknown error reading log",
                _ => "no such process name",
            };
            ctl.say(&format!("{name}: ERROR ({why})"));
            ctl.exit = exit::GENERIC;
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

pub fn maintail(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args = words(arg);
    if args.len() > 1 {
        ctl.usage_error("Error: too many arguments", "maintail", exit::GENERIC);
        return Ok(());
    }
    let mut bytes = DEFAULT_BYTES;
    if let Some(&a) = args.first() {
        match a.strip_prefix('-').and_then(modifier) {
            Some(Modifier::Follow) => {
                if !follow_to_stdout(&ctl.client.server, "/mainlogtail") {
                    ctl.exit = exit::GENERIC;
                }
                return Ok(());
            }
            Some(Modifier::Bytes(n)) => bytes = n,
            None => {
                ctl.say(&format!("Error: bad argument {a}"));
                ctl.exit = exit::GENERIC;
                return Ok(());
            }
        }
    }
    match ctl.call("supervisor.readLog", &[Value::Int(-bytes), Value::Int(0)]) {
        Ok(v) => print_log(ctl, &v),
        Err(CallError::Fault { code, .. }) if code == faults::NO_FILE || code == faults::FAILED => {
            let why = if code == faults::NO_FILE {
                "no log file"
            } else {
                "unknown error reading log"
            };
            ctl.say(&format!("supervisord: ERROR ({why})"));
            ctl.exit = exit::GENERIC;
        }
        Err(e) => return Err(e),
    }
    Ok(())
}
