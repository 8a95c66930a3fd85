//! Ordered lanes for a consumer: items that share a key are handled one at a time, in the
//! order they were handed over; items of other keys are handled side by side. A consumer
//! that handled every event in turn would leave its database idle whenever one event waits
//! for something else (the bus, a clock, a retry); one that handled them all at once could
//! apply two events of one resource in the wrong order.

use std::{
    future::Future,
    hash::{DefaultHasher, Hash, Hasher},
};

use futures::{StreamExt, stream::BoxStream};
use tokio::{sync::mpsc, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::bus::Delivery;

/// A lane key for [`Lanes::feed`]: equal for equal `key`s.
pub fn key(key: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// A fixed set of lanes, each a task handling its items in turn.
pub struct Lanes<T> {
    lanes: Vec<mpsc::Sender<T>>,
    workers: JoinSet<()>,
}

impl<T: Send + 'static> Lanes<T> {
    /// Starts `count` lanes, each holding up to `depth` waiting items, handled by `handle`.
    pub fn start<F, Fut>(count: usize, depth: usize, handle: F) -> Self
    where
        F: Fn(T) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let mut workers = JoinSet::new();
        let lanes = (0..count.max(1))
            .map(|_| {
                let (tx, mut rx) = mpsc::channel::<T>(depth.max(1));
                let handle = handle.clone();
                workers.spawn(async move {
                    while let Some(item) = rx.recv().await {
                        handle(item).await;
                    }
                });
                tx
            })
            .collect();
        Self { lanes, workers }
    }

    /// Hands `item` to the lane of `key` (a [`key`], whose remainder by the lane count is
    /// the lane, so a key below the count names its lane), waiting while that lane is full
    /// (so a consumer stops taking from the bus when it falls behind). Err when it has
    /// stopped.
    pub async fn send(&self, key: u64, item: T) -> Result<(), T> {
        let lane = (key % self.lanes.len() as u64) as usize;
        self.lanes[lane].send(item).await.map_err(|e| e.0)
    }

    /// Feeds a bus consumer's deliveries to the lanes until `shutdown` or the end of the
    /// stream, then lets every lane finish what it was handed. `prepare` makes a delivery
    /// into its item and the item's lane key (see [`Lanes::send`]).
    pub async fn feed(
        self,
        mut deliveries: BoxStream<'static, Delivery>,
        shutdown: &CancellationToken,
        mut prepare: impl FnMut(Delivery) -> (u64, T),
    ) {
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => break,
                next = deliveries.next() => match next {
                    Some(d) => d,
                    None => break,
                },
            };
            let (key, item) = prepare(delivery);
            if self.send(key, item).await.is_err() {
                break;
            }
        }
        self.finish().await;
    }

    /// Stops taking items and waits until every lane has handled what it was given.
    pub async fn finish(self) {
        let Self { lanes, mut workers } = self;
        drop(lanes);
        while workers.join_next().await.is_some() {}
    }
}

/// How long a lane retries an event in place before handing it back to the bus (below the
/// consumers' `ack_wait`).
pub const IN_PLACE: std::time::Duration = std::time::Duration::from_secs(20);

/// Runs `apply` until it succeeds, then acknowledges. A failure is retried here, in the
/// lane, before its next event: handing it back to the bus at once would let later events
/// of the same key overtake it. Past [`IN_PLACE`] (or at shutdown) it goes back to the bus
/// after all.
pub async fn settle<F, Fut, E>(delivery: Delivery, shutdown: &CancellationToken, apply: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    use std::time::Duration;
    let started = tokio::time::Instant::now();
    let mut backoff = Duration::from_millis(50);
    loop {
        match apply().await {
            Ok(()) => return delivery.ack().await,
            Err(e) if started.elapsed() + backoff < IN_PLACE && !shutdown.is_cancelled() => {
                tracing::warn!(error = %e, subject = %delivery.envelope.subject, "network event not applied; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
            Err(e) => {
                tracing::warn!(error = %e, subject = %delivery.envelope.subject, "network event not applied; back to the bus");
                return delivery.retry(Duration::from_millis(500)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{Arc, Mutex},
        time::Duration,
    };

    use super::*;

    #[tokio::test]
    async fn one_key_keeps_its_order_while_another_key_goes_past_a_slow_item() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let lanes = Lanes::start(8, 4, move |(key, n, slow): (&'static str, u32, bool)| {
            let log = log.clone();
            async move {
                if slow {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                log.lock().unwrap().push((key, n));
            }
        });
        // Keys whose lanes differ (8 lanes: find one that does not share "a"'s).
        let other = ["b", "c", "d", "e", "f", "g", "h", "i", "j"]
            .into_iter()
            .find(|k| key(k) % 8 != key("a") % 8)
            .unwrap();
        assert_eq!(key("a"), key("a"));
        lanes.send(key("a"), ("a", 1, true)).await.unwrap();
        lanes.send(key("a"), ("a", 2, false)).await.unwrap();
        lanes.send(key(other), (other, 1, false)).await.unwrap();
        lanes.finish().await;
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, vec![(other, 1), ("a", 1), ("a", 2)]);
    }
}
