//! The accounts' infrastructure beside the log: password credentials (which only the
//! sign-in path reads and which never enter an event), failure counts and the inactivity
//! time of sessions. The audit-only appends of failed sign-ins and signatures are log
//! writes like any other ([`super::write`]).

/// Expands the account functions in the calling backend module (see [`super`]).
macro_rules! account_queries {
    () => {
        /// One user's credentials.
        pub(crate) async fn credential(
            pool: &Pool<Db>,
            username: &str,
        ) -> Result<Option<CredentialRow>, StoreError> {
            let row: Option<CredentialTuple> = sqlx::query_as(concat!(
                "SELECT ",
                credential_columns!(),
                " FROM credentials WHERE username = $1"
            ))
            .bind(username)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(rows::credential))
        }

        /// Counts one more failed password check; returns the new count (none: no
        /// credentials for this user).
        pub(crate) async fn record_failure(
            pool: &Pool<Db>,
            username: &str,
        ) -> Result<Option<i64>, StoreError> {
            Ok(sqlx::query_scalar(
                "UPDATE credentials SET failures = failures + 1 WHERE username = $1 \
                 RETURNING failures",
            )
            .bind(username)
            .fetch_optional(pool)
            .await?)
        }

        /// Sets a user's failure count back to zero.
        pub(crate) async fn clear_failures(
            pool: &Pool<Db>,
            username: &str,
        ) -> Result<(), StoreError> {
            sqlx::query("UPDATE credentials SET failures = 0 WHERE username = $1")
                .bind(username)
                .execute(pool)
                .await?;
            Ok(())
        }

        /// Records that a session was used at `at`.
        pub(crate) async fn touch_session(
            pool: &Pool<Db>,
            token_hash: &str,
            at: DateTime<Utc>,
        ) -> Result<(), StoreError> {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(format_timestamp(at))
                .execute(pool)
                .await?;
            Ok(())
        }

        /// Ends every session of a user; returns how many.
        pub(crate) async fn delete_sessions_of(
            pool: &Pool<Db>,
            username: &str,
        ) -> Result<u64, StoreError> {
            let done = sqlx::query("DELETE FROM sessions WHERE username = $1")
                .bind(username)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        }

        /// Deletes the sessions that expired at or before `now` or were last used at or
        /// before `idle_since`; returns how many.
        pub(crate) async fn purge_sessions(
            pool: &Pool<Db>,
            now: DateTime<Utc>,
            idle_since: DateTime<Utc>,
        ) -> Result<u64, StoreError> {
            // Stored times are fixed-width RFC 3339 UTC, so text order is time order.
            let done =
                sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                    .bind(format_timestamp(now))
                    .bind(format_timestamp(idle_since))
                    .execute(pool)
                    .await?;
            Ok(done.rows_affected())
        }

        /// The user names that own at least one stored session, in order.
        pub(crate) async fn session_owners(pool: &Pool<Db>) -> Result<Vec<String>, StoreError> {
            let owners: Vec<(String,)> =
                sqlx::query_as("SELECT DISTINCT username FROM sessions ORDER BY username")
                    .fetch_all(pool)
                    .await?;
            Ok(owners.into_iter().map(|(u,)| u).collect())
        }
    };
}

pub(crate) use account_queries;
