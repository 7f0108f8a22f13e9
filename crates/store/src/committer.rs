//! Group commit: one task writes the log, many writes to a transaction.
//!
//! With `synchronous=FULL` (SQLite) or a durable commit (PostgreSQL), a commit costs a
//! disk flush, and writers to the one hash chain take turns. One transaction per write
//! makes the flush the ceiling: a queue of 32 writers waits 32 flushes. So every log
//! write of this process ([`Request`]) is sent to the committer, a task that takes every
//! write waiting (up to [`MAX_GROUP`]), writes them in arrival order in ONE transaction on
//! a connection borrowed from the pool for that group, commits once, and only then answers
//! each caller. A write refused on its own terms (a conflict, a failed projection) fails
//! alone and the others commit; when the transaction itself fails, every write of the
//! group gets the error and none is acknowledged.
//!
//! The flush is not the only cost a group shares: each statement is a round trip to the
//! database (to SQLite's worker thread, or over the network), so a group is planned in
//! memory ([`crate::plan`]) and written with a statement or two per table, not several
//! per write (see `queries::write`).
//!
//! Sequence order is still the order writes were made in: the group's writes take their
//! seqs one after the other, and groups follow each other. Other processes (a second
//! server, a worker) still meet the database's own lock on the chain head.
//!
//! The task starts with the first write and ends when the store is closed (after it has
//! answered everything already queued) or dropped; a write after [`Committer::close`]
//! gets the same "closed pool" error as any other call on a closed store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::StoreError;
use crate::model::{Appended, VisitSchedule};
use crate::request::{Answer, Part, Request};
use crate::store::Pool;
use crate::{postgres, sqlite};

/// The most writes one transaction carries, so a group's own latency stays bounded (a
/// group of 64 appends takes a few milliseconds besides its flush); writes beyond it
/// wait for the next group.
pub(crate) const MAX_GROUP: usize = 64;

/// Writes that may wait for the committer before a caller waits to hand its write in.
const QUEUE: usize = 16 * MAX_GROUP;

/// How the committer has grouped the writes so far (see [`crate::Store::commit_stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Transactions the committer ran (one per group), committed or not.
    pub transactions: u64,
    /// Writes those transactions carried: appends, batches and visit rebuilds.
    pub writes: u64,
    /// The most writes one transaction carried.
    pub largest_group: u64,
}

/// The store's handle on its committer task.
pub(crate) struct Committer {
    pool: Arc<Pool>,
    state: Mutex<State>,
    counters: Arc<Counters>,
    /// Held by a test to keep the committer from starting its next group.
    #[cfg(feature = "test-support")]
    gate: Arc<tokio::sync::Mutex<()>>,
    /// How many writes have been handed to the committer, for tests that wait until a
    /// group has queued up.
    #[cfg(feature = "test-support")]
    submitted: tokio::sync::watch::Sender<u64>,
}

struct State {
    /// The way in to the running task; `None` before the first write and after close.
    sender: Option<mpsc::Sender<Request>>,
    task: Option<JoinHandle<()>>,
    closed: bool,
}

#[derive(Default)]
struct Counters {
    transactions: AtomicU64,
    writes: AtomicU64,
    largest_group: AtomicU64,
}

impl Committer {
    pub(crate) fn new(pool: Arc<Pool>) -> Committer {
        Committer {
            pool,
            state: Mutex::new(State {
                sender: None,
                task: None,
                closed: false,
            }),
            counters: Arc::default(),
            #[cfg(feature = "test-support")]
            gate: Arc::default(),
            #[cfg(feature = "test-support")]
            submitted: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Appends one part (see [`crate::Store::append`]) once its group has committed.
    pub(crate) async fn append(&self, part: Part) -> Result<Appended, StoreError> {
        self.submit(|answer| Request::Append(Box::new(part), answer))
            .await
    }

    /// Appends every part or none (see [`crate::Store::append_batch`]).
    pub(crate) async fn append_batch(&self, parts: Vec<Part>) -> Result<Vec<Appended>, StoreError> {
        self.submit(|answer| Request::Batch(parts, answer)).await
    }

    /// Replaces visit rows (see [`crate::Store::rebuild_visits`]).
    pub(crate) async fn rebuild_visits(
        &self,
        schedules: Vec<VisitSchedule>,
    ) -> Result<(), StoreError> {
        self.submit(|answer| Request::RebuildVisits(schedules, answer))
            .await
    }

    /// Hands a request to the committer and waits until its group has committed (or
    /// the request was refused, or the group failed).
    async fn submit<T>(&self, request: impl FnOnce(Answer<T>) -> Request) -> Result<T, StoreError> {
        let sender = self.sender()?;
        let (reply, answer) = oneshot::channel();
        sender
            .send(request(Answer::new(reply)))
            .await
            .map_err(|_| stopped())?;
        drop(sender);
        #[cfg(feature = "test-support")]
        self.submitted.send_modify(|n| *n += 1);
        answer.await.map_err(|_| stopped())?
    }

    /// A sender to the running committer, starting it if it is not running: before the
    /// first write, or when the runtime it ran on has ended.
    fn sender(&self) -> Result<mpsc::Sender<Request>, StoreError> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(StoreError::Database(sqlx::Error::PoolClosed));
        }
        if let Some(sender) = &state.sender
            && !sender.is_closed()
        {
            return Ok(sender.clone());
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
            StoreError::InvalidInput(format!("the store writes from a Tokio runtime: {e}"))
        })?;
        let (sender, receiver) = mpsc::channel(QUEUE);
        let task = Task {
            pool: Arc::clone(&self.pool),
            counters: Arc::clone(&self.counters),
            #[cfg(feature = "test-support")]
            gate: Arc::clone(&self.gate),
        };
        state.task = Some(runtime.spawn(task.run(receiver)));
        state.sender = Some(sender.clone());
        Ok(sender)
    }

    /// Refuses new writes, lets the committer answer every write already handed in, and
    /// waits for it to end.
    pub(crate) async fn close(&self) {
        let task = {
            let mut state = lock(&self.state);
            state.closed = true;
            state.sender = None;
            state.task.take()
        };
        if let Some(task) = task
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "the store's committer ended abnormally");
        }
    }

    pub(crate) fn stats(&self) -> CommitStats {
        CommitStats {
            transactions: self.counters.transactions.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
            largest_group: self.counters.largest_group.load(Ordering::Relaxed),
        }
    }

    /// Keeps the committer from starting another group until the returned hold is
    /// dropped; writes handed in meanwhile queue up and then go in one group (up to
    /// [`MAX_GROUP`]).
    #[cfg(feature = "test-support")]
    pub(crate) async fn hold(&self) -> CommitHold {
        let guard = Arc::clone(&self.gate).lock_owned().await;
        let submitted = self.submitted.subscribe();
        let start = *submitted.borrow();
        CommitHold {
            _guard: guard,
            submitted,
            start,
        }
    }
}

/// A hold on the committer (see [`crate::Store::hold_commits_for_tests`]): while it
/// lives, no new group starts. Drop it to let the queued writes commit.
#[cfg(feature = "test-support")]
pub struct CommitHold {
    _guard: tokio::sync::OwnedMutexGuard<()>,
    submitted: tokio::sync::watch::Receiver<u64>,
    start: u64,
}

#[cfg(feature = "test-support")]
impl CommitHold {
    /// Waits until `n` writes have been handed to the committer since the hold began.
    pub async fn wait_for_queued(&mut self, n: u64) {
        let target = self.start + n;
        // The sender lives in the store, which the caller holds, so the channel stays open.
        let _ = self.submitted.wait_for(|count| *count >= target).await;
    }
}

/// What the committer task owns.
struct Task {
    pool: Arc<Pool>,
    counters: Arc<Counters>,
    #[cfg(feature = "test-support")]
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl Task {
    /// Takes every write waiting, writes them as one group, answers them; until the
    /// store is closed or dropped and the queue is empty.
    async fn run(self, mut receiver: mpsc::Receiver<Request>) {
        let mut group = Vec::with_capacity(MAX_GROUP);
        while receiver.recv_many(&mut group, MAX_GROUP).await > 0 {
            #[cfg(feature = "test-support")]
            {
                drop(self.gate.lock().await);
                while group.len() < MAX_GROUP {
                    match receiver.try_recv() {
                        Ok(request) => group.push(request),
                        Err(_) => break,
                    }
                }
            }
            self.count(group.len());
            let outcome = match &*self.pool {
                Pool::Sqlite(p) => sqlite::write_group(p, &mut group).await,
                Pool::Postgres(p) => postgres::write_group(p, &mut group).await,
            };
            answer(group.drain(..), outcome);
        }
    }

    fn count(&self, writes: usize) {
        let writes = writes as u64;
        self.counters.transactions.fetch_add(1, Ordering::Relaxed);
        self.counters.writes.fetch_add(writes, Ordering::Relaxed);
        self.counters
            .largest_group
            .fetch_max(writes, Ordering::Relaxed);
        tracing::trace!(writes, "group written");
    }
}

/// Sends each caller its own result, or the group's failure to all of them.
fn answer(mut requests: std::vec::Drain<'_, Request>, outcome: Result<(), sqlx::Error>) {
    let Err(e) = outcome else {
        requests.for_each(Request::send);
        return;
    };
    let writes = requests.len();
    if writes == 1 {
        if let Some(request) = requests.next() {
            request.fail(StoreError::Database(e));
        }
        return;
    }
    tracing::error!(error = %e, writes, "a group transaction failed");
    let shared = Arc::new(e);
    for request in requests {
        request.fail(StoreError::GroupFailed {
            others: writes - 1,
            source: Arc::clone(&shared),
        });
    }
}

/// The committer ended before answering: its runtime shut down, or it failed.
fn stopped() -> StoreError {
    StoreError::Database(sqlx::Error::WorkerCrashed)
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // The state is three plain fields, consistent after any panic.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}
