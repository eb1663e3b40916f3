//! The loop's side of probes (`crate::probe`): it opens a process's sd_notify socket before
//! the spawn, starts and times out readiness and health checks, watches their sockets, takes
//! the exits of probe commands (recorded in `pids`), reads notify datagrams, and feeds the
//! outcomes to the machine as inputs (and a change of health to listeners as
//! PROCESS_HEALTH_* events).

use super::pids::Owner;
use super::source::Source;
use super::supervisor::Supervisor;
use crate::config::ProcessConfig;
use crate::events::{Event, EventKind};
use crate::probe::check::{Check, Step};
use crate::probe::notify::{Message, NotifySocket};
use crate::probe::{retry_after, Health, HealthAction, InFlight, Purpose, Ready, TIMEOUT};
use crate::process::machine::{Input, Now};
use crate::process::{ProcessState, WaitStatus};
use crate::sys::poller::{Interest, Poller};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Takes a socket check off the poller (closing its descriptor would too, but a probe
/// command forked meanwhile may hold a copy until its exec).
fn unwatch(poller: &Poller, f: &Option<Box<InFlight>>) {
    if let Some(InFlight {
        check: Check::Conn(c),
        ..
    }) = f.as_deref()
    {
        let _ = poller.delete(c.fd());
    }
}

impl Supervisor {
    /// Before a spawn with `ready=notify`: a fresh notify socket, watched; the variables the
    /// child gets for it (`NOTIFY_SOCKET`, and `WATCHDOG_USEC` with `watchdog_secs`).
    pub(super) fn open_notify(&mut self, id: usize) -> Result<Vec<(String, String)>, String> {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return Ok(Vec::new());
        };
        if !p.config.probe.notify() {
            return Ok(Vec::new());
        }
        let sock = NotifySocket::new(&p.config.name)
            .map_err(|e| format!("cannot create the notify socket: {e}"))?;
        self.poller
            .add(sock.fd(), Source::Notify { id }.key(), Interest::Read)
            .map_err(|e| format!("cannot watch the notify socket: {e}"))?;
        let mut env = vec![("NOTIFY_SOCKET".to_string(), sock.name.clone())];
        if p.config.probe.watchdog_secs > 0 {
            let usec = p.config.probe.watchdog_secs * 1_000_000;
            env.push(("WATCHDOG_USEC".to_string(), usec.to_string()));
        }
        if let Some(old) = p.probe.notify.replace(sock) {
            let _ = self.poller.delete(old.fd());
        }
        Ok(env)
    }

    /// Every state change of a process: STARTING arms its readiness check, RUNNING ends it
    /// and arms the watchdog and the health checks, STOPPING ends them, an ended child
    /// drops everything.
    pub(super) fn probe_state_change(&mut self, id: usize, to: ProcessState, now: Instant) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        if to != ProcessState::Starting {
            if let Some(ready) = p.probe.next_ready.take() {
                let mut cfg = ProcessConfig::clone(&p.config);
                cfg.probe.ready = ready;
                p.config = Arc::new(cfg);
            }
        }
        let (cfg, probe) = (&p.config.probe, &mut p.probe);
        unwatch(&self.poller, &probe.ready.in_flight);
        unwatch(&self.poller, &probe.health.in_flight);
        probe.ready.stop();
        probe.stop_health();
        match to {
            ProcessState::Starting => {
                if matches!(cfg.ready, Ready::Check(_)) {
                    probe.ready.next = Some(now);
                }
            }
            ProcessState::Running => {
                let wd = cfg.watchdog_secs;
                probe.watchdog_by = (wd > 0).then(|| now + Duration::from_secs(wd));
                if let Some(h) = &cfg.health {
                    probe.arm_health(h, now);
                }
            }
            ProcessState::Stopping => probe.watchdog_by = None,
            _ => {
                if let Some(n) = &probe.notify {
                    let _ = self.poller.delete(n.fd());
                }
                probe.reset();
            }
        }
    }

    /// An update changed process `id`'s `healthcheck*` settings (already in its
    /// configuration): the check in flight is given up (a probe command is killed) and a
    /// RUNNING process is checked from scratch under the new settings: health unknown, no
    /// failures, the start period counted from now. Without `healthcheck=` checking stops.
    pub(super) fn rearm_health(&mut self, id: usize, now: Instant) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        unwatch(&self.poller, &p.probe.health.in_flight);
        p.probe.stop_health();
        if p.machine.state() != ProcessState::Running {
            return;
        }
        if let Some(h) = &p.config.probe.health {
            p.probe.arm_health(h, now);
        }
    }

    /// When the first check, check timeout or watchdog is due (`timers`).
    pub(super) fn probes_next(&self, _: Now) -> Option<Instant> {
        let procs = self.probe_ids().filter_map(|id| self.process(id));
        procs.filter_map(|p| p.probe.next_deadline()).min()
    }

    /// Starts the checks that are due, gives up the ones past their time, and restarts the
    /// processes whose watchdog expired.
    pub fn probes_due(&mut self, now: Now) {
        // In id order, the processes whose probes may have a deadline (`due`), taken up to
        // date before each (a restart may arm a check).
        let mut from = 0;
        loop {
            self.refresh_due();
            let Some(id) = self.due.probed.range(from..).next().copied() else {
                break;
            };
            from = id + 1;
            if !self.procs[id]
                .as_ref()
                .is_some_and(|p| p.probe.due(now.mono))
            {
                continue;
            }
            for purpose in [Purpose::Ready, Purpose::Health] {
                let Some(p) = self.procs[id].as_mut() else {
                    break;
                };
                let slot = p.probe.slot(purpose);
                if slot
                    .in_flight
                    .as_ref()
                    .is_some_and(|f| f.deadline <= now.mono)
                {
                    unwatch(&self.poller, &slot.in_flight);
                    slot.in_flight = None;
                    self.check_done(id, purpose, Err("timed out".into()), now);
                }
                let Some(p) = self.procs[id].as_mut() else {
                    break;
                };
                let slot = p.probe.slot(purpose);
                if slot.next.is_some_and(|t| t <= now.mono) {
                    slot.next = None;
                    self.start_check(id, purpose, now);
                }
            }
            let Some(p) = self.procs[id].as_mut() else {
                continue;
            };
            if p.probe.watchdog_by.is_some_and(|t| t <= now.mono) {
                p.probe.watchdog_by = None;
                let message = format!(
                    "watchdog timeout (no WATCHDOG=1 for {} seconds)",
                    p.config.probe.watchdog_secs
                );
                self.apply(id, Input::Unhealthy { message }, now);
            }
        }
    }

    fn start_check(&mut self, id: usize, purpose: Purpose, now: Now) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let (target, timeout, state) = match (purpose, &p.config.probe) {
            (Purpose::Ready, cfg) => match &cfg.ready {
                Ready::Check(t) => (&**t, TIMEOUT, ProcessState::Starting),
                _ => return,
            },
            (Purpose::Health, cfg) => match &cfg.health {
                Some(h) => (
                    &h.target,
                    Duration::from_secs(h.timeout),
                    ProcessState::Running,
                ),
                None => return,
            },
        };
        if p.machine.state() != state || p.machine.pid == 0 {
            return;
        }
        let check = match Check::start(target, &p.config) {
            Ok(check) => check,
            Err(e) => {
                self.check_done(id, purpose, Err(e), now);
                return;
            }
        };
        match &check {
            Check::Conn(c) => {
                let key = Source::Check { id, purpose }.key();
                if let Err(e) = self.poller.add(c.fd(), key, c.interest()) {
                    self.check_done(id, purpose, Err(e.to_string()), now);
                    return;
                }
            }
            Check::Exec { pid } => {
                self.pids.insert(*pid, Owner::Probe(id, purpose));
            }
        }
        p.probe.slot(purpose).in_flight = Some(Box::new(InFlight {
            check,
            deadline: now.mono + timeout,
        }));
    }

    /// A check's socket is ready: one step of its exchange.
    pub(super) fn check_ready(&mut self, id: usize, purpose: Purpose, now: Now) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let slot = p.probe.slot(purpose);
        let Some(InFlight {
            check: Check::Conn(conn),
            ..
        }) = slot.in_flight.as_deref_mut()
        else {
            return;
        };
        let key = Source::Check { id, purpose }.key();
        let result = match conn.step() {
            Step::Wait(interest) => match self.poller.modify(conn.fd(), key, Some(interest)) {
                Ok(()) => return,
                Err(e) => Err(e.to_string()),
            },
            Step::Done(r) => r,
        };
        unwatch(&self.poller, &slot.in_flight);
        slot.in_flight = None;
        self.check_done(id, purpose, result, now);
    }

    /// A check finished (its in-flight record already gone): a readiness success makes the
    /// process RUNNING, a failure tries again after `retry_after` (10 ms, doubling to 250 ms); a health result may change the
    /// process's health, which is reported and acted on.
    fn check_done(&mut self, id: usize, purpose: Purpose, result: Result<(), String>, now: Now) {
        let Some(p) = self.process_mut(id) else {
            return;
        };
        if purpose == Purpose::Ready {
            match result {
                Ok(()) => self.apply(id, Input::Ready, now),
                Err(e) => {
                    let ready = &mut p.probe.ready;
                    ready.failed = ready.failed.saturating_add(1);
                    ready.next = Some(now.mono + retry_after(ready.failed));
                    // Up to every RETRY while it starts: below DEBUG.
                    let line = format!("{}: not ready yet: {e}", p.config.name);
                    self.log.blather(&line);
                }
            }
            return;
        }
        let Some(h) = p.config.probe.health.clone() else {
            return;
        };
        if p.machine.state() != ProcessState::Running {
            return;
        }
        p.probe.health.next = Some(now.mono + Duration::from_secs(h.interval));
        let changed = p.probe.health_result(result.is_ok(), h.retries, now.mono);
        let (name, group, pid, failures) = (
            p.config.name.clone(),
            p.group.clone(),
            p.machine.pid,
            p.probe.failures,
        );
        if let Err(e) = &result {
            self.log.debug(&format!(
                "{name}: health check failed ({failures} in a row): {e}"
            ));
        }
        let Some(verdict) = changed else {
            return;
        };
        let payload = format!(
            "processname:{name} groupname:{group} from_state:RUNNING pid:{pid} failures:{failures}"
        );
        match verdict {
            Health::Healthy => {
                self.log.info(&format!("{name} is healthy"));
                self.emit(Event::new(EventKind::ProcessHealthHealthy, payload));
            }
            Health::Unhealthy => {
                let why = result.err().unwrap_or_default();
                self.log.warn(&format!(
                    "{name} is unhealthy ({failures} failed health checks in a row, last: {why})"
                ));
                self.emit(Event::new(EventKind::ProcessHealthUnhealthy, payload));
                let message = format!("health check failed {failures} times ({why})");
                match h.action {
                    HealthAction::Restart => self.apply(id, Input::Unhealthy { message }, now),
                    HealthAction::Stop => self.apply(id, Input::Stop, now),
                    HealthAction::None => {}
                }
            }
            Health::Unknown => {}
        }
    }

    /// The probe command `pid` of process `id` was reaped (`reap`): its result goes to its
    /// check.
    pub(super) fn probe_exited(
        &mut self,
        id: usize,
        purpose: Purpose,
        pid: i32,
        status: WaitStatus,
        now: Now,
    ) {
        let Some(p) = self.process_mut(id) else {
            return;
        };
        let slot = p.probe.slot(purpose);
        // A command given up on (timed out, or its process ended) is only reaped.
        let ours = matches!(
            slot.in_flight.as_deref(),
            Some(InFlight { check: Check::Exec { pid: q }, .. }) if *q == pid
        );
        if !ours {
            return;
        }
        if let Some(f) = slot.in_flight.as_mut() {
            f.check.reaped();
        }
        slot.in_flight = None;
        let result = if status.signal().is_none() && status.exit_code() == 0 {
            Ok(())
        } else {
            Err(format!("probe command {}", status.describe()))
        };
        self.check_done(id, purpose, result, now);
    }

    /// The notify socket has datagrams: each message becomes what it means.
    pub(super) fn notify_readable(&mut self, id: usize, now: Now) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let Some(sock) = &p.probe.notify else {
            return;
        };
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        let theirs = p.config.user.as_ref().map(|u| u.uid);
        let mut messages = Vec::new();
        sock.receive(
            |uid| uid == 0 || uid == me || Some(uid) == theirs,
            &mut messages,
        );
        for m in messages {
            let Some(p) = self.process_mut(id) else {
                return;
            };
            match m {
                Message::Ready => self.apply(id, Input::Ready, now),
                Message::Status(text) => p.probe.status = Some(text),
                Message::Stopping => self.apply(id, Input::Stopping, now),
                Message::Watchdog => {
                    if p.probe.watchdog_by.is_some() {
                        let wd = Duration::from_secs(p.config.probe.watchdog_secs);
                        p.probe.watchdog_by = Some(now.mono + wd);
                    }
                }
                Message::WatchdogTrigger => {
                    let message = "watchdog triggered (WATCHDOG=trigger)".to_string();
                    self.apply(id, Input::Unhealthy { message }, now);
                }
                Message::MainPid(pid) => {
                    if pid == p.machine.pid {
                        continue;
                    }
                    if descends_from(pid, p.machine.pid) {
                        p.probe.main_pid = Some(pid);
                    } else {
                        let line = format!(
                            "{}: MAINPID={pid} ignored: not a descendant of pid {}",
                            p.config.name, p.machine.pid
                        );
                        self.log.warn(&line);
                    }
                }
            }
        }
    }
}

impl Supervisor {
    /// The child `pid` of process `id` was reaped: if it named a main pid that still runs,
    /// the process goes on as that one (true), and its exit is the process's exit. Being a
    /// child subreaper, supervisord reaps the main pid itself once its parent is gone.
    pub(super) fn follow_main_pid(&mut self, id: usize, pid: i32, now: Now) -> bool {
        let Some(p) = self.process_mut(id) else {
            return false;
        };
        let Some(main) = p.probe.main_pid.take() else {
            return false;
        };
        // Signal 0 only checks that the pid exists.
        if main == pid || p.machine.pid != pid || self.os.kill(main, 0).is_err() {
            return false;
        }
        if self.pids.contains(main) {
            return false;
        }
        self.pids.insert(main, Owner::Process(id));
        self.apply(id, Input::MainPid { pid: main }, now);
        true
    }
}

/// Whether `pid`'s chain of parents (read from /proc) reaches `ancestor`.
fn descends_from(pid: i32, ancestor: i32) -> bool {
    let mut at = pid;
    // Far deeper than any real process tree, and bounded.
    for _ in 0..64 {
        if at <= 1 {
            return false;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{at}/stat")) else {
            return false;
        };
        // After the command in parentheses (which may itself hold ") "): state, then ppid.
        let Some(ppid) = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|n| n.parse::<i32>().ok())
        else {
            return false;
        };
        if ppid == ancestor {
            return true;
        }
        at = ppid;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::descends_from;

    #[test]
    fn descent_through_proc() {
        let me = std::process::id() as i32;
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let pid = child.id() as i32;
        assert!(descends_from(pid, me));
        assert!(!descends_from(me, pid));
        assert!(!descends_from(pid, pid + 1_000_000));
        let _ = child.kill();
        let _ = child.wait();
    }
}
