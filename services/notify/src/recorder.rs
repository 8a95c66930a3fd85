//! The recorder: writes the outcome of attempts in batches. Every attempt in flight hands
//! its record over and waits until it is committed; one task takes whatever is waiting and
//! commits it in a single transaction ([`store::record_many`]). Recording attempt by attempt
//! cost a transaction of four statements each, and those queued on the database behind one
//! another; under load the batches grow by themselves, when idle a batch is one record.

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};

use crate::store::{self, Record};

/// Records per transaction, at most.
const BATCH: usize = 256;

type Waiting = (Record, oneshot::Sender<Result<bool, String>>);

/// Hands records to the recording task (cheap to clone). The task ends when the last
/// handle is dropped, after committing what it was given.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::UnboundedSender<Waiting>,
}

impl Recorder {
    /// Starts the recording task on `db`.
    pub fn start(db: DatabaseConnection) -> Recorder {
        let (queue, mut waiting) = mpsc::unbounded_channel::<Waiting>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while waiting.recv_many(&mut batch, BATCH).await > 0 {
                let (records, replies): (Vec<Record>, Vec<_>) = batch.drain(..).unzip();
                match store::record_many(&db, &records).await {
                    Ok(changed) => {
                        for (reply, changed) in replies.into_iter().zip(changed) {
                            let _ = reply.send(Ok(changed));
                        }
                    }
                    Err(e) => {
                        let message = e.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        });
        Recorder { queue }
    }

    /// Records `record` with the others waiting; whether its job changed.
    pub async fn record(&self, record: Record) -> Result<bool, DbErr> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((record, reply))
            .map_err(|_| DbErr::Custom("the recorder has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the recorder has stopped".into()))?
            .map_err(DbErr::Custom)
    }
}
