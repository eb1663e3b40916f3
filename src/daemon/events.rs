//! The daemon side of events: emitting into subscribed pools (marked pending, and delivered
//! by the loop before it sleeps again), PROCESS_STATE events, and dispatching buffered events
//! to READY listeners. The rest lives beside it: parked listeners (`park`), the listener
//! protocol (`listener`), handler actions (`actions`), TICK events (`ticks`) and the shutdown
//! drain (`shutdown`).

use super::supervisor::{Groups, Mood, Supervisor};
use super::ticks::TICKS;
use crate::config::{GroupConfig, GroupKind};
use crate::events::event::{self, Event, StateInfo};
use crate::events::handlers::{self, ResultHandler};
use crate::events::listener::ListenerState;
use crate::events::pool::{Pool, Queued};
use crate::process::waitstatus::signal_name;
use crate::process::{Now, ProcessState};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The global event serial: process-wide, so it survives restarts (events.md §7).
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(0);

/// A listener pool's runtime: its buffer, result handler and whether it has news to deliver.
pub struct PoolState {
    pub pool: Pool,
    pub(super) handler: Box<dyn ResultHandler>,
    pub(super) max_retry: u32,
    /// Set when an event enters the buffer; the loop dispatches before it sleeps. A flag, not
    /// a wake-up fd: every emit happens on the loop's own thread.
    pub(super) pending: bool,
    /// Which of `TICKS` the pool subscribes to, worked out once: the loop asks every turn.
    pub(super) ticks: [bool; 3],
}

/// The pool of the group named `group`. A free function so that callers can hold a process
/// (borrowed from `procs`) while they use it.
pub(super) fn pool_of<'a>(groups: &'a mut Groups, group: &str) -> Option<&'a mut PoolState> {
    groups.get_mut(group).and_then(|g| g.pool.as_deref_mut())
}

impl Supervisor {
    /// The pool runtime for an `[eventlistener:x]` group.
    pub(super) fn make_pool(&mut self, gc: &GroupConfig) -> Option<PoolState> {
        let GroupKind::EventListener(lc) = &gc.kind else {
            return None;
        };
        let pool = Pool::new(&gc.name, &lc.events, lc.buffer_size);
        Some(PoolState {
            ticks: TICKS.map(|(_, kind)| pool.subscribes(kind)),
            pool,
            handler: handlers::by_name(&lc.result_handler),
            max_retry: lc.max_retry.max(0) as u32,
            pending: false,
        })
    }

    /// Offers an event to every subscribed pool. The global serial is taken only if some pool
    /// accepts it.
    pub fn emit(&mut self, ev: Event) {
        let ev = Rc::new(ev);
        let mut serial = None;
        let log = &mut self.log;
        // Only the pools: with thousands of program groups, a walk over every group for every
        // state change made starting them all quadratic.
        for i in 0..self.groups.pools().len() {
            let gid = self.groups.pools()[i];
            let Some(ps) = self.groups.at_mut(gid).and_then(|g| g.pool.as_mut()) else {
                continue;
            };
            if !ps.pool.subscribes(ev.kind) {
                continue;
            }
            let s = *serial.get_or_insert_with(|| NEXT_SERIAL.fetch_add(1, Ordering::SeqCst));
            if let Some(dropped) = ps.pool.accept(s, Rc::clone(&ev)) {
                log.error(&format!(
                    "pool {} event buffer overflowed, discarding event {dropped}",
                    ps.pool.name
                ));
            }
            ps.pending = true;
        }
    }

    /// Every process state change becomes its PROCESS_STATE_* event (and, for an unexpected
    /// exit, the project's PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY too).
    pub(super) fn emit_state_events(&mut self, id: usize, from: ProcessState, to: ProcessState) {
        let Some(p) = self.process(id) else { return };
        let m = &p.machine;
        let pid = match to {
            ProcessState::Running | ProcessState::Stopping => m.pid,
            ProcessState::Stopped if from == ProcessState::Backoff => 0,
            _ => m.last_pid,
        };
        let info = StateInfo {
            name: &p.config.name,
            group: &p.group,
            from,
            to,
            tries: m.backoff,
            pid,
            expected: m.expected,
        };
        let mut events = vec![event::process_state(&info)];
        if to == ProcessState::Exited && !m.expected {
            let status = match m.last_signal {
                Some(sig) => Err(signal_name(sig)),
                None => Ok(m.exitstatus),
            };
            events.push(event::exited_unexpectedly(
                &p.config.name,
                &p.group,
                pid,
                status,
            ));
        }
        for e in events {
            self.emit(e);
        }
    }

    /// Delivers what emits since the last call left in the pools. Dispatching can emit again
    /// (into this or another pool), so it repeats, a bounded number of times: whatever is still
    /// pending after that makes `next_timeout` zero and is delivered on the next turn.
    /// Then the log bytes held back for those events are written (`Supervisor::unlogged`).
    pub(super) fn dispatch_pending(&mut self, now: Now) {
        for _ in 0..=self.groups.pools().len() {
            let Some(gi) = self
                .groups
                .pools()
                .iter()
                .copied()
                .find(|&gid| self.groups[gid].pool.as_ref().is_some_and(|p| p.pending))
            else {
                break;
            };
            if let Some(ps) = self.groups[gi].pool.as_mut() {
                ps.pending = false;
            }
            self.dispatch(gi, now);
        }
        self.flush_logs();
    }

    /// Every listener: the members of every pool.
    pub(super) fn pool_members(&self) -> impl Iterator<Item = usize> + '_ {
        self.groups
            .pools()
            .iter()
            .flat_map(|&gid| self.groups[gid].members.iter().copied())
    }

    /// Some pool holds events not yet offered to its listeners.
    pub(super) fn dispatch_due(&self) -> bool {
        self.groups
            .pools()
            .iter()
            .any(|&gid| self.groups[gid].pool.as_ref().is_some_and(|p| p.pending))
    }

    /// A RUNNING, READY listener of the pool with group id `gi`.
    fn ready_listener(&self, gi: usize) -> Option<usize> {
        self.groups[gi].members.iter().copied().find(|&id| {
            self.process(id).is_some_and(|p| {
                p.machine.state() == ProcessState::Running
                    && p.listener.as_ref().map(|l| l.protocol.state()) == Some(ListenerState::Ready)
            })
        })
    }

    /// Hands buffered events of the pool of group `gi` to its RUNNING+READY listeners,
    /// oldest first. (Nothing that runs here adds or removes groups, so `gi` stays valid.)
    pub(super) fn dispatch(&mut self, gi: usize, now: Now) {
        let mut collected = false;
        loop {
            let Some(ps) = self.groups.at(gi).and_then(|g| g.pool.as_ref()) else {
                return;
            };
            if ps.pool.is_empty() {
                return;
            }
            let Some(id) = self.ready_listener(gi) else {
                // Busy listeners whose replies were left unread may be ready by now.
                if !collected {
                    collected = true;
                    if self.collect_group(gi, now) {
                        continue;
                    }
                }
                self.watch_group(gi);
                return;
            };
            let g = &mut self.groups[gi];
            let Some(q) = g.pool.as_mut().and_then(|ps| ps.pool.pop()) else {
                return;
            };
            let mut text = std::mem::take(&mut self.scratch);
            text.clear();
            q.event.write_notification(
                &mut text,
                &self.config.supervisord.identifier,
                q.serial,
                &g.config.name,
                q.poolserial,
            );
            let sent = self.queue_stdin(id, &text);
            self.scratch = text;
            let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
                return;
            };
            let name = &p.config.name;
            if sent.is_err() {
                self.log.debug(&format!(
                    "epipe occurred while sending event {} to listener {name}, listener state unchanged",
                    q.serial
                ));
                if let Some(ps) = self.groups[gi].pool.as_mut() {
                    ps.pool.unpop(q);
                }
                return;
            }
            self.log
                .debug_with(|| format!("event {} sent to listener {name}", q.serial));
            if let Some(l) = p.listener.as_mut() {
                l.protocol.sent();
                l.in_flight = Some(q);
            }
            let idle = self.groups[gi]
                .pool
                .as_ref()
                .is_some_and(|ps| ps.pool.is_empty());
            if idle && self.mood == Mood::Running {
                self.park(id, now.mono);
            }
        }
    }

    /// A listener that reached RUNNING may take what its pool buffered while it started
    /// (its READY came first when startsecs > 0, and then nothing was offered to it).
    pub(super) fn listener_running(&mut self, id: usize) {
        let Some(p) = self.process(id) else { return };
        if p.listener.is_none() {
            return;
        }
        let group = p.group.clone();
        if let Some(ps) = self.pool_mut(&group) {
            ps.pending = true;
        }
    }

    fn pool_mut(&mut self, group: &str) -> Option<&mut PoolState> {
        pool_of(&mut self.groups, group)
    }

    /// Puts an event back at the head of the pool it came from (and only that one: README E3).
    pub(super) fn rebuffer(&mut self, group: &str, q: Queued) {
        let name = group.to_string();
        let Some(ps) = self.pool_mut(group) else {
            return;
        };
        let serial = q.serial;
        let dropped = ps.pool.rebuffer(q);
        let (n, max) = (ps.pool.len(), ps.pool.capacity());
        ps.pending = true;
        self.log.debug(&format!(
            "rebuffering event {serial} for pool {name} (buf size={n}, max={max})"
        ));
        if let Some(d) = dropped {
            self.log.error(&format!(
                "pool {name} event buffer overflowed, discarding event {d}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{GroupConfig, GroupKind, ListenerPoolConfig};
    use crate::log::MainLog;
    use crate::testutil::{config, process_config};

    fn with_pool(events: &[&str]) -> Supervisor {
        let mut sup =
            Supervisor::new(config(), Default::default(), MainLog::new(), Vec::new()).unwrap();
        sup.add_group(GroupConfig {
            name: "lst".into(),
            priority: -1,
            kind: GroupKind::EventListener(Box::new(ListenerPoolConfig {
                events: events.iter().map(|e| e.to_string()).collect(),
                buffer_size: 10,
                result_handler: "standard".into(),
                max_retry: 0,
            })),
            processes: vec![process_config("lst", "/bin/cat").into()],
        });
        sup
    }

    /// The event at the head of the pool's buffer.
    fn head(sup: &Supervisor) -> Option<(String, String)> {
        let q = sup.groups.get("lst")?.pool.as_ref()?.pool.peek()?;
        Some((q.event.kind.to_string(), q.event.payload.clone()))
    }

    #[test]
    fn fatal_state_emits_its_event_and_group_added_reaches_the_pool_itself() {
        let mut sup = with_pool(&["SUPERVISOR_STATE_CHANGE", "PROCESS_GROUP"]);
        assert_eq!(
            head(&sup),
            Some((
                "PROCESS_GROUP_ADDED".to_string(),
                "groupname:lst\n".to_string()
            ))
        );
        sup.enter_fatal("disk on fire");
        let ps = sup.groups.get_mut("lst").unwrap().pool.as_mut().unwrap();
        assert_eq!(ps.pool.len(), 2);
        ps.pool.pop();
        let q = ps.pool.pop().unwrap();
        assert_eq!(q.event.kind.name(), "SUPERVISOR_STATE_CHANGE_FATAL");
        assert_eq!(q.event.payload, "disk on fire");
        assert_eq!(sup.state_code(), (2, "FATAL"));
    }

    #[test]
    fn pools_get_only_what_they_subscribe_to() {
        let mut sup = with_pool(&["REMOTE_COMMUNICATION"]);
        sup.emit(Event::new(crate::events::EventKind::Tick5, "when:5"));
        assert_eq!(head(&sup), None);
        sup.remote_comm_event("t", "d");
        assert_eq!(
            head(&sup),
            Some(("REMOTE_COMMUNICATION".to_string(), "type:t\nd".to_string()))
        );
    }
}
