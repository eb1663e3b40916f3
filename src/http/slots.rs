//! Admission to one listener: a table of at most `MAX_PER_LISTENER` connections. A connection
//! is *waiting* until the head of its next request has arrived (fresh, between kept-alive
//! requests, or trickling a head in) and *busy* from then until its reply is written. A
//! newcomer to a full table closes the connection that has waited longest; only when every
//! connection is busy is it refused (503). So idle or slow clients can never hold a listener
//! shut: a newcomer that sends its request at once always gets a slot.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Waiting(Instant),
    Busy,
    /// Shut down to make room; its thread is on its way out.
    Evicted,
}

struct Entry {
    id: u64,
    fd: RawFd,
    state: State,
}

#[derive(Default)]
struct Inner {
    entries: Vec<Entry>,
    next_id: u64,
}

/// One listener's connections.
pub struct Table {
    max: usize,
    inner: Mutex<Inner>,
}

/// A connection admitted to a table. Its entry is removed before its socket is closed (the
/// `Drop` below runs before the field is dropped), so an eviction never shuts down a
/// descriptor number that a newer connection reuses.
pub struct Slot {
    table: Arc<Table>,
    id: u64,
    file: File,
}

impl Table {
    pub fn new(max: usize) -> Arc<Table> {
        Arc::new(Table {
            max,
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the table consistent (every change is one
        // assignment), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits `file`, waiting for its first request since `now`; when the table is full,
    /// the connection that has waited longest is shut down to make room. Gives the file
    /// back when every connection is busy.
    pub fn admit(self: &Arc<Self>, file: File, now: Instant) -> Result<Slot, File> {
        let mut inner = self.lock();
        let live = inner
            .entries
            .iter()
            .filter(|e| e.state != State::Evicted)
            .count();
        // Evicted threads leave within microseconds; the second bound only keeps the count
        // of threads finite if one of them were somehow slow to go.
        if inner.entries.len() >= 2 * self.max {
            return Err(file);
        }
        if live >= self.max {
            let oldest = inner
                .entries
                .iter_mut()
                .filter_map(|e| match e.state {
                    State::Waiting(since) => Some((since, e)),
                    _ => None,
                })
                .min_by_key(|(since, _)| *since);
            let Some((_, victim)) = oldest else {
                return Err(file);
            };
            // SAFETY: the entry's descriptor is open until the entry is removed (see Slot).
            // Shutting it down wakes its thread, blocked in poll or read, with an EOF.
            unsafe { libc::shutdown(victim.fd, libc::SHUT_RDWR) };
            victim.state = State::Evicted;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner.entries.push(Entry {
            id,
            fd: file.as_raw_fd(),
            state: State::Waiting(now),
        });
        Ok(Slot {
            table: Arc::clone(self),
            id,
            file,
        })
    }

    /// Connections admitted and not evicted: (waiting, busy).
    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        let waiting = inner
            .entries
            .iter()
            .filter(|e| matches!(e.state, State::Waiting(_)))
            .count();
        let busy = inner
            .entries
            .iter()
            .filter(|e| e.state == State::Busy)
            .count();
        (waiting, busy)
    }

    fn set(&self, id: u64, to: State) -> bool {
        let mut inner = self.lock();
        match inner.entries.iter_mut().find(|e| e.id == id) {
            Some(e) if e.state != State::Evicted => {
                e.state = to;
                true
            }
            _ => false,
        }
    }
}

impl Slot {
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The head of a request is in: the connection can no longer be evicted. False when it
    /// was evicted first (its socket is shut down; the request must not run).
    pub fn busy(&self) -> bool {
        self.table.set(self.id, State::Busy)
    }

    /// The reply is written: the connection waits for its next request since `now`.
    pub fn waiting(&self, now: Instant) -> bool {
        self.table.set(self.id, State::Waiting(now))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.table.lock().entries.retain(|e| e.id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    /// A connected pair: the server side as a File (what the table holds), the client side.
    fn pair() -> (File, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        (File::from(std::os::fd::OwnedFd::from(a)), b)
    }

    fn closed(client: &mut UnixStream) -> bool {
        client
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        matches!(client.read(&mut [0u8; 1]), Ok(0))
    }

    #[test]
    fn a_full_table_closes_the_connection_that_waited_longest() {
        let table = Table::new(3);
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let (f1, mut c1) = pair();
        let (f2, mut c2) = pair();
        let (f3, mut c3) = pair();
        let s1 = table.admit(f1, ms(0)).ok().unwrap();
        let s2 = table.admit(f2, ms(1)).ok().unwrap();
        let s3 = table.admit(f3, ms(2)).ok().unwrap();
        // s1 answered a request and now waits since 10: s2 has waited longest.
        assert!(s1.busy());
        assert!(s1.waiting(ms(10)));
        let (f4, _c4) = pair();
        let s4 = table.admit(f4, ms(11)).ok().unwrap();
        assert!(closed(&mut c2), "the longest waiting one is shut down");
        assert!(!closed(&mut c1) && !closed(&mut c3));
        assert!(!s2.busy(), "an evicted connection never runs its request");
        assert_eq!(table.counts(), (3, 0));
        drop(s2);
        // Busy connections are never evicted; with all busy, a newcomer is refused.
        for s in [&s1, &s3, &s4] {
            assert!(s.busy());
        }
        let (f5, _c5) = pair();
        assert!(table.admit(f5, ms(12)).is_err());
        assert_eq!(table.counts(), (0, 3));
        drop(s3);
        let (f6, _c6) = pair();
        assert!(table.admit(f6, ms(13)).is_ok(), "a freed slot serves again");
    }

    #[test]
    fn evicted_connections_still_bound_the_table() {
        let table = Table::new(1);
        let mut kept = Vec::new();
        let mut refused = 0;
        for i in 0..5 {
            let (f, c) = pair();
            match table.admit(f, Instant::now() + Duration::from_millis(i)) {
                Ok(s) => kept.push((s, c)),
                Err(_) => refused += 1,
            }
        }
        // One live and one evicted at most, until the evicted threads drop their slots.
        assert_eq!(kept.len(), 2);
        assert_eq!(refused, 3);
    }
}
