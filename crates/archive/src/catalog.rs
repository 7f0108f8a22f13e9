//! The archive's index in the study database (the store's `dicom_instances` table): the
//! index of every production archive (`her2ex serve`, worker, demo, import, pull).
//!
//! The archive is synchronous (the receiver runs on threads of its own) and the store
//! async. A [`Catalog`] holds the store and a handle on the runtime the store runs on; each
//! query is spawned on that runtime and waited for on the calling thread. So the archive's
//! methods must be called from ordinary threads or `spawn_blocking`, never from an async
//! task (the trial and the CLI do so).
//!
//! **Rows are written in batches, behind the objects.** A row is queued once its object is
//! on disk; a writer thread lets rows gather for up to [`LINGER`] (less when a reader
//! waits for them) and inserts whatever is queued in one transaction (`INSERT … ON
//! CONFLICT DO NOTHING`), so under load one commit, and one flush of the database, serves
//! many objects, and a store never waits for the database's disk. This is safe because
//! the object is flushed before it is acknowledged and carries its provenance in its file
//! meta: an object whose row a crash lost is indexed again when the archive opens
//! (`recovery`). An object without provenance waits for its row's commit.
//!
//! **Queued rows count.** Until its batch is committed a row is kept in memory, and the
//! versions of a SOP instance (which decide new, duplicate or conflict) are read from the
//! queue first and then from the table: a row leaves the queue only once committed, so it
//! is always in one or the other. Listings (series, the files of a series) first wait
//! until every row queued before them is committed, then ask the table alone.
//!
//! A batch that fails stays queued and is tried again a second later; readers waiting for
//! it are told of the failure. When the archive is dropped the writer writes what is
//! queued and stops; [`Archive::flush_index`](crate::Archive::flush_index) waits for that.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use store::{CatalogInstance, CatalogSeries, SeriesQuery, Store, StoreError};
use tokio::runtime::Handle;
use tracing::warn;

use crate::archive::{ArchivedInstance, SeriesSummary, Source};
use crate::error::{IngestError, IngestErrorKind};

/// Rows a batch holds at most (a few statements of the store's multi-row inserts).
const MAX_BATCH: usize = 2000;

/// How long the writer lets rows gather before it writes them, unless a reader waits for
/// them or a batch is full. Each commit flushes the database's log to disk, on the disk
/// every received object is flushed to before it is acknowledged: a commit after every
/// few objects would put a flush of its own in front of theirs.
const LINGER: Duration = Duration::from_millis(100);

/// How long the writer waits before trying a failed batch again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The archive's index in the study database.
pub struct Catalog {
    db: Db,
    queue: Arc<Queue>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("store", &self.db.store)
            .finish()
    }
}

/// The store and the runtime its queries run on.
#[derive(Clone)]
struct Db {
    store: Store,
    runtime: Handle,
}

impl Db {
    /// Runs a store query on the runtime and waits for its answer on this thread.
    fn run<T, F>(
        &self,
        action: &'static str,
        query: impl FnOnce(Store) -> F,
    ) -> Result<T, IngestError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let future = query(self.store.clone());
        // A thread outside the runtime (the receiver's) waits on the query itself: one
        // hand-over between threads fewer for every object received. A thread the
        // runtime knows (`spawn_blocking`) hands the query to the runtime instead.
        if Handle::try_current().is_err() {
            return self
                .runtime
                .block_on(future)
                .map_err(|e| database(action, e.to_string()));
        }
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            // The caller may have gone; nothing then waits for the answer.
            let _ = answer.send(future.await);
        });
        match answered.recv() {
            Ok(result) => result.map_err(|e| database(action, e.to_string())),
            Err(_) => Err(database(action, RUNTIME_STOPPED.into())),
        }
    }
}

/// Why a query got no answer: its runtime was shut down.
const RUNTIME_STOPPED: &str = "the database's runtime has stopped";

fn database(action: &'static str, reason: String) -> IngestError {
    IngestError::new(IngestErrorKind::Database { action, reason })
}

/// Rows queued for the writer, and how far it got.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when rows are queued, a batch ends, or the archive closes.
    changed: Condvar,
}

#[derive(Default)]
struct QueueState {
    /// Rows not yet taken by the writer.
    waiting: Vec<CatalogInstance>,
    /// Rows of the batch being written.
    writing: Vec<CatalogInstance>,
    /// Rows ever queued (the number of the last one).
    queued: u64,
    /// Rows committed: every row numbered up to this one.
    written: u64,
    /// The last failure, and up to which row the batch that failed went.
    failed: Option<(u64, String)>,
    /// The archive is gone: write what is queued, then stop.
    closed: bool,
    /// A reader waits for the queued rows: write them without lingering.
    hurry: bool,
    /// The writer has stopped.
    stopped: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // The state is only changed by whole assignments under the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, state: MutexGuard<'a, QueueState>) -> MutexGuard<'a, QueueState> {
        self.changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Catalog {
    /// The index in `store`, whose queries run on `runtime` (the runtime the store was
    /// opened on, or any other of the process's that is running). Starts the writer thread.
    pub fn new(store: Store, runtime: Handle) -> Result<Self, IngestError> {
        let db = Db { store, runtime };
        let queue = Arc::new(Queue::default());
        let writer = Writer {
            db: db.clone(),
            queue: queue.clone(),
        };
        std::thread::Builder::new()
            .name("archive-index".into())
            .spawn(move || writer.run())
            .map_err(|e| {
                IngestError::new(IngestErrorKind::Io {
                    action: "start the index writer",
                    reason: e.to_string(),
                })
            })?;
        Ok(Self { db, queue })
    }

    /// Queues an entry; `durable` waits until it is committed.
    pub(crate) fn add(&self, entry: &ArchivedInstance, durable: bool) -> Result<(), IngestError> {
        let row = to_row(entry)?;
        {
            let mut state = self.queue.lock();
            state.waiting.push(row);
            state.queued += 1;
        }
        self.queue.changed.notify_all();
        if durable { self.wait_written() } else { Ok(()) }
    }

    /// Adds entries found on disk (recovery, the files of the earlier index) and waits
    /// until they are committed.
    pub(crate) fn add_all(&self, entries: &[ArchivedInstance]) -> Result<(), IngestError> {
        let rows = entries.iter().map(to_row).collect::<Result<Vec<_>, _>>()?;
        for chunk in rows.chunks(MAX_BATCH) {
            let chunk = chunk.to_vec();
            self.db.run("index objects", move |s| async move {
                s.insert_instances(&chunk).await
            })?;
        }
        Ok(())
    }

    /// The versions held of a SOP instance: the queued ones, then the committed ones not
    /// queued (see the module documentation for why in this order).
    pub(crate) fn versions(
        &self,
        sop_instance_uid: &str,
    ) -> Result<Vec<ArchivedInstance>, IngestError> {
        let mut out: Vec<ArchivedInstance> = Vec::new();
        {
            let state = self.queue.lock();
            for row in state.writing.iter().chain(&state.waiting) {
                if row.sop_instance_uid == sop_instance_uid {
                    out.push(from_row(row.clone())?);
                }
            }
        }
        let uid = sop_instance_uid.to_string();
        let committed = self
            .db
            .run("read the versions of an instance", move |s| async move {
                s.instance_versions(&uid).await
            })?;
        let mut all = Vec::with_capacity(out.len() + committed.len());
        for row in committed {
            if !out.iter().any(|v| v.sha256 == row.sha256) {
                all.push(from_row(row)?);
            }
        }
        all.append(&mut out);
        Ok(all)
    }

    /// Waits until every row queued so far is committed; fails when the batch holding
    /// one of them failed, or the writer stopped before writing them.
    pub(crate) fn wait_written(&self) -> Result<(), IngestError> {
        let mut state = self.queue.lock();
        let target = state.queued;
        if state.written < target {
            state.hurry = true;
            self.queue.changed.notify_all();
        }
        loop {
            if state.written >= target {
                return Ok(());
            }
            if let Some((through, why)) = &state.failed
                && *through >= target
            {
                return Err(database("write the index", why.clone()));
            }
            if state.stopped {
                return Err(database(
                    "write the index",
                    "the index writer has stopped".into(),
                ));
            }
            state = self.queue.wait(state);
        }
    }

    /// The hashes of every indexed object.
    pub(crate) fn indexed_hashes(&self) -> Result<HashSet<String>, IngestError> {
        self.wait_written()?;
        let hashes = self.db.run("list the indexed objects", |s| async move {
            s.indexed_hashes().await
        })?;
        Ok(hashes.into_iter().collect())
    }

    /// Every entry, by SOPInstanceUID, then received time, then hash.
    pub(crate) fn all(&self) -> Result<Vec<ArchivedInstance>, IngestError> {
        self.wait_written()?;
        self.db
            .run("list the indexed objects", |s| async move {
                s.all_instances().await
            })?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// The series `q` asks for, by SeriesInstanceUID.
    pub(crate) fn series(&self, q: SeriesQuery) -> Result<Vec<SeriesSummary>, IngestError> {
        self.wait_written()?;
        let list = self.db.run(
            "list series",
            move |s| async move { s.catalog_series(&q).await },
        )?;
        list.into_iter().map(summary).collect()
    }

    /// `(SOPInstanceUID, SHA-256)` of the file of each instance of a series.
    pub(crate) fn series_objects(
        &self,
        series_uid: &str,
    ) -> Result<Vec<(String, String)>, IngestError> {
        self.wait_written()?;
        let uid = series_uid.to_string();
        self.db
            .run("list the files of a series", move |s| async move {
                s.series_objects(&uid).await
            })
    }
}

impl Drop for Catalog {
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.changed.notify_all();
    }
}

/// The writer thread: takes what is queued, writes it in one transaction, repeats.
struct Writer {
    db: Db,
    queue: Arc<Queue>,
}

impl Writer {
    fn run(self) {
        loop {
            let (batch, through) = {
                let mut state = self.queue.lock();
                while state.waiting.is_empty() && !state.closed {
                    state = self.queue.wait(state);
                }
                let deadline = std::time::Instant::now() + LINGER;
                while !state.hurry && !state.closed && state.waiting.len() < MAX_BATCH {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    state = self
                        .queue
                        .changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                state.hurry = false;
                if state.waiting.is_empty() {
                    state.stopped = true;
                    drop(state);
                    self.queue.changed.notify_all();
                    return;
                }
                let take = state.waiting.len().min(MAX_BATCH);
                let batch: Vec<CatalogInstance> = state.waiting.drain(..take).collect();
                // Rows are numbered in the order queued; the batch ends at the last taken.
                let through = state.queued - state.waiting.len() as u64;
                state.writing = batch.clone();
                (batch, through)
            };
            let result = self.db.run("write the index", move |s| async move {
                s.insert_instances(&batch).await
            });
            let mut state = self.queue.lock();
            let taken = std::mem::take(&mut state.writing);
            match result {
                Ok(_) => {
                    state.written = through;
                    state.failed = None;
                }
                Err(e) => {
                    let gone = matches!(&e.kind, IngestErrorKind::Database { reason, .. } if reason == RUNTIME_STOPPED);
                    warn!(error = %e, rows = taken.len(), "index rows not written yet; their objects are indexed again when the archive opens if they never are");
                    state.failed = Some((through, e.kind.to_string()));
                    // Back at the front, in their order.
                    state.waiting.splice(0..0, taken);
                    if gone || state.closed {
                        state.stopped = true;
                        drop(state);
                        self.queue.changed.notify_all();
                        return;
                    }
                    drop(state);
                    self.queue.changed.notify_all();
                    std::thread::sleep(RETRY_AFTER);
                    continue;
                }
            }
            drop(state);
            self.queue.changed.notify_all();
        }
    }
}

/// The row of an entry.
fn to_row(e: &ArchivedInstance) -> Result<CatalogInstance, IngestError> {
    let source = serde_json::to_string(&e.source).map_err(|err| {
        IngestError::new(IngestErrorKind::Index(format!(
            "source of {}: {err}",
            e.sop_instance_uid
        )))
    })?;
    let size = i64::try_from(e.size).map_err(|_| {
        IngestError::new(IngestErrorKind::Index(format!(
            "size of {} ({} bytes) too large to index",
            e.sop_instance_uid, e.size
        )))
    })?;
    Ok(CatalogInstance {
        sop_instance_uid: e.sop_instance_uid.clone(),
        sha256: e.sha256.clone(),
        sop_class_uid: e.sop_class_uid.clone(),
        series_instance_uid: e.series_instance_uid.clone(),
        study_instance_uid: e.study_instance_uid.clone(),
        modality: e.modality.clone(),
        transfer_syntax_uid: e.transfer_syntax_uid.clone(),
        size,
        received_at: e.received_at,
        source,
        patient_id: e.patient_id.clone(),
        series_date: e.series_date.clone(),
        series_description: e.series_description.clone(),
        site: e.site.clone(),
        is_pet: e.is_pet_image(),
    })
}

/// The entry of a row.
fn from_row(r: CatalogInstance) -> Result<ArchivedInstance, IngestError> {
    let source: Source = serde_json::from_str(&r.source).map_err(|e| {
        IngestError::new(IngestErrorKind::Index(format!(
            "source of {} ({}) unreadable: {e}",
            r.sop_instance_uid, r.sha256
        )))
    })?;
    Ok(ArchivedInstance {
        sop_instance_uid: r.sop_instance_uid,
        sop_class_uid: r.sop_class_uid,
        series_instance_uid: r.series_instance_uid,
        study_instance_uid: r.study_instance_uid,
        modality: r.modality,
        transfer_syntax_uid: r.transfer_syntax_uid,
        sha256: r.sha256,
        size: u64::try_from(r.size).unwrap_or_default(),
        received_at: r.received_at,
        source,
        patient_id: r.patient_id,
        series_date: r.series_date,
        series_description: r.series_description,
        site: r.site,
    })
}

/// The summary of a series.
fn summary(s: CatalogSeries) -> Result<SeriesSummary, IngestError> {
    let count = |n: i64, what: &str| -> Result<usize, IngestError> {
        usize::try_from(n).map_err(|_| {
            IngestError::new(IngestErrorKind::Index(format!(
                "series {}: {what} {n} is not a count",
                s.series_instance_uid
            )))
        })
    };
    let instance_count = count(s.instance_count, "instance count")?;
    let conflicting_instances = count(s.conflicting_instances, "conflicting instances")?;
    Ok(SeriesSummary {
        instance_count,
        conflicting_instances,
        series_instance_uid: s.series_instance_uid,
        study_instance_uid: s.study_instance_uid,
        modality: s.modality,
        is_pet: s.is_pet,
        patient_id: s.patient_id,
        series_date: s.series_date,
        series_description: s.series_description,
        last_received_at: s.last_received_at,
        site: s.site,
    })
}
