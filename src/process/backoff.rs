//! The waits of a [`RestartPolicy`]: between failed starts (BACKOFF) and before an automatic
//! restart. Pure arithmetic plus a tiny xorshift for jitter, so the machine stays testable
//! with fake time and a known seed (no dependency for randomness).

use crate::config::{BackoffCurve, RestartPolicy};
use std::time::Duration;

/// The wait before attempt `n` (1 = the first retry) with `base` as the unit: n × base for
/// the linear curve, base × 2^(n-1) for the exponential one, at most the policy's cap, then
/// shortened by the jitter. Linear with no cap and no jitter is Supervisor's n seconds.
pub fn wait(policy: &RestartPolicy, base: Duration, n: u32, rng: &mut Jitter) -> Duration {
    let n = n.max(1);
    let raw = match policy.curve {
        BackoffCurve::Linear => base.saturating_mul(n),
        // 2^31 × base overflows nothing (saturating) and is far beyond any cap.
        BackoffCurve::Exponential => base.saturating_mul(1u32 << (n - 1).min(31)),
    };
    let capped = match policy.max_secs {
        Some(max) => raw.min(Duration::from_secs(max.max(0) as u64)),
        None => raw,
    };
    if policy.jitter_percent <= 0 || capped.is_zero() {
        return capped;
    }
    // Shorten by 0..jitter percent: the cap stays a cap, and programs started together
    // (numprocs, a whole config) drift apart instead of retrying in lockstep.
    let ms = capped.as_millis().min(u64::MAX as u128) as u64;
    let span = ms.saturating_mul(policy.jitter_percent.clamp(0, 100) as u64) / 100;
    let cut = if span == 0 {
        0
    } else {
        rng.draw() % (span + 1)
    };
    Duration::from_millis(ms - cut)
}

/// xorshift64* state. Zero means "not seeded yet": the machine seeds it from the wall clock
/// and the process name at first use, so a test with a fixed fake time gets fixed waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Jitter(u64);

impl Jitter {
    pub fn seeded(seed: u64) -> Jitter {
        // splitmix64 finaliser: nearby seeds (consecutive times, similar names) give
        // unrelated streams; never zero, which xorshift cannot leave.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Jitter((z ^ (z >> 31)) | 1)
    }

    pub fn is_seeded(&self) -> bool {
        self.0 != 0
    }

    pub fn draw(&mut self) -> u64 {
        if self.0 == 0 {
            *self = Jitter::seeded(0);
        }
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A seed from a name and a time (FNV-1a over the name, mixed with the nanoseconds).
pub fn seed(name: &str, nanos: u128) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (nanos as u64) ^ ((nanos >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(curve: BackoffCurve, max: Option<i64>, jitter: i64) -> RestartPolicy {
        RestartPolicy {
            curve,
            max_secs: max,
            jitter_percent: jitter,
            ..RestartPolicy::default()
        }
    }

    fn secs(p: &RestartPolicy, base: u64, upto: u32) -> Vec<u64> {
        let mut rng = Jitter::seeded(1);
        (1..=upto)
            .map(|n| wait(p, Duration::from_secs(base), n, &mut rng).as_secs())
            .collect()
    }

    #[test]
    fn linear_without_cap_is_supervisors_n_seconds() {
        let p = RestartPolicy::default();
        assert_eq!(secs(&p, 1, 6), [1, 2, 3, 4, 5, 6]);
        assert_eq!(
            wait(&p, Duration::from_secs(1), 100_000, &mut Jitter::default()),
            Duration::from_secs(100_000)
        );
    }

    #[test]
    fn exponential_doubles_up_to_the_cap() {
        let p = policy(BackoffCurve::Exponential, Some(60), 0);
        assert_eq!(secs(&p, 1, 9), [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(secs(&p, 5, 5), [5, 10, 20, 40, 60]);
        // No overflow however long it has been failing.
        let far = wait(&p, Duration::from_secs(1), u32::MAX, &mut Jitter::default());
        assert_eq!(far, Duration::from_secs(60));
    }

    #[test]
    fn linear_with_a_cap() {
        let p = policy(BackoffCurve::Linear, Some(3), 0);
        assert_eq!(secs(&p, 1, 5), [1, 2, 3, 3, 3]);
    }

    #[test]
    fn zero_base_never_waits() {
        let p = policy(BackoffCurve::Exponential, Some(60), 50);
        assert_eq!(secs(&p, 0, 4), [0, 0, 0, 0]);
    }

    #[test]
    fn jitter_only_shortens_within_its_percent_and_is_deterministic_per_seed() {
        let p = policy(BackoffCurve::Exponential, Some(8), 50);
        let run = |seed| {
            let mut rng = Jitter::seeded(seed);
            (0..200)
                .map(|_| wait(&p, Duration::from_secs(1), 4, &mut rng))
                .collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        for d in &a {
            assert!(
                *d <= Duration::from_secs(8) && *d >= Duration::from_secs(4),
                "{d:?}"
            );
        }
        // It does spread: not all the same.
        assert!(a.iter().any(|d| *d != a[0]));
    }

    #[test]
    fn seeds_differ_by_name_and_time() {
        assert_ne!(seed("a", 1), seed("b", 1));
        assert_ne!(seed("a", 1), seed("a", 2));
        assert!(Jitter::seeded(0).is_seeded());
    }
}
