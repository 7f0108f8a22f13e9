//! Registration under load and beside another process, through the JSON API: nurses of
//! one site registering in the same moment get consecutive study ids, a refused
//! registration leaves no gap, another process registering at the same site is stepped
//! over, and settings put in force by another process decide the next command at once
//! (the server keeps the settings and the study-wide lock folded between commands, and
//! the store writes a command only if neither moved since it was decided).

use chrono::{Duration, SecondsFormat};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trial::admin::NewUser;
use trial::participants::Registration;
use trial::{Actor, Trial};

use crate::common::{Answer, Client, PASSWORD, TestApp, now};

async fn register(c: &Client, year_of_birth: i32) -> Answer {
    c.post(
        "/api/v1/participants",
        &json!({"year_of_birth": year_of_birth, "sex": "female"}),
    )
    .await
}

fn study_id(a: &Answer) -> String {
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["study_id"].as_str().expect("study_id").to_string()
}

#[tokio::test]
async fn registrations_in_the_same_moment_take_consecutive_ids_and_a_refusal_leaves_no_gap() {
    let app = TestApp::start().await;
    let nurses = std::sync::Arc::new([
        app.client("nurse.ks").await,
        app.client("nurse.ks").await,
        app.client("nurse.ks").await,
    ]);
    let writes_before = app.state.trial.store().commit_stats().writes;
    // 24 registrations at once, from three sessions, one in every eight impossible.
    let mut running = tokio::task::JoinSet::new();
    for i in 0..24 {
        let nurses = nurses.clone();
        running.spawn(async move {
            let year = if i % 8 == 7 { 1800 } else { 1970 };
            (i, register(&nurses[i % 3], year).await)
        });
    }
    let mut answers: Vec<(usize, Answer)> = running.join_all().await;
    answers.sort_by_key(|(i, _)| *i);
    let mut ids = Vec::new();
    for (i, a) in &answers {
        if i % 8 == 7 {
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
            assert!(
                a.text.contains("1800"),
                "the refusal names the value: {}",
                a.text
            );
        } else {
            ids.push(study_id(a));
        }
    }
    ids.sort();
    let expected: Vec<String> = (1..=21).map(|n| format!("KS-{n:03}")).collect();
    assert_eq!(ids, expected, "21 registrations, no id twice, no gap");
    // One write each: none clashed over a number and went round again.
    let writes = app.state.trial.store().commit_stats().writes - writes_before;
    assert_eq!(writes, 21);

    // Another process (the command line, a second server) registers at KS meanwhile:
    // this server's next registration steps over the id it took.
    let other = Trial::new(app.state.trial.store().clone());
    let reg = Registration {
        site: None,
        year_of_birth: 1970,
        sex: protocol::Sex::Female,
    };
    let theirs = other
        .register_as(&Actor::command_line(), "KS", &reg)
        .await
        .expect("the other process registers");
    assert_eq!(theirs.study_id, "KS-022");
    assert_eq!(study_id(&register(&nurses[0], 1970).await), "KS-023");
    assert_eq!(study_id(&register(&nurses[1], 1970).await), "KS-024");
    // Another site's numbers are its own.
    let uu = app.client("nurse.uu").await;
    assert_eq!(study_id(&register(&uu, 1970).await), "UU-001");
}

#[tokio::test]
async fn settings_put_in_force_by_another_process_decide_the_next_command() {
    let app = TestApp::start().await;
    let nurse = app.client("nurse.ks").await;
    let id = study_id(&register(&nurse, 1970).await);
    let report = nurse
        .get(&format!("/api/v1/participants/{id}/eligibility"))
        .await;
    assert_eq!(report.body["settings_version"], 1, "{}", report.text);

    // The command line changes the settings while the server runs.
    let other = Trial::new(app.state.trial.store().clone());
    let mut s = other.settings().await.expect("settings");
    s.version += 1;
    s.protocol_version = "HER2-Ex PET protocol v2.0 (amendment 1)".into();
    other
        .change_settings(&Actor::command_line(), s, "amendment 1")
        .await
        .expect("settings change");

    let report = nurse
        .get(&format!("/api/v1/participants/{id}/eligibility"))
        .await;
    assert_eq!(report.body["settings_version"], 2, "{}", report.text);
    let settings: Value = app
        .state
        .trial
        .settings()
        .await
        .map(|s| json!(s.version))
        .unwrap();
    assert_eq!(settings, 2);
    // The next registration is recorded under the new settings too: its answer is
    // decided, not refused on a stale version.
    assert_eq!(study_id(&register(&nurse, 1971).await), "KS-002");
}

/// Enters a lab value for `id` as `nurse`; the settings version it was recorded under.
async fn enter_lab(app: &TestApp, nurse: &Client, id: &str) -> Value {
    let r = nurse
        .command(id, "lab", nurse.version(id).await, lab())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let payload = last_event(app, id).await;
    payload["entry"]["settings_version"].clone()
}

/// The payload of the last event of a participant's stream.
async fn last_event(app: &TestApp, id: &str) -> Value {
    let events = app
        .state
        .trial
        .store()
        .read_stream(&format!("participant/{id}"))
        .await
        .expect("stream");
    events.last().expect("an event").payload.clone()
}

fn lab() -> Value {
    let at = (now() - Duration::days(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    json!({"analyte": "haemoglobin", "value": 121.0, "unit": "g/L", "sample_at": at, "origin": "study"})
}

#[tokio::test]
async fn a_command_decided_under_settings_or_a_lock_that_moved_is_decided_again() {
    let app = TestApp::start().await;
    // The server decides this participant's screening under settings version 1 and an
    // open study, and keeps both folded.
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    assert_eq!(enter_lab(&app, &nurse, &id).await, 1);

    // The command line puts amendment 1 in force: the next entry is recorded under it,
    // not under the version the server kept.
    let other = Trial::new(app.state.trial.store().clone());
    let mut s = other.settings().await.expect("settings");
    s.version += 1;
    other
        .change_settings(&Actor::command_line(), s, "amendment 1")
        .await
        .expect("settings change");
    assert_eq!(
        enter_lab(&app, &nurse, &id).await,
        2,
        "recorded under the settings in force"
    );

    // The data manager freezes and locks the study: the lock writes the study's stream,
    // not the fold the server keeps for participant commands. The next entry is refused
    // by the lock all the same, and nothing is written.
    let data_manager = NewUser {
        username: "dm".into(),
        display_name: "dm".into(),
        role: trial::Role::DataManager,
        site: None,
        password: PASSWORD.into(),
    };
    other
        .add_user(&Actor::command_line(), data_manager)
        .await
        .expect("data manager");
    let dm = app.client("dm").await;
    for what in ["freeze", "lock"] {
        let v = dm.get("/api/v1/study/oversight").await.body["version"].clone();
        let r = dm
            .post(
                &format!("/api/v1/study/{what}"),
                &json!({"expected_version": v}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.text);
    }
    let before = nurse.version(&id).await;
    let r = nurse.command(&id, "lab", before, lab()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "LOCKED", "{}", r.text);
    assert_eq!(nurse.version(&id).await, before, "nothing written");
}
