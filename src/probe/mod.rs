//! Readiness and health probes (project extension, issue #18): the probe state of each
//! process (per purpose the check in flight and when the next one starts; its sd_notify
//! socket, the watchdog deadline, the last `STATUS=`; its health and consecutive failures).
//! The loop carries out what it asks (watch a socket, reap a probe command, read datagrams)
//! in `daemon::probes`; outcomes go to the process machine as inputs (`Ready`, `Unhealthy`,
//! `Stopping`), so every state change stays in the automaton.

pub mod check;
pub mod notify;

/// The probe keys, typed where the configuration is read.
pub use crate::config::probe::{HealthAction, HealthConfig, ProbeConfig, Ready, Target};

use check::Check;
use notify::NotifySocket;
use std::time::{Duration, Instant};

/// The pause after a first failed readiness check; it doubles with each failure up to
/// `RETRY`. A program is usually checked the moment it is spawned, before it listens: a
/// fixed 250 ms made a chain of 100 TCP-ready programs take 25 s, a quick first retry
/// makes it about what the programs themselves take to start.
pub const RETRY_FIRST: Duration = Duration::from_millis(10);
/// The longest pause between two readiness checks that failed.
pub const RETRY: Duration = Duration::from_millis(250);

/// The pause after the `failed`th readiness check in a row that failed (1 for the first).
pub fn retry_after(failed: u32) -> Duration {
    let doublings = failed.saturating_sub(1).min(16);
    RETRY_FIRST.saturating_mul(1 << doublings).min(RETRY)
}
/// The longest one readiness check may take (it is abandoned then, and counts as failed).
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// What a check is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `ready=`: while STARTING, until it succeeds.
    Ready,
    /// `healthcheck=`: while RUNNING, every interval.
    Health,
}

/// A RUNNING process's health (`healthcheck=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    /// No check has decided yet (or the process has no health check, or is not RUNNING).
    #[default]
    Unknown,
    Healthy,
    /// `healthcheck_retries` checks in a row failed.
    Unhealthy,
}

impl Health {
    pub fn name(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

/// A check in flight and the moment it is given up.
pub struct InFlight {
    pub check: Check,
    pub deadline: Instant,
}

/// The checks of one purpose: the one running, or when the next starts.
#[derive(Default)]
pub struct Slot {
    /// Boxed: a check is in flight only for moments, and inline the two slots made every
    /// process record 128 bytes larger.
    pub in_flight: Option<Box<InFlight>>,
    pub next: Option<Instant>,
    /// Checks in a row that failed since the slot was armed (readiness retry pacing).
    pub failed: u32,
}

impl Slot {
    fn next_deadline(&self) -> Option<Instant> {
        [self.in_flight.as_ref().map(|f| f.deadline), self.next]
            .into_iter()
            .flatten()
            .min()
    }

    /// No more checks (a probe command in flight is killed: `Check`'s drop).
    pub fn stop(&mut self) {
        self.in_flight = None;
        self.next = None;
        self.failed = 0;
    }
}

/// One process's probe state; all empty for a process without probes (the default).
#[derive(Default)]
pub struct ProbeState {
    pub ready: Slot,
    pub health: Slot,
    /// The sd_notify socket of the running child (`ready=notify`).
    pub notify: Option<NotifySocket>,
    /// A RUNNING notify process is restarted if no `WATCHDOG=1` comes before this.
    pub watchdog_by: Option<Instant>,
    /// The last `STATUS=`, shown in the description.
    pub status: Option<String>,
    /// `MAINPID=`: followed when the current pid exits.
    pub main_pid: Option<i32>,
    pub verdict: Health,
    /// Consecutive failed health checks (those in the start period not counted).
    pub failures: u32,
    /// Failed health checks before this moment do not count (`healthcheck_start_period`).
    pub grace_until: Option<Instant>,
    /// A `ready=` that an update gave while the process was STARTING: it becomes the
    /// configuration's when that start ends, so the start under way keeps its readiness
    /// rule (kept by `reset`: it belongs to the configuration, not to the child).
    pub next_ready: Option<Ready>,
}

impl ProbeState {
    pub fn slot(&mut self, purpose: Purpose) -> &mut Slot {
        match purpose {
            Purpose::Ready => &mut self.ready,
            Purpose::Health => &mut self.health,
        }
    }

    /// The next moment something here is due: a check to start or to give up, a watchdog.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.ready.next_deadline(),
            self.health.next_deadline(),
            self.watchdog_by,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn due(&self, now: Instant) -> bool {
        self.next_deadline().is_some_and(|d| d <= now)
    }

    /// The child is no longer RUNNING: health is unknown again.
    pub fn stop_health(&mut self) {
        self.health.stop();
        self.verdict = Health::Unknown;
        self.failures = 0;
        self.grace_until = None;
    }

    /// The child became RUNNING (or its health check changed while it runs): checks start
    /// now, from scratch, and failures in the start period from now do not count.
    pub fn arm_health(&mut self, h: &HealthConfig, now: Instant) {
        self.health.next = Some(now);
        self.grace_until = (h.start_period > 0).then(|| now + Duration::from_secs(h.start_period));
    }

    /// The child is gone: forget everything that belonged to it.
    pub fn reset(&mut self) {
        self.ready.stop();
        self.stop_health();
        self.notify = None;
        self.watchdog_by = None;
        self.status = None;
        self.main_pid = None;
    }

    /// A health check's result: the new verdict if it changed.
    pub fn health_result(&mut self, ok: bool, retries: u32, now: Instant) -> Option<Health> {
        let before = self.verdict;
        if ok {
            self.failures = 0;
            self.verdict = Health::Healthy;
        } else if self.grace_until.is_none_or(|g| now >= g) {
            self.failures = self.failures.saturating_add(1);
            if self.failures >= retries {
                self.verdict = Health::Unhealthy;
            }
        }
        (self.verdict != before).then_some(self.verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_retries_start_quick_and_double_to_the_cap() {
        let ms = |n| retry_after(n).as_millis();
        assert_eq!(
            [ms(1), ms(2), ms(3), ms(4), ms(5), ms(6)],
            [10, 20, 40, 80, 160, 250]
        );
        assert_eq!(ms(u32::MAX), 250);
    }

    /// Every process record holds one, probes or not (184 bytes; 376 before the checks in
    /// flight and the `ready=` target were boxed).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn probe_state_stays_small() {
        assert!(std::mem::size_of::<ProbeState>() <= 184);
    }

    #[test]
    fn nothing_due_without_probes() {
        let s = ProbeState::default();
        assert_eq!(s.next_deadline(), None);
        assert!(!s.due(Instant::now()));
    }

    #[test]
    fn earliest_of_checks_and_watchdog() {
        let t = Instant::now();
        let s = ProbeState {
            ready: Slot {
                in_flight: None,
                next: Some(t + Duration::from_secs(3)),
                failed: 0,
            },
            health: Slot {
                in_flight: None,
                next: Some(t + Duration::from_secs(2)),
                failed: 0,
            },
            watchdog_by: Some(t + Duration::from_secs(4)),
            ..Default::default()
        };
        assert_eq!(s.next_deadline(), Some(t + Duration::from_secs(2)));
        assert!(s.due(t + Duration::from_secs(2)));
    }

    #[test]
    fn unhealthy_after_retries_failures_in_a_row_not_in_the_start_period() {
        let t = Instant::now();
        let mut s = ProbeState {
            grace_until: Some(t + Duration::from_secs(10)),
            ..Default::default()
        };
        for _ in 0..5 {
            assert_eq!(s.health_result(false, 3, t), None, "start period");
        }
        assert_eq!(s.failures, 0);
        let t = t + Duration::from_secs(10);
        assert_eq!(s.health_result(true, 3, t), Some(Health::Healthy));
        assert_eq!(s.health_result(false, 3, t), None);
        assert_eq!(s.health_result(false, 3, t), None);
        assert_eq!(
            s.health_result(true, 3, t),
            None,
            "a success resets the count"
        );
        assert_eq!(s.health_result(false, 3, t), None);
        assert_eq!(s.health_result(false, 3, t), None);
        assert_eq!(s.health_result(false, 3, t), Some(Health::Unhealthy));
        assert_eq!(s.failures, 3);
        assert_eq!(s.health_result(false, 3, t), None, "reported once");
        assert_eq!(s.health_result(true, 3, t), Some(Health::Healthy));
    }
}
