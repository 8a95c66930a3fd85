//! Group commit. Writers that would each run a small transaction hand their item to a
//! [`Batcher`] and wait; one task takes every item waiting (up to a bound) and writes them
//! together, then answers each with its own result. With one SQLite connection, a
//! transaction per item queues every statement of every item behind the others; a batch
//! pays the transaction's fixed cost once. Batches form only under load: an item that
//! arrives alone is written alone, at once.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

type Waiting<T, R> = (T, oneshot::Sender<R>);

/// Hands items to the writing task (cheap to clone). The task ends when the last handle is
/// dropped, after writing what it was given.
pub struct Batcher<T, R> {
    queue: mpsc::UnboundedSender<Waiting<T, R>>,
}

impl<T, R> Clone for Batcher<T, R> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

/// The writing task stopped (the service is shutting down) before answering.
#[derive(Debug, thiserror::Error)]
#[error("the batch writer has stopped")]
pub struct Stopped;

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Starts the task: `write` gets up to `max` items and answers one result per item, in
    /// their order.
    pub fn start<F, Fut>(max: usize, mut write: F) -> Self
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        let (queue, mut waiting) = mpsc::unbounded_channel::<Waiting<T, R>>();
        let max = max.max(1);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(max);
            while waiting.recv_many(&mut batch, max).await > 0 {
                let (items, replies): (Vec<T>, Vec<_>) = batch.drain(..).unzip();
                let results = write(items).await;
                debug_assert_eq!(results.len(), replies.len(), "one result per item");
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
        });
        Self { queue }
    }

    /// Writes `item` with whatever else is waiting; its result.
    pub async fn submit(&self, item: T) -> Result<R, Stopped> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((item, reply)).map_err(|_| Stopped)?;
        answer.await.map_err(|_| Stopped)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test]
    async fn items_waiting_together_are_written_together_and_each_gets_its_answer() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let batcher = Batcher::start(4, move |items: Vec<u32>| {
            seen.lock().unwrap().push(items.len());
            async move {
                // Slow enough for the others to queue up behind the first batch.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                items.into_iter().map(|i| i * 10).collect()
            }
        });
        let answers = futures::future::join_all((0..10).map(|i| {
            let b = batcher.clone();
            async move { b.submit(i).await.unwrap() }
        }))
        .await;
        assert_eq!(answers, (0..10).map(|i| i * 10).collect::<Vec<_>>());
        let sizes = sizes.lock().unwrap().clone();
        assert_eq!(sizes.iter().sum::<usize>(), 10);
        assert!(sizes.iter().all(|n| *n <= 4), "{sizes:?}");
        assert!(sizes.len() < 10, "nothing was batched: {sizes:?}");
    }
}
