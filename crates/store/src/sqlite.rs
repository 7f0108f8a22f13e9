//! The SQLite backend: one file, WAL journal, `synchronous=FULL`, foreign keys on.
//!
//! Writers are serialised by SQLite itself: a group of appends (see [`crate::committer`])
//! starts with `BEGIN IMMEDIATE`, which takes the database's write lock before the chain
//! head is read, so no two groups can read the same head. Writers of other processes wait
//! up to the busy timeout (5 s).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// The sqlx database type of this backend.
pub(crate) type Db = sqlx::Sqlite;

/// Reads the chain head; the write lock is already held (see [`begin_append`]).
const LOCK_HEAD_SQL: &str = "SELECT seq, hash FROM chain_head WHERE id = 1";

/// Starts a write transaction holding SQLite's write lock from its first statement.
async fn begin_append(
    pool: &sqlx::Pool<Db>,
) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Starts a read transaction: in WAL mode its statements all read the snapshot taken by
/// its first one, while the writer carries on.
async fn begin_read(pool: &sqlx::Pool<Db>) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    pool.begin().await
}

/// SQLite's `LIKE` ignores ASCII case (the `case_sensitive_like` pragma stays off).
const CASE_INSENSITIVE_LIKE: &str = "LIKE";

/// Multi-row statements use anonymous placeholders (see [`crate::queries::write::Placeholders`]).
const PLACEHOLDERS: Placeholders = Placeholders::Anonymous;

/// SQLite has one writer: the statement that takes a job needs no row lock.
const TAKE_JOB_LOCK: &str = "";

crate::queries::shared_queries!();

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page cache of each connection, in KiB (SQLite's default is 2 MiB). The list indexes of
/// a 10 000-participant study take ~20 MB; in a 2 MiB cache every list request reads them
/// from the operating system again, page by page. Only pages read fill it.
const CACHE_KIB: u32 = 64 * 1024;

/// Connections in the pool: WAL lets readers run beside the one writer.
const MAX_CONNECTIONS: u32 = 8;

/// Opens (creating if missing) the database at `url` — `sqlite:///abs/path.db`,
/// `sqlite:relative.db`, or a plain file path — and applies the migrations.
///
/// `sqlite::memory:` gives a private in-memory database for tests: it lives on one
/// connection that the pool never closes, and is gone when the store is closed.
pub(crate) async fn open(url: &str) -> Result<Pool<Db>, StoreError> {
    let in_memory = url.starts_with("sqlite:") && url.contains(":memory:");
    let options = if url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(format!("bad SQLite URL {url:?}: {e}")))?
    } else {
        SqliteConnectOptions::new().filename(Path::new(url))
    };
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // A negative cache size is in KiB, a positive one in pages.
        .pragma("cache_size", format!("-{CACHE_KIB}"));
    let pool_options = if in_memory {
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // A connection to a file in this process cannot go stale, so it is not pinged
            // each time it is taken from the pool: the ping is a round trip to the
            // connection's worker thread, as long as a small query's own.
            .test_before_acquire(false)
    };
    let pool = pool_options
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Open(format!("cannot open SQLite database {url:?}: {e}")))?;
    sqlx::migrate!("migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

/// Runs `sql` in one write transaction with the append-only triggers of `events` dropped,
/// then re-creates them from their stored definitions before committing. For tests that
/// tamper with the log.
#[cfg(feature = "test-support")]
pub(crate) async fn execute_unguarded(pool: &Pool<Db>, sql: &str) -> Result<u64, StoreError> {
    let mut tx = begin_append(pool).await?;
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (name, _) in &triggers {
        sqlx::raw_sql(AssertSqlSafe(format!("DROP TRIGGER \"{name}\"")))
            .execute(&mut *tx)
            .await?;
    }
    let done = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await?;
    for (_, definition) in triggers {
        sqlx::raw_sql(AssertSqlSafe(definition))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// Writes a consistent copy of the whole database to the new file `dest` with
/// `VACUUM INTO`: it reads one snapshot (WAL lets the writer carry on meanwhile), so the
/// copy holds exactly the transactions committed before it started, and it is a plain
/// database file with no WAL beside it.
pub(crate) async fn vacuum_into(pool: &Pool<Db>, dest: &str) -> Result<(), StoreError> {
    sqlx::query("VACUUM INTO $1")
        .bind(dest)
        .execute(pool)
        .await?;
    Ok(())
}
