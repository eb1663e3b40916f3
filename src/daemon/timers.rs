//! The loop's timers in one list: every timed subsystem of the `Supervisor` answers the same
//! two calls, "when next?" and "do what is due", and the loop asks them all through
//! `next_wake` and `timers_due` (time is the turn's `Now`, never read here). A new timed
//! subsystem is its own module plus one row of `TIMED`.

use super::supervisor::Supervisor;
use crate::process::Now;
use std::time::{Duration, Instant};

/// One timed subsystem.
struct Timed {
    /// When it next needs the loop: a time at or before `now` means at once, `None` never
    /// (until something else changes that, which happens in a turn of its own).
    next: fn(&Supervisor, Now) -> Option<Instant>,
    /// Its work in a turn: each checks for itself what is due.
    due: fn(&mut Supervisor, Now),
}

/// In the order a turn runs them.
const TIMED: [Timed; 7] = [
    // Process machines (startsecs, backoff, stopwaitsecs, autostart) and dependency starts.
    Timed {
        next: Supervisor::machines_next,
        due: Supervisor::tick_all,
    },
    // TICK_* events (`ticks`).
    Timed {
        next: Supervisor::tick_deadline,
        due: Supervisor::emit_ticks,
    },
    // The shutdown drain (`shutdown`).
    Timed {
        next: Supervisor::drain_next,
        due: stepped_by_shutdown,
    },
    // Listeners that closed their stdout and run on (`listener`).
    Timed {
        next: Supervisor::hangups_next,
        due: Supervisor::hangups_due,
    },
    // Parked listeners' replies (`park`).
    Timed {
        next: Supervisor::collect_next,
        due: Supervisor::collect_due,
    },
    // Resting pipes (`pipes`).
    Timed {
        next: Supervisor::rest_next,
        due: Supervisor::wake_rested,
    },
    // Readiness and health checks, watchdogs (`probes`).
    Timed {
        next: Supervisor::probes_next,
        due: Supervisor::probes_due,
    },
];

/// The drain has nothing of its own to do when due: `shutdown_step`, which the loop runs
/// every turn while stopping, checks its deadline (`drained`) and ends the loop.
fn stepped_by_shutdown(_: &mut Supervisor, _: Now) {}

impl Supervisor {
    /// Every timed subsystem's work for this turn, in `TIMED`'s order.
    pub fn timers_due(&mut self, now: Now) {
        for t in &TIMED {
            (t.due)(self, now);
        }
    }

    /// When the loop must wake next: at `now` if events wait to be delivered or a timer is
    /// due, else the earliest timer; `None` (sleep until an fd fires) when nothing is timed.
    pub fn next_wake(&self, now: Now) -> Option<Instant> {
        if self.dispatch_due() {
            return Some(now.mono);
        }
        TIMED.iter().filter_map(|t| (t.next)(self, now)).min()
    }

    /// `next_wake` as a timeout from `now` (zero when due).
    pub fn next_timeout(&self, now: Now) -> Option<Duration> {
        self.next_wake(now)
            .map(|d| d.saturating_duration_since(now.mono))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{process_config, program_group, supervisor};

    #[test]
    fn idle_supervisor_never_wakes() {
        let mut pc = process_config("p", "/bin/true");
        pc.autostart = false;
        let sup = supervisor(vec![program_group("p", vec![pc])]);
        let now = Now::current();
        for t in &TIMED {
            assert_eq!((t.next)(&sup, now), None);
        }
        assert_eq!(sup.next_wake(now), None);
    }

    #[test]
    fn autostart_is_due_at_once() {
        let sup = supervisor(vec![program_group(
            "p",
            vec![process_config("p", "/bin/true")],
        )]);
        let now = Now::current();
        assert_eq!(sup.next_wake(now), Some(now.mono));
        assert_eq!(sup.next_timeout(now), Some(Duration::ZERO));
    }

    #[test]
    fn the_earliest_subsystem_wins() {
        let mut pc = process_config("p", "/bin/true");
        pc.autostart = false;
        let mut sup = supervisor(vec![program_group("p", vec![pc])]);
        let now = Now::current();
        sup.rest_due = Some(now.mono + Duration::from_millis(5));
        sup.drain_deadline = Some(now.mono + Duration::from_millis(3));
        assert_eq!(sup.next_timeout(now), Some(Duration::from_millis(3)));
        // A deadline already past is due at once.
        sup.drain_deadline = Some(now.mono - Duration::from_millis(1));
        assert_eq!(sup.next_timeout(now), Some(Duration::ZERO));
    }
}
