//! What a poller key stands for: one typed value per kind of descriptor the loop watches,
//! packed into the key and unpacked when it fires (instead of arithmetic at each use).

use crate::output::Stream;
use crate::probe::Purpose;

/// A descriptor the loop watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The signal self-pipe.
    Signal,
    /// A child's stdout or stderr pipe.
    Output { id: usize, stream: Stream },
    /// A child's stdin pipe with data waiting.
    Stdin { id: usize },
    /// A process's sd_notify socket.
    Notify { id: usize },
    /// A process's readiness or health check socket.
    Check { id: usize, purpose: Purpose },
}

/// The signal pipe's key.
const SIGNAL: usize = 0;
/// Keys below this are the loop's own (the signal pipe).
const BASE: usize = 16;
/// Slots per process.
const SLOTS: usize = 8;

/// A process's descriptors in slot order: the one table `key` and `from_key` share.
#[rustfmt::skip]
const KINDS: [fn(usize) -> Source; 6] = [
    |id| Source::Output { id, stream: Stream::Stdout },
    |id| Source::Output { id, stream: Stream::Stderr },
    |id| Source::Stdin { id },
    |id| Source::Notify { id },
    |id| Source::Check { id, purpose: Purpose::Ready },
    |id| Source::Check { id, purpose: Purpose::Health },
];
const _: () = assert!(KINDS.len() <= SLOTS);

impl Source {
    /// The process a descriptor belongs to (none for the loop's own).
    fn process(self) -> Option<usize> {
        match self {
            Source::Signal => None,
            Source::Output { id, .. }
            | Source::Stdin { id }
            | Source::Notify { id }
            | Source::Check { id, .. } => Some(id),
        }
    }

    pub fn key(self) -> usize {
        let Some(id) = self.process() else {
            return SIGNAL;
        };
        let slot = KINDS
            .iter()
            .position(|kind| kind(id) == self)
            .expect("every Source has its slot in KINDS");
        BASE + id * SLOTS + slot
    }

    pub fn from_key(key: usize) -> Option<Source> {
        if key == SIGNAL {
            return Some(Source::Signal);
        }
        let rel = key.checked_sub(BASE)?;
        KINDS.get(rel % SLOTS).map(|kind| kind(rel / SLOTS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for s in [
            Source::Signal,
            Source::Output {
                id: 0,
                stream: Stream::Stdout,
            },
            Source::Output {
                id: 7,
                stream: Stream::Stderr,
            },
            Source::Stdin { id: 3 },
            Source::Notify { id: 1000 },
            Source::Check {
                id: 5,
                purpose: Purpose::Ready,
            },
            Source::Check {
                id: 6,
                purpose: Purpose::Health,
            },
        ] {
            assert_eq!(Source::from_key(s.key()), Some(s));
        }
        assert_eq!(Source::from_key(5), None);
        assert_eq!(Source::from_key(BASE + 7), None);
    }
}
