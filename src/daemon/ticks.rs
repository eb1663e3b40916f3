//! TICK_5, TICK_60 and TICK_3600 events, emitted only while some pool subscribes to them, at
//! wall-clock multiples of their period.

use super::supervisor::Supervisor;
use crate::events::{Event, EventKind};
use crate::process::Now;
use std::time::{Duration, Instant, UNIX_EPOCH};

pub(super) const TICKS: [(u64, EventKind); 3] = [
    (5, EventKind::Tick5),
    (60, EventKind::Tick60),
    (3600, EventKind::Tick3600),
];

impl Supervisor {
    /// Some pool subscribes to `TICKS[i]`.
    fn tick_subscribed(&self, i: usize) -> bool {
        self.groups
            .pools()
            .iter()
            .filter_map(|&gid| self.groups[gid].pool.as_ref())
            .any(|ps| ps.ticks[i])
    }

    /// TICK_* events, only while some pool subscribes to them.
    pub(super) fn emit_ticks(&mut self, now: Now) {
        let secs = now
            .wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        for (i, (period, kind)) in TICKS.iter().enumerate() {
            if !self.tick_subscribed(i) {
                self.tick_periods[i] = None;
                continue;
            }
            let cur = secs / period;
            match self.tick_periods[i] {
                Some(prev) if prev != cur => {
                    self.emit(Event::new(*kind, format!("when:{}", cur * period)));
                }
                _ => {}
            }
            self.tick_periods[i] = Some(cur);
        }
    }

    /// When the next subscribed TICK is due.
    pub(super) fn tick_deadline(&self, now: Now) -> Option<Instant> {
        if !(0..TICKS.len()).any(|i| self.tick_subscribed(i)) {
            return None;
        }
        let since = now.wall.duration_since(UNIX_EPOCH).unwrap_or_default();
        TICKS
            .iter()
            .enumerate()
            .filter(|&(i, _)| self.tick_subscribed(i))
            .map(|(_, (period, _))| {
                let into = since.as_millis() as u64 % (period * 1000);
                now.mono + Duration::from_millis(period * 1000 - into)
            })
            .min()
    }
}
