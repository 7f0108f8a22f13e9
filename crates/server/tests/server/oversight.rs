//! Study oversight over the JSON API (PROTOCOL §12): a monitor's query on a site's lab
//! value answered with a correction, verification that a change resets, another site's
//! query answered as none, freeze and lock of a participant and of the study, the
//! investigator's casebook signature voided by a later change, automatic queries that
//! close themselves, and deviations recorded and reviewed by hand. Each act goes through
//! the API as users send it; each refusal names its rule.

use chrono::{Duration, SecondsFormat};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trial::Actor;
use trial::admin::NewUser;

use crate::common::{Answer, Client, PASSWORD, TestApp, now};

on_both_databases!(
    a_monitor_queries_a_lab_value_the_site_corrects_it_and_the_monitor_closes,
    another_sites_nurse_cannot_see_the_query_and_learns_nothing,
    a_locked_participant_refuses_corrections_queries_and_verification,
    only_the_right_roles_move_a_query_and_closed_is_final,
    an_unusual_lab_value_raises_a_query_that_closes_itself_when_corrected,
    the_investigators_signature_is_voided_visibly_by_a_later_change,
    a_locked_study_refuses_every_entry_and_its_unlock_voids_signatures,
    a_monitors_deviation_is_assessed_then_closed_and_stays_closed,
    the_monitor_verifies_a_whole_form_or_visit_at_once,
    a_frozen_form_holds_its_entries_and_no_others,
);

/// A database of its own on the PostgreSQL server of `HER2EX_TEST_POSTGRES_URL`, dropped
/// afterwards (also when the test fails).
pub(crate) struct PgDatabase {
    admin_url: String,
    name: String,
    pub(crate) url: String,
}

impl PgDatabase {
    /// The database, or `None` (after a loud SKIPPED line) when no server is configured
    /// and none is required (`HER2EX_REQUIRE_POSTGRES=1`).
    pub(crate) fn create(test: &str) -> Option<PgDatabase> {
        let Ok(admin_url) = std::env::var("HER2EX_TEST_POSTGRES_URL") else {
            let required = std::env::var("HER2EX_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
            assert!(!required, "HER2EX_TEST_POSTGRES_URL is required");
            eprintln!("SKIPPED: set HER2EX_TEST_POSTGRES_URL (scripts/test does)");
            return None;
        };
        // Test names are long; the hash keeps the name within PostgreSQL's 63 bytes.
        let tag: u32 = test
            .bytes()
            .fold(17u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
        let name = format!("her2ex_oversight_{}_{tag:08x}", std::process::id());
        psql(&admin_url, &format!("DROP DATABASE IF EXISTS {name}"));
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        let (base, _) = admin_url.rsplit_once('/').unwrap_or((&admin_url, ""));
        Some(PgDatabase {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = std::process::Command::new("psql")
            .args([&self.admin_url, "-c", &sql])
            .output();
    }
}

fn psql(url: &str, sql: &str) {
    let o = std::process::Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql");
    assert!(
        o.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The application over `store` with a data manager besides the common users.
pub(crate) async fn with_data_manager(store: store::Store, dir: tempfile::TempDir) -> TestApp {
    let app = TestApp::start_on(store, dir).await;
    let dm = NewUser {
        username: "dm".into(),
        display_name: "dm".into(),
        role: trial::Role::DataManager,
        site: None,
        password: PASSWORD.into(),
    };
    app.state
        .trial
        .add_user(&Actor::command_line(), dm)
        .await
        .expect("data manager");
    app
}

/// A lab value's data as the `lab` command takes it, sampled two days ago.
fn lab(analyte: &str, value: f64, unit: &str) -> Value {
    let at = (now() - Duration::days(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    json!({"analyte": analyte, "value": value, "unit": unit, "sample_at": at, "origin": "study"})
}

/// The same data correcting `entry`.
fn correcting(mut data: Value, entry: &str, value: f64) -> Value {
    data["value"] = json!(value);
    data["corrects"] = json!(entry);
    data["correction_reason"] = json!("transcription error, checked against the lab report");
    data
}

/// The participant's data points.
async fn points(c: &Client, id: &str) -> Vec<Value> {
    let r = c
        .get(&format!("/api/v1/participants/{id}/data-points"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.as_array().cloned().unwrap_or_default()
}

/// One data point by entry id.
async fn point(c: &Client, id: &str, entry: &str) -> Value {
    points(c, id)
        .await
        .into_iter()
        .find(|p| p["entry_id"] == entry)
        .unwrap_or_else(|| panic!("no data point {entry}"))
}

/// Records a lab value through the command route and returns its entry id.
async fn record_lab(c: &Client, id: &str, data: Value) -> String {
    let before: Vec<Value> = points(c, id).await;
    let v = c.version(id).await;
    let r = c.command(id, "lab", v, data).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    points(c, id)
        .await
        .into_iter()
        .map(|p| p["entry_id"].as_str().unwrap_or_default().to_string())
        .find(|e| e.starts_with("lab-") && !before.iter().any(|b| b["entry_id"] == e.as_str()))
        .expect("a new lab entry")
}

/// Posts an act of oversight on the participant's current version.
async fn act(c: &Client, id: &str, path: &str, mut body: Value) -> Answer {
    body["expected_version"] = json!(c.version(id).await);
    c.post(&format!("/api/v1/participants/{id}/{path}"), &body)
        .await
}

/// Asserts a refusal with its rule.
fn refused(r: &Answer, rule: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], rule, "{}", r.text);
}

/// Asserts success.
fn done(r: &Answer) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// Raises a query on `entry`'s value as `c` and returns its id.
async fn raise(c: &Client, id: &str, entry: &str, text: &str) -> String {
    let r = act(
        c,
        id,
        "queries",
        json!({"point": {"entry_id": entry, "field": "value"}, "text": text}),
    )
    .await;
    done(&r);
    r.body["created"].as_str().expect("query id").to_string()
}

async fn query(c: &Client, id: &str, q: &str) -> Value {
    let r = c
        .get(&format!("/api/v1/participants/{id}/queries/{q}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["query"].clone()
}

async fn a_monitor_queries_a_lab_value_the_site_corrects_it_and_the_monitor_closes(app: TestApp) {
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let monitor = app.client("monitor").await;
    let entry = record_lab(&nurse, &id, lab("platelets", 250.0, "10^9/L")).await;

    done(&act(&monitor, &id, "verify", json!({"entry_ids": [entry]})).await);
    let p = point(&monitor, &id, &entry).await;
    assert_eq!(p["sdv"]["sdv"], "verified", "{p}");
    assert_eq!(p["sdv"]["by"], "monitor");

    let q = raise(&monitor, &id, &entry, "The lab report says 205, not 250?").await;
    let seen = query(&nurse, &id, &q).await;
    assert_eq!(seen["status"], "open");
    assert_eq!(seen["point"]["entry_id"], entry.as_str());
    let p = point(&nurse, &id, &entry).await;
    assert_eq!(p["active_queries"], json!([q]), "{p}");

    // A correction must be a command recorded without a signature, and a known one.
    for (command, says) in [("enrol", "signed command"), ("no-such-form", "no command")] {
        let v = nurse.version(&id).await;
        let r = act(
            &nurse,
            &id,
            &format!("queries/{q}/answer"),
            json!({"text": "Corrected.", "correction": {"command": command, "data": {}}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(
            r.body["message"].as_str().unwrap_or("").contains(says),
            "{}",
            r.text
        );
        assert_eq!(nurse.version(&id).await, v, "nothing recorded");
    }
    let correction = correcting(lab("platelets", 250.0, "10^9/L"), &entry, 205.0);
    let r = act(
        &nurse,
        &id,
        &format!("queries/{q}/answer"),
        json!({"text": "Typing error; corrected to 205.", "correction": {"command": "lab", "data": correction}}),
    )
    .await;
    done(&r);
    let events: Vec<&str> = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(events.contains(&"query_answered"), "{events:?}");
    assert!(events.contains(&"verification_reset"), "{events:?}");
    let answered = query(&nurse, &id, &q).await;
    assert_eq!(answered["status"], "answered");
    let new_entry = answered["messages"][1]["correction"]
        .as_str()
        .expect("the answer links its correction")
        .to_string();
    assert_ne!(new_entry, entry);

    // The original and its correction both show that the verified value changed.
    let old = point(&monitor, &id, &entry).await;
    assert_eq!(old["sdv"]["sdv"], "changed_since_verified", "{old}");
    assert_eq!(old["status"]["status"], "superseded", "{old}");
    let new = point(&monitor, &id, &new_entry).await;
    assert_eq!(new["sdv"]["sdv"], "changed_since_verified", "{new}");
    assert_eq!(new["sdv"]["verified_by"], "monitor", "{new}");
    assert!(new["value"].as_str().unwrap_or("").contains("205"), "{new}");

    done(
        &act(
            &monitor,
            &id,
            &format!("queries/{q}/close"),
            json!({"text": "Thank you."}),
        )
        .await,
    );
    assert_eq!(query(&monitor, &id, &q).await["status"], "closed");

    // The audit trail holds each step as its own event, by its own author.
    let trail = monitor
        .get(&format!("/api/v1/participants/{id}/events"))
        .await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.text);
    let steps: Vec<(String, String)> = trail
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_string(),
                e["actor"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let at = |kind: &str, actor: &str| {
        steps
            .iter()
            .position(|(k, a)| k == kind && a == actor)
            .unwrap_or_else(|| panic!("no {kind} by {actor} in {steps:?}"))
    };
    let verified = at("entries_verified", "monitor");
    let raised = at("query_raised", "monitor");
    let answered = at("query_answered", "nurse.ks");
    let reset = at("verification_reset", "nurse.ks");
    let closed = at("query_closed", "monitor");
    assert!(verified < raised && raised < answered && answered < reset && reset < closed);
    let correction_event = &trail.body.as_array().unwrap()[answered + 1];
    assert_eq!(
        correction_event["reason"],
        "transcription error, checked against the lab report"
    );
}

/// Sends a GET and keeps status, headers (but `Date`) and body as the wire carried them.
async fn raw(c: &Client, path: &str) -> (StatusCode, Vec<(String, String)>, String) {
    let r = c
        .http
        .get(format!("{}{}", c.base, path))
        .send()
        .await
        .expect("request");
    let status = r.status();
    let headers = r
        .headers()
        .iter()
        .filter(|(k, _)| *k != "date")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    (status, headers, r.text().await.unwrap_or_default())
}

async fn another_sites_nurse_cannot_see_the_query_and_learns_nothing(app: TestApp) {
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let monitor = app.client("monitor").await;
    let entry = record_lab(&nurse, &id, lab("platelets", 250.0, "10^9/L")).await;
    let q = raise(&monitor, &id, &entry, "Please check against the source.").await;

    let uu = app.client("nurse.uu").await;
    // A study id of the same length that no participant has.
    let fake: String = id
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_digit((d + 5) % 10, 10).unwrap_or(c),
            None => c,
        })
        .collect();
    for path in [
        format!("/api/v1/participants/{{}}/queries/{q}"),
        "/api/v1/participants/{}/queries".to_string(),
        "/api/v1/participants/{}/data-points".to_string(),
        "/api/v1/participants/{}/signatures".to_string(),
    ] {
        let real = raw(&uu, &path.replace("{}", &id)).await;
        let none = raw(&uu, &path.replace("{}", &fake)).await;
        assert_eq!(real.0, StatusCode::NOT_FOUND, "{path}: {}", real.2);
        assert_eq!(real.0, none.0, "{path}");
        assert_eq!(real.1, none.1, "{path}: the headers");
        assert_eq!(real.2, none.2.replace(&fake, &id), "{path}: the body");
        assert!(!real.2.contains(&q) && !real.2.contains("Please check"));
    }
    // Her query lists are empty; the KS nurse sees the query in hers.
    for path in [
        "/api/v1/queries".to_string(),
        format!("/api/v1/queries?study_id={id}"),
        "/api/v1/queries?site=KS".to_string(),
    ] {
        let r = uu.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(r.body, json!([]), "{path}");
    }
    let r = nurse.get("/api/v1/queries?status=open").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["study_id"] == id.as_str() && row["query"]["query_id"] == q.as_str()),
        "{}",
        r.text
    );
}

async fn a_locked_participant_refuses_corrections_queries_and_verification(app: TestApp) {
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let monitor = app.client("monitor").await;
    let dm = app.client("dm").await;
    let data = lab("platelets", 250.0, "10^9/L");
    let entry = record_lab(&nurse, &id, data.clone()).await;
    let whole = json!({"scope": {"scope": "participant"}});

    refused(&act(&dm, &id, "lock", whole.clone()).await, "LOCKED");
    done(&act(&dm, &id, "freeze", whole.clone()).await);

    // Frozen: no data entry, but queries and verification go on.
    let v = nurse.version(&id).await;
    let r = nurse
        .command(&id, "lab", v, lab("haemoglobin", 121.0, "g/L"))
        .await;
    refused(&r, "FROZEN");
    let r = nurse
        .command(&id, "lab", v, correcting(data.clone(), &entry, 205.0))
        .await;
    refused(&r, "FROZEN");
    let q = raise(&monitor, &id, &entry, "Is 250 right?").await;
    done(&act(&monitor, &id, "verify", json!({"entry_ids": [entry]})).await);

    refused(&act(&monitor, &id, "lock", whole.clone()).await, "ROLE");
    done(&act(&dm, &id, "lock", whole.clone()).await);
    let p = point(&monitor, &id, &entry).await;
    assert_eq!(p["hold"], "locked", "{p}");

    // Locked: no correction through the normal route, no queries, no verification, and
    // the site cannot answer with a correction either.
    let v = nurse.version(&id).await;
    let r = nurse
        .command(&id, "lab", v, correcting(data.clone(), &entry, 205.0))
        .await;
    refused(&r, "LOCKED");
    assert_eq!(nurse.version(&id).await, v, "nothing recorded");
    refused(
        &act(
            &monitor,
            &id,
            "queries",
            json!({"point": {"entry_id": entry}, "text": "Another one"}),
        )
        .await,
        "LOCKED",
    );
    refused(
        &act(&monitor, &id, "verify", json!({"entry_ids": [entry]})).await,
        "LOCKED",
    );
    refused(
        &act(
            &nurse,
            &id,
            &format!("queries/{q}/answer"),
            json!({"text": "Corrected.", "correction": {"command": "lab", "data": correcting(data.clone(), &entry, 205.0)}}),
        )
        .await,
        "LOCKED",
    );

    // The investigator signs the locked casebook; unlocking it voids the signature.
    let inv = app.client("inv.ks").await;
    let sign = json!({"scope": {"signs": "casebook"}, "password": PASSWORD});
    done(&act(&inv, &id, "signatures", sign).await);

    // Unlocking needs a reason and the data manager; it leaves the data frozen.
    refused(
        &act(&dm, &id, "unlock", whole.clone()).await,
        "VALUE_REQUIRED",
    );
    refused(
        &act(
            &monitor,
            &id,
            "unlock",
            json!({"scope": {"scope": "participant"}, "reason": "source re-check"}),
        )
        .await,
        "ROLE",
    );
    let r = act(
        &dm,
        &id,
        "unlock",
        json!({"scope": {"scope": "participant"}, "reason": "source re-check"}),
    )
    .await;
    done(&r);
    assert_eq!(
        r.body["oversight"]["holds"][0]["level"], "frozen",
        "{}",
        r.text
    );
    let sigs = signatures(&inv, &id).await;
    assert_eq!(
        sigs[0]["voided"]["because"], "the participant's casebook was unlocked",
        "{sigs}"
    );
    let v = nurse.version(&id).await;
    let r = nurse
        .command(&id, "lab", v, correcting(data, &entry, 205.0))
        .await;
    refused(&r, "FROZEN");
}

async fn only_the_right_roles_move_a_query_and_closed_is_final(app: TestApp) {
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let monitor = app.client("monitor").await;
    let dm = app.client("dm").await;
    let entry = record_lab(&nurse, &id, lab("platelets", 250.0, "10^9/L")).await;
    let ask = json!({"point": {"entry_id": entry}, "text": "Source?"});

    refused(&act(&nurse, &id, "queries", ask.clone()).await, "ROLE");
    let q = raise(&monitor, &id, &entry, "Source?").await;
    let path = |what: &str| format!("queries/{q}/{what}");
    let say = |t: &str| json!({"text": t});

    refused(
        &act(&monitor, &id, &path("answer"), say("It is right.")).await,
        "ROLE",
    );
    refused(
        &act(&monitor, &id, &path("close"), say("done")).await,
        "QUERY",
    );
    done(&act(&nurse, &id, &path("answer"), say("It is right.")).await);
    refused(&act(&dm, &id, &path("close"), say("done")).await, "ROLE");
    refused(
        &act(&monitor, &id, &path("cancel"), say("never mind")).await,
        "QUERY",
    );

    done(
        &act(
            &monitor,
            &id,
            &path("requery"),
            say("The report says otherwise."),
        )
        .await,
    );
    assert_eq!(query(&monitor, &id, &q).await["status"], "open");
    done(&act(&monitor, &id, &path("cancel"), say("Raised in error.")).await);
    let cancelled = query(&monitor, &id, &q).await;
    assert_eq!(cancelled["status"], "cancelled");
    refused(
        &act(&nurse, &id, &path("answer"), say("late")).await,
        "QUERY",
    );

    // A query closed stays closed.
    let q2 = raise(&monitor, &id, &entry, "Unit?").await;
    let path2 = |what: &str| format!("queries/{q2}/{what}");
    done(&act(&nurse, &id, &path2("answer"), say("10^9/L as printed.")).await);
    done(&act(&monitor, &id, &path2("close"), say("Thanks.")).await);
    for what in ["requery", "cancel", "close"] {
        refused(
            &act(&monitor, &id, &path2(what), say("again")).await,
            "QUERY",
        );
    }
    refused(
        &act(&nurse, &id, &path2("answer"), say("again")).await,
        "QUERY",
    );
    assert_eq!(query(&monitor, &id, &q2).await["status"], "closed");

    let r = monitor
        .get(&format!("/api/v1/queries?study_id={id}&status=closed"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body.as_array().map(Vec::len), Some(1), "{}", r.text);
}

async fn an_unusual_lab_value_raises_a_query_that_closes_itself_when_corrected(app: TestApp) {
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let data = lab("haemoglobin", 55.0, "g/L");
    let entry = record_lab(&nurse, &id, data.clone()).await;

    let r = nurse
        .get(&format!("/api/v1/participants/{id}/queries"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let auto: Vec<Value> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["query"].clone())
        .filter(|q| q["point"]["entry_id"] == entry.as_str())
        .collect();
    assert_eq!(auto.len(), 1, "{}", r.text);
    let q = auto[0]["query_id"].as_str().unwrap().to_string();
    assert_eq!(auto[0]["origin"]["origin"], "automatic");
    assert_eq!(auto[0]["origin"]["check"], "lab_unusual");
    assert_eq!(auto[0]["status"], "open");
    let p = point(&nurse, &id, &entry).await;
    assert_eq!(p["active_queries"], json!([q]), "{p}");

    let v = nurse.version(&id).await;
    let r = nurse
        .command(&id, "lab", v, correcting(data, &entry, 125.0))
        .await;
    done(&r);
    let closed = query(&nurse, &id, &q).await;
    assert_eq!(closed["status"], "closed", "{closed}");
    let last = closed["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["by"], Value::Null, "closed by the system: {last}");
    assert_eq!(last["status"], "closed");
    let r = nurse
        .get(&format!("/api/v1/queries?study_id={id}&status=open"))
        .await;
    assert!(
        !r.body
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["query"]["query_id"] == q.as_str()),
        "{}",
        r.text
    );
}

/// The participant's signatures, in force and voided.
async fn signatures(c: &Client, id: &str) -> Value {
    let r = c
        .get(&format!("/api/v1/participants/{id}/signatures"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn the_investigators_signature_is_voided_visibly_by_a_later_change(app: TestApp) {
    let id = app.eligible("KS").await;
    let inv = app.client("inv.ks").await;
    let nurse = app.client("nurse.ks").await;
    let sign = |password: &str| json!({"scope": {"signs": "casebook"}, "password": password});

    let r = act(&inv, &id, "signatures", sign("not-my-password")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    for other in [&nurse, &app.client("monitor").await] {
        let r = act(other, &id, "signatures", sign(PASSWORD)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    }
    assert_eq!(signatures(&inv, &id).await, json!([]), "nothing signed yet");

    done(&act(&inv, &id, "signatures", sign(PASSWORD)).await);
    let signed = signatures(&nurse, &id).await;
    assert_eq!(signed.as_array().map(Vec::len), Some(1), "{signed}");
    assert_eq!(signed[0]["signature"]["signer"], "inv.ks");
    assert!(signed[0].get("voided").is_none(), "{signed}");
    refused(
        &act(&inv, &id, "signatures", sign(PASSWORD)).await,
        "SIGNATURE",
    );

    record_lab(&nurse, &id, lab("haemoglobin", 121.0, "g/L")).await;
    let after = signatures(&inv, &id).await;
    let voided = &after[0]["voided"];
    assert!(
        voided.is_object(),
        "the change voids the signature: {after}"
    );
    assert!(
        voided["because"].as_str().unwrap_or("").contains("lab"),
        "{after}"
    );
    // A new signature may follow.
    done(&act(&inv, &id, "signatures", sign(PASSWORD)).await);
    let again = signatures(&inv, &id).await;
    assert_eq!(again.as_array().map(Vec::len), Some(2), "{again}");
    assert!(again[1].get("voided").is_none(), "{again}");
}

/// Posts a study-wide hold on the version the data manager sees.
async fn study_act(c: &Client, what: &str, reason: Option<&str>) -> Answer {
    let v = c.get("/api/v1/study/oversight").await.body["version"].clone();
    c.post(
        &format!("/api/v1/study/{what}"),
        &json!({"expected_version": v, "reason": reason}),
    )
    .await
}

async fn a_locked_study_refuses_every_entry_and_its_unlock_voids_signatures(app: TestApp) {
    let ks = app.eligible("KS").await;
    let uu = app.eligible("UU").await;
    let dm = app.client("dm").await;
    let inv = app.client("inv.ks").await;
    let sign = json!({"scope": {"signs": "casebook"}, "password": PASSWORD});
    done(&act(&inv, &ks, "signatures", sign).await);

    let r = study_act(&dm, "lock", None).await;
    refused(&r, "LOCKED");
    let r = study_act(&dm, "freeze", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["hold"]["level"], "frozen");
    let r = study_act(&app.client("monitor").await, "lock", None).await;
    refused(&r, "ROLE");
    let r = study_act(&dm, "lock", None).await;
    assert_eq!(r.body["hold"]["level"], "locked", "{}", r.text);

    // A stale study-wide version is a conflict, not a hold on a state not seen.
    let r = dm
        .post(
            "/api/v1/study/unlock",
            &json!({"expected_version": 0, "reason": "late lab"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    for (site, id) in [("ks", &ks), ("uu", &uu)] {
        let nurse = app.client(&format!("nurse.{site}")).await;
        let v = nurse.version(id).await;
        let r = nurse
            .command(id, "lab", v, lab("haemoglobin", 121.0, "g/L"))
            .await;
        refused(&r, "LOCKED");
    }
    let points = points(&dm, &ks).await;
    assert!(
        points.iter().all(|p| p["hold"] == "locked"),
        "every data point shows the study's lock: {points:?}"
    );
    let entry = points[0]["entry_id"].as_str().unwrap();
    refused(
        &act(
            &app.client("monitor").await,
            &ks,
            "queries",
            json!({"point": {"entry_id": entry}, "text": "?"}),
        )
        .await,
        "LOCKED",
    );

    refused(&study_act(&dm, "unlock", None).await, "VALUE_REQUIRED");
    let r = study_act(&dm, "unlock", Some("a late lab report arrived")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["hold"]["level"], "frozen");
    let sigs = inv
        .get(&format!("/api/v1/participants/{ks}/signatures"))
        .await
        .body;
    assert_eq!(
        sigs[0]["voided"]["because"], "the whole study was unlocked",
        "{sigs}"
    );
    let r = study_act(&dm, "unfreeze", Some("the report is entered")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["hold"].is_null(), "{}", r.text);
}

async fn a_monitors_deviation_is_assessed_then_closed_and_stays_closed(app: TestApp) {
    let id = app.eligible("KS").await;
    let monitor = app.client("monitor").await;
    let dm = app.client("dm").await;
    let nurse = app.client("nurse.ks").await;
    let occurred = (now() - Duration::days(3)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let deviation = json!({"category": "procedure", "severity": "minor",
        "description": "Blood sample taken 2 hours after the planned time.", "occurred_at": occurred});

    refused(
        &act(&nurse, &id, "deviations", deviation.clone()).await,
        "ROLE",
    );
    let r = act(&monitor, &id, "deviations", deviation).await;
    done(&r);
    let dev = r.body["created"]
        .as_str()
        .expect("deviation id")
        .to_string();
    let review = |r: &Answer| r.body["oversight"]["deviation_reviews"][&dev].clone();
    assert_eq!(review(&r)["status"], "open");
    assert_eq!(review(&r)["category"], "procedure");
    assert_eq!(review(&r)["reported_by"]["user"], "monitor");

    let path = format!("deviations/{dev}/assess");
    let note =
        |status: &str| json!({"status": status, "note": "No impact on the primary endpoint."});
    refused(&act(&nurse, &id, &path, note("assessed")).await, "ROLE");
    let r = act(&dm, &id, &path, note("assessed")).await;
    done(&r);
    assert_eq!(review(&r)["status"], "assessed");
    let r = act(&dm, &id, &path, note("closed")).await;
    done(&r);
    assert_eq!(review(&r)["status"], "closed");
    assert_eq!(review(&r)["notes"].as_array().map(Vec::len), Some(2));
    for status in ["assessed", "closed", "open"] {
        refused(&act(&dm, &id, &path, note(status)).await, "DEVIATION");
    }
}

async fn the_monitor_verifies_a_whole_form_or_visit_at_once(app: TestApp) {
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let monitor = app.client("monitor").await;
    record_lab(&nurse, &id, lab("haemoglobin", 121.0, "g/L")).await;
    let current = |rows: &[Value], form: &str| -> Vec<Value> {
        rows.iter()
            .filter(|p| p["form"] == form && p["status"]["status"] == "current")
            .cloned()
            .collect()
    };
    let labs = current(&points(&monitor, &id).await, "lab");
    assert!(labs.len() >= 2, "{labs:?}");
    // Each row says what its value is, as people read it.
    let rows = points(&monitor, &id).await;
    let value = |entry: &str| {
        rows.iter()
            .find(|p| p["entry_id"] == entry)
            .map(|p| p["value"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert!(
        value("ps-1").starts_with("WHO ") && value("ps-1").len() > 4,
        "{}",
        value("ps-1")
    );
    let inr = labs
        .iter()
        .find(|p| p["value"].as_str().is_some_and(|v| v.starts_with("inr")))
        .expect("an INR");
    assert_eq!(
        inr["value"], "inr 1.0",
        "a unitless value has no trailing space"
    );

    let form = json!({"scope": {"scope": "form", "form": "lab"}});
    refused(&act(&nurse, &id, "verify", form.clone()).await, "ROLE");
    refused(
        &act(&app.client("dm").await, &id, "verify", form.clone()).await,
        "ROLE",
    );
    done(&act(&monitor, &id, "verify", form).await);
    let rows = points(&monitor, &id).await;
    for p in current(&rows, "lab") {
        assert_eq!(p["sdv"]["sdv"], "verified", "{p}");
    }
    let weight = current(&rows, "weight");
    assert!(!weight.is_empty());
    assert!(
        weight.iter().all(|p| p["sdv"]["sdv"] == "not_verified"),
        "another form stays as it was: {weight:?}"
    );

    let visit = json!({"scope": {"scope": "visit", "visit": "screening"}});
    done(&act(&monitor, &id, "verify", visit).await);
    let rows = points(&monitor, &id).await;
    for p in rows.iter().filter(|p| p["status"]["status"] == "current") {
        if p["visit"] == "screening" {
            assert_eq!(p["sdv"]["sdv"], "verified", "{p}");
        }
    }
    assert!(weight.iter().all(|w| {
        rows.iter()
            .any(|p| p["entry_id"] == w["entry_id"] && p["sdv"]["sdv"] == "verified")
    }));
}

async fn a_frozen_form_holds_its_entries_and_no_others(app: TestApp) {
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let monitor = app.client("monitor").await;
    let dm = app.client("dm").await;
    let form = json!({"scope": {"scope": "form", "form": "lab"}});
    done(&act(&monitor, &id, "freeze", form.clone()).await);
    let rows = points(&nurse, &id).await;
    for p in &rows {
        let expected = if p["form"] == "lab" {
            json!("frozen")
        } else {
            Value::Null
        };
        assert_eq!(p["hold"], expected, "{p}");
    }

    let v = nurse.version(&id).await;
    let r = nurse
        .command(&id, "lab", v, lab("haemoglobin", 121.0, "g/L"))
        .await;
    refused(&r, "FROZEN");
    let weighed = (now() - Duration::days(1)).date_naive().to_string();
    let r = nurse
        .command(
            &id,
            "body-weight",
            v,
            json!({"weight_kg": 67.5, "measured_on": weighed}),
        )
        .await;
    done(&r);

    refused(
        &act(
            &monitor,
            &id,
            "unfreeze",
            json!({"scope": {"scope": "form", "form": "lab"}, "reason": "done"}),
        )
        .await,
        "ROLE",
    );
    refused(&act(&dm, &id, "unfreeze", form).await, "VALUE_REQUIRED");
    done(
        &act(
            &dm,
            &id,
            "unfreeze",
            json!({"scope": {"scope": "form", "form": "lab"}, "reason": "the site's lab report arrived"}),
        )
        .await,
    );
    record_lab(&nurse, &id, lab("haemoglobin", 121.0, "g/L")).await;
    let trail = nurse
        .get(&format!("/api/v1/participants/{id}/events"))
        .await;
    let lifted = trail
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "hold_lifted")
        .cloned()
        .expect("the unfreeze is in the audit trail");
    assert_eq!(lifted["actor"], "dm");
    assert_eq!(lifted["reason"], "the site's lab report arrived");
}
