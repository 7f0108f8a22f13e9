//! The T-DXd course over the JSON API (PROTOCOL §9, §11, §12; issue 10, points 1–4):
//! what the commands answer (status, rule) and what the journey shows (the allowed
//! level, the interruptions, the discontinuation, the LVEF repeat due).

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use protocol::IhcScore;
use protocol::testing::{fresh_biopsy_command, pathology_command};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Client, TestApp, now};

const PNEUMONITIS: u32 = 10035742;
const NEUTROPENIA: u32 = 10029366;
const HEART_FAILURE: u32 = 10019279;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn today() -> NaiveDate {
    now().date_naive()
}

fn days_ago(n: i64) -> NaiveDate {
    today() - Duration::days(n)
}

/// An arm-1 participant (HER2 1+) consented 25 days ago, PET1 the next day, biopsy two
/// hours later, reported HER2 1+ two days after the biopsy (22 days ago); cycle 1 day 1
/// at 5.4 mg/kg 21 days ago. Returns her id and a research nurse's client.
async fn on_treatment(app: &TestApp) -> (String, Client) {
    let id = app.after_baseline_pet("KS", 25).await;
    let pet1 = now() - Duration::days(24);
    app.run(
        "nurse.ks",
        &id,
        &[fresh_biopsy_command(pet1 + Duration::hours(2))],
    )
    .await;
    app.run(
        "path.ks",
        &id,
        &[pathology_command(
            "biopsy-1",
            "A",
            IhcScore::OnePlus,
            false,
            days_ago(22),
        )],
    )
    .await;
    let nurse = app.client("nurse.ks").await;
    let r = send(&nurse, &id, "tdxd", dose(days_ago(21), "5.4", None)).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    (id, nurse)
}

fn dose(date: NaiveDate, level: &str, reduction_reason: Option<&str>) -> Value {
    let mg = level.parse::<f64>().unwrap() * 68.0;
    json!({"date": date.to_string(), "weight_kg": 68.0, "dose_level": level, "dose_mg": mg,
           "reduction_reason": reduction_reason})
}

fn ae(code: u32, grade: u8, onset: NaiveDate, resolved: Option<NaiveDate>) -> Value {
    json!({
        "meddra_code": code, "grade": grade, "onset": onset.to_string(),
        "resolved": resolved.map(|d| d.to_string()),
        "relation_imp": "not_related", "relation_tdxd": "possibly_related",
        "action_tdxd": "drug_interrupted",
        "outcome": if resolved.is_some() { "recovered" } else { "not_recovered" },
        "site_aware_at": ts(now() - Duration::hours(1)),
    })
}

/// `v` as a follow-up (correction) of entry `of` for `reason`.
fn correcting(mut v: Value, of: &str, reason: &str) -> Value {
    v["corrects"] = json!(of);
    v["correction_reason"] = json!(reason);
    v
}

fn lab(analyte: &str, value: f64, unit: &str, at: DateTime<Utc>) -> Value {
    json!({"analyte": analyte, "value": value, "unit": unit, "sample_at": ts(at), "origin": "study"})
}

/// Runs a command at the participant's current version: (status, body).
async fn send(c: &Client, id: &str, name: &str, data: Value) -> (StatusCode, Value) {
    let v = c.version(id).await;
    let r = c.command(id, name, v, data).await;
    (r.status, r.body)
}

/// The journey's T-DXd course.
async fn course(c: &Client, id: &str) -> Value {
    let j = c.get(&format!("/api/v1/participants/{id}/journey")).await;
    assert_eq!(j.status, StatusCode::OK, "{}", j.text);
    j.body["tdxd"].clone()
}

#[tokio::test]
async fn tdxd_an_investigator_reduction_is_remembered_and_re_escalation_refused() {
    let app = TestApp::start().await;
    let (id, nurse) = on_treatment(&app).await;
    let r = send(
        &nurse,
        &id,
        "tdxd",
        dose(today(), "4.4", Some("grade 2 fatigue")),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(course(&nurse, &id).await["level"], "4.4");
    // 5.4 after 4.4: refused as re-escalation (checked before the interval).
    let r = send(&nurse, &id, "tdxd", dose(today(), "5.4", None)).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
    assert_eq!(r.1["rule"], "TDXD_DOSE");
    assert!(
        r.1.to_string().contains("re-escalation"),
        "the answer says why: {}",
        r.1
    );
    // 4.4 passes the level check and meets the cycle's interval.
    let r = send(&nurse, &id, "tdxd", dose(today(), "4.4", None)).await;
    assert_eq!(r.1["rule"], "TDXD_INTERVAL", "{}", r.1);
}

#[tokio::test]
async fn tdxd_holds_end_with_the_recorded_resolution_and_neutrophil_counts() {
    let app = TestApp::start().await;
    let (id, nurse) = on_treatment(&app).await;
    // Grade 4 neutropenia: held, the next dose refused naming the rule.
    let r = send(
        &nurse,
        &id,
        "adverse-event",
        ae(NEUTROPENIA, 4, days_ago(10), None),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let c = course(&nurse, &id).await;
    assert_eq!(c["interruptions"][0]["rule"], "TDXD_NEUTROPENIA", "{c}");
    let r = send(&nurse, &id, "tdxd", dose(today(), "5.4", None)).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.1["rule"], "TDXD_INTERRUPTED");
    // The follow-up records its resolution: the hold ends one level down.
    let follow = correcting(
        ae(NEUTROPENIA, 4, days_ago(10), Some(days_ago(3))),
        "ae-1",
        "ANC recovered",
    );
    let r = send(&nurse, &id, "adverse-event", follow).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let c = course(&nurse, &id).await;
    assert_eq!(c["interruptions"], json!([]), "{c}");
    assert_eq!(c["level"], "4.4");
    let r = send(&nurse, &id, "tdxd", dose(today(), "5.4", None)).await;
    assert_eq!(r.1["rule"], "TDXD_DOSE", "{}", r.1);
    let r = send(&nurse, &id, "tdxd", dose(today(), "4.4", None)).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    // A grade 1 pneumonitis entered already resolved within 28 days: no open hold.
    let r = send(
        &nurse,
        &id,
        "adverse-event",
        ae(PNEUMONITIS, 1, days_ago(9), Some(days_ago(2))),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let c = course(&nurse, &id).await;
    assert_eq!(c["interruptions"], json!([]), "{c}");
    assert_eq!(c["level"], "4.4");
    // An ANC of grade 4 on treatment holds; a recovered count lifts it one level down.
    let r = send(
        &nurse,
        &id,
        "lab",
        lab("anc", 0.4, "10^9/L", now() - Duration::hours(2)),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(
        course(&nurse, &id).await["interruptions"][0]["rule"],
        "TDXD_NEUTROPENIA"
    );
    let r = send(
        &nurse,
        &id,
        "lab",
        lab("anc", 1.8, "10^9/L", now() - Duration::hours(1)),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let c = course(&nurse, &id).await;
    assert_eq!(c["interruptions"], json!([]), "{c}");
    assert_eq!(c["level"], "3.2");
}

#[tokio::test]
async fn tdxd_correcting_or_retracting_an_ae_recomputes_the_course() {
    let app = TestApp::start().await;
    let (id, nurse) = on_treatment(&app).await;
    let r = send(
        &nurse,
        &id,
        "adverse-event",
        ae(PNEUMONITIS, 2, days_ago(7), None),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(
        course(&nurse, &id).await["discontinued"]["rule"],
        "TDXD_ILD"
    );
    // A correction without a reason is refused.
    let r = send(
        &nurse,
        &id,
        "adverse-event",
        correcting(ae(PNEUMONITIS, 1, days_ago(7), None), "ae-1", ""),
    )
    .await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.1["rule"], "VALUE_REQUIRED");
    // Grade 2 was mistyped: grade 1 interrupts, it does not discontinue.
    let r = send(
        &nurse,
        &id,
        "adverse-event",
        correcting(
            ae(PNEUMONITIS, 1, days_ago(7), None),
            "ae-1",
            "grade mistyped: asymptomatic",
        ),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let c = course(&nurse, &id).await;
    assert_eq!(c["discontinued"], Value::Null, "{c}");
    assert_eq!(c["interruptions"][0]["rule"], "TDXD_ILD");
    // It was not pneumonitis at all: retracted with a reason, the hold goes too.
    let r = send(
        &nurse,
        &id,
        "retract-entry",
        json!({"entry_id": "ae-2", "reason": "CT finding was atelectasis, not pneumonitis"}),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let c = course(&nurse, &id).await;
    assert_eq!(c["interruptions"], json!([]), "{c}");
    assert_eq!(c["level"], "5.4");
    let r = send(&nurse, &id, "tdxd", dose(today(), "5.4", None)).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
}

#[tokio::test]
async fn tdxd_lvef_findings_ask_for_a_repeat_and_heart_failure_discontinues() {
    let app = TestApp::start().await;
    let (id, nurse) = on_treatment(&app).await;
    // 52 % on the C1D1 morning is the baseline; 44 % is a drop of 8 points: continue,
    // repeat within 3 weeks.
    let c1d1 = (now() - Duration::days(21)).date_naive();
    let morning = c1d1.and_hms_opt(7, 0, 0).unwrap().and_utc();
    let r = send(&nurse, &id, "lab", lab("lvef", 52.0, "%", morning)).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let found = (now() - Duration::days(14))
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    let r = send(&nurse, &id, "lab", lab("lvef", 44.0, "%", found)).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let c = course(&nurse, &id).await;
    assert_eq!(c["interruptions"], json!([]), "{c}");
    assert_eq!(
        c["lvef_repeat"]["due"],
        (found.date_naive() + Duration::days(21)).to_string(),
        "{c}"
    );
    let page = nurse.get(&format!("/participants/{id}")).await;
    let due = (found.date_naive() + Duration::days(21)).to_string();
    assert!(
        page.text.contains(&format!("Repeat the LVEF by {due}")),
        "the participant page says when to repeat the LVEF"
    );
    // The site's visit list has the repeat with its due date.
    let list = nurse.get("/api/v1/visits").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let repeat = list
        .body
        .as_array()
        .and_then(|rows| {
            rows.iter().find(|r| {
                r["study_id"] == id.as_str() && r["visit"]["expected"]["kind"] == "lvef_repeat"
            })
        })
        .unwrap_or_else(|| panic!("the repeat LVEF on the visit list: {}", list.text));
    assert_eq!(
        repeat["visit"]["expected"]["window"]["latest"], due,
        "{repeat}"
    );
    assert_eq!(repeat["visit"]["state"], "due", "{repeat}");
    // Symptomatic heart failure: permanently discontinued, doses refused.
    let r = send(
        &nurse,
        &id,
        "adverse-event",
        ae(HEART_FAILURE, 3, days_ago(2), None),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let c = course(&nurse, &id).await;
    assert_eq!(c["discontinued"]["rule"], "TDXD_LVEF", "{c}");
    let r = send(
        &nurse,
        &id,
        "tdxd",
        dose(today(), "4.4", Some("heart failure")),
    )
    .await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.1["rule"], "TDXD_DISCONTINUED");
}
