//! What the consumer and the dispatcher share: the attempt slots of each pool, and the
//! wake-up that tells the dispatcher what the consumer stored.
//!
//! A fresh job is stored leased to this instance when its pool has a free slot and nothing
//! orders it behind another job, and handed to the dispatcher with that slot ([`Leased`]),
//! which attempts it at once: no look at the table to find it. A question or a job without
//! an order key is leased by the statement that stores it; a job with an order key by one
//! more right after that commit, if it is the first pending of its order (the check a claim
//! makes). Every other job is stored unleased: the next of an order is claimed when the
//! attempt of the one ahead of it ends; for one that found its pool full, the dispatcher is
//! woken to claim from the table ([`Handoff::stored`]). A leased job that is never
//! attempted (a crash, a shutdown between the store and the attempt) is claimed again once
//! its lease has run out, as any other.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::{entity::job, store::Pool};

/// Questions in flight at once, besides the `concurrency` ordinary deliveries. Each holds a
/// connection for at most the attempt timeout; the bound keeps a burst of questions to an
/// application that hangs within the file descriptors of one process.
pub const ASKING_CONCURRENCY: usize = 512;

/// A job stored leased to this instance, to attempt now in the slot it holds.
pub struct Leased {
    pub job: job::Model,
    pub lease_until: DateTime<Utc>,
    /// One slot of the job's pool, given back when its attempt ends.
    pub slot: OwnedSemaphorePermit,
}

/// The pools the dispatcher claims jobs for at its next look at the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Look {
    pub asking: bool,
    pub ordinary: bool,
}

impl Look {
    pub const BOTH: Look = Look {
        asking: true,
        ordinary: true,
    };

    pub fn any(self) -> bool {
        self.asking || self.ordinary
    }
}

/// The attempt slots of both pools and the dispatcher's wake-up.
pub struct Handoff {
    notify: Notify,
    asking: AtomicBool,
    ordinary: AtomicBool,
    arrived: Mutex<Vec<Leased>>,
    asking_slots: Arc<Semaphore>,
    ordinary_slots: Arc<Semaphore>,
}

impl Handoff {
    /// `concurrency` ordinary attempts at once, and [`ASKING_CONCURRENCY`] questions.
    pub fn new(concurrency: usize) -> Handoff {
        Handoff {
            notify: Notify::new(),
            asking: AtomicBool::new(false),
            ordinary: AtomicBool::new(false),
            arrived: Mutex::new(Vec::new()),
            asking_slots: Arc::new(Semaphore::new(ASKING_CONCURRENCY)),
            ordinary_slots: Arc::new(Semaphore::new(concurrency)),
        }
    }

    fn slots(&self, pool: Pool) -> &Arc<Semaphore> {
        match pool {
            Pool::Asking => &self.asking_slots,
            Pool::Ordinary => &self.ordinary_slots,
        }
    }

    /// How many slots of `pool` are free now.
    pub fn free(&self, pool: Pool) -> usize {
        self.slots(pool).available_permits()
    }

    /// Up to `n` free slots of `pool`, taken together (split one off per attempt); None
    /// when none is free.
    pub fn take(&self, pool: Pool, n: usize) -> Option<OwnedSemaphorePermit> {
        let slots = self.slots(pool);
        loop {
            let k = slots.available_permits().min(n);
            let k = u32::try_from(k).unwrap_or(u32::MAX);
            if k == 0 {
                return None;
            }
            match Arc::clone(slots).try_acquire_many_owned(k) {
                Ok(taken) => return Some(taken),
                // Another taker came first: look at what is left.
                Err(TryAcquireError::NoPermits) => continue,
                Err(TryAcquireError::Closed) => return None,
            }
        }
    }

    /// New unleased jobs of `pool` were committed: the dispatcher claims from the table.
    pub fn stored(&self, pool: Pool) {
        let flag = match pool {
            Pool::Asking => &self.asking,
            Pool::Ordinary => &self.ordinary,
        };
        flag.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Jobs were committed leased to this instance: the dispatcher attempts them.
    pub fn arrived(&self, jobs: Vec<Leased>) {
        if jobs.is_empty() {
            return;
        }
        self.lock().extend(jobs);
        self.notify.notify_one();
    }

    /// The leased jobs handed over and not taken yet.
    pub fn take_arrived(&self) -> Vec<Leased> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Leased>> {
        // A panic while holding the lock leaves a plain Vec, still whole.
        self.arrived.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until something was stored; the pools that got unleased jobs since the last
    /// time, and the leased jobs handed over.
    pub async fn stored_in(&self) -> (Look, Vec<Leased>) {
        self.notify.notified().await;
        let look = Look {
            asking: self.asking.swap(false, Ordering::AcqRel),
            ordinary: self.ordinary.swap(false, Ordering::AcqRel),
        };
        (look, self.take_arrived())
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    #[tokio::test]
    async fn a_wake_names_the_pools_that_got_jobs_since_the_one_before() {
        let wake = Handoff::new(4);
        assert!(
            wake.stored_in().now_or_never().is_none(),
            "nothing stored yet"
        );

        wake.stored(Pool::Asking);
        let only_questions = Look {
            asking: true,
            ordinary: false,
        };
        let (look, arrived) = wake.stored_in().now_or_never().expect("woken");
        assert_eq!(look, only_questions);
        assert!(arrived.is_empty());

        wake.stored(Pool::Ordinary);
        wake.stored(Pool::Asking);
        let (look, _) = wake.stored_in().now_or_never().expect("woken");
        assert_eq!(look, Look::BOTH);
        // Both were taken by that one wake: no second one is pending.
        assert!(wake.stored_in().now_or_never().is_none());
    }

    #[test]
    fn slots_are_taken_up_to_what_is_free_and_come_back_when_dropped() {
        let handoff = Handoff::new(3);
        let mut two = handoff.take(Pool::Ordinary, 2).expect("free slots");
        assert_eq!(two.num_permits(), 2);
        let last = handoff.take(Pool::Ordinary, 5).expect("one slot left");
        assert_eq!(last.num_permits(), 1, "no more than are free");
        assert!(
            handoff.take(Pool::Ordinary, 1).is_none(),
            "the pool is full"
        );
        assert_eq!(
            handoff.take(Pool::Asking, 2).map(|t| t.num_permits()),
            Some(2),
            "questions have slots of their own"
        );

        let one = two.split(1).expect("two were taken");
        drop(two);
        assert_eq!(
            handoff.take(Pool::Ordinary, 5).map(|t| t.num_permits()),
            Some(1)
        );
        drop((one, last));
        assert_eq!(
            handoff.take(Pool::Ordinary, 5).map(|t| t.num_permits()),
            Some(3)
        );
    }
}
