//! Group commit. Writers that would each run a small transaction hand their item to a
//! [`Batcher`] and wait; one task takes every item waiting (up to a bound) and writes them
//! together, then answers each with its own result. With one SQLite connection, a
//! transaction per item queues every statement of every item behind the others; a batch
//! pays the transaction's fixed cost once. Batches form only under load: an item that
//! arrives alone is written alone, at once.

use std::{future::Future, ops::Range};

use tokio::sync::{mpsc, oneshot};

type Waiting<T, R> = (Traced<T>, oneshot::Sender<R>);

/// An item as the writing task gets it: with the span of whoever handed it in, so that what
/// the batch records for it (bus messages, with their `traceparent`) continues that trace.
pub struct Traced<T> {
    pub item: T,
    pub span: tracing::Span,
}

impl<T> Traced<T> {
    /// Runs `f` in the item's span (bus envelopes made inside it carry the item's trace).
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        self.span.in_scope(f)
    }
}

impl<T> std::ops::Deref for Traced<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.item
    }
}

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
        F: FnMut(Vec<Traced<T>>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        let (queue, mut waiting) = mpsc::unbounded_channel::<Waiting<T, R>>();
        let max = max.max(1);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(max);
            while waiting.recv_many(&mut batch, max).await > 0 {
                let (items, replies): (Vec<Traced<T>>, Vec<_>) = batch.drain(..).unzip();
                let results = write(items).await;
                debug_assert_eq!(results.len(), replies.len(), "one result per item");
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
        });
        Self { queue }
    }

    /// Writes `item` with whatever else is waiting, in the current span; its result.
    pub async fn submit(&self, item: T) -> Result<R, Stopped> {
        let (reply, answer) = oneshot::channel();
        let item = Traced {
            item,
            span: tracing::Span::current(),
        };
        self.queue.send((item, reply)).map_err(|_| Stopped)?;
        answer.await.map_err(|_| Stopped)
    }
}

/// Writes `count` items together with `write` (given the range of them to write, all of
/// them first: one transaction, one result per item); when that fails and there were
/// several, writes each alone, so that one item that cannot be written holds back no other
/// and each gets its own answer. For a [`Batcher`]'s writing task.
pub async fn together_or_alone<R, E, F, Fut>(count: usize, write: F) -> Vec<Result<R, E>>
where
    F: Fn(Range<usize>) -> Fut,
    Fut: Future<Output = Result<Vec<R>, E>>,
{
    match write(0..count).await {
        Ok(results) => results.into_iter().map(Ok).collect(),
        Err(e) if count <= 1 => vec![Err(e)],
        Err(_) => {
            let mut results = Vec::with_capacity(count);
            for i in 0..count {
                let alone = write(i..i + 1).await;
                results.push(alone.map(|r| r.into_iter().next().expect("one result per item")));
            }
            results
        }
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
        let batcher = Batcher::start(4, move |items: Vec<Traced<u32>>| {
            seen.lock().unwrap().push(items.len());
            async move {
                // Slow enough for the others to queue up behind the first batch.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                items.into_iter().map(|i| i.item * 10).collect()
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

    #[tokio::test]
    async fn a_failed_batch_is_written_again_item_by_item() {
        let calls = Mutex::new(Vec::new());
        let all = [1, 2, 3, 4];
        // Fails any batch holding 3.
        let write = |range: Range<usize>| {
            let items = all[range].to_vec();
            calls.lock().unwrap().push(items.clone());
            async move {
                if items.contains(&3) {
                    Err("3 cannot be written")
                } else {
                    Ok(items.iter().map(|i| i * 10).collect::<Vec<_>>())
                }
            }
        };
        assert_eq!(together_or_alone(2, write).await, [Ok(10), Ok(20)]);
        assert_eq!(
            together_or_alone(4, write).await,
            [Ok(10), Ok(20), Err("3 cannot be written"), Ok(40)]
        );
        assert_eq!(
            calls.lock().unwrap().clone(),
            [
                vec![1, 2],
                vec![1, 2, 3, 4],
                vec![1],
                vec![2],
                vec![3],
                vec![4]
            ]
        );
    }
}
