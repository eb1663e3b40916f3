//! What a `command` result handler asks for (start, stop, restart, signal processes, print
//! on supervisord's own output), and what follows a process's exit apart from its state:
//! its in-flight event goes back to the pool.

use super::supervisor::Supervisor;
use crate::events::handlers::Action;
use crate::output::Stream;
use crate::process::{Input, Now};

impl Supervisor {
    /// Processes named as the API names them: `group:name`, `group:*`, or `name`.
    fn find_spec(&self, spec: &str) -> Vec<usize> {
        use crate::api::procs::{resolve_in, Target};
        match resolve_in(self, spec) {
            Ok(Target::One(id)) => vec![id],
            Ok(Target::Group(g)) => self
                .groups
                .get(&g)
                .map(|g| g.members.clone())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// Carries out a `command` handler action, logging what was done.
    pub(super) fn run_action(&mut self, listener: &str, action: Action, now: Now) {
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
                    let input = match state.is_some_and(|s| s.is_running()) {
                        true => Input::Restart,
                        false => Input::Start,
                    };
                    self.apply(id, input, now);
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

    /// After a process exited: an in-flight event goes back.
    pub(super) fn after_exit(&mut self, id: usize) {
        if let Some(q) = self.process_mut(id).and_then(|p| p.in_flight_take()) {
            let group = self
                .process(id)
                .map(|p| p.group.clone())
                .unwrap_or_default();
            self.rebuffer(&group, q);
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
