//! Process control methods: start, stop, signal (one, group, all), stdin, process info.

use super::faults::{self, Fault};
use super::info;
use super::params;
use super::{CallResult, Ctx, Deferred, Outcome};
use crate::daemon::control::{StdinError, STDIN_QUEUE_MAX};
use crate::daemon::supervisor::Supervisor;
use crate::process::spawn::SpawnErrorKind;
use crate::process::{Input, ProcessState};
use crate::rpc::value::Value;

/// What a namespec (`group:name`, `group:*`, `name`) denotes.
pub enum Target {
    One(usize),
    Group(String),
}

pub fn resolve(ctx: &Ctx, spec: &str) -> Result<Target, Fault> {
    resolve_in(ctx.sup, spec)
}

/// `resolve` on the supervisor itself (also an event listener's command actions).
pub fn resolve_in(sup: &Supervisor, spec: &str) -> Result<Target, Fault> {
    let bad = || Fault::new(faults::BAD_NAME, spec);
    let (group, name) = spec.split_once(':').unwrap_or((spec, spec));
    if name.is_empty() || name == "*" {
        return match sup.group(group) {
            Some(_) => Ok(Target::Group(group.to_string())),
            None => Err(bad()),
        };
    }
    sup.find(group, name).map(Target::One).ok_or_else(bad)
}

/// How Supervisor's make_namespec names a process in fault texts of group results:
/// `group:name`, or just `name` when the group has the process's own name.
fn namespec(ctx: &Ctx, id: usize) -> String {
    ctx.sup
        .process(id)
        .map(|p| p.namespec())
        .unwrap_or_default()
}

fn state(ctx: &Ctx, id: usize) -> Option<ProcessState> {
    ctx.sup.process(id).map(|p| p.machine.state())
}

fn members(ctx: &Ctx, group: &str) -> Vec<usize> {
    ctx.sup
        .group(group)
        .map(|g| g.members.clone())
        .unwrap_or_default()
}

/// Every process in (group priority, process priority) order.
fn everyone(ctx: &Ctx) -> Vec<usize> {
    ctx.sup.process_ids()
}

// ---- start ----

struct StartWait {
    id: usize,
    name: String,
}

impl Deferred for StartWait {
    fn poll(&mut self, ctx: &mut Ctx) -> Option<CallResult> {
        let Some(p) = ctx.sup.process(self.id) else {
            return Some(Err(Fault::new(faults::ABNORMAL_TERMINATION, &self.name)));
        };
        // A start held for its dependencies (`daemon::order`) waits; one given up because
        // a dependency went FATAL is a spawn error (its description names the dependency).
        let down = matches!(
            p.machine.state(),
            ProcessState::Stopped | ProcessState::Exited | ProcessState::Fatal
        );
        if down && p.dep.held {
            return None;
        }
        if down && p.dep.note.is_some() {
            return Some(Err(Fault::new(faults::SPAWN_ERROR, &self.name)));
        }
        if !p.machine.spawnerr.is_empty() {
            return Some(Err(Fault::new(faults::SPAWN_ERROR, &self.name)));
        }
        match p.machine.state() {
            ProcessState::Running => Some(Ok(Value::Bool(true))),
            ProcessState::Starting => None,
            _ => Some(Err(Fault::new(faults::ABNORMAL_TERMINATION, &self.name))),
        }
    }
}

fn start_one(ctx: &mut Ctx, id: usize, name: &str, wait: bool) -> Outcome {
    if let Err(e) = ctx.sup.spawn_check(id) {
        let code = match e.kind() {
            SpawnErrorKind::NotFound => faults::NO_FILE,
            _ => faults::NOT_EXECUTABLE,
        };
        return Outcome::Done(Err(Fault::new(code, e.to_string())));
    }
    match state(ctx, id) {
        Some(s) if s.is_running() => {
            return Outcome::Done(Err(Fault::new(faults::ALREADY_STARTED, name)))
        }
        Some(ProcessState::Unknown) => {
            return Outcome::Done(Err(Fault::new(
                faults::FAILED,
                format!("{name} is in an unknown process state"),
            )))
        }
        _ => {}
    }
    // Dependencies first: a held start begins when they are ready (`daemon::order`).
    if !ctx.sup.hold_for_deps(id, ctx.now) {
        ctx.sup.apply(id, Input::Start, ctx.now);
        // Like Supervisor's transition() right after the spawn: startsecs=0 is RUNNING at once.
        ctx.sup.apply(id, Input::Tick { may_start: true }, ctx.now);
    }
    let mut wait_for = StartWait {
        id,
        name: name.to_string(),
    };
    match wait_for.poll(ctx) {
        Some(Err(f)) if f.code == faults::SPAWN_ERROR => Outcome::Done(Err(f)),
        _ if !wait => Outcome::Done(Ok(Value::Bool(true))),
        Some(r) => Outcome::Done(r),
        None => Outcome::Later(Box::new(wait_for)),
    }
}

// ---- stop ----

struct StopWait {
    id: usize,
    /// The caller waits: say so in the main log now and then, as Supervisor's stop_report.
    report: bool,
    reported: Option<std::time::Instant>,
}

impl Deferred for StopWait {
    fn poll(&mut self, ctx: &mut Ctx) -> Option<CallResult> {
        match state(ctx, self.id) {
            Some(s) if !s.is_stopped() => {
                let now = ctx.now.mono;
                let due = self
                    .reported
                    .is_none_or(|t| now.duration_since(t) >= std::time::Duration::from_secs(2));
                if self.report && s == ProcessState::Stopping && due {
                    self.reported = Some(now);
                    if let Some(p) = ctx.sup.process(self.id) {
                        let msg = format!("waiting for {} to stop", p.config.name);
                        ctx.sup.log.info(&msg);
                    }
                }
                None
            }
            _ => Some(Ok(Value::Bool(true))),
        }
    }
}

fn stop_one(ctx: &mut Ctx, id: usize, name: &str, wait: bool) -> Outcome {
    if !state(ctx, id).is_some_and(|s| s.is_running()) {
        if ctx.sup.cancel_hold(id) {
            return Outcome::Done(Ok(Value::Bool(true)));
        }
        return Outcome::Done(Err(Fault::new(faults::NOT_RUNNING, name)));
    }
    // Its running dependents stop first (`daemon::order`).
    ctx.sup.stop_by_request(id, ctx.now);
    if state(ctx, id) == Some(ProcessState::Unknown) {
        let msg = ctx
            .sup
            .last_kill_error()
            .unwrap_or("kill failed")
            .to_string();
        return Outcome::Done(Err(Fault::new(faults::FAILED, msg)));
    }
    let mut w = StopWait {
        id,
        report: wait,
        reported: None,
    };
    match w.poll(ctx) {
        Some(r) => Outcome::Done(r),
        None if !wait => Outcome::Done(Ok(Value::Bool(true))),
        None => Outcome::Later(Box::new(w)),
    }
}

// ---- restart (an extension: Supervisor 4.3 can only stop, then start) ----

/// Waits for a restart: the stop, then the start as `startProcess(wait=True)` waits for it.
struct RestartWait {
    start: StartWait,
}

impl Deferred for RestartWait {
    fn poll(&mut self, ctx: &mut Ctx) -> Option<CallResult> {
        if ctx.sup.restart_pending(self.start.id) {
            return None;
        }
        self.start.poll(ctx)
    }
}

/// Stops the process and queues its start behind the stop (the daemon's "start after stop",
/// as the web UI's restart does), so the call need not wait for either; a process that is not
/// running is just started.
fn restart_one(ctx: &mut Ctx, id: usize, name: &str, wait: bool) -> Outcome {
    match state(ctx, id) {
        Some(s) if s.is_running() => {
            if let Outcome::Done(Err(f)) = stop_one(ctx, id, name, false) {
                return Outcome::Done(Err(f));
            }
        }
        Some(ProcessState::Stopping) => {}
        _ => return start_one(ctx, id, name, wait),
    }
    // BACKOFF stops at once: nothing to wait for.
    if !ctx.sup.start_after_stop(id, ctx.now) {
        return start_one(ctx, id, name, wait);
    }
    let w = RestartWait {
        start: StartWait {
            id,
            name: name.to_string(),
        },
    };
    match wait {
        false => Outcome::Done(Ok(Value::Bool(true))),
        true => Outcome::Later(Box::new(w)),
    }
}

/// Every process of a group is restarted, running or not.
fn all_of(_: &Ctx, ids: Vec<usize>) -> Vec<usize> {
    ids
}

const RESTART: (Op, Select) = (restart_one, all_of);

pub fn restart_process(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    on_process(ctx, p, RESTART)
}

pub fn restart_group(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    on_group(ctx, p, RESTART)
}

pub fn restart_all(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    on_all(ctx, p, RESTART)
}

// ---- group and all operations ----

/// Acts on several processes at once and reports one status struct per process, in
/// completion order (rpc.md §6, startProcessGroup).
struct Many {
    results: Vec<Value>,
    pending: Vec<(usize, Box<dyn Deferred>)>,
}

impl Many {
    fn run(ctx: &mut Ctx, ids: Vec<usize>, op: Op, wait: bool) -> Outcome {
        let mut many = Many {
            results: Vec::new(),
            pending: Vec::new(),
        };
        // Dependencies before their dependents, so a start pulls in nothing twice.
        let ids = ctx.sup.dependency_order(ids);
        for id in ids {
            let name = namespec(ctx, id);
            match op(ctx, id, &name, wait) {
                Outcome::Done(r) => many.push(ctx, id, r),
                Outcome::Later(d) => many.pending.push((id, d)),
            }
        }
        super::settle(ctx, Outcome::Later(Box::new(many)))
    }

    fn push(&mut self, ctx: &Ctx, id: usize, r: CallResult) {
        if let Some(p) = ctx.sup.process(id) {
            self.results.push(info::status(p, &r.map(|_| ())));
        }
    }
}

impl Deferred for Many {
    fn poll(&mut self, ctx: &mut Ctx) -> Option<CallResult> {
        let mut still = Vec::new();
        for (id, mut d) in std::mem::take(&mut self.pending) {
            match d.poll(ctx) {
                Some(r) => self.push(ctx, id, r),
                None => still.push((id, d)),
            }
        }
        self.pending = still;
        self.pending
            .is_empty()
            .then(|| Ok(Value::Array(std::mem::take(&mut self.results))))
    }
}

fn not_running(ctx: &Ctx, ids: Vec<usize>) -> Vec<usize> {
    ids.into_iter()
        .filter(|&id| !state(ctx, id).is_some_and(|s| s.is_running()))
        .collect()
}

fn running(ctx: &Ctx, ids: Vec<usize>) -> Vec<usize> {
    ids.into_iter()
        .filter(|&id| state(ctx, id).is_some_and(|s| s.is_running()))
        .collect()
}

type Op = fn(&mut Ctx, usize, &str, bool) -> Outcome;
type Select = fn(&Ctx, Vec<usize>) -> Vec<usize>;

/// The start/stop operations differ only in what they do to one process and which
/// processes of a group they pick.
const START: (Op, Select) = (start_one, not_running);
const STOP: (Op, Select) = (stop_one, running);

fn name_and_wait(p: &[Value]) -> Result<(String, bool), Fault> {
    Ok((params::string(p, 0)?, params::flag(p, 1)))
}

/// `startProcess`/`stopProcess`: one process, or a whole group for `group:*`.
fn on_process(ctx: &mut Ctx, p: &[Value], (op, select): (Op, Select)) -> Outcome {
    let (name, wait) = match name_and_wait(p) {
        Ok(v) => v,
        Err(f) => return Outcome::Done(Err(f)),
    };
    match resolve(ctx, &name) {
        Err(f) => Outcome::Done(Err(f)),
        Ok(Target::Group(g)) => {
            let ids = select(ctx, members(ctx, &g));
            Many::run(ctx, ids, op, wait)
        }
        Ok(Target::One(id)) => op(ctx, id, &name, wait),
    }
}

/// `startProcessGroup`/`stopProcessGroup`.
fn on_group(ctx: &mut Ctx, p: &[Value], (op, select): (Op, Select)) -> Outcome {
    let (name, wait) = match name_and_wait(p) {
        Ok(v) => v,
        Err(f) => return Outcome::Done(Err(f)),
    };
    if ctx.sup.group(&name).is_none() {
        return Outcome::Done(Err(Fault::new(faults::BAD_NAME, &name)));
    }
    let ids = select(ctx, members(ctx, &name));
    Many::run(ctx, ids, op, wait)
}

/// `startAllProcesses`/`stopAllProcesses`.
fn on_all(ctx: &mut Ctx, p: &[Value], (op, select): (Op, Select)) -> Outcome {
    let wait = params::flag(p, 0);
    let ids = select(ctx, everyone(ctx));
    Many::run(ctx, ids, op, wait)
}

/// `getStartPlan` (an extension): the namespecs of the stopped dependencies a start of the
/// name would start first, in start order. Faults as startProcess's for a bad name.
pub fn get_start_plan(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let name = match params::string(p, 0) {
        Ok(v) => v,
        Err(f) => return Outcome::Done(Err(f)),
    };
    let ids = match resolve(ctx, &name) {
        Err(f) => return Outcome::Done(Err(f)),
        Ok(Target::Group(g)) => not_running(ctx, members(ctx, &g)),
        Ok(Target::One(id)) => not_running(ctx, vec![id]),
    };
    let plan = ctx.sup.start_plan(&ids);
    let names = plan
        .into_iter()
        .map(|id| Value::String(namespec(ctx, id)))
        .collect();
    Outcome::Done(Ok(Value::Array(names)))
}

pub fn start_process(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    on_process(ctx, p, START)
}

pub fn start_group(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    on_group(ctx, p, START)
}

pub fn start_all(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    on_all(ctx, p, START)
}

pub fn stop_process(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    on_process(ctx, p, STOP)
}

pub fn stop_group(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    on_group(ctx, p, STOP)
}

pub fn stop_all(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    on_all(ctx, p, STOP)
}

// ---- signals ----

fn signal_one(ctx: &mut Ctx, id: usize, name: &str, sig: i32) -> Result<(), Fault> {
    if !state(ctx, id).is_some_and(|s| s.is_signallable()) {
        return Err(Fault::new(faults::NOT_RUNNING, name));
    }
    ctx.sup
        .signal_process(id, sig)
        .map_err(|msg| Fault::new(faults::FAILED, msg))
}

fn signal_many(ctx: &mut Ctx, ids: Vec<usize>, sig: Result<(i32, String), Fault>) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        if !state(ctx, id).is_some_and(|s| s.is_signallable()) {
            continue;
        }
        let name = namespec(ctx, id);
        let r = match &sig {
            Ok((n, _)) => signal_one(ctx, id, &name, *n),
            Err(f) => Err(f.clone()),
        };
        if let Some(p) = ctx.sup.process(id) {
            out.push(info::status(p, &r));
        }
    }
    out
}

pub fn signal_process(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let name = match params::string(p, 0) {
        Ok(n) => n,
        Err(f) => return Outcome::Done(Err(f)),
    };
    let target = match resolve(ctx, &name) {
        Ok(t) => t,
        Err(f) => return Outcome::Done(Err(f)),
    };
    match target {
        Target::Group(g) => {
            let ids = members(ctx, &g);
            let sig = params::signal_arg(p, 1);
            Outcome::Done(Ok(Value::Array(signal_many(ctx, ids, sig))))
        }
        Target::One(id) => {
            let r = params::signal_arg(p, 1).and_then(|(sig, _)| signal_one(ctx, id, &name, sig));
            Outcome::Done(r.map(|_| Value::Bool(true)))
        }
    }
}

/// rpc.md §4 says BAD_NAME wins over SHUTDOWN_STATE here, but 4.3's signalProcessGroup only
/// looks the group up before its gate and faults on an unknown name after it: SHUTDOWN_STATE
/// wins, as everywhere else.
pub fn signal_group(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let name = match params::string(p, 0) {
        Ok(n) => n,
        Err(f) => return Outcome::Done(Err(f)),
    };
    if !ctx.sup.is_running() {
        return Outcome::Done(Err(Fault::plain(faults::SHUTDOWN_STATE)));
    }
    if ctx.sup.group(&name).is_none() {
        return Outcome::Done(Err(Fault::new(faults::BAD_NAME, &name)));
    }
    let ids = members(ctx, &name);
    let sig = params::signal_arg(p, 1);
    Outcome::Done(Ok(Value::Array(signal_many(ctx, ids, sig))))
}

/// Supervisor signals first and checks the gate afterwards (R2); we check first, since
/// signalling everything during a shutdown is never what the caller wanted.
pub fn signal_all(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    if !ctx.sup.is_running() {
        return Outcome::Done(Err(Fault::plain(faults::SHUTDOWN_STATE)));
    }
    let sig = params::signal_arg(p, 0);
    let ids = everyone(ctx);
    Outcome::Done(Ok(Value::Array(signal_many(ctx, ids, sig))))
}

// ---- stdin and info ----

pub fn send_stdin(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let chars = match p.get(1) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Outcome::Done(Err(Fault::new(
                faults::INCORRECT_PARAMETERS,
                other.py_str(),
            )))
        }
        None => return Outcome::Done(Err(Fault::plain(faults::INCORRECT_PARAMETERS))),
    };
    let name = match params::string(p, 0) {
        Ok(n) => n,
        Err(f) => return Outcome::Done(Err(f)),
    };
    let id = match resolve(ctx, &name) {
        Ok(Target::One(id)) => id,
        Ok(Target::Group(_)) => return Outcome::Done(Err(Fault::new(faults::BAD_NAME, &name))),
        Err(f) => return Outcome::Done(Err(f)),
    };
    let live = ctx.sup.process(id).is_some_and(|p| {
        p.machine.pid > 0
            && matches!(
                p.machine.state(),
                ProcessState::Starting | ProcessState::Running
            )
    });
    if !live {
        return Outcome::Done(Err(Fault::new(faults::NOT_RUNNING, &name)));
    }
    let r = match ctx.sup.send_stdin(id, chars.as_bytes()) {
        Ok(()) => Ok(Value::Bool(true)),
        Err(StdinError::Closed) => Err(Fault::new(faults::NO_FILE, &name)),
        Err(StdinError::Full { queued }) => Err(Fault::new(
            faults::FAILED,
            format!(
                "{name}: stdin queue full: {queued} bytes wait for the process to read them, \
                 and {} more would pass the limit of {STDIN_QUEUE_MAX} bytes; send less at a \
                 time, or again once it has read them",
                chars.len()
            ),
        )),
    };
    Outcome::Done(r)
}

pub fn get_process_info(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let name = match params::string(p, 0) {
        Ok(n) => n,
        Err(f) => return Outcome::Done(Err(f)),
    };
    let r = match resolve(ctx, &name) {
        Ok(Target::One(id)) => match ctx.sup.process(id) {
            Some(proc_) => Ok(info::process_info(proc_, ctx.now)),
            None => Err(Fault::new(faults::BAD_NAME, &name)),
        },
        Ok(Target::Group(_)) => Err(Fault::new(faults::BAD_NAME, &name)),
        Err(f) => Err(f),
    };
    Outcome::Done(r)
}

/// `supervisor.getAllProcessHealth` (extension): the processes with `healthcheck=`, in
/// getAllProcessInfo's order.
pub fn get_all_process_health(ctx: &mut Ctx, _p: &[Value]) -> Outcome {
    let list = ctx
        .sup
        .processes_by_name()
        .into_iter()
        .filter(|p| p.config.probe.health.is_some())
        .map(|p| {
            Value::Struct(vec![
                ("name".into(), Value::String(p.config.name.clone())),
                ("group".into(), Value::String(p.group.clone())),
                (
                    "health".into(),
                    Value::String(p.probe.verdict.name().into()),
                ),
                ("failures".into(), Value::Int(p.probe.failures as i64)),
            ])
        })
        .collect();
    Outcome::Done(Ok(Value::Array(list)))
}

pub fn get_all_process_info(ctx: &mut Ctx, _p: &[Value]) -> Outcome {
    let procs = ctx.sup.processes_by_name();
    Outcome::Done(Ok(info::encode_process_infos(procs.into_iter(), ctx.now)))
}
