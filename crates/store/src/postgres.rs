//! The PostgreSQL backend, for multi-site production.
//!
//! Appends are serialised on the one-row `chain_head` table: each group of appends (see
//! [`crate::committer`]) locks it with `SELECT … FOR UPDATE` before it reads any stream's
//! version, so the chain has one order and a concurrent writer to the same stream (another
//! process's) sees the committed version and gets a conflict.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// The sqlx database type of this backend.
pub(crate) type Db = sqlx::Postgres;

/// Reads the chain head and locks it until the transaction ends.
const LOCK_HEAD_SQL: &str = "SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE";

/// Starts a transaction; the chain-head lock is taken by its first statement.
async fn begin_append(
    pool: &sqlx::Pool<Db>,
) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    pool.begin().await
}

/// Starts a read-only transaction whose statements all read one snapshot.
async fn begin_read(pool: &sqlx::Pool<Db>) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await
}

/// `ILIKE` ignores case; under the bytewise ("C") collation of the keys, ASCII case only,
/// as SQLite's `LIKE` does.
const CASE_INSENSITIVE_LIKE: &str = "ILIKE";

/// Concurrent workers each take a different job: rows another is taking are skipped.
const TAKE_JOB_LOCK: &str = " FOR UPDATE SKIP LOCKED";

/// Multi-row statements number their placeholders (`$1, $2, …`).
const PLACEHOLDERS: Placeholders = Placeholders::Numbered;

crate::queries::shared_queries!();

/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 10;

/// Connects to the database at `url` (`postgres://…`) and applies the migrations.
pub(crate) async fn open(url: &str) -> Result<Pool<Db>, StoreError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Open(format!("bad PostgreSQL URL: {e}")))?;
    let pool = PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Open(format!("cannot connect to PostgreSQL: {e}")))?;
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    Ok(pool)
}

/// Runs `sql` in one transaction with the append-only triggers of `events` disabled, and
/// enables them again before committing. For tests that tamper with the log; needs the
/// right to alter the table.
#[cfg(feature = "test-support")]
pub(crate) async fn execute_unguarded(pool: &Pool<Db>, sql: &str) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::raw_sql("ALTER TABLE events DISABLE TRIGGER USER")
        .execute(&mut *tx)
        .await?;
    let done = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql("ALTER TABLE events ENABLE TRIGGER USER")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}
