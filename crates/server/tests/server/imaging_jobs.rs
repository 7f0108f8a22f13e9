//! Imaging jobs through the path the trial takes: a reader asks for quantifications over
//! the API (202, queued), worker processes' loops take them from the database and record
//! each exam once, through the audited write path, as the reader who asked.

use reqwest::StatusCode;
use serde_json::json;
use store::JobState;
use trial::jobs::{WorkerOptions, worker_name};

use crate::common::{Client, TestApp, now, present};
use crate::oversight::PgDatabase;

/// Exams queued for the three workers.
const EXAMS: usize = 20;

/// Writes a small synthetic PET (50 × 50 × 80 voxels over the demo phantom's field) whose PatientID is
/// her study id and imports it as an exam of KS; its SeriesInstanceUID. Blocks on the
/// archive's database: call it from a plain thread or a blocking task.
fn import_exam(archive: &archive::Archive, study_id: &str, seed: u64) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = pet::phantom::PhantomSpec::demo(seed);
    let spec = pet::phantom::PhantomSpec {
        patient_id: Some(study_id.into()),
        // The demo's field of view in voxels twice as wide: 80 files, not 160.
        dims: [50, 50, 80],
        spacing_mm: [12.0, 12.0, 12.5],
        ..demo
    };
    let truth = pet::phantom::write_phantom_with(dir.path(), &spec).expect("phantom");
    let report = archive::import_folder(archive, dir.path(), "KS", &mut |_| {}).expect("import");
    assert_eq!(report.new, truth.files.len());
    truth.series_uid
}

/// An enrolled woman of KS with her PET1 administration recorded; her study id.
async fn ready_for_series(app: &TestApp) -> String {
    let id = app.enrolled("KS").await;
    let injected = now() - chrono::Duration::hours(2);
    let imp = protocol::testing::imp_command(protocol::PetTimepoint::Pet1, injected);
    app.run("nurse.ks", &id, &[imp]).await;
    id
}

/// An enrolled woman of KS with her PET1 administration recorded and her series in the
/// archive; her study id and the series.
async fn ready_for_pet1(app: &TestApp, seed: u64) -> (String, String) {
    let id = ready_for_series(app).await;
    let archive = app.state.trial.archive().expect("archive").clone();
    let study_id = id.clone();
    let series = tokio::task::spawn_blocking(move || import_exam(&archive, &study_id, seed))
        .await
        .expect("imported");
    (id, series)
}

async fn ask(reader: &Client, id: &str, series: &str) -> serde_json::Value {
    let v = reader.version(id).await;
    let r = reader
        .post(
            &format!("/api/v1/participants/{id}/pet/pet1/quantify"),
            &json!({"expected_version": v, "series_instance_uid": series}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["state"], "queued");
    r.body
}

/// How many quantifications her log records.
async fn quantifications_recorded(app: &TestApp, id: &str) -> usize {
    let events = app
        .state
        .trial
        .store()
        .read_stream(&trial::write::participant_stream(id))
        .await
        .expect("her log");
    events.iter().filter(|e| e.kind == "pet_quantified").count()
}

/// A worker as `her2ex worker` runs one: its own connection pool on the same database,
/// the same archive, the study's clock.
async fn worker(app: &TestApp, url: &str) -> trial::Trial {
    let store = store::Store::open(url).await.expect("the worker's store");
    let archive = app.state.trial.archive().expect("archive").clone();
    trial::Trial::new(store)
        .with_clock(app.clock.clone())
        .with_archive(archive)
}

/// Three workers on PostgreSQL share 20 queued exams, one of them left behind by a worker
/// killed mid-job: each exam is quantified exactly once, and a job whose result was
/// recorded before its worker died is finished without a second record.
#[tokio::test]
async fn three_workers_on_postgres_quantify_twenty_queued_exams_each_exactly_once() {
    let Some(db) = PgDatabase::create("three_workers_twenty_exams") else {
        return;
    };
    let store = store::Store::open(&db.url).await.expect("PostgreSQL store");
    let mut app = TestApp::start_on(store, tempfile::tempdir().expect("temp dir")).await;
    // The server's own worker stays out: the three below do the work.
    app.stop_worker();
    let reader = app.client("reader.ks").await;

    let started = std::time::Instant::now();
    let mut ids = Vec::new();
    for _ in 0..EXAMS {
        ids.push(ready_for_series(&app).await);
    }
    // Their scans reach the archive side by side, as from several scanners.
    // (On blocking threads: the archive waits for its database, whose queries run on
    // this runtime while the test awaits them.)
    let archive = app.state.trial.archive().expect("archive").clone();
    let imports: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let (archive, id) = (archive.clone(), id.clone());
            tokio::task::spawn_blocking(move || import_exam(&archive, &id, 300 + n as u64))
        })
        .collect();
    let mut series = Vec::new();
    for import in imports {
        series.push(import.await.expect("imported"));
    }
    let exams: Vec<(String, String)> = ids.into_iter().zip(series).collect();
    let mut jobs = Vec::new();
    for (id, series) in &exams {
        jobs.push(ask(&reader, id, series).await);
    }
    // A second request for an exam with an open job names it and queues nothing.
    let v = reader.version(&exams[0].0).await;
    let again = reader
        .post(
            &format!("/api/v1/participants/{}/pet/pet1/quantify", exams[0].0),
            &json!({"expected_version": v, "series_instance_uid": exams[0].1}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text
    );
    assert!(
        again.text.contains(&format!("job {}", jobs[0]["id"])),
        "{}",
        again.text
    );
    // The exam page says it is queued, and follows it.
    let exam = reader
        .get(&format!("/api/v1/participants/{}/pet/pet1", exams[0].0))
        .await;
    assert_eq!(exam.body["job"]["state"], "queued", "{}", exam.text);
    assert!(exam.body["quantification"].is_null());

    // A worker took the oldest job and was killed: its lease has run out.
    let killed = app
        .state
        .trial
        .store()
        .take_job(
            "killed-worker",
            present(),
            present() - chrono::Duration::seconds(1),
        )
        .await
        .unwrap()
        .unwrap();
    let killed_id = killed.id;
    assert_eq!(
        killed_id,
        jobs[0]["id"].as_i64().unwrap(),
        "the oldest job first"
    );

    eprintln!("{EXAMS} exams ready and queued in {:?}", started.elapsed());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut handles = Vec::new();
    for w in 0..3 {
        let trial = worker(&app, &db.url).await;
        let mut stopped = stopped.clone();
        let opts = WorkerOptions {
            poll: std::time::Duration::from_millis(50),
            ..WorkerOptions::new(format!("{}-{w}", worker_name("test")))
        };
        handles.push(tokio::spawn(async move {
            trial
                .run_worker(opts, async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
        }));
    }
    // Wait (bounded) until no job is open.
    let store = app.state.trial.store().clone();
    let mut open = usize::MAX;
    for _ in 0..2400 {
        let counts = store.job_counts().await.unwrap();
        open = counts
            .iter()
            .filter(|(s, _)| s.is_open())
            .map(|(_, n)| *n as usize)
            .sum();
        if open == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(open, 0, "every job ended within two minutes");
    eprintln!("all done after {:?}", started.elapsed());

    let mut workers_seen = std::collections::BTreeSet::new();
    for ((id, series), queued) in exams.iter().zip(&jobs) {
        let job = reader.get(queued["url"].as_str().unwrap()).await;
        assert_eq!(job.body["state"], "done", "{}", job.text);
        assert!(
            job.body["outcome"]
                .as_str()
                .unwrap()
                .starts_with("recorded"),
            "{}",
            job.text
        );
        let attempts = if job.body["id"].as_i64() == Some(killed_id) {
            2
        } else {
            1
        };
        assert_eq!(job.body["attempts"], attempts, "{}", job.text);
        assert_eq!(
            quantifications_recorded(&app, id).await,
            1,
            "{id} quantified once"
        );
        let exam = reader
            .get(&format!("/api/v1/participants/{id}/pet/pet1"))
            .await;
        assert_eq!(
            exam.body["quantification"]["series_instance_uid"],
            series.as_str()
        );
        assert_eq!(exam.body["job"]["state"], "done");
        let row = store
            .job(job.body["id"].as_i64().unwrap())
            .await
            .unwrap()
            .unwrap();
        workers_seen.insert(row.worker.unwrap());
        // Recorded as the reader who asked, in her log.
        let events = store
            .read_stream(&trial::write::participant_stream(id))
            .await
            .unwrap();
        let recorded = events.iter().find(|e| e.kind == "pet_quantified").unwrap();
        assert_eq!(recorded.meta.actor, "reader.ks");
        assert_eq!(recorded.meta.role, "nuclear_medicine_reader");
    }
    assert!(!workers_seen.contains("killed-worker"));
    eprintln!(
        "jobs done by {} workers: {workers_seen:?}",
        workers_seen.len()
    );

    // A worker that recorded her exam and died before finishing the job: the job is taken
    // again, found recorded, and finished without a second record. The workers wait
    // meanwhile, or one of them could take the job before the worker that dies does.
    stop.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
    let (id, series) = &exams[1];
    let crashed = store
        .queue_job(&store::NewImagingJob {
            study_id: id.clone(),
            site: "KS".into(),
            timepoint: "pet1".into(),
            series_uid: series.clone(),
            assignment_reason: None,
            requested_by: "reader.ks".into(),
            requested_at: present() - chrono::Duration::minutes(1),
        })
        .await
        .unwrap()
        .unwrap();
    store
        .take_job(
            "crashed-worker",
            present(),
            present() - chrono::Duration::seconds(1),
        )
        .await
        .unwrap()
        .expect("the job, no other worker running");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let successor = {
        let trial = worker(&app, &db.url).await;
        let mut stopped = stopped.clone();
        let opts = WorkerOptions {
            poll: std::time::Duration::from_millis(50),
            ..WorkerOptions::new(format!("{}-next", worker_name("test")))
        };
        tokio::spawn(async move {
            trial
                .run_worker(opts, async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
        })
    };
    let mut ended = None;
    for _ in 0..2400 {
        let job = store.job(crashed.id).await.unwrap().unwrap();
        if !job.state.is_open() {
            ended = Some(job);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let ended = ended.expect("the crashed worker's job was taken again");
    assert_eq!(ended.state, JobState::Done);
    assert_eq!(ended.attempts, 2);
    assert_eq!(
        ended.outcome.as_deref(),
        Some("already recorded by an earlier attempt")
    );
    assert_eq!(quantifications_recorded(&app, id).await, 1, "still once");

    stop.send(true).unwrap();
    successor.await.unwrap();
    assert!(store.verify_chain().await.unwrap().is_intact());
}

/// On SQLite the server's own worker does the job; a job that cannot be done ends failed
/// with the reason, which the exam shows; another site's user sees none of her jobs.
#[tokio::test]
async fn a_job_that_cannot_be_done_fails_with_its_reason_on_the_exam() {
    let mut app = TestApp::start().await;
    let reader = app.client("reader.ks").await;
    let (id, series) = ready_for_pet1(&app, 77).await;
    // Her series is read by the server's own worker.
    let v = reader.version(&id).await;
    let r = reader
        .post(
            &format!("/api/v1/participants/{id}/pet/pet1/quantify"),
            &json!({"expected_version": v, "series_instance_uid": series}),
        )
        .await;
    let done = reader.wait_job(&r).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(quantifications_recorded(&app, &id).await, 1, "{done}");

    // Another woman's series loses its files between the request and the work (a disk
    // restored from an old backup, say): the job fails and says why; nothing is recorded.
    app.stop_worker();
    let (id2, series2) = ready_for_pet1(&app, 78).await;
    let queued = ask(&reader, &id2, &series2).await;
    let archive = app.state.trial.archive().expect("archive").clone();
    let uid = series2.clone();
    let files = tokio::task::spawn_blocking(move || archive.series_files(&uid))
        .await
        .expect("listed")
        .expect("files");
    for file in files {
        std::fs::remove_file(file).expect("removed");
    }
    let done = app
        .state
        .trial
        .run_next_job(&WorkerOptions::new("test-worker"))
        .await
        .expect("the worker ran")
        .expect("a job was waiting");
    assert!(!done.recorded);
    assert_eq!(done.job.id, queued["id"].as_i64().unwrap());
    assert_eq!(done.job.state, "failed");
    let why = done.job.outcome.clone().unwrap();
    assert!(why.contains("missing"), "{why}");
    assert_eq!(quantifications_recorded(&app, &id2).await, 0);
    let exam = reader
        .get(&format!("/api/v1/participants/{id2}/pet/pet1"))
        .await;
    assert_eq!(exam.body["job"]["state"], "failed");
    assert!(exam.body["quantification"].is_null());
    // The exam page shows the failure and offers the form again.
    let page = reader.get(&format!("/participants/{id2}/pet/pet1")).await;
    assert!(page.text.contains("id=\"imaging-job\""), "{}", page.text);
    assert!(page.text.contains("failed"));
    assert!(page.text.contains("Read and quantify"));

    let jobs = reader
        .get(&format!("/api/v1/participants/{id2}/imaging-jobs"))
        .await;
    assert_eq!(jobs.status, StatusCode::OK);
    assert_eq!(jobs.body.as_array().unwrap().len(), 1);
    // Another site's user sees neither her jobs nor a job by its number.
    let uu = app.client("nurse.uu").await;
    let theirs = uu
        .get(&format!("/api/v1/participants/{id2}/imaging-jobs"))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let by_number = uu.get(jobs.body[0]["url"].as_str().unwrap()).await;
    assert_eq!(by_number.status, StatusCode::NOT_FOUND);
    assert!(!by_number.text.contains(&series2));
    let other = app.enrolled("UU").await;
    let unknown = uu
        .get(&format!("/api/v1/participants/{other}/imaging-jobs/99999"))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // Her job named under another woman's id is not found either.
    let wrong = reader
        .get(&format!(
            "/api/v1/participants/{id}/imaging-jobs/{}",
            jobs.body[0]["id"]
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
}
