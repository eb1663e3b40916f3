//! A listener pool's buffer: FIFO of at most `buffer_size` events, oldest dropped on overflow
//! (loudly, and counted), rejected events put back at the head keeping their serials.
//!
//! A PROCESS_LOG event that arrives while the previous one from the same process and channel
//! still waits at the tail is appended to it (up to `MERGE_MAX`): the same as if the daemon had
//! read both chunks at once, as Supervisor's slower loop does under load. A burst of output
//! then costs a listener a few round trips instead of one per pipe read.

use super::event::Event;
use super::types::EventKind;
use std::collections::VecDeque;
use std::rc::Rc;

/// An event as one pool holds it.
#[derive(Debug, Clone)]
pub struct Queued {
    pub serial: u64,
    pub poolserial: u64,
    pub event: Rc<Event>,
    /// (listener process id, times it rejected this event), for max_retry.
    pub rejections: Vec<(usize, u32)>,
}

impl Queued {
    /// Counts one more rejection by `listener`; returns the new count.
    pub fn rejected_by(&mut self, listener: usize) -> u32 {
        match self.rejections.iter_mut().find(|(l, _)| *l == listener) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.rejections.push((listener, 1));
                1
            }
        }
    }

    pub fn rejections_by(&self, listener: usize) -> u32 {
        self.rejections
            .iter()
            .find(|(l, _)| *l == listener)
            .map_or(0, |(_, n)| *n)
    }
}

/// Largest PROCESS_LOG payload a merge produces.
const MERGE_MAX: usize = 64 * 1024;

#[derive(Debug)]
pub struct Pool {
    pub name: String,
    /// Parsed once from `events=`: the loop asks for every event.
    subscriptions: Vec<EventKind>,
    buffer: VecDeque<Queued>,
    buffer_size: usize,
    next_poolserial: u64,
    pub delivered: u64,
    pub rejected: u64,
    pub overflowed: u64,
}

impl Pool {
    pub fn new(name: &str, subscriptions: &[String], buffer_size: i64) -> Pool {
        Pool {
            name: name.to_string(),
            subscriptions: subscriptions
                .iter()
                .filter_map(|s| EventKind::parse(s))
                .collect(),
            buffer: VecDeque::new(),
            buffer_size: buffer_size.max(1) as usize,
            next_poolserial: 0,
            delivered: 0,
            rejected: 0,
            overflowed: 0,
        }
    }

    pub fn subscribes(&self, kind: EventKind) -> bool {
        self.subscriptions.iter().any(|s| s.covers(kind))
    }

    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    pub fn capacity(&self) -> usize {
        self.buffer_size
    }

    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Makes room for one more event; returns the serial of the event dropped, if any.
    fn make_room(&mut self) -> Option<u64> {
        if self.buffer.len() < self.buffer_size {
            return None;
        }
        self.overflowed += 1;
        self.buffer.pop_front().map(|q| q.serial)
    }

    /// Accepts a new event at the tail. Returns the serial discarded by an overflow.
    pub fn accept(&mut self, serial: u64, event: Rc<Event>) -> Option<u64> {
        if let Some(tail) = self.buffer.back_mut() {
            // A rejected event keeps its exact text for the retry.
            if tail.rejections.is_empty() {
                if let Some(more) = tail.event.mergeable(&event, MERGE_MAX) {
                    // In place when this pool alone holds the event (always after its first
                    // merge): copying the growing payload for every read was quadratic.
                    Rc::make_mut(&mut tail.event).payload.push_str(more);
                    return None;
                }
            }
        }
        let dropped = self.make_room();
        let poolserial = self.next_poolserial;
        self.next_poolserial += 1;
        self.buffer.push_back(Queued {
            serial,
            poolserial,
            event,
            rejections: Vec::new(),
        });
        dropped
    }

    /// Puts a rejected (or undeliverable) event back at the head.
    pub fn rebuffer(&mut self, q: Queued) -> Option<u64> {
        let dropped = self.make_room();
        self.buffer.push_front(q);
        dropped
    }

    pub fn pop(&mut self) -> Option<Queued> {
        self.buffer.pop_front()
    }

    /// Returns an event taken by `pop` that could not be sent (no overflow accounting).
    pub fn unpop(&mut self, q: Queued) {
        self.buffer.push_front(q);
    }

    pub fn peek(&self) -> Option<&Queued> {
        self.buffer.front()
    }

    pub fn clear(&mut self) -> usize {
        let n = self.buffer.len();
        self.buffer.clear();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: u64) -> Rc<Event> {
        Rc::new(Event::new(EventKind::Tick5, format!("when:{n}")))
    }

    #[test]
    fn fifo_overflow_and_rebuffer() {
        let mut p = Pool::new("p", &["TICK".to_string()], 2);
        assert!(p.subscribes(EventKind::Tick5));
        assert!(!p.subscribes(EventKind::ProcessStateRunning));
        assert_eq!(p.accept(10, ev(0)), None);
        assert_eq!(p.accept(11, ev(1)), None);
        assert_eq!(p.accept(12, ev(2)), Some(10), "oldest dropped");
        assert_eq!(p.overflowed, 1);
        let q = p.pop().unwrap();
        assert_eq!((q.serial, q.poolserial), (11, 1));
        p.accept(13, ev(3));
        // Rebuffering into a full buffer drops the head first.
        assert_eq!(p.rebuffer(q), Some(12));
        assert_eq!(p.pop().map(|q| q.serial), Some(11));
        assert_eq!(p.pop().map(|q| q.serial), Some(13));
        assert!(p.is_empty());
    }

    fn log(pid: i32, stream: &str, data: &[u8]) -> Rc<Event> {
        Rc::new(crate::events::event::process_log(
            "p", "g", pid, stream, data,
        ))
    }

    #[test]
    fn waiting_output_of_one_channel_is_merged() {
        let mut p = Pool::new("p", &["PROCESS_LOG".to_string()], 10);
        p.accept(1, log(7, "stdout", b"a\n"));
        p.accept(2, log(7, "stdout", b"b\n"));
        assert_eq!(p.len(), 1);
        // Another channel, another pid, or undecodable bytes start a new event.
        p.accept(3, log(7, "stderr", b"c\n"));
        p.accept(4, log(8, "stderr", b"d\n"));
        p.accept(5, log(8, "stderr", b"\xff"));
        p.accept(6, log(8, "stderr", b"e"));
        assert_eq!(p.len(), 5);
        let q = p.pop().unwrap();
        assert_eq!((q.serial, q.poolserial), (1, 0));
        assert_eq!(
            q.event.payload,
            "processname:p groupname:g pid:7 channel:stdout\na\nb\n"
        );
        assert_eq!(
            p.pop().map(|q| q.poolserial),
            Some(1),
            "pool serials stay dense"
        );
        // Nothing merges into an event a listener rejected, nor past the size cap.
        let mut q = p.pop().unwrap();
        q.rejected_by(1);
        p.rebuffer(q);
        p.clear();
        p.accept(7, log(9, "stdout", &vec![b'x'; MERGE_MAX - 100]));
        p.accept(8, log(9, "stdout", &[b'y'; 200]));
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn rejection_counts_per_listener() {
        let mut q = Queued {
            serial: 0,
            poolserial: 0,
            event: ev(0),
            rejections: Vec::new(),
        };
        assert_eq!(q.rejected_by(3), 1);
        assert_eq!(q.rejected_by(3), 2);
        assert_eq!(q.rejected_by(4), 1);
        assert_eq!(q.rejections_by(3), 2);
        assert_eq!(q.rejections_by(9), 0);
    }
}
