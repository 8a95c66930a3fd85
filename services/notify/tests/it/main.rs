//! Integration tests of parlay-notify: the real consumer and dispatcher on the in-process
//! bus, a SQLite file or a fresh PostgreSQL database, and a recording webhook receiver.
//! Every scenario runs on both backends. Logs: `TEST_LOG=debug cargo test -p parlay-notify`.

mod harness;
mod receiver;

/// Declares `<scenario>::sqlite` and `<scenario>::postgres` tests for each async scenario
/// `fn(Backend)` of the enclosing module.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario(crate::harness::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario(crate::harness::Backend::Postgres).await
            }
        }
    )*};
}

mod delivery;
mod questions;
mod recording;
mod restart;
mod retention;
mod retries;
