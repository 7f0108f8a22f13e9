//! Writes: the audited append (one stream or a batch) and the derived visit rows.
//!
//! Every write that touches the log holds the chain head from its first statement to its
//! commit, so writers are serialised and the chain has one order.

use crate::hash::{self, canonical_json, format_timestamp};
use crate::model::{EventMeta, NewEvent, Projection, StreamAppend};

/// One stream's share of an append, with its payloads and time already in the form they
/// are stored and hashed in: prepared before the chain head is locked, to keep the lock
/// short.
pub(crate) struct Part<'a> {
    pub stream: &'a str,
    pub expected_version: i64,
    pub events: &'a [NewEvent],
    pub payloads: Vec<String>,
    /// The metadata with `recorded_at` truncated to microseconds.
    pub meta: EventMeta,
    pub recorded_at: String,
    pub projections: &'a [Projection],
}

impl<'a> Part<'a> {
    pub(crate) fn new(
        stream: &'a str,
        expected_version: i64,
        events: &'a [NewEvent],
        meta: &EventMeta,
        projections: &'a [Projection],
    ) -> Part<'a> {
        let meta = EventMeta {
            recorded_at: hash::truncate_to_micros(meta.recorded_at),
            ..meta.clone()
        };
        Part {
            stream,
            expected_version,
            events,
            payloads: events.iter().map(|e| canonical_json(&e.payload)).collect(),
            recorded_at: format_timestamp(meta.recorded_at),
            meta,
            projections,
        }
    }

    pub(crate) fn of(append: &'a StreamAppend) -> Part<'a> {
        Part::new(
            &append.stream,
            append.expected_version,
            &append.events,
            &append.meta,
            &append.projections,
        )
    }
}

/// Expands the write functions in the calling backend module (see [`super`]).
macro_rules! write_queries {
    () => {
        /// The chain head as the transaction advances it.
        struct Head {
            seq: i64,
            hash: String,
        }

        /// Starts a log-writing transaction and reads the chain head, locked.
        async fn begin_with_head(
            pool: &Pool<Db>,
        ) -> Result<(Transaction<'static, Db>, Head), StoreError> {
            let mut tx = begin_append(pool).await?;
            let (seq, hash): (i64, String) =
                sqlx::query_as(LOCK_HEAD_SQL).fetch_one(&mut *tx).await?;
            Ok((tx, Head { seq, hash }))
        }

        /// Records the new chain head and commits.
        async fn commit_with_head(
            mut tx: Transaction<'static, Db>,
            head: &Head,
        ) -> Result<(), StoreError> {
            sqlx::query("UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(head.seq)
                .bind(&head.hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }

        /// Appends `events` to `stream` and applies `projections`, in one transaction.
        pub(crate) async fn append(
            pool: &Pool<Db>,
            stream: &str,
            expected_version: i64,
            events: &[NewEvent],
            meta: &EventMeta,
            projections: &[Projection],
        ) -> Result<Appended, StoreError> {
            let part = Part::new(stream, expected_version, events, meta, projections);
            let (mut tx, mut head) = begin_with_head(pool).await?;
            let appended = append_part(&mut tx, &mut head, &part).await?;
            commit_with_head(tx, &head).await?;
            Ok(appended)
        }

        /// Appends every part of `batch`, in order, in one transaction.
        pub(crate) async fn append_batch(
            pool: &Pool<Db>,
            batch: &[StreamAppend],
        ) -> Result<Vec<Appended>, StoreError> {
            let parts: Vec<Part<'_>> = batch.iter().map(Part::of).collect();
            let (mut tx, mut head) = begin_with_head(pool).await?;
            let mut done = Vec::with_capacity(parts.len());
            for part in &parts {
                done.push(append_part(&mut tx, &mut head, part).await?);
            }
            commit_with_head(tx, &head).await?;
            Ok(done)
        }

        /// Checks the part's stream version, writes its events after `head` and applies
        /// its projections. On an error the caller drops the transaction, which rolls it
        /// back.
        async fn append_part(
            tx: &mut Transaction<'static, Db>,
            head: &mut Head,
            part: &Part<'_>,
        ) -> Result<Appended, StoreError> {
            let actual: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = $1",
            )
            .bind(part.stream)
            .fetch_one(&mut **tx)
            .await?;
            if actual != part.expected_version {
                return Err(StoreError::Conflict {
                    stream: part.stream.to_owned(),
                    expected: part.expected_version,
                    actual,
                });
            }

            let first_seq = head.seq + 1;
            let mut version = part.expected_version;
            for (event, payload) in part.events.iter().zip(&part.payloads) {
                let row = HashInput {
                    prev_hash: &head.hash,
                    seq: head.seq + 1,
                    stream: part.stream,
                    version: version + 1,
                    kind: &event.kind,
                    payload_json: payload,
                    meta: &part.meta,
                };
                head.hash = insert_event(tx, &row, &part.recorded_at).await?;
                head.seq += 1;
                version += 1;
            }
            for projection in part.projections {
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

        /// Replaces the visit rows of each participant in `schedules`, in one transaction
        /// and without events, if every participant row is still at the schedule's version.
        pub(crate) async fn rebuild_visits(
            pool: &Pool<Db>,
            schedules: &[VisitSchedule],
        ) -> Result<(), StoreError> {
            // Holding the chain head keeps appends (which may replace the same rows) out
            // until the rebuild commits, so a version checked here stays current.
            let (mut tx, _head) = begin_with_head(pool).await?;
            for schedule in schedules {
                let actual: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM participants WHERE study_id = $1")
                        .bind(&schedule.study_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let actual = actual.unwrap_or(0);
                if actual != schedule.version {
                    return Err(StoreError::Conflict {
                        stream: schedule.study_id.clone(),
                        expected: schedule.version,
                        actual,
                    });
                }
                replace_visits(&mut tx, &schedule.study_id, &schedule.rows).await?;
            }
            tx.commit().await?;
            Ok(())
        }
    };
}

pub(crate) use write_queries;
