//! The worker shape of everything in the service that ends on its own at a stored time:
//! temporary presence sources and subscriptions. What ends is deleted in the same
//! transaction as what it must cause (watchers made due, a cancellation notification in
//! the outbox), so a restart loses nothing: what fell due while the service was down ends
//! at the first pass. Several replicas may run it; each row is ended by one.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::{core::Core, error::Result};

/// Something stored with an end time.
pub trait Expiring {
    /// What ends, for the logs.
    const WHAT: &'static str;

    /// Ends everything past its time; returns when the next one ends, if anything is
    /// left.
    fn expire(core: &Core) -> impl Future<Output = Result<Option<DateTime<Utc>>>> + Send;
}

/// How long to sleep before the next pass: until `next`, at least 10 ms and at most a
/// second (what another replica stored, or a clock that jumped).
pub fn pause(next: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Duration {
    match next {
        Some(next) => (next - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .clamp(Duration::from_millis(10), Duration::from_secs(1)),
        None => Duration::from_secs(1),
    }
}

/// Ends `E`s when they fall due, until shutdown.
pub async fn run<E: Expiring>(core: Arc<Core>, shutdown: CancellationToken) {
    loop {
        let pause = match E::expire(&core).await {
            Ok(next) => pause(next, Utc::now()),
            Err(e) => {
                tracing::warn!(error = %e, what = E::WHAT, "expiring failed; retrying");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_pass_is_at_the_next_end_within_bounds() {
        let now = Utc::now();
        let ms = chrono::Duration::milliseconds;
        assert_eq!(pause(Some(now + ms(300)), now), Duration::from_millis(300));
        assert_eq!(pause(Some(now - ms(300)), now), Duration::from_millis(10));
        assert_eq!(pause(Some(now + ms(60_000)), now), Duration::from_secs(1));
        assert_eq!(pause(None, now), Duration::from_secs(1));
    }
}
