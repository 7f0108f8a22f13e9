//! Writes: a group of log writes (appends, batches, visit rebuilds) in one transaction,
//! for the committer ([`crate::committer`]).
//!
//! A group holds the chain head from its first statement to its commit, so writers are
//! serialised and the chain has one order. It reads what its requests need to be decided
//! (the chain head, their streams' versions), plans them in memory ([`crate::plan`]), and
//! writes the plan with a statement or two per table, however many requests it holds.

/// Rows a multi-row statement writes at most: 2 400 values at 12 columns, well inside
/// SQLite's 32 766 and PostgreSQL's 65 535.
pub(crate) const ROWS_PER_STATEMENT: usize = 200;

/// How a backend writes the placeholders of the statements built here, whose values
/// are all bound in the order their placeholders appear.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Placeholders {
    /// `$1, $2, …` (PostgreSQL).
    Numbered,
    /// `?, ?, …` (SQLite). SQLite files a `$n` under its name and looks every later one up
    /// in that list while parsing, and sqlx looks each one's name up again to bind it: a
    /// statement of n such placeholders costs n² string compares, which for the archive
    /// index's batches of 3 000 values was an eighth of the DICOM receiver's time. An
    /// anonymous `?` simply takes the next number.
    Anonymous,
}

/// `$first, $first+1, …` (or as many `?`) for `n` values.
pub(crate) fn placeholders(style: Placeholders, first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| match style {
            Placeholders::Numbered => format!("${i}"),
            Placeholders::Anonymous => "?".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, $2), ($3, $4), …`: `rows` rows of `columns` values.
pub(crate) fn value_rows(style: Placeholders, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(style, r * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Expands the write functions in the calling backend module (see [`super`]).
macro_rules! write_queries {
    () => {
        /// Starts a log-writing transaction and reads the chain head `(seq, hash)`, locked.
        async fn begin_with_head(
            pool: &Pool<Db>,
        ) -> Result<(Transaction<'static, Db>, i64, String), sqlx::Error> {
            let mut tx = begin_append(pool).await?;
            let (seq, hash): (i64, String) =
                sqlx::query_as(LOCK_HEAD_SQL).fetch_one(&mut *tx).await?;
            Ok((tx, seq, hash))
        }

        /// Records the new chain head and commits.
        async fn commit_with_head(
            mut tx: Transaction<'static, Db>,
            seq: i64,
            hash: &str,
        ) -> Result<(), sqlx::Error> {
            sqlx::query("UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }

        /// Writes `requests` in order in ONE transaction and commits once: one disk flush
        /// for the whole group. Each request keeps its own result (what it appended, or
        /// why it was refused), to be sent once this returns `Ok`.
        ///
        /// The group is planned in memory and written in a few statements. If the
        /// database refuses those (a constraint one request broke), the group is written
        /// again one request at a time, each in a savepoint, so only the request at fault
        /// fails. The error is the transaction's own failure (begin, commit, the
        /// connection): then none of the group is acknowledged.
        pub(crate) async fn write_group(
            pool: &Pool<Db>,
            requests: &mut [Request],
        ) -> Result<(), sqlx::Error> {
            let (mut tx, seq, hash) = begin_with_head(pool).await?;
            let start = read_start(&mut tx, seq, hash, requests).await?;
            let plan = Plan::new(start, requests);
            if plan.is_empty() {
                // Every request was refused on its own terms; dropping the transaction
                // rolls back what it read.
                return Ok(());
            }
            match write_plan(&mut tx, &plan).await {
                Ok(()) => commit_with_head(tx, plan.seq, &plan.hash).await,
                // Alone in its group, the request is the one at fault.
                Err(e) if requests.len() == 1 => Err(e),
                Err(e) => {
                    tracing::debug!(
                        error = %e,
                        writes = requests.len(),
                        "a group's rows were refused; writing its requests one by one"
                    );
                    tx.rollback().await?;
                    write_one_by_one(pool, requests).await
                }
            }
        }

        /// Writes `requests` in one transaction, each planned and written alone in a
        /// savepoint: a request the database refuses is rolled back alone and keeps the
        /// database's error, and the next continues the chain from the one before it.
        async fn write_one_by_one(
            pool: &Pool<Db>,
            requests: &mut [Request],
        ) -> Result<(), sqlx::Error> {
            let (mut tx, mut seq, mut hash) = begin_with_head(pool).await?;
            let mut written = false;
            for request in requests.iter_mut() {
                let alone = std::slice::from_mut(request);
                let start = read_start(&mut tx, seq, hash.clone(), alone).await?;
                let plan = Plan::new(start, alone);
                if plan.is_empty() {
                    continue;
                }
                sqlx::query("SAVEPOINT request").execute(&mut *tx).await?;
                match write_plan(&mut tx, &plan).await {
                    Ok(()) => {
                        (seq, hash) = (plan.seq, plan.hash);
                        written = true;
                    }
                    Err(e) => {
                        sqlx::query("ROLLBACK TO SAVEPOINT request")
                            .execute(&mut *tx)
                            .await?;
                        request.refuse(StoreError::Database(e));
                    }
                }
                sqlx::query("RELEASE SAVEPOINT request")
                    .execute(&mut *tx)
                    .await?;
            }
            if written {
                commit_with_head(tx, seq, &hash).await?;
            }
            Ok(())
        }

        /// Reads what `requests` need to be planned after the chain head `(seq, hash)`:
        /// the versions of the streams they append to and of the participant rows whose
        /// visits they rebuild.
        async fn read_start(
            tx: &mut Transaction<'static, Db>,
            seq: i64,
            hash: String,
            requests: &[Request],
        ) -> Result<Start, sqlx::Error> {
            let mut streams = std::collections::BTreeSet::new();
            let mut participants = std::collections::BTreeSet::new();
            for request in requests {
                match request {
                    Request::Append(part, _) => {
                        streams.insert(part.stream.as_str());
                        streams.extend(part.unchanged.iter().map(|(s, _)| s.as_str()));
                    }
                    Request::Batch(parts, _) => {
                        for part in parts {
                            streams.insert(part.stream.as_str());
                            streams.extend(part.unchanged.iter().map(|(s, _)| s.as_str()));
                        }
                    }
                    Request::RebuildVisits(schedules, _) => {
                        participants.extend(schedules.iter().map(|s| s.study_id.as_str()));
                    }
                }
            }
            let versions = versions_of(
                tx,
                "SELECT stream, MAX(version) FROM events WHERE stream IN ({}) GROUP BY stream",
                streams,
            )
            .await?;
            let participant_versions = versions_of(
                tx,
                "SELECT study_id, version FROM participants WHERE study_id IN ({})",
                participants,
            )
            .await?;
            Ok(Start {
                seq,
                hash,
                versions,
                participant_versions,
            })
        }

        /// Runs `select` (a query of `(key, version)` rows with `{}` where its list of
        /// keys goes) for `keys`, a few hundred at a time.
        async fn versions_of(
            tx: &mut Transaction<'static, Db>,
            select: &str,
            keys: std::collections::BTreeSet<&str>,
        ) -> Result<std::collections::HashMap<String, i64>, sqlx::Error> {
            let keys: Vec<&str> = keys.into_iter().collect();
            let mut versions = std::collections::HashMap::with_capacity(keys.len());
            for chunk in keys.chunks(ROWS_PER_STATEMENT) {
                let sql = select.replace("{}", &placeholders(PLACEHOLDERS, 1, chunk.len()));
                let mut query = sqlx::query_as(AssertSqlSafe(sql)).persistent(false);
                for key in chunk {
                    query = query.bind(*key);
                }
                let rows: Vec<(String, i64)> = query.fetch_all(&mut **tx).await?;
                versions.extend(rows);
            }
            Ok(versions)
        }

        /// Writes the plan's events and read rows (not the chain head).
        async fn write_plan(
            tx: &mut Transaction<'static, Db>,
            plan: &Plan,
        ) -> Result<(), sqlx::Error> {
            for chunk in plan.events.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO events ({}) VALUES {}",
                    event_columns!(),
                    value_rows(PLACEHOLDERS, chunk.len(), 12)
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for e in chunk {
                    query = query
                        .bind(e.seq)
                        .bind(&e.stream)
                        .bind(e.version)
                        .bind(&e.kind)
                        .bind(&e.payload)
                        .bind(&e.meta.actor)
                        .bind(&e.meta.role)
                        .bind(&e.meta.site)
                        .bind(&e.recorded_at)
                        .bind(&e.meta.reason)
                        .bind(&e.prev_hash)
                        .bind(&e.hash);
                }
                query.execute(&mut **tx).await?;
            }
            let sites: Vec<_> = plan.sites.values().collect();
            for chunk in sites.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO sites (code, name) VALUES {} \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name",
                    value_rows(PLACEHOLDERS, chunk.len(), 2)
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for s in chunk {
                    query = query.bind(&s.code).bind(&s.name);
                }
                query.execute(&mut **tx).await?;
            }
            // Users before credentials, which refer to them. (So a credential whose user
            // a later write of the same group adds is accepted, where one write at a time
            // would have refused it; the rows at commit are consistent either way.)
            let users: Vec<_> = plan.users.values().collect();
            for chunk in users.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO users ({}) VALUES {} ON CONFLICT (username) DO UPDATE SET \
                         display_name = excluded.display_name, role = excluded.role, \
                         site = excluded.site, active = excluded.active, \
                         locked = excluded.locked",
                    user_columns!(),
                    value_rows(PLACEHOLDERS, chunk.len(), 6)
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for u in chunk {
                    query = query
                        .bind(&u.username)
                        .bind(&u.display_name)
                        .bind(&u.role)
                        .bind(&u.site)
                        .bind(u.active)
                        .bind(u.locked);
                }
                query.execute(&mut **tx).await?;
            }
            let credentials: Vec<_> = plan.credentials.values().collect();
            for chunk in credentials.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO credentials ({}) VALUES {} ON CONFLICT (username) DO UPDATE SET \
                         password_hash = excluded.password_hash, \
                         must_change = excluded.must_change, failures = excluded.failures",
                    credential_columns!(),
                    value_rows(PLACEHOLDERS, chunk.len(), 4)
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for c in chunk {
                    query = query
                        .bind(&c.username)
                        .bind(&c.password_hash)
                        .bind(c.must_change)
                        .bind(c.failures);
                }
                query.execute(&mut **tx).await?;
            }
            let participants: Vec<_> = plan.participants.values().collect();
            for chunk in participants.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO participants ({}) VALUES {} ON CONFLICT (study_id) DO UPDATE SET \
                         site = excluded.site, state = excluded.state, \
                         version = excluded.version, snapshot = excluded.snapshot, \
                         updated_at = excluded.updated_at",
                    participant_columns!(),
                    value_rows(PLACEHOLDERS, chunk.len(), 6)
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for p in chunk {
                    query = query
                        .bind(&p.study_id)
                        .bind(&p.site)
                        .bind(&p.state)
                        .bind(p.version)
                        .bind(canonical_json(&p.snapshot))
                        .bind(format_timestamp(p.updated_at));
                }
                query.execute(&mut **tx).await?;
            }
            write_visits(tx, &plan.visits).await
        }

        /// Replaces the visit rows of each participant in `visits`.
        async fn write_visits(
            tx: &mut Transaction<'static, Db>,
            visits: &std::collections::BTreeMap<String, Vec<VisitRow>>,
        ) -> Result<(), sqlx::Error> {
            let study_ids: Vec<&String> = visits.keys().collect();
            for chunk in study_ids.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "DELETE FROM visits WHERE study_id IN ({})",
                    placeholders(PLACEHOLDERS, 1, chunk.len())
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for study_id in chunk {
                    query = query.bind(*study_id);
                }
                query.execute(&mut **tx).await?;
            }
            let rows: Vec<&VisitRow> = visits.values().flatten().collect();
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO visits ({}) VALUES {}",
                    visit_columns!(),
                    value_rows(PLACEHOLDERS, chunk.len(), 7)
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for row in chunk {
                    query = query
                        .bind(&row.study_id)
                        .bind(&row.site)
                        .bind(&row.kind)
                        .bind(row.earliest)
                        .bind(row.latest)
                        .bind(row.required)
                        .bind(canonical_json(&row.detail));
                }
                query.execute(&mut **tx).await?;
            }
            Ok(())
        }
    };
}

pub(crate) use write_queries;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_values_number_their_placeholders_row_by_row() {
        use Placeholders::{Anonymous, Numbered};
        assert_eq!(placeholders(Numbered, 3, 2), "$3, $4");
        assert_eq!(value_rows(Numbered, 1, 2), "($1, $2)");
        assert_eq!(value_rows(Numbered, 3, 2), "($1, $2), ($3, $4), ($5, $6)");
        assert_eq!(value_rows(Anonymous, 2, 2), "(?, ?), (?, ?)");
    }
}
