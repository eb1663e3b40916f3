//! Commands that only look: `status`, `pid` and `avail` (ctl.md §4).

use super::words;
use crate::api::faults;
use crate::ctl::client::CallError;
use crate::ctl::controller::{exit, Controller};
use crate::ctl::format::{avail_lines, status_table, ProcInfo};
use crate::ctl::names;
use crate::rpc::Value;

pub fn status(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !ctl.upcheck()? {
        ctl.exit = exit::STATUS_UNKNOWN;
        return Ok(());
    }
    let infos = ProcInfo::list(&ctl.call("supervisor.getAllProcessInfo", &[])?)?;
    let names = words(arg);
    let mut shown: Vec<&ProcInfo> = Vec::new();
    let mut bad_name = false;
    if names.is_empty() || names.contains(&"all") {
        shown.extend(infos.iter());
    } else {
        // Errors come first, then the matches in the order of the names given.
        for name in names {
            let (group, process) = names::split(name);
            let before = shown.len();
            shown.extend(
                infos
                    .iter()
                    .filter(|i| i.group == group && process.is_none_or(|p| i.name == p)),
            );
            if shown.len() == before {
                bad_name = true;
                match process {
                    None => ctl.say(&format!("{group}: ERROR (no such group)")),
                    Some(_) => ctl.say(&format!("{name}: ERROR (no such process)")),
                }
            }
        }
    }
    if !shown.is_empty() {
        ctl.say(&status_table(&shown).join("\n"));
    }
    ctl.exit = if shown.iter().any(|i| i.is_down()) {
        exit::STATUS_NOT_RUNNING
    } else if bad_name {
        exit::STATUS_UNKNOWN
    } else {
        exit::SUCCESS
    };
    Ok(())
}

pub fn pid(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    if names.is_empty() {
        let pid = ctl.call("supervisor.getPID", &[])?;
        ctl.say(&show(&pid));
    } else if names.contains(&"all") {
        let infos = ProcInfo::list(&ctl.call("supervisor.getAllProcessInfo", &[])?)?;
        for i in infos {
            ctl.say(&i.pid.to_string());
        }
    } else {
        for name in names {
            match ctl.call("supervisor.getProcessInfo", &[Value::String(name.into())]) {
                Ok(v) => {
                    let pid = ProcInfo::from_value(&v)?.pid;
                    ctl.say(&pid.to_string());
                    if pid == 0 {
                        ctl.exit = exit::NOT_RUNNING;
                    }
                }
                Err(CallError::Fault { code, .. }) if code == faults::BAD_NAME => {
                    ctl.say(&format!("No such process {name}"));
                    ctl.exit = exit::GENERIC;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

pub fn avail(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !arg.is_empty() {
        ctl.usage_error("Error: avail accepts no arguments", "avail", exit::GENERIC);
        return Ok(());
    }
    match ctl.call("supervisor.getAllConfigInfo", &[]) {
        Ok(v) => {
            let lines = avail_lines(&v)?;
            if !lines.is_empty() {
                ctl.say(&lines.join("\n"));
            }
        }
        Err(CallError::Fault { code, .. }) if code == faults::SHUTDOWN_STATE => {
            ctl.say("ERROR: supervisor shutting down");
            ctl.exit = exit::GENERIC;
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// A scalar answer as Python's `str()` would print it.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        other => format!("{other:?}"),
    }
}
