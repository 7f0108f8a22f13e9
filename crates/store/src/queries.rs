//! The SQL both backends share, written once.
//!
//! SQLite and PostgreSQL accept the same statements here (`$1` placeholders, `ON CONFLICT
//! … DO UPDATE`), but sqlx gives each its own pool and row types. [`shared_queries!`]
//! expands these functions inside a backend module, which must define:
//!
//! - `type Db` — the sqlx database type;
//! - `async fn begin_append(pool: &Pool<Db>) -> Result<Transaction<'static, Db>, sqlx::Error>`
//!   — start a transaction that may write the log (SQLite: `BEGIN IMMEDIATE`);
//! - `const LOCK_HEAD_SQL: &str` — read `(seq, hash)` of the chain head, locking it until
//!   the transaction ends (PostgreSQL: `FOR UPDATE`).

/// Expands the shared query functions in the calling backend module (see the module docs).
macro_rules! shared_queries {
    () => {
        use chrono::{DateTime, Utc};
        use sqlx::{Pool, Transaction};

        use $crate::error::StoreError;
        use $crate::hash::{self, HashInput, canonical_json, format_timestamp};
        use $crate::model::RecordedEvent;
        use $crate::model::{
            Appended, EventMeta, NewEvent, ParticipantRow, Projection, SessionRow, SiteRow, UserRow,
        };
        use $crate::rows::{
            self, EventTuple, ParticipantTuple, RawEvent, SessionTuple, SiteTuple, UserTuple,
            event_columns, participant_columns, session_columns, user_columns,
        };

        /// Appends `events` to `stream` and applies `projections`, in one transaction.
        pub(crate) async fn append(
            pool: &Pool<Db>,
            stream: &str,
            expected_version: i64,
            events: &[NewEvent],
            meta: &EventMeta,
            projections: &[Projection],
        ) -> Result<Appended, StoreError> {
            let meta = EventMeta {
                recorded_at: hash::truncate_to_micros(meta.recorded_at),
                ..meta.clone()
            };
            let recorded_at = format_timestamp(meta.recorded_at);
            let payloads: Vec<String> = events.iter().map(|e| canonical_json(&e.payload)).collect();

            let mut tx = begin_append(pool).await?;
            let (head_seq, head_hash): (i64, String) =
                sqlx::query_as(LOCK_HEAD_SQL).fetch_one(&mut *tx).await?;
            let actual: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = $1",
            )
            .bind(stream)
            .fetch_one(&mut *tx)
            .await?;
            if actual != expected_version {
                // Dropping the transaction rolls it back.
                return Err(StoreError::Conflict {
                    stream: stream.to_owned(),
                    expected: expected_version,
                    actual,
                });
            }

            let mut seq = head_seq;
            let mut version = expected_version;
            let mut prev_hash = head_hash;
            for (event, payload) in events.iter().zip(&payloads) {
                seq += 1;
                version += 1;
                let row = HashInput {
                    prev_hash: &prev_hash,
                    seq,
                    stream,
                    version,
                    kind: &event.kind,
                    payload_json: payload,
                    meta: &meta,
                };
                prev_hash = insert_event(&mut tx, &row, &recorded_at).await?;
            }
            sqlx::query("UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(&prev_hash)
                .execute(&mut *tx)
                .await?;

            for projection in projections {
                apply_projection(&mut tx, projection).await?;
            }
            tx.commit().await?;
            Ok(Appended {
                stream_version: version,
                first_seq: head_seq + 1,
                last_seq: seq,
                head_hash: prev_hash,
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
                         site = excluded.site, password_hash = excluded.password_hash, \
                         active = excluded.active"
                    ))
                    .bind(&u.username)
                    .bind(&u.display_name)
                    .bind(&u.role)
                    .bind(&u.site)
                    .bind(&u.password_hash)
                    .bind(u.active)
                    .execute(&mut **tx)
                    .await?;
                }
            }
            Ok(())
        }

        /// A stream's events in version order.
        pub(crate) async fn read_stream(
            pool: &Pool<Db>,
            stream: &str,
        ) -> Result<Vec<RecordedEvent>, StoreError> {
            let rows: Vec<EventTuple> = sqlx::query_as(concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE stream = $1 ORDER BY version"
            ))
            .bind(stream)
            .fetch_all(pool)
            .await?;
            rows.into_iter()
                .map(|t| RawEvent::from(t).decode())
                .collect()
        }

        /// Up to `limit` events with `seq > after_seq`, undecoded, in seq order.
        pub(crate) async fn read_raw(
            pool: &Pool<Db>,
            after_seq: i64,
            limit: i64,
        ) -> Result<Vec<RawEvent>, StoreError> {
            let rows: Vec<EventTuple> = sqlx::query_as(concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"
            ))
            .bind(after_seq)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            Ok(rows.into_iter().map(RawEvent::from).collect())
        }

        /// A stream's current version (0 if it has no events).
        pub(crate) async fn stream_version(
            pool: &Pool<Db>,
            stream: &str,
        ) -> Result<i64, StoreError> {
            Ok(
                sqlx::query_scalar(
                    "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = $1",
                )
                .bind(stream)
                .fetch_one(pool)
                .await?,
            )
        }

        /// The chain head as recorded: `(seq, hash)` of the last event.
        pub(crate) async fn chain_head(pool: &Pool<Db>) -> Result<(i64, String), StoreError> {
            Ok(
                sqlx::query_as("SELECT seq, hash FROM chain_head WHERE id = 1")
                    .fetch_one(pool)
                    .await?,
            )
        }

        /// One participant row.
        pub(crate) async fn participant(
            pool: &Pool<Db>,
            study_id: &str,
        ) -> Result<Option<ParticipantRow>, StoreError> {
            let row: Option<ParticipantTuple> = sqlx::query_as(concat!(
                "SELECT ",
                participant_columns!(),
                " FROM participants WHERE study_id = $1"
            ))
            .bind(study_id)
            .fetch_optional(pool)
            .await?;
            row.map(rows::participant).transpose()
        }

        /// Participant rows, of one site or all, by study id.
        pub(crate) async fn participants(
            pool: &Pool<Db>,
            site: Option<&str>,
        ) -> Result<Vec<ParticipantRow>, StoreError> {
            let found: Vec<ParticipantTuple> = match site {
                Some(site) => {
                    sqlx::query_as(concat!(
                        "SELECT ",
                        participant_columns!(),
                        " FROM participants WHERE site = $1 ORDER BY study_id"
                    ))
                    .bind(site)
                    .fetch_all(pool)
                    .await?
                }
                None => {
                    sqlx::query_as(concat!(
                        "SELECT ",
                        participant_columns!(),
                        " FROM participants ORDER BY study_id"
                    ))
                    .fetch_all(pool)
                    .await?
                }
            };
            found.into_iter().map(rows::participant).collect()
        }

        /// How many participants a site has.
        pub(crate) async fn count_participants(
            pool: &Pool<Db>,
            site: &str,
        ) -> Result<i64, StoreError> {
            Ok(
                sqlx::query_scalar("SELECT COUNT(*) FROM participants WHERE site = $1")
                    .bind(site)
                    .fetch_one(pool)
                    .await?,
            )
        }

        /// One site row.
        pub(crate) async fn site(
            pool: &Pool<Db>,
            code: &str,
        ) -> Result<Option<SiteRow>, StoreError> {
            let row: Option<SiteTuple> =
                sqlx::query_as("SELECT code, name FROM sites WHERE code = $1")
                    .bind(code)
                    .fetch_optional(pool)
                    .await?;
            Ok(row.map(rows::site))
        }

        /// All site rows, by code.
        pub(crate) async fn sites(pool: &Pool<Db>) -> Result<Vec<SiteRow>, StoreError> {
            let found: Vec<SiteTuple> =
                sqlx::query_as("SELECT code, name FROM sites ORDER BY code")
                    .fetch_all(pool)
                    .await?;
            Ok(found.into_iter().map(rows::site).collect())
        }

        /// One user row.
        pub(crate) async fn user(
            pool: &Pool<Db>,
            username: &str,
        ) -> Result<Option<UserRow>, StoreError> {
            let row: Option<UserTuple> = sqlx::query_as(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE username = $1"
            ))
            .bind(username)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(rows::user))
        }

        /// All user rows, by username.
        pub(crate) async fn users(pool: &Pool<Db>) -> Result<Vec<UserRow>, StoreError> {
            let found: Vec<UserTuple> = sqlx::query_as(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users ORDER BY username"
            ))
            .fetch_all(pool)
            .await?;
            Ok(found.into_iter().map(rows::user).collect())
        }

        /// Stores a new login session.
        pub(crate) async fn create_session(
            pool: &Pool<Db>,
            s: &SessionRow,
        ) -> Result<(), StoreError> {
            sqlx::query(concat!(
                "INSERT INTO sessions (",
                session_columns!(),
                ") VALUES ($1, $2, $3, $4, $5)"
            ))
            .bind(&s.token_hash)
            .bind(&s.username)
            .bind(&s.csrf_token)
            .bind(format_timestamp(s.created_at))
            .bind(format_timestamp(s.expires_at))
            .execute(pool)
            .await?;
            Ok(())
        }

        /// One login session, expired or not.
        pub(crate) async fn session(
            pool: &Pool<Db>,
            token_hash: &str,
        ) -> Result<Option<SessionRow>, StoreError> {
            let row: Option<SessionTuple> = sqlx::query_as(concat!(
                "SELECT ",
                session_columns!(),
                " FROM sessions WHERE token_hash = $1"
            ))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
            row.map(rows::session).transpose()
        }

        /// Ends a login session (no error if it does not exist).
        pub(crate) async fn delete_session(
            pool: &Pool<Db>,
            token_hash: &str,
        ) -> Result<(), StoreError> {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
            Ok(())
        }

        /// Deletes sessions that expired at or before `now`; returns how many.
        pub(crate) async fn purge_expired_sessions(
            pool: &Pool<Db>,
            now: DateTime<Utc>,
        ) -> Result<u64, StoreError> {
            // Stored times are fixed-width RFC 3339 UTC, so text order is time order.
            let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(format_timestamp(now))
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        }
    };
}

pub(crate) use shared_queries;
