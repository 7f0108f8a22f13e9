//! The protocol's order of events and the sites' calendar over the JSON API (issue 10,
//! points 8 and 9): out-of-order facts are refused with `CHRONOLOGY` or, documented
//! afterwards, recorded with a major deviation the journey shows; "today" is the
//! Stockholm date, and refusals state times as the sites read them.

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use protocol::IhcScore;
use protocol::testing::{fresh_biopsy_command, pathology_command};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, now, present};

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn dose(date: chrono::NaiveDate, late: bool) -> Value {
    json!({"date": date.to_string(), "weight_kg": 68.0, "dose_level": "5.4",
           "dose_mg": 367.2, "late_entry_of_fact": late})
}

/// Arm 1: consented 25 days ago, PET1 24 days ago, biopsy two hours later, reported
/// HER2 1+ 20 days ago.
async fn allocated(app: &TestApp) -> String {
    let id = app.after_baseline_pet("KS", 25).await;
    let pet1 = now() - Duration::days(24);
    let biopsy = fresh_biopsy_command(pet1 + Duration::hours(2));
    app.run("nurse.ks", &id, &[biopsy]).await;
    let reported = (now() - Duration::days(20)).date_naive();
    let report = pathology_command("biopsy-1", "A", IhcScore::OnePlus, false, reported);
    app.run("path.ks", &id, &[report]).await;
    id
}

#[tokio::test]
async fn tdxd_before_the_allocation_is_refused_or_recorded_with_a_major_deviation() {
    let app = TestApp::start().await;
    let id = allocated(&app).await;
    let nurse = app.client("nurse.ks").await;
    let c1 = (now() - Duration::days(21)).date_naive();
    let v = nurse.version(&id).await;
    let r = nurse.command(&id, "tdxd", v, dose(c1, false)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "CHRONOLOGY");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("before the allocation to arm 1"),
        "{}",
        r.text
    );
    assert_eq!(nurse.version(&id).await, v, "nothing recorded");

    let r = nurse.command(&id, "tdxd", v, dose(c1, true)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "on_treatment");
    let j = nurse
        .get(&format!("/api/v1/participants/{id}/journey"))
        .await;
    assert_eq!(j.status, StatusCode::OK, "{}", j.text);
    let devs = j.body["deviations"].as_array().cloned().unwrap_or_default();
    let dev = devs
        .iter()
        .find(|d| d["rule"] == "CHRONOLOGY")
        .unwrap_or_else(|| panic!("a CHRONOLOGY deviation: {}", j.body["deviations"]));
    assert_eq!(dev["severity"], "major");
}

#[tokio::test]
async fn pet1_before_the_enrolment_signature_is_refused_naming_the_times() {
    let app = TestApp::start().await;
    // Enrolled yesterday at 12:00 CET; an injection the day before is out of order.
    let id = app.enrolled("KS").await;
    let nurse = app.client("nurse.ks").await;
    let injected = now() - Duration::days(2);
    let imp = json!({"timepoint": "pet1", "activity_mbq": 150.0, "injected_at": ts(injected),
                     "weight_kg": 68.0, "height_cm": 168.0});
    let v = nurse.version(&id).await;
    let r = nurse.command(&id, "imp-administration", v, imp).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "CHRONOLOGY", "{}", r.text);
    // 11:00 UTC two days ago, and the signature a day later, read in Stockholm (CET).
    let msg = r.body["message"].as_str().unwrap_or("");
    assert!(msg.contains("2026-11-16 12:00 CET"), "{msg}");
    assert!(msg.contains("2026-11-17 12:00 CET"), "{msg}");
}

#[tokio::test]
async fn at_half_past_midnight_in_stockholm_today_is_already_the_local_date() {
    let app = TestApp::start().await;
    let id = allocated(&app).await;
    // 23:30 UTC on 18 November is 00:30 on 19 November in Stockholm.
    let late_evening_utc = Utc.with_ymd_and_hms(2026, 11, 18, 23, 30, 0).unwrap();
    app.clock.set(late_evening_utc);
    let nurse = app.client("nurse.ks").await;
    let local_today = chrono::NaiveDate::from_ymd_opt(2026, 11, 19).unwrap();
    assert_eq!(app.state.trial.today(), local_today);
    let v = nurse.version(&id).await;
    let r = nurse
        .command(&id, "tdxd", v, dose(local_today + Duration::days(1), false))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "VALUE_IMPOSSIBLE");
    let r = nurse
        .command(&id, "tdxd", v, dose(local_today, false))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "today's dose, entered at 00:30: {}",
        r.text
    );
    let j = nurse
        .get(&format!("/api/v1/participants/{id}/journey"))
        .await;
    assert_eq!(
        j.body["tdxd"]["administrations"][0]["date"],
        local_today.to_string(),
        "{}",
        j.body["tdxd"]
    );
    app.clock.set(present());
}

#[tokio::test]
async fn a_correction_after_allocation_re_evaluates_eligibility_and_raises_a_deviation() {
    let app = TestApp::start().await;
    let id = allocated(&app).await;
    let nurse = app.client("nurse.ks").await;
    // The screening platelet count (lab-3, sampled an hour after consent) was 65, not 245.
    let sampled = now() - Duration::days(25) + Duration::hours(1);
    let mut corrected = json!({"analyte": "platelets", "value": 65.0, "unit": "10^9/L",
        "sample_at": ts(sampled), "origin": "study", "corrects": "lab-3"});
    let v = nurse.version(&id).await;
    let r = nurse.command(&id, "lab", v, corrected.clone()).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is needed: {}",
        r.text
    );
    assert_eq!(r.body["rule"], "VALUE_REQUIRED");
    corrected["correction_reason"] = json!("transcription error: the report reads 65");
    let r = nurse.command(&id, "lab", v, corrected).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["state"], "allocated",
        "the correction changes no state"
    );
    let j = nurse
        .get(&format!("/api/v1/participants/{id}/journey"))
        .await;
    let devs = j.body["deviations"].as_array().cloned().unwrap_or_default();
    let dev = devs
        .iter()
        .find(|d| d["rule"] == "ELIGIBILITY")
        .unwrap_or_else(|| panic!("an ELIGIBILITY deviation: {}", j.body["deviations"]));
    assert_eq!(dev["severity"], "major");
    assert!(dev["description"].to_string().contains("EX4"), "{dev}");
    // The audit trail's "why" of the correction is its reason.
    let events = nurse
        .get(&format!("/api/v1/participants/{id}/events"))
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    let last_lab = events
        .body
        .as_array()
        .and_then(|es| es.iter().rev().find(|e| e["kind"] == "lab_recorded"))
        .cloned()
        .unwrap_or_else(|| panic!("the corrected lab event: {}", events.text));
    assert_eq!(
        last_lab["reason"], "transcription error: the report reads 65",
        "{last_lab}"
    );
}
