//! Commands that change the set of groups: `reread`, `update`, `add` and `remove` (ctl.md §4,
//! §5.3). None of them runs the version check.

use super::words;
use crate::api::faults;
use crate::ctl::client::CallError;
use crate::ctl::controller::{exit, Controller};
use crate::ctl::format::{Changes, Outcome, ProcInfo};
use crate::rpc::Value;

pub fn reread(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !arg.is_empty() {
        ctl.usage_error(
            "Error: reread accepts no arguments",
            "reread",
            exit::GENERIC,
        );
        return Ok(());
    }
    match ctl.call("supervisor.reloadConfig", &[]) {
        Ok(v) => {
            let lines = Changes::from_value(&v)?.summary();
            ctl.say(&lines.join("\n"));
        }
        Err(CallError::Fault { code, .. }) if code == faults::SHUTDOWN_STATE => {
            ctl.say("ERROR: supervisor shutting down");
            ctl.exit = exit::GENERIC;
        }
        Err(CallError::Fault { code, text }) if code == faults::CANT_REREAD => {
            ctl.say(&format!("ERROR: {text}"));
            ctl.exit = exit::GENERIC;
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

fn group(name: &str) -> [Value; 1] {
    [Value::String(name.to_string())]
}

pub fn update(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    let changes = match ctl.call("supervisor.reloadConfig", &[]) {
        Ok(v) => Changes::from_value(&v)?,
        Err(CallError::Fault { code, .. }) if code == faults::SHUTDOWN_STATE => {
            ctl.say("ERROR: already shutting down");
            ctl.exit = exit::GENERIC;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let Changes {
        mut added,
        mut changed,
        mut removed,
    } = changes;
    let mut wanted: Vec<&str> = Vec::new();
    for n in words(arg) {
        if !wanted.contains(&n) {
            wanted.push(n);
        }
    }
    if !wanted.is_empty() && !wanted.contains(&"all") {
        let infos = ProcInfo::list(&ctl.call("supervisor.getAllProcessInfo", &[])?)?;
        for name in &wanted {
            let known = infos.iter().any(|i| i.group == *name) || added.iter().any(|g| g == name);
            if !known {
                ctl.say(&format!("ERROR: no such group: {name}"));
                ctl.exit = exit::GENERIC;
            }
        }
        for list in [&mut added, &mut changed, &mut removed] {
            list.retain(|g| wanted.contains(&g.as_str()));
        }
    }
    for g in &removed {
        let results = Outcome::list(&ctl.call("supervisor.stopProcessGroup", &group(g))?)?;
        ctl.say(&format!("{g}: stopped"));
        if results.iter().any(|r| r.status == faults::FAILED) {
            ctl.say(&format!("{g}: has problems; not removing"));
            ctl.exit = exit::GENERIC;
            continue;
        }
        ctl.call("supervisor.removeProcessGroup", &group(g))?;
        ctl.say(&format!("{g}: removed process group"));
    }
    for g in &changed {
        ctl.call("supervisor.stopProcessGroup", &group(g))?;
        ctl.say(&format!("{g}: stopped"));
        ctl.call("supervisor.removeProcessGroup", &group(g))?;
        ctl.call("supervisor.addProcessGroup", &group(g))?;
        ctl.say(&format!("{g}: updated process group"));
    }
    for g in &added {
        ctl.call("supervisor.addProcessGroup", &group(g))?;
        ctl.say(&format!("{g}: added process group"));
    }
    Ok(())
}

pub fn add(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    for name in words(arg) {
        match ctl.call("supervisor.addProcessGroup", &group(name)) {
            Ok(_) => ctl.say(&format!("{name}: added process group")),
            // Already active is not an error for the exit status (T5).
            Err(CallError::Fault { code, .. }) if code == faults::ALREADY_ADDED => {
                ctl.say("ERROR: process group already active");
            }
            Err(CallError::Fault { code, .. }) if code == faults::BAD_NAME => {
                ctl.say(&format!("ERROR: no such process/group: {name}"));
                ctl.exit = exit::GENERIC;
            }
            Err(CallError::Fault { code, .. }) if code == faults::SHUTDOWN_STATE => {
                ctl.say("ERROR: shutting down");
                ctl.exit = exit::GENERIC;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub fn remove(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    for name in words(arg) {
        match ctl.call("supervisor.removeProcessGroup", &group(name)) {
            Ok(_) => ctl.say(&format!("{name}: removed process group")),
            Err(CallError::Fault { code, .. }) if code == faults::STILL_RUNNING => {
                ctl.say(&format!("ERROR: process/group still running: {name}"));
                ctl.exit = exit::GENERIC;
            }
            Err(CallError::Fault { code, .. }) if code == faults::BAD_NAME => {
                ctl.say(&format!("ERROR: no such process/group: {name}"));
                ctl.exit = exit::GENERIC;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
