//! Commands that act on processes: `start`, `stop`, `restart`, `signal` and `clear` (ctl.md
//! §4, result lines §5.4, exit statuses §2). start/stop/restart take `--no-wait` (the API's
//! wait=False) and run several arguments in parallel (`parallel`).

use super::parallel::{self, Report};
use super::{flags_and_words, has_method, words};
use crate::api::faults;
use crate::ctl::client::{CallError, Client};
use crate::ctl::controller::{exit, Controller};
use crate::ctl::format::{Outcome, ProcInfo};
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
    /// Word for success with `--no-wait`: the request was taken, the process is on its way.
    under_way: &'static str,
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
    under_way: "starting",
    ignored: Some(faults::ALREADY_STARTED),
    no_group: exit::INVALID_ARGS,
};

const STOP: Action = Action {
    command: "stop",
    all: "supervisor.stopAllProcesses",
    group: "supervisor.stopProcessGroup",
    one: "supervisor.stopProcess",
    done: "stopped",
    under_way: "stopping",
    ignored: Some(faults::NOT_RUNNING),
    no_group: exit::GENERIC,
};

const SIGNAL: Action = Action {
    command: "signal",
    all: "supervisor.signalAllProcesses",
    group: "supervisor.signalProcessGroup",
    one: "supervisor.signalProcess",
    done: "signalled",
    under_way: "signalled",
    ignored: None,
    no_group: exit::GENERIC,
};

/// restart in one call, with the start queued behind the stop by the server (our
/// supervisord's extension; Python's has no such methods).
const RESTART: Action = Action {
    command: "restart",
    all: "supervisor.restartAllProcesses",
    group: "supervisor.restartProcessGroup",
    one: "supervisor.restartProcess",
    done: "restarted",
    under_way: "restarting",
    ignored: None,
    no_group: exit::GENERIC,
};

/// One action as the command line asked for it.
struct Run<'a> {
    action: &'a Action,
    /// Parameters after the name: the signal, or `false` for `--no-wait`.
    extra: Vec<Value>,
    wait: bool,
    /// Name the stopped dependencies the start starts first (the server has
    /// `supervisor.getStartPlan`, an extension).
    plan: bool,
}

/// Our supervisord's extension: which stopped dependencies a start starts first.
const PLAN: &str = "supervisor.getStartPlan";

impl Run<'_> {
    fn plain(action: &Action) -> Run<'_> {
        Run {
            action,
            extra: Vec::new(),
            wait: true,
            plan: false,
        }
    }

    /// start or stop, waiting or not (the API's `wait` parameter; true is its default).
    fn waiting(action: &Action, wait: bool) -> Run<'_> {
        Run {
            action,
            extra: if wait {
                Vec::new()
            } else {
                vec![Value::Bool(false)]
            },
            wait,
            plan: false,
        }
    }

    fn done(&self) -> &'static str {
        if self.wait {
            self.action.done
        } else {
            self.action.under_way
        }
    }
}

/// The line for one result: `<ns>: started` or `<ns>: ERROR (<reason>)`. Codes Supervisor
/// does not expect for the action show the server's fault text (where 4.3 raised ValueError).
fn result_line(run: &Run, ns: &str, code: i64, description: &str) -> String {
    let command = run.action.command;
    // A restart in one call ends with a start, and its faults are a start's.
    let starts = command == "start" || command == "restart";
    let reason = match code {
        faults::SUCCESS => return format!("{ns}: {}", run.done()),
        faults::BAD_NAME => "no such process",
        faults::NO_FILE if starts => "no such file",
        faults::NOT_EXECUTABLE if starts => "file is not executable",
        faults::ALREADY_STARTED if starts => "already started",
        faults::SPAWN_ERROR if starts => "spawn error",
        faults::ABNORMAL_TERMINATION if starts => "abnormal termination",
        faults::NOT_RUNNING if !starts => "not running",
        faults::BAD_SIGNAL if !starts => "bad signal name",
        // stop and signal print a FAILED fault's text as it is.
        faults::FAILED if !starts => return description.to_string(),
        _ => return format!("{ns}: ERROR ({description})"),
    };
    format!("{ns}: ERROR ({reason})")
}

fn outcome_reports(run: &Run, outcomes: &[Outcome], out: &mut Vec<Report>) {
    for o in outcomes {
        out.push(Report::Line(result_line(
            run,
            &o.namespec(),
            o.status,
            &o.description,
        )));
        out.push(Report::Fault(o.status, run.action.ignored));
    }
}

/// The stopped dependencies a start of `name` starts first, as the server plans it (empty
/// for a name it faults: the start reports that).
fn start_plan(client: &mut Client, name: &str) -> Result<Vec<String>, CallError> {
    match client.call(PLAN, &[Value::String(name.to_string())]) {
        Ok(Value::Array(items)) => Ok(items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()),
        Ok(_) | Err(CallError::Fault { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// One line per dependency started first: `db: started (dependency of app)` once the start
/// has been waited for and db is RUNNING, `db: starting (...)` with `--no-wait`, and
/// `db: ERROR (FATAL, dependency of app)` with its state when it is not running.
fn plan_lines(
    client: &mut Client,
    run: &Run,
    of: &str,
    plan: &[String],
) -> Result<Vec<Report>, CallError> {
    let mut out = Vec::with_capacity(plan.len());
    for dep in plan {
        let line = if run.wait {
            let state = match client.call(
                "supervisor.getProcessInfo",
                &[Value::String(dep.to_string())],
            ) {
                Ok(v) => ProcInfo::from_value(&v)?.statename,
                Err(CallError::Fault { .. }) => "gone".to_string(),
                Err(e) => return Err(e),
            };
            if state == "RUNNING" {
                format!("{dep}: started (dependency of {of})")
            } else {
                format!("{dep}: ERROR ({state}, dependency of {of})")
            }
        } else {
            format!("{dep}: starting (dependency of {of})")
        };
        out.push(Report::Line(line));
    }
    Ok(out)
}

/// One call of `run` about one argument (`all`, `group:*` or a process) on `client`, after
/// the lines for the dependencies a start starts first (`run.plan`).
fn act_one(client: &mut Client, run: &Run, name: &str) -> Result<Vec<Report>, CallError> {
    // `all` starts every stopped process itself: no dependency is started first.
    let plan = if run.plan && name != "all" {
        start_plan(client, name)?
    } else {
        Vec::new()
    };
    let out = act_call(client, run, name)?;
    if plan.is_empty() {
        return Ok(out);
    }
    let of = match names::split(name) {
        (g, Some(p)) => names::make(g, p),
        (_, None) => name.to_string(),
    };
    let mut lines = plan_lines(client, run, &of, &plan)?;
    lines.extend(out);
    Ok(lines)
}

/// The call of `run` about one argument and the lines for its results.
fn act_call(client: &mut Client, run: &Run, name: &str) -> Result<Vec<Report>, CallError> {
    let action = run.action;
    let mut out = Vec::new();
    if name == "all" {
        let v = client.call(action.all, &run.extra)?;
        outcome_reports(run, &Outcome::list(&v)?, &mut out);
        return Ok(out);
    }
    let (group, process) = names::split(name);
    let mut params = Vec::with_capacity(1 + run.extra.len());
    match process {
        None => {
            params.push(Value::String(group.to_string()));
            params.extend_from_slice(&run.extra);
            match client.call(action.group, &params) {
                Ok(v) => outcome_reports(run, &Outcome::list(&v)?, &mut out),
                Err(CallError::Fault { code, .. }) if code == faults::BAD_NAME => {
                    out.push(Report::Line(format!("{group}: ERROR (no such group)")));
                    out.push(Report::Exit(action.no_group));
                }
                Err(e) => return Err(e),
            }
        }
        Some(process) => {
            params.push(Value::String(name.to_string()));
            params.extend_from_slice(&run.extra);
            let ns = names::make(group, process);
            match client.call(action.one, &params) {
                // A server may answer startProcess("g:p") with an array, as for groups.
                Ok(v @ Value::Array(_)) => outcome_reports(run, &Outcome::list(&v)?, &mut out),
                Ok(_) => out.push(Report::Line(format!("{ns}: {}", run.done()))),
                Err(CallError::Fault { code, text }) => {
                    out.push(Report::Line(result_line(run, &ns, code, &text)));
                    out.push(Report::Fault(code, action.ignored));
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(out)
}

/// The arguments as jobs: `all` anywhere means just `all`, as in Supervisor.
fn targets<'a>(names: &[&'a str]) -> Vec<&'a str> {
    if names.contains(&"all") {
        vec!["all"]
    } else {
        names.to_vec()
    }
}

/// Runs `runs` in order for every argument; the arguments run in parallel.
fn act(ctl: &mut Controller, runs: &[Run], names: &[&str]) -> Result<(), CallError> {
    let job = |client: &mut Client,
               name: &str,
               report: &mut dyn FnMut(Vec<Report>)|
     -> Result<(), CallError> {
        for run in runs {
            report(act_one(client, run, name)?);
        }
        Ok(())
    };
    parallel::run(ctl, &targets(names), &job)
}

/// `words` once the server passed `upcheck` and there are at least `min` of them; None once
/// a failed upcheck or the usage error `Error: <command> requires <what>` (exit `status`)
/// was reported.
pub(super) fn enough_words<'a>(
    ctl: &mut Controller,
    command: &str,
    words: Vec<&'a str>,
    (min, what): (usize, &str),
    status: i32,
) -> Result<Option<Vec<&'a str>>, CallError> {
    if !ctl.upcheck()? {
        return Ok(None);
    }
    if words.len() < min {
        ctl.usage_error(
            &format!("Error: {command} requires {what}"),
            command,
            status,
        );
        return Ok(None);
    }
    Ok(Some(words))
}

/// `start`, `stop` or `restart` with its `--no-wait` flag and the names; None after a usage
/// error.
fn parse<'a>(
    ctl: &mut Controller,
    command: &str,
    arg: &'a str,
    status: i32,
) -> Result<Option<(bool, Vec<&'a str>)>, CallError> {
    let (flags, names) = flags_and_words(command, arg);
    let names = enough_words(ctl, command, names, (1, "a process name"), status)?;
    Ok(names.map(|names| (!flags.contains(&"--no-wait"), names)))
}

pub fn start(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    match parse(ctl, "start", arg, exit::INVALID_ARGS)? {
        Some((wait, names)) => {
            let run = Run {
                plan: has_method(ctl, PLAN)?,
                ..Run::waiting(&START, wait)
            };
            act(ctl, &[run], &names)
        }
        None => Ok(()),
    }
}

pub fn stop(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    match parse(ctl, "stop", arg, exit::GENERIC)? {
        Some((wait, names)) => act(ctl, &[Run::waiting(&STOP, wait)], &names),
        None => Ok(()),
    }
}

/// `stop` then `start` for each argument; each prints its own lines. Arguments run in
/// parallel, so one slow stop does not hold back the others' starts (#723). With `--no-wait`
/// a server that has `supervisor.restartProcess` queues each start behind its stop and the
/// command returns at once; against another (Python's supervisord, whose API can start a
/// process only once it has stopped) only the starts are not waited for.
pub fn restart(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    match parse(ctl, "restart", arg, exit::GENERIC)? {
        Some((false, names)) if has_method(ctl, RESTART.one)? => {
            act(ctl, &[Run::waiting(&RESTART, false)], &names)
        }
        Some((wait, names)) => act(
            ctl,
            &[Run::waiting(&STOP, true), Run::waiting(&START, wait)],
            &names,
        ),
        None => Ok(()),
    }
}

pub fn signal(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    let need = (2, "a signal name and a process name");
    let Some(args) = enough_words(ctl, "signal", words(arg), need, exit::GENERIC)? else {
        return Ok(());
    };
    let run = Run {
        extra: vec![Value::String(args[0].to_string())],
        ..Run::plain(&SIGNAL)
    };
    // Signals are delivered at once: the arguments go one after the other, in order.
    for name in targets(&args[1..]) {
        let reports = act_one(&mut ctl.client, &run, name)?;
        parallel::apply(ctl, reports);
    }
    Ok(())
}

pub fn clear(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    let need = (1, "a process name");
    let Some(names) = enough_words(ctl, "clear", words(arg), need, exit::GENERIC)? else {
        return Ok(());
    };
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
        use faults::{BAD_SIGNAL, FAILED, NOT_RUNNING, NO_FILE, SPAWN_ERROR, SUCCESS};
        let (start, stop, signal) = (Run::plain(&START), Run::plain(&STOP), Run::plain(&SIGNAL));
        let (starting, stopping) = (Run::waiting(&START, false), Run::waiting(&STOP, false));
        let restart = Run::waiting(&RESTART, false);
        let unknown = "FAILED: x is in an unknown process state";
        let unknown_line = "x: ERROR (FAILED: x is in an unknown process state)";
        for (run, ns, code, text, want) in [
            (&start, "x", SUCCESS, "OK", "x: started"),
            (&starting, "x", SUCCESS, "OK", "x: starting"),
            (&stopping, "g:p", SUCCESS, "OK", "g:p: stopping"),
            (&stopping, "x", NOT_RUNNING, "", "x: ERROR (not running)"),
            (&start, "x", NO_FILE, "", "x: ERROR (no such file)"),
            (&start, "x", SPAWN_ERROR, "", "x: ERROR (spawn error)"),
            (&stop, "g:p", NOT_RUNNING, "", "g:p: ERROR (not running)"),
            (&stop, "x", FAILED, "FAILED: boom", "FAILED: boom"),
            (&signal, "x", BAD_SIGNAL, "", "x: ERROR (bad signal name)"),
            (&start, "x", FAILED, unknown, unknown_line),
            (&restart, "x", SUCCESS, "OK", "x: restarting"),
            (
                &restart,
                "x",
                NO_FILE,
                "NO_FILE: /x",
                "x: ERROR (no such file)",
            ),
            (
                &restart,
                "x",
                FAILED,
                "FAILED: kill",
                "x: ERROR (FAILED: kill)",
            ),
        ] {
            let line = result_line(run, ns, code, text);
            assert_eq!(line, want, "{ns} {code} {text:?}");
        }
        assert_eq!(targets(&["a", "all", "b"]), ["all"]);
        assert_eq!(targets(&["a", "g:*"]), ["a", "g:*"]);
    }
}
