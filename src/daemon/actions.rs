//! What a `command` result handler asks for (start, stop, restart, signal processes, print
//! on supervisord's own output), and what follows a process's exit apart from its state:
//! its in-flight event goes back to the pool, a pending restart starts it.

use super::supervisor::{Mood, Supervisor};
use crate::events::handlers::Action;
use crate::output::Stream;
use crate::process::{Input, Now};

impl Supervisor {
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
    pub(super) fn run_action(&mut self, listener: &str, action: Action) {
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
