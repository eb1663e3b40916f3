//! The machine's timers: `poll_at`, the one answer to "when would a Tick act next", and
//! `tick`, which acts on the same answer (startsecs, a BACKOFF retry, the SIGKILL after
//! stopwaitsecs, autostart and autorestart).

use super::{secs, AfterStop, Effect, Machine, Now, Phase};
use crate::config::{LogLevel, ProcessConfig};
use std::time::Instant;

/// When a Tick would next change something (smoltcp's `poll_at`), from the timer `tick`
/// itself reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAt {
    /// Right away (autostart, autorestart, giving up): the loop must not sleep.
    Now,
    /// At this instant (startsecs, a BACKOFF retry, the SIGKILL after stopwaitsecs).
    At(Instant),
    /// Only after another input: a tick changes nothing, the loop may skip it.
    Ingress,
}

impl PollAt {
    /// A tick at `now` would act.
    pub fn is_due(self, now: Instant) -> bool {
        match self {
            PollAt::Now => true,
            PollAt::At(t) => now >= t,
            PollAt::Ingress => false,
        }
    }
}

impl Machine {
    /// When a Tick with `may_start` would next act: the one answer the loop sleeps by,
    /// read from the same timers and conditions as `tick`.
    pub fn poll_at(&self, cfg: &ProcessConfig, may_start: bool) -> PollAt {
        match self.phase {
            Phase::Stopped if may_start && cfg.autostart && self.laststart.is_none() => PollAt::Now,
            Phase::Exited if may_start && self.should_autorestart(cfg) => PollAt::Now,
            Phase::Backoff { .. } if self.out_of_retries(cfg) => PollAt::Now,
            Phase::Backoff { retry_at, .. } if may_start => PollAt::At(retry_at),
            // With a probe, startsecs=0 waits for readiness for ever.
            Phase::Starting if self.probed(cfg) && cfg.startsecs <= 0 => PollAt::Ingress,
            Phase::Starting => match self.laststart {
                Some(t) => PollAt::At(t + secs(cfg.startsecs)),
                None => PollAt::Ingress,
            },
            Phase::Stopping { kill_at, .. } => PollAt::At(kill_at),
            Phase::Stopped
            | Phase::Exited
            | Phase::Backoff { .. }
            | Phase::Running
            | Phase::Fatal
            | Phase::Unknown => PollAt::Ingress,
        }
    }

    pub(super) fn tick(
        &mut self,
        cfg: &ProcessConfig,
        may_start: bool,
        now: Now,
        fx: &mut Vec<Effect>,
    ) {
        let due = self.poll_at(cfg, may_start).is_due(now.mono);
        match self.phase {
            Phase::Stopped if due => self.start(now, fx),
            Phase::Exited if due => self.autorestart(cfg, now, fx),
            Phase::Backoff { .. } if self.out_of_retries(cfg) => {
                self.give_up(fx);
                fx.push(Effect::Log(
                    LogLevel::Info,
                    format!(
                        "gave up: {} entered FATAL state, too many start retries too quickly",
                        cfg.name
                    ),
                ));
            }
            Phase::Backoff { .. } if due => self.start(now, fx),
            Phase::Starting if due && !self.probed(cfg) => self.promote(cfg, fx),
            Phase::Starting if due => {
                let message = format!("not ready within {} seconds (startsecs)", cfg.startsecs);
                fx.push(Effect::Log(
                    LogLevel::Warn,
                    format!("{}: {message}", cfg.name),
                ));
                self.stop(cfg, false, now, fx);
                self.then(AfterStop::Backoff);
                self.spawnerr = message;
            }
            Phase::Stopping { then, .. } if due => {
                fx.push(Effect::Log(
                    LogLevel::Warn,
                    format!("killing '{}' ({}) with SIGKILL", cfg.name, self.pid),
                ));
                fx.push(Effect::Kill {
                    pid: self.pid,
                    signal: libc::SIGKILL,
                    group: cfg.killasgroup,
                });
                // Supervisor repeats SIGKILL every stopwaitsecs until the child is reaped, at
                // most once per turn of its 1 s loop; with stopwaitsecs=0 a zero delay would
                // make ours repeat it (and log it) on every turn, hundreds of times.
                let kill_at = now.mono + secs(cfg.stopwaitsecs.max(1));
                self.phase = Phase::Stopping { kill_at, then };
            }
            // Not due: `poll_at` says when.
            Phase::Stopped
            | Phase::Exited
            | Phase::Backoff { .. }
            | Phase::Starting
            | Phase::Stopping { .. }
            | Phase::Running
            | Phase::Fatal
            | Phase::Unknown => {}
        }
    }

    fn promote(&mut self, cfg: &ProcessConfig, fx: &mut Vec<Effect>) {
        if !self.awaits_ready() {
            self.backoff = 0;
        }
        self.set_state(Phase::Running, fx);
        fx.push(Effect::Log(
            LogLevel::Info,
            format!(
                "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                cfg.name, cfg.startsecs
            ),
        ));
    }
}
