//! The restart policy on the machine: when a failed start's BACKOFF gives up, the wait
//! before each retry and each delayed autorestart, the restart count and its reset.

use super::{secs, Effect, Machine, Now, Phase};
use crate::config::{AutoRestart, LogLevel, ProcessConfig};
use crate::process::backoff::{self, Jitter};
use std::time::{Duration, Instant, SystemTime};

/// What a process in BACKOFF waits for, for status descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Time left until the next start (zero if it is due).
    pub wait: Duration,
    /// The number of the coming attempt: for a failed start, 1 + the failed starts so far
    /// (the first start was attempt 1); for a restart wait, the restart's number.
    pub attempt: u32,
    /// A restart wait (`restart_delay_secs`) rather than a failed start.
    pub restart: bool,
}

impl Machine {
    /// In BACKOFF: how long until the next start, and which attempt it is.
    pub fn retry(&self, now: Instant) -> Option<Retry> {
        let Phase::Backoff { retry_at, restart } = self.phase else {
            return None;
        };
        Some(Retry {
            wait: retry_at.saturating_duration_since(now),
            attempt: if restart {
                self.restarts
            } else {
                (self.backoff.max(0) as u32).saturating_add(1)
            },
            restart,
        })
    }

    /// The process ended in EXITED and autorestart will start it again (at once or after
    /// its restart delay); false for a process in any other state.
    pub fn will_autorestart(&self, cfg: &ProcessConfig) -> bool {
        self.phase == Phase::Exited && self.should_autorestart(cfg)
    }

    pub(super) fn should_autorestart(&self, cfg: &ProcessConfig) -> bool {
        match cfg.autorestart {
            AutoRestart::Always => true,
            AutoRestart::Never => false,
            AutoRestart::Unexpected => !cfg.exitcodes.contains(&self.exitstatus),
        }
    }

    /// A failed start's BACKOFF has used up `startretries` and the next tick makes it FATAL.
    pub(super) fn out_of_retries(&self, cfg: &ProcessConfig) -> bool {
        matches!(self.phase, Phase::Backoff { restart: false, .. })
            && !cfg.restart.retry_forever
            && self.backoff > cfg.startretries
    }

    /// The policy's next wait, seeding the jitter at first use (from the wall clock and the
    /// name: reproducible with fake time, different across processes and daemons).
    fn next_wait(&mut self, cfg: &ProcessConfig, base: Duration, n: u32, now: Now) -> Duration {
        if cfg.restart.jitter_percent > 0 && !self.jitter.is_seeded() {
            let nanos = now
                .wall
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            self.jitter = Jitter::seeded(backoff::seed(&cfg.name, nanos));
        }
        backoff::wait(&cfg.restart, base, n, &mut self.jitter)
    }

    /// A run long enough to forget earlier restarts: as long as the longest wait the policy
    /// allows (`backoff_max_secs`, or 60 s without a cap).
    pub(super) fn healthy_run(cfg: &ProcessConfig, ran: Duration) -> bool {
        let max = cfg
            .restart
            .max_secs
            .unwrap_or(crate::config::restart::DEFAULT_MAX_SECS);
        ran >= secs(max)
    }

    /// STARTING -> BACKOFF with the growing delay (the policy's curve in units of 1 s).
    pub(super) fn fail_start(&mut self, cfg: &ProcessConfig, now: Now, fx: &mut Vec<Effect>) {
        self.pid = 0;
        self.backoff += 1;
        let n = self.backoff.clamp(1, u32::MAX as i64) as u32;
        let wait = self.next_wait(cfg, Duration::from_secs(1), n, now);
        let retry_at = now.mono + wait;
        self.set_state(
            Phase::Backoff {
                retry_at,
                restart: false,
            },
            fx,
        );
    }

    /// EXITED -> STARTING for autorestart, or -> BACKOFF for `restart_delay_secs` first.
    pub(super) fn autorestart(&mut self, cfg: &ProcessConfig, now: Now, fx: &mut Vec<Effect>) {
        let base = secs(cfg.restart.restart_delay_secs);
        if base.is_zero() {
            return self.start(now, fx);
        }
        self.restarts = self.restarts.saturating_add(1);
        let wait = self.next_wait(cfg, base, self.restarts, now);
        if wait.is_zero() {
            return self.start(now, fx);
        }
        fx.push(Effect::Log(
            LogLevel::Info,
            format!(
                "waiting {:.1}s before restarting {} (restart {})",
                wait.as_secs_f64(),
                cfg.name,
                self.restarts
            ),
        ));
        let retry_at = now.mono + wait;
        self.set_state(
            Phase::Backoff {
                retry_at,
                restart: true,
            },
            fx,
        );
    }
}
