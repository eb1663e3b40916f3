//! Which processes the timers must look at (issue #17): each machine's last `poll_at`
//! answer, with the `Now` ones and the `At` deadlines indexed, and the processes whose probes
//! may have a deadline; so a wake-up with nothing due costs the same with ten or ten
//! thousand idle (`Ingress`) processes. An answer is recomputed only where it may have
//! changed: after a machine step (`Supervisor::apply`), a dependency's state change
//! (`deps_state_change`), an in-place update (`apply_in_place`), and for every process when
//! processes come or go (`relink`) or the mood changes. Debug builds check the index against a
//! full walk whenever the loop asks it (`machines_next`, `probes_next`).

use super::supervisor::{Mood, Process, Supervisor};
use crate::probe::Ready;
use crate::process::machine::{Now, PollAt};
use std::collections::BTreeSet;
use std::time::Instant;

/// A process's recorded answer, or a mark that it must be recomputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Clean(PollAt),
    Dirty,
}

pub struct Due {
    /// By process id; `Clean(Ingress)` past the end.
    slots: Vec<Slot>,
    deadlines: BTreeSet<(Instant, usize)>,
    now: BTreeSet<usize>,
    /// The ids marked `Dirty`, each once.
    dirty: Vec<usize>,
    /// Every answer must be recomputed (the links changed: processes came or went).
    all: bool,
    /// The mood the answers were given under: the gate's other half.
    mood: Mood,
    /// Each id's place in start order (`usize::MAX`: in no group, never ticked).
    pos: Vec<usize>,
    /// Processes whose probes may have a deadline: the configuration has a check or a
    /// watchdog, or one is armed (`probes_next`, `probes_due` walk only these).
    pub(super) probed: BTreeSet<usize>,
}

impl Default for Due {
    fn default() -> Self {
        Due {
            slots: Vec::new(),
            deadlines: BTreeSet::new(),
            now: BTreeSet::new(),
            dirty: Vec::new(),
            all: true,
            mood: Mood::Running,
            pos: Vec::new(),
            probed: BTreeSet::new(),
        }
    }
}

impl Due {
    /// `id`'s answer may have changed: it leaves the index until the next refresh.
    pub(super) fn mark(&mut self, id: usize) {
        if self.all {
            return;
        }
        if id >= self.slots.len() {
            self.slots.resize(id + 1, Slot::Clean(PollAt::Ingress));
        }
        match std::mem::replace(&mut self.slots[id], Slot::Dirty) {
            Slot::Dirty => return,
            Slot::Clean(PollAt::Now) => {
                self.now.remove(&id);
            }
            Slot::Clean(PollAt::At(t)) => {
                self.deadlines.remove(&(t, id));
            }
            Slot::Clean(PollAt::Ingress) => {}
        }
        self.dirty.push(id);
    }

    /// Every answer may have changed.
    pub(super) fn mark_all(&mut self) {
        self.all = true;
    }

    fn record(&mut self, id: usize, answer: PollAt, probed: bool) {
        if id >= self.slots.len() {
            self.slots.resize(id + 1, Slot::Clean(PollAt::Ingress));
        }
        self.slots[id] = Slot::Clean(answer);
        match answer {
            PollAt::Now => {
                self.now.insert(id);
            }
            PollAt::At(t) => {
                self.deadlines.insert((t, id));
            }
            PollAt::Ingress => {}
        }
        if probed {
            self.probed.insert(id);
        } else {
            self.probed.remove(&id);
        }
    }

    /// The start order changed (groups came or went).
    pub(super) fn set_order(&mut self, order: &[usize]) {
        self.pos.clear();
        for (i, &id) in order.iter().enumerate() {
            if id >= self.pos.len() {
                self.pos.resize(id + 1, usize::MAX);
            }
            self.pos[id] = i;
        }
    }

    /// `id`'s place in start order; `None` if it is in no group.
    pub(super) fn pos(&self, id: usize) -> Option<usize> {
        self.pos.get(id).copied().filter(|&p| p != usize::MAX)
    }

    /// The recorded answer says a tick at `now` would act.
    pub(super) fn is_due(&self, id: usize, now: Instant) -> bool {
        matches!(self.slots.get(id), Some(Slot::Clean(a)) if a.is_due(now))
    }

    /// The clean ids whose answer is due at `now`.
    pub(super) fn due_ids(&self, now: Instant) -> impl Iterator<Item = usize> + '_ {
        let timed = self.deadlines.iter().take_while(move |(t, _)| *t <= now);
        self.now.iter().copied().chain(timed.map(|&(_, id)| id))
    }
}

/// The process's probes may have a deadline now, or arm one without a configuration change.
fn might_probe(p: &Process) -> bool {
    let cfg = &p.config.probe;
    matches!(cfg.ready, Ready::Check(_))
        || cfg.watchdog_secs > 0
        || cfg.health.is_some()
        || p.probe.next_deadline().is_some()
}

impl Supervisor {
    /// `id`'s machine's answer under the start gate (`Ingress` for a removed process).
    fn answer(&self, id: usize) -> PollAt {
        self.process(id).map_or(PollAt::Ingress, |p| {
            p.machine.poll_at(&p.config, self.may_start(id))
        })
    }

    /// The index cannot answer for the machines: processes came or went, or the mood changed
    /// (`machines_next` then walks them all, as `refresh_due` will).
    fn machines_unknown(&self) -> bool {
        self.probes_unknown() || self.due.mood != self.mood
    }

    /// The probe set may lack processes added since the last refresh.
    pub(super) fn probes_unknown(&self) -> bool {
        self.links.dirty || self.due.all
    }

    /// Brings the index up to date; the ids whose answer was recomputed (all of them after
    /// processes came or went or the mood changed).
    pub(super) fn refresh_due(&mut self) -> Vec<usize> {
        self.relink();
        let ids = if self.due.all || self.due.mood != self.mood {
            let n = self.procs.len();
            let due = &mut self.due;
            due.slots.clear();
            due.slots.resize(n, Slot::Clean(PollAt::Ingress));
            due.deadlines.clear();
            due.now.clear();
            due.dirty.clear();
            due.probed.clear();
            due.all = false;
            due.mood = self.mood;
            (0..n).filter(|&id| self.process(id).is_some()).collect()
        } else {
            std::mem::take(&mut self.due.dirty)
        };
        for &id in &ids {
            let answer = self.answer(id);
            let probed = self.process(id).is_some_and(might_probe);
            self.due.record(id, answer, probed);
        }
        ids
    }

    /// The earliest recorded answer, with the dirty ones asked again (`machines_next`).
    pub(super) fn due_next(&self, now: Now) -> Option<Instant> {
        if self.machines_unknown() {
            return self.machines_walk(now);
        }
        let due = &self.due;
        let mut at_once = !due.now.is_empty();
        let mut best = due.deadlines.first().map(|&(t, _)| t);
        for &id in &due.dirty {
            match self.answer(id) {
                PollAt::Now => at_once = true,
                PollAt::At(t) => best = Some(best.map_or(t, |b| b.min(t))),
                PollAt::Ingress => {}
            }
        }
        let next = if at_once { Some(now.mono) } else { best };
        #[cfg(debug_assertions)]
        self.check_due(now, next);
        next
    }

    /// Every machine asked: what the index saves, and what it must agree with.
    fn machines_walk(&self, now: Now) -> Option<Instant> {
        let mut best: Option<Instant> = None;
        for p in self.procs.iter().flatten() {
            match self.answer(p.id) {
                PollAt::Now => return Some(now.mono),
                PollAt::At(d) => best = Some(best.map_or(d, |b| b.min(d))),
                PollAt::Ingress => {}
            }
        }
        best
    }

    /// The ids whose probes `probes_next` looks at: the probe set and the dirty ids (every
    /// id while processes were added since the last refresh).
    pub(super) fn probe_ids(&self) -> impl Iterator<Item = usize> + '_ {
        let unknown = self.probes_unknown();
        #[cfg(debug_assertions)]
        for p in self.procs.iter().flatten() {
            let known =
                unknown || self.due.probed.contains(&p.id) || self.due.dirty.contains(&p.id);
            assert!(
                known || p.probe.next_deadline().is_none(),
                "process {} has a probe deadline outside the index",
                p.id
            );
        }
        let all = unknown.then_some(0..self.procs.len());
        let indexed = (!unknown).then(|| {
            let probed = self.due.probed.iter().copied();
            probed.chain(self.due.dirty.iter().copied())
        });
        all.into_iter()
            .flatten()
            .chain(indexed.into_iter().flatten())
    }

    /// Every clean answer is what the machine says now, and the earliest is the walk's.
    #[cfg(debug_assertions)]
    fn check_due(&self, now: Now, best: Option<Instant>) {
        for (id, slot) in self.due.slots.iter().enumerate() {
            if let Slot::Clean(recorded) = *slot {
                let answer = self.answer(id);
                assert_eq!(recorded, answer, "stale due index for process {id}");
            }
        }
        for p in self.procs.iter().flatten() {
            if p.id >= self.due.slots.len() {
                assert_eq!(
                    self.answer(p.id),
                    PollAt::Ingress,
                    "process {} unindexed",
                    p.id
                );
            }
        }
        assert_eq!(best, self.machines_walk(now), "due index and walk disagree");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::machine::Input;
    use crate::testutil::{process_config, program_group, supervisor};
    use std::time::Duration;

    fn idle(n: usize) -> Supervisor {
        let procs = (0..n)
            .map(|i| {
                let mut pc = process_config(&format!("p{i}"), "/bin/cat");
                pc.autostart = false;
                pc
            })
            .collect();
        supervisor(vec![program_group("g", procs)])
    }

    #[test]
    fn idle_processes_are_not_indexed() {
        let mut s = idle(1000);
        s.refresh_due();
        assert!(s.due.now.is_empty() && s.due.deadlines.is_empty() && s.due.dirty.is_empty());
        assert!(s.due.probed.is_empty());
        assert_eq!(s.due_next(Now::current()), None);
    }

    #[test]
    fn a_step_moves_its_process_in_the_index() {
        let mut s = idle(3);
        let now = Now::current();
        s.refresh_due();
        // A failed spawn (no fork): BACKOFF, its retry a second away.
        let mut pc = (*s.process(1).unwrap().config).clone();
        pc.command = "/nonexistent/command".into();
        s.process_mut_for_tests(1).config = pc.into();
        s.apply(1, Input::Start, now);
        assert_eq!(s.due.dirty, vec![1]);
        let retry = s.due_next(now).expect("a retry");
        assert!(retry > now.mono);
        s.refresh_due();
        assert_eq!(s.due.deadlines.len(), 1);
        let later = retry + Duration::from_millis(1);
        assert_eq!(s.due.due_ids(later).collect::<Vec<_>>(), vec![1]);
        assert!(s.due.is_due(1, later) && !s.due.is_due(0, later));
        // Shutting down closes the gate: the index is recomputed whole.
        s.shut_down(super::super::supervisor::ShutdownReason::Request);
        assert_eq!(s.due_next(now), None);
        assert_eq!(s.refresh_due().len(), 3);
        assert!(s.due.deadlines.is_empty());
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "stale due index")]
    fn a_change_behind_the_index_is_caught() {
        let mut s = idle(2);
        s.refresh_due();
        // autostart turned on with no mark: the machine would now start at once.
        let mut pc = (*s.process(0).unwrap().config).clone();
        pc.autostart = true;
        s.procs[0].as_mut().unwrap().config = pc.into();
        s.due_next(Now::current());
    }

    #[test]
    fn start_positions_follow_the_order() {
        let mut due = Due::default();
        due.set_order(&[4, 2, 0]);
        assert_eq!(due.pos(4), Some(0));
        assert_eq!(due.pos(0), Some(2));
        assert_eq!(due.pos(1), None);
        assert_eq!(due.pos(9), None);
    }
}
