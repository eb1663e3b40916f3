//! The stop phase of shutdown and restart: groups are stopped in waves from the highest
//! priority down (all groups of one priority together, listener pools last: the waves of
//! `Groups::stop_order`, from the rank start order comes from too), each wave waiting for its
//! processes before the next. Each step costs what changed since the last one, not a walk
//! over every process: the loop steps on every wake-up while children exit.

use super::groups::Wave;
use super::supervisor::Supervisor;
use crate::events::{Event, EventKind};
use crate::process::Now;
use std::time::{Duration, Instant};

/// Shutdown progress, kept between steps.
pub struct StopOrder {
    /// The groups not told to stop yet with their waves, in reverse (`Groups::stop_order`):
    /// the last wave is stopped next.
    groups: Vec<(usize, Wave)>,
    /// Processes of the current wave not yet seen stopped (checked from the end).
    waiting: Vec<usize>,
}

impl Supervisor {
    /// One step of the stop phase. Returns true when nothing is left running.
    pub fn shutdown_step(&mut self, now: Now) -> bool {
        let mut order = match self.stop_order.take() {
            Some(o) => o,
            None => self.stop_order_new(),
        };
        // Groups of the same priority (and kind) are stopped together, as one wave; the next
        // wave starts when every process of this one is stopped. Supervisor stops them one
        // group at a time, so a shutdown took the sum of their stop times, not the longest.
        let mut blocked = false;
        loop {
            if let Some(&(_, wave)) = order.groups.last() {
                if order.waiting.is_empty() {
                    // The draining state is global: if one pool must wait, all of them do.
                    while let Some(&(gid, key)) = order.groups.last() {
                        if key != wave {
                            break;
                        }
                        if !self.drained(gid, now) {
                            blocked = true;
                            break;
                        }
                        order.groups.pop();
                        let members = self
                            .groups
                            .at(gid)
                            .map(|g| g.members.clone())
                            .unwrap_or_default();
                        for &id in &members {
                            // Its dependents (in any wave) first (`order`).
                            self.stop_ordered(id, true, now);
                        }
                        order.waiting.extend(members.into_iter().rev());
                    }
                }
            }
            self.wait_wave(&mut order.waiting, now);
            if blocked || !order.waiting.is_empty() || order.groups.is_empty() {
                break;
            }
        }
        let done = if !order.waiting.is_empty() {
            false
        } else if blocked {
            // Only pools are left (they come last), waiting for their drain: with no
            // listener running there is nobody to drain to.
            order.groups.iter().all(|&(gid, _)| self.group_stopped(gid))
        } else {
            // Every wave is done; a listener's command handler may have started something
            // since its wave stopped, which is stopped now.
            let late = self.unstopped();
            for &id in &late {
                self.stop_ordered(id, true, now);
            }
            late.is_empty()
        };
        self.stop_order = Some(order);
        if done {
            return true;
        }
        if self
            .last_wait_log
            .is_none_or(|t| now.mono.duration_since(t) >= Duration::from_secs(3))
        {
            self.last_wait_log = Some(now.mono);
            let names: Vec<&str> = self
                .unstopped()
                .into_iter()
                .filter_map(|id| self.process(id))
                .map(|p| p.config.name.as_str())
                .collect();
            let line = format!("waiting for {} to die", names.join(", "));
            self.log.info(&line);
        }
        false
    }

    fn stop_order_new(&mut self) -> StopOrder {
        self.emit(Event::new(EventKind::SupervisorStateChangeStopping, ""));
        // Programs first (highest priority down), listener pools last.
        let mut groups: Vec<(usize, Wave)> = self.groups.stop_order().collect();
        groups.reverse();
        StopOrder {
            groups,
            waiting: Vec::new(),
        }
    }

    /// Drops the processes at the end of `waiting` that are stopped, up to the first that is
    /// not, which is told again to stop (a listener's command handler may have started it).
    fn wait_wave(&mut self, waiting: &mut Vec<usize>, now: Now) {
        let mut told = false;
        while let Some(&id) = waiting.last() {
            if self
                .process(id)
                .is_none_or(|p| p.machine.state().is_stopped())
            {
                waiting.pop();
            } else if !told {
                told = true;
                self.stop_ordered(id, true, now);
            } else {
                break;
            }
        }
    }

    fn group_stopped(&self, gid: usize) -> bool {
        self.groups.at(gid).is_none_or(|g| {
            g.members.iter().all(|&id| {
                self.process(id)
                    .is_none_or(|p| p.machine.state().is_stopped())
            })
        })
    }

    /// Every process not stopped, in start order.
    fn unstopped(&self) -> Vec<usize> {
        self.process_ids()
            .into_iter()
            .filter(|&id| {
                self.process(id)
                    .is_some_and(|p| !p.machine.state().is_stopped())
            })
            .collect()
    }
}

impl Supervisor {
    /// The drain's deadline while it waits (`timers`).
    pub(super) fn drain_next(&self, _: Now) -> Option<Instant> {
        self.drain_deadline
    }

    /// Buffered events and busy listeners of every pool: what a drain waits for.
    pub(super) fn undelivered(&self) -> (usize, usize) {
        let pools = || self.groups.pools().iter().map(|&gid| &self.groups[gid]);
        let buffered = pools()
            .filter_map(|g| g.pool.as_ref())
            .map(|ps| ps.pool.len())
            .sum();
        let busy = pools()
            .flat_map(|g| g.members.iter())
            .filter(|&&id| {
                self.process(id)
                    .is_some_and(|p| p.listener.as_ref().is_some_and(|l| l.in_flight.is_some()))
            })
            .count();
        (buffered, busy)
    }
    /// Shutdown drain (project extension): before a listener pool is stopped, keep serving it
    /// until nothing is buffered or in flight, or `event_drain_secs` pass. True when the group
    /// with id `gid` may be stopped now.
    pub(super) fn drained(&mut self, gid: usize, now: Now) -> bool {
        let is_pool = self.groups.at(gid).is_some_and(|g| g.pool.is_some());
        if !is_pool || self.drain_done {
            return true;
        }
        let secs = self.config.supervisord.event_drain_secs;
        let (buffered, busy) = self.undelivered();
        if secs <= 0 || (buffered == 0 && busy == 0) {
            if self.drain_deadline.is_some() {
                self.log.info("event listeners drained");
            }
            self.drain_done = true;
            self.drain_deadline = None;
            return true;
        }
        match self.drain_deadline {
            None => {
                self.log.info(&format!(
                    "waiting up to {secs} s for event listeners to take {buffered} buffered event(s)"
                ));
                self.drain_deadline = Some(now.mono + Duration::from_secs(secs as u64));
                false
            }
            Some(d) if now.mono >= d => {
                self.log.warn(&format!(
                    "event drain timed out after {secs} s: {buffered} buffered event(s) dropped, {busy} in flight"
                ));
                self.drain_done = true;
                self.drain_deadline = None;
                true
            }
            Some(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GroupConfig;
    use crate::testutil::{process_config, program_group, supervisor};

    fn sup_with(groups: usize) -> Supervisor {
        let groups = (0..groups).map(|i| {
            let mut pc = process_config(&format!("p{i}"), "/bin/true");
            pc.autostart = false;
            GroupConfig {
                priority: (i % 3) as i64,
                ..program_group(&format!("p{i}"), vec![pc])
            }
        });
        supervisor(groups.collect())
    }

    #[test]
    fn stopped_groups_finish_in_one_step() {
        let mut sup = sup_with(3);
        assert!(sup.shutdown_step(Now::current()));
        assert!(sup.shutdown_step(Now::current()));
    }

    #[test]
    fn many_groups_stop_in_linear_time() {
        // 10^5 groups in three waves; a lookup by scan per group, or a walk over every
        // process per wave, is 10^10 steps.
        let mut sup = sup_with(100_000);
        assert!(sup.shutdown_step(Now::current()));
        let order = sup.stop_order.as_ref().unwrap();
        assert!(order.groups.is_empty() && order.waiting.is_empty());
    }
}
