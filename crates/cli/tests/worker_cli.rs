//! `her2ex worker --until-idle`: a worker process does what is queued, prints each job's
//! end, and exits non-zero when one failed; on an empty queue it says so and exits 0.

#[allow(dead_code)]
mod common;

use common::{her2ex, text};

#[test]
fn a_worker_process_ends_each_queued_job_and_names_why_one_failed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let o = her2ex(data, &["worker", "--until-idle"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("no job left: 0 recorded, 0 failed, 0 found done already"),
        "{}",
        text(&o)
    );

    // A job queued for a participant the study does not have (her record was never
    // written): the worker takes it, fails it with the reason, and exits 1.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = data.join(store::SQLITE_FILE_NAME);
    let job = rt.block_on(async {
        let store = store::Store::open(db.to_str().unwrap()).await.unwrap();
        let job = store
            .queue_job(&store::NewImagingJob {
                study_id: "KS-404".into(),
                site: "KS".into(),
                timepoint: "pet1".into(),
                series_uid: "1.2.826.0.1.3680043.9.404".into(),
                assignment_reason: None,
                requested_by: "reader.ks".into(),
                requested_at: chrono::Utc::now(),
            })
            .await
            .unwrap()
            .unwrap();
        store.close().await;
        job
    });
    let o = her2ex(
        data,
        &["worker", "--until-idle", "--name", "cli-test-worker"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(&format!("job {} KS-404 pet1: failed", job.id)),
        "{out}"
    );
    assert!(out.contains("no job left: 0 recorded, 1 failed"), "{out}");
    let ended = rt.block_on(async {
        let store = store::Store::open(db.to_str().unwrap()).await.unwrap();
        store.job(job.id).await.unwrap().unwrap()
    });
    assert_eq!(ended.state, store::JobState::Failed);
    assert_eq!(ended.worker.as_deref(), Some("cli-test-worker"));
    assert_eq!(ended.attempts, 1);
    let why = ended.outcome.unwrap();
    assert!(why.contains("KS-404"), "{why}");
}
