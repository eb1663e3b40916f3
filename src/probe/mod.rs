//! Readiness probes (project extension, issue #18): the probe state of each process (the
//! check in flight, when the next one starts, its sd_notify socket, the watchdog deadline,
//! the last `STATUS=`). The loop carries out what it asks (watch a socket, reap a probe
//! command, read datagrams) in `daemon::probes`; outcomes go to the process machine as
//! inputs (`Ready`, `Unhealthy`, `Stopping`), so every state change stays in the automaton.

pub mod check;
pub mod notify;
pub mod spec;

pub use spec::{ProbeConfig, Ready, Target};

use check::Check;
use notify::NotifySocket;
use std::time::{Duration, Instant};

/// The pause between two readiness checks that failed.
pub const RETRY: Duration = Duration::from_millis(250);
/// The longest one readiness check may take (it is abandoned then, and counts as failed).
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// A check in flight and the moment it is given up.
pub struct InFlight {
    pub check: Check,
    pub deadline: Instant,
}

/// One process's probe state; all `None` for a process without probes (the default).
#[derive(Default)]
pub struct ProbeState {
    /// The readiness check running now.
    pub in_flight: Option<InFlight>,
    /// When the next readiness check starts (STARTING with a check only).
    pub next_check: Option<Instant>,
    /// The sd_notify socket of the running child (`ready=notify`).
    pub notify: Option<NotifySocket>,
    /// A RUNNING notify process is restarted if no `WATCHDOG=1` comes before this.
    pub watchdog_by: Option<Instant>,
    /// The last `STATUS=`, shown in the description.
    pub status: Option<String>,
}

impl ProbeState {
    /// The next moment something here is due: a check to start, one to give up, a watchdog.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.in_flight.as_ref().map(|f| f.deadline),
            self.next_check,
            self.watchdog_by,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn due(&self, now: Instant) -> bool {
        self.next_deadline().is_some_and(|d| d <= now)
    }

    /// Readiness is settled (RUNNING) or moot: no more checks.
    pub fn stop_checks(&mut self) {
        if let Some(f) = self.in_flight.take() {
            f.check.abandon();
        }
        self.next_check = None;
    }

    /// The child is gone: forget everything that belonged to it.
    pub fn reset(&mut self) {
        self.stop_checks();
        self.notify = None;
        self.watchdog_by = None;
        self.status = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_due_without_probes() {
        let s = ProbeState::default();
        assert_eq!(s.next_deadline(), None);
        assert!(!s.due(Instant::now()));
    }

    #[test]
    fn earliest_of_check_and_watchdog() {
        let t = Instant::now();
        let s = ProbeState {
            next_check: Some(t + Duration::from_secs(3)),
            watchdog_by: Some(t + Duration::from_secs(1)),
            ..Default::default()
        };
        assert_eq!(s.next_deadline(), Some(t + Duration::from_secs(1)));
        assert!(s.due(t + Duration::from_secs(1)));
    }
}
