//! The imaging jobs (see [`crate::jobs`]): queued, taken by a worker under a lease,
//! renewed, finished, and read for the pages.

/// Expands the job functions in the calling backend module (see [`super`]), which must
/// also define `const TAKE_JOB_LOCK: &str`: what the choice of the next job adds so that
/// concurrent workers skip each other's rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
macro_rules! job_queries {
    () => {
        use $crate::jobs::{ImagingJob, JobState, JobTuple, NewImagingJob, job_columns};

        /// Queues a job unless its exam has an open one; returns the job queued, or
        /// `None` when another is open (see [`open_job_of_exam`]).
        pub(crate) async fn insert_job(
            pool: &Pool<Db>,
            j: &NewImagingJob,
        ) -> Result<Option<ImagingJob>, StoreError> {
            let row: Option<JobTuple> = sqlx::query_as(concat!(
                "INSERT INTO imaging_jobs (study_id, site, timepoint, series_uid, \
                 assignment_reason, requested_by, requested_at, state) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued') ON CONFLICT DO NOTHING \
                 RETURNING ",
                job_columns!()
            ))
            .bind(&j.study_id)
            .bind(&j.site)
            .bind(&j.timepoint)
            .bind(&j.series_uid)
            .bind(&j.assignment_reason)
            .bind(&j.requested_by)
            .bind(format_timestamp(j.requested_at))
            .fetch_optional(pool)
            .await?;
            row.map($crate::jobs::job).transpose()
        }

        /// The open (queued or running) job of an exam, if any.
        pub(crate) async fn open_job_of_exam(
            pool: &Pool<Db>,
            study_id: &str,
            timepoint: &str,
        ) -> Result<Option<ImagingJob>, StoreError> {
            let row: Option<JobTuple> = sqlx::query_as(concat!(
                "SELECT ",
                job_columns!(),
                " FROM imaging_jobs WHERE study_id = $1 AND timepoint = $2 \
                 AND state IN ('queued', 'running')"
            ))
            .bind(study_id)
            .bind(timepoint)
            .fetch_optional(pool)
            .await?;
            row.map($crate::jobs::job).transpose()
        }

        /// One job by its number.
        pub(crate) async fn job(
            pool: &Pool<Db>,
            id: i64,
        ) -> Result<Option<ImagingJob>, StoreError> {
            let row: Option<JobTuple> = sqlx::query_as(concat!(
                "SELECT ",
                job_columns!(),
                " FROM imaging_jobs WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?;
            row.map($crate::jobs::job).transpose()
        }

        /// A participant's jobs, newest first.
        pub(crate) async fn jobs_of(
            pool: &Pool<Db>,
            study_id: &str,
        ) -> Result<Vec<ImagingJob>, StoreError> {
            let rows: Vec<JobTuple> = sqlx::query_as(concat!(
                "SELECT ",
                job_columns!(),
                " FROM imaging_jobs WHERE study_id = $1 ORDER BY id DESC"
            ))
            .bind(study_id)
            .fetch_all(pool)
            .await?;
            rows.into_iter().map($crate::jobs::job).collect()
        }

        /// How many jobs are in each state.
        pub(crate) async fn job_counts(
            pool: &Pool<Db>,
        ) -> Result<Vec<(JobState, i64)>, StoreError> {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT state, COUNT(*) FROM imaging_jobs GROUP BY state ORDER BY state",
            )
            .fetch_all(pool)
            .await?;
            rows.into_iter()
                .map(|(s, n)| {
                    JobState::parse(&s)
                        .map(|s| (s, n))
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown job state {s:?}")))
                })
                .collect()
        }

        /// Takes the oldest job that is queued, or running with its lease run out, for
        /// `worker` until `lease_until`.
        pub(crate) async fn take_job(
            pool: &Pool<Db>,
            worker: &str,
            now: DateTime<Utc>,
            lease_until: DateTime<Utc>,
        ) -> Result<Option<ImagingJob>, StoreError> {
            let sql = format!(
                "UPDATE imaging_jobs SET state = 'running', worker = $1, lease_until = $3, \
                 attempts = attempts + 1 \
                 WHERE id = (SELECT id FROM imaging_jobs \
                 WHERE state = 'queued' OR (state = 'running' AND lease_until < $2) \
                 ORDER BY id LIMIT 1{TAKE_JOB_LOCK}) RETURNING {}",
                job_columns!()
            );
            let row: Option<JobTuple> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(worker)
                .bind(format_timestamp(now))
                .bind(format_timestamp(lease_until))
                .fetch_optional(pool)
                .await?;
            row.map($crate::jobs::job).transpose()
        }

        /// Extends the lease of a job `worker` still holds; false when it holds it no more.
        pub(crate) async fn renew_job(
            pool: &Pool<Db>,
            id: i64,
            worker: &str,
            lease_until: DateTime<Utc>,
        ) -> Result<bool, StoreError> {
            let done = sqlx::query(
                "UPDATE imaging_jobs SET lease_until = $3 \
                 WHERE id = $1 AND worker = $2 AND state = 'running'",
            )
            .bind(id)
            .bind(worker)
            .bind(format_timestamp(lease_until))
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        /// Ends a job `worker` still holds as `state` (done or failed) with `outcome`;
        /// false when it holds it no more (nothing is changed then).
        pub(crate) async fn finish_job(
            pool: &Pool<Db>,
            id: i64,
            worker: &str,
            state: JobState,
            outcome: &str,
            at: DateTime<Utc>,
        ) -> Result<bool, StoreError> {
            let done = sqlx::query(
                "UPDATE imaging_jobs SET state = $3, outcome = $4, finished_at = $5, \
                 lease_until = NULL WHERE id = $1 AND worker = $2 AND state = 'running'",
            )
            .bind(id)
            .bind(worker)
            .bind(state.as_str())
            .bind(outcome)
            .bind(format_timestamp(at))
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        }
    };
}

pub(crate) use job_queries;
