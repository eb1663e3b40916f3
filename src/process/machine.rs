//! The process lifecycle as a pure state machine: `step(input, now)` changes the state and
//! returns the effects (spawn, kill, log lines, state-change notices) for the loop to carry out.
//! Nothing here forks, signals or writes, so every transition is unit-tested with fake time.

use super::backoff::{self, Jitter};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum AfterStop {
    #[default]
    Stopped,
    /// FATAL (Input::Retire).
    Fatal,
    /// BACKOFF, a failed start (Input::Failed).
    Backoff,
    /// STOPPED, then started again (Input::Unhealthy).
    Restart,
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
    /// What the stop in progress ends in (STOPPED unless Input::Retire or Input::Failed).
    after_stop: AfterStop,
    /// An event listener: its start is complete only once it is RUNNING *and* has said
    /// READY, so a listener that fails before its first READY cannot reset the count of
    /// failed starts however long startsecs let it run.
    greets: bool,
    /// It said READY since it was last spawned.
    greeted: bool,
    /// Consecutive automatic restarts after exits from RUNNING since the last healthy run
    /// (see `healthy_run`); drives `restart_delay_secs`.
    pub restarts: u32,
    /// The BACKOFF in progress waits for an automatic restart (`restart_delay_secs`), not
    /// after a failed start: it never gives up.
    restart_wait: bool,
    jitter: Jitter,
}

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
            after_stop: AfterStop::Stopped,
            greets: false,
            greeted: false,
            restarts: 0,
            restart_wait: false,
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
        self.state
    }

    /// In BACKOFF: how long until the next start, and which attempt it is.
    pub fn retry(&self, now: Instant) -> Option<Retry> {
        if self.state != ProcessState::Backoff {
            return None;
        }
        Some(Retry {
            wait: self
                .delay
                .map_or(Duration::ZERO, |d| d.saturating_duration_since(now)),
            attempt: if self.restart_wait {
                self.restarts
            } else {
                (self.backoff.max(0) as u32).saturating_add(1)
            },
            restart: self.restart_wait,
        })
    }

    /// The process ended in EXITED and autorestart will start it again (at once or after
    /// its restart delay); false for a process in any other state.
    pub fn will_autorestart(&self, cfg: &ProcessConfig) -> bool {
        self.state == ProcessState::Exited && self.should_autorestart(cfg)
    }

    /// The failed-start BACKOFF has used up `startretries` and the next tick makes it FATAL.
    fn out_of_retries(&self, cfg: &ProcessConfig) -> bool {
        !self.restart_wait && !cfg.restart.retry_forever && self.backoff > cfg.startretries
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
    fn healthy_run(cfg: &ProcessConfig, ran: Duration) -> bool {
        let max = cfg
            .restart
            .max_secs
            .unwrap_or(crate::config::restart::DEFAULT_MAX_SECS);
        ran >= secs(max)
    }

    /// The moment the next Tick would change something on its own (timers only).
    pub fn next_deadline(&self, cfg: &ProcessConfig) -> Option<Instant> {
        match self.state {
            // With a probe, startsecs=0 waits for readiness for ever.
            ProcessState::Starting if self.probed(cfg) && cfg.startsecs <= 0 => None,
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
            ProcessState::Backoff => self.out_of_retries(cfg),
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
            Input::Start => {
                // Asked for by hand: earlier crashes no longer count.
                self.restarts = 0;
                self.start(now, &mut fx)
            }
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
                self.fail_start(cfg, now, &mut fx);
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
                    self.after_stop = AfterStop::Fatal;
                }
                ProcessState::Stopping => self.after_stop = AfterStop::Fatal,
                s if !s.is_stopped() => self.give_up(&mut fx),
                _ => {}
            },
            Input::Failed { message } => {
                if matches!(self.state, ProcessState::Running | ProcessState::Starting) {
                    self.spawnerr = message;
                    self.stop(cfg, false, now, &mut fx);
                    self.after_stop = AfterStop::Backoff;
                }
            }
            Input::Ready if self.probed(cfg) => {
                if self.state == ProcessState::Starting && self.pid != 0 {
                    self.backoff = 0;
                    self.delay = None;
                    self.set_state(ProcessState::Running, &mut fx);
                    fx.push(Effect::Log(
                        LogLevel::Info,
                        format!(
                            "success: {} entered RUNNING state, process is ready",
                            cfg.name
                        ),
                    ));
                }
            }
            Input::Ready => {
                self.greeted = true;
                if self.state == ProcessState::Running {
                    self.backoff = 0;
                }
            }
            Input::Unhealthy { message } => {
                if self.state == ProcessState::Running {
                    fx.push(Effect::Log(
                        LogLevel::Warn,
                        format!("restarting {}: {message}", cfg.name),
                    ));
                    self.stop(cfg, false, now, &mut fx);
                    self.after_stop = AfterStop::Restart;
                }
            }
            Input::MainPid { pid } => {
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
            Input::Stopping => {
                if matches!(self.state, ProcessState::Running | ProcessState::Starting) {
                    fx.push(Effect::Log(
                        LogLevel::Info,
                        format!("{} is stopping on its own (STOPPING=1)", cfg.name),
                    ));
                    self.killing = true;
                    self.delay = Some(now.mono + secs(cfg.stopwaitsecs));
                    self.set_state(ProcessState::Stopping, &mut fx);
                }
            }
        }
        fx
    }

    fn start(&mut self, now: Now, fx: &mut Vec<Effect>) {
        self.after_stop = AfterStop::Stopped;
        self.restart_wait = false;
        self.greeted = false;
        self.laststart = Some(now.mono);
        self.laststart_wall = Some(now.wall);
        self.spawnerr.clear();
        self.exitstatus = 0;
        self.killing = false;
        self.delay = None;
        self.set_state(ProcessState::Starting, fx);
        fx.push(Effect::Spawn);
    }

    /// STARTING -> BACKOFF with the growing delay (the policy's curve in units of 1 s).
    fn fail_start(&mut self, cfg: &ProcessConfig, now: Now, fx: &mut Vec<Effect>) {
        self.pid = 0;
        self.backoff += 1;
        self.restart_wait = false;
        let n = self.backoff.clamp(1, u32::MAX as i64) as u32;
        let wait = self.next_wait(cfg, Duration::from_secs(1), n, now);
        self.delay = Some(now.mono + wait);
        self.set_state(ProcessState::Backoff, fx);
    }

    /// EXITED -> STARTING for autorestart, or -> BACKOFF for `restart_delay_secs` first.
    fn autorestart(&mut self, cfg: &ProcessConfig, now: Now, fx: &mut Vec<Effect>) {
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
        self.restart_wait = true;
        self.delay = Some(now.mono + wait);
        self.set_state(ProcessState::Backoff, fx);
    }

    fn tick(&mut self, cfg: &ProcessConfig, may_start: bool, now: Now, fx: &mut Vec<Effect>) {
        match self.state {
            ProcessState::Stopped if self.tick_due(cfg, may_start) => self.start(now, fx),
            ProcessState::Exited if self.tick_due(cfg, may_start) => self.autorestart(cfg, now, fx),
            ProcessState::Backoff => {
                if self.out_of_retries(cfg) {
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
                let over = now.mono >= started + secs(cfg.startsecs);
                if over && !self.probed(cfg) {
                    self.promote(cfg, fx);
                } else if over && cfg.startsecs > 0 {
                    let message = format!("not ready within {} seconds (startsecs)", cfg.startsecs);
                    fx.push(Effect::Log(
                        LogLevel::Warn,
                        format!("{}: {message}", cfg.name),
                    ));
                    self.stop(cfg, false, now, fx);
                    self.after_stop = AfterStop::Backoff;
                    self.spawnerr = message;
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
        if !self.awaits_ready() {
            self.backoff = 0;
        }
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
        self.restart_wait = false;
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
            // A stop asked for while a failure or a probe stops it: it ends stopped, not in
            // BACKOFF nor started again.
            ProcessState::Stopping
                if matches!(self.after_stop, AfterStop::Backoff | AfterStop::Restart) =>
            {
                self.after_stop = AfterStop::Stopped;
            }
            // A restart wait is no failed start: shutdown leaves it STOPPED, like the EXITED
            // process it was.
            ProcessState::Backoff if shutdown && !self.restart_wait => self.give_up(fx),
            ProcessState::Backoff => {
                fx.push(Effect::Log(
                    LogLevel::Debug,
                    format!("Attempted to kill {}, which is in BACKOFF state.", cfg.name),
                ));
                self.delay = None;
                self.restart_wait = false;
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
            let after = std::mem::take(&mut self.after_stop);
            let level = match after {
                // The failure was logged when it happened: one line per failed start.
                AfterStop::Backoff => LogLevel::Debug,
                _ if expected => LogLevel::Info,
                _ => LogLevel::Warn,
            };
            fx.push(Effect::Log(
                level,
                format!("stopped: {} ({desc})", cfg.name),
            ));
            if after == AfterStop::Backoff {
                self.fail_start(cfg, now, fx);
                return;
            }
            self.pid = 0;
            self.set_state(ProcessState::Stopped, fx);
            if after == AfterStop::Restart {
                self.start(now, fx);
                return;
            }
            if after == AfterStop::Fatal {
                self.give_up(fx);
                fx.push(Effect::Log(
                    LogLevel::Info,
                    format!("gave up: {} entered FATAL state, retired", cfg.name),
                ));
            }
        } else if self.state == ProcessState::Starting && (too_quick || self.probed(cfg)) {
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
            if self.state == ProcessState::Starting {
                // Up long enough, but exited before a tick promoted it.
                self.set_state(ProcessState::Running, fx);
            }
            self.backoff = 0;
            self.delay = None;
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
            self.set_state(ProcessState::Exited, fx);
        }
    }
}

#[cfg(test)]
mod tests;
