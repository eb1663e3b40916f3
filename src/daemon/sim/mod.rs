//! The state owner under test with fake processes and fake time: `FakeOs` stands in for the
//! operating system behind `daemon::os` (spawns hand out pids and real pipes, kills and
//! stdin writes are recorded, exits are queued for `reap`), and `Rig` drives a `Supervisor`
//! with a `Now` the test moves, as `process::machine`'s `Sim` drives one machine.

mod control;
mod lifecycle;
mod shutdown;

use super::os::Os;
use super::supervisor::Supervisor;
use crate::config::{GroupConfig, LogLevel, ProcessConfig};
use crate::process::spawn::{Child, SpawnPlan};
use crate::process::{Input, Now, ProcessState, WaitStatus};
use crate::testutil::{pipe, process_config, program_group, supervisor, TempDir};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

/// The child's ends of a fake child's pipes: dropped when it exits, as the kernel would.
/// Stdin and stderr are only held open: the parent's stdin has a reader, its stderr no end.
pub struct Ends {
    _stdin: OwnedFd,
    pub stdout: File,
    _stderr: File,
}

/// What the fake operating system saw and what it will answer.
#[derive(Default)]
pub struct World {
    next_pid: i32,
    /// (pid, name) of each spawn.
    pub spawns: Vec<(i32, String)>,
    /// The next spawns fail with this spawnerr text instead of handing out a pid.
    pub spawn_error: Option<String>,
    /// (target, signal) of each kill, a group as a negative target.
    pub kills: Vec<(i32, i32)>,
    /// Kills fail with this errno.
    pub kill_errno: Option<i32>,
    /// Exited children `wait_any` hands out, in order.
    pub exits: VecDeque<(i32, WaitStatus)>,
    /// Live children's ends.
    pub children: HashMap<i32, Ends>,
    /// Everything written to children's stdin.
    pub written: Vec<u8>,
    /// Stdin writes fail with this errno (EAGAIN: a full pipe; EPIPE: a closed one).
    pub write_errno: Option<i32>,
}

impl World {
    /// The child `pid` exits: its pipes close, and `reap` will see `status`.
    pub fn exit(&mut self, pid: i32, status: WaitStatus) {
        self.children.remove(&pid);
        self.exits.push_back((pid, status));
    }
}

pub struct FakeOs(Rc<RefCell<World>>);

impl Os for FakeOs {
    /// Never forks: `plan` was prepared (the command resolved) as for a real spawn. An fcgi
    /// socket (`_socket`) changes nothing here: the caller drops the stdin end then. Every
    /// child gets a stderr pipe (the plan's redirect_stderr is not looked at).
    fn spawn(
        &mut self,
        _: &SpawnPlan,
        name: &str,
        _socket: Option<RawFd>,
    ) -> Result<Child, String> {
        let mut w = self.0.borrow_mut();
        if let Some(e) = &w.spawn_error {
            return Err(e.clone());
        }
        w.next_pid += 1;
        // Far above any pid a test machine hands out.
        let pid = 4_000_000 + w.next_pid;
        w.spawns.push((pid, name.to_string()));
        let flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
        let (child_stdin, parent_stdin) = pipe(flags);
        let (parent_stdout, child_stdout) = pipe(flags);
        let (parent_stderr, child_stderr) = pipe(flags);
        w.children.insert(
            pid,
            Ends {
                _stdin: child_stdin,
                stdout: child_stdout,
                _stderr: child_stderr,
            },
        );
        Ok(Child {
            pid,
            stdin: parent_stdin.into(),
            stdout: parent_stdout,
            stderr: Some(parent_stderr),
        })
    }

    fn kill(&mut self, pid: i32, signal: i32) -> Result<(), i32> {
        let mut w = self.0.borrow_mut();
        w.kills.push((pid, signal));
        w.kill_errno.map_or(Ok(()), Err)
    }

    fn wait_any(&mut self) -> Option<(i32, WaitStatus)> {
        self.0.borrow_mut().exits.pop_front()
    }

    fn write(&mut self, _: BorrowedFd<'_>, bytes: &[u8]) -> Result<usize, i32> {
        let mut w = self.0.borrow_mut();
        if let Some(e) = w.write_errno {
            return Err(e);
        }
        w.written.extend_from_slice(bytes);
        Ok(bytes.len())
    }
}

/// A status for "exited with `code`".
pub fn exited(code: i32) -> WaitStatus {
    WaitStatus(code << 8)
}

/// A status for "terminated by `signal`".
pub fn killed(signal: i32) -> WaitStatus {
    WaitStatus(signal)
}

/// A `Supervisor` on a `FakeOs`, its main log in a file at debug level, and a clock the test
/// moves.
pub struct Rig {
    pub sup: Supervisor,
    pub os: Rc<RefCell<World>>,
    dir: TempDir,
    t0: Instant,
    wall0: SystemTime,
    at: Duration,
}

impl Rig {
    pub fn new(groups: Vec<GroupConfig>) -> Rig {
        let dir = TempDir::new("sim");
        let mut sup = supervisor(groups);
        sup.log.set_level(LogLevel::Debug);
        sup.log
            .open_file(&dir.path().join("main.log"), 0, 0)
            .expect("main log");
        let os = Rc::new(RefCell::new(World::default()));
        sup.os = Box::new(FakeOs(Rc::clone(&os)));
        Rig {
            sup,
            os,
            dir,
            t0: Instant::now(),
            wall0: SystemTime::now(),
            at: Duration::ZERO,
        }
    }

    /// One group per program, each at priority 1.
    pub fn programs(programs: Vec<ProcessConfig>) -> Rig {
        Rig::new(
            programs
                .into_iter()
                .map(|pc| program_group(&pc.name.clone(), vec![pc]))
                .collect(),
        )
    }

    pub fn now(&self) -> Now {
        Now {
            mono: self.t0 + self.at,
            wall: self.wall0 + self.at,
        }
    }

    pub fn advance(&mut self, d: Duration) {
        self.at += d;
    }

    /// Lets `d` pass, then ticks every machine due.
    pub fn tick_after(&mut self, d: Duration) {
        self.advance(d);
        self.tick();
    }

    pub fn tick(&mut self) {
        let now = self.now();
        self.sup.tick_all(now);
    }

    pub fn reap(&mut self) {
        let now = self.now();
        self.sup.reap(now);
    }

    pub fn id(&self, name: &str) -> usize {
        self.sup.find(name, name).expect("no such process")
    }

    pub fn state(&self, name: &str) -> ProcessState {
        let id = self.id(name);
        self.sup.process(id).expect("process").machine.state()
    }

    pub fn pid(&self, name: &str) -> i32 {
        let id = self.id(name);
        self.sup.process(id).expect("process").machine.pid
    }

    /// Feeds `input` to `name`'s machine now.
    pub fn apply(&mut self, name: &str, input: Input) {
        let (id, now) = (self.id(name), self.now());
        self.sup.apply(id, input, now);
    }

    /// Starts `name` and lets its startsecs pass: RUNNING, with a fake pid.
    pub fn running(&mut self, name: &str) -> i32 {
        let id = self.id(name);
        self.apply(name, Input::Start);
        let startsecs = self.sup.process(id).expect("process").config.startsecs;
        self.tick_after(Duration::from_secs(startsecs as u64));
        assert_eq!(self.state(name), ProcessState::Running, "{}", self.log());
        self.pid(name)
    }

    /// Where a test's child logs can go.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The main log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("main.log")).unwrap_or_default()
    }

    /// The main log has a line with `text` (a level code, then the message, or part of one).
    #[track_caller]
    pub fn logged(&self, text: &str) {
        let log = self.log();
        assert!(log.contains(text), "no {text:?} in the main log:\n{log}");
    }

    /// The next kills fail with `errno` (None: they succeed).
    pub fn kills_fail(&mut self, errno: Option<i32>) {
        self.os.borrow_mut().kill_errno = errno;
    }

    pub fn kills(&self) -> Vec<(i32, i32)> {
        self.os.borrow().kills.clone()
    }

    pub fn exit(&mut self, pid: i32, status: WaitStatus) {
        self.os.borrow_mut().exit(pid, status);
    }
}

/// A program that is not started by itself (the test starts it).
pub fn program(name: &str) -> ProcessConfig {
    let mut pc = process_config(name, "/bin/cat");
    pc.autostart = false;
    pc
}
