//! The same service on PostgreSQL (unless `PARLAY_TEST_PG=off`): the schema migrates, and
//! receipts (also concurrent ones, on a pool of connections), inbound MMS with files, subscription overlap and messages to several destinations at
//! once behave as on SQLite.

use crate::harness::{Backend, Harness, pg_base};

#[tokio::test]
async fn the_service_works_on_postgresql() {
    if pg_base().is_none() {
        eprintln!("PARLAY_TEST_PG=off: PostgreSQL test skipped");
        return;
    }
    let h = Harness::start_with(Backend::Postgres, |_| {}).await;
    crate::receipts::receipts_scenario(&h).await;
    crate::receipts::concurrent_receipts_scenario(&h).await;
    crate::inbound::mms_scenario(&h).await;
    crate::subscriptions::overlap_scenario(&h).await;
    crate::subscriptions::destinations_together_scenario(&h).await;
    h.finish().await;
}
