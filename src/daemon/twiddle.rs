//! Changing the active configuration without a file, for the twiddler interface
//! (`api::twiddler`): an empty group, processes added to a running program group, a stopped
//! process removed from one. Nothing is written back: a reread compares the file with what
//! runs, so a twiddled group shows as changed (and `update` restores the file's version), as
//! with Supervisor and supervisor_twiddler.

use super::supervisor::Supervisor;
use crate::config::{GroupConfig, GroupKind, ProcessConfig};
use std::sync::Arc;

/// Why a twiddle was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwiddleError {
    NoSuchGroup,
    /// An event listener pool or an fcgi-program group: their processes are made for them.
    NotProgramGroup,
    /// A process of that name is in the group already.
    Exists(String),
    NoSuchProcess,
    /// The process has a pid or is not in a stopped state.
    StillRunning,
}

impl Supervisor {
    /// A program group without processes (twiddler's `addGroup`); PROCESS_GROUP_ADDED is
    /// emitted as for any added group. False when the name is taken.
    pub fn add_empty_group(&mut self, name: &str, priority: i64) -> bool {
        if self.group(name).is_some() {
            return false;
        }
        self.add_group(GroupConfig {
            name: name.to_string(),
            priority,
            kind: GroupKind::Program,
            processes: Vec::new(),
        });
        true
    }

    /// Adds `procs` (one program's processes) to the program group `group`, after its own
    /// in start order. They are STOPPED; the loop starts those with autostart as it does for
    /// a new group. Nothing is added when one name is taken.
    pub fn add_processes(
        &mut self,
        group: &str,
        procs: Vec<Arc<ProcessConfig>>,
    ) -> Result<(), TwiddleError> {
        let g = self.group(group).ok_or(TwiddleError::NoSuchGroup)?;
        if !matches!(g.config.kind, GroupKind::Program) {
            return Err(TwiddleError::NotProgramGroup);
        }
        if let Some(taken) = procs.iter().find(|pc| self.find(group, &pc.name).is_some()) {
            return Err(TwiddleError::Exists(taken.name.clone()));
        }
        let ids: Vec<usize> = procs
            .iter()
            .map(|pc| self.new_process(group, pc, false))
            .collect();
        if let Some(g) = self.groups.get_mut(group) {
            g.add_members(ids, procs);
        }
        // The cached start order lists members: it is made again with the new ones.
        self.groups_changed();
        Ok(())
    }

    /// Forgets the stopped process `name` of the program group `group`.
    pub fn remove_process(&mut self, group: &str, name: &str) -> Result<(), TwiddleError> {
        let g = self.group(group).ok_or(TwiddleError::NoSuchGroup)?;
        if !matches!(g.config.kind, GroupKind::Program) {
            return Err(TwiddleError::NotProgramGroup);
        }
        let id = self.find(group, name).ok_or(TwiddleError::NoSuchProcess)?;
        let running = self
            .process(id)
            .is_some_and(|p| p.machine.pid != 0 || !p.machine.state().is_stopped());
        if running {
            return Err(TwiddleError::StillRunning);
        }
        if let Some(g) = self.groups.get_mut(group) {
            g.remove_member(id, name);
        }
        self.groups_changed();
        if let Some(slot) = self.procs.get_mut(id) {
            *slot = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Input, Now, ProcessState};
    use crate::testutil::{process_config, program_group, supervisor};

    fn sup() -> Supervisor {
        supervisor(vec![program_group(
            "grp",
            vec![process_config("a", "/bin/cat")],
        )])
    }

    #[test]
    fn processes_join_and_leave_a_running_group() {
        let mut s = sup();
        assert_eq!(
            s.add_processes("grp", vec![process_config("a", "/bin/true").into()]),
            Err(TwiddleError::Exists("a".into()))
        );
        assert_eq!(
            s.add_processes("nope", vec![process_config("b", "/bin/true").into()]),
            Err(TwiddleError::NoSuchGroup)
        );
        s.add_processes(
            "grp",
            vec![
                process_config("b", "/bin/true").into(),
                process_config("c", "x").into(),
            ],
        )
        .unwrap();
        let b = s.find("grp", "b").expect("b was added");
        assert_eq!(s.process_ids().len(), 3);
        assert_eq!(s.group("grp").map(|g| g.config.processes.len()), Some(3));
        assert_eq!(s.process(b).map(|p| p.group.as_str()), Some("grp"));

        // A process that runs cannot be removed; a stopped one can.
        let now = Now::current();
        let p = s.process_mut_for_tests(b);
        let cfg = p.config.clone();
        p.machine.step(&cfg, Input::Start, now);
        p.machine.step(&cfg, Input::Spawned { pid: 4242 }, now);
        assert_eq!(p.machine.state(), ProcessState::Starting);
        assert_eq!(
            s.remove_process("grp", "b"),
            Err(TwiddleError::StillRunning)
        );
        assert_eq!(
            s.remove_process("grp", "zz"),
            Err(TwiddleError::NoSuchProcess)
        );
        s.remove_process("grp", "c").unwrap();
        assert!(s.find("grp", "c").is_none());
        assert_eq!(s.group("grp").map(|g| g.config.processes.len()), Some(2));
        assert_eq!(s.process_ids().len(), 2);
    }

    #[test]
    fn empty_groups_take_new_names_only() {
        let mut s = sup();
        assert!(!s.add_empty_group("grp", 5));
        assert!(s.add_empty_group("dyn", 5));
        assert_eq!(s.group("dyn").map(|g| g.members.len()), Some(0));
        s.add_processes("dyn", vec![process_config("x", "/bin/true").into()])
            .unwrap();
        assert!(s.find("dyn", "x").is_some());
    }
}
