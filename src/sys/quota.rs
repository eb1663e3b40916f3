//! A process-wide limit on how many of something exist at once (grown pipes, served
//! connections): a `Permit` is taken while under the limit and given back when dropped.

use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Quota {
    used: AtomicUsize,
    max: usize,
}

impl Quota {
    pub const fn new(max: usize) -> Quota {
        Quota {
            used: AtomicUsize::new(0),
            max,
        }
    }

    /// One unit, or `None` when all `max` are in use.
    pub fn take(&'static self) -> Option<Permit> {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Permit(self))
    }

    /// Units in use now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

/// A unit of a `Quota`, given back on drop.
pub struct Permit(&'static Quota);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_max_at_once_and_given_back_on_drop() {
        static Q: Quota = Quota::new(2);
        let a = Q.take().unwrap();
        let b = Q.take().unwrap();
        assert!(Q.take().is_none());
        assert_eq!(Q.used(), 2);
        drop(a);
        let c = Q.take().unwrap();
        assert!(Q.take().is_none());
        drop((b, c));
        assert_eq!(Q.used(), 0);
    }
}
