//! `Supervisor`: the one owner of the daemon's state (groups, processes, pipes, the main log),
//! and the place every machine input passes (`apply`) and every state change (`on_state_change`).
//! Its other `impl` blocks live by concern: spawn and kill (`effects`), child pipes (`pipes`),
//! events (`events`, `park`, `listener`, `ticks`, `actions`), probes, ordering, shutdown.

use super::autolog;
use super::fcgi::SharedSocket;
pub use super::groups::{ByName, Group, Groups};
pub use super::listener::Listener;
use super::pids::Owner;
use crate::config::{
    ChannelConfig, Config, GroupConfig, GroupKind, LogFile, Overrides, ProcessConfig,
};
use crate::events::Event;
use crate::log::MainLog;
use crate::output::Stream;
use crate::process::machine::{Effect, Input, Machine, Now};
use crate::process::ProcessState;
use crate::sys::poller::Poller;
use std::collections::{BTreeSet, HashSet, VecDeque};
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

const READ_CHUNK: usize = 128 * 1024;

/// supervisord's own state ("mood").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    Running,
    Restarting,
    /// Why is kept to the end: it decides the exit status (`daemon::exit_status`).
    Shutdown(ShutdownReason),
}

/// Why supervisord shuts down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownReason {
    /// SIGTERM, SIGINT or SIGQUIT (the number).
    Signal(i32),
    /// `supervisor.shutdown` (RPC, supervisorctl).
    Request,
    /// The poll loop failed (logged critical).
    LoopFailed,
    /// An essential process exited with this status and will not be restarted.
    EssentialExited(i32),
    /// An essential process was terminated by this signal.
    EssentialKilled(i32),
    /// A process entered FATAL: an essential one, or any with `exit_on_fatal`.
    Fatal,
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
    pub(super) channels: super::pipes::Channels,
    /// This process holds a reference on its group's fcgi socket.
    pub(super) holds_socket: bool,
    /// What only an event listener has (boxed: most processes are not listeners).
    pub listener: Option<Box<Listener>>,
    /// Successful spawns since the process record was created (for /metrics).
    pub starts: u64,
    /// Readiness probe and sd_notify state (`daemon::probes`).
    pub probe: crate::probe::ProbeState,
    /// Held starts, waiting stops and notes of dependency ordering (`order`).
    pub dep: super::order::DepWait,
}

impl Process {
    /// `group:name`, or `name` when the group is named after the process (`namespec`).
    pub fn namespec(&self) -> String {
        crate::namespec::namespec(&self.group, &self.config.name)
    }
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
    /// Every process id in start order (the order `tick_all` ticks in); `None` after
    /// groups came or went (remade on the next tick, not once per group added).
    start_order: Option<Vec<usize>>,
    /// Every child we forked, with its owner, until it is reaped (`pids`).
    pub(super) pids: super::pids::Pids,
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
    /// Channels (process id, stream) holding log bytes back until their events went
    /// out (`flush_logs`; empty whenever the loop sleeps).
    pub(super) unlogged: Vec<(usize, Stream)>,
    /// Dependency links by process id (`order`).
    pub(super) links: super::order::Links,
    /// Spawn, kill, reap and stdin writes: the OS itself, or a test's fake (`os`).
    pub(super) os: Box<dyn super::os::Os>,
    /// The processes the timers must look at (`due`).
    pub(super) due: super::due::Due,
}

/// The groups of a configuration by name.
pub(super) fn index_groups(config: &Config) -> HashSet<ByName> {
    config.groups.iter().cloned().map(ByName).collect()
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
            fatal: None,
            last_kill_error: None,
            poller: Arc::new(Poller::new()?),
            procs: Vec::new(),
            groups: Groups::new(),
            global_env: Arc::from([]),
            start_order: None,
            pids: Default::default(),
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
            links: Default::default(),
            os: Box::new(super::os::Real),
            due: Default::default(),
        })
    }

    /// Enters mood SHUTDOWN for `reason`. The first reason stays: a signal or request that
    /// comes while an essential process's end shuts supervisord down keeps its exit status.
    pub fn shut_down(&mut self, reason: ShutdownReason) {
        if !matches!(self.mood, Mood::Shutdown(_)) {
            self.mood = Mood::Shutdown(reason);
        }
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
        self.due.mark(id);
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
            channels: Default::default(),
            holds_socket: false,
            listener: listener.then(Listener::new),
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
        self.due.mark(id);
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
                    // As a start request: after its dependencies, and not while shutting down.
                    Effect::Restart => {
                        if self.mood == Mood::Running && !self.hold_for_deps(id, now) {
                            queue.push_back(Input::Start);
                        }
                    }
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

    /// Runs a Tick on every process that is due, in start order: the due index's processes
    /// (`due`), and those later in the order whose gate a tick before theirs opened.
    pub fn tick_all(&mut self, now: Now) {
        self.relink();
        self.run_due(now);
        if self.start_order.is_none() {
            let order = self.process_ids();
            self.due.set_order(&order);
            self.start_order = Some(order);
        }
        self.refresh_due();
        let mut todo: BTreeSet<(usize, usize)> = (self.due.due_ids(now.mono))
            .filter_map(|id| Some((self.due.pos(id)?, id)))
            .collect();
        while let Some((pos, id)) = todo.pop_first() {
            // The gate `machines_next` asks too: a gated process wakes nobody until the mood
            // or a dependency's state changes.
            let may_start = self.may_start(id);
            if self
                .process(id)
                .is_some_and(|p| p.machine.poll_at(&p.config, may_start).is_due(now.mono))
            {
                self.apply(id, Input::Tick { may_start }, now);
                for other in self.refresh_due() {
                    match self.due.pos(other) {
                        Some(later) if later > pos && self.due.is_due(other, now.mono) => {
                            todo.insert((later, other));
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// When the machines next need a tick (`timers`): `now` if one is due or dependents
    /// are queued (`order`), else their nearest timer.
    pub(super) fn machines_next(&self, now: Now) -> Option<Instant> {
        if !self.links.due.is_empty() {
            return Some(now.mono);
        }
        self.due_next(now)
    }

    /// Reaps every exited child, dispatched on its owner in the pid table (`pids`): a
    /// process's child finishes the process (or hands over to its main pid), a probe
    /// command's exit is its check's result; others (orphans reparented to us as PID 1 or
    /// subreaper) are logged.
    pub fn reap(&mut self, now: Now) {
        while let Some((pid, status)) = self.os.wait_any() {
            match self.pids.remove(pid) {
                Some(Owner::Process(id)) if self.follow_main_pid(id, pid, now) => {}
                Some(Owner::Process(id)) => {
                    self.close_channels(id, now);
                    self.apply(id, Input::Exited { status }, now);
                    self.after_exit(id);
                }
                Some(Owner::Probe(id, purpose)) => {
                    self.probe_exited(id, purpose, pid, status, now);
                }
                None => {
                    let line = format!("reaped unknown pid {pid} ({})", status.describe());
                    self.log.info(&line);
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
            for ch in p.channels.iter_mut() {
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
