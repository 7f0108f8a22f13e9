//! [`Store`]: the handle the rest of her2ex holds, on either backend.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::lists::{self, ParticipantListRow, ParticipantQuery, VisitQuery};
use crate::model::{
    Appended, Backend, ChainReport, CredentialRow, EventMeta, NewEvent, ParticipantRow, Projection,
    RecordedEvent, SessionRow, SiteRow, StreamAppend, UserRow, VisitRow, VisitSchedule,
};
use crate::verify::ChainWalker;
use crate::visits;
use crate::{postgres, sqlite};

/// File name of the SQLite database inside a data directory.
pub const SQLITE_FILE_NAME: &str = "her2ex.sqlite";

/// How many events `verify_chain` reads per query.
const VERIFY_BATCH: i64 = 1000;

/// The event log and read tables of one study. Cheap to clone: clones share one
/// connection pool.
#[derive(Clone)]
pub struct Store {
    pool: Arc<Pool>,
    /// Queues this process's appends in arrival order. SQLite admits one writer at a time
    /// and makes the others retry with growing sleeps (its busy handler), which under
    /// load turns a millisecond's wait into hundreds; waiting here, in turn, keeps the
    /// tail latency near the queue length times one commit. Other processes still meet
    /// SQLite's own lock.
    writer: Arc<tokio::sync::Mutex<()>>,
}

enum Pool {
    Sqlite(sqlx::Pool<sqlite::Db>),
    Postgres(sqlx::Pool<postgres::Db>),
}

/// Calls the backend module's function of the same name with the store's pool.
macro_rules! dispatch {
    ($self:ident . $f:ident ( $($arg:expr),* )) => {
        match &*$self.pool {
            Pool::Sqlite(p) => sqlite::$f(p $(, $arg)*).await,
            Pool::Postgres(p) => postgres::$f(p $(, $arg)*).await,
        }
    };
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish()
    }
}

impl Store {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// `postgres://…` (or `postgresql://…`) opens PostgreSQL. Anything else is SQLite:
    /// `sqlite:///abs/path.db`, `sqlite:relative.db`, or a plain file path; the file is
    /// created if missing and runs with WAL, `synchronous=FULL`, foreign keys and a 5 s
    /// busy timeout.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let pool = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Pool::Postgres(postgres::open(url).await?)
        } else {
            Pool::Sqlite(sqlite::open(url).await?)
        };
        tracing::debug!(backend = ?backend_of(&pool), "store opened");
        Ok(Store {
            pool: Arc::new(pool),
            writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Opens (creating both if needed) the SQLite database `her2ex.sqlite` in `dir`.
    pub async fn open_data_dir(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Open(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let file = dir.join(SQLITE_FILE_NAME);
        let url = file.to_str().ok_or_else(|| {
            StoreError::Open(format!(
                "data directory path {} is not UTF-8",
                dir.display()
            ))
        })?;
        Store::open(url).await
    }

    /// Which database engine this store runs on.
    pub fn backend(&self) -> Backend {
        backend_of(&self.pool)
    }

    /// Closes the connection pool; later calls on any clone fail.
    pub async fn close(&self) {
        match &*self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// Appends `events` to `stream` and applies `projections`, all in one transaction.
    ///
    /// The stream must be at `expected_version` (0: the stream must not exist yet), or
    /// nothing is written and [`StoreError::Conflict`] says which version it is at. The
    /// events get versions `expected_version + 1 …`, the next global sequence numbers and
    /// their hash links; all share `meta` (its `recorded_at` truncated to microseconds).
    pub async fn append(
        &self,
        stream: &str,
        expected_version: i64,
        events: &[NewEvent],
        meta: &EventMeta,
        projections: &[Projection],
    ) -> Result<Appended, StoreError> {
        check_append(stream, expected_version, events, projections)?;
        let _turn = self.writer_turn().await;
        let appended = dispatch!(self.append(stream, expected_version, events, meta, projections))?;
        tracing::debug!(
            stream,
            version = appended.stream_version,
            last_seq = appended.last_seq,
            "events appended"
        );
        Ok(appended)
    }

    /// Appends every part of `batch`, in order, in ONE transaction: for bulk loads and
    /// imports, where a transaction per command would cost a disk flush each.
    ///
    /// Each part is checked and written as [`Store::append`] would (a stream may appear
    /// more than once; each part sees the parts before it) and continues the same hash
    /// chain. If any part is refused (a [`StoreError::Conflict`], an invalid part, a failed
    /// projection) nothing of the batch is written. Returns what each part wrote, in
    /// order. An empty batch writes nothing.
    pub async fn append_batch(&self, batch: &[StreamAppend]) -> Result<Vec<Appended>, StoreError> {
        for part in batch {
            check_append(
                &part.stream,
                part.expected_version,
                &part.events,
                &part.projections,
            )?;
        }
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let _turn = self.writer_turn().await;
        let appended = dispatch!(self.append_batch(batch))?;
        tracing::debug!(
            parts = batch.len(),
            last_seq = appended.last().map(|a| a.last_seq),
            "batch appended"
        );
        Ok(appended)
    }

    /// Replaces the visit rows of each participant in `schedules`, in one transaction,
    /// without events: for rebuilding the visits table when the settings that place the
    /// visit windows change (the events did not change, only what is derived from them).
    ///
    /// Visit rows are derived data: they change with the participant's events through
    /// [`Projection::Visits`], and here when the derivation itself changes; either way
    /// the audit trail already holds everything they are derived from. Each schedule
    /// names the participant row version its rows were computed from: if any participant
    /// has moved on since (an append landed meanwhile), nothing is written and
    /// [`StoreError::Conflict`] names it, so rows derived from an old state never
    /// overwrite newer ones; compute again and retry. Participants not named keep their
    /// rows; a schedule with no rows clears a participant's.
    pub async fn rebuild_visits(&self, schedules: &[VisitSchedule]) -> Result<(), StoreError> {
        for schedule in schedules {
            visits::check_rows(&schedule.study_id, &schedule.rows)?;
        }
        if schedules.is_empty() {
            return Ok(());
        }
        let _turn = self.writer_turn().await;
        dispatch!(self.rebuild_visits(schedules))?;
        tracing::debug!(participants = schedules.len(), "visits rebuilt");
        Ok(())
    }

    /// This process's turn to write, on SQLite (see the `writer` field); PostgreSQL
    /// serialises on the chain head row instead.
    async fn writer_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &*self.pool {
            Pool::Sqlite(_) => Some(self.writer.lock().await),
            Pool::Postgres(_) => None,
        }
    }

    /// A stream's events in version order (empty if the stream does not exist).
    pub async fn read_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        dispatch!(self.read_stream(stream))
    }

    /// Up to `limit` events of the whole log with `seq > after_seq`, in seq order.
    /// A negative `limit` is refused.
    pub async fn read_all(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if limit < 0 {
            return Err(StoreError::InvalidInput(format!(
                "read_all limit {limit} is negative"
            )));
        }
        let raw = dispatch!(self.read_raw(after_seq, limit))?;
        raw.into_iter().map(|e| e.decode()).collect()
    }

    /// A stream's current version: its number of events (0 if it does not exist).
    pub async fn stream_version(&self, stream: &str) -> Result<i64, StoreError> {
        dispatch!(self.stream_version(stream))
    }

    /// Re-reads the whole log in seq order and re-computes every hash and link.
    ///
    /// A broken chain is a report, not an error: [`ChainReport::first_bad`] names the
    /// first event that does not match (see [`crate::verify`] for the checks). Errors
    /// mean the database could not be read.
    pub async fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        let mut walker = ChainWalker::new();
        loop {
            let batch = dispatch!(self.read_raw(walker.last_seq(), VERIFY_BATCH))?;
            for event in &batch {
                walker.check(event);
            }
            if batch.len() < VERIFY_BATCH as usize {
                break;
            }
        }
        let (head_seq, head_hash) = dispatch!(self.chain_head())?;
        let report = walker.finish(head_seq, &head_hash);
        if let Some(bad) = &report.first_bad {
            tracing::warn!(
                seq = bad.seq,
                stream = %bad.stream,
                reason = %bad.reason,
                "hash chain broken"
            );
        }
        Ok(report)
    }

    /// One participant's read row.
    pub async fn participant(&self, study_id: &str) -> Result<Option<ParticipantRow>, StoreError> {
        dispatch!(self.participant(study_id))
    }

    /// Participant read rows of one site (or of all sites), ordered by study id.
    pub async fn participants(
        &self,
        site: Option<&str>,
    ) -> Result<Vec<ParticipantRow>, StoreError> {
        dispatch!(self.participants(site))
    }

    /// A page of the participant list, without snapshots, ordered by study id, and how
    /// many participants match the query's filters (the page and the count are read from
    /// one snapshot). A limit above [`lists::MAX_PAGE_SIZE`] is refused.
    pub async fn participants_page(
        &self,
        query: &ParticipantQuery,
    ) -> Result<(Vec<ParticipantListRow>, u64), StoreError> {
        lists::check_limit(query.limit)?;
        dispatch!(self.participants_page(query))
    }

    /// A page of the visits open on `query.today`: overdue ones first, then due, then
    /// upcoming (see [`crate::VisitStatus`]), each part by last day of the window, study
    /// id and kind; optional visits whose window has closed are left out. Also returns
    /// how many open visits match the filters (read from the same snapshot). A limit
    /// above [`lists::MAX_PAGE_SIZE`] is refused.
    pub async fn open_visits(
        &self,
        query: &VisitQuery,
    ) -> Result<(Vec<VisitRow>, u64), StoreError> {
        lists::check_limit(query.limit)?;
        dispatch!(self.open_visits(query))
    }

    /// How many participants a site has.
    pub async fn count_participants(&self, site: &str) -> Result<i64, StoreError> {
        dispatch!(self.count_participants(site))
    }

    /// One site's read row.
    pub async fn site(&self, code: &str) -> Result<Option<SiteRow>, StoreError> {
        dispatch!(self.site(code))
    }

    /// All sites, ordered by code.
    pub async fn sites(&self) -> Result<Vec<SiteRow>, StoreError> {
        dispatch!(self.sites())
    }

    /// One user's read row.
    pub async fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        dispatch!(self.user(username))
    }

    /// All users, ordered by username.
    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        dispatch!(self.users())
    }

    /// Stores a login session. The user must exist; a repeated token hash is an error.
    pub async fn create_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        dispatch!(self.create_session(s))
    }

    /// A login session by its token hash, whether expired or not.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        dispatch!(self.session(token_hash))
    }

    /// Ends a login session; ending one that does not exist is not an error.
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        dispatch!(self.delete_session(token_hash))
    }

    /// Deletes the sessions that expired at or before `now`; returns how many.
    pub async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        dispatch!(self.purge_expired_sessions(now))
    }

    /// Appends `events` at the end of `stream`, whatever its version, without
    /// projections: for audit-only streams (failed sign-ins and signatures) where many
    /// writers record at once and the order within the stream decides nothing. The events
    /// join the hash chain like any other.
    pub async fn append_at_end(
        &self,
        stream: &str,
        events: &[NewEvent],
        meta: &EventMeta,
    ) -> Result<Appended, StoreError> {
        check_append(stream, 0, events, &[])?;
        let _turn = self.writer_turn().await;
        dispatch!(self.append_at_end(stream, events, meta))
    }

    /// One user's credentials (the password hash and its state). They are set only
    /// through [`Projection::Credential`] in an append, so every new password is recorded.
    pub async fn credential(&self, username: &str) -> Result<Option<CredentialRow>, StoreError> {
        dispatch!(self.credential(username))
    }

    /// Counts one more failed password check of a user; returns the new count, or `None`
    /// if the user has no credentials.
    pub async fn record_failure(&self, username: &str) -> Result<Option<i64>, StoreError> {
        dispatch!(self.record_failure(username))
    }

    /// Sets a user's count of failed password checks back to zero.
    pub async fn clear_failures(&self, username: &str) -> Result<(), StoreError> {
        dispatch!(self.clear_failures(username))
    }

    /// Records that a session was used at `at` (it ends after a stretch without use).
    pub async fn touch_session(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self.touch_session(token_hash, at))
    }

    /// Ends every session of a user (deactivated, or given a new password); returns how
    /// many.
    pub async fn delete_sessions_of(&self, username: &str) -> Result<u64, StoreError> {
        dispatch!(self.delete_sessions_of(username))
    }

    /// Deletes the sessions that expired at or before `now` or were last used at or
    /// before `idle_since`; returns how many.
    pub async fn purge_sessions(
        &self,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        dispatch!(self.purge_sessions(now, idle_since))
    }

    /// Runs raw SQL outside the audited write path; returns the rows affected.
    ///
    /// For tests that must change or delete events behind the store's back to prove that
    /// [`Store::verify_chain`] notices. The SQL runs in one transaction with the
    /// append-only triggers on `events` suspended (SQLite: dropped and re-created from
    /// their stored definitions; PostgreSQL: disabled and enabled again), so they guard
    /// the table again afterwards. Never use it for data.
    ///
    /// Exists only with the `test-support` feature, which no production build turns on.
    #[cfg(feature = "test-support")]
    pub async fn execute_raw_for_tests(&self, sql: &str) -> Result<u64, StoreError> {
        dispatch!(self.execute_unguarded(sql))
    }
}

/// Refuses an append the store would not write: no events (every change must be
/// recorded), a negative version, visit rows that are not one participant's schedule.
fn check_append(
    stream: &str,
    expected_version: i64,
    events: &[NewEvent],
    projections: &[Projection],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Err(StoreError::InvalidInput(format!(
            "an append to stream {stream:?} has no events: every change must be recorded \
             as an event"
        )));
    }
    if expected_version < 0 {
        return Err(StoreError::InvalidInput(format!(
            "expected version {expected_version} for stream {stream:?} is negative"
        )));
    }
    for projection in projections {
        if let Projection::Visits { study_id, rows } = projection {
            visits::check_rows(study_id, rows)?;
        }
    }
    Ok(())
}

fn backend_of(pool: &Pool) -> Backend {
    match pool {
        Pool::Sqlite(_) => Backend::Sqlite,
        Pool::Postgres(_) => Backend::Postgres,
    }
}
