//! The single poll loop: timers (`timers`), deliver pending events, sleep until the nearest
//! deadline or a readable fd, handle signals (SIGCHLD reaps), child output and requests. No
//! fixed tick: an idle daemon does not wake up, and a busy pipe costs one epoll_wait per turn
//! besides its read and write. The clock is read once per turn, as it wakes up, and that
//! `Now` is what everything in the turn sees.

use super::signals::Signals;
use super::source::Source;
use super::supervisor::{Mood, ShutdownReason, Supervisor};
use crate::api::routes::{self, Pending};
use crate::api::Ctx;
use crate::http::HttpRequest;
use crate::process::waitstatus::signal_name;
use crate::process::Now;
use crate::sys::poller::{Events, Interest};
use std::io;
use std::sync::mpsc::Receiver;
use std::time::Instant;

/// See the loop: how long a pending deferred request may go unpolled.
const PENDING_RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

pub fn run(
    sup: &mut Supervisor,
    signals: &mut Signals,
    requests: &Receiver<HttpRequest>,
) -> io::Result<Mood> {
    let mut pending: Vec<Pending> = Vec::new();
    // SAFETY: the signal pipe outlives this registration (deleted before returning).
    let signal_fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(signals.fd()) };
    sup.poller()
        .add(signal_fd, Source::Signal.key(), Interest::Read)?;
    let mut events = Events::new();
    let mut now = Now::current();
    // A signal that arrived before the loop (e.g. during startup) is handled first.
    handle_signals(sup, signals, now);
    // Children that exited before the SIGCHLD handler existed; afterwards only SIGCHLD reaps
    // (it always follows the last exit: reap() collects until waitpid has nothing more).
    sup.reap(now);
    loop {
        sup.timers_due(now);
        if !pending.is_empty() {
            routes::poll_pending(&mut Ctx::new(sup, now), &mut pending);
        }
        if sup.mood != Mood::Running && sup.shutdown_step(now) {
            break;
        }
        sup.dispatch_pending(now);
        // A fresh reading, the turn's only other one: a sleep counts from when it begins,
        // or the turn's own work would be added to it.
        let mut timeout = sup
            .next_wake(now)
            .map(|d| d.saturating_duration_since(Instant::now()));
        if !pending.is_empty() {
            // A request waiting for a state re-checks at least this often, like Supervisor's
            // deferred callbacks on its 1 s loop (a wait for a stop logs every 2 s).
            timeout = Some(timeout.map_or(PENDING_RECHECK, |t| t.min(PENDING_RECHECK)));
        }
        debug_assert!(sup.unlogged.is_empty(), "log bytes held across a wait");
        if let Err(e) = sup.poller().wait(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        // Time passes in the wait: the next turn begins here.
        now = Now::current();
        for key in events.iter() {
            match Source::from_key(key) {
                Some(Source::Signal) => handle_signals(sup, signals, now),
                Some(source) => sup.handle_fd(source, now),
                None => {}
            }
        }
        // A line's event goes out before its log write (both in dispatch_pending), and both
        // before any request sees the log.
        sup.dispatch_pending(now);
        // HTTP threads wake the poller with notify(): there is no event for them.
        while let Ok(req) = requests.try_recv() {
            let mut ctx = Ctx::new(sup, now);
            if let Some(p) = routes::handle(&mut ctx, req) {
                pending.push(p);
            }
        }
    }
    let _ = sup.poller().delete(signal_fd);
    Ok(sup.mood)
}

fn handle_signals(sup: &mut Supervisor, signals: &mut Signals, now: Now) {
    for sig in signals.take() {
        let name = signal_name(sig);
        match sig {
            libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => {
                sup.log
                    .warn(&format!("received {name} indicating exit request"));
                sup.shut_down(ShutdownReason::Signal(sig));
            }
            libc::SIGHUP => {
                if matches!(sup.mood, Mood::Shutdown(_)) {
                    sup.log
                        .warn("ignored SIGHUP indicating restart request (shutdown in progress)");
                } else {
                    sup.log.warn("received SIGHUP indicating restart request");
                    sup.mood = Mood::Restarting;
                }
            }
            libc::SIGUSR2 => {
                sup.log
                    .info("received SIGUSR2 indicating log reopen request");
                sup.reopen_logs();
            }
            libc::SIGCHLD => {
                sup.log.debug("received SIGCHLD indicating a child quit");
                sup.reap(now);
            }
            _ => sup
                .log
                .blather(&format!("received {name} indicating nothing")),
        }
    }
}
