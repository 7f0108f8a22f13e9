//! Imaging jobs: queued once per exam, taken in order, each by one worker at a time, taken
//! again when its worker's lease runs out, finished only by the worker holding it.

use chrono::Duration;
use store::{JobState, NewImagingJob, Store};

use chrono::{DateTime, Utc};

use crate::support::store_tests;

store_tests!(
    a_job_is_queued_once_per_exam_and_taken_in_order,
    a_job_whose_worker_stopped_renewing_is_taken_again_and_the_old_worker_cannot_finish_it,
    concurrent_workers_each_take_a_different_job,
);

/// A time the store keeps exactly (it keeps microseconds).
fn at() -> DateTime<Utc> {
    crate::support::t0() - Duration::nanoseconds(238)
}

fn job(study_id: &str, timepoint: &str) -> NewImagingJob {
    NewImagingJob {
        study_id: study_id.into(),
        site: "SE01".into(),
        timepoint: timepoint.into(),
        series_uid: format!("1.2.826.0.1.{}", study_id.len()),
        assignment_reason: None,
        requested_by: "reader".into(),
        requested_at: at(),
    }
}

async fn a_job_is_queued_once_per_exam_and_taken_in_order(store: Store) {
    let first = store.queue_job(&job("SE01-001", "pet1")).await.unwrap();
    let first = first.expect("queued");
    assert_eq!(first.state, JobState::Queued);
    assert_eq!(first.attempts, 0);
    // A second request for the same exam while the first is open names the open one.
    let again = store.queue_job(&job("SE01-001", "pet1")).await.unwrap();
    assert_eq!(again.unwrap_err().id, first.id);
    // Another exam of hers, and another woman's, are queued beside it.
    let pet2 = store
        .queue_job(&job("SE01-001", "pet2"))
        .await
        .unwrap()
        .unwrap();
    let other = store
        .queue_job(&job("SE01-002", "pet1"))
        .await
        .unwrap()
        .unwrap();
    assert!(first.id < pet2.id && pet2.id < other.id);

    let lease = at() + Duration::minutes(5);
    let taken = store.take_job("w1", at(), lease).await.unwrap().unwrap();
    assert_eq!(
        (taken.id, taken.state, taken.attempts),
        (first.id, JobState::Running, 1)
    );
    assert_eq!(taken.worker.as_deref(), Some("w1"));
    assert_eq!(taken.lease_until, Some(lease));
    let next = store.take_job("w2", at(), lease).await.unwrap().unwrap();
    assert_eq!(next.id, pet2.id);

    assert!(
        store
            .finish_job(first.id, "w1", JobState::Done, "recorded", at())
            .await
            .unwrap()
    );
    let done = store.job(first.id).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.outcome.as_deref(), Some("recorded"));
    assert_eq!(done.finished_at, Some(at()));
    assert_eq!(done.lease_until, None);
    // Once it is done the exam may be queued again (a new series, say).
    let requeued = store
        .queue_job(&job("SE01-001", "pet1"))
        .await
        .unwrap()
        .unwrap();
    assert!(requeued.id > other.id);
    // A job is finished as done or failed, never back to queued.
    assert!(
        store
            .finish_job(next.id, "w2", JobState::Queued, "", at())
            .await
            .is_err()
    );

    let mine: Vec<i64> = store
        .jobs_of("SE01-001")
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(mine, vec![requeued.id, pet2.id, first.id]);
    let counts = store.job_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![
            (JobState::Done, 1),
            (JobState::Queued, 2),
            (JobState::Running, 1)
        ]
    );
    assert!(store.job(9999).await.unwrap().is_none());
}

async fn a_job_whose_worker_stopped_renewing_is_taken_again_and_the_old_worker_cannot_finish_it(
    store: Store,
) {
    let queued = store
        .queue_job(&job("SE01-001", "pet1"))
        .await
        .unwrap()
        .unwrap();
    let lease = at() + Duration::seconds(30);
    store.take_job("dead", at(), lease).await.unwrap().unwrap();
    // While the lease holds nobody else takes it; a renewal by its holder extends it.
    assert!(
        store
            .take_job("w2", at() + Duration::seconds(20), at())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .renew_job(queued.id, "dead", lease + Duration::seconds(30))
            .await
            .unwrap()
    );
    assert!(
        store
            .take_job("w2", at() + Duration::seconds(45), at())
            .await
            .unwrap()
            .is_none()
    );
    // The holder stops renewing (killed): after the lease it is taken again.
    let later = at() + Duration::seconds(61);
    let retaken = store
        .take_job("w2", later, later + Duration::seconds(30))
        .await
        .unwrap()
        .expect("the job is taken again");
    assert_eq!((retaken.id, retaken.attempts), (queued.id, 2));
    assert_eq!(retaken.worker.as_deref(), Some("w2"));
    // The old worker, had it only stalled, may neither renew nor finish it any more.
    assert!(
        !store
            .renew_job(queued.id, "dead", later + Duration::hours(1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_job(queued.id, "dead", JobState::Failed, "late", later)
            .await
            .unwrap()
    );
    assert!(
        store
            .finish_job(queued.id, "w2", JobState::Done, "recorded", later)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .job(queued.id)
            .await
            .unwrap()
            .unwrap()
            .outcome
            .as_deref(),
        Some("recorded")
    );
}

async fn concurrent_workers_each_take_a_different_job(store: Store) {
    for n in 0..24 {
        store
            .queue_job(&job(&format!("SE01-{n:03}"), "pet1"))
            .await
            .unwrap()
            .unwrap();
    }
    let mut workers = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let name = format!("w{w}");
            let mut taken = Vec::new();
            while let Some(j) = store
                .take_job(&name, at(), at() + Duration::minutes(5))
                .await
                .unwrap()
            {
                assert!(
                    store
                        .finish_job(j.id, &name, JobState::Done, "ok", at())
                        .await
                        .unwrap()
                );
                taken.push(j.id);
            }
            taken
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    all.sort_unstable();
    let before = all.len();
    all.dedup();
    assert_eq!(before, 24, "every job taken once");
    assert_eq!(all.len(), 24, "no job taken twice");
    assert_eq!(
        store.job_counts().await.unwrap(),
        vec![(JobState::Done, 24)]
    );
}
