//! `Supervisor`: the one owner of the daemon's state (groups, processes, pipes, the main log)
//! and the place where the state machine's effects are carried out (spawn, kill, log).

use super::fcgi::SharedSocket;
pub use super::groups::{ByName, Group, Groups};
use super::source::Source;
use super::{autolog, environment};
use crate::config::{
    ChannelConfig, Config, GroupConfig, GroupKind, LogFile, Overrides, ProcessConfig,
};
use crate::events::listener::Protocol;
use crate::events::pool::Queued;
use crate::events::Event;
use crate::log::{MainLog, RotatingFile};
use crate::output::{OutputChannel, ReadResult, Stream};
use crate::process::machine::{Effect, Input, Machine, Now};
use crate::process::{spawn, ProcessState, WaitStatus};
use crate::sys::errno::{self, errno_name};
use crate::sys::poller::{Interest, Poller};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Poller key of the signal self-pipe (the others: `source::Source`).
pub const SIGNAL_KEY: usize = 0;
const READ_CHUNK: usize = 128 * 1024;

/// supervisord's own state ("mood").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    Running,
    Restarting,
    Shutdown,
}

pub struct Process {
    pub id: usize,
    pub group: String,
    /// Shared with the group's configuration.
    pub config: Arc<ProcessConfig>,
    pub machine: Machine,
    /// Resolved log paths (AUTO names are fixed when the group is created).
    pub stdout_path: Option<PathBuf>,
    pub stderr_path: Option<PathBuf>,
    pub stdin: Option<OwnedFd>,
    /// sendProcessStdin data the pipe did not take yet.
    pub(super) stdin_buf: Vec<u8>,
    /// Boxed: a channel exists only while the process runs, and most configured processes
    /// do not (inline, the two made every process record 500 bytes larger).
    pub(super) channels: [Option<Box<OutputChannel>>; 2],
    /// This process holds a reference on its group's fcgi socket.
    pub(super) holds_socket: bool,
    /// What only an event listener has (boxed: most processes are not listeners).
    pub listener: Option<Box<Listener>>,
    /// Start again as soon as the stop in progress completes.
    pub(super) restart_pending: bool,
    /// Successful spawns since the process record was created (for /metrics).
    pub starts: u64,
    /// Readiness probe and sd_notify state (`daemon::probes`).
    pub probe: crate::probe::ProbeState,
    /// Held starts, waiting stops and notes of dependency ordering (`order`).
    pub dep: super::order::DepWait,
}

pub struct Supervisor {
    pub config: Config,
    /// The configuration read by the last reloadConfig (reread); `config` until then.
    pub(super) pending: Option<Config>,
    /// The groups of `pending_config()` by name.
    pub(super) pending_index: HashSet<ByName>,
    pub(super) overrides: Overrides,
    pub log: MainLog,
    pub mood: Mood,
    /// The exit status an essential process's end chose (`essential`); `None`: exit 0.
    pub(super) exit_status: Option<i32>,
    /// Why supervisord is in its own FATAL state (statecode 2), if it is.
    pub(super) fatal: Option<String>,
    pub(super) last_kill_error: Option<String>,
    pub(super) poller: Arc<Poller>,
    pub(super) procs: Vec<Option<Process>>,
    /// By priority; equal priorities in the order they were added (the configuration's
    /// order, by name, at start; `update` adds after them).
    pub groups: Groups,
    /// `[supervisord] environment` as the groups created last saw it, shared by them.
    global_env: Arc<[(String, String)]>,
    /// Every process id in start order, for the loop's walk every turn; `None` after
    /// groups came or went (remade on the next walk, not once per group added).
    start_order: Option<Vec<usize>>,
    pub(super) pids: HashMap<i32, usize>,
    /// Active groups made with an older `[supervisord] environment_file` list than the one in
    /// use, because `updateProcessGroup` brought another group in line first (`update`).
    pub(super) old_env_files: std::collections::HashSet<String>,
    pub(super) base_env: Vec<(String, String)>,
    pub(super) buf: Vec<u8>,
    /// Where an event notification is written before it goes to a listener's stdin.
    pub(super) scratch: Vec<u8>,
    /// Listener messages parsed from one read (reused: one per delivered event).
    pub(super) messages: Vec<crate::events::listener::Message>,
    /// Groups still to stop during shutdown/restart, ascending priority (last is stopped next).
    pub(super) stop_order: Option<super::shutdown::StopOrder>,
    pub(super) last_wait_log: Option<Instant>,
    /// Last seen period of TICK_5/60/3600 (None while nobody subscribes).
    pub(super) tick_periods: [Option<u64>; 3],
    /// While shutting down: until when listeners are still served.
    pub(super) drain_deadline: Option<Instant>,
    pub(super) drain_done: bool,
    /// The earliest `OutputChannel::rest_until` (or a past one whose channel is gone).
    pub(super) rest_due: Option<Instant>,
    /// Channels (process id, channel index) holding log bytes back until their events went
    /// out (`flush_logs`; empty whenever the loop sleeps).
    pub(super) unlogged: Vec<(usize, usize)>,
    /// Running probe commands: pid -> process id (reaped by `reap`, never "unknown").
    pub(super) probe_pids: HashMap<i32, (usize, crate::probe::Purpose)>,
    /// Dependency links by process id (`order`).
    pub(super) links: super::order::Links,
}

/// The groups of a configuration by name.
pub(super) fn index_groups(config: &Config) -> HashSet<ByName> {
    config.groups.iter().cloned().map(ByName).collect()
}

/// An event listener process's side of the protocol.
pub struct Listener {
    pub protocol: Protocol,
    /// The event sent to this listener and not answered yet.
    pub(super) in_flight: Option<Queued>,
    /// A busy listener whose stdout is not watched (nothing else waits for it, see
    /// `events::COLLECT_DELAY`): its reply is read when its pool needs it, or by this time.
    pub(super) collect_by: Option<Instant>,
    /// A listener whose stdout reached its end while it ran: if it still runs at this time
    /// (`events::HANGUP_GRACE`), it has broken the protocol rather than begun to exit.
    pub(super) hangup_by: Option<Instant>,
}

impl Listener {
    fn new() -> Box<Listener> {
        Box::new(Listener {
            protocol: Protocol::new(),
            in_flight: None,
            collect_by: None,
            hangup_by: None,
        })
    }
}

impl Process {
    pub(super) fn collect_by(&self) -> Option<Instant> {
        self.listener.as_ref().and_then(|l| l.collect_by)
    }

    pub(super) fn in_flight_take(&mut self) -> Option<Queued> {
        self.listener.as_mut().and_then(|l| l.in_flight.take())
    }

    /// Forgets both listener deadlines (the reply to collect, the hang-up grace).
    fn clear_collect_by(&mut self) {
        if let Some(l) = self.listener.as_mut() {
            l.collect_by = None;
            l.hangup_by = None;
        }
    }
}

pub(super) fn fd_key(id: usize, stream: Stream) -> usize {
    Source::Output { id, stream }.key()
}

pub(super) fn stdin_key(id: usize) -> usize {
    Source::Stdin { id }.key()
}

impl Supervisor {
    pub fn new(
        config: Config,
        overrides: Overrides,
        log: MainLog,
        base_env: Vec<(String, String)>,
    ) -> io::Result<Self> {
        Ok(Supervisor {
            pending_index: index_groups(&config),
            config,
            pending: None,
            overrides,
            log,
            mood: Mood::Running,
            exit_status: None,
            fatal: None,
            last_kill_error: None,
            poller: Arc::new(Poller::new()?),
            procs: Vec::new(),
            groups: Groups::new(),
            global_env: Arc::from([]),
            start_order: None,
            pids: HashMap::new(),
            old_env_files: Default::default(),
            base_env,
            buf: vec![0; READ_CHUNK],
            scratch: Vec::new(),
            messages: Vec::new(),
            stop_order: None,
            last_wait_log: None,
            tick_periods: [None; 3],
            drain_deadline: None,
            drain_done: false,
            rest_due: None,
            unlogged: Vec::new(),
            probe_pids: HashMap::new(),
            links: Default::default(),
        })
    }

    pub fn poller(&self) -> &Arc<Poller> {
        &self.poller
    }

    pub fn process(&self, id: usize) -> Option<&Process> {
        self.procs.get(id).and_then(|p| p.as_ref())
    }

    /// For other modules' tests that need a process in a given state.
    #[cfg(test)]
    pub fn process_mut_for_tests(&mut self, id: usize) -> &mut Process {
        self.process_mut(id).expect("no such process")
    }

    pub(super) fn process_mut(&mut self, id: usize) -> Option<&mut Process> {
        self.procs.get_mut(id).and_then(|p| p.as_mut())
    }

    /// Every live process id, in start order (group priority, then member order).
    pub fn process_ids(&self) -> Vec<usize> {
        match &self.start_order {
            Some(ids) => ids.clone(),
            None => self
                .groups
                .iter()
                .flat_map(|g| g.members.iter().copied())
                .collect(),
        }
    }

    pub(super) fn groups_changed(&mut self) {
        self.start_order = None;
        self.links.dirty = true;
    }

    /// Every live process sorted by group name, then name: 4.3's `lexical` order, which
    /// getAllProcessInfo, `supervisorctl status` and the web page list them in.
    pub fn processes_by_name(&self) -> Vec<&Process> {
        let mut procs: Vec<&Process> = self
            .process_ids()
            .into_iter()
            .filter_map(|id| self.process(id))
            .collect();
        procs.sort_by(|a, b| (&a.group, &a.config.name).cmp(&(&b.group, &b.config.name)));
        procs
    }

    pub fn find(&self, group: &str, name: &str) -> Option<usize> {
        self.groups
            .get(group)?
            .member(name, |id| self.process(id).map(|p| p.config.name.as_str()))
    }

    /// Creates a group's processes (STOPPED) and fixes their AUTO log names; a listener
    /// pool subscribes; PROCESS_GROUP_ADDED is emitted.
    pub fn add_group(&mut self, gc: impl Into<Arc<GroupConfig>>) {
        let gc: Arc<GroupConfig> = gc.into();
        let pool = self.make_pool(&gc);
        let is_pool = pool.is_some();
        let mut members = Vec::with_capacity(gc.processes.len());
        for pc in &gc.processes {
            members.push(self.new_process(&gc.name, pc, is_pool));
        }
        if *self.global_env != *self.config.supervisord.environment {
            self.global_env = Arc::from(self.config.supervisord.environment.as_slice());
        }
        let socket = match &gc.kind {
            GroupKind::Fcgi(s) => Some(SharedSocket::new((**s).clone())),
            _ => None,
        };
        let name = gc.name.clone();
        let global_env = Arc::clone(&self.global_env);
        // After the groups of lower or equal priority (`Groups::insert`).
        self.groups
            .insert(Group::new(gc, members, global_env, socket, pool));
        self.groups_changed();
        self.emit(Event::new(
            crate::events::EventKind::ProcessGroupAdded,
            format!("groupname:{name}\n"),
        ));
    }

    /// A process record (STOPPED) for `pc` in `group`, with its AUTO log names fixed; its id.
    pub(super) fn new_process(
        &mut self,
        group: &str,
        pc: &Arc<ProcessConfig>,
        listener: bool,
    ) -> usize {
        let stdout_path = self.resolve_log(pc, &pc.stdout, Stream::Stdout);
        let stderr_path = if pc.redirect_stderr {
            None
        } else {
            self.resolve_log(pc, &pc.stderr, Stream::Stderr)
        };
        let id = self.procs.len();
        self.procs.push(Some(Process {
            id,
            group: group.to_string(),
            config: Arc::clone(pc),
            machine: if listener {
                Machine::listener()
            } else {
                Machine::new()
            },
            stdout_path,
            stderr_path,
            stdin: None,
            stdin_buf: Vec::new(),
            channels: [None, None],
            holds_socket: false,
            listener: listener.then(Listener::new),
            restart_pending: false,
            starts: 0,
            probe: Default::default(),
            dep: Default::default(),
        }));
        self.links.dirty = true;
        id
    }

    /// The active group's configuration if it equals `g`, which a reread then shares: ten
    /// thousand unchanged programs are held once, not twice, and the diff sees the same
    /// pointer.
    pub(super) fn unchanged(&self, g: &GroupConfig) -> Option<Arc<GroupConfig>> {
        let active = self.groups.get(&g.name)?;
        (*active.config == *g).then(|| Arc::clone(&active.config))
    }

    fn resolve_log(
        &mut self,
        pc: &ProcessConfig,
        ch: &ChannelConfig,
        s: Stream,
    ) -> Option<PathBuf> {
        match &ch.logfile {
            LogFile::None => None,
            LogFile::Path(p) => Some(p.clone()),
            LogFile::Auto => {
                let sd = &self.config.supervisord;
                match autolog::create(&sd.childlogdir, &pc.name, s.name(), &sd.identifier) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        self.log.error(&format!(
                            "could not create AUTO {} log for '{}' in {}: {e}",
                            s.name(),
                            pc.name,
                            sd.childlogdir.display()
                        ));
                        None
                    }
                }
            }
        }
    }

    /// Feeds one input to a process's machine and carries out the effects, feeding their
    /// outcomes (spawned, spawn failed, kill failed) back in order.
    pub fn apply(&mut self, id: usize, input: Input, now: Now) {
        // The common case, one input and no outcome, must not allocate.
        let mut next = Some(input);
        let mut queue = VecDeque::new();
        while let Some(input) = next.take().or_else(|| queue.pop_front()) {
            let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
                return;
            };
            let effects = p.machine.step(&p.config, input, now);
            for effect in effects {
                match effect {
                    Effect::StateChanged { from, to } => {
                        self.on_state_change(id, from, to, now);
                        self.probe_state_change(id, to, now.mono);
                    }
                    Effect::Spawn => queue.push_back(self.do_spawn(id)),
                    Effect::Kill { pid, signal, group } => {
                        if let Some(next) = self.do_kill(id, pid, signal, group) {
                            queue.push_back(next);
                        }
                    }
                    Effect::Log(level, text) => self.log.log(level, &text),
                }
            }
        }
    }

    /// The choke point every state change passes through: logged, and emitted as events.
    fn on_state_change(&mut self, id: usize, from: ProcessState, to: ProcessState, now: Now) {
        if let Some(p) = self.process(id) {
            let line = format!("{}: {} -> {}", p.config.name, from.name(), to.name());
            self.log.blather(&line);
        }
        self.emit_state_events(id, from, to);
        if to == ProcessState::Running {
            self.listener_running(id);
        }
        self.essential_rule(id, to);
        self.deps_state_change(id, from, to, now);
    }

    fn do_spawn(&mut self, id: usize) -> Input {
        let Some(p) = self.procs.get(id).and_then(|p| p.as_ref()) else {
            return Input::SpawnFailed {
                message: "process vanished".into(),
            };
        };
        let name = p.config.name.clone();
        let mut env = match environment::build(&self.base_env, &self.config, &p.group, &p.config) {
            Ok(env) => env,
            Err(message) => return Input::SpawnFailed { message },
        };
        match self.open_notify(id) {
            Ok(extra) => env.extend(extra),
            Err(message) => return Input::SpawnFailed { message },
        }
        let Some(p) = self.procs.get(id).and_then(|p| p.as_ref()) else {
            return Input::SpawnFailed {
                message: "process vanished".into(),
            };
        };
        let plan = match spawn::prepare(&p.config, &env).map_err(|e| e.to_string()) {
            Ok(plan) => plan,
            Err(message) => return Input::SpawnFailed { message },
        };
        let open =
            |path: &Option<PathBuf>, ch: &ChannelConfig| -> Result<Option<RotatingFile>, String> {
                match path {
                    None => Ok(None),
                    Some(path) => RotatingFile::open(path, ch.maxbytes, ch.backups)
                        .map(Some)
                        .map_err(|e| {
                            // An OS error by its name, as Supervisor; our own refusals (a
                            // planted symlink) by what they say.
                            let why = match e.raw_os_error() {
                                Some(code) => errno_name(code).to_string(),
                                None => e.to_string(),
                            };
                            format!("unknown error making dispatchers for '{name}': {why}")
                        }),
                }
            };
        let out_log = match open(&p.stdout_path, &p.config.stdout) {
            Ok(l) => l,
            Err(message) => return Input::SpawnFailed { message },
        };
        let err_log = match open(&p.stderr_path, &p.config.stderr) {
            Ok(l) => l,
            Err(message) => return Input::SpawnFailed { message },
        };
        let (out_syslog, err_syslog) = (p.config.stdout.syslog, p.config.stderr.syslog);
        let group = p.group.clone();
        let log = &mut self.log;
        let shared = self.groups.get_mut(&group).and_then(|g| g.socket.as_mut());
        let socket = match shared {
            Some(s) => match s.acquire(log) {
                Ok(fd) => Some(fd),
                Err(message) => return Input::SpawnFailed { message },
            },
            None => None,
        };
        let child = match spawn::spawn(&plan, &name, socket) {
            Ok(c) => c,
            Err(message) => {
                // A failed start must not keep the socket open.
                if socket.is_some() {
                    self.release_socket(&group);
                }
                return Input::SpawnFailed { message };
            }
        };
        self.pids.insert(child.pid, id);
        let listener = p.listener.is_some();
        let capture = |ch: &ChannelConfig| {
            (ch.capture_maxbytes > 0)
                .then(|| crate::output::capture::Capture::new(ch.capture_maxbytes))
        };
        // A listener's stdout carries the protocol: no capture, no PROCESS_LOG events (E14).
        let out = OutputChannel::new(
            Stream::Stdout,
            child.stdout,
            out_log,
            out_syslog && !listener,
            if listener {
                None
            } else {
                capture(&p.config.stdout)
            },
            p.config.stdout.events_enabled && !listener,
            listener,
        )
        .with_prefix(p.config.log_prefix.as_ref());
        let err = child.stderr.map(|fd| {
            OutputChannel::new(
                Stream::Stderr,
                fd,
                err_log,
                err_syslog,
                capture(&p.config.stderr),
                p.config.stderr.events_enabled,
                false,
            )
            .with_prefix(p.config.log_prefix.as_ref())
        });
        for ch in [Some(&out), err.as_ref()].into_iter().flatten() {
            // Registered while the channel owns the fd (see close_channels).
            let added = self
                .poller
                .add(ch.fd.as_fd(), fd_key(id, ch.stream), Interest::Read);
            if let Err(e) = added {
                self.log
                    .error(&format!("cannot watch output of '{name}': {e}"));
            }
        }
        if let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) {
            // For fcgi programs fd 0 is the socket: the stdin pipe is not kept.
            p.stdin = socket.is_none().then_some(child.stdin);
            p.channels = [Some(Box::new(out)), err.map(Box::new)];
            p.holds_socket = socket.is_some();
            if let Some(l) = p.listener.as_mut() {
                l.protocol = Protocol::new();
                l.collect_by = None;
                l.hangup_by = None;
            }
            p.starts += 1;
        }
        Input::Spawned { pid: child.pid }
    }

    fn do_kill(&mut self, id: usize, pid: i32, signal: i32, group: bool) -> Option<Input> {
        if pid <= 0 {
            return None;
        }
        let target = if group { -pid } else { pid };
        // SAFETY: kill has no memory-safety preconditions.
        if unsafe { libc::kill(target, signal) } == 0 {
            return None;
        }
        let e = errno::last();
        let name = self
            .process(id)
            .map(|p| p.config.name.clone())
            .unwrap_or_default();
        if e == libc::ESRCH {
            self.log.debug(&format!(
                "unable to signal {name} (pid {pid}), it probably just exited on its own: {}",
                io::Error::from_raw_os_error(e)
            ));
            return None;
        }
        let message = format!("{} ({})", errno_name(e), io::Error::from_raw_os_error(e));
        self.enter_fatal(&format!(
            "kill({target}, {signal}) of '{name}' failed: {message}"
        ));
        self.last_kill_error = Some(message.clone());
        Some(Input::KillFailed { message })
    }

    /// Runs a Tick on every process in start order.
    pub fn tick_all(&mut self, now: Now) {
        self.relink();
        self.run_due(now);
        let may_start = self.mood == Mood::Running;
        // The kept list rather than process_ids(): this runs every loop turn (without
        // allocating), and a tick never adds or removes groups or members.
        let order = match self.start_order.take() {
            Some(order) => order,
            None => self.process_ids(),
        };
        for &id in &order {
            // Most processes are RUNNING, where a tick has nothing to do: with ten thousand
            // programs this loop runs on every wake-up.
            if self
                .process(id)
                .is_some_and(|p| p.machine.tick_wanted(&p.config, may_start))
            {
                // Dependencies gate the start; a gated process wakes nobody
                // (`next_timeout`) until a dependency's state changes.
                let may_start = may_start && self.deps_ready(id);
                self.apply(id, Input::Tick { may_start }, now);
            }
        }
        if self.start_order.is_none() {
            self.start_order = Some(order);
        }
    }

    /// How long the loop may sleep: until the nearest timer, zero if a tick is due now, `None`
    /// (forever) when nothing is pending.
    pub fn next_timeout(&self, now: Instant) -> Option<Duration> {
        let may_start = self.mood == Mood::Running;
        if self.dispatch_due() || !self.links.due.is_empty() {
            return Some(Duration::ZERO);
        }
        let mut best: Option<Instant> = None;
        for p in self.procs.iter().flatten() {
            if p.machine.tick_due(&p.config, may_start) && self.deps_ready(p.id) {
                return Some(Duration::ZERO);
            }
            if p.machine.state() == ProcessState::Backoff && !self.deps_ready(p.id) {
                // Its retry waits for the dependency, whose state change wakes the loop.
                continue;
            }
            for d in [p.machine.next_deadline(&p.config), p.probe.next_deadline()]
                .into_iter()
                .flatten()
            {
                best = Some(best.map_or(d, |b| b.min(d)));
            }
        }
        let collect = self
            .groups
            .pools()
            .iter()
            .flat_map(|&gid| self.groups[gid].members.iter())
            .filter_map(|&id| {
                let l = self.process(id)?.listener.as_ref()?;
                l.collect_by.into_iter().chain(l.hangup_by).min()
            })
            .min();
        for d in [
            self.tick_deadline(now),
            self.drain_deadline,
            collect,
            self.rest_due,
        ]
        .into_iter()
        .flatten()
        {
            best = Some(best.map_or(d, |b| b.min(d)));
        }
        best.map(|d| d.saturating_duration_since(now))
    }

    /// Reads the pipes whose rest (`OutputChannel::take_rest`) is over. A pipe that has
    /// more small pieces rests again at once; only one found empty is watched again, so a
    /// steadily chatty child costs one timer wake-up per rest and no epoll_ctl.
    pub fn wake_rested(&mut self, now: Instant) {
        if self.rest_due.is_none_or(|d| d > now) {
            return;
        }
        self.rest_due = None;
        // By index (a process's id is its slot): reading needs `self`, and this runs every
        // few hundred microseconds for a chatty child, so no list of due channels is built.
        for id in 0..self.procs.len() {
            for idx in 0..2 {
                let Some(ch) = self.procs[id]
                    .as_mut()
                    .and_then(|p| p.channels[idx].as_mut())
                else {
                    continue;
                };
                let Some(until) = ch.rest_until else {
                    continue;
                };
                if until > now {
                    self.rest_due = Some(self.rest_due.map_or(until, |d| d.min(until)));
                } else {
                    ch.rest_until = None;
                    self.read_channel(id, idx);
                }
            }
        }
    }

    /// After a read: start or continue a rest the channel asked for, or watch it again.
    fn rest_or_watch(
        poller: &Poller,
        log: &mut MainLog,
        rest_due: &mut Option<Instant>,
        p: &mut Process,
        idx: usize,
    ) {
        let Some(ch) = p.channels[idx].as_mut() else {
            return;
        };
        let key = fd_key(p.id, ch.stream);
        if ch.take_rest() && poller.fine_timeouts() {
            // Still registered, so a hang-up is reported at once.
            if !ch.silent && poller.modify(ch.fd.as_fd(), key, None).is_ok() {
                ch.silent = true;
            }
            if ch.silent {
                let until = Instant::now() + crate::output::REST;
                ch.rest_until = Some(until);
                *rest_due = Some(rest_due.map_or(until, |d| d.min(until)));
            }
        } else if ch.silent && ch.rest_until.is_none() {
            match poller.modify(ch.fd.as_fd(), key, Some(Interest::Read)) {
                Ok(()) => ch.silent = false,
                Err(e) => log.error(&format!(
                    "could not watch {} of '{}' again: {e}",
                    ch.stream.name(),
                    p.config.name
                )),
            }
        }
    }

    /// A child pipe is readable (or a stdin pipe writable again): one read, delivered to its
    /// log (and to the listener protocol, or as a PROCESS_LOG event).
    pub fn handle_fd(&mut self, key: usize) {
        match Source::from_key(key) {
            Some(Source::Output { id, stream }) => {
                self.read_channel(id, (stream == Stream::Stderr) as usize);
            }
            Some(Source::Stdin { id }) => self.flush_stdin(id),
            Some(Source::Notify { id }) => self.notify_readable(id),
            Some(Source::Check { id, purpose }) => self.check_ready(id, purpose),
            Some(Source::Signal) | None => {}
        }
    }

    /// One read from channel `idx` (0 stdout, 1 stderr) of process `id`, delivered.
    pub(super) fn read_channel(&mut self, id: usize, idx: usize) -> ReadResult {
        let strip = self.config.supervisord.strip_ansi;
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return ReadResult::Eof;
        };
        let Some(ch) = p.channels[idx].as_mut() else {
            return ReadResult::Eof;
        };
        let protocol = p.listener.is_some() && ch.stream == Stream::Stdout;
        let listed = ch.has_unlogged();
        let r = ch.read_once(&p.config.name, &mut self.buf, strip, &mut self.log);
        if !listed && ch.has_unlogged() {
            self.unlogged.push((id, idx));
        }
        if !matches!(r, ReadResult::Eof) {
            Self::rest_or_watch(&self.poller, &mut self.log, &mut self.rest_due, p, idx);
        }
        let Some(ch) = p.channels[idx].as_mut() else {
            return r;
        };
        match r {
            ReadResult::Eof => {
                ch.finish(&p.config.name, &mut self.log);
                if !protocol {
                    self.output_events(id, idx);
                }
                if let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) {
                    if let Some(ch) = p.channels[idx].take() {
                        let _ = self.poller.delete(&ch.fd);
                    }
                    if protocol {
                        p.clear_collect_by();
                        Self::listener_hangup(p);
                    }
                }
            }
            ReadResult::Data(n) if protocol => {
                // Copied out of `buf`, which listener_output's callees may read into again;
                // answers are a few bytes, so usually onto the stack.
                let mut small = [0u8; 256];
                if let Some(dst) = small.get_mut(..n) {
                    dst.copy_from_slice(&self.buf[..n]);
                    self.listener_output(id, &small[..n], false);
                } else {
                    let data = self.buf[..n].to_vec();
                    self.listener_output(id, &data, false);
                }
            }
            ReadResult::Data(_) => self.output_events(id, idx),
            ReadResult::WouldBlock => {}
        }
        r
    }

    /// Writes the log bytes that waited for their events (`OutputChannel::flush_log`).
    pub(super) fn flush_logs(&mut self) {
        while let Some((id, idx)) = self.unlogged.pop() {
            if let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) {
                if let Some(ch) = p.channels[idx].as_mut() {
                    ch.flush_log(&p.config.name, &mut self.log);
                }
            }
        }
    }

    /// PROCESS_LOG and PROCESS_COMMUNICATION events for what a channel produced.
    fn output_events(&mut self, id: usize, idx: usize) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let Some(ch) = p.channels[idx].as_mut() else {
            return;
        };
        if ch.visible.is_empty() && ch.comm.is_empty() {
            return;
        }
        let stream = ch.stream.name();
        let (name, group, pid) = (&p.config.name, &p.group, p.machine.last_pid);
        let log = (!ch.visible.is_empty())
            .then(|| crate::events::event::process_log(name, group, pid, stream, &ch.visible));
        // Cleared, not taken: the buffer's capacity serves the next read.
        ch.visible.clear();
        let comm: Vec<_> = std::mem::take(&mut ch.comm)
            .iter()
            .map(|block| crate::events::event::process_comm(name, group, pid, stream, block))
            .collect();
        if let Some(ev) = log {
            self.emit(ev);
        }
        for ev in comm {
            self.emit(ev);
        }
    }

    /// Drains and closes a process's pipes after it exited.
    fn close_channels(&mut self, id: usize) {
        let strip = self.config.supervisord.strip_ansi;
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let is_listener = p.listener.is_some();
        let mut last_words = Vec::new();
        for ch in p.channels.iter_mut().flatten() {
            let keep = (is_listener && ch.stream == Stream::Stdout).then_some(&mut last_words);
            ch.drain(&p.config.name, &mut self.buf, strip, &mut self.log, keep);
            ch.finish(&p.config.name, &mut self.log);
            let _ = self.poller.delete(&ch.fd);
        }
        p.clear_collect_by();
        if !last_words.is_empty() {
            // Like Supervisor's drain at exit: a result the listener wrote before it died
            // still counts (the event is not sent again).
            self.listener_output(id, &last_words, true);
        }
        for idx in 0..2 {
            // A listener's last words on stdout still belong to the protocol, not to events.
            if !(is_listener && idx == 0) {
                self.output_events(id, idx);
            }
        }
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        p.channels = [None, None];
        if let Some(fd) = p.stdin.take() {
            if !p.stdin_buf.is_empty() {
                let _ = self.poller.delete(&fd);
            }
        }
        p.stdin_buf.clear();
        if std::mem::take(&mut p.holds_socket) {
            let group = p.group.clone();
            self.release_socket(&group);
        }
    }

    fn release_socket(&mut self, group: &str) {
        if let Some(g) = self.groups.get_mut(group) {
            if let Some(s) = g.socket.as_mut() {
                s.release(&mut self.log);
            }
        }
    }

    /// Reaps every exited child: managed ones finish their process, others (orphans reparented
    /// to us as PID 1 or subreaper) are logged.
    pub fn reap(&mut self, now: Now) {
        loop {
            let mut status = 0;
            // SAFETY: waitpid writes only into status.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            match self.pids.remove(&pid) {
                Some(id) if self.follow_main_pid(id, pid, now) => {}
                Some(id) => {
                    self.close_channels(id);
                    self.apply(
                        id,
                        Input::Exited {
                            status: WaitStatus(status),
                        },
                        now,
                    );
                    self.after_exit(id);
                }
                None => {
                    if !self.probe_exited(pid, WaitStatus(status), now) {
                        self.log.info(&format!(
                            "reaped unknown pid {pid} ({})",
                            WaitStatus(status).describe()
                        ));
                    }
                }
            }
        }
    }

    /// Reopens the main log and the logs of running processes (SIGUSR2).
    pub fn reopen_logs(&mut self) {
        self.log.info("supervisord logreopen");
        if let Err(e) = self.log.reopen() {
            self.log
                .error(&format!("could not reopen the main log: {e}"));
        }
        let mut failures = Vec::new();
        for p in self.procs.iter_mut().flatten() {
            for ch in p.channels.iter_mut().flatten() {
                if let Some(log) = &mut ch.log {
                    if let Err(e) = log.reopen() {
                        failures.push(format!("could not reopen {}: {e}", log.path().display()));
                    }
                }
            }
        }
        for f in failures {
            self.log.error(&f);
        }
    }
}
