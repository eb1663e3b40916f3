//! Every child the daemon forked, by pid, with what it belongs to: an entry is made when the
//! child is forked (or a process names a new main pid) and taken when it is reaped, so
//! `Supervisor::reap` dispatches on the owner and logs only true strangers (orphans
//! reparented to us as PID 1 or subreaper) as unknown. A new kind of child is one more
//! `Owner` variant, and the compiler then points at the one `match` in `reap`.

use crate::probe::Purpose;
use std::collections::HashMap;

/// What a child of ours is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Process `id`'s child: the one it spawned, or the main pid it named (sd_notify
    /// `MAINPID=`), whose exit is the process's exit.
    Process(usize),
    /// A probe command (`/bin/sh -c ...`) checking process `id` for `Purpose`.
    Probe(usize, Purpose),
}

/// The pid table (`Supervisor::pids`).
#[derive(Debug, Default)]
pub struct Pids {
    by_pid: HashMap<i32, Owner>,
}

impl Pids {
    /// Records a child just forked (or followed).
    pub fn insert(&mut self, pid: i32, owner: Owner) {
        self.by_pid.insert(pid, owner);
    }

    /// The owner of a reaped child, forgotten: a pid is recorded until its child is reaped
    /// (the kernel does not give it out again before), never longer.
    pub fn remove(&mut self, pid: i32) -> Option<Owner> {
        self.by_pid.remove(&pid)
    }

    pub fn contains(&self, pid: i32) -> bool {
        self.by_pid.contains_key(&pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reaped_pid_names_its_owner_once() {
        let mut pids = Pids::default();
        pids.insert(10, Owner::Process(3));
        pids.insert(11, Owner::Probe(3, Purpose::Health));
        assert!(pids.contains(10) && pids.contains(11) && !pids.contains(12));
        assert_eq!(pids.remove(11), Some(Owner::Probe(3, Purpose::Health)));
        assert_eq!(pids.remove(11), None);
        assert_eq!(pids.remove(10), Some(Owner::Process(3)));
        assert_eq!(pids.remove(12), None);
    }
}
