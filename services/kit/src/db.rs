//! Database connections. Embedded mode: one SQLite file per service in the data directory
//! (WAL, so readers never wait on the writer). Distributed mode: the URL from config
//! (PostgreSQL), a database or schema per service.

use std::{path::Path, time::Duration};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait, Value,
    sea_query::{Alias, Expr, ExprTrait, IntoIden, Query, TableRef, UpdateStatement, ValueTuple},
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
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
        // Every statement is logged (at debug, target `sqlx::query`) only when that is asked
        // for, as with `RUST_LOG=info,sqlx::query=debug`: which statements an operation runs.
        .sqlx_logging(tracing::enabled!(target: "sqlx::query", tracing::Level::DEBUG))
        .sqlx_logging_level(log::LevelFilter::Debug)
        // Per-connection settings: every pooled connection gets them.
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                // Reads come from the memory map (up to 256 MiB of each file); the page
                // cache holds the pages that writes touch and those read from the WAL. It is
                // kept small (2 MiB): when a B-tree page splits, SQLite swaps pages under
                // a temporary page number past the first GiB, and the commit then walks
                // every cached page to drop those past the end of the file. With 64 MiB of
                // cache that walk was 4 % of the suite's CPU under load (docs/benchmarks.md).
                .pragma("cache_size", "-2048")
                .pragma("mmap_size", "268435456")
        });
    let db = Database::connect(options).await?;
    Ok(db)
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
