//! Commands that only look: `status`, `pid` and `avail` (ctl.md §4), as tables or, with
//! `--json`, as the status document (`api::statusdoc`).

use super::flags_and_words;
use crate::api::faults;
use crate::api::statusdoc::{self, Miss};
use crate::ctl::client::CallError;
use crate::ctl::controller::{exit, Controller};
use crate::ctl::format::{array, avail_lines, status_table, ProcInfo};
use crate::ctl::names;
use crate::rpc::Value;

pub fn status(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    let (flags, names) = flags_and_words("status", arg);
    ctl.json = flags.contains(&"--json");
    if !ctl.upcheck()? {
        ctl.exit = exit::STATUS_UNKNOWN;
        return Ok(());
    }
    let all = ctl.call("supervisor.getAllProcessInfo", &[])?;
    let values = array(&all)?;
    let infos = ProcInfo::list(&all)?;
    // Indices into `infos` of what is shown.
    let mut shown: Vec<usize> = Vec::new();
    let mut misses = Vec::new();
    if names.is_empty() || names.contains(&"all") {
        shown.extend(0..infos.len());
    } else {
        // Errors come first, then the matches in the order of the names given.
        for name in names {
            let (group, process) = names::split(name);
            let before = shown.len();
            shown.extend(
                infos
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| i.group == group && process.is_none_or(|p| i.name == p))
                    .map(|(n, _)| n),
            );
            if shown.len() == before {
                let (shown_as, error) = match process {
                    None => (group, "no such group"),
                    Some(_) => (name, "no such process"),
                };
                if !ctl.json {
                    ctl.say(&format!("{shown_as}: ERROR ({error})"));
                }
                misses.push(Miss {
                    name: name.to_string(),
                    error: error.to_string(),
                });
            }
        }
    }
    if ctl.json {
        let picked: Vec<Value> = shown.iter().map(|&n| values[n].clone()).collect();
        ctl.print_json(&statusdoc::document(&picked, &misses));
    } else if !shown.is_empty() {
        let rows: Vec<&ProcInfo> = shown.iter().map(|&n| &infos[n]).collect();
        ctl.say(&status_table(&rows).join("\n"));
    }
    ctl.exit = if shown.iter().any(|&n| infos[n].is_down()) {
        exit::STATUS_NOT_RUNNING
    } else if !misses.is_empty() {
        exit::STATUS_UNKNOWN
    } else {
        exit::SUCCESS
    };
    Ok(())
}

pub fn pid(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    let (flags, names) = flags_and_words("pid", arg);
    ctl.json = flags.contains(&"--json");
    if !ctl.upcheck()? {
        return Ok(());
    }
    if names.is_empty() {
        let pid = ctl.call("supervisor.getPID", &[])?;
        if ctl.json {
            ctl.print_json(&Value::Struct(vec![(
                "supervisord".into(),
                Value::Struct(vec![("pid".into(), pid)]),
            )]));
        } else {
            ctl.say(&show(&pid));
        }
    } else if names.contains(&"all") {
        let all = ctl.call("supervisor.getAllProcessInfo", &[])?;
        if ctl.json {
            ctl.print_json(&statusdoc::document(array(&all)?, &[]));
        } else {
            for i in ProcInfo::list(&all)? {
                ctl.say(&i.pid.to_string());
            }
        }
    } else {
        let mut found = Vec::new();
        let mut misses = Vec::new();
        for name in names {
            match ctl.call("supervisor.getProcessInfo", &[Value::String(name.into())]) {
                Ok(v) => {
                    let pid = ProcInfo::from_value(&v)?.pid;
                    if !ctl.json {
                        ctl.say(&pid.to_string());
                    }
                    found.push(v);
                    if pid == 0 {
                        ctl.exit = exit::NOT_RUNNING;
                    }
                }
                Err(CallError::Fault { code, .. }) if code == faults::BAD_NAME => {
                    if !ctl.json {
                        ctl.say(&format!("No such process {name}"));
                    }
                    misses.push(Miss {
                        name: name.to_string(),
                        error: "no such process".to_string(),
                    });
                    ctl.exit = exit::GENERIC;
                }
                Err(e) => return Err(e),
            }
        }
        if ctl.json {
            ctl.print_json(&statusdoc::document(&found, &misses));
        }
    }
    Ok(())
}

pub fn avail(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    let (flags, names) = flags_and_words("avail", arg);
    ctl.json = flags.contains(&"--json");
    if !names.is_empty() {
        ctl.usage_error("Error: avail accepts no arguments", "avail", exit::GENERIC);
        return Ok(());
    }
    match ctl.call("supervisor.getAllConfigInfo", &[]) {
        Ok(v) if ctl.json => ctl.print_json(&statusdoc::document(array(&v)?, &[])),
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
