//! The daemon's readiness poller: epoll, level-triggered, plus an eventfd other threads use to
//! wake it. Written over libc rather than the `polling` crate because that crate's wait costs
//! four extra system calls every time (timerfd re-arm, re-registering the timer and the
//! notifier, reading the notifier), which was half of the per-chunk cost of a busy child pipe.
//! Here an idle wait is one `epoll_wait`, and the notifier is read only when it fired.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// Key reserved for the wake-up eventfd; `wait` never reports it.
const NOTIFY_KEY: u64 = u64::MAX;

/// What a registration waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    Read,
    Write,
}

pub struct Poller {
    epoll: OwnedFd,
    notifier: OwnedFd,
    /// epoll_pwait2(2) works here (Linux 5.11+, and not refused by a seccomp filter), so a
    /// timeout can be shorter than a millisecond.
    fine: bool,
}

/// Keys that became ready in one `wait`.
pub struct Events {
    list: Vec<libc::epoll_event>,
    len: usize,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    pub fn new() -> Self {
        Events {
            list: vec![libc::epoll_event { events: 0, u64: 0 }; 256],
            len: 0,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.list[..self.len]
            .iter()
            .map(|e| e.u64)
            .filter(|&k| k != NOTIFY_KEY)
            .map(|k| k as usize)
    }
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

impl Poller {
    pub fn new() -> io::Result<Poller> {
        // SAFETY: plain system calls; each returned descriptor is owned at once.
        let epoll =
            unsafe { OwnedFd::from_raw_fd(check(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        // SAFETY: as above.
        let notifier = unsafe {
            OwnedFd::from_raw_fd(check(libc::eventfd(
                0,
                libc::EFD_NONBLOCK | libc::EFD_CLOEXEC,
            ))?)
        };
        let mut p = Poller {
            epoll,
            notifier,
            fine: false,
        };
        let mut probe = Events::new();
        p.fine = p.pwait2(&mut probe, Duration::ZERO).is_ok();
        p.ctl(
            libc::EPOLL_CTL_ADD,
            p.notifier.as_raw_fd(),
            libc::EPOLLIN as u32,
            NOTIFY_KEY,
        )?;
        Ok(p)
    }

    fn ctl(&self, op: libc::c_int, fd: libc::c_int, events: u32, key: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: key };
        // SAFETY: ev is a valid epoll_event for the duration of the call.
        check(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut ev) }).map(|_| ())
    }

    /// Watches `fd` (level-triggered) until `delete`; the kernel also forgets it when its last
    /// descriptor is closed.
    pub fn add(&self, fd: BorrowedFd<'_>, key: usize, interest: Interest) -> io::Result<()> {
        let events = match interest {
            Interest::Read => libc::EPOLLIN,
            Interest::Write => libc::EPOLLOUT,
        };
        self.ctl(
            libc::EPOLL_CTL_ADD,
            fd.as_raw_fd(),
            events as u32,
            key as u64,
        )
    }

    /// Changes what a registered `fd` waits for; `None` keeps it registered but silent
    /// (epoll still reports a hang-up or an error on it).
    pub fn modify(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        interest: Option<Interest>,
    ) -> io::Result<()> {
        let events = match interest {
            Some(Interest::Read) => libc::EPOLLIN,
            Some(Interest::Write) => libc::EPOLLOUT,
            None => 0,
        };
        self.ctl(
            libc::EPOLL_CTL_MOD,
            fd.as_raw_fd(),
            events as u32,
            key as u64,
        )
    }

    pub fn delete(&self, fd: impl AsFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd.as_fd().as_raw_fd(), 0, 0)
    }

    /// Wakes a `wait` in progress (or the next one). Safe from any thread.
    pub fn notify(&self) -> io::Result<()> {
        let one: u64 = 1;
        // SAFETY: writing 8 bytes from a local to our eventfd.
        let n = unsafe { libc::write(self.notifier.as_raw_fd(), (&one as *const u64).cast(), 8) };
        // EAGAIN means the counter is saturated: a wake-up is pending anyway.
        if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// True if `wait` honours timeouts shorter than a millisecond.
    pub fn fine_timeouts(&self) -> bool {
        self.fine
    }

    fn pwait2(&self, events: &mut Events, timeout: Duration) -> io::Result<usize> {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i32::MAX as u64) as _,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: the kernel writes at most list.len() entries into list and only reads ts;
        // no signal mask is passed.
        let n = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                self.epoll.as_raw_fd(),
                events.list.as_mut_ptr(),
                events.list.len() as libc::c_int,
                &ts as *const libc::timespec,
                std::ptr::null::<libc::sigset_t>(),
                0usize,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// Sleeps until a watched fd is ready, `notify` is called, or `timeout` passes (to the
    /// microsecond with `fine_timeouts`, else rounded up to whole milliseconds: a deadline is
    /// never met early). `None` waits forever.
    pub fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.len = 0;
        let n = match timeout {
            Some(d) if self.fine => self.pwait2(events, d)?,
            _ => {
                let ms = timeout.map_or(-1, |d| {
                    d.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as libc::c_int
                });
                // SAFETY: the kernel writes at most list.len() entries into list.
                check(unsafe {
                    libc::epoll_wait(
                        self.epoll.as_raw_fd(),
                        events.list.as_mut_ptr(),
                        events.list.len() as libc::c_int,
                        ms,
                    )
                })? as usize
            }
        };
        events.len = n;
        if events.list[..events.len]
            .iter()
            .any(|e| e.u64 == NOTIFY_KEY)
        {
            let mut buf = [0u8; 8];
            // SAFETY: draining our nonblocking eventfd into a local buffer.
            unsafe { libc::read(self.notifier.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    fn pipe() -> (OwnedFd, std::fs::File) {
        crate::testutil::pipe(libc::O_CLOEXEC)
    }

    #[test]
    fn reports_ready_keys_level_triggered_until_deleted() {
        let p = Poller::new().unwrap();
        let (r, w) = pipe();
        p.add(r.as_fd(), 7, Interest::Read).unwrap();
        let mut ev = Events::new();
        p.wait(&mut ev, Some(Duration::ZERO)).unwrap();
        assert_eq!(ev.iter().count(), 0);
        // SAFETY: writing one byte from a literal.
        assert_eq!(
            unsafe { libc::write(w.as_raw_fd(), b"x".as_ptr().cast(), 1) },
            1
        );
        for _ in 0..2 {
            // Level-triggered: still ready while the byte is unread.
            p.wait(&mut ev, Some(Duration::from_secs(5))).unwrap();
            assert_eq!(ev.iter().collect::<Vec<_>>(), vec![7]);
        }
        p.delete(&r).unwrap();
        p.wait(&mut ev, Some(Duration::ZERO)).unwrap();
        assert_eq!(ev.iter().count(), 0);
    }

    #[test]
    fn write_interest_and_hangup() {
        let p = Poller::new().unwrap();
        let (r, w) = pipe();
        p.add(w.as_fd(), 1, Interest::Write).unwrap();
        p.add(r.as_fd(), 2, Interest::Read).unwrap();
        let mut ev = Events::new();
        p.wait(&mut ev, Some(Duration::from_secs(5))).unwrap();
        assert_eq!(ev.iter().collect::<Vec<_>>(), vec![1]);
        p.delete(&w).unwrap();
        drop(w);
        // The reader sees the hang-up as readiness (the read then returns EOF).
        p.wait(&mut ev, Some(Duration::from_secs(5))).unwrap();
        assert_eq!(ev.iter().collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn a_silenced_fd_reports_only_its_hangup() {
        let p = Poller::new().unwrap();
        let (r, w) = pipe();
        p.add(r.as_fd(), 3, Interest::Read).unwrap();
        p.modify(r.as_fd(), 3, None).unwrap();
        // SAFETY: writing one byte from a literal.
        assert_eq!(
            unsafe { libc::write(w.as_raw_fd(), b"x".as_ptr().cast(), 1) },
            1
        );
        let mut ev = Events::new();
        p.wait(&mut ev, Some(Duration::from_millis(20))).unwrap();
        assert_eq!(ev.iter().count(), 0);
        p.modify(r.as_fd(), 3, Some(Interest::Read)).unwrap();
        p.wait(&mut ev, Some(Duration::from_secs(5))).unwrap();
        assert_eq!(ev.iter().collect::<Vec<_>>(), vec![3]);
        p.modify(r.as_fd(), 3, None).unwrap();
        drop(w);
        p.wait(&mut ev, Some(Duration::from_secs(5))).unwrap();
        assert_eq!(ev.iter().collect::<Vec<_>>(), vec![3]);
    }

    #[test]
    fn timeout_is_never_early_and_notify_wakes_once() {
        let p = Arc::new(Poller::new().unwrap());
        let mut ev = Events::new();
        let t = Instant::now();
        p.wait(&mut ev, Some(Duration::from_micros(1500))).unwrap();
        assert!(t.elapsed() >= Duration::from_micros(1500));
        // A short timeout is not rounded up to a millisecond where the kernel can do better
        // (the best of a few tries: a loaded machine may oversleep any one of them).
        if p.fine_timeouts() {
            let best = (0..20)
                .map(|_| {
                    let t = Instant::now();
                    p.wait(&mut ev, Some(Duration::from_micros(100))).unwrap();
                    t.elapsed()
                })
                .min()
                .unwrap();
            assert!(best >= Duration::from_micros(100), "{best:?}");
            assert!(best < Duration::from_micros(900), "{best:?}");
        }

        let p2 = Arc::clone(&p);
        let th = std::thread::spawn(move || p2.notify().unwrap());
        let t = Instant::now();
        p.wait(&mut ev, Some(Duration::from_secs(20))).unwrap();
        assert!(t.elapsed() < Duration::from_secs(20));
        assert_eq!(ev.iter().count(), 0);
        th.join().unwrap();
        // The wake-up was consumed: the next wait times out.
        p.wait(&mut ev, Some(Duration::from_millis(1))).unwrap();
        assert_eq!(ev.len, 0);
    }
}
