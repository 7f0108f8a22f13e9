//! The paged lists: a page of rows and the number matching, from one snapshot.
//!
//! Their SQL is put together from fixed fragments and numbered placeholders
//! ([`crate::lists::Filter`]); no value is ever written into it, hence the
//! `AssertSqlSafe`.

/// Expands the list functions in the calling backend module (see [`super`]).
macro_rules! list_queries {
    () => {
        /// A page of participant list rows by study id, and how many match.
        pub(crate) async fn participants_page(
            pool: &Pool<Db>,
            q: &ParticipantQuery,
        ) -> Result<(Vec<ParticipantListRow>, u64), StoreError> {
            let filter = Filter::new(1)
                .equals("site", q.site.as_deref())
                .equals("state", q.state.as_deref())
                .contains("study_id", CASE_INSENSITIVE_LIKE, q.search.as_deref());
            let where_clause = filter.where_clause(None);
            let mut tx = begin_read(pool).await?;

            let mut count = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM participants{where_clause}"
            )));
            for value in filter.values() {
                count = count.bind(value);
            }
            let total: i64 = count.fetch_one(&mut *tx).await?;
            let total = u64::try_from(total).unwrap_or(0);

            let mut found = Vec::new();
            if q.limit > 0 && u64::from(q.offset) < total {
                let n = filter.next_placeholder();
                let mut page = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {} FROM participants{where_clause} ORDER BY study_id \
                     LIMIT ${n} OFFSET ${}",
                    participant_list_columns!(),
                    n + 1
                )));
                for value in filter.values() {
                    page = page.bind(value);
                }
                let rows: Vec<ParticipantListTuple> = page
                    .bind(i64::from(q.limit))
                    .bind(i64::from(q.offset))
                    .fetch_all(&mut *tx)
                    .await?;
                found = rows
                    .into_iter()
                    .map(rows::participant_list_row)
                    .collect::<Result<_, _>>()?;
            }
            tx.commit().await?;
            Ok((found, total))
        }

        /// A page of open visits (overdue, due, upcoming; each by last day, study id,
        /// kind), and how many are open.
        pub(crate) async fn open_visits(
            pool: &Pool<Db>,
            q: &VisitQuery,
        ) -> Result<(Vec<VisitRow>, u64), StoreError> {
            // `$1` is today in every statement; the filter's values follow it.
            let filter = Filter::new(2).equals("site", q.site.as_deref()).contains(
                "study_id",
                CASE_INSENSITIVE_LIKE,
                q.search.as_deref(),
            );
            let mut tx = begin_read(pool).await?;

            let mut count =
                sqlx::query_as(AssertSqlSafe(visits::counts_sql(&filter))).bind(q.today);
            for value in filter.values() {
                count = count.bind(value);
            }
            let (overdue, due, from_today): (i64, i64, i64) = count.fetch_one(&mut *tx).await?;
            let counts = [overdue, due, from_today - due].map(|n| u64::try_from(n).unwrap_or(0));

            let mut found = Vec::new();
            let n = filter.next_placeholder();
            for window in visits::page_windows(counts, q.offset.into(), q.limit.into()) {
                let mut page = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {} FROM visits{} ORDER BY latest, study_id, kind \
                     LIMIT ${n} OFFSET ${}",
                    visit_columns!(),
                    filter.where_clause(Some(window.status.condition())),
                    n + 1
                )))
                .bind(q.today);
                for value in filter.values() {
                    page = page.bind(value);
                }
                // Page windows are at most MAX_PAGE_SIZE long and start within a count.
                let rows: Vec<VisitTuple> = page
                    .bind(i64::try_from(window.limit).unwrap_or(i64::MAX))
                    .bind(i64::try_from(window.offset).unwrap_or(i64::MAX))
                    .fetch_all(&mut *tx)
                    .await?;
                for row in rows {
                    found.push(rows::visit(row)?);
                }
            }
            tx.commit().await?;
            Ok((found, counts.iter().sum()))
        }
    };
}

pub(crate) use list_queries;
