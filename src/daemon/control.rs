//! The operations the control plane performs on the [`Supervisor`]: signals, stdin, log
//! clearing, reread/add/remove, and supervisord's own FATAL state. The API layer decides
//! what to call; this module carries it out.

use super::supervisor::{Group, Mood, Supervisor};
use crate::config::{self, Config, GroupConfig, MainLogTarget};
use crate::events::{Event, EventKind};
use crate::output::Stream;
use crate::process::waitstatus::signal_name;
use crate::process::{spawn, Input, Now, ProcessState};
use crate::sys::errno::errno_name;
use crate::sys::poller::Interest;
use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::Arc;

/// A write to a child's stdin failed: the pipe is gone (closed by the child, or EPIPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdinClosed;

/// Most bytes sendProcessStdin may leave waiting for a child that does not read them (the
/// pipe's own 64 KiB come on top). Supervisor queues without a bound, so a client could fill
/// the daemon's memory through a child that never reads its stdin.
pub const STDIN_QUEUE_MAX: usize = 1 << 20;

/// sendProcessStdin's failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdinError {
    /// The child's stdin is gone.
    Closed,
    /// `queued` bytes are still waiting, and the data would take them past `STDIN_QUEUE_MAX`:
    /// nothing was written.
    Full { queued: usize },
}

/// supervisord's own state, as getState reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaemonState {
    Fatal,
    Running,
    Restarting,
    Shutdown,
}

impl DaemonState {
    /// (statecode, statename) of getState.
    pub fn code_name(self) -> (i64, &'static str) {
        match self {
            DaemonState::Fatal => (2, "FATAL"),
            DaemonState::Running => (1, "RUNNING"),
            DaemonState::Restarting => (0, "RESTARTING"),
            DaemonState::Shutdown => (-1, "SHUTDOWN"),
        }
    }
}

impl Supervisor {
    /// supervisord is RUNNING (not shutting down or restarting); FATAL counts as running.
    pub fn is_running(&self) -> bool {
        self.mood == Mood::Running
    }

    pub fn daemon_state(&self) -> DaemonState {
        match (self.mood, &self.fatal) {
            (Mood::Running, Some(_)) => DaemonState::Fatal,
            (Mood::Running, None) => DaemonState::Running,
            (Mood::Restarting, _) => DaemonState::Restarting,
            (Mood::Shutdown(_), _) => DaemonState::Shutdown,
        }
    }

    /// getState's (statecode, statename).
    pub fn state_code(&self) -> (i64, &'static str) {
        self.daemon_state().code_name()
    }

    /// Enters supervisord's FATAL state (kept until a restart); processes stay supervised.
    pub fn enter_fatal(&mut self, cause: &str) {
        self.log
            .critical(&format!("supervisord entered FATAL state: {cause}"));
        self.fatal = Some(cause.to_string());
        self.emit(Event::new(EventKind::SupervisorStateChangeFatal, cause));
    }

    pub fn fatal_cause(&self) -> Option<&str> {
        self.fatal.as_deref()
    }

    pub fn request_shutdown(&mut self) {
        self.shut_down(super::supervisor::ShutdownReason::Request);
    }

    pub fn request_restart(&mut self) {
        if self.mood == Mood::Running {
            self.mood = Mood::Restarting;
        }
    }

    /// Starts the process again once the stop in progress completes (`Input::Restart`, so
    /// a restart need not block on the stop). False when it is not stopping.
    pub fn start_after_stop(&mut self, id: usize, now: Now) -> bool {
        if self.process(id).map(|p| p.machine.state()) != Some(ProcessState::Stopping) {
            return false;
        }
        self.apply(id, Input::Restart, now);
        true
    }

    /// A start is queued behind the stop in progress (`start_after_stop`).
    pub fn restart_pending(&self, id: usize) -> bool {
        self.process(id)
            .is_some_and(|p| p.machine.restart_pending())
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    pub fn last_kill_error(&self) -> Option<&str> {
        self.last_kill_error.as_deref()
    }

    /// Resolves the command as a spawn would; the error is the spawnerr text.
    pub fn spawn_check(&self, id: usize) -> Result<(), spawn::SpawnError> {
        let gone = || spawn::SpawnError::new(spawn::SpawnErrorKind::Gone, "no such process");
        let p = self.process(id).ok_or_else(gone)?;
        // An unreadable environment file is no command fault: the spawn reports it as its
        // spawn error (BACKOFF), as any other failure to start.
        let Ok(env) = super::environment::build(&self.base_env, &self.config, &p.group, &p.config)
        else {
            return Ok(());
        };
        spawn::prepare(&p.config, &env).map(|_| ())
    }

    /// Sends `sig` to the main pid only. An OS error other than ESRCH puts the process in
    /// UNKNOWN and supervisord in FATAL, and is returned as the fault detail.
    pub fn signal_process(&mut self, id: usize, sig: i32) -> Result<(), String> {
        let Some(p) = self.process(id) else {
            return Err("no such process".into());
        };
        let (name, pid) = (p.config.name.clone(), p.machine.pid);
        self.log.debug(&format!(
            "sending {name} (pid {pid}) sig {}",
            signal_name(sig)
        ));
        let sent = if pid > 0 {
            self.os.kill(pid, sig)
        } else {
            Ok(())
        };
        if let Err(e) = sent {
            let err = io::Error::from_raw_os_error(e);
            if e == libc::ESRCH {
                self.log.debug(&format!(
                    "unable to signal {name} (pid {pid}), it probably just now exited on its own: {err}"
                ));
                return Ok(());
            }
            let message = format!("{} ({err})", errno_name(e));
            self.log.critical(&format!(
                "unknown problem sending sig {name} ({pid}):{message}"
            ));
            self.enter_fatal(&format!(
                "kill({pid}, {}) of '{name}' failed: {message}",
                signal_name(sig)
            ));
            let now = crate::process::Now::current();
            self.apply(
                id,
                crate::process::Input::KillFailed {
                    message: message.clone(),
                },
                now,
            );
            return Err(message);
        }
        Ok(())
    }

    /// sendProcessStdin: `queue_stdin`, unless the data would take what waits for the child
    /// past `STDIN_QUEUE_MAX` (then nothing is sent: a caller can retry the same data).
    pub fn send_stdin(&mut self, id: usize, data: &[u8]) -> Result<(), StdinError> {
        let queued = self.process(id).map_or(0, |p| p.stdin_buf.len());
        if queued + data.len() > STDIN_QUEUE_MAX {
            return Err(StdinError::Full { queued });
        }
        self.queue_stdin(id, data).map_err(|_| StdinError::Closed)
    }

    /// Queues `data` for the child's stdin and writes what the pipe takes now. Err when the
    /// pipe is gone (EPIPE, closed). Unbounded: event notifications use it, one at a time.
    pub(super) fn queue_stdin(&mut self, id: usize, data: &[u8]) -> Result<(), StdinClosed> {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return Err(StdinClosed);
        };
        if p.stdin.is_none() {
            return Err(StdinClosed);
        }
        let was_empty = p.stdin_buf.is_empty();
        p.stdin_buf.extend_from_slice(data);
        if was_empty {
            return self.flush_stdin_now(id, true);
        }
        Ok(())
    }

    /// Writable stdin pipe: push out what is buffered.
    pub(super) fn flush_stdin(&mut self, id: usize) {
        let _ = self.flush_stdin_now(id, false);
    }

    fn flush_stdin_now(&mut self, id: usize, fresh: bool) -> Result<(), StdinClosed> {
        let key = super::source::Source::Stdin { id }.key();
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return Err(StdinClosed);
        };
        let Some(fd) = p.stdin.as_ref() else {
            return Err(StdinClosed);
        };
        while !p.stdin_buf.is_empty() {
            let e = match self.os.write(fd.as_fd(), &p.stdin_buf) {
                Ok(n) => {
                    p.stdin_buf.drain(..n);
                    continue;
                }
                Err(e) => e,
            };
            if e == libc::EAGAIN || e == libc::EINTR {
                if fresh {
                    // Registered until the buffer drains or the process ends.
                    let _ = self.poller.add(fd.as_fd(), key, Interest::Write);
                }
                return Ok(());
            }
            // EPIPE and friends: the child closed its stdin.
            if !fresh {
                let _ = self.poller.delete(fd);
            }
            p.stdin_buf.clear();
            p.stdin = None;
            return Err(StdinClosed);
        }
        if !fresh {
            let _ = self.poller.delete(fd);
        }
        Ok(())
    }

    pub fn main_log_path(&self) -> Option<PathBuf> {
        match &self.config.supervisord.logfile {
            MainLogTarget::File(p) => Some(p.clone()),
            MainLogTarget::Syslog => None,
        }
    }

    /// clearLog: unlink and reopen. A failure is an I/O error of the daemon itself: FATAL.
    pub fn clear_main_log(&mut self) -> Result<(), String> {
        // Into the file being removed, as 4.3 does: the new log starts empty.
        self.log.info("reopening log file");
        match self.log.clear() {
            Ok(()) => Ok(()),
            Err(e) => {
                let cause = format!("could not clear the main log: {e}");
                self.enter_fatal(&cause);
                Err(cause)
            }
        }
    }

    /// clearProcessLogs: empties the process's log files, running or not (README R8).
    pub fn clear_process_logs(&mut self, id: usize) -> Result<(), String> {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return Err("no such process".into());
        };
        let mut result = Ok(());
        let paths = [p.stdout_path.clone(), p.stderr_path.clone()];
        for (stream, path) in Stream::BOTH.into_iter().zip(&paths) {
            let Some(path) = path else { continue };
            let open = p.channels.get_mut(stream).and_then(|c| c.log.as_mut());
            let r = match open {
                Some(log) => log.clear(),
                None if path.exists() => std::fs::remove_file(path)
                    .and_then(|_| crate::log::open::open_append(path).map(|_| ())),
                None => Ok(()),
            };
            if let Err(e) = r {
                result = Err(format!("could not clear {}: {e}", path.display()));
            }
        }
        if let Err(cause) = &result {
            self.enter_fatal(cause);
        }
        result
    }

    /// reloadConfig: parses the file again; the result becomes the pending configuration.
    pub fn reread(&mut self) -> Result<(), String> {
        let fresh =
            config::load_sharing(&self.config.path, &self.overrides, &|g| self.unchanged(g))
                .map_err(|e| e.to_string())?;
        self.pending_index = super::supervisor::index_groups(&fresh);
        self.pending = Some(fresh);
        Ok(())
    }

    /// The group of the pending configuration called `name`.
    pub fn pending_group(&self, name: &str) -> Option<&Arc<GroupConfig>> {
        self.pending_index.get(name).map(|g| &g.0)
    }

    pub fn pending_config(&self) -> &Config {
        self.pending.as_ref().unwrap_or(&self.config)
    }

    /// The active groups' configurations and the global environment each was made with.
    pub fn active_group_configs(&self) -> Vec<(&GroupConfig, &[(String, String)])> {
        self.groups
            .iter()
            .map(|g| (&*g.config, &*g.global_env))
            .collect()
    }

    /// addProcessGroup: creates the group from the pending configuration.
    pub fn add_pending_group(&mut self, name: &str) -> bool {
        let pending = self.pending_config();
        let Some(gc) = self.pending_group(name).cloned() else {
            return false;
        };
        let env = pending.supervisord.environment.clone();
        let files = pending.supervisord.environment_files.clone();
        self.config.supervisord.environment = env;
        self.config.supervisord.environment_files = files;
        self.add_group(gc);
        true
    }

    /// removeProcessGroup: forgets a group whose processes are all stopped.
    pub fn remove_group(&mut self, name: &str) {
        let Some(g) = self.groups.remove(name) else {
            return;
        };
        self.groups_changed();
        for id in g.members {
            if let Some(slot) = self.procs.get_mut(id) {
                *slot = None;
            }
        }
        self.emit(Event::new(
            EventKind::ProcessGroupRemoved,
            format!("groupname:{name}\n"),
        ));
    }

    /// sendRemoteCommEvent: a REMOTE_COMMUNICATION event with `type:<kind>\n<data>`.
    pub fn remote_comm_event(&mut self, kind: &str, data: &str) {
        self.emit(Event::new(
            EventKind::RemoteCommunication,
            format!("type:{kind}\n{data}"),
        ));
    }
}
