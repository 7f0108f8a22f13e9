//! Imaging jobs: a quantification asked for through the application is queued, and a
//! worker reads the series and records the result, outside the request that asked.
//!
//! - [`Trial::request_quantification`] makes every check a quantification makes before
//!   the series is read (role, site, series, assignment, version, IMP administration) and
//!   queues the job; the answer says where it is, and the exam's page follows it.
//! - A worker ([`Trial::run_worker`]: in `her2ex serve`, or `her2ex worker` processes)
//!   takes the oldest open job under a lease it renews while it reads the series, then
//!   records the quantification through the audited write path as the user who asked.
//!   A worker killed mid-job stops renewing; when the lease has run out another takes the
//!   job again.
//! - The result is written once: before recording, the worker looks at her exam, and a
//!   quantification of the job's series recorded since the job was asked for means the
//!   job was done by a worker that died before saying so.

use std::future::Future;
use std::time::Duration;

use protocol::PetTimepoint;
use serde::Serialize;
use store::{ImagingJob, JobState, NewImagingJob};

use crate::Trial;
use crate::access::{Actor, User};
use crate::error::{Error, Result};
use crate::imaging::timepoint;

/// How long a worker holds a job without renewing its lease.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// How often an idle worker looks for a job queued by another process (one in its own
/// process wakes it at once).
pub const DEFAULT_POLL: Duration = Duration::from_secs(1);

/// How many times a result is recorded again when her record changed meanwhile.
const RECORD_ATTEMPTS: usize = 5;

/// A job as the pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ImagingJobView {
    /// Its number.
    pub id: i64,
    /// The participant.
    pub study_id: String,
    /// The exam's time point (`pet1`, `pet2`).
    pub timepoint: String,
    /// The series read.
    pub series_instance_uid: String,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// How many times a worker took it.
    pub attempts: i64,
    /// Who asked.
    pub requested_by: String,
    /// When (RFC 3339).
    pub requested_at: String,
    /// When it was done or given up (RFC 3339).
    pub finished_at: Option<String>,
    /// What was recorded (done), or why not (failed).
    pub outcome: Option<String>,
    /// Where to follow it.
    pub url: String,
}

impl From<&ImagingJob> for ImagingJobView {
    fn from(j: &ImagingJob) -> Self {
        ImagingJobView {
            id: j.id,
            study_id: j.study_id.clone(),
            timepoint: j.timepoint.clone(),
            series_instance_uid: j.series_uid.clone(),
            state: j.state.as_str().to_string(),
            attempts: j.attempts,
            requested_by: j.requested_by.clone(),
            requested_at: j.requested_at.to_rfc3339(),
            finished_at: j.finished_at.map(|t| t.to_rfc3339()),
            outcome: j.outcome.clone(),
            url: format!("/api/v1/participants/{}/imaging-jobs/{}", j.study_id, j.id),
        }
    }
}

impl ImagingJobView {
    /// Whether the job is still to be done.
    pub fn is_open(&self) -> bool {
        self.state == "queued" || self.state == "running"
    }
}

/// How a worker works.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Its name, unique among the workers of the database (see [`worker_name`]).
    pub name: String,
    /// How long it holds a job between renewals (renewed every third of it).
    pub lease: Duration,
    /// How often it looks for work when idle.
    pub poll: Duration,
}

impl WorkerOptions {
    /// A worker named `name` with the default lease and poll.
    pub fn new(name: impl Into<String>) -> Self {
        WorkerOptions {
            name: name.into(),
            lease: DEFAULT_LEASE,
            poll: DEFAULT_POLL,
        }
    }
}

/// A worker name unique to this process: `kind`, the host, the process id and a random
/// tail (two workers of one process get different names).
pub fn worker_name(kind: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let tail: u32 = rand::random();
    format!("{kind}@{host}:{}:{tail:08x}", std::process::id())
}

/// What a worker did with one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDone {
    /// The job as it ended.
    pub job: ImagingJobView,
    /// Whether this worker recorded the quantification (false: found already recorded,
    /// failed, or the lease was lost).
    pub recorded: bool,
}

impl Trial {
    /// Queues the quantification of `series_uid` as her exam at `tp`, after every check
    /// [`Trial::quantify`] makes before reading the series; a worker reads it and records
    /// the result as this user. Refused while the exam has an open job.
    pub async fn request_quantification(
        &self,
        user: &User,
        study_id: &str,
        tp: PetTimepoint,
        expected_version: i64,
        series_uid: &str,
        assignment_reason: Option<&str>,
    ) -> Result<ImagingJobView> {
        let p = self
            .prepare_quantification(
                user,
                study_id,
                tp,
                expected_version,
                series_uid,
                assignment_reason,
            )
            .await?;
        let job = NewImagingJob {
            study_id: study_id.to_string(),
            site: p.site,
            timepoint: tp.id().to_string(),
            series_uid: p.series_uid,
            assignment_reason: p.assignment_reason,
            requested_by: user.username.clone(),
            requested_at: self.now(),
        };
        match self.store().queue_job(&job).await? {
            Ok(queued) => {
                self.job_queued.notify_one();
                tracing::info!(
                    job = queued.id,
                    study = study_id,
                    timepoint = tp.id(),
                    "quantification queued"
                );
                Ok(ImagingJobView::from(&queued))
            }
            Err(open) => Err(Error::Refused(protocol::Refusal::new(
                protocol::Rule::PET_EXAM,
                format!(
                    "The {} quantification of {study_id} asked for by {} is still {} (job {}): wait for it to end.",
                    tp.label(),
                    open.requested_by,
                    open.state.as_str(),
                    open.id
                ),
            ))),
        }
    }

    /// One of her jobs, to a user who sees her.
    pub async fn imaging_job(
        &self,
        user: &User,
        study_id: &str,
        id: i64,
    ) -> Result<ImagingJobView> {
        self.visible_row(user, study_id).await?;
        match self.store().job(id).await? {
            Some(job) if job.study_id == study_id => Ok(ImagingJobView::from(&job)),
            _ => Err(Error::NotFound(format!(
                "no imaging job {id} of {study_id}"
            ))),
        }
    }

    /// A participant's jobs, newest first.
    pub async fn imaging_jobs(&self, user: &User, study_id: &str) -> Result<Vec<ImagingJobView>> {
        self.visible_row(user, study_id).await?;
        let jobs = self.store().jobs_of(study_id).await?;
        Ok(jobs.iter().map(ImagingJobView::from).collect())
    }

    /// The newest job of one exam, if any (shown on the exam).
    pub(crate) async fn latest_job(
        &self,
        study_id: &str,
        tp: PetTimepoint,
    ) -> Result<Option<ImagingJobView>> {
        let jobs = self.store().jobs_of(study_id).await?;
        Ok(jobs
            .iter()
            .find(|j| j.timepoint == tp.id())
            .map(ImagingJobView::from))
    }

    /// Takes the oldest open job and does it; `None` when there is none.
    pub async fn run_next_job(&self, opts: &WorkerOptions) -> Result<Option<JobDone>> {
        let now = self.now();
        let Some(job) = self
            .store()
            .take_job(&opts.name, now, now + lease(opts))
            .await?
        else {
            return Ok(None);
        };
        tracing::info!(job = job.id, study = %job.study_id, worker = %opts.name, attempt = job.attempts, "imaging job taken");
        let work = self.do_job(&job);
        tokio::pin!(work);
        // Renew the lease while the series is read; a lost lease means another worker
        // holds the job now: this one stops.
        let mut renew = tokio::time::interval(opts.lease / 3);
        renew.tick().await;
        let result = loop {
            tokio::select! {
                r = &mut work => break Some(r),
                _ = renew.tick() => {
                    let until = self.now() + lease(opts);
                    match self.store().renew_job(job.id, &opts.name, until).await {
                        Ok(true) => {}
                        Ok(false) => break None,
                        Err(e) => tracing::warn!(job = job.id, error = %e, "lease not renewed"),
                    }
                }
            }
        };
        let Some(result) = result else {
            tracing::warn!(job = job.id, worker = %opts.name, "lease lost: another worker holds the job");
            let now = self
                .store()
                .job(job.id)
                .await?
                .unwrap_or_else(|| job.clone());
            return Ok(Some(JobDone {
                job: ImagingJobView::from(&now),
                recorded: false,
            }));
        };
        let (state, outcome, recorded) = match result {
            Ok(Some(version)) => (
                JobState::Done,
                format!("recorded: her record is at version {version}"),
                true,
            ),
            Ok(None) => (
                JobState::Done,
                "already recorded by an earlier attempt".to_string(),
                false,
            ),
            Err(e) => (JobState::Failed, e.explain(), false),
        };
        let held = self
            .store()
            .finish_job(job.id, &opts.name, state, &outcome, self.now())
            .await?;
        if !held {
            tracing::warn!(
                job = job.id,
                "the job was taken over before it was finished"
            );
        }
        tracing::info!(job = job.id, state = state.as_str(), %outcome, "imaging job ended");
        let ended = self
            .store()
            .job(job.id)
            .await?
            .unwrap_or_else(|| job.clone());
        Ok(Some(JobDone {
            job: ImagingJobView::from(&ended),
            recorded: recorded && held,
        }))
    }

    /// Reads the job's series and records it as her exam; the version written, or `None`
    /// when it was already recorded.
    async fn do_job(&self, job: &ImagingJob) -> Result<Option<i64>> {
        let tp = timepoint(&job.timepoint)?;
        let loaded = self.load(&job.study_id).await?;
        if loaded.version == 0 {
            return Err(Error::NotFound(format!(
                "no participant {} in this study",
                job.study_id
            )));
        }
        if already_recorded(&loaded.participant, tp, job) {
            return Ok(None);
        }
        let actor = self.actor_of(&job.requested_by).await?;
        let administration_id = self.administration_of(&loaded, tp)?;
        let q = self
            .compute_quantification(&job.series_uid, tp, administration_id)
            .await?;
        let mut loaded = loaded;
        for _ in 0..RECORD_ATTEMPTS {
            if already_recorded(&loaded.participant, tp, job) {
                return Ok(None);
            }
            let version = loaded.version;
            match self
                .record_with_reason(
                    &actor,
                    &job.site,
                    &job.study_id,
                    loaded,
                    version,
                    q.clone(),
                    job.assignment_reason.clone(),
                )
                .await
            {
                Ok(written) => return Ok(Some(written.version)),
                // Her record changed while the series was read (a nurse's entry): the
                // protocol decides again on the record as it is now.
                Err(Error::Conflict { .. }) => loaded = self.load(&job.study_id).await?,
                Err(e) => return Err(e),
            }
        }
        Err(Error::BadRequest(format!(
            "her record kept changing: the quantification was not recorded after {RECORD_ATTEMPTS} attempts; ask for it again"
        )))
    }

    /// The actor a job's result is recorded as: the user who asked.
    async fn actor_of(&self, username: &str) -> Result<Actor> {
        let row = self.store().user(username).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "the user {username:?} who asked for the job is unknown"
            ))
        })?;
        Ok(Actor {
            username: row.username,
            role: row.role,
            site: row.site,
        })
    }

    /// Works until `stop` resolves: takes jobs one after the other, waits for a new one
    /// (woken at once by a request in this process, otherwise every `poll`), and keeps
    /// going after an error (logged). A job being done when `stop` comes is finished
    /// first.
    pub async fn run_worker(&self, opts: WorkerOptions, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        tracing::info!(worker = %opts.name, "imaging worker started");
        loop {
            let idle = match self.run_next_job(&opts).await {
                Ok(Some(_)) => false,
                Ok(None) => true,
                Err(e) => {
                    tracing::error!(worker = %opts.name, error = %e.explain(), "imaging worker");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut stop => break,
                    () = self.job_queued.notified() => {}
                    () = tokio::time::sleep(opts.poll) => {}
                }
            } else if futures_ready(&mut stop).await {
                break;
            }
        }
        tracing::info!(worker = %opts.name, "imaging worker stopped");
    }
}

/// Whether `stop` has resolved, without waiting for it.
async fn futures_ready(stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>) -> bool {
    tokio::select! {
        biased;
        () = stop.as_mut() => true,
        () = std::future::ready(()) => false,
    }
}

/// Whether her exam holds a quantification of the job's series recorded since the job
/// was asked for.
fn already_recorded(p: &protocol::Participant, tp: PetTimepoint, job: &ImagingJob) -> bool {
    p.pet_quantification(tp).is_some_and(|q| {
        q.series_instance_uid == job.series_uid && q.quantified_at >= job.requested_at
    })
}

fn lease(opts: &WorkerOptions) -> chrono::Duration {
    chrono::Duration::from_std(opts.lease).unwrap_or(chrono::Duration::seconds(60))
}
