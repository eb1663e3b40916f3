//! The daemon side of events: emitting into subscribed pools (marked pending, and delivered
//! by the loop before it sleeps again), dispatching to READY listeners, the listener
//! protocol on their stdout, result handlers and their actions, max_retry, TICK timers and the
//! shutdown drain.

use super::supervisor::{Groups, Mood, Supervisor};
use crate::config::{GroupConfig, GroupKind};
use crate::events::event::{self, Event, StateInfo};
use crate::events::handlers::{self, Action, ResultHandler, Verdict};
use crate::events::listener::{ListenerState, Message};
use crate::events::pool::{Pool, Queued};
use crate::events::EventKind;
use crate::output::{ReadResult, Stream};
use crate::process::waitstatus::signal_name;
use crate::process::{Input, Now, ProcessState};
use crate::sys::poller::Interest;
use std::os::fd::AsFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The global event serial: process-wide, so it survives restarts (events.md §7).
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(0);

const TICKS: [(u64, EventKind); 3] = [
    (5, EventKind::Tick5),
    (60, EventKind::Tick60),
    (3600, EventKind::Tick3600),
];

/// How long a busy listener's reply may wait unread while its pool has nothing else to send.
/// Waking up for a reply nobody waits for was half of the daemon's wake-ups (and CPU) under a
/// steady event stream: instead the reply is read when the pool's next event needs the
/// listener, in the same wake-up, or when this runs out (which also bounds how late a
/// rejected event is sent again). A listener that dies or closes its stdout still wakes the
/// loop at once (epoll reports a hang-up regardless).
pub(super) const COLLECT_DELAY: Duration = Duration::from_millis(100);

/// How long a listener whose stdout reached its end may take to exit before that counts as a
/// protocol violation. A listener that exits closes its stdout a moment before it can be
/// reaped; one that closed it and runs on would hold its pool's events forever.
pub(super) const HANGUP_GRACE: Duration = Duration::from_secs(1);

/// A listener pool's runtime: its buffer, result handler and whether it has news to deliver.
pub struct PoolState {
    pub pool: Pool,
    handler: Box<dyn ResultHandler>,
    max_retry: u32,
    /// Set when an event enters the buffer; the loop dispatches before it sleeps. A flag, not
    /// a wake-up fd: every emit happens on the loop's own thread.
    pending: bool,
    /// Which of `TICKS` the pool subscribes to, worked out once: the loop asks every turn.
    ticks: [bool; 3],
}

/// The pool of the group named `group`. A free function so that callers can hold a process
/// (borrowed from `procs`) while they use it.
fn pool_of<'a>(groups: &'a mut Groups, group: &str) -> Option<&'a mut PoolState> {
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
    pub(super) fn dispatch_pending(&mut self) {
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
            self.dispatch(gi);
        }
        self.flush_logs();
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
    pub(super) fn dispatch(&mut self, gi: usize) {
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
                    if self.collect_group(gi) {
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
                self.park(id);
            }
        }
    }

    /// Stops watching a busy listener's stdout until `COLLECT_DELAY` from now.
    fn park(&mut self, id: usize) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let (Some(ch), Some(l)) = (p.channels[0].as_ref(), p.listener.as_mut()) else {
            return;
        };
        if l.collect_by.is_none() {
            let key = super::supervisor::fd_key(id, Stream::Stdout);
            if self.poller.modify(ch.fd.as_fd(), key, None).is_err() {
                return;
            }
        }
        l.collect_by = Some(Instant::now() + COLLECT_DELAY);
    }

    /// Watches a parked listener's stdout again.
    fn unpark(&mut self, id: usize) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        if p.listener
            .as_mut()
            .and_then(|l| l.collect_by.take())
            .is_none()
        {
            return;
        }
        let Some(ch) = p.channels[0].as_ref() else {
            return;
        };
        let key = super::supervisor::fd_key(id, Stream::Stdout);
        if let Err(e) = self.poller.modify(ch.fd.as_fd(), key, Some(Interest::Read)) {
            let name = &p.config.name;
            self.log
                .error(&format!("cannot watch output of '{name}': {e}"));
        }
    }

    /// Reads what a parked listener wrote (without waiting). True if it was parked.
    fn collect(&mut self, id: usize) -> bool {
        if self.process(id).is_none_or(|p| p.collect_by().is_none()) {
            return false;
        }
        // Replies are a few bytes, so one short read nearly always empties the pipe; the
        // bound only keeps a babbling listener from holding the loop.
        for _ in 0..16 {
            match self.read_channel(id, 0) {
                ReadResult::Data(n) if n == self.buf.len() => {}
                _ => break,
            }
        }
        true
    }

    /// Collects every parked listener of group `gi`. True if there was any.
    fn collect_group(&mut self, gi: usize) -> bool {
        let mut any = false;
        let mut m = 0;
        while let Some(&id) = self.groups.at(gi).and_then(|g| g.members.get(m)) {
            any |= self.collect(id);
            m += 1;
        }
        any
    }

    /// Nothing in the pool can take its next event: wake up for the listeners' replies.
    fn watch_group(&mut self, gi: usize) {
        let mut m = 0;
        while let Some(&id) = self.groups.at(gi).and_then(|g| g.members.get(m)) {
            self.unpark(id);
            m += 1;
        }
    }

    /// Parked listeners whose time ran out (all of them once supervisord is stopping):
    /// read their replies and watch them again.
    pub(super) fn collect_due(&mut self, now: Instant) {
        let stopping = self.mood != Mood::Running;
        // Only the pools' members can be parked: no walk over every process each turn.
        for i in 0..self.groups.pools().len() {
            let gid = self.groups.pools()[i];
            let mut m = 0;
            while let Some(&id) = self.groups.at(gid).and_then(|g| g.members.get(m)) {
                let due = self
                    .process(id)
                    .and_then(|p| p.collect_by())
                    .is_some_and(|d| stopping || d <= now);
                if due {
                    self.collect(id);
                    self.unpark(id);
                }
                m += 1;
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
    fn rebuffer(&mut self, group: &str, q: Queued) {
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

    /// A listener's stdout: the protocol, the result handler, and what follows from them.
    /// Delivery to a listener that became READY happens in the loop's dispatch (the pool is
    /// marked pending). `exited`: the listener's last words, read after it died.
    pub(super) fn listener_output(&mut self, id: usize, data: &[u8], exited: bool) {
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
                        self.apply(id, Input::Ready, Now::current());
                    }
                }
                Message::Result(body) => {
                    self.log
                        .debug_with(|| format!("{}: BUSY -> ACKNOWLEDGED", p.config.name));
                    self.handle_result(id, &body);
                }
                Message::Garbage(what) if exited => {
                    self.log.warn(&format!("{}: {what}", p.config.name));
                }
                Message::Garbage(what) => self.listener_failed(id, &what),
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
    fn listener_failed(&mut self, id: usize, what: &str) {
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
        let now = Now::current();
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
    pub(super) fn listener_hangup(p: &mut super::supervisor::Process) {
        let running = p.machine.pid != 0;
        if let Some(l) = p.listener.as_mut() {
            l.protocol.hang_up();
            if running {
                l.hangup_by = Some(Instant::now() + HANGUP_GRACE);
            }
        }
    }

    /// Listeners that closed their stdout and did not exit within `HANGUP_GRACE`.
    pub(super) fn hangups_due(&mut self, now: Instant) {
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
                .is_some_and(|d| d <= now);
            if due {
                if let Some(l) = self.process_mut(id).and_then(|p| p.listener.as_mut()) {
                    l.hangup_by = None;
                }
                self.listener_failed(id, "closed its stdout and kept running");
            }
        }
    }

    fn handle_result(&mut self, id: usize, body: &[u8]) {
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
                self.apply(id, Input::Retire, Now::current());
            }
            self.rebuffer(&group, q);
        }
        if !matches!(verdict, Verdict::Error(_)) {
            for a in actions {
                self.run_action(&name, a);
            }
        }
    }

    /// Processes named like the API does: `group:name`, `group:*`, or `name`.
    fn find_spec(&self, spec: &str) -> Vec<usize> {
        let (group, name) = spec.split_once(':').unwrap_or((spec, spec));
        if name.is_empty() || name == "*" {
            return self
                .groups
                .get(group)
                .map(|g| g.members.clone())
                .unwrap_or_default();
        }
        self.find(group, name).into_iter().collect()
    }

    /// Carries out a `command` handler action, logging what was done.
    fn run_action(&mut self, listener: &str, action: Action) {
        let (verb, spec) = match &action {
            Action::Print(stream, bytes) => {
                print_own(*stream, bytes);
                return;
            }
            Action::Start(s) => ("start", s.clone()),
            Action::Stop(s) => ("stop", s.clone()),
            Action::Restart(s) => ("restart", s.clone()),
            Action::Signal(sig, s) => ("signal", format!("{sig} {s}")),
        };
        let target = match &action {
            Action::Signal(_, s) => s.clone(),
            _ => spec.clone(),
        };
        let ids = self.find_spec(&target);
        if ids.is_empty() {
            self.log.error(&format!(
                "{listener}: command handler: {verb} {spec}: no such process"
            ));
            return;
        }
        self.log
            .info(&format!("{listener}: command handler: {verb} {spec}"));
        let now = Now::current();
        for id in ids {
            let state = self.process(id).map(|p| p.machine.state());
            match &action {
                Action::Start(_) => {
                    if !state.is_some_and(|s| s.is_running()) && !self.hold_for_deps(id, now) {
                        self.apply(id, Input::Start, now);
                    }
                }
                Action::Stop(_) => self.stop_by_request(id, now),
                Action::Restart(_) => {
                    if state.is_some_and(|s| s.is_running()) {
                        if let Some(p) = self.process_mut(id) {
                            p.restart_pending = true;
                        }
                        self.apply(id, Input::Stop, now);
                    } else {
                        self.apply(id, Input::Start, now);
                    }
                }
                Action::Signal(sig, _) => match crate::config::types::signal_number(sig) {
                    Ok(n) => {
                        let _ = self.signal_process(id, n);
                    }
                    Err(e) => self.log.error(&format!("{listener}: command handler: {e}")),
                },
                // Returned before any process was looked up.
                Action::Print(..) => {}
            }
        }
    }

    /// After a process exited: an in-flight event goes back, a pending restart happens.
    pub(super) fn after_exit(&mut self, id: usize) {
        if let Some(q) = self.process_mut(id).and_then(|p| p.in_flight_take()) {
            let group = self
                .process(id)
                .map(|p| p.group.clone())
                .unwrap_or_default();
            self.rebuffer(&group, q);
        }
        let restart = self
            .process(id)
            .is_some_and(|p| p.restart_pending && p.machine.state().is_stopped());
        if restart {
            if let Some(p) = self.process_mut(id) {
                p.restart_pending = false;
            }
            let now = Now::current();
            if self.mood == Mood::Running && !self.hold_for_deps(id, now) {
                self.apply(id, Input::Start, now);
            }
        }
    }

    /// Some pool subscribes to `TICKS[i]`.
    fn tick_subscribed(&self, i: usize) -> bool {
        self.groups
            .pools()
            .iter()
            .filter_map(|&gid| self.groups[gid].pool.as_ref())
            .any(|ps| ps.ticks[i])
    }

    /// TICK_* events, only while some pool subscribes to them.
    pub(super) fn emit_ticks(&mut self, wall: SystemTime) {
        let secs = wall.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        for (i, (period, kind)) in TICKS.iter().enumerate() {
            if !self.tick_subscribed(i) {
                self.tick_periods[i] = None;
                continue;
            }
            let cur = secs / period;
            match self.tick_periods[i] {
                Some(prev) if prev != cur => {
                    self.emit(Event::new(*kind, format!("when:{}", cur * period)));
                }
                _ => {}
            }
            self.tick_periods[i] = Some(cur);
        }
    }

    /// When the next subscribed TICK is due.
    pub(super) fn tick_deadline(&self, now: Instant) -> Option<Instant> {
        if !(0..TICKS.len()).any(|i| self.tick_subscribed(i)) {
            return None;
        }
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        TICKS
            .iter()
            .enumerate()
            .filter(|&(i, _)| self.tick_subscribed(i))
            .map(|(_, (period, _))| {
                let into = since.as_millis() as u64 % (period * 1000);
                now + Duration::from_millis(period * 1000 - into)
            })
            .min()
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
}

impl Supervisor {
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

/// Writes a handler's output on supervisord's own stdout or stderr, blocking as Python's
/// print in the handler would. A write error (EPIPE, EBADF: nobody reads our output) drops
/// the lines; the event was delivered all the same.
fn print_own(stream: Stream, bytes: &[u8]) {
    use std::io::Write;
    let _ = match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|_| out.flush())
        }
        Stream::Stderr => std::io::stderr().lock().write_all(bytes),
    };
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
        sup.emit(Event::new(EventKind::Tick5, "when:5"));
        assert_eq!(head(&sup), None);
        sup.remote_comm_event("t", "d");
        assert_eq!(
            head(&sup),
            Some(("REMOTE_COMMUNICATION".to_string(), "type:t\nd".to_string()))
        );
    }
}
