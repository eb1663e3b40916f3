//! Dependencies at run time (`depends_on`, issue #18): the links between process ids (rebuilt
//! from the typed config when groups change), the start gate (`may_start`: mood RUNNING and
//! `deps_ready`, which asks `is_ready` of each dependency), starts held until the
//! dependencies are up, and stops that wait for the dependents to stop first. State changes
//! drive it all (`deps_state_change`), so a process waiting for a dependency costs the loop
//! nothing until that dependency moves.

use super::supervisor::{Mood, Supervisor};
use crate::config::depends::Index;
use crate::process::{Input, Now, ProcessState};
use std::collections::HashMap;

/// Dependencies and dependents by process id; `dirty` when processes were added or removed.
#[derive(Default)]
pub struct Links {
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    pub(super) dirty: bool,
    /// Dependents to look at on the next tick: a dependency became ready. Not at once, so
    /// the dependency's own log lines (`success: ...`) come before the dependent's spawn.
    pub(super) due: Vec<usize>,
}

/// A process's part in dependency ordering.
#[derive(Debug, Default, Clone)]
pub struct DepWait {
    /// A start was asked for (by a request, or by a dependent's start) and waits for the
    /// dependencies to be ready.
    pub held: bool,
    /// Why the process is not started, shown as its description while it is stopped.
    pub note: Option<String>,
    /// `depends_on_restart`: a dependency went down while this ran, so this is restarted (or
    /// started again, when the dependency's stop stopped it) once the dependency is ready.
    pub follow: bool,
    /// A stop waiting for the dependents to stop first (`Some(true)`: shutdown's stop).
    pub stop: Option<bool>,
}

fn is_down(s: ProcessState) -> bool {
    matches!(
        s,
        ProcessState::Stopped | ProcessState::Exited | ProcessState::Fatal
    )
}

impl Supervisor {
    /// Rebuilds the id links after processes were added or removed (linear in processes
    /// and dependency edges).
    pub(super) fn relink(&mut self) {
        if !self.links.dirty {
            return;
        }
        let n = self.procs.len();
        let mut ids: HashMap<(&str, &str), usize> = HashMap::new();
        for p in self.procs.iter().flatten() {
            ids.insert((p.group.as_str(), p.config.name.as_str()), p.id);
        }
        // The same resolution as at load, over the groups as they are now (a process added
        // by twiddler is found; a name that no longer resolves links nothing).
        let ix = Index::new(self.groups.iter().map(|g| &*g.config));
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
        for p in self.procs.iter().flatten() {
            let list = &mut deps[p.id];
            for item in &p.config.depends_on {
                let keys = ix.lookup(item).unwrap_or_default();
                list.extend(keys.iter().filter_map(|k| ids.get(k).copied()));
            }
            // `db, group:*` may name db twice: sorted and deduplicated, not searched.
            list.sort_unstable();
            list.dedup();
            list.retain(|&d| d != p.id);
        }
        let mut dependents = vec![Vec::new(); n];
        for (id, list) in deps.iter().enumerate() {
            for &d in list {
                dependents[d].push(id);
            }
        }
        self.links = Links {
            deps,
            dependents,
            dirty: false,
            due: std::mem::take(&mut self.links.due),
        };
        // Any gate may have changed, and processes came or went.
        self.due.mark_all();
    }

    fn deps_of(&self, id: usize) -> &[usize] {
        self.links.deps.get(id).map_or(&[], |v| v.as_slice())
    }

    fn dependents_of(&self, id: usize) -> &[usize] {
        self.links.dependents.get(id).map_or(&[], |v| v.as_slice())
    }

    fn state_of(&self, id: usize) -> Option<ProcessState> {
        self.process(id).map(|p| p.machine.state())
    }

    fn name_of(&self, id: usize) -> String {
        self.process(id)
            .map(|p| p.config.name.clone())
            .unwrap_or_default()
    }

    /// Whether a dependent may start on this process: today RUNNING (after startsecs).
    /// The one question the start gate asks; readiness probes refine it here. Dependents'
    /// answers in `due` are recomputed at this process's state changes (`deps_state_change`):
    /// a refinement that reads more than the state must mark them when that changes too.
    pub fn is_ready(&self, id: usize) -> bool {
        self.state_of(id) == Some(ProcessState::Running)
    }

    /// The first dependency of `id` that is not ready.
    pub fn unready_dep(&self, id: usize) -> Option<usize> {
        self.deps_of(id)
            .iter()
            .copied()
            .find(|&d| !self.is_ready(d))
    }

    /// Every dependency of `id` is ready (true without dependencies).
    pub fn deps_ready(&self, id: usize) -> bool {
        self.unready_dep(id).is_none()
    }

    /// The start gate, the one answer to "may a tick start `id` now?": supervisord is
    /// RUNNING (not shutting down or restarting) and every dependency of `id` is ready.
    /// `tick_all` and `next_timeout` both ask it: a gate only one of them knew would have the
    /// loop wake for a start that the tick then refuses, again and again.
    pub fn may_start(&self, id: usize) -> bool {
        self.mood == Mood::Running && self.deps_ready(id)
    }

    /// What a start request must do about dependencies: `false` when `id` may start now;
    /// `true` when it waits (held), its stopped dependencies having been started first
    /// (theirs before them; a walk with a stack, not recursion: chains can be long).
    pub fn hold_for_deps(&mut self, id: usize, now: Now) -> bool {
        self.relink();
        if self.deps_ready(id) {
            if let Some(p) = self.process_mut(id) {
                p.dep.note = None;
            }
            return false;
        }
        self.hold(id);
        let mut todo = vec![id];
        while let Some(x) = todo.pop() {
            for d in self.deps_of(x).to_vec() {
                let Some(state) = self.state_of(d) else {
                    continue;
                };
                let held = self.process(d).is_some_and(|p| p.dep.held);
                if held || !is_down(state) {
                    if state == ProcessState::Stopping {
                        // A start after the stop in progress, as a restart does.
                        self.start_after_stop(d, now);
                    }
                    continue;
                }
                let (dname, xname) = (self.name_of(d), self.name_of(x));
                self.log.info(&format!(
                    "{dname}: starting it first (dependency of {xname})"
                ));
                if self.deps_ready(d) {
                    self.apply(d, Input::Start, now);
                    // startsecs=0 is RUNNING at once, as after any start request.
                    self.apply(d, Input::Tick { may_start: true }, now);
                } else {
                    self.hold(d);
                    todo.push(d);
                }
            }
        }
        // The dependencies may all be up now (startsecs=0).
        if self.deps_ready(id) && self.process(id).is_some_and(|p| p.dep.held) {
            self.release(id, now);
        }
        self.process(id).is_some_and(|p| p.dep.held)
    }

    /// The stopped dependencies a start of `ids` would start first (`hold_for_deps` for each
    /// of `ids` that is down), in start order. `ids` themselves are started by the request,
    /// so they are not in it. Read-only: the answer of `supervisor.getStartPlan`.
    pub fn start_plan(&mut self, ids: &[usize]) -> Vec<usize> {
        self.relink();
        let n = self.procs.len();
        let mut target = vec![false; n];
        for &id in ids {
            if let Some(t) = target.get_mut(id) {
                *t = true;
            }
        }
        let mut seen = vec![false; n];
        let mut plan = Vec::new();
        // The walk `hold_for_deps` does: through the dependencies that are down and not
        // already held (those are started first); a ready, starting or held one ends it.
        let mut todo: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|&id| self.state_of(id).is_some_and(is_down) && !self.deps_ready(id))
            .collect();
        while let Some(x) = todo.pop() {
            for &d in self.deps_of(x) {
                if seen.get(d).copied().unwrap_or(true) || target[d] {
                    continue;
                }
                seen[d] = true;
                let down = self.state_of(d).is_some_and(is_down);
                if down && !self.process(d).is_some_and(|p| p.dep.held) {
                    plan.push(d);
                    todo.push(d);
                }
            }
        }
        self.dependency_order(plan)
    }

    /// Marks a start of `id` as waiting for its first unready dependency.
    fn hold(&mut self, id: usize) {
        let note = self
            .unready_dep(id)
            .map(|d| format!("waiting for {}", self.name_of(d)));
        if let Some(p) = self.process_mut(id) {
            p.dep.held = true;
            p.dep.note = note;
        }
    }

    /// A held start whose dependencies are ready goes ahead.
    fn release(&mut self, id: usize, now: Now) {
        if let Some(p) = self.process_mut(id) {
            p.dep.held = false;
            p.dep.note = None;
        }
        if self.mood == Mood::Running && self.state_of(id).is_some_and(is_down) {
            self.apply(id, Input::Start, now);
            self.apply(id, Input::Tick { may_start: true }, now);
        }
    }

    /// A stop request on a process that is not running: it no longer follows its
    /// dependencies, and a held start is cancelled; true if there was one.
    pub fn cancel_hold(&mut self, id: usize) -> bool {
        match self.process_mut(id) {
            Some(p) => {
                p.dep.follow = false;
                let held = std::mem::take(&mut p.dep.held);
                if held {
                    p.dep.note = None;
                }
                held
            }
            None => false,
        }
    }

    /// Stops `id` after its running dependents, which stop the same way (a chain stops from
    /// its end; a walk with a stack, not recursion). `shutdown`: the stop of shutdown
    /// (BACKOFF becomes FATAL).
    pub fn stop_ordered(&mut self, id: usize, shutdown: bool, now: Now) {
        self.relink();
        let mut todo = vec![id];
        while let Some(x) = todo.pop() {
            let running: Vec<usize> = self
                .dependents_of(x)
                .iter()
                .copied()
                .filter(|&d| self.state_of(d).is_some_and(|s| !s.is_stopped()))
                .collect();
            if running.is_empty() {
                if let Some(p) = self.process_mut(x) {
                    p.dep.stop = None;
                }
                let input = if shutdown {
                    Input::StopForShutdown
                } else {
                    Input::Stop
                };
                self.apply(x, input, now);
                continue;
            }
            if self.process(x).is_some_and(|p| p.dep.stop.is_some()) {
                continue;
            }
            if let Some(p) = self.process_mut(x) {
                p.dep.stop = Some(shutdown);
            }
            let name = self.name_of(x);
            for d in running {
                if let Some(p) = self.process_mut(d) {
                    if !shutdown && p.config.depends_on_restart {
                        p.dep.follow = true;
                    }
                    // Already on its way down (another dependency's stop asked first).
                    if p.dep.stop.is_some() || p.machine.state() == ProcessState::Stopping {
                        continue;
                    }
                }
                let dname = self.name_of(d);
                self.log.info(&format!(
                    "{dname}: stopping it first (it depends on {name})"
                ));
                todo.push(d);
            }
        }
    }

    /// A stop request by hand: the process no longer follows its dependencies' restarts.
    pub fn stop_by_request(&mut self, id: usize, now: Now) {
        if let Some(p) = self.process_mut(id) {
            p.dep.follow = false;
        }
        self.stop_ordered(id, false, now);
        // Starts held for it would wait until someone starts it again: they give up.
        let why = format!("not started: dependency {} was stopped", self.name_of(id));
        self.give_up_dependents(id, &why);
    }

    /// Orders `ids` so that each comes after the dependencies in the list (a start of a
    /// group or of everything); otherwise the order is kept.
    pub fn dependency_order(&mut self, ids: Vec<usize>) -> Vec<usize> {
        self.relink();
        if ids.iter().all(|&id| self.deps_of(id).is_empty()) {
            return ids;
        }
        let mut wanted = vec![false; self.procs.len()];
        for &id in &ids {
            if let Some(w) = wanted.get_mut(id) {
                *w = true;
            }
        }
        let mut done = vec![false; self.procs.len()];
        let mut out = Vec::with_capacity(ids.len());
        for &root in &ids {
            // Post-order without recursion: dependencies first.
            let mut stack = vec![(root, 0usize)];
            while let Some(top) = stack.last_mut() {
                let (node, next) = *top;
                if done.get(node).copied().unwrap_or(true) {
                    stack.pop();
                    continue;
                }
                match self.deps_of(node).get(next) {
                    Some(&d) => {
                        top.1 += 1;
                        if wanted.get(d).copied().unwrap_or(false) && !done[d] {
                            stack.push((d, 0));
                        }
                    }
                    None => {
                        done[node] = true;
                        out.push(node);
                        stack.pop();
                    }
                }
            }
        }
        out
    }

    /// Called for every state change (from `on_state_change`): held starts go ahead or are
    /// given up, waiting stops go ahead, `depends_on_restart` dependents follow.
    pub(super) fn deps_state_change(
        &mut self,
        id: usize,
        from: ProcessState,
        to: ProcessState,
        now: Now,
    ) {
        if self.links.dirty {
            self.relink();
        }
        // Their gate asks this process's readiness (`due`).
        if let Some(dependents) = self.links.dependents.get(id) {
            for &d in dependents {
                self.due.mark(d);
            }
        }
        if to == ProcessState::Starting {
            if let Some(p) = self.process_mut(id) {
                p.dep.held = false;
                p.dep.note = None;
            }
        }
        if self.dependents_of(id).is_empty() && self.deps_of(id).is_empty() {
            return;
        }
        if from == ProcessState::Running && to != ProcessState::Running {
            for d in self.dependents_of(id).to_vec() {
                if let Some(p) = self.process_mut(d) {
                    if p.config.depends_on_restart && !p.machine.state().is_stopped() {
                        p.dep.follow = true;
                    }
                }
            }
        }
        if self.is_ready(id) {
            for i in 0..self.dependents_of(id).len() {
                let d = self.links.dependents[id][i];
                if self.process(d).is_some_and(|p| p.dep.held || p.dep.follow) {
                    self.links.due.push(d);
                }
            }
        }
        if to == ProcessState::Fatal {
            let why = format!("not started: dependency {} is FATAL", self.name_of(id));
            self.give_up_dependents(id, &why);
        }
        if to.is_stopped() {
            for d in self.deps_of(id).to_vec() {
                let waiting = self.process(d).and_then(|p| p.dep.stop);
                let clear = self
                    .dependents_of(d)
                    .iter()
                    .all(|&x| self.state_of(x).is_none_or(|s| s.is_stopped()));
                if let (Some(shutdown), true) = (waiting, clear) {
                    self.stop_ordered(d, shutdown, now);
                }
            }
        }
    }

    /// Held starts and followed restarts whose dependency became ready (from `tick_all`).
    pub(super) fn run_due(&mut self, now: Now) {
        while let Some(d) = self.links.due.pop() {
            let Some(p) = self.process(d) else { continue };
            let (held, follow) = (p.dep.held, p.dep.follow);
            if !self.deps_ready(d) || self.mood != Mood::Running {
                continue;
            }
            if held {
                self.release(d, now);
            } else if follow {
                self.follow(d, now);
            }
        }
    }

    /// `depends_on_restart`: a dependency is back; restart the dependent (or start it
    /// again if the dependency's stop stopped it).
    fn follow(&mut self, id: usize, now: Now) {
        if let Some(p) = self.process_mut(id) {
            p.dep.follow = false;
        }
        let name = self.name_of(id);
        match self.state_of(id) {
            Some(s) if is_down(s) => {
                self.log
                    .info(&format!("{name}: starting again, its dependency is back"));
                self.apply(id, Input::Start, now);
                self.apply(id, Input::Tick { may_start: true }, now);
            }
            Some(ProcessState::Running | ProcessState::Starting) => {
                self.log
                    .info(&format!("{name}: restarting, its dependency restarted"));
                self.start_after_stop_of(id, now);
            }
            _ => {}
        }
    }

    fn start_after_stop_of(&mut self, id: usize, now: Now) {
        self.stop_ordered(id, false, now);
        if !self.start_after_stop(id, now) && self.state_of(id).is_some_and(is_down) {
            self.apply(id, Input::Start, now);
        }
    }

    /// A dependency went FATAL: held starts waiting on it (directly or through other held
    /// starts) are given up, and those and autostart's waiting dependents say why.
    fn give_up_dependents(&mut self, id: usize, why: &str) {
        let mut todo = self.dependents_of(id).to_vec();
        while let Some(d) = todo.pop() {
            let Some(p) = self.process_mut(d) else {
                continue;
            };
            let never_started = p.machine.laststart_wall.is_none() && p.config.autostart;
            if !(p.dep.held || never_started) || !is_down(p.machine.state()) {
                continue;
            }
            if p.dep.note.as_deref() == Some(why) {
                continue;
            }
            let was_held = std::mem::take(&mut p.dep.held);
            p.dep.note = Some(why.to_string());
            let name = p.config.name.clone();
            if was_held {
                self.log.info(&format!("{name}: {why}"));
            }
            todo.extend_from_slice(self.dependents_of(d));
        }
    }
}

#[cfg(test)]
mod tests;
