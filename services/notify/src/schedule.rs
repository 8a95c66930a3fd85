//! What happens after an attempt: delivered, retried after an exponential back-off with
//! jitter, or abandoned because the next attempt would come after the job expires.
//! Pure functions, so the policy is unit-tested without a clock, a database or a network.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

/// The back-off settings, in milliseconds (from `NotifyConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failed attempt.
    pub initial_ms: u64,
    /// Longest delay.
    pub max_ms: u64,
}

impl Backoff {
    /// The delay before the next attempt when `attempts` attempts have failed (1 for the
    /// first failure), before jitter: `min(max, initial * 2^(attempts-1))`.
    pub fn base(&self, attempts: u32) -> Duration {
        let factor = 2u64.saturating_pow(attempts.saturating_sub(1));
        Duration::from_millis(self.initial_ms.saturating_mul(factor).min(self.max_ms))
    }

    /// [`Backoff::base`] with jitter: a random delay between 50% and 100% of it, so that
    /// jobs failing together do not come back together.
    pub fn jittered(&self, attempts: u32, rng: &mut impl Rng) -> Duration {
        let base = self.base(attempts).as_millis() as u64;
        let low = base / 2;
        Duration::from_millis(rng.random_range(low..=base.max(low)))
    }
}

/// What to do with a job after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The application accepted it.
    Delivered,
    /// Try again at this time.
    Retry(DateTime<Utc>),
    /// Give up: the job expired, or can never be sent (a malformed URL).
    Expired,
}

/// The next step for a job that expires at `expires_at`, after its attempt number
/// `attempts` ended at `now`.
pub fn next_step(
    delivered: bool,
    permanent_failure: bool,
    attempts: u32,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    backoff: Backoff,
    rng: &mut impl Rng,
) -> Next {
    if delivered {
        return Next::Delivered;
    }
    if permanent_failure {
        return Next::Expired;
    }
    let delay = backoff.jittered(attempts, rng);
    match chrono::TimeDelta::from_std(delay)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
    {
        Some(at) if at <= expires_at => Next::Retry(at),
        _ => Next::Expired,
    }
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    const B: Backoff = Backoff {
        initial_ms: 20,
        max_ms: 1_000,
    };

    #[test]
    fn base_doubles_from_initial_and_is_capped() {
        assert_eq!(B.base(1), Duration::from_millis(20));
        assert_eq!(B.base(2), Duration::from_millis(40));
        assert_eq!(B.base(3), Duration::from_millis(80));
        assert_eq!(B.base(6), Duration::from_millis(640));
        assert_eq!(B.base(7), Duration::from_millis(1_000));
        assert_eq!(B.base(u32::MAX), Duration::from_millis(1_000));
        // attempt 0 cannot happen, but must not misbehave
        assert_eq!(B.base(0), Duration::from_millis(20));
    }

    #[test]
    fn huge_settings_saturate_instead_of_overflowing() {
        let b = Backoff {
            initial_ms: u64::MAX,
            max_ms: u64::MAX,
        };
        assert_eq!(b.base(64), Duration::from_millis(u64::MAX));
        let mut rng = StdRng::seed_from_u64(1);
        let now = Utc::now();
        let next = next_step(false, false, 64, now, now, b, &mut rng);
        assert_eq!(next, Next::Expired);
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_base() {
        let mut rng = StdRng::seed_from_u64(7);
        for attempts in 1..12 {
            let base = B.base(attempts);
            let mut seen_low = false;
            for _ in 0..200 {
                let d = B.jittered(attempts, &mut rng);
                assert!(
                    d >= base / 2 && d <= base,
                    "{d:?} outside [{base:?}/2, {base:?}]"
                );
                seen_low |= d < base * 3 / 4;
            }
            assert!(
                seen_low,
                "jitter never went below 75% for attempt {attempts}"
            );
        }
    }

    #[test]
    fn next_step_retries_until_the_job_would_expire() {
        let mut rng = StdRng::seed_from_u64(3);
        let now = Utc::now();
        let later = now + chrono::TimeDelta::seconds(10);
        match next_step(false, false, 1, now, later, B, &mut rng) {
            Next::Retry(at) => {
                let delay = at - now;
                assert!(delay >= chrono::TimeDelta::milliseconds(10));
                assert!(delay <= chrono::TimeDelta::milliseconds(20));
            }
            other => panic!("expected a retry, got {other:?}"),
        }
        let soon = now + chrono::TimeDelta::milliseconds(5);
        assert_eq!(
            next_step(false, false, 1, now, soon, B, &mut rng),
            Next::Expired
        );
        assert_eq!(
            next_step(true, false, 9, now, now, B, &mut rng),
            Next::Delivered
        );
        assert_eq!(
            next_step(false, true, 1, now, later, B, &mut rng),
            Next::Expired
        );
    }
}
