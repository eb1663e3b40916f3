//! Update only what changed (an extension, issue #19 item 1): `supervisor.reloadConfigPlan`
//! rereads and says what `update` would do per process, `supervisor.updateProcessGroup`
//! does it for one changed group. `reloadConfig`, `addProcessGroup` and
//! `removeProcessGroup` stay exactly Supervisor's (`reload`).

use super::faults::{self, Fault};
use super::params;
use super::{CallResult, Ctx, Deferred, Outcome};
use crate::config::diff::{self, Change, GroupPlan};
use crate::rpc::value::Value;

/// One line of a plan or of what an update did.
fn entry(group: &str, name: &str, action: &str, changes: &[&str]) -> Value {
    Value::Struct(vec![
        ("group".into(), Value::String(group.into())),
        ("name".into(), Value::String(name.into())),
        ("action".into(), Value::String(action.into())),
        (
            "changes".into(),
            Value::Array(changes.iter().map(|c| Value::String((*c).into())).collect()),
        ),
    ])
}

fn change_entry(group: &str, name: &str, change: &Change) -> Value {
    match change {
        Change::InPlace(keys) => entry(group, name, "in place", keys),
        Change::Respawn(keys) => entry(group, name, "restart", keys),
        Change::Add => entry(group, name, "add", &[]),
        Change::Remove => entry(group, name, "remove", &[]),
    }
}

fn plan_entries(group: &str, plan: &GroupPlan, out: &mut Vec<Value>) {
    match plan {
        GroupPlan::Add => out.push(entry(group, "", "add group", &[])),
        GroupPlan::Remove => out.push(entry(group, "", "remove group", &[])),
        GroupPlan::Replace(keys) => out.push(entry(group, "", "replace group", keys)),
        GroupPlan::Update {
            priority,
            processes,
        } => {
            if *priority {
                out.push(entry(group, "", "priority", &["priority"]));
            }
            for (name, change) in processes {
                out.push(change_entry(group, name, change));
            }
        }
    }
}

/// `supervisor.reloadConfigPlan()`: rereads as `reloadConfig` does (the result becomes the
/// pending configuration) and returns one struct per change: group, name (empty for the
/// group itself), action, changes (the keys).
pub fn reload_config_plan(ctx: &mut Ctx, _p: &[Value]) -> Outcome {
    if let Err(e) = ctx.sup.reread() {
        return Outcome::Done(Err(Fault::new(faults::CANT_REREAD, e)));
    }
    let active = ctx.sup.active_group_configs();
    let files = &ctx.sup.config.supervisord.environment_files;
    let mut out = Vec::new();
    for (group, plan) in diff::plan(&active, files, ctx.sup.pending_config()) {
        plan_entries(&group, &plan, &mut out);
    }
    Outcome::Done(Ok(Value::Array(out)))
}

/// Waits for the processes an update stopped, then finishes it.
struct Finish {
    group: String,
    stopping: Vec<usize>,
    plan: GroupPlan,
    was_running: Vec<String>,
    report: Vec<Value>,
}

impl Finish {
    fn done(&mut self, ctx: &mut Ctx) -> CallResult {
        match &self.plan {
            GroupPlan::Replace(_) => {
                ctx.sup.remove_group(&self.group);
                ctx.sup.add_pending_group(&self.group);
            }
            GroupPlan::Update { processes, .. } => {
                ctx.sup
                    .finish_group_update(&self.group, processes, &self.was_running);
            }
            GroupPlan::Add | GroupPlan::Remove => {}
        }
        Ok(Value::Array(std::mem::take(&mut self.report)))
    }
}

impl Deferred for Finish {
    fn poll(&mut self, ctx: &mut Ctx) -> Option<CallResult> {
        let stopped = |id: usize| {
            ctx.sup
                .process(id)
                .is_none_or(|p| p.machine.pid == 0 && p.machine.state().is_stopped())
        };
        self.stopping
            .iter()
            .all(|&id| stopped(id))
            .then(|| self.done(ctx))
    }
}

/// `supervisor.updateProcessGroup(name)`: brings the active group `name` in line with the
/// configuration read last, changing only what changed; returns what it did, as
/// `reloadConfigPlan` lists it. Waits for the processes it stops.
pub fn update_group(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let name = match params::string(p, 0) {
        Ok(n) => n,
        Err(f) => return Outcome::Done(Err(f)),
    };
    let in_pending = ctx
        .sup
        .pending_config()
        .groups
        .iter()
        .any(|g| g.name == name);
    if ctx.sup.group(&name).is_none() || !in_pending {
        return Outcome::Done(Err(Fault::new(faults::BAD_NAME, &name)));
    }
    let Some(plan) = ctx.sup.group_update_plan(&name) else {
        return Outcome::Done(Ok(Value::Array(Vec::new())));
    };
    let mut report = Vec::new();
    plan_entries(&name, &plan, &mut report);
    let members = ctx
        .sup
        .group(&name)
        .map(|g| g.members.clone())
        .unwrap_or_default();
    let mut stopping = Vec::new();
    let mut was_running = Vec::new();
    match &plan {
        GroupPlan::Replace(_) => {
            for id in members {
                ctx.sup.stop_for_update(id);
                stopping.push(id);
            }
        }
        GroupPlan::Update { processes, .. } => {
            for (process, change) in processes {
                let Some(id) = ctx.sup.find(&name, process) else {
                    continue;
                };
                match change {
                    Change::InPlace(_) => {
                        if let Some(new) = ctx.sup.pending_process(&name, process) {
                            ctx.sup.apply_in_place(id, &new);
                        }
                    }
                    Change::Respawn(_) | Change::Remove => {
                        let running = ctx.sup.stop_for_update(id);
                        if running && matches!(change, Change::Respawn(_)) {
                            was_running.push(process.clone());
                        }
                        stopping.push(id);
                    }
                    Change::Add => {}
                }
            }
        }
        GroupPlan::Add | GroupPlan::Remove => {}
    }
    let mut finish = Finish {
        group: name,
        stopping,
        plan,
        was_running,
        report,
    };
    match finish.poll(ctx) {
        Some(r) => Outcome::Done(r),
        None => Outcome::Later(Box::new(finish)),
    }
}
