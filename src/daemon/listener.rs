//! The listener protocol on an event listener's stdout: READY and RESULT messages, the
//! result handler's verdict (accept, reject with max_retry, error), protocol violations and
//! hang-ups (a stdout at its end while the listener runs on).

use super::events::pool_of;
use super::supervisor::{Process, Supervisor};
use crate::events::handlers::Verdict;
use crate::events::listener::{Message, Protocol};
use crate::events::pool::Queued;
use crate::process::{Input, Now, ProcessState};
use std::time::{Duration, Instant};

/// How long a listener whose stdout reached its end may take to exit before that counts as a
/// protocol violation. A listener that exits closes its stdout a moment before it can be
/// reaped; one that closed it and runs on would hold its pool's events forever.
pub(super) const HANGUP_GRACE: Duration = Duration::from_secs(1);

/// An event listener process's side of the protocol.
pub struct Listener {
    pub protocol: Protocol,
    /// The event sent to this listener and not answered yet.
    pub(super) in_flight: Option<Queued>,
    /// A busy listener whose stdout is not watched (nothing else waits for it, see
    /// `park::COLLECT_DELAY`): its reply is read when its pool needs it, or by this time.
    pub(super) collect_by: Option<Instant>,
    /// A listener whose stdout reached its end while it ran: if it still runs at this time
    /// (`HANGUP_GRACE`), it has broken the protocol rather than begun to exit.
    pub(super) hangup_by: Option<Instant>,
}

impl Listener {
    pub(super) fn new() -> Box<Listener> {
        Box::new(Listener {
            protocol: Protocol::new(),
            in_flight: None,
            collect_by: None,
            hangup_by: None,
        })
    }
}

impl Process {
    pub(super) fn collect_by(&self) -> Option<Instant> {
        self.listener.as_ref().and_then(|l| l.collect_by)
    }

    pub(super) fn in_flight_take(&mut self) -> Option<Queued> {
        self.listener.as_mut().and_then(|l| l.in_flight.take())
    }

    /// Forgets both listener deadlines (the reply to collect, the hang-up grace).
    pub(super) fn clear_collect_by(&mut self) {
        if let Some(l) = self.listener.as_mut() {
            l.collect_by = None;
            l.hangup_by = None;
        }
    }
}

impl Supervisor {
    /// A listener's stdout: the protocol, the result handler, and what follows from them.
    /// Delivery to a listener that became READY happens in the loop's dispatch (the pool is
    /// marked pending). `exited`: the listener's last words, read after it died.
    pub(super) fn listener_output(&mut self, id: usize, data: &[u8], exited: bool, now: Now) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let Some(proto) = p.listener.as_mut().map(|l| &mut l.protocol) else {
            return;
        };
        let mut messages = std::mem::take(&mut self.messages);
        proto.feed_into(data, &mut messages);
        for m in messages.drain(..) {
            // Names are borrowed on the common path: this runs for every event delivered.
            let Some(p) = self.procs.get(id).and_then(|p| p.as_ref()) else {
                return;
            };
            match m {
                Message::Ready => {
                    self.log
                        .debug_with(|| format!("{}: ACKNOWLEDGED -> READY", p.config.name));
                    if p.machine.awaits_ready() {
                        self.apply(id, Input::Ready, now);
                    }
                }
                Message::Result(body) => {
                    self.log
                        .debug_with(|| format!("{}: BUSY -> ACKNOWLEDGED", p.config.name));
                    self.handle_result(id, &body, now);
                }
                Message::Garbage(what) if exited => {
                    self.log.warn(&format!("{}: {what}", p.config.name));
                }
                Message::Garbage(what) => self.listener_failed(id, &what, now),
            }
        }
        self.messages = messages;
        let Some(p) = self.procs.get(id).and_then(|p| p.as_ref()) else {
            return;
        };
        if let Some(ps) = pool_of(&mut self.groups, &p.group) {
            ps.pending |= !ps.pool.is_empty();
        }
    }

    /// A listener broke the protocol (or closed its stdout): it gets no more events, and the
    /// event it held goes back to its pool, counted against max_retry like a rejection (so an
    /// event that always provokes a violation ends the listener in FATAL). The listener is
    /// stopped as a failed start (Input::Failed): BACKOFF, another try after the delay, FATAL
    /// after startretries. Supervisor leaves it UNKNOWN, never to receive an event again;
    /// restarting it at once instead made a broken listener respawn in a tight loop.
    fn listener_failed(&mut self, id: usize, what: &str, now: Now) {
        let Some(p) = self.process_mut(id) else {
            return;
        };
        if let Some(l) = p.listener.as_mut() {
            l.protocol.hang_up();
        }
        let (name, group) = (p.config.name.clone(), p.group.clone());
        let before = if p.machine.awaits_ready() {
            " before READY"
        } else {
            ""
        };
        let running = matches!(
            p.machine.state(),
            ProcessState::Starting | ProcessState::Running
        );
        let held = p.in_flight_take();
        let mut outcome = if running {
            "; stopping it as a failed start".to_string()
        } else {
            String::new()
        };
        let mut retire = false;
        if let Some(mut q) = held {
            let max_retry = pool_of(&mut self.groups, &group).map_or(0, |ps| ps.max_retry);
            let count = q.rejected_by(id);
            if max_retry > 0 && count >= max_retry {
                outcome = format!(
                    "; it did so on event {} {count} times (max_retry={max_retry}): the listener goes FATAL",
                    q.serial
                );
                retire = true;
            }
            self.rebuffer(&group, q);
        }
        self.log.warn(&format!(
            "{name}: event listener protocol violation{before}: {what}{outcome}"
        ));
        if retire {
            self.apply(id, Input::Retire, now);
        } else if running {
            let message = format!("protocol violation: {what}");
            self.apply(id, Input::Failed { message }, now);
        }
    }

    /// A listener's stdout reached its end (`Supervisor::read_channel`): it can never answer
    /// again. If it is still running `HANGUP_GRACE` later, that is a violation.
    pub(super) fn listener_hangup(p: &mut Process, now: Instant) {
        let running = p.machine.pid != 0;
        if let Some(l) = p.listener.as_mut() {
            l.protocol.hang_up();
            if running {
                l.hangup_by = Some(now + HANGUP_GRACE);
            }
        }
    }

    /// When the first hung-up listener's grace ends (`timers`).
    pub(super) fn hangups_next(&self, _: Now) -> Option<Instant> {
        self.pool_members()
            .filter_map(|id| self.process(id)?.listener.as_ref()?.hangup_by)
            .min()
    }

    /// Listeners that closed their stdout and did not exit within `HANGUP_GRACE`.
    pub(super) fn hangups_due(&mut self, now: Now) {
        // Only listeners can hang up: the pools' members, not every process.
        let listeners: Vec<usize> = self
            .groups
            .pools()
            .iter()
            .flat_map(|&gid| self.groups[gid].members.iter().copied())
            .collect();
        for id in listeners {
            let due = self
                .process(id)
                .and_then(|p| p.listener.as_ref())
                .and_then(|l| l.hangup_by)
                .is_some_and(|d| d <= now.mono);
            if due {
                if let Some(l) = self.process_mut(id).and_then(|p| p.listener.as_mut()) {
                    l.hangup_by = None;
                }
                self.listener_failed(id, "closed its stdout and kept running", now);
            }
        }
    }

    fn handle_result(&mut self, id: usize, body: &[u8], now: Now) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let Some(mut q) = p.in_flight_take() else {
            return;
        };
        let Some(ps) = pool_of(&mut self.groups, &p.group) else {
            return;
        };
        let (verdict, actions) = ps.handler.handle(body);
        if verdict == Verdict::Accept {
            ps.pool.delivered += 1;
            self.log
                .debug_with(|| format!("{}: event was processed", p.config.name));
            if actions.is_empty() {
                return;
            }
        }
        let max_retry = ps.max_retry;
        let (name, group) = (p.config.name.clone(), p.group.clone());
        if verdict != Verdict::Accept {
            ps.pool.rejected += 1;
            match &verdict {
                Verdict::Error(e) => self
                    .log
                    .error(&format!("{name}: event caused an error: {e}")),
                _ => self.log.warn(&format!("{name}: event was rejected")),
            }
            let count = q.rejected_by(id);
            if max_retry > 0 && count >= max_retry {
                self.log.error(&format!(
                    "{name}: rejected event {} {count} times (max_retry={max_retry}); the listener goes FATAL",
                    q.serial
                ));
                self.apply(id, Input::Retire, now);
            }
            self.rebuffer(&group, q);
        }
        if !matches!(verdict, Verdict::Error(_)) {
            for a in actions {
                self.run_action(&name, a, now);
            }
        }
    }
}
