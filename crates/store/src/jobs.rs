//! Imaging jobs: work requested through the application and done by a worker process
//! (see migration `0007_imaging_jobs`).
//!
//! A job moves `queued` → `running` → `done` | `failed`. A worker takes the oldest job
//! that is queued, or running with a lease that has run out (its worker stopped
//! renewing: it died), so nothing is lost to a killed worker. On PostgreSQL several
//! workers take jobs at once (`FOR UPDATE SKIP LOCKED`: each skips the rows another is
//! taking); on SQLite the one writer takes them in turn. A worker may finish or renew only
//! a job it still holds, so a worker whose lease was taken over cannot overwrite the new
//! holder's result.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// Held by a worker until its lease runs out.
    Running,
    /// Done; `outcome` says what was recorded.
    Done,
    /// Given up; `outcome` says why.
    Failed,
}

impl JobState {
    /// The word stored in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    /// Parses a stored word.
    pub fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ => return None,
        })
    }

    /// Whether the job is still to be done (queued or running).
    pub fn is_open(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

/// A quantification to queue: a series read as one participant's exam.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImagingJob {
    /// The participant.
    pub study_id: String,
    /// Her site.
    pub site: String,
    /// The exam's timepoint id (`pet1`, `pet2`).
    pub timepoint: String,
    /// The archived series to read.
    pub series_uid: String,
    /// Why a series whose PatientID is not her study id is hers, when it is not.
    pub assignment_reason: Option<String>,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: DateTime<Utc>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImagingJob {
    /// Its number, in order of request.
    pub id: i64,
    /// The participant.
    pub study_id: String,
    /// Her site.
    pub site: String,
    /// The exam's timepoint id.
    pub timepoint: String,
    /// The series to read.
    pub series_uid: String,
    /// Why the series is hers although its PatientID differs, when given.
    pub assignment_reason: Option<String>,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// Where it is.
    pub state: JobState,
    /// How many times a worker took it.
    pub attempts: i64,
    /// The worker holding it (or that last held it).
    pub worker: Option<String>,
    /// Until when its worker holds it.
    pub lease_until: Option<DateTime<Utc>>,
    /// When it was done or given up.
    pub finished_at: Option<DateTime<Utc>>,
    /// What was recorded (done), or why not (failed).
    pub outcome: Option<String>,
}

/// Columns of `imaging_jobs`, in the order of [`JobTuple`].
macro_rules! job_columns {
    () => {
        "id, study_id, site, timepoint, series_uid, assignment_reason, requested_by, \
         requested_at, state, attempts, worker, lease_until, finished_at, outcome"
    };
}
pub(crate) use job_columns;

/// One `imaging_jobs` row, undecoded.
pub(crate) type JobTuple = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Decodes a row.
pub(crate) fn job(t: JobTuple) -> Result<ImagingJob, crate::StoreError> {
    let (id, study_id, site, timepoint, series_uid, assignment_reason, requested_by) =
        (t.0, t.1, t.2, t.3, t.4, t.5, t.6);
    let time = |text: &str, what: &str| {
        crate::hash::parse_timestamp(text).map_err(|e| {
            crate::StoreError::Corrupt(format!(
                "{what} of imaging job {id} is not an RFC 3339 time ({text:?}): {e}"
            ))
        })
    };
    let optional = |text: Option<String>, what: &str| text.map(|t| time(&t, what)).transpose();
    let state = JobState::parse(&t.8).ok_or_else(|| {
        crate::StoreError::Corrupt(format!("imaging job {id} has unknown state {:?}", t.8))
    })?;
    Ok(ImagingJob {
        id,
        study_id,
        site,
        timepoint,
        series_uid,
        assignment_reason,
        requested_by,
        requested_at: time(&t.7, "requested_at")?,
        state,
        attempts: t.9,
        worker: t.10,
        lease_until: optional(t.11, "lease_until")?,
        finished_at: optional(t.12, "finished_at")?,
        outcome: t.13,
    })
}
