//! Pathology and allocation over HTTP on the untidy paths (PROTOCOL §8; issue 10,
//! points 5–7): several specimens and central reads after a first allocation, a
//! non-diagnostic first specimen, a local HER2-positive result superseded or
//! corrected, and `allocation_uses_pet` both ways. Each test reads what a site sees:
//! the command's status, rule id and state, and the journey's arm and allocation.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trial::Actor;

use crate::common::{Client, PASSWORD, TestApp, now};

/// Consent 5 days ago, PET1 4 days ago: her biopsy two hours after PET1.
const DAYS: i64 = 5;

fn pet1() -> DateTime<Utc> {
    now() - Duration::days(DAYS - 1)
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A report of `specimen` of biopsy-1 (`read`: local or central), dated `on`.
fn report(specimen: &str, read: &str, ihc: &str, on: DateTime<Utc>) -> Value {
    let (pct, intensity, completeness) = match ihc {
        "zero" => (0.0, "none", "none"),
        "one_plus" => (40.0, "faint", "incomplete"),
        "three_plus" => (90.0, "intense", "complete"),
        other => panic!("no fixture for {other}"),
    };
    json!({
        "biopsy_id": "biopsy-1", "specimen_id": specimen, "read": read, "reader": "Dr Patolog",
        "reported_on": on.date_naive().to_string(), "ihc_score": ihc, "stained_pct": pct,
        "intensity": intensity, "completeness": completeness, "antibody_clone": "4B5",
    })
}

/// A participant after baseline PET with biopsy-1 of L1 (SUVmax 9, HER2-avid).
async fn biopsied(app: &TestApp) -> String {
    let id = app.after_baseline_pet("KS", DAYS).await;
    let nurse = app.client("nurse.ks").await;
    let v = nurse.version(&id).await;
    let biopsy = json!({"performed_at": ts(pet1() + Duration::hours(2))});
    let r = nurse.command(&id, "fresh-biopsy", v, biopsy).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    id
}

/// The pathologist reports; returns the command's answer body (state) after checking 200.
async fn reported(path: &Client, id: &str, body: Value) -> Value {
    let v = path.version(id).await;
    let r = path.command(id, "pathology", v, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// The investigator's signed correction.
async fn correct(inv: &Client, id: &str, arm: &str, reason: &str) -> crate::common::Answer {
    let v = inv.version(id).await;
    inv.post(
        &format!("/api/v1/participants/{id}/commands/correct-allocation"),
        &json!({"expected_version": v, "data": {"arm": arm, "reason": reason}, "signature": {"password": PASSWORD}}),
    )
    .await
}

async fn journey(c: &Client, id: &str) -> Value {
    let j = c.get(&format!("/api/v1/participants/{id}/journey")).await;
    assert_eq!(j.status, StatusCode::OK, "{}", j.text);
    j.body
}

fn day_after_pet1() -> DateTime<Utc> {
    pet1() + Duration::days(1)
}

#[tokio::test]
async fn a_second_specimen_changes_the_arm_only_when_the_investigator_signs() {
    let app = TestApp::start().await;
    let id = biopsied(&app).await;
    let (path, inv, nurse) = (
        app.client("path.ks").await,
        app.client("inv.ks").await,
        app.client("nurse.ks").await,
    );
    let a = reported(&path, &id, report("A", "local", "zero", day_after_pet1())).await;
    assert_eq!(a["state"], "safety_follow_up");
    // Specimen B of the same biopsy, reported after the allocation: accepted, and the
    // max-score rule over both specimens says arm 1, pending the investigator.
    let b = reported(&path, &id, report("B", "local", "one_plus", now())).await;
    assert_eq!(b["state"], "safety_follow_up");
    let j = journey(&nurse, &id).await;
    assert_eq!(j["arm"], "arm2");
    let pending = &j["allocation"]["pending"];
    assert_eq!(pending["proposed"], "arm1", "{pending}");
    assert_eq!(pending["in_force"], "arm2");
    assert_eq!(pending["decision"]["deciding_specimen_id"], "B");
    assert_eq!(pending["decision"]["multi_specimen_rule"], "max_score");
    assert_eq!(j["pathology"].as_array().unwrap().len(), 2);
    // Only the investigator signs it.
    let v = nurse.version(&id).await;
    let r = nurse
        .command(
            &id,
            "correct-allocation",
            v,
            json!({"arm": "arm1", "reason": "B"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = correct(&inv, &id, "arm1", "specimen B is HER2-low (max-score rule)").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "allocated");
    let j = journey(&nurse, &id).await;
    assert_eq!(j["arm"], "arm1");
    assert_eq!(j["allocation"]["pending"], Value::Null);
    assert_eq!(j["allocation"]["decision"]["deciding_category"], "low");
    assert_eq!(j["allocation"]["corrections"][0]["to"], "arm1");
    assert_eq!(
        j["allocation"]["corrections"][0]["signature"]["signer"],
        "inv.ks"
    );
    assert_eq!(j["deviations"], json!([]));
}

#[tokio::test]
async fn a_central_read_after_t_dxd_moves_her_on_signature_with_a_deviation() {
    let app = TestApp::start().await;
    let id = biopsied(&app).await;
    let (path, inv, nurse) = (
        app.client("path.ks").await,
        app.client("inv.ks").await,
        app.client("nurse.ks").await,
    );
    let a = reported(
        &path,
        &id,
        report("A", "local", "one_plus", day_after_pet1()),
    )
    .await;
    assert_eq!(a["state"], "allocated");
    let dose = json!({"date": now().date_naive().to_string(), "weight_kg": 68.0, "dose_level": "5.4", "dose_mg": 367.2});
    let r = nurse
        .command(&id, "tdxd", nurse.version(&id).await, dose)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "on_treatment");
    // The central read (IHC 0) supersedes the local 1+ (central_read_supersedes_local).
    let c = reported(&path, &id, report("A", "central", "zero", now())).await;
    assert_eq!(
        c["state"], "on_treatment",
        "nothing moves before the signature"
    );
    let j = journey(&nurse, &id).await;
    assert_eq!(j["arm"], "arm1");
    assert_eq!(j["allocation"]["pending"]["proposed"], "arm2");
    assert_eq!(j["allocation"]["pending"]["treatment_started"], true);
    assert_eq!(
        j["allocation"]["pending"]["decision"]["specimens"][0]["read"],
        "central"
    );
    let r = correct(
        &inv,
        &id,
        "arm2",
        "central read IHC 0 supersedes the local 1+",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "safety_follow_up");
    let j = journey(&nurse, &id).await;
    assert_eq!(j["arm"], "arm2");
    let dev = &j["deviations"][0];
    assert_eq!(dev["rule"], "ALLOCATION", "{}", j["deviations"]);
    assert_eq!(dev["severity"], "major");
}

#[tokio::test]
async fn a_non_diagnostic_first_specimen_leaves_the_other_specimens_to_allocate() {
    let app = TestApp::start().await;
    let id = biopsied(&app).await;
    let (path, nurse) = (app.client("path.ks").await, app.client("nurse.ks").await);
    let mut nd = report("A", "local", "zero", day_after_pet1());
    let nd = nd.as_object_mut().unwrap();
    for k in [
        "ihc_score",
        "stained_pct",
        "intensity",
        "completeness",
        "antibody_clone",
    ] {
        nd.remove(k);
    }
    nd.insert("non_diagnostic_reason".into(), json!("no tumour cells"));
    let a = reported(&path, &id, Value::Object(nd.clone())).await;
    assert_eq!(a["state"], "baseline_pet_done");
    let b = reported(&path, &id, report("B", "local", "one_plus", now())).await;
    assert_eq!(b["state"], "allocated");
    let j = journey(&nurse, &id).await;
    assert_eq!(j["arm"], "arm1");
    assert_eq!(j["biopsies"].as_array().unwrap().len(), 1, "no re-biopsy");
    assert_eq!(j["allocation"]["decision"]["deciding_specimen_id"], "B");
}

#[tokio::test]
async fn a_local_her2_positive_off_study_is_superseded_by_central_read_or_corrected() {
    let app = TestApp::start().await;
    let (path, inv, nurse) = (
        app.client("path.ks").await,
        app.client("inv.ks").await,
        app.client("nurse.ks").await,
    );
    // Superseded by a central read, confirmed by the investigator.
    let id = biopsied(&app).await;
    let a = reported(
        &path,
        &id,
        report("A", "local", "three_plus", day_after_pet1()),
    )
    .await;
    assert_eq!(a["state"], "off_study");
    let j = journey(&nurse, &id).await;
    assert_eq!(j["arm"], Value::Null);
    assert_eq!(
        j["allocation"]["decision"]["outcome"]["outcome"],
        "off_study"
    );
    let c = reported(&path, &id, report("A", "central", "one_plus", now())).await;
    assert_eq!(c["state"], "off_study");
    let j = journey(&nurse, &id).await;
    assert_eq!(j["allocation"]["pending"]["proposed"], "arm1");
    assert_eq!(j["allocation"]["pending"]["in_force"], "off_study");
    let r = correct(&inv, &id, "arm1", "central review: IHC 1+").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "allocated");
    assert_eq!(journey(&nurse, &id).await["arm"], "arm1");

    // Corrected by the investigator alone: a reason is required, the signature recorded.
    let id = biopsied(&app).await;
    let a = reported(
        &path,
        &id,
        report("A", "local", "three_plus", day_after_pet1()),
    )
    .await;
    assert_eq!(a["state"], "off_study");
    let r = correct(&inv, &id, "arm2", " ").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "VALUE_REQUIRED");
    let r = correct(&inv, &id, "arm2", "transcription error: IHC 0, not 3+").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "safety_follow_up");
    let j = journey(&nurse, &id).await;
    assert_eq!(j["arm"], "arm2");
    assert_eq!(j["allocation"]["corrections"][0]["from"], Value::Null);
    assert_eq!(j["allocation"]["corrections"][0]["to"], "arm2");
    // Off study again needs the HER2-positive result on record: here it is.
    let r = correct(&inv, &id, "off_study", "3+ confirmed after all").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "off_study");
}

#[tokio::test]
async fn allocation_uses_pet_both_values() {
    let app = TestApp::start().await;
    let (path, nurse) = (app.client("path.ks").await, app.client("nurse.ks").await);
    // false (the default): IHC 0 on an avid lesion is arm 2, the PET shown beside.
    let id = biopsied(&app).await;
    let a = reported(&path, &id, report("A", "local", "zero", day_after_pet1())).await;
    assert_eq!(a["state"], "safety_follow_up");
    let j = journey(&nurse, &id).await;
    assert_eq!(j["arm"], "arm2");
    let pet = &j["allocation"]["decision"]["pet_beside"];
    assert_eq!(pet["avid"], true, "{pet}");
    assert_eq!(pet["changed_allocation"], false);
    // true: the same biopsy and PET allocate her to arm 1, with the evidence.
    let trial = &app.state.trial;
    let mut s = trial.settings().await.expect("settings");
    s.version += 1;
    s.allocation_uses_pet = true;
    trial
        .change_settings(&Actor::command_line(), s, "amendment: PET and biopsy")
        .await
        .expect("settings change");
    let id = biopsied(&app).await;
    let a = reported(&path, &id, report("A", "local", "zero", day_after_pet1())).await;
    assert_eq!(a["state"], "allocated");
    let j = journey(&nurse, &id).await;
    assert_eq!(j["arm"], "arm1");
    let decision = &j["allocation"]["decision"];
    assert_eq!(decision["pet_beside"]["changed_allocation"], true);
    assert!(
        decision["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains("HER2-expressing on PET")),
        "{}",
        decision["evidence"]
    );
}
