//! Commands that act on processes: `start`, `stop`, `restart`, `signal` and `clear` (ctl.md
//! §4, result lines §5.4, exit statuses §2).

use super::words;
use crate::api::faults;
use crate::ctl::client::CallError;
use crate::ctl::controller::{exit, Controller};
use crate::ctl::format::Outcome;
use crate::ctl::names;
use crate::rpc::Value;

/// One kind of action: its methods and how it words results.
struct Action {
    command: &'static str,
    all: &'static str,
    group: &'static str,
    one: &'static str,
    /// Word for success (`started`, `stopped`, `signalled`, `cleared`).
    done: &'static str,
    /// The fault code that does not change the exit status.
    ignored: Option<i64>,
    /// Exit status for an unknown group.
    no_group: i32,
}

const START: Action = Action {
    command: "start",
    all: "supervisor.startAllProcesses",
    group: "supervisor.startProcessGroup",
    one: "supervisor.startProcess",
    done: "started",
    ignored: Some(faults::ALREADY_STARTED),
    no_group: exit::INVALID_ARGS,
};

const STOP: Action = Action {
    command: "stop",
    all: "supervisor.stopAllProcesses",
    group: "supervisor.stopProcessGroup",
    one: "supervisor.stopProcess",
    done: "stopped",
    ignored: Some(faults::NOT_RUNNING),
    no_group: exit::GENERIC,
};

const SIGNAL: Action = Action {
    command: "signal",
    all: "supervisor.signalAllProcesses",
    group: "supervisor.signalProcessGroup",
    one: "supervisor.signalProcess",
    done: "signalled",
    ignored: None,
    no_group: exit::GENERIC,
};

/// The line for one result: `<ns>: started` or `<ns>: ERROR (<reason>)`. Codes Supervisor
/// does not expect for the action show the server's fault text (where 4.3 raised ValueError).
fn result_line(action: &Action, ns: &str, code: i64, description: &str) -> String {
    let reason = match code {
        faults::SUCCESS => return format!("{ns}: {}", action.done),
        faults::BAD_NAME => "no such process",
        faults::NO_FILE if action.command == "start" => "no such file",
        faults::NOT_EXECUTABLE if action.command == "start" => "file is not executable",
        faults::ALREADY_STARTED if action.command == "start" => "already started",
        faults::SPAWN_ERROR if action.command == "start" => "spawn error",
        faults::ABNORMAL_TERMINATION if action.command == "start" => "abnormal termination",
        faults::NOT_RUNNING if action.command != "start" => "not running",
        faults::BAD_SIGNAL if action.command != "start" => "bad signal name",
        // stop and signal print a FAILED fault's text as it is.
        faults::FAILED if action.command != "start" => return description.to_string(),
        _ => return format!("{ns}: ERROR ({description})"),
    };
    format!("{ns}: ERROR ({reason})")
}

fn report(ctl: &mut Controller, action: &Action, outcomes: &[Outcome]) {
    for o in outcomes {
        ctl.say(&result_line(
            action,
            &o.namespec(),
            o.status,
            &o.description,
        ));
        ctl.status_from_fault(o.status, action.ignored);
    }
}

/// Runs `action` over `names` with `extra` parameters after each name (the signal).
fn act(
    ctl: &mut Controller,
    action: &Action,
    names: &[&str],
    extra: &[Value],
) -> Result<(), CallError> {
    if names.contains(&"all") {
        let v = ctl.call(action.all, extra)?;
        let outcomes = Outcome::list(&v)?;
        report(ctl, action, &outcomes);
        return Ok(());
    }
    for &name in names {
        let (group, process) = names::split(name);
        let mut params = Vec::with_capacity(1 + extra.len());
        match process {
            None => {
                params.push(Value::String(group.to_string()));
                params.extend_from_slice(extra);
                match ctl.call(action.group, &params) {
                    Ok(v) => {
                        let outcomes = Outcome::list(&v)?;
                        report(ctl, action, &outcomes);
                    }
                    Err(CallError::Fault { code, .. }) if code == faults::BAD_NAME => {
                        ctl.say(&format!("{group}: ERROR (no such group)"));
                        ctl.exit = action.no_group;
                    }
                    Err(e) => return Err(e),
                }
            }
            Some(process) => {
                params.push(Value::String(name.to_string()));
                params.extend_from_slice(extra);
                let ns = names::make(group, process);
                match ctl.call(action.one, &params) {
                    // A server may answer startProcess("g:p") with an array, as for groups.
                    Ok(v @ Value::Array(_)) => {
                        let outcomes = Outcome::list(&v)?;
                        report(ctl, action, &outcomes);
                    }
                    Ok(_) => ctl.say(&format!("{ns}: {}", action.done)),
                    Err(CallError::Fault { code, text }) => {
                        ctl.say(&result_line(action, &ns, code, &text));
                        ctl.status_from_fault(code, action.ignored);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(())
}

pub fn start(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    if names.is_empty() {
        ctl.usage_error(
            "Error: start requires a process name",
            "start",
            exit::INVALID_ARGS,
        );
        return Ok(());
    }
    act(ctl, &START, &names, &[])
}

pub fn stop(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    if names.is_empty() {
        ctl.usage_error("Error: stop requires a process name", "stop", exit::GENERIC);
        return Ok(());
    }
    act(ctl, &STOP, &names, &[])
}

/// `stop` then `start` with the same arguments; each prints its own lines.
pub fn restart(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    if words(arg).is_empty() {
        ctl.usage_error(
            "Error: restart requires a process name",
            "restart",
            exit::GENERIC,
        );
        return Ok(());
    }
    stop(ctl, arg)?;
    start(ctl, arg)
}

pub fn signal(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args = words(arg);
    if args.len() < 2 {
        ctl.usage_error(
            "Error: signal requires a signal name and a process name",
            "signal",
            exit::GENERIC,
        );
        return Ok(());
    }
    act(
        ctl,
        &SIGNAL,
        &args[1..],
        &[Value::String(args[0].to_string())],
    )
}

pub fn clear(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    if names.is_empty() {
        ctl.usage_error(
            "Error: clear requires a process name",
            "clear",
            exit::GENERIC,
        );
        return Ok(());
    }
    let line = |ns: &str, code: i64, text: &str| match code {
        faults::SUCCESS => format!("{ns}: cleared"),
        faults::BAD_NAME => format!("{ns}: ERROR (no such process)"),
        faults::FAILED => format!("{ns}: ERROR (failed)"),
        _ => format!("{ns}: ERROR ({text})"),
    };
    if names.contains(&"all") {
        let outcomes = Outcome::list(&ctl.call("supervisor.clearAllProcessLogs", &[])?)?;
        for o in outcomes {
            ctl.say(&line(&o.namespec(), o.status, &o.description));
            ctl.status_from_fault(o.status, None);
        }
        return Ok(());
    }
    for name in names {
        // The name as split locally; `grp:*` is shown as typed (4.3 prints `grp:None`).
        let ns = match names::split(name) {
            (g, Some(p)) => names::make(g, p),
            (_, None) => name.to_string(),
        };
        match ctl.call("supervisor.clearProcessLogs", &[Value::String(name.into())]) {
            Ok(Value::Array(items)) => {
                let outcomes = Outcome::list(&Value::Array(items))?;
                for o in outcomes {
                    ctl.say(&line(&o.namespec(), o.status, &o.description));
                    ctl.status_from_fault(o.status, None);
                }
            }
            Ok(_) => ctl.say(&line(&ns, faults::SUCCESS, "")),
            Err(CallError::Fault { code, text }) => {
                ctl.say(&line(&ns, code, &text));
                ctl.status_from_fault(code, None);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_per_action() {
        assert_eq!(
            result_line(&START, "x", faults::SUCCESS, "OK"),
            "x: started"
        );
        assert_eq!(
            result_line(&START, "x", faults::NO_FILE, ""),
            "x: ERROR (no such file)"
        );
        assert_eq!(
            result_line(&START, "x", faults::SPAWN_ERROR, ""),
            "x: ERROR (spawn error)"
        );
        assert_eq!(
            result_line(&STOP, "g:p", faults::NOT_RUNNING, ""),
            "g:p: ERROR (not running)"
        );
        assert_eq!(
            result_line(&STOP, "x", faults::FAILED, "FAILED: boom"),
            "FAILED: boom"
        );
        assert_eq!(
            result_line(&SIGNAL, "x", faults::BAD_SIGNAL, ""),
            "x: ERROR (bad signal name)"
        );
        assert_eq!(
            result_line(
                &START,
                "x",
                faults::FAILED,
                "FAILED: x is in an unknown process state"
            ),
            "x: ERROR (FAILED: x is in an unknown process state)"
        );
    }
}
