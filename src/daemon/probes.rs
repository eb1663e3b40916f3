//! The loop's side of readiness probes (`crate::probe`): it opens a process's sd_notify
//! socket before the spawn, starts and times out checks, watches their sockets, reaps probe
//! commands, reads notify datagrams, and feeds the outcomes to the machine as inputs.

use super::source::Source;
use super::supervisor::Supervisor;
use crate::probe::check::{Check, Step};
use crate::probe::notify::{Message, NotifySocket};
use crate::probe::{InFlight, Ready, RETRY, TIMEOUT};
use crate::process::machine::{Input, Now};
use crate::process::{ProcessState, WaitStatus};
use crate::sys::poller::Interest;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

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

    /// Every state change of a process with probes: STARTING arms its readiness check,
    /// RUNNING ends the checks and arms the watchdog, an ended child drops everything.
    pub(super) fn probe_state_change(&mut self, id: usize, to: ProcessState, now: Instant) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let probe = &mut p.probe;
        if let Some(f) = &probe.in_flight {
            if let Check::Conn(c) = &f.check {
                let _ = self.poller.delete(c.fd());
            }
        }
        match to {
            ProcessState::Starting => {
                probe.stop_checks();
                if matches!(p.config.probe.ready, Ready::Check(_)) {
                    probe.next_check = Some(now);
                }
            }
            ProcessState::Running => {
                probe.stop_checks();
                let wd = p.config.probe.watchdog_secs;
                probe.watchdog_by = (wd > 0).then(|| now + Duration::from_secs(wd));
            }
            ProcessState::Stopping => {
                probe.stop_checks();
                probe.watchdog_by = None;
            }
            _ => {
                if let Some(n) = &probe.notify {
                    let _ = self.poller.delete(n.fd());
                }
                probe.reset();
            }
        }
    }

    /// Starts the checks that are due, gives up the ones past their time, and restarts the
    /// processes whose watchdog expired.
    pub fn probes_due(&mut self, now: Now) {
        for id in 0..self.procs.len() {
            let Some(p) = self.procs[id].as_mut() else {
                continue;
            };
            if !p.probe.due(now.mono) {
                continue;
            }
            let probe = &mut p.probe;
            if probe
                .in_flight
                .as_ref()
                .is_some_and(|f| f.deadline <= now.mono)
            {
                if let Some(f) = probe.in_flight.take() {
                    if let Check::Conn(c) = &f.check {
                        let _ = self.poller.delete(c.fd());
                    }
                    f.check.abandon();
                }
                probe.next_check = Some(now.mono + RETRY);
                let line = format!("{}: readiness check timed out", p.config.name);
                self.log.blather(&line);
            }
            let Some(p) = self.procs[id].as_mut() else {
                continue;
            };
            if p.probe.next_check.is_some_and(|t| t <= now.mono) {
                p.probe.next_check = None;
                self.start_check(id, now.mono);
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

    fn start_check(&mut self, id: usize, now: Instant) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let Ready::Check(target) = &p.config.probe.ready else {
            return;
        };
        if p.machine.state() != ProcessState::Starting || p.machine.pid == 0 {
            return;
        }
        match Check::start(target, &p.config) {
            Ok(check) => {
                match &check {
                    Check::Conn(c) => {
                        let key = Source::Check { id }.key();
                        if let Err(e) = self.poller.add(c.fd(), key, c.interest()) {
                            self.log.error(&format!(
                                "cannot watch the readiness check of '{}': {e}",
                                p.config.name
                            ));
                            p.probe.next_check = Some(now + RETRY);
                            return;
                        }
                    }
                    Check::Exec { pid } => {
                        self.probe_pids.insert(*pid, id);
                    }
                }
                p.probe.in_flight = Some(InFlight {
                    check,
                    deadline: now + TIMEOUT,
                });
            }
            Err(e) => {
                p.probe.next_check = Some(now + RETRY);
                let line = format!("{}: readiness check failed: {e}", p.config.name);
                self.log.debug(&line);
            }
        }
    }

    /// A check's socket is ready: one step of its exchange.
    pub(super) fn check_ready(&mut self, id: usize) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let Some(InFlight {
            check: Check::Conn(conn),
            ..
        }) = p.probe.in_flight.as_mut()
        else {
            return;
        };
        let key = Source::Check { id }.key();
        let result = match conn.step() {
            Step::Wait(interest) => {
                if let Err(e) = self.poller.modify(conn.fd(), key, Some(interest)) {
                    Err(e.to_string())
                } else {
                    return;
                }
            }
            Step::Done(r) => r,
        };
        let _ = self.poller.delete(conn.fd().as_fd());
        p.probe.in_flight = None;
        self.check_done(id, result);
    }

    /// A check finished: RUNNING on success, another try after `RETRY` otherwise.
    fn check_done(&mut self, id: usize, result: Result<(), String>) {
        let now = Now::current();
        match result {
            Ok(()) => self.apply(id, Input::Ready, now),
            Err(e) => {
                let Some(p) = self.process_mut(id) else {
                    return;
                };
                p.probe.next_check = Some(now.mono + RETRY);
                // Every RETRY while it starts: below DEBUG.
                let line = format!("{}: not ready yet: {e}", p.config.name);
                self.log.blather(&line);
            }
        }
    }

    /// A reaped pid that was a probe command: its result goes to its check. False for a pid
    /// that is not one.
    pub(super) fn probe_exited(&mut self, pid: i32, status: WaitStatus, _now: Now) -> bool {
        let Some(id) = self.probe_pids.remove(&pid) else {
            return false;
        };
        let Some(p) = self.process_mut(id) else {
            return true;
        };
        // A command given up on (timed out, or its process ended) is only reaped.
        if !matches!(p.probe.in_flight, Some(InFlight { check: Check::Exec { pid: q }, .. }) if q == pid)
        {
            return true;
        }
        p.probe.in_flight = None;
        let result = if status.signal().is_none() && status.exit_code() == 0 {
            Ok(())
        } else {
            Err(format!("probe command {}", status.describe()))
        };
        self.check_done(id, result);
        true
    }

    /// The notify socket has datagrams: each message becomes what it means.
    pub(super) fn notify_readable(&mut self, id: usize) {
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
            let now = Now::current();
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
                    let line = format!(
                        "{}: MAINPID={pid} ignored (following a new main pid is not supported)",
                        p.config.name
                    );
                    self.log.warn(&line);
                }
            }
        }
    }
}
