//! [`Store`]: the handle the rest of her2ex holds, on either backend.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::catalog::{CatalogInstance, CatalogSeries, SeriesQuery};
use crate::checkpoint::{self, Checkpoint, CheckpointKey, CheckpointReport, PublicKey};
use crate::committer::{CommitStats, Committer};
use crate::error::StoreError;
use crate::jobs::{ImagingJob, JobState, NewImagingJob};
use crate::lists::{self, ParticipantListRow, ParticipantQuery, VisitQuery};
use crate::model::{
    Appended, Backend, ChainReport, CredentialRow, EventMeta, NewEvent, ParticipantRow, Projection,
    RecordedEvent, SessionAccount, SessionRow, SiteRow, StreamAppend, UserRow, VisitRow,
    VisitSchedule,
};
use crate::request::{Expected, Part};
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
    /// Writes this process's log changes in arrival order, many to a transaction (see
    /// [`crate::committer`]). It also keeps this process's writers from meeting in
    /// SQLite's busy handler, whose growing sleeps turn a millisecond's wait into
    /// hundreds under load. Other processes still meet the database's own lock.
    committer: Arc<Committer>,
    /// The key that signs a checkpoint every `every` events, when the process holds it.
    anchor: Option<Arc<Anchor>>,
}

/// The checkpoint key and how often it signs (see [`Store::with_checkpoints`]).
struct Anchor {
    key: CheckpointKey,
    every: i64,
}

/// The connection pool of either backend.
pub(crate) enum Pool {
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
        let pool = Arc::new(pool);
        Ok(Store {
            committer: Arc::new(Committer::new(Arc::clone(&pool))),
            pool,
            anchor: None,
        })
    }

    /// This store, signing a checkpoint with `key` whenever an append takes the log past
    /// a multiple of `every` events (at least 1). A checkpoint that cannot be signed is
    /// logged, never an append's failure: the events are committed either way.
    pub fn with_checkpoints(mut self, key: CheckpointKey, every: u64) -> Store {
        let every = i64::try_from(every.max(1)).unwrap_or(i64::MAX);
        self.anchor = Some(Arc::new(Anchor { key, every }));
        self
    }

    /// The checkpoint key this store signs with, if it holds one.
    pub fn checkpoint_key(&self) -> Option<&CheckpointKey> {
        self.anchor.as_deref().map(|a| &a.key)
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

    /// Closes the store: the writes already handed in are committed and answered, then
    /// the connection pool is closed; later calls on any clone fail.
    pub async fn close(&self) {
        self.committer.close().await;
        match &*self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// How this process's log writes were grouped into transactions since the store was
    /// opened: under concurrent writes, fewer transactions (and disk flushes) than writes.
    pub fn commit_stats(&self) -> CommitStats {
        self.committer.stats()
    }

    /// Keeps the committer from starting another transaction until the returned hold is
    /// dropped: writes made meanwhile queue up and then commit together, in the order they
    /// were made (up to 64 to a transaction). For tests that need a known group.
    ///
    /// Exists only with the `test-support` feature, which no production build turns on.
    #[cfg(feature = "test-support")]
    pub async fn hold_commits_for_tests(&self) -> crate::committer::CommitHold {
        self.committer.hold().await
    }

    /// Appends `events` to `stream` and applies `projections`, all in one transaction.
    ///
    /// The stream must be at `expected_version` (0: the stream must not exist yet), or
    /// nothing is written and [`StoreError::Conflict`] says which version it is at. The
    /// events get versions `expected_version + 1 …`, the next global sequence numbers and
    /// their hash links; all share `meta` (its `recorded_at` truncated to microseconds).
    ///
    /// Appends made at the same time share their transaction (group commit; see the crate
    /// docs), each all or nothing on its own; this returns once the transaction holding
    /// the append has committed.
    pub async fn append(
        &self,
        stream: &str,
        expected_version: i64,
        events: &[NewEvent],
        meta: &EventMeta,
        projections: &[Projection],
    ) -> Result<Appended, StoreError> {
        self.append_unless_moved(stream, expected_version, events, meta, projections, &[])
            .await
    }

    /// [`Store::append`], written only if each stream of `unchanged` is still at the
    /// version given (0: it does not exist) when the append is written, in the same
    /// transaction: the streams the events were decided under (the settings, the
    /// study-wide lock), read earlier and perhaps kept between commands. Otherwise
    /// nothing is written and [`StoreError::Conflict`] names the stream that moved and
    /// its version, so the caller can decide again on what is current.
    pub async fn append_unless_moved(
        &self,
        stream: &str,
        expected_version: i64,
        events: &[NewEvent],
        meta: &EventMeta,
        projections: &[Projection],
        unchanged: &[(&str, i64)],
    ) -> Result<Appended, StoreError> {
        check_append(stream, expected_version, events, projections)?;
        let mut part = Part::new(
            stream,
            Expected::Version(expected_version),
            events,
            meta,
            projections,
        );
        part.unchanged = unchanged
            .iter()
            .map(|(s, v)| ((*s).to_string(), *v))
            .collect();
        let appended = self.committer.append(part).await?;
        tracing::debug!(
            stream,
            version = appended.stream_version,
            last_seq = appended.last_seq,
            "events appended"
        );
        self.checkpoint_if_due(appended.first_seq, appended.last_seq)
            .await;
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
        let parts = batch.iter().map(Part::of).collect();
        let appended = self.committer.append_batch(parts).await?;
        tracing::debug!(
            parts = batch.len(),
            last_seq = appended.last().map(|a| a.last_seq),
            "batch appended"
        );
        if let (Some(first), Some(last)) = (appended.first(), appended.last()) {
            self.checkpoint_if_due(first.first_seq, last.last_seq).await;
        }
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
        self.committer.rebuild_visits(schedules.to_vec()).await?;
        tracing::debug!(participants = schedules.len(), "visits rebuilt");
        Ok(())
    }

    /// A stream's events in version order (empty if the stream does not exist).
    pub async fn read_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        dispatch!(self.read_stream(stream))
    }

    /// A page of a stream's events, newest first, optionally only those recorded for
    /// `site`, with how many there are in all: for audit streams that pages list (the
    /// DICOM receipts), read a page at a time. A negative `limit` or `offset` is refused.
    pub async fn read_stream_newest(
        &self,
        stream: &str,
        site: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RecordedEvent>, u64), StoreError> {
        if limit < 0 || offset < 0 {
            return Err(StoreError::InvalidInput(format!(
                "a page needs a limit and offset of 0 or more, not {limit} and {offset}"
            )));
        }
        dispatch!(self.read_stream_newest(stream, site, limit, offset))
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

    /// The current versions of two streams, read together (0 for one that does not
    /// exist): what a cache of folded streams checks before each use.
    pub async fn stream_versions(
        &self,
        first: &str,
        second: &str,
    ) -> Result<(i64, i64), StoreError> {
        dispatch!(self.stream_versions(first, second))
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

    /// Signs the current chain head with `key` and stores the checkpoint (or returns the
    /// one already stored at that seq). The events since the latest checkpoint are
    /// re-hashed first: a chain that does not verify is never signed, and the error names
    /// the first bad event.
    pub async fn checkpoint(
        &self,
        key: &CheckpointKey,
        now: DateTime<Utc>,
    ) -> Result<Checkpoint, StoreError> {
        let mut walker = match dispatch!(self.latest_checkpoint())? {
            Some(c) => ChainWalker::resume(c.seq, &c.hash),
            None => ChainWalker::new(),
        };
        let (head_seq, head_hash) = dispatch!(self.chain_head())?;
        while walker.last_seq() < head_seq {
            let batch = dispatch!(self.read_raw(walker.last_seq(), VERIFY_BATCH))?;
            // Events appended after the head was read are left to the next checkpoint.
            let before = walker.last_seq();
            for event in batch.iter().filter(|e| e.seq <= head_seq) {
                walker.check(event);
            }
            if batch.len() < VERIFY_BATCH as usize || walker.last_seq() == before {
                break;
            }
        }
        let report = walker.finish(head_seq, &head_hash);
        if let Some(bad) = report.first_bad {
            return Err(StoreError::Corrupt(format!(
                "refusing to sign a checkpoint at seq {head_seq}: event #{} ({} version {}) \
                 does not verify: {}",
                bad.seq, bad.stream, bad.version, bad.reason
            )));
        }
        let signed = key.sign(head_seq, &head_hash, now);
        let stored = dispatch!(self.insert_checkpoint(&signed))?;
        tracing::info!(seq = stored.seq, hash = %stored.hash, "checkpoint signed");
        Ok(stored)
    }

    /// Signs a checkpoint with this store's own key ([`Store::with_checkpoints`]), if it
    /// has one: at shutdown and on demand.
    pub async fn checkpoint_with_own_key(&self) -> Result<Option<Checkpoint>, StoreError> {
        match &self.anchor {
            Some(anchor) => Ok(Some(self.checkpoint(&anchor.key, Utc::now()).await?)),
            None => Ok(None),
        }
    }

    /// After an append that wrote seqs `first..=last`: signs a checkpoint if the log
    /// passed a multiple of the anchor's interval.
    async fn checkpoint_if_due(&self, first: i64, last: i64) {
        let Some(anchor) = &self.anchor else { return };
        if (first - 1) / anchor.every == last / anchor.every {
            return;
        }
        if let Err(e) = self.checkpoint(&anchor.key, Utc::now()).await {
            tracing::error!(error = %e, "checkpoint not signed");
        }
    }

    /// The checkpoint with the highest seq, if any.
    pub async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        dispatch!(self.latest_checkpoint())
    }

    /// The stored hash of event `seq` (seq 0: the genesis hash); `None` if there is no
    /// such event.
    pub async fn hash_at(&self, seq: i64) -> Result<Option<String>, StoreError> {
        dispatch!(self.hash_at(seq))
    }

    /// Checks every stored checkpoint: signed by `key`, and the log still holds the signed
    /// hash at its seq. Together with an intact [`Store::verify_chain`] this proves the
    /// log up to the latest checkpoint is the one that was signed; a log rewritten with
    /// recomputed hashes fails here. Problems are a report, not an error.
    pub async fn verify_checkpoints(
        &self,
        key: &PublicKey,
    ) -> Result<CheckpointReport, StoreError> {
        let mut report = CheckpointReport::default();
        for (c, log_hash) in dispatch!(self.checkpoints_with_log_hash())? {
            report.checked += 1;
            match checkpoint::check_against_log(&c, key, log_hash.as_deref()) {
                Ok(()) => report.latest = Some(c),
                Err(why) => {
                    tracing::warn!(seq = c.seq, reason = %why, "checkpoint does not verify");
                    report.problems.push(why);
                }
            }
        }
        Ok(report)
    }

    /// Writes a consistent copy of this SQLite database, taken while writers carry on,
    /// to the new file `dest` (see the module `sqlite`). PostgreSQL is refused: back it
    /// up with `pg_dump`.
    pub async fn backup_sqlite(&self, dest: &Path) -> Result<(), StoreError> {
        let dest_text = dest.to_str().ok_or_else(|| {
            StoreError::InvalidInput(format!("backup path {} is not UTF-8", dest.display()))
        })?;
        if dest.exists() {
            return Err(StoreError::InvalidInput(format!(
                "{} exists already: a backup never overwrites a file",
                dest.display()
            )));
        }
        match &*self.pool {
            Pool::Sqlite(p) => sqlite::vacuum_into(p, dest_text).await,
            Pool::Postgres(_) => Err(StoreError::InvalidInput(
                "this is a PostgreSQL store: back it up with pg_dump".to_owned(),
            )),
        }
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

    /// The head of the longest log prefix recorded at or before `as_of`: `(seq, hash)`
    /// of its last event, `None` when no event is that old. A data cut-off rests on it,
    /// so an output taken again with the same cut-off reads the same events.
    pub async fn head_as_of(
        &self,
        as_of: DateTime<Utc>,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let stamp = crate::hash::format_timestamp(as_of);
        dispatch!(self.head_as_of(&stamp))
    }

    /// Every participant's study id and site, by study id, without the snapshots (for
    /// work that then reads one participant at a time).
    pub async fn participant_ids(&self) -> Result<Vec<(String, String)>, StoreError> {
        dispatch!(self.participant_ids())
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

    /// A login session with its user's row and whether her password must change, in one
    /// read; whether expired or not.
    pub async fn session_account(
        &self,
        token_hash: &str,
    ) -> Result<Option<SessionAccount>, StoreError> {
        dispatch!(self.session_account(token_hash))
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
        let part = Part::new(stream, Expected::End, events, meta, &[]);
        self.committer.append(part).await
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

    /// The user names that own at least one stored session (for `audit verify`).
    pub async fn session_owners(&self) -> Result<Vec<String>, StoreError> {
        dispatch!(self.session_owners())
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

    /// Recomputes every event's `prev_hash` and hash from what the log holds now, and the
    /// chain head to match, as an insider with write access to the database could: after
    /// it, [`Store::verify_chain`] passes over any edit made with
    /// [`Store::execute_raw_for_tests`]. For tests proving that signed checkpoints still
    /// catch such a rewrite. Returns how many events were rewritten.
    ///
    /// Exists only with the `test-support` feature, which no production build turns on.
    #[cfg(feature = "test-support")]
    pub async fn rehash_chain_for_tests(&self) -> Result<u64, StoreError> {
        let mut sql = String::new();
        let mut prev = crate::hash::GENESIS_HASH.to_owned();
        let mut after = 0;
        let mut rewritten = 0;
        loop {
            let batch = dispatch!(self.read_raw(after, VERIFY_BATCH))?;
            for e in &batch {
                let payload: serde_json::Value = serde_json::from_str(&e.payload)
                    .map_err(|err| StoreError::Corrupt(err.to_string()))?;
                let payload_json = crate::hash::canonical_json(&payload);
                let recorded_at = crate::hash::parse_timestamp(&e.recorded_at)
                    .map_err(|err| StoreError::Corrupt(err.to_string()))?;
                let meta = EventMeta {
                    actor: e.actor.clone(),
                    role: e.role.clone(),
                    site: e.site.clone(),
                    recorded_at,
                    reason: e.reason.clone(),
                };
                let hash = crate::hash::event_hash(&crate::hash::HashInput {
                    prev_hash: &prev,
                    seq: e.seq,
                    stream: &e.stream,
                    version: e.version,
                    kind: &e.kind,
                    payload_json: &payload_json,
                    meta: &meta,
                });
                // Hex digits and a payload in canonical form: quoted as SQL text.
                sql.push_str(&format!(
                    "UPDATE events SET payload = '{}', prev_hash = '{prev}', hash = '{hash}' \
                     WHERE seq = {};\n",
                    payload_json.replace('\'', "''"),
                    e.seq
                ));
                prev = hash;
                after = e.seq;
                rewritten += 1;
            }
            if batch.len() < VERIFY_BATCH as usize {
                break;
            }
        }
        sql.push_str(&format!(
            "UPDATE chain_head SET seq = {after}, hash = '{prev}' WHERE id = 1;"
        ));
        self.execute_raw_for_tests(&sql).await?;
        Ok(rewritten)
    }
}

/// The imaging jobs (see [`crate::jobs`]). They sit beside the log: a job says what is to
/// be done, and its result is recorded through [`Store::append`] like every other change.
impl Store {
    /// Queues a job unless its exam (participant and timepoint) has an open one: returns
    /// the job queued, or `Err` with the open one.
    pub async fn queue_job(
        &self,
        job: &NewImagingJob,
    ) -> Result<Result<ImagingJob, ImagingJob>, StoreError> {
        if let Some(job) = dispatch!(self.insert_job(job))? {
            return Ok(Ok(job));
        }
        match dispatch!(self.open_job_of_exam(&job.study_id, &job.timepoint))? {
            Some(open) => Ok(Err(open)),
            // The open job ended between the two statements: queue again.
            None => match dispatch!(self.insert_job(job))? {
                Some(queued) => Ok(Ok(queued)),
                None => Err(StoreError::InvalidInput(format!(
                    "no job could be queued for {} {}: others are being queued at the same \
                     time; try again",
                    job.study_id, job.timepoint
                ))),
            },
        }
    }

    /// One job by its number.
    pub async fn job(&self, id: i64) -> Result<Option<ImagingJob>, StoreError> {
        dispatch!(self.job(id))
    }

    /// A participant's jobs, newest first.
    pub async fn jobs_of(&self, study_id: &str) -> Result<Vec<ImagingJob>, StoreError> {
        dispatch!(self.jobs_of(study_id))
    }

    /// How many jobs are in each state (states without jobs left out).
    pub async fn job_counts(&self) -> Result<Vec<(JobState, i64)>, StoreError> {
        dispatch!(self.job_counts())
    }

    /// Takes the oldest job that is queued, or running with its lease run out at `now`,
    /// for `worker` (a name unique to the process) until `lease_until`.
    pub async fn take_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<ImagingJob>, StoreError> {
        dispatch!(self.take_job(worker, now, lease_until))
    }

    /// Extends the lease of a job `worker` holds; false when it holds it no more.
    pub async fn renew_job(
        &self,
        id: i64,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch!(self.renew_job(id, worker, lease_until))
    }

    /// Ends a job `worker` holds as done or failed with `outcome`; false (and nothing
    /// changed) when it holds it no more.
    pub async fn finish_job(
        &self,
        id: i64,
        worker: &str,
        state: JobState,
        outcome: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if state.is_open() {
            return Err(StoreError::InvalidInput(format!(
                "a job is finished as done or failed, not {}",
                state.as_str()
            )));
        }
        dispatch!(self.finish_job(id, worker, state, outcome, at))
    }
}

/// The DICOM archive's index (see [`crate::catalog`]). Like the jobs, it sits beside the
/// log: the archive's arrivals are audited by the receiver's receipt events.
impl Store {
    /// Adds index rows in one transaction; rows already there are left as they are.
    /// Returns how many were added.
    pub async fn insert_instances(&self, rows: &[CatalogInstance]) -> Result<u64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        dispatch!(self.insert_instances(rows))
    }

    /// The versions held of a SOP instance, oldest first.
    pub async fn instance_versions(
        &self,
        sop_instance_uid: &str,
    ) -> Result<Vec<CatalogInstance>, StoreError> {
        dispatch!(self.instance_versions(sop_instance_uid))
    }

    /// Every index row, by SOPInstanceUID, then received time, then hash.
    pub async fn all_instances(&self) -> Result<Vec<CatalogInstance>, StoreError> {
        dispatch!(self.all_instances())
    }

    /// The hashes of every indexed object, each once, in no particular order.
    pub async fn indexed_hashes(&self) -> Result<Vec<String>, StoreError> {
        dispatch!(self.indexed_hashes())
    }

    /// The series `q` asks for, summed up, by SeriesInstanceUID.
    pub async fn catalog_series(&self, q: &SeriesQuery) -> Result<Vec<CatalogSeries>, StoreError> {
        dispatch!(self.catalog_series(q))
    }

    /// `(SOPInstanceUID, SHA-256)` of each SOP instance of a series, by SOPInstanceUID:
    /// its first version received when it has several (the one quantified).
    pub async fn series_objects(
        &self,
        series_instance_uid: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        dispatch!(self.series_objects(series_instance_uid))
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
