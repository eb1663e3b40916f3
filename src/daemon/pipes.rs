//! Child output plumbing: reading a pipe when it fires or when its rest is over, resting a
//! pipe that delivers small pieces, delivering what was read (log, listener protocol,
//! PROCESS_LOG/COMMUNICATION events), the log bytes held back until their events went out,
//! and draining and closing the pipes of a process that exited.

use super::source::Source;
use super::supervisor::{Process, Supervisor};
use crate::log::MainLog;
use crate::output::{OutputChannel, ReadResult, Stream};
use crate::process::Now;
use crate::sys::poller::{Interest, Poller};
use std::os::fd::AsFd;
use std::time::Instant;

/// A running process's output pipes, by stream: the one place a `Stream` picks a pipe.
/// Boxed: a channel exists only while the process runs, and most configured processes
/// do not (inline, the two made every process record 500 bytes larger).
#[derive(Default)]
pub struct Channels {
    stdout: Option<Box<OutputChannel>>,
    stderr: Option<Box<OutputChannel>>,
}

impl Channels {
    pub fn new(stdout: OutputChannel, stderr: Option<OutputChannel>) -> Channels {
        Channels {
            stdout: Some(Box::new(stdout)),
            stderr: stderr.map(Box::new),
        }
    }

    fn slot(&mut self, stream: Stream) -> &mut Option<Box<OutputChannel>> {
        match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }

    pub fn get(&self, stream: Stream) -> Option<&OutputChannel> {
        match stream {
            Stream::Stdout => self.stdout.as_deref(),
            Stream::Stderr => self.stderr.as_deref(),
        }
    }

    pub fn get_mut(&mut self, stream: Stream) -> Option<&mut OutputChannel> {
        self.slot(stream).as_deref_mut()
    }

    pub fn take(&mut self, stream: Stream) -> Option<Box<OutputChannel>> {
        self.slot(stream).take()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut OutputChannel> {
        [&mut self.stdout, &mut self.stderr]
            .into_iter()
            .filter_map(|c| c.as_deref_mut())
    }
}

impl Supervisor {
    /// When the first resting pipe is read again (`timers`).
    pub(super) fn rest_next(&self, _: Now) -> Option<Instant> {
        self.rest_due
    }

    /// Reads the pipes whose rest (`OutputChannel::take_rest`) is over. A pipe that has
    /// more small pieces rests again at once; only one found empty is watched again, so a
    /// steadily chatty child costs one timer wake-up per rest and no epoll_ctl.
    pub fn wake_rested(&mut self, now: Now) {
        if self.rest_due.is_none_or(|d| d > now.mono) {
            return;
        }
        self.rest_due = None;
        // By index (a process's id is its slot): reading needs `self`, and this runs every
        // few hundred microseconds for a chatty child, so no list of due channels is built.
        for id in 0..self.procs.len() {
            for stream in Stream::BOTH {
                let Some(ch) = self.procs[id]
                    .as_mut()
                    .and_then(|p| p.channels.get_mut(stream))
                else {
                    continue;
                };
                let Some(until) = ch.rest_until else {
                    continue;
                };
                if until > now.mono {
                    self.rest_due = Some(self.rest_due.map_or(until, |d| d.min(until)));
                } else {
                    ch.rest_until = None;
                    self.read_channel(id, stream, now);
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
        stream: Stream,
        now: Instant,
    ) {
        let Some(ch) = p.channels.get_mut(stream) else {
            return;
        };
        let key = Source::Output { id: p.id, stream }.key();
        if ch.take_rest() && poller.fine_timeouts() {
            // Still registered, so a hang-up is reported at once.
            if !ch.silent && poller.modify(ch.fd.as_fd(), key, None).is_ok() {
                ch.silent = true;
            }
            if ch.silent {
                let until = now + crate::output::REST;
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

    /// A watched descriptor of a process fired: a child pipe is readable (one read,
    /// delivered to its log, the listener protocol or PROCESS_LOG events), a stdin pipe
    /// writable again, a notify or check socket ready. (The signal pipe is the loop's.)
    pub fn handle_fd(&mut self, source: Source, now: Now) {
        match source {
            Source::Output { id, stream } => {
                self.read_channel(id, stream, now);
            }
            Source::Stdin { id } => self.flush_stdin(id),
            Source::Notify { id } => self.notify_readable(id, now),
            Source::Check { id, purpose } => self.check_ready(id, purpose, now),
            Source::Signal => {}
        }
    }

    /// One read from the `stream` pipe of process `id`, delivered.
    pub(super) fn read_channel(&mut self, id: usize, stream: Stream, now: Now) -> ReadResult {
        let strip = self.config.supervisord.strip_ansi;
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return ReadResult::Eof;
        };
        let Some(ch) = p.channels.get_mut(stream) else {
            return ReadResult::Eof;
        };
        let protocol = p.listener.is_some() && stream == Stream::Stdout;
        let listed = ch.has_unlogged();
        let r = ch.read_once(&p.config.name, &mut self.buf, strip, &mut self.log);
        if !listed && ch.has_unlogged() {
            self.unlogged.push((id, stream));
        }
        if !matches!(r, ReadResult::Eof) {
            Self::rest_or_watch(
                &self.poller,
                &mut self.log,
                &mut self.rest_due,
                p,
                stream,
                now.mono,
            );
        }
        let Some(ch) = p.channels.get_mut(stream) else {
            return r;
        };
        match r {
            ReadResult::Eof => {
                ch.finish(&p.config.name, &mut self.log);
                if !protocol {
                    self.output_events(id, stream);
                }
                if let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) {
                    if let Some(ch) = p.channels.take(stream) {
                        let _ = self.poller.delete(&ch.fd);
                    }
                    if protocol {
                        p.clear_collect_by();
                        Self::listener_hangup(p, now.mono);
                    }
                }
            }
            ReadResult::Data(n) if protocol => {
                // Copied out of `buf`, which listener_output's callees may read into again;
                // answers are a few bytes, so usually onto the stack.
                let mut small = [0u8; 256];
                if let Some(dst) = small.get_mut(..n) {
                    dst.copy_from_slice(&self.buf[..n]);
                    self.listener_output(id, &small[..n], false, now);
                } else {
                    let data = self.buf[..n].to_vec();
                    self.listener_output(id, &data, false, now);
                }
            }
            ReadResult::Data(_) => self.output_events(id, stream),
            ReadResult::WouldBlock => {}
        }
        r
    }

    /// Writes the log bytes that waited for their events (`OutputChannel::flush_log`).
    pub(super) fn flush_logs(&mut self) {
        while let Some((id, stream)) = self.unlogged.pop() {
            if let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) {
                if let Some(ch) = p.channels.get_mut(stream) {
                    ch.flush_log(&p.config.name, &mut self.log);
                }
            }
        }
    }

    /// PROCESS_LOG and PROCESS_COMMUNICATION events for what a channel produced.
    fn output_events(&mut self, id: usize, stream: Stream) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let Some(ch) = p.channels.get_mut(stream) else {
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
    pub(super) fn close_channels(&mut self, id: usize, now: Now) {
        let strip = self.config.supervisord.strip_ansi;
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let is_listener = p.listener.is_some();
        let mut last_words = Vec::new();
        for ch in p.channels.iter_mut() {
            let keep = (is_listener && ch.stream == Stream::Stdout).then_some(&mut last_words);
            ch.drain(&p.config.name, &mut self.buf, strip, &mut self.log, keep);
            ch.finish(&p.config.name, &mut self.log);
            let _ = self.poller.delete(&ch.fd);
        }
        p.clear_collect_by();
        if !last_words.is_empty() {
            // Like Supervisor's drain at exit: a result the listener wrote before it died
            // still counts (the event is not sent again).
            self.listener_output(id, &last_words, true, now);
        }
        for stream in Stream::BOTH {
            // A listener's last words on stdout still belong to the protocol, not to events.
            if !(is_listener && stream == Stream::Stdout) {
                self.output_events(id, stream);
            }
        }
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        p.channels = Channels::default();
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

    pub(super) fn release_socket(&mut self, group: &str) {
        if let Some(g) = self.groups.get_mut(group) {
            if let Some(s) = g.socket.as_mut() {
                s.release(&mut self.log);
            }
        }
    }
}
