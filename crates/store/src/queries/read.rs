//! Reads of single rows and of the log: events, participants, sites, users, sessions
//! (and the session writes, which are infrastructure, not trial data).

/// Expands the read functions in the calling backend module (see [`super`]).
macro_rules! read_queries {
    () => {
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

        /// A page of a stream's events, newest first, optionally only those recorded
        /// for one site, with how many there are in all (both read in one snapshot).
        pub(crate) async fn read_stream_newest(
            pool: &Pool<Db>,
            stream: &str,
            site: Option<&str>,
            limit: i64,
            offset: i64,
        ) -> Result<(Vec<RecordedEvent>, u64), StoreError> {
            let mut tx = begin_read(pool).await?;
            let total: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM events WHERE stream = $1 AND ($2 IS NULL OR site = $2)",
            )
            .bind(stream)
            .bind(site)
            .fetch_one(&mut *tx)
            .await?;
            let rows: Vec<EventTuple> = sqlx::query_as(concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE stream = $1 AND ($2 IS NULL OR site = $2) \
                 ORDER BY version DESC LIMIT $3 OFFSET $4"
            ))
            .bind(stream)
            .bind(site)
            .bind(limit)
            .bind(offset)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            let events = rows
                .into_iter()
                .map(|t| RawEvent::from(t).decode())
                .collect::<Result<Vec<_>, _>>()?;
            Ok((events, u64::try_from(total).unwrap_or(0)))
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

        /// The current versions of two streams, in one statement (0 for a stream that
        /// does not exist).
        pub(crate) async fn stream_versions(
            pool: &Pool<Db>,
            first: &str,
            second: &str,
        ) -> Result<(i64, i64), StoreError> {
            Ok(sqlx::query_as(
                "SELECT (SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = $1), \
                 (SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = $2)",
            )
            .bind(first)
            .bind(second)
            .fetch_one(pool)
            .await?)
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

        /// The last event recorded at or before `as_of` (a stored timestamp) such that no
        /// earlier event was recorded after it: `(seq, hash)` of the log prefix's head.
        pub(crate) async fn head_as_of(
            pool: &Pool<Db>,
            as_of: &str,
        ) -> Result<Option<(i64, String)>, StoreError> {
            Ok(sqlx::query_as(
                "SELECT seq, hash FROM events WHERE seq < COALESCE(\
                 (SELECT MIN(seq) FROM events WHERE recorded_at > $1), 9223372036854775807) \
                 ORDER BY seq DESC LIMIT 1",
            )
            .bind(as_of)
            .fetch_optional(pool)
            .await?)
        }

        /// Every participant's study id and site, by study id (no snapshots).
        pub(crate) async fn participant_ids(
            pool: &Pool<Db>,
        ) -> Result<Vec<(String, String)>, StoreError> {
            Ok(
                sqlx::query_as("SELECT study_id, site FROM participants ORDER BY study_id")
                    .fetch_all(pool)
                    .await?,
            )
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
                ") VALUES ($1, $2, $3, $4, $5, $6)"
            ))
            .bind(&s.token_hash)
            .bind(&s.username)
            .bind(&s.csrf_token)
            .bind(format_timestamp(s.created_at))
            .bind(format_timestamp(s.expires_at))
            .bind(format_timestamp(s.last_seen_at))
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

        /// One login session with its user's row and whether her password must change,
        /// in one statement: the read every signed-in request starts with.
        pub(crate) async fn session_account(
            pool: &Pool<Db>,
            token_hash: &str,
        ) -> Result<Option<SessionAccount>, StoreError> {
            let row: Option<SessionAccountTuple> = sqlx::query_as(
                "SELECT s.token_hash, s.username, s.csrf_token, s.created_at, s.expires_at, \
                 s.last_seen_at, u.display_name, u.role, u.site, u.active, u.locked, \
                 c.must_change \
                 FROM sessions s \
                 LEFT JOIN users u ON u.username = s.username \
                 LEFT JOIN credentials c ON c.username = s.username \
                 WHERE s.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
            row.map(rows::session_account).transpose()
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

pub(crate) use read_queries;
