//! Writes: the audited append (one stream or a batch) and the derived visit rows, run by
//! the committer ([`crate::committer`]) in groups of one transaction each.
//!
//! Every write that touches the log holds the chain head from its first statement to its
//! commit, so writers are serialised and the chain has one order.

use tokio::sync::oneshot;

use crate::error::StoreError;
use crate::hash::{self, canonical_json, format_timestamp};
use crate::model::{Appended, EventMeta, NewEvent, Projection, StreamAppend, VisitSchedule};

/// Where a part's events go in their stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expected {
    /// After this version, which the stream must be at (0: the stream must not exist
    /// yet); otherwise the part is refused with a conflict.
    Version(i64),
    /// After whatever the stream holds when the part is written: audit-only streams,
    /// where the order within the stream decides nothing.
    End,
}

/// One stream's share of a write, owned, with its payloads and time already in the form
/// they are stored and hashed in: prepared by the caller, so the committer, which holds
/// the chain head, only writes.
pub(crate) struct Part {
    pub stream: String,
    pub expected: Expected,
    /// Each event's kind and canonical JSON payload.
    pub events: Vec<(String, String)>,
    /// The metadata with `recorded_at` truncated to microseconds.
    pub meta: EventMeta,
    pub recorded_at: String,
    pub projections: Vec<Projection>,
}

impl Part {
    pub(crate) fn new(
        stream: &str,
        expected: Expected,
        events: &[NewEvent],
        meta: &EventMeta,
        projections: &[Projection],
    ) -> Part {
        let meta = EventMeta {
            recorded_at: hash::truncate_to_micros(meta.recorded_at),
            ..meta.clone()
        };
        Part {
            stream: stream.to_owned(),
            expected,
            events: events
                .iter()
                .map(|e| (e.kind.clone(), canonical_json(&e.payload)))
                .collect(),
            recorded_at: format_timestamp(meta.recorded_at),
            meta,
            projections: projections.to_vec(),
        }
    }

    pub(crate) fn of(append: &StreamAppend) -> Part {
        Part::new(
            &append.stream,
            Expected::Version(append.expected_version),
            &append.events,
            &append.meta,
            &append.projections,
        )
    }
}

/// One caller's write, as the committer receives it, and where its answer goes. Each is
/// all or nothing, and independent of the others in its group: one refused leaves the
/// others to commit.
pub(crate) enum Request {
    /// [`crate::Store::append`] and [`crate::Store::append_at_end`].
    Append(Part, Answer<Appended>),
    /// [`crate::Store::append_batch`]: every part, or none.
    Batch(Vec<Part>, Answer<Vec<Appended>>),
    /// [`crate::Store::rebuild_visits`]: every schedule, or none.
    RebuildVisits(Vec<VisitSchedule>, Answer<()>),
}

/// A request's result, kept until its group has committed, and the caller waiting for it.
pub(crate) struct Answer<T> {
    reply: oneshot::Sender<Result<T, StoreError>>,
    result: Option<Result<T, StoreError>>,
}

impl<T> Answer<T> {
    pub(crate) fn new(reply: oneshot::Sender<Result<T, StoreError>>) -> Answer<T> {
        Answer {
            reply,
            result: None,
        }
    }

    /// Keeps the request's own result; true if it succeeded.
    pub(crate) fn keep(&mut self, result: Result<T, StoreError>) -> bool {
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    /// Sends the kept result. A caller that stopped waiting (its request was cancelled)
    /// is no error: its write stands.
    fn send(self) {
        if let Some(result) = self.result {
            let _ = self.reply.send(result);
        }
    }

    /// Sends `error` instead of whatever was kept: the group failed.
    fn fail(self, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

impl Request {
    /// Sends the request's own result to its caller, once its group has committed.
    pub(crate) fn send(self) {
        match self {
            Request::Append(_, answer) => answer.send(),
            Request::Batch(_, answer) => answer.send(),
            Request::RebuildVisits(_, answer) => answer.send(),
        }
    }

    /// Sends `error` to its caller: the group's transaction failed.
    pub(crate) fn fail(self, error: StoreError) {
        match self {
            Request::Append(_, answer) => answer.fail(error),
            Request::Batch(_, answer) => answer.fail(error),
            Request::RebuildVisits(_, answer) => answer.fail(error),
        }
    }
}

/// Expands the write functions in the calling backend module (see [`super`]).
macro_rules! write_queries {
    () => {
        /// The chain head as the transaction advances it.
        #[derive(Clone)]
        struct Head {
            seq: i64,
            hash: String,
        }

        /// Starts a log-writing transaction and reads the chain head, locked.
        async fn begin_with_head(
            pool: &Pool<Db>,
        ) -> Result<(Transaction<'static, Db>, Head), sqlx::Error> {
            let mut tx = begin_append(pool).await?;
            let (seq, hash): (i64, String) =
                sqlx::query_as(LOCK_HEAD_SQL).fetch_one(&mut *tx).await?;
            Ok((tx, Head { seq, hash }))
        }

        /// Records the new chain head and commits.
        async fn commit_with_head(
            mut tx: Transaction<'static, Db>,
            head: &Head,
        ) -> Result<(), sqlx::Error> {
            sqlx::query("UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(head.seq)
                .bind(&head.hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }

        /// Runs `requests` in order in ONE transaction and commits once: one disk flush
        /// for the whole group. Each request keeps its own result, to be sent once this
        /// returns `Ok`.
        ///
        /// With more than one request, each runs inside a savepoint: a request refused (a
        /// conflict, a failed projection) is rolled back alone, the chain head goes back
        /// to where it was before it, and the next request continues the chain from
        /// there. The error is the transaction's own failure (begin, savepoint, commit):
        /// then none of the group is acknowledged.
        pub(crate) async fn write_group(
            pool: &Pool<Db>,
            requests: &mut [Request],
        ) -> Result<(), sqlx::Error> {
            let (mut tx, mut head) = begin_with_head(pool).await?;
            if let [request] = requests {
                // Alone in its group: a refusal rolls back the whole transaction (on drop).
                if run_request(&mut tx, &mut head, request).await {
                    commit_with_head(tx, &head).await?;
                }
                return Ok(());
            }
            let mut any_kept = false;
            for request in requests {
                sqlx::query("SAVEPOINT request").execute(&mut *tx).await?;
                let before = head.clone();
                if run_request(&mut tx, &mut head, request).await {
                    any_kept = true;
                } else {
                    sqlx::query("ROLLBACK TO SAVEPOINT request")
                        .execute(&mut *tx)
                        .await?;
                    head = before;
                }
                sqlx::query("RELEASE SAVEPOINT request")
                    .execute(&mut *tx)
                    .await?;
            }
            if any_kept {
                commit_with_head(tx, &head).await?;
            }
            Ok(())
        }

        /// Writes one request after `head` and keeps its result; true if it succeeded.
        /// On a failure the caller rolls back what it wrote.
        async fn run_request(
            tx: &mut Transaction<'static, Db>,
            head: &mut Head,
            request: &mut Request,
        ) -> bool {
            match request {
                Request::Append(part, answer) => answer.keep(append_part(tx, head, part).await),
                Request::Batch(parts, answer) => {
                    let mut done = Vec::with_capacity(parts.len());
                    for part in parts.iter() {
                        match append_part(tx, head, part).await {
                            Ok(appended) => done.push(appended),
                            Err(e) => return answer.keep(Err(e)),
                        }
                    }
                    answer.keep(Ok(done))
                }
                Request::RebuildVisits(schedules, answer) => {
                    answer.keep(rebuild_visits(tx, schedules).await)
                }
            }
        }

        /// Checks the part's stream version, writes its events after `head` and applies
        /// its projections.
        async fn append_part(
            tx: &mut Transaction<'static, Db>,
            head: &mut Head,
            part: &Part,
        ) -> Result<Appended, StoreError> {
            let actual: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = $1",
            )
            .bind(&part.stream)
            .fetch_one(&mut **tx)
            .await?;
            if let Expected::Version(expected) = part.expected
                && actual != expected
            {
                return Err(StoreError::Conflict {
                    stream: part.stream.clone(),
                    expected,
                    actual,
                });
            }

            let first_seq = head.seq + 1;
            let mut version = actual;
            for (kind, payload) in &part.events {
                let row = HashInput {
                    prev_hash: &head.hash,
                    seq: head.seq + 1,
                    stream: &part.stream,
                    version: version + 1,
                    kind,
                    payload_json: payload,
                    meta: &part.meta,
                };
                head.hash = insert_event(tx, &row, &part.recorded_at).await?;
                head.seq += 1;
                version += 1;
            }
            for projection in &part.projections {
                apply_projection(tx, projection).await?;
            }
            Ok(Appended {
                stream_version: version,
                first_seq,
                last_seq: head.seq,
                head_hash: head.hash.clone(),
            })
        }

        /// Writes one event row; returns its hash.
        async fn insert_event(
            tx: &mut Transaction<'static, Db>,
            row: &HashInput<'_>,
            recorded_at: &str,
        ) -> Result<String, StoreError> {
            let hash = hash::event_hash(row);
            sqlx::query(concat!(
                "INSERT INTO events (",
                event_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ))
            .bind(row.seq)
            .bind(row.stream)
            .bind(row.version)
            .bind(row.kind)
            .bind(row.payload_json)
            .bind(&row.meta.actor)
            .bind(&row.meta.role)
            .bind(&row.meta.site)
            .bind(recorded_at)
            .bind(&row.meta.reason)
            .bind(row.prev_hash)
            .bind(&hash)
            .execute(&mut **tx)
            .await?;
            Ok(hash)
        }

        async fn apply_projection(
            tx: &mut Transaction<'static, Db>,
            projection: &Projection,
        ) -> Result<(), StoreError> {
            match projection {
                Projection::Participant(p) => {
                    sqlx::query(concat!(
                        "INSERT INTO participants (",
                        participant_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (study_id) DO UPDATE SET \
                         site = excluded.site, state = excluded.state, \
                         version = excluded.version, snapshot = excluded.snapshot, \
                         updated_at = excluded.updated_at"
                    ))
                    .bind(&p.study_id)
                    .bind(&p.site)
                    .bind(&p.state)
                    .bind(p.version)
                    .bind(canonical_json(&p.snapshot))
                    .bind(format_timestamp(p.updated_at))
                    .execute(&mut **tx)
                    .await?;
                }
                Projection::Site(s) => {
                    sqlx::query(
                        "INSERT INTO sites (code, name) VALUES ($1, $2) \
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name",
                    )
                    .bind(&s.code)
                    .bind(&s.name)
                    .execute(&mut **tx)
                    .await?;
                }
                Projection::User(u) => {
                    sqlx::query(concat!(
                        "INSERT INTO users (",
                        user_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO UPDATE SET \
                         display_name = excluded.display_name, role = excluded.role, \
                         site = excluded.site, active = excluded.active, \
                         locked = excluded.locked"
                    ))
                    .bind(&u.username)
                    .bind(&u.display_name)
                    .bind(&u.role)
                    .bind(&u.site)
                    .bind(u.active)
                    .bind(u.locked)
                    .execute(&mut **tx)
                    .await?;
                }
                Projection::Credential(c) => {
                    upsert_credential(tx, c).await?;
                }
                Projection::Visits { study_id, rows } => {
                    replace_visits(tx, study_id, rows).await?;
                }
            }
            Ok(())
        }

        /// Deletes the participant's visit rows and inserts `rows` instead.
        async fn replace_visits(
            tx: &mut Transaction<'static, Db>,
            study_id: &str,
            rows: &[VisitRow],
        ) -> Result<(), StoreError> {
            sqlx::query("DELETE FROM visits WHERE study_id = $1")
                .bind(study_id)
                .execute(&mut **tx)
                .await?;
            for row in rows {
                sqlx::query(concat!(
                    "INSERT INTO visits (",
                    visit_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ))
                .bind(&row.study_id)
                .bind(&row.site)
                .bind(&row.kind)
                .bind(row.earliest)
                .bind(row.latest)
                .bind(row.required)
                .bind(canonical_json(&row.detail))
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// Replaces the visit rows of each participant in `schedules`, if every
        /// participant row is still at the schedule's version. Runs in a group's
        /// transaction, which holds the chain head: appends (which may replace the same
        /// rows) wait until it commits, so a version checked here stays current.
        async fn rebuild_visits(
            tx: &mut Transaction<'static, Db>,
            schedules: &[VisitSchedule],
        ) -> Result<(), StoreError> {
            for schedule in schedules {
                let actual: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM participants WHERE study_id = $1")
                        .bind(&schedule.study_id)
                        .fetch_optional(&mut **tx)
                        .await?;
                let actual = actual.unwrap_or(0);
                if actual != schedule.version {
                    return Err(StoreError::Conflict {
                        stream: schedule.study_id.clone(),
                        expected: schedule.version,
                        actual,
                    });
                }
                replace_visits(tx, &schedule.study_id, &schedule.rows).await?;
            }
            Ok(())
        }
    };
}

pub(crate) use write_queries;
