//! The process lifecycle as a pure state machine: `step(input, now)` changes the state and
//! returns the effects (spawn, kill, log lines, state-change notices) for the loop to carry out.
//! Nothing here forks, signals or writes, so every transition is unit-tested with fake time.

use super::state::ProcessState;
use super::waitstatus::{signal_name, WaitStatus};
use crate::config::{AutoRestart, LogLevel, ProcessConfig};
use std::time::{Duration, Instant, SystemTime};

/// The clock, passed in: monotonic for timers, wall time only for reported values.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub mono: Instant,
    pub wall: SystemTime,
}

impl Now {
    pub fn current() -> Now {
        Now {
            mono: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Periodic evaluation: timers, autostart, autorestart. `may_start` is false while
    /// supervisord is shutting down or restarting.
    Tick { may_start: bool },
    /// A start request (RPC/ctl). The caller has checked the state allows it.
    Start,
    /// A stop request: signal RUNNING/STARTING, give up BACKOFF.
    Stop,
    /// Shutdown's stop: like Stop, but BACKOFF becomes FATAL.
    StopForShutdown,
    /// The loop forked the child.
    Spawned { pid: i32 },
    /// The spawn failed before a child existed.
    SpawnFailed { message: String },
    /// The child was reaped (its output already drained).
    Exited { status: WaitStatus },
    /// kill() failed with an error other than ESRCH.
    KillFailed { message: String },
    /// Take the process out of service for good: stop it and end in FATAL instead of
    /// STOPPED (an event listener that rejected one event `max_retry` times).
    Retire,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Every state change, in order (the single choke point for logs and events).
    StateChanged {
        from: ProcessState,
        to: ProcessState,
    },
    /// Fork and exec the child now, then feed back Spawned or SpawnFailed.
    Spawn,
    /// Send `signal` to the pid (to its process group when `group`).
    Kill {
        pid: i32,
        signal: i32,
        group: bool,
    },
    Log(LogLevel, String),
}

/// One process's runtime record.
#[derive(Debug, Clone)]
pub struct Machine {
    state: ProcessState,
    pub pid: i32,
    /// Consecutive failed starts.
    pub backoff: i64,
    delay: Option<Instant>,
    laststart: Option<Instant>,
    pub laststart_wall: Option<SystemTime>,
    pub laststop_wall: Option<SystemTime>,
    /// Exit code of the last exit (-1 for a signal), 0 after a too-quick exit.
    pub exitstatus: i32,
    /// The last exit was an expected one (for EXITED events).
    pub expected: bool,
    pub spawnerr: String,
    killing: bool,
    /// The pid of the last spawned child (kept after exit, for event payloads).
    pub last_pid: i32,
    /// The signal that ended the last child, if one did.
    pub last_signal: Option<i32>,
    /// The stop in progress ends in FATAL (see Input::Retire).
    fatal_on_exit: bool,
}

fn secs(n: i64) -> Duration {
    Duration::from_secs(n.max(0) as u64)
}

impl Default for Machine {
    fn default() -> Machine {
        Machine::new()
    }
}

impl Machine {
    /// A STOPPED process's machine. Its name is its configuration's (passed to `step`): not
    /// a copy per process.
    pub fn new() -> Machine {
        Machine {
            state: ProcessState::Stopped,
            pid: 0,
            backoff: 0,
            delay: None,
            laststart: None,
            laststart_wall: None,
            laststop_wall: None,
            exitstatus: 0,
            expected: true,
            spawnerr: String::new(),
            killing: false,
            last_pid: 0,
            last_signal: None,
            fatal_on_exit: false,
        }
    }

    pub fn state(&self) -> ProcessState {
        self.state
    }

    /// The moment the next Tick would change something on its own (timers only).
    pub fn next_deadline(&self, cfg: &ProcessConfig) -> Option<Instant> {
        match self.state {
            ProcessState::Starting => self.laststart.map(|t| t + secs(cfg.startsecs)),
            ProcessState::Backoff | ProcessState::Stopping => self.delay,
            _ => None,
        }
    }

    /// Whether a Tick with `may_start` would act right away without any timer (autostart,
    /// autorestart, giving up): the loop must not sleep then.
    pub fn tick_due(&self, cfg: &ProcessConfig, may_start: bool) -> bool {
        match self.state {
            ProcessState::Stopped => may_start && cfg.autostart && self.laststart.is_none(),
            ProcessState::Exited => may_start && self.should_autorestart(cfg),
            ProcessState::Backoff => self.backoff > cfg.startretries,
            _ => false,
        }
    }

    /// Whether a Tick can do anything now or later: false where `tick` has no case (RUNNING,
    /// FATAL, UNKNOWN, a STOPPING without its SIGKILL timer, a STOPPED or EXITED that will not
    /// start), so the loop may skip it.
    pub fn tick_wanted(&self, cfg: &ProcessConfig, may_start: bool) -> bool {
        match self.state {
            ProcessState::Stopped | ProcessState::Exited => self.tick_due(cfg, may_start),
            ProcessState::Backoff | ProcessState::Starting => true,
            ProcessState::Stopping => self.delay.is_some(),
            ProcessState::Running | ProcessState::Fatal | ProcessState::Unknown => false,
        }
    }

    fn should_autorestart(&self, cfg: &ProcessConfig) -> bool {
        match cfg.autorestart {
            AutoRestart::Always => true,
            AutoRestart::Never => false,
            AutoRestart::Unexpected => !cfg.exitcodes.contains(&self.exitstatus),
        }
    }

    fn set_state(&mut self, to: ProcessState, fx: &mut Vec<Effect>) {
        if self.state != to {
            fx.push(Effect::StateChanged {
                from: self.state,
                to,
            });
            self.state = to;
        }
    }

    pub fn step(&mut self, cfg: &ProcessConfig, input: Input, now: Now) -> Vec<Effect> {
        let mut fx = Vec::new();
        match input {
            Input::Tick { may_start } => self.tick(cfg, may_start, now, &mut fx),
            // A process still being stopped has a pid: Supervisor's spawn() refuses, and so
            // do we (a second copy would orphan the first, which nobody would kill).
            Input::Start if self.pid != 0 => fx.push(Effect::Log(
                LogLevel::Warn,
                format!("process '{}' already running", cfg.name),
            )),
            Input::Start => self.start(now, &mut fx),
            Input::Stop => self.stop(cfg, false, now, &mut fx),
            Input::StopForShutdown => self.stop(cfg, true, now, &mut fx),
            Input::Spawned { pid } => {
                self.pid = pid;
                self.last_pid = pid;
                fx.push(Effect::Log(
                    LogLevel::Info,
                    format!("spawned: '{}' with pid {pid}", cfg.name),
                ));
            }
            Input::SpawnFailed { message } => {
                fx.push(Effect::Log(LogLevel::Info, format!("spawnerr: {message}")));
                self.spawnerr = message;
                self.fail_start(now, &mut fx);
            }
            Input::Exited { status } => self.exited(cfg, status, now, &mut fx),
            Input::KillFailed { message } => {
                fx.push(Effect::Log(
                    LogLevel::Critical,
                    format!(
                        "unknown problem killing {} ({}):{message}",
                        cfg.name, self.pid
                    ),
                ));
                self.killing = false;
                self.delay = None;
                self.set_state(ProcessState::Unknown, &mut fx);
            }
            Input::Retire => match self.state {
                ProcessState::Running | ProcessState::Starting => {
                    self.stop(cfg, false, now, &mut fx);
                    self.fatal_on_exit = true;
                }
                ProcessState::Stopping => self.fatal_on_exit = true,
                s if !s.is_stopped() => self.give_up(&mut fx),
                _ => {}
            },
        }
        fx
    }

    fn start(&mut self, now: Now, fx: &mut Vec<Effect>) {
        self.fatal_on_exit = false;
        self.laststart = Some(now.mono);
        self.laststart_wall = Some(now.wall);
        self.spawnerr.clear();
        self.exitstatus = 0;
        self.killing = false;
        self.delay = None;
        self.set_state(ProcessState::Starting, fx);
        fx.push(Effect::Spawn);
    }

    /// STARTING -> BACKOFF with the growing delay.
    fn fail_start(&mut self, now: Now, fx: &mut Vec<Effect>) {
        self.pid = 0;
        self.backoff += 1;
        self.delay = Some(now.mono + secs(self.backoff));
        self.set_state(ProcessState::Backoff, fx);
    }

    fn tick(&mut self, cfg: &ProcessConfig, may_start: bool, now: Now, fx: &mut Vec<Effect>) {
        match self.state {
            ProcessState::Stopped | ProcessState::Exited if self.tick_due(cfg, may_start) => {
                self.start(now, fx);
            }
            ProcessState::Backoff => {
                if self.backoff > cfg.startretries {
                    self.give_up(fx);
                    fx.push(Effect::Log(
                        LogLevel::Info,
                        format!(
                            "gave up: {} entered FATAL state, too many start retries too quickly",
                            cfg.name
                        ),
                    ));
                } else if may_start && self.delay.is_none_or(|d| now.mono >= d) {
                    self.start(now, fx);
                }
            }
            ProcessState::Starting => {
                let started = self.laststart.unwrap_or(now.mono);
                if now.mono >= started + secs(cfg.startsecs) {
                    self.promote(cfg, fx);
                }
            }
            ProcessState::Stopping if self.delay.is_some_and(|d| now.mono >= d) => {
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
                self.delay = Some(now.mono + secs(cfg.stopwaitsecs.max(1)));
            }
            _ => {}
        }
    }

    fn promote(&mut self, cfg: &ProcessConfig, fx: &mut Vec<Effect>) {
        self.backoff = 0;
        self.delay = None;
        self.set_state(ProcessState::Running, fx);
        fx.push(Effect::Log(
            LogLevel::Info,
            format!(
                "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                cfg.name, cfg.startsecs
            ),
        ));
    }

    fn give_up(&mut self, fx: &mut Vec<Effect>) {
        self.backoff = 0;
        self.delay = None;
        self.set_state(ProcessState::Fatal, fx);
    }

    fn stop(&mut self, cfg: &ProcessConfig, shutdown: bool, now: Now, fx: &mut Vec<Effect>) {
        match self.state {
            ProcessState::Running | ProcessState::Starting => {
                let group = if cfg.stopasgroup {
                    "process group "
                } else {
                    ""
                };
                fx.push(Effect::Log(
                    LogLevel::Debug,
                    format!(
                        "killing {} (pid {}) {group}with signal {}",
                        cfg.name,
                        self.pid,
                        signal_name(cfg.stopsignal)
                    ),
                ));
                self.killing = true;
                self.delay = Some(now.mono + secs(cfg.stopwaitsecs));
                self.set_state(ProcessState::Stopping, fx);
                fx.push(Effect::Kill {
                    pid: self.pid,
                    signal: cfg.stopsignal,
                    group: cfg.stopasgroup,
                });
            }
            ProcessState::Backoff if shutdown => self.give_up(fx),
            ProcessState::Backoff => {
                fx.push(Effect::Log(
                    LogLevel::Debug,
                    format!("Attempted to kill {}, which is in BACKOFF state.", cfg.name),
                ));
                self.delay = None;
                self.set_state(ProcessState::Stopped, fx);
            }
            _ => {}
        }
    }

    fn exited(&mut self, cfg: &ProcessConfig, status: WaitStatus, now: Now, fx: &mut Vec<Effect>) {
        let code = status.exit_code();
        let expected = cfg.exitcodes.contains(&code);
        let desc = status.describe();
        self.laststop_wall = Some(now.wall);
        self.last_signal = status.signal();
        let too_quick = self
            .laststart
            .is_some_and(|t| now.mono.saturating_duration_since(t) < secs(cfg.startsecs));
        if self.killing {
            self.killing = false;
            self.delay = None;
            self.exitstatus = code;
            self.expected = expected;
            let level = if expected {
                LogLevel::Info
            } else {
                LogLevel::Warn
            };
            fx.push(Effect::Log(
                level,
                format!("stopped: {} ({desc})", cfg.name),
            ));
            self.pid = 0;
            self.set_state(ProcessState::Stopped, fx);
            if std::mem::take(&mut self.fatal_on_exit) {
                self.give_up(fx);
                fx.push(Effect::Log(
                    LogLevel::Info,
                    format!("gave up: {} entered FATAL state, retired", cfg.name),
                ));
            }
        } else if self.state == ProcessState::Starting && too_quick {
            self.exitstatus = 0;
            self.expected = false;
            self.spawnerr = "Exited too quickly (process log may have details)".to_string();
            fx.push(Effect::Log(
                LogLevel::Warn,
                format!("exited: {} ({desc}; not expected)", cfg.name),
            ));
            self.fail_start(now, fx);
        } else {
            if self.state == ProcessState::Starting {
                // Up long enough, but exited before a tick promoted it.
                self.set_state(ProcessState::Running, fx);
            }
            self.backoff = 0;
            self.delay = None;
            self.exitstatus = code;
            self.expected = expected;
            if expected {
                fx.push(Effect::Log(
                    LogLevel::Info,
                    format!("exited: {} ({desc}; expected)", cfg.name),
                ));
            } else {
                self.spawnerr = format!("Bad exit code {code}");
                fx.push(Effect::Log(
                    LogLevel::Warn,
                    format!("exited: {} ({desc}; not expected)", cfg.name),
                ));
            }
            self.pid = 0;
            self.set_state(ProcessState::Exited, fx);
        }
    }
}

#[cfg(test)]
mod tests;
