//! The process lifecycle as a pure state machine: `step(input, now)` changes the state and
//! returns the effects (spawn, kill, log lines, state-change notices) for the loop to carry out.
//! Nothing here forks, signals or writes, so every transition is unit-tested with fake time.
//! Each deadline lives in the state that owns it (`Phase`); `timers` answers when a tick acts
//! next (`poll_at`) and acts then, `policy` owns the restart policy.

mod policy;
mod timers;

pub use policy::Retry;
pub use timers::PollAt;

use super::backoff::Jitter;
use super::state::ProcessState;
use super::waitstatus::{signal_name, WaitStatus};
use crate::config::{LogLevel, ProcessConfig};
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
    /// A restart request: stop the process, then start it again once it has exited, as a
    /// start request would (`Effect::Restart`); a STOPPING one is started after its stop, a
    /// BACKOFF one at once. In other states it does nothing: the caller starts those.
    Restart,
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
    /// The process runs but has failed (an event listener broke its protocol or closed its
    /// stdout): stop it, and count a failed start once it has exited (BACKOFF, then FATAL
    /// after `startretries`), like a process that exits too quickly.
    Failed { message: String },
    /// An event listener said READY for the first time since it was spawned; or, for a
    /// process with `ready=` (`probe`), its readiness probe succeeded: STARTING -> RUNNING.
    Ready,
    /// A probe says the process is hung (its sd_notify watchdog expired): stop it and start
    /// it again once it has exited.
    Unhealthy { message: String },
    /// The process said it is stopping on its own (sd_notify `STOPPING=1`): STOPPING without
    /// a signal (SIGKILL after stopwaitsecs as usual), and STOPPED, not restarted, when it exits.
    Stopping,
    /// The child exited but named this pid, its descendant, as the main pid (sd_notify
    /// `MAINPID=`): the process goes on as that pid.
    MainPid { pid: i32 },
}

/// What the stop in progress ends in once the child has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterStop {
    Stopped,
    /// FATAL (Input::Retire).
    Fatal,
    /// BACKOFF, a failed start (Input::Failed, a readiness probe's startsecs).
    Backoff,
    /// STOPPED, then started again: at once by the machine (Input::Unhealthy), or, for a
    /// restart request (`by_request`, Input::Restart), by the loop (`Effect::Restart`).
    Restart {
        by_request: bool,
    },
}

/// The state, carrying the data only it has: each deadline lives in the state it belongs
/// to, so it cannot outlive that state nor be read as another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Stopped,
    /// Its deadline, startsecs after `laststart`, is kept there (the exit needs it too).
    Starting,
    Running,
    /// Waits until `retry_at` to start: after a failed start, or (`restart`) for an
    /// automatic restart's `restart_delay_secs`, which never gives up.
    Backoff {
        retry_at: Instant,
        restart: bool,
    },
    /// Signalled (or stopping on its own): SIGKILL at `kill_at`, then `then` once exited.
    Stopping {
        kill_at: Instant,
        then: AfterStop,
    },
    Exited,
    Fatal,
    Unknown,
}

impl Phase {
    fn state(self) -> ProcessState {
        match self {
            Phase::Stopped => ProcessState::Stopped,
            Phase::Starting => ProcessState::Starting,
            Phase::Running => ProcessState::Running,
            Phase::Backoff { .. } => ProcessState::Backoff,
            Phase::Stopping { .. } => ProcessState::Stopping,
            Phase::Exited => ProcessState::Exited,
            Phase::Fatal => ProcessState::Fatal,
            Phase::Unknown => ProcessState::Unknown,
        }
    }
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
    /// The stop of a restart request is over (`Input::Restart`): start the process as a
    /// start request does, which waits for its dependencies and not while shutting down.
    Restart,
}

/// One process's runtime record.
#[derive(Debug, Clone)]
pub struct Machine {
    phase: Phase,
    pub pid: i32,
    /// Consecutive failed starts.
    pub backoff: i64,
    laststart: Option<Instant>,
    pub laststart_wall: Option<SystemTime>,
    pub laststop_wall: Option<SystemTime>,
    /// Exit code of the last exit (-1 for a signal), 0 after a too-quick exit.
    pub exitstatus: i32,
    /// The last exit was an expected one (for EXITED events).
    pub expected: bool,
    pub spawnerr: String,
    /// The pid of the last spawned child (kept after exit, for event payloads).
    pub last_pid: i32,
    /// The signal that ended the last child, if one did.
    pub last_signal: Option<i32>,
    /// An event listener: its start is complete only once it is RUNNING *and* has said
    /// READY, so a listener that fails before its first READY cannot reset the count of
    /// failed starts however long startsecs let it run.
    greets: bool,
    /// It said READY since it was last spawned.
    greeted: bool,
    /// Consecutive automatic restarts after exits from RUNNING since the last healthy run
    /// (see `healthy_run`); drives `restart_delay_secs`.
    pub restarts: u32,
    jitter: Jitter,
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
            phase: Phase::Stopped,
            pid: 0,
            backoff: 0,
            laststart: None,
            laststart_wall: None,
            laststop_wall: None,
            exitstatus: 0,
            expected: true,
            spawnerr: String::new(),
            last_pid: 0,
            last_signal: None,
            greets: false,
            greeted: false,
            restarts: 0,
            jitter: Jitter::default(),
        }
    }

    /// The machine of an event listener (see `greets`).
    pub fn listener() -> Machine {
        Machine {
            greets: true,
            ..Machine::new()
        }
    }

    /// A listener that has not said READY since it was spawned (Input::Ready is awaited).
    pub fn awaits_ready(&self) -> bool {
        self.greets && !self.greeted
    }

    /// RUNNING comes from a readiness probe (`Input::Ready`), not from startsecs.
    fn probed(&self, cfg: &ProcessConfig) -> bool {
        !self.greets && cfg.probe.waits_for_ready()
    }

    pub fn state(&self) -> ProcessState {
        self.phase.state()
    }

    /// A restart's start will follow the stop in progress (`Input::Restart`, or a probe's
    /// `Input::Unhealthy`).
    pub fn restart_pending(&self) -> bool {
        matches!(
            self.phase,
            Phase::Stopping {
                then: AfterStop::Restart { .. },
                ..
            }
        )
    }

    fn set_state(&mut self, to: Phase, fx: &mut Vec<Effect>) {
        let from = self.phase.state();
        self.phase = to;
        if from != to.state() {
            fx.push(Effect::StateChanged {
                from,
                to: to.state(),
            });
        }
    }

    /// The stop in progress ends in `then` instead (no-op outside STOPPING).
    fn then(&mut self, then: AfterStop) {
        if let Phase::Stopping { then: t, .. } = &mut self.phase {
            *t = then;
        }
    }

    /// Every (state, input) pair is written out, those that change nothing in the last arm,
    /// so a new input or state does not compile until its pairs are decided.
    pub fn step(&mut self, cfg: &ProcessConfig, input: Input, now: Now) -> Vec<Effect> {
        use Phase as P;
        let mut fx = Vec::new();
        match (self.phase, input) {
            (_, Input::Tick { may_start }) => self.tick(cfg, may_start, now, &mut fx),
            // A process still being stopped has a pid: Supervisor's spawn() refuses, and so
            // do we (a second copy would orphan the first, which nobody would kill).
            (_, Input::Start) if self.pid != 0 => fx.push(Effect::Log(
                LogLevel::Warn,
                format!("process '{}' already running", cfg.name),
            )),
            (_, Input::Start) => {
                // Asked for by hand: earlier crashes no longer count.
                self.restarts = 0;
                self.start(now, &mut fx)
            }
            (_, Input::Stop) => self.stop(cfg, false, now, &mut fx),
            (_, Input::StopForShutdown) => self.stop(cfg, true, now, &mut fx),
            (P::Running | P::Starting, Input::Restart) => {
                self.stop(cfg, false, now, &mut fx);
                self.then(AfterStop::Restart { by_request: true });
            }
            // A failure's BACKOFF, a retirement's FATAL or a probe's restart keeps its end.
            (
                P::Stopping {
                    then: AfterStop::Stopped,
                    ..
                },
                Input::Restart,
            ) => self.then(AfterStop::Restart { by_request: true }),
            (P::Backoff { .. }, Input::Restart) => {
                self.stop(cfg, false, now, &mut fx);
                fx.push(Effect::Restart);
            }
            (_, Input::Spawned { pid }) => {
                self.pid = pid;
                self.last_pid = pid;
                fx.push(Effect::Log(
                    LogLevel::Info,
                    format!("spawned: '{}' with pid {pid}", cfg.name),
                ));
            }
            (_, Input::SpawnFailed { message }) => {
                fx.push(Effect::Log(LogLevel::Info, format!("spawnerr: {message}")));
                self.spawnerr = message;
                self.fail_start(cfg, now, &mut fx);
            }
            (_, Input::Exited { status }) => self.exited(cfg, status, now, &mut fx),
            (_, Input::KillFailed { message }) => {
                fx.push(Effect::Log(
                    LogLevel::Critical,
                    format!(
                        "unknown problem killing {} ({}):{message}",
                        cfg.name, self.pid
                    ),
                ));
                self.set_state(P::Unknown, &mut fx);
            }
            (P::Running | P::Starting, Input::Retire) => {
                self.stop(cfg, false, now, &mut fx);
                self.then(AfterStop::Fatal);
            }
            (P::Stopping { .. }, Input::Retire) => self.then(AfterStop::Fatal),
            (P::Backoff { .. }, Input::Retire) => self.give_up(&mut fx),
            (P::Running | P::Starting, Input::Failed { message }) => {
                self.spawnerr = message;
                self.stop(cfg, false, now, &mut fx);
                self.then(AfterStop::Backoff);
            }
            (P::Starting, Input::Ready) if self.probed(cfg) && self.pid != 0 => {
                self.backoff = 0;
                self.set_state(P::Running, &mut fx);
                fx.push(Effect::Log(
                    LogLevel::Info,
                    format!(
                        "success: {} entered RUNNING state, process is ready",
                        cfg.name
                    ),
                ));
            }
            // A probe's late or repeated outcome.
            (_, Input::Ready) if self.probed(cfg) => {}
            (_, Input::Ready) => {
                self.greeted = true;
                if self.phase == P::Running {
                    self.backoff = 0;
                }
            }
            (P::Running, Input::Unhealthy { message }) => {
                fx.push(Effect::Log(
                    LogLevel::Warn,
                    format!("restarting {}: {message}", cfg.name),
                ));
                self.stop(cfg, false, now, &mut fx);
                self.then(AfterStop::Restart { by_request: false });
            }
            (_, Input::MainPid { pid }) => {
                if pid > 0 && self.pid != 0 {
                    fx.push(Effect::Log(
                        LogLevel::Info,
                        format!(
                            "{}: pid {} exited, following its main pid {pid} (MAINPID)",
                            cfg.name, self.pid
                        ),
                    ));
                    self.pid = pid;
                    self.last_pid = pid;
                }
            }
            (P::Running | P::Starting, Input::Stopping) => {
                fx.push(Effect::Log(
                    LogLevel::Info,
                    format!("{} is stopping on its own (STOPPING=1)", cfg.name),
                ));
                let kill_at = now.mono + secs(cfg.stopwaitsecs);
                let then = AfterStop::Stopped;
                self.set_state(P::Stopping { kill_at, then }, &mut fx);
            }
            // The input changes nothing. No child: nothing to restart, retire, fail or stop.
            (
                P::Stopped | P::Exited | P::Fatal | P::Unknown,
                Input::Restart
                | Input::Retire
                | Input::Failed { .. }
                | Input::Stopping
                | Input::Unhealthy { .. },
            )
            // Being stopped already (what the stop ends in is kept), or waiting to start.
            | (
                P::Stopping { .. },
                Input::Restart | Input::Failed { .. } | Input::Stopping | Input::Unhealthy { .. },
            )
            | (
                P::Backoff { .. },
                Input::Failed { .. } | Input::Stopping | Input::Unhealthy { .. },
            )
            // Health is watched only once RUNNING.
            | (P::Starting, Input::Unhealthy { .. }) => {}
        }
        fx
    }

    fn start(&mut self, now: Now, fx: &mut Vec<Effect>) {
        self.greeted = false;
        self.laststart = Some(now.mono);
        self.laststart_wall = Some(now.wall);
        self.spawnerr.clear();
        self.exitstatus = 0;
        self.set_state(Phase::Starting, fx);
        fx.push(Effect::Spawn);
    }

    fn give_up(&mut self, fx: &mut Vec<Effect>) {
        self.backoff = 0;
        self.set_state(Phase::Fatal, fx);
    }

    fn stop(&mut self, cfg: &ProcessConfig, shutdown: bool, now: Now, fx: &mut Vec<Effect>) {
        match self.phase {
            Phase::Running | Phase::Starting => {
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
                let kill_at = now.mono + secs(cfg.stopwaitsecs);
                let then = AfterStop::Stopped;
                self.set_state(Phase::Stopping { kill_at, then }, fx);
                fx.push(Effect::Kill {
                    pid: self.pid,
                    signal: cfg.stopsignal,
                    group: cfg.stopasgroup,
                });
            }
            // A stop asked for while a failure or a probe stops it: it ends stopped, not in
            // BACKOFF nor started again. A restart request's start stays (Supervisor's
            // stopProcess refuses a STOPPING process; shutdown's mood holds the start back).
            Phase::Stopping {
                then: AfterStop::Backoff | AfterStop::Restart { by_request: false },
                ..
            } => self.then(AfterStop::Stopped),
            Phase::Stopping { .. } => {}
            // A restart wait is no failed start: shutdown leaves it STOPPED, like the EXITED
            // process it was.
            Phase::Backoff { restart: false, .. } if shutdown => self.give_up(fx),
            Phase::Backoff { .. } => {
                fx.push(Effect::Log(
                    LogLevel::Debug,
                    format!("Attempted to kill {}, which is in BACKOFF state.", cfg.name),
                ));
                self.set_state(Phase::Stopped, fx);
            }
            Phase::Stopped | Phase::Exited | Phase::Fatal | Phase::Unknown => {}
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
        if let Phase::Stopping { then, .. } = self.phase {
            self.exitstatus = code;
            self.expected = expected;
            let level = match then {
                // The failure was logged when it happened: one line per failed start.
                AfterStop::Backoff => LogLevel::Debug,
                _ if expected => LogLevel::Info,
                _ => LogLevel::Warn,
            };
            fx.push(Effect::Log(
                level,
                format!("stopped: {} ({desc})", cfg.name),
            ));
            if then == AfterStop::Backoff {
                self.fail_start(cfg, now, fx);
                return;
            }
            self.pid = 0;
            self.set_state(Phase::Stopped, fx);
            match then {
                AfterStop::Restart { by_request: false } => self.start(now, fx),
                AfterStop::Restart { by_request: true } => fx.push(Effect::Restart),
                AfterStop::Fatal => {
                    self.give_up(fx);
                    fx.push(Effect::Log(
                        LogLevel::Info,
                        format!("gave up: {} entered FATAL state, retired", cfg.name),
                    ));
                }
                AfterStop::Stopped | AfterStop::Backoff => {}
            }
        } else if self.phase == Phase::Starting && (too_quick || self.probed(cfg)) {
            self.exitstatus = 0;
            self.expected = false;
            self.spawnerr = if too_quick {
                "Exited too quickly (process log may have details)"
            } else {
                "Exited before it was ready (process log may have details)"
            }
            .to_string();
            fx.push(Effect::Log(
                LogLevel::Warn,
                format!("exited: {} ({desc}; not expected)", cfg.name),
            ));
            self.fail_start(cfg, now, fx);
        } else {
            if self.phase == Phase::Starting {
                // Up long enough, but exited before a tick promoted it.
                self.set_state(Phase::Running, fx);
            }
            self.backoff = 0;
            self.exitstatus = code;
            self.expected = expected;
            let ran = self
                .laststart
                .map_or(Duration::ZERO, |t| now.mono.saturating_duration_since(t));
            if Self::healthy_run(cfg, ran) {
                self.restarts = 0;
            }
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
            self.set_state(Phase::Exited, fx);
        }
    }
}

#[cfg(test)]
mod tests;
