//! Database connections. Embedded mode: one SQLite file per service in the data directory
//! (WAL, so readers never wait on the writer). Distributed mode: the URL from config
//! (PostgreSQL), a database or schema per service.

use std::{path::Path, sync::Arc, time::Duration};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, FromQueryResult, QueryResult, RuntimeErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, Value,
    sea_query::{Alias, Expr, ExprTrait, IntoIden, Query, TableRef, UpdateStatement, ValueTuple},
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};
use sea_orm_migration::MigratorTrait;

/// The SQLite URL of `service`'s file in `data_dir` (created if missing).
pub fn sqlite_url(data_dir: &Path, service: &str) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join(format!("{service}.db")).display()
    )
}

/// The URL a service uses: the configured one, or its SQLite file in embedded mode.
pub fn url_for(config: &crate::Config, service: &str) -> String {
    config
        .database_url
        .clone()
        .unwrap_or_else(|| sqlite_url(&config.data_dir, service))
}

/// Connects, tuned for the backend.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let sqlite = url.starts_with("sqlite:");
    if sqlite
        && let Some(path) = url
            .strip_prefix("sqlite://")
            .and_then(|p| p.split('?').next())
        && let Some(dir) = Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        // SQLite has one writer at a time: several pooled connections only make writers
        // wait in SQLite's busy handler, which sleeps in steps of milliseconds. One
        // connection queues them in the pool instead, at once and in order.
        .max_connections(if sqlite { 1 } else { 16 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        // The pool pings a connection each time it hands it out (and sqlx pings it again,
        // unconditionally, each time it comes back): a round trip to the connection's worker
        // thread (SQLite) or to the server (PostgreSQL) before every statement or
        // transaction. A SQLite connection is a file opened in this process, with nothing
        // to test; a PostgreSQL connection is tested only after it sat idle, when a server
        // restart or a proxy may have dropped it (one that broke while in use fails its
        // statement, and the ping on its return then discards it).
        .test_before_acquire(false);
    if !sqlite {
        options.test_before_acquire_if_idle_for(Duration::from_secs(5));
    }
    options
        // Every statement is logged (at debug, target `sqlx::query`) only when that is asked
        // for, as with `RUST_LOG=info,sqlx::query=debug`: which statements an operation runs.
        .sqlx_logging(tracing::enabled!(target: "sqlx::query", tracing::Level::DEBUG))
        .sqlx_logging_level(log::LevelFilter::Debug)
        // Per-connection settings: every pooled connection gets them.
        .map_sqlx_sqlite_opts(|o| {
            sqlite_settings(o)
                // Reads come from the memory map (up to 256 MiB of each file); the page
                // cache holds the pages that writes touch and those read from the WAL. It is
                // kept small (2 MiB): when a B-tree page splits, SQLite swaps pages under
                // a temporary page number past the first GiB, and the commit then walks
                // every cached page to drop those past the end of the file. With 64 MiB of
                // cache that walk was 4 % of the suite's CPU under load (docs/benchmarks.md).
                .pragma("cache_size", "-2048")
                .pragma("mmap_size", "268435456")
                // The checkpointer below copies the WAL back into the file; a writer does
                // it itself, inside its commit, only once the WAL holds this many pages
                // (about 32 MB), the checkpointer having fallen behind.
                .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
                // The connection's worker thread hands each row over a channel of this
                // many rows; when it is full, the worker waits for the reader to take one,
                // and each row after that is a wake of one thread by the other. sqlx's 50
                // made every larger result (a claim's `RETURNING`, a fan-out's watchers)
                // a thread hand-off a row.
                .row_buffer_size(ROW_BUFFER)
        });
    let db = Database::connect(options).await?;
    if sqlite && !url.contains(":memory:") {
        start_checkpointer(url, &db).await?;
    }
    Ok(db)
}

/// The settings every connection of a service's SQLite file has.
fn sqlite_settings(o: SqliteConnectOptions) -> SqliteConnectOptions {
    o.journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
}

/// How often the checkpointer copies a SQLite file's WAL back into the file while it is
/// written to. Each checkpoint syncs the WAL, and a writer appending to the page being
/// synced waits for it: the more a checkpoint has to sync, the longer that wait. Every
/// 250 ms, a service writing 1,000 events a second made its writer wait 10–25 ms a few
/// times a second (docs/benchmarks.md, thirteenth pass); every 50 ms, a few milliseconds.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// The checkpointer's interval doubles, up to this, while nothing is written.
const CHECKPOINT_IDLE: Duration = Duration::from_millis(400);

/// Rows a SQLite connection's worker hands over before it waits for the reader: more than
/// any batch the services read at once (a presence fan-out reads up to 2,000).
const ROW_BUFFER: usize = 4096;

/// WAL pages at which a writer checkpoints inside its own commit (SQLite's default: 1,000).
const WRITER_CHECKPOINT_PAGES: &str = "8000";

/// Checkpoints `db`'s file from a connection of its own until `db`'s pool is closed or
/// dropped. SQLite's default is for the writer to checkpoint inside the commit that takes
/// the WAL past 1,000 pages: copying the pages back and syncing the file while the
/// service's one connection waits, a pause every few hundred commits under load, and
/// longer pauses the larger the WAL is allowed to grow. A passive checkpoint from a second
/// connection takes no lock the writer and the readers wait for; it copies what they no
/// longer need, and the writer starts the WAL over once all of it was copied. Its syncs
/// still hold up a writer appending to the page being written out (the kernel's wait,
/// not SQLite's), so it runs often under load ([`CHECKPOINT_EVERY`]): each has little to
/// sync.
async fn start_checkpointer(url: &str, db: &DatabaseConnection) -> Result<(), DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(sqlite_settings);
    let checkpointer = Database::connect(options).await?;
    // Fires when the pool is closed, or dropped with the service's last handle on it.
    let closed = db.get_sqlite_connection_pool().close_event();
    tokio::spawn(async move {
        tokio::pin!(closed);
        let mut every = CHECKPOINT_EVERY;
        // The WAL's frames and those copied, as the last checkpoint found them: the same
        // again means nothing was written since.
        let mut last = None;
        // Said once when checkpoints start failing, and once when they work again.
        let mut failing = false;
        loop {
            tokio::select! {
                _ = &mut closed => break,
                _ = tokio::time::sleep(every) => {}
            }
            match checkpoint(&checkpointer).await {
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "SQLite checkpoints failing");
                        failing = true;
                    }
                    every = CHECKPOINT_IDLE;
                }
                Ok(frames) => {
                    if failing {
                        tracing::info!("SQLite checkpoints working again");
                        failing = false;
                    }
                    every = if last == Some(frames) {
                        (every * 2).min(CHECKPOINT_IDLE)
                    } else {
                        CHECKPOINT_EVERY
                    };
                    last = Some(frames);
                }
            }
        }
        checkpointer.close().await.ok();
    });
    Ok(())
}

/// A passive checkpoint: the frames in the WAL, and how many of them are copied back.
async fn checkpoint(db: &DatabaseConnection) -> Result<(i64, i64), DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("wal_checkpoint answered nothing".into()))?;
    Ok((row.try_get_by_index(1)?, row.try_get_by_index(2)?))
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first cannot wait for the lock
/// later and fails with "database is locked" whenever another connection wrote in between.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        db.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
    } else {
        db.begin().await
    }
}

/// Begins a read-only transaction whose statements all see one snapshot, for answers made of
/// several reads that must agree (a batch and the count of what is pending). PostgreSQL:
/// `REPEATABLE READ, READ ONLY`. SQLite: a deferred transaction, which reads one snapshot
/// once its first read began.
pub async fn begin_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        db.begin().await
    } else {
        db.begin_with_config(
            Some(sea_orm::IsolationLevel::RepeatableRead),
            Some(sea_orm::AccessMode::ReadOnly),
        )
        .await
    }
}

/// Runs `statements` as one write transaction, for a write that reads nothing in between:
/// the rows each statement returned (those with `RETURNING`), a list per statement. On
/// SQLite, one call to the connection's worker thread ([`Steps`]).
pub async fn write_together(
    db: &DatabaseConnection,
    statements: &[Statement],
) -> Result<Vec<Vec<QueryResult>>, DbErr> {
    begin_steps(db).await?.commit(statements).await
}

/// Begins a write transaction run in steps: each step's statements go to the database
/// together, and the caller reads what they returned before it makes the next step's.
///
/// On SQLite a step is one call to the connection's worker thread, `BEGIN IMMEDIATE` going
/// with the first step and `COMMIT` with the last. Statement by statement, each call is two
/// thread wake-ups (to the worker, and back to the task), during which the service's one
/// connection waits for nothing else: under load a wake-up waits for a core, and a
/// transaction of seven statements held the connection several times longer than SQLite
/// took to run them (docs/benchmarks.md, nineteenth pass). If a statement fails, SQLite has
/// run none after it; the transaction is rolled back on the same connection before it goes
/// back to the pool, and the error is the one sea-orm would give. Steps dropped before
/// their commit (an error of the caller's between steps) close the connection, which rolls
/// the transaction back; the pool opens another.
///
/// On PostgreSQL it is an ordinary transaction, a round trip a statement.
pub async fn begin_steps(db: &DatabaseConnection) -> Result<Steps, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(Steps::Transaction(Some(begin_write(db).await?)));
    }
    let conn = db
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?;
    Ok(Steps::Sqlite {
        conn: Some(conn),
        begun: false,
    })
}

/// A write transaction run in steps ([`begin_steps`]).
pub enum Steps {
    /// SQLite: the pooled connection (None once committed or rolled back) and whether
    /// `BEGIN IMMEDIATE` went out yet.
    Sqlite {
        conn: Option<sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Sqlite>>,
        begun: bool,
    },
    /// Any other database: sea-orm's transaction (None once committed).
    Transaction(Option<DatabaseTransaction>),
}

impl Steps {
    /// Runs `statements` in the transaction: the rows each returned, a list per statement.
    pub async fn step(&mut self, statements: &[Statement]) -> Result<Vec<Vec<QueryResult>>, DbErr> {
        self.run(statements, false).await
    }

    /// Runs `statements` and commits: the rows each returned, a list per statement.
    pub async fn commit(
        mut self,
        statements: &[Statement],
    ) -> Result<Vec<Vec<QueryResult>>, DbErr> {
        self.run(statements, true).await
    }

    /// Runs `statements`, then commits when `check` accepts what they returned; None when
    /// it refused them, and the transaction was rolled back instead.
    ///
    /// `check` is for what other writers may have changed since the transaction read it (a
    /// version that moved, say). On SQLite no other writer can have come in between: the
    /// transaction has held the database's one write lock since its first step. There the
    /// statements and `COMMIT` go in one call and `check` confirms after the commit; a
    /// refusal then means the caller read outside the transaction, and is an error.
    pub async fn commit_if(
        mut self,
        statements: &[Statement],
        check: impl FnOnce(&[Vec<QueryResult>]) -> bool,
    ) -> Result<Option<Vec<Vec<QueryResult>>>, DbErr> {
        if let Steps::Sqlite { .. } = self {
            let returned = self.run(statements, true).await?;
            return if check(&returned) {
                Ok(Some(returned))
            } else {
                Err(DbErr::Custom(
                    "a check of a SQLite write failed after its commit".into(),
                ))
            };
        }
        let returned = self.run(statements, false).await?;
        if !check(&returned) {
            // Dropped, the transaction rolls back.
            return Ok(None);
        }
        self.run(&[], true).await?;
        Ok(Some(returned))
    }

    /// Runs one read in the transaction: its rows as `M`.
    pub async fn read<M: FromQueryResult>(
        &mut self,
        statement: Statement,
    ) -> Result<Vec<M>, DbErr> {
        let rows = self.run(&[statement], false).await?;
        rows.iter()
            .flatten()
            .map(|row| M::from_query_result(row, ""))
            .collect()
    }

    async fn run(
        &mut self,
        statements: &[Statement],
        last: bool,
    ) -> Result<Vec<Vec<QueryResult>>, DbErr> {
        let finished = || DbErr::Custom("the transaction has ended".into());
        match self {
            Steps::Transaction(txn) => {
                let open = txn.as_ref().ok_or_else(finished)?;
                let mut returned = Vec::with_capacity(statements.len());
                for statement in statements {
                    match open.query_all_raw(statement.clone()).await {
                        Ok(rows) => returned.push(rows),
                        Err(e) => {
                            // Rolled back as it drops: a failed transaction has ended, as
                            // on SQLite.
                            txn.take();
                            return Err(e);
                        }
                    }
                }
                if last {
                    txn.take().ok_or_else(finished)?.commit().await?;
                }
                Ok(returned)
            }
            Steps::Sqlite { conn, begun } => {
                let held = conn.as_mut().ok_or_else(finished)?;
                let opening = !*begun;
                *begun = true;
                match sqlite_step(held, statements, opening, last).await {
                    Ok(returned) => {
                        if last {
                            conn.take();
                        }
                        Ok(returned)
                    }
                    Err(e) => {
                        if let Some(held) = conn.take() {
                            rollback(held).await;
                        }
                        Err(e)
                    }
                }
            }
        }
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        if let Steps::Sqlite {
            conn: Some(conn),
            begun: true,
        } = self
        {
            // Left in the middle: the transaction is open on it, and no other task may
            // write in it. Closed, the connection rolls it back.
            conn.close_on_drop();
        }
    }
}

/// One step on SQLite: `statements` (after `BEGIN IMMEDIATE` when `opening`, before
/// `COMMIT` when `last`) as one query, the rows of each statement apart.
async fn sqlite_step(
    conn: &mut sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Sqlite>,
    statements: &[Statement],
    opening: bool,
    last: bool,
) -> Result<Vec<Vec<QueryResult>>, DbErr> {
    use futures::TryStreamExt;
    use sea_orm::sqlx::{self, Either};
    let mut sql = String::new();
    if opening {
        sql.push_str("BEGIN IMMEDIATE;\n");
    }
    let mut values = Vec::new();
    for statement in statements {
        sql.push_str(&statement.sql);
        sql.push_str(";\n");
        if let Some(v) = &statement.values {
            values.extend(v.0.iter().cloned());
        }
    }
    if last {
        sql.push_str("COMMIT;");
    }
    // sqlx-sqlite runs every statement of a query, each taking the next arguments, and
    // ends each one's rows with its result (sqlx marks this SQLite-only way deprecated;
    // the tests below fail if it goes).
    #[allow(deprecated)]
    let mut results = sqlx::query_with(
        sqlx::AssertSqlSafe(sql),
        sea_query_sqlx::SqlxValues(sea_orm::sea_query::Values(values)),
    )
    .fetch_many(&mut **conn);
    // BEGIN's result comes first, without rows.
    let mut ends_to_skip = usize::from(opening);
    let mut returned = Vec::with_capacity(statements.len());
    let mut rows = Vec::new();
    while let Some(item) = results
        .try_next()
        .await
        .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))?
    {
        match item {
            Either::Right(row) => rows.push(QueryResult::from(row)),
            Either::Left(_) if ends_to_skip > 0 => ends_to_skip -= 1,
            Either::Left(_) => returned.push(std::mem::take(&mut rows)),
        }
    }
    // COMMIT's result came last.
    returned.truncate(statements.len());
    if returned.len() != statements.len() {
        return Err(DbErr::Custom(format!(
            "{} statements gave {} results",
            statements.len(),
            returned.len()
        )));
    }
    Ok(returned)
}

/// Rolls back the transaction open on `conn` (after a failed step) before the connection
/// goes back to the pool; one that cannot be rolled back is closed instead.
async fn rollback(mut conn: sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Sqlite>) {
    // The failed statement may have been BEGIN itself: then there is nothing to roll back.
    let rolled_back = sea_orm::sqlx::query("ROLLBACK").execute(&mut *conn).await;
    if rolled_back.is_err_and(|e| !e.to_string().contains("no transaction is active")) {
        conn.close_on_drop();
    }
}

/// Connects and applies `M`'s pending migrations.
pub async fn connect_and_migrate<M: MigratorTrait>(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = connect(url).await?;
    M::up(&db, None).await?;
    Ok(db)
}

/// The PostgreSQL server tests create their databases on: `PARLAY_TEST_PG` (a URL without a
/// database), else this machine's (`postgres://postgres@127.0.0.1:5432`).
pub fn test_postgres_server() -> String {
    match std::env::var("PARLAY_TEST_PG") {
        Ok(v) if !v.is_empty() => v.trim_end_matches('/').to_string(),
        _ => "postgres://postgres@127.0.0.1:5432".into(),
    }
}

/// Creates the database `name` on the PostgreSQL server `server` (a URL without a database,
/// `postgres://user@host:port`) and returns its URL. The tests and the benchmark harness
/// each work in a database of their own.
pub async fn create_postgres_database(server: &str, name: &str) -> Result<String, DbErr> {
    let admin = connect(&format!("{server}/postgres")).await?;
    let created = admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await;
    admin.close().await.ok();
    created?;
    Ok(format!("{server}/{name}"))
}

/// Drops the database `name` on `server` if it exists, with any connections still open to
/// it (a test that failed may have left some).
pub async fn drop_postgres_database(server: &str, name: &str) -> Result<(), DbErr> {
    let admin = connect(&format!("{server}/postgres")).await?;
    let dropped = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    admin.close().await.ok();
    dropped.map(|_| ())
}

/// Readiness: the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// How SQLite would run each of `statements` (`EXPLAIN QUERY PLAN`) on a scratch database
/// with `M`'s migrations: the details of each plan, one line each. For the tests that keep
/// a query on the index made for it.
pub async fn sqlite_plans<M: MigratorTrait>(
    statements: &[Statement],
) -> Result<Vec<String>, DbErr> {
    let file = std::env::temp_dir().join(format!("{}.db", crate::ids::new_id("plans-")));
    let db = connect_and_migrate::<M>(&format!("sqlite://{}?mode=rwc", file.display())).await?;
    let mut plans = Vec::with_capacity(statements.len());
    for statement in statements {
        let explain = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("EXPLAIN QUERY PLAN {}", statement.sql),
            statement.values.clone().map(|v| v.0).unwrap_or_default(),
        );
        let mut details = Vec::new();
        for row in db.query_all_raw(explain).await? {
            details.push(row.try_get::<String>("", "detail")?);
        }
        plans.push(details.join("\n"));
    }
    db.close().await?;
    let _ = std::fs::remove_file(&file);
    Ok(plans)
}

/// `column = value` with `value` written into the statement as a literal instead of bound:
/// the condition for a query that is to read a partial index made for that value
/// (`migration::index_where`), as a planner uses such an index only when it can tell the
/// query wants no other rows.
pub fn eq_literal<E: EntityTrait>(column: E::Column, value: impl Into<Value>) -> Expr {
    Expr::col((E::default(), column)).eq(Expr::Constant(value.into()))
}

/// An update of many rows in one statement, each with values of its own, that reads the
/// same on SQLite and PostgreSQL:
///
/// `UPDATE t SET set₁ = given.column2, … FROM (VALUES (k, …), …) AS given
///  WHERE t.key = given.column1 AND t.matching₁ = given.columnN …`
///
/// Each of `rows` holds the key, then a value for each of `set`, then one for each of
/// `matching` (a row changes only while those columns hold them: a version, a lease). Add
/// the values and conditions all rows share to the statement returned; no row may be
/// named twice.
pub fn update_each<E: EntityTrait>(
    key: E::Column,
    set: &[E::Column],
    matching: &[E::Column],
    rows: impl IntoIterator<Item = Vec<Value>>,
) -> UpdateStatement {
    let given = || Alias::new("given");
    // VALUES names its columns column1, column2, … on both backends.
    let field = |i: usize| Expr::col((given(), Alias::new(format!("column{}", i + 1))));
    let column = |c: E::Column| Expr::col((E::default(), c));
    let mut update = Query::update();
    update.table(E::default());
    for (i, c) in set.iter().enumerate() {
        update.value(*c, field(1 + i));
    }
    update.from(TableRef::ValuesList(
        rows.into_iter().map(ValueTuple::Many).collect(),
        given().into_iden(),
    ));
    update.and_where(column(key).eq(field(0)));
    for (i, c) in matching.iter().enumerate() {
        update.and_where(column(*c).eq(field(1 + set.len() + i)));
    }
    update
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn file_len(path: &Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// Polls `done` every 20 ms for at most 5 s.
    async fn eventually(mut done: impl FnMut() -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while tokio::time::Instant::now() < deadline {
            if done() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        done()
    }

    async fn file_db() -> (DatabaseConnection, PathBuf) {
        let dir = std::env::temp_dir().join(crate::ids::new_id("db-test-"));
        let db = connect(&sqlite_url(&dir, "kit")).await.unwrap();
        (db, dir.join("kit.db"))
    }

    /// Rows `ids` of about a page each, one commit a row.
    async fn write_pages(db: &DatabaseConnection, ids: std::ops::Range<u32>) {
        for i in ids {
            db.execute_unprepared(&format!(
                "INSERT INTO t (id, body) VALUES ({i}, zeroblob(4000))"
            ))
            .await
            .unwrap();
        }
    }

    #[tokio::test]
    async fn committed_pages_reach_the_file_without_a_writer_checkpoint() {
        let (db, file) = file_db().await;
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            .await
            .unwrap();
        // About 300 pages: far below the writer's own checkpoint (8,000 pages).
        write_pages(&db, 0..300).await;
        assert!(
            eventually(|| file_len(&file) > 300 * 4000).await,
            "the file holds {} bytes: the WAL was not copied back",
            file_len(&file)
        );
        // Idle long enough for the checkpointer to space its checkpoints out the most, then
        // written to again: copied back all the same.
        tokio::time::sleep(CHECKPOINT_IDLE * 3).await;
        write_pages(&db, 300..600).await;
        assert!(
            eventually(|| file_len(&file) > 600 * 4000).await,
            "the file holds {} bytes: the WAL written after a pause was not copied back",
            file_len(&file)
        );
    }

    #[tokio::test]
    async fn the_checkpointer_lets_go_of_the_file_when_the_pool_closes() {
        let (db, file) = file_db().await;
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        let wal = file.with_extension("db-wal");
        assert!(wal.exists());
        db.close().await.unwrap();
        // SQLite removes the WAL when the file's last connection closes. Two connections
        // closing at once can each leave it to the other (each finds the other still open),
        // so each look opens and closes a connection of its own: it removes the WAL once
        // nothing else holds the file.
        let url = format!("sqlite://{}", file.display());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let probe = Database::connect(&url).await.unwrap();
            probe.close().await.unwrap();
            if !wal.exists() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the WAL is still there: a connection stayed open"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs `check` against a fresh PostgreSQL database, dropped after.
    async fn on_postgres<F: AsyncFnOnce(&DatabaseConnection)>(check: F) {
        let server = test_postgres_server();
        let name = crate::ids::new_id("parlay_t_db_").to_lowercase();
        let url = create_postgres_database(&server, &name).await.unwrap();
        let db = connect(&url).await.unwrap();
        check(&db).await;
        db.close().await.unwrap();
        drop_postgres_database(&server, &name).await.unwrap();
    }

    fn stmt(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(db.get_database_backend(), sql, values)
    }

    /// The values of ids in `t`, in id order.
    async fn stored(db: &DatabaseConnection) -> Vec<(i64, String)> {
        db.query_all_raw(stmt(db, "SELECT id, v FROM t ORDER BY id", vec![]))
            .await
            .unwrap()
            .iter()
            .map(|r| (r.try_get("", "id").unwrap(), r.try_get("", "v").unwrap()))
            .collect()
    }

    /// Two inserts written together: each statement gets its own values, in order, and the
    /// rows of the one with `RETURNING` come back.
    async fn writes_statements_together(db: &DatabaseConnection) {
        let p = |n: usize| match db.get_database_backend() {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".into(),
        };
        db.execute_unprepared("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT NOT NULL)")
            .await
            .unwrap();
        let first = stmt(
            db,
            &format!("INSERT INTO t (id, v) VALUES ({}, {})", p(1), p(2)),
            vec![1i64.into(), "one".into()],
        );
        let second = stmt(
            db,
            &format!(
                "INSERT INTO t (id, v) VALUES ({}, {}), ({}, {}) RETURNING id",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            vec![2i64.into(), "two".into(), 3i64.into(), "three".into()],
        );
        let returned = write_together(db, &[first, second.clone()]).await.unwrap();
        assert_eq!(returned.len(), 2, "a list of rows per statement");
        assert!(returned[0].is_empty());
        let mut ids: Vec<i64> = returned[1]
            .iter()
            .map(|r| r.try_get("", "id").unwrap())
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, [2, 3]);
        assert_eq!(
            stored(db).await,
            [(1, "one".into()), (2, "two".into()), (3, "three".into())]
        );

        // A statement that fails (id 2 again) leaves nothing of the transaction, not even
        // the statement before it, and gives the error sea-orm gives.
        let fourth = stmt(
            db,
            &format!("INSERT INTO t (id, v) VALUES ({}, {})", p(1), p(2)),
            vec![4i64.into(), "four".into()],
        );
        let e = write_together(db, &[fourth.clone(), second])
            .await
            .unwrap_err();
        assert!(
            matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ),
            "{e}"
        );
        assert_eq!(stored(db).await.len(), 3);
        // The connection went back to the pool outside any transaction: the next write
        // commits, and so does an ordinary transaction after it.
        write_together(db, &[fourth]).await.unwrap();
        let txn = begin_write(db).await.unwrap();
        txn.execute_unprepared("DELETE FROM t WHERE id = 1")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(
            stored(db).await,
            [(2, "two".into()), (3, "three".into()), (4, "four".into())]
        );
    }

    /// A transaction in steps: each step sees what the steps before it wrote; steps left
    /// without their commit change nothing, and the next transaction is not inside theirs.
    async fn writes_in_steps(db: &DatabaseConnection) {
        let p = |n: usize| match db.get_database_backend() {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".into(),
        };
        let insert = |id: i64, v: &str| {
            stmt(
                db,
                &format!("INSERT INTO t (id, v) VALUES ({}, {})", p(1), p(2)),
                vec![id.into(), v.into()],
            )
        };
        let count = stmt(db, "SELECT COUNT(*) AS n FROM t", vec![]);
        db.execute_unprepared("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT NOT NULL)")
            .await
            .unwrap();
        let mut steps = begin_steps(db).await.unwrap();
        let first = steps
            .step(&[insert(1, "one"), count.clone()])
            .await
            .unwrap();
        assert_eq!(first[1][0].try_get::<i64>("", "n").unwrap(), 1);
        let last = steps
            .commit(&[insert(2, "two"), count.clone()])
            .await
            .unwrap();
        assert_eq!(last[1][0].try_get::<i64>("", "n").unwrap(), 2);

        let mut abandoned = begin_steps(db).await.unwrap();
        abandoned.step(&[insert(3, "three")]).await.unwrap();
        drop(abandoned);
        let mut failed = begin_steps(db).await.unwrap();
        failed.step(&[insert(4, "four")]).await.unwrap();
        assert!(failed.step(&[insert(1, "again")]).await.is_err());
        assert!(
            failed.commit(&[]).await.is_err(),
            "a failed transaction cannot commit"
        );
        write_together(db, &[insert(5, "five")]).await.unwrap();
        assert_eq!(
            stored(db).await,
            [(1, "one".into()), (2, "two".into()), (5, "five".into())]
        );
    }

    #[tokio::test]
    async fn a_write_runs_in_steps_on_sqlite() {
        let (db, _) = file_db().await;
        writes_in_steps(&db).await;
    }

    #[tokio::test]
    async fn a_write_runs_in_steps_on_postgres() {
        on_postgres(async |db: &DatabaseConnection| writes_in_steps(db).await).await;
    }

    #[derive(Debug, PartialEq, FromQueryResult)]
    struct Row {
        id: i64,
        v: String,
    }

    /// Reads in steps, and a commit that waits for a check of what the last statements
    /// returned: on PostgreSQL a refusal rolls back; on SQLite, where nothing can come
    /// between the transaction's reads and its writes, the check confirms after the commit
    /// and a refusal is an error.
    async fn commits_if_checked(db: &DatabaseConnection) {
        let sqlite = db.get_database_backend() == DbBackend::Sqlite;
        let p = |n: usize| if sqlite { "?".into() } else { format!("${n}") };
        let insert = |id: i64, v: &str| {
            stmt(
                db,
                &format!("INSERT INTO t (id, v) VALUES ({}, {})", p(1), p(2)),
                vec![id.into(), v.into()],
            )
        };
        db.execute_unprepared("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT NOT NULL)")
            .await
            .unwrap();
        write_together(db, &[insert(1, "one")]).await.unwrap();

        let mut steps = begin_steps(db).await.unwrap();
        let read: Vec<Row> = steps
            .read(stmt(db, "SELECT id, v FROM t ORDER BY id", vec![]))
            .await
            .unwrap();
        assert_eq!(
            read,
            [Row {
                id: 1,
                v: "one".into()
            }]
        );
        let rename = stmt(
            db,
            "UPDATE t SET v = 'uno' WHERE id = 1 RETURNING id",
            vec![],
        );
        let done = steps
            .commit_if(&[insert(2, "two"), rename], |returned| {
                returned[1].len() == 1
            })
            .await
            .unwrap();
        assert_eq!(done.map(|r| r.len()), Some(2));
        assert_eq!(stored(db).await, [(1, "uno".into()), (2, "two".into())]);

        let steps = begin_steps(db).await.unwrap();
        let refused = steps.commit_if(&[insert(3, "three")], |_| false).await;
        if sqlite {
            assert!(refused.is_err(), "{refused:?}");
            assert_eq!(stored(db).await.len(), 3, "committed before the check");
        } else {
            assert!(refused.unwrap().is_none());
            assert_eq!(stored(db).await.len(), 2, "rolled back");
        }
        // The next transaction is not inside the last one.
        write_together(db, &[insert(5, "five")]).await.unwrap();
        assert_eq!(stored(db).await.last(), Some(&(5, "five".into())));
    }

    #[tokio::test]
    async fn a_commit_waits_for_its_check_on_sqlite() {
        let (db, _) = file_db().await;
        commits_if_checked(&db).await;
    }

    #[tokio::test]
    async fn a_commit_waits_for_its_check_on_postgres() {
        on_postgres(async |db: &DatabaseConnection| commits_if_checked(db).await).await;
    }

    #[tokio::test]
    async fn statements_are_written_together_on_sqlite() {
        let (db, _) = file_db().await;
        writes_statements_together(&db).await;
    }

    #[tokio::test]
    async fn statements_are_written_together_on_postgres() {
        on_postgres(async |db: &DatabaseConnection| writes_statements_together(db).await).await;
    }
}
