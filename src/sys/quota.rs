//! Process-wide limits on how many of something exist at once (grown pipes, served
//! connections: `Quota`) or on how many bytes are held at once (reply and request bodies:
//! `ByteQuota`): a permit or grant is taken while under the limit and given back when dropped.

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

/// A process-wide limit on bytes held at once.
pub struct ByteQuota {
    used: AtomicUsize,
    max: usize,
}

impl ByteQuota {
    pub const fn new(max: usize) -> ByteQuota {
        ByteQuota {
            used: AtomicUsize::new(0),
            max,
        }
    }

    /// `n` bytes, or `None` when fewer than `n` are free.
    pub fn take(&'static self, n: usize) -> Option<Grant> {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                u.checked_add(n).filter(|&t| t <= self.max)
            })
            .ok()
            .map(|_| Grant(self, n))
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Bytes free now.
    pub fn free(&self) -> usize {
        self.max.saturating_sub(self.used())
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

/// Bytes of a `ByteQuota`, given back on drop.
pub struct Grant(&'static ByteQuota, usize);

impl Grant {
    pub fn bytes(&self) -> usize {
        self.1
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        self.0.used.fetch_sub(self.1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_up_to_max_at_once_and_given_back_on_drop() {
        static B: ByteQuota = ByteQuota::new(100);
        let a = B.take(60).unwrap();
        assert!(B.take(41).is_none(), "over the limit: nothing taken");
        assert_eq!((B.used(), B.free()), (60, 40));
        let b = B.take(40).unwrap();
        assert!(B.take(1).is_none());
        assert!(B.take(usize::MAX).is_none(), "no overflow");
        drop(a);
        assert_eq!((B.used(), b.bytes()), (40, 40));
        drop(b);
        assert_eq!(B.used(), 0);
    }

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
