//! Commands that change the set of groups: `reread`, `update`, `add` and `remove` (ctl.md §4,
//! §5.3). None of them runs the version check.

use super::{flags_and_words, has_method, words};
use crate::api::faults;
use crate::ctl::client::CallError;
use crate::ctl::controller::{exit, Controller};
use crate::ctl::format::{Changes, Outcome, ProcInfo};
use crate::ctl::names;
use crate::rpc::Value;

/// `supervisor.reloadConfigPlan`: rereads, and says what update would do per process.
const PLAN: &str = "supervisor.reloadConfigPlan";

/// One change of a plan (or of what `supervisor.updateProcessGroup` did).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    group: String,
    /// Empty for the group itself.
    name: String,
    action: String,
    changes: Vec<String>,
}

impl Step {
    fn list(v: &Value) -> Result<Vec<Step>, CallError> {
        let bad = || CallError::Other("the server sent an unexpected plan".into());
        let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
        v.as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|e| {
                let changes = e.get("changes").and_then(Value::as_array).ok_or_else(bad)?;
                Ok(Step {
                    group: text(e, "group").ok_or_else(bad)?,
                    name: text(e, "name").ok_or_else(bad)?,
                    action: text(e, "action").ok_or_else(bad)?,
                    changes: changes
                        .iter()
                        .filter_map(|c| c.as_str().map(str::to_string))
                        .collect(),
                })
            })
            .collect()
    }

    /// `group:name`, or the group.
    fn who(&self) -> String {
        if self.name.is_empty() {
            self.group.clone()
        } else {
            names::make(&self.group, &self.name)
        }
    }

    fn keys(&self) -> String {
        self.changes.join(", ")
    }

    /// reread's line under its group: what changed and whether it will restart.
    fn reread_line(&self) -> String {
        let (who, keys) = (self.who(), self.keys());
        match self.action.as_str() {
            "in place" => format!("  {who}: {keys} changed: applied in place, no restart"),
            "restart" => format!("  {who}: {keys} changed: will restart"),
            "add" => format!("  {who}: new: will be added"),
            "remove" => format!("  {who}: gone: will be stopped and removed"),
            "priority" => format!("  {who}: priority changed: moves in start order, no restart"),
            "replace group" => format!("  {who}: {keys} changed: the whole group will restart"),
            other => format!("  {who}: {other} ({keys})"),
        }
    }

    /// What `update` did (`done`) or would do.
    fn update_line(&self, done: bool) -> String {
        let (who, keys) = (self.who(), self.keys());
        let (did, would) = match self.action.as_str() {
            "in place" => ("updated in place", "would update in place"),
            "restart" => ("restarted", "would restart"),
            "add" => ("added", "would add"),
            "remove" => ("stopped and removed", "would stop and remove"),
            "priority" => ("moved in start order", "would move in start order"),
            "replace group" => (
                "stopped and restarted the whole group",
                "would stop and restart the whole group",
            ),
            "add group" => ("added process group", "would add process group"),
            "remove group" => (
                "removed process group",
                "would stop and remove process group",
            ),
            other => (other, other),
        };
        let what = if done { did } else { would };
        if keys.is_empty() {
            format!("{who}: {what}")
        } else {
            format!("{who}: {what} ({keys})")
        }
    }
}

/// The group lists of a plan, as reloadConfig gives them.
fn changes_of(plan: &[Step]) -> Changes {
    let mut c = Changes::default();
    for s in plan {
        let list = match s.action.as_str() {
            "add group" => &mut c.added,
            "remove group" => &mut c.removed,
            _ => &mut c.changed,
        };
        if !list.contains(&s.group) {
            list.push(s.group.clone());
        }
    }
    c
}

/// reloadConfig's group lists, and the plan when the server has one.
type Reread = (Changes, Option<Vec<Step>>);

/// Rereads: the plan when the server has `reloadConfigPlan`, else reloadConfig's lists.
/// None after a fault was reported.
fn reread_plan(ctl: &mut Controller, shutting: &str) -> Result<Option<Reread>, CallError> {
    let with_plan = has_method(ctl, PLAN)?;
    let method = if with_plan {
        PLAN
    } else {
        "supervisor.reloadConfig"
    };
    match ctl.call(method, &[]) {
        Ok(v) if with_plan => {
            let plan = Step::list(&v)?;
            Ok(Some((changes_of(&plan), Some(plan))))
        }
        Ok(v) => Ok(Some((Changes::from_value(&v)?, None))),
        Err(CallError::Fault { code, .. }) if code == faults::SHUTDOWN_STATE => {
            ctl.say(shutting);
            ctl.exit = exit::GENERIC;
            Ok(None)
        }
        Err(CallError::Fault { code, text }) if code == faults::CANT_REREAD => {
            ctl.say(&format!("ERROR: {text}"));
            ctl.exit = exit::GENERIC;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Supervisor's lines, and under each changed group (when the server says) what changed per
/// process and whether it will restart.
pub fn reread(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !arg.is_empty() {
        ctl.usage_error(
            "Error: reread accepts no arguments",
            "reread",
            exit::GENERIC,
        );
        return Ok(());
    }
    let Some((changes, plan)) = reread_plan(ctl, "ERROR: supervisor shutting down")? else {
        return Ok(());
    };
    let mut lines = Vec::new();
    for line in changes.summary() {
        let group = line.strip_suffix(": changed").map(str::to_string);
        lines.push(line);
        if let (Some(g), Some(plan)) = (group, &plan) {
            lines.extend(plan.iter().filter(|s| s.group == g).map(Step::reread_line));
        }
    }
    ctl.say(&lines.join("\n"));
    Ok(())
}

fn group(name: &str) -> [Value; 1] {
    [Value::String(name.to_string())]
}

pub fn update(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    let (flags, words) = flags_and_words("update", arg);
    let dry_run = flags.contains(&"--dry-run");
    let Some((changes, plan)) = reread_plan(ctl, "ERROR: already shutting down")? else {
        return Ok(());
    };
    let Changes {
        mut added,
        mut changed,
        mut removed,
    } = changes;
    let mut wanted: Vec<&str> = Vec::new();
    for n in words {
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
    if dry_run {
        for g in &removed {
            ctl.say(&format!("{g}: would stop and remove process group"));
        }
        for g in &changed {
            match &plan {
                Some(plan) => {
                    for s in plan.iter().filter(|s| &s.group == g) {
                        ctl.say(&s.update_line(false));
                    }
                }
                None => ctl.say(&format!("{g}: would stop and restart the whole group")),
            }
        }
        for g in &added {
            ctl.say(&format!("{g}: would add process group"));
        }
        return Ok(());
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
        if plan.is_some() {
            // Only what changed, by the server, which waits for the processes it stops.
            match ctl.call("supervisor.updateProcessGroup", &group(g)) {
                Ok(v) => {
                    for s in Step::list(&v)? {
                        ctl.say(&s.update_line(true));
                    }
                }
                Err(CallError::Fault { text, .. }) => {
                    ctl.say(&format!("{g}: ERROR ({text})"));
                    ctl.exit = exit::GENERIC;
                }
                Err(e) => return Err(e),
            }
            continue;
        }
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
