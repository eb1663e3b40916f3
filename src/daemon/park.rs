//! Parked listeners: a busy listener whose pool has nothing else to send is not watched
//! (its stdout stays registered with no interest, so a hang-up still wakes the loop); its
//! reply is collected when the pool's next event needs it, or at `collect_by`.

use super::source::Source;
use super::supervisor::{Mood, Supervisor};
use crate::output::{ReadResult, Stream};
use crate::process::Now;
use crate::sys::poller::Interest;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// How long a busy listener's reply may wait unread while its pool has nothing else to send.
/// Waking up for a reply nobody waits for was half of the daemon's wake-ups (and CPU) under a
/// steady event stream: instead the reply is read when the pool's next event needs the
/// listener, in the same wake-up, or when this runs out (which also bounds how late a
/// rejected event is sent again). A listener that dies or closes its stdout still wakes the
/// loop at once (epoll reports a hang-up regardless).
pub(super) const COLLECT_DELAY: Duration = Duration::from_millis(100);

impl Supervisor {
    /// Stops watching a busy listener's stdout until `COLLECT_DELAY` from now.
    pub(super) fn park(&mut self, id: usize, now: Instant) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        let (Some(ch), Some(l)) = (p.channels.get(Stream::Stdout), p.listener.as_mut()) else {
            return;
        };
        if l.collect_by.is_none() {
            let key = Source::Output {
                id,
                stream: Stream::Stdout,
            }
            .key();
            if self.poller.modify(ch.fd.as_fd(), key, None).is_err() {
                return;
            }
        }
        l.collect_by = Some(now + COLLECT_DELAY);
    }

    /// Watches a parked listener's stdout again.
    fn unpark(&mut self, id: usize) {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return;
        };
        if p.listener
            .as_mut()
            .and_then(|l| l.collect_by.take())
            .is_none()
        {
            return;
        }
        let Some(ch) = p.channels.get(Stream::Stdout) else {
            return;
        };
        let key = Source::Output {
            id,
            stream: Stream::Stdout,
        }
        .key();
        if let Err(e) = self.poller.modify(ch.fd.as_fd(), key, Some(Interest::Read)) {
            let name = &p.config.name;
            self.log
                .error(&format!("cannot watch output of '{name}': {e}"));
        }
    }

    /// Reads what a parked listener wrote (without waiting). True if it was parked.
    fn collect(&mut self, id: usize, now: Now) -> bool {
        if self.process(id).is_none_or(|p| p.collect_by().is_none()) {
            return false;
        }
        // Replies are a few bytes, so one short read nearly always empties the pipe; the
        // bound only keeps a babbling listener from holding the loop.
        for _ in 0..16 {
            match self.read_channel(id, Stream::Stdout, now) {
                ReadResult::Data(n) if n == self.buf.len() => {}
                _ => break,
            }
        }
        true
    }

    /// Collects every parked listener of group `gi`. True if there was any.
    pub(super) fn collect_group(&mut self, gi: usize, now: Now) -> bool {
        let mut any = false;
        let mut m = 0;
        while let Some(&id) = self.groups.at(gi).and_then(|g| g.members.get(m)) {
            any |= self.collect(id, now);
            m += 1;
        }
        any
    }

    /// Nothing in the pool can take its next event: wake up for the listeners' replies.
    pub(super) fn watch_group(&mut self, gi: usize) {
        let mut m = 0;
        while let Some(&id) = self.groups.at(gi).and_then(|g| g.members.get(m)) {
            self.unpark(id);
            m += 1;
        }
    }

    /// When the first parked listener is collected (`timers`).
    pub(super) fn collect_next(&self, _: Now) -> Option<Instant> {
        self.pool_members()
            .filter_map(|id| self.process(id)?.collect_by())
            .min()
    }

    /// Parked listeners whose time ran out (all of them once supervisord is stopping):
    /// read their replies and watch them again.
    pub(super) fn collect_due(&mut self, now: Now) {
        let stopping = self.mood != Mood::Running;
        // Only the pools' members can be parked: no walk over every process each turn.
        for i in 0..self.groups.pools().len() {
            let gid = self.groups.pools()[i];
            let mut m = 0;
            while let Some(&id) = self.groups.at(gid).and_then(|g| g.members.get(m)) {
                let due = self
                    .process(id)
                    .and_then(|p| p.collect_by())
                    .is_some_and(|d| stopping || d <= now.mono);
                if due {
                    self.collect(id, now);
                    self.unpark(id);
                }
                m += 1;
            }
        }
    }
}
