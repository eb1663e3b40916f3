//! The machine's effects on the world: spawning a process (environment, notify socket, log
//! files, fcgi socket, pipes registered with the poller) and signalling it. Each returns the
//! outcome the machine is fed next (`Spawned`, `SpawnFailed`, `KillFailed`).

use super::environment;
use super::pids::Owner;
use super::source::Source;
use super::supervisor::Supervisor;
use crate::config::ChannelConfig;
use crate::events::listener::Protocol;
use crate::log::RotatingFile;
use crate::output::{OutputChannel, Stream};
use crate::process::machine::Input;
use crate::process::spawn;
use crate::sys::errno::errno_name;
use crate::sys::poller::Interest;
use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;

impl Supervisor {
    pub(super) fn do_spawn(&mut self, id: usize) -> Input {
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
        let child = match self.os.spawn(&plan, &name, socket) {
            Ok(c) => c,
            Err(message) => {
                // A failed start must not keep the socket open.
                if socket.is_some() {
                    self.release_socket(&group);
                }
                return Input::SpawnFailed { message };
            }
        };
        self.pids.insert(child.pid, Owner::Process(id));
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
        .with_prefix(p.config.log_prefix.as_deref());
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
            .with_prefix(p.config.log_prefix.as_deref())
        });
        for ch in [Some(&out), err.as_ref()].into_iter().flatten() {
            // Registered while the channel owns the fd (see close_channels).
            let added = self.poller.add(
                ch.fd.as_fd(),
                Source::Output {
                    id,
                    stream: ch.stream,
                }
                .key(),
                Interest::Read,
            );
            if let Err(e) = added {
                self.log
                    .error(&format!("cannot watch output of '{name}': {e}"));
            }
        }
        if let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) {
            // For fcgi programs fd 0 is the socket: the stdin pipe is not kept.
            p.stdin = socket.is_none().then_some(child.stdin);
            p.channels = super::pipes::Channels::new(out, err);
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

    pub(super) fn do_kill(
        &mut self,
        id: usize,
        pid: i32,
        signal: i32,
        group: bool,
    ) -> Option<Input> {
        if pid <= 0 {
            return None;
        }
        let target = if group { -pid } else { pid };
        let Err(e) = self.os.kill(target, signal) else {
            return None;
        };
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
}
