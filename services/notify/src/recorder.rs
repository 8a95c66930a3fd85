//! The recorder: writes the outcome of attempts in batches (the kit's group commit). Every
//! attempt in flight hands its record over and waits until it is committed. Recording
//! attempt by attempt cost a transaction of four statements each, and those queued on the
//! database behind one another; under load the batches grow by themselves.

use parlay_kit::batch::{Batcher, Traced};
use sea_orm::{DatabaseConnection, DbErr};

use crate::store::{self, Record};

/// Records per transaction, at most.
const BATCH: usize = 256;

/// Hands records to the recording task (cheap to clone).
#[derive(Clone)]
pub struct Recorder(Batcher<Record, Result<bool, String>>);

impl Recorder {
    /// Starts the recording task on `db`.
    pub fn start(db: DatabaseConnection) -> Recorder {
        Recorder(Batcher::start(
            BATCH,
            move |records: Vec<Traced<Record>>| {
                let db = db.clone();
                // A record makes no bus message: its span is not needed.
                let records: Vec<Record> = records.into_iter().map(|r| r.item).collect();
                async move {
                    match store::record_many(&db, &records).await {
                        Ok(changed) => changed.into_iter().map(Ok).collect(),
                        Err(e) => vec![Err(e.to_string()); records.len()],
                    }
                }
            },
        ))
    }

    /// Records `record` with the others waiting; whether its job changed.
    pub async fn record(&self, record: Record) -> Result<bool, DbErr> {
        self.0
            .submit(record)
            .await
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .map_err(DbErr::Custom)
    }
}
