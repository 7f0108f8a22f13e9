//! Safety and survival data after the end, and the plausibility of entries, over the
//! JSON API and the AE page (PROTOCOL §2, §11, §13; issue 10, points 11 and 13).

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use protocol::IhcScore;
use protocol::testing::{fresh_biopsy_command, pathology_command};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Client, TestApp, now};

/// Lung infection (CTCAE v5.0, grades 2–5).
const LUNG_INFECTION: u32 = 10061229;
/// Nausea.
const NAUSEA: u32 = 10028813;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn days_ago(n: i64) -> NaiveDate {
    (now() - Duration::days(n)).date_naive()
}

/// An AE not related to the IMP or T-DXd, the site aware on the onset day at noon.
fn ae(code: u32, grade: u8, onset: NaiveDate) -> Value {
    json!({
        "meddra_code": code, "grade": grade, "onset": onset.to_string(),
        "relation_imp": "not_related", "relation_tdxd": "not_applicable",
        "action_tdxd": "not_applicable", "outcome": "not_recovered",
        "site_aware_at": ts(onset.and_hms_opt(12, 0, 0).unwrap().and_utc()),
    })
}

/// Runs a command at the participant's current version: (status, body).
async fn send(c: &Client, id: &str, name: &str, data: Value) -> (StatusCode, Value) {
    let v = c.version(id).await;
    let r = c.command(id, name, v, data).await;
    (r.status, r.body)
}

async fn journey(c: &Client, id: &str) -> Value {
    let j = c.get(&format!("/api/v1/participants/{id}/journey")).await;
    assert_eq!(j.status, StatusCode::OK, "{}", j.text);
    j.body
}

#[tokio::test]
async fn after_off_study_and_death_safety_and_survival_data_still_come_in() {
    let app = TestApp::start().await;
    // Arm 2: consented 20 days ago, PET1 19 days ago, off study 5 days ago.
    let id = app.after_baseline_pet("KS", 20).await;
    let pet1 = now() - Duration::days(19);
    app.run(
        "nurse.ks",
        &id,
        &[fresh_biopsy_command(pet1 + Duration::days(1))],
    )
    .await;
    app.run(
        "path.ks",
        &id,
        &[pathology_command(
            "biopsy-1",
            "A",
            IhcScore::Zero,
            false,
            days_ago(0),
        )],
    )
    .await;
    let nurse = app.client("nurse.ks").await;
    let end = json!({"reason": "arm2_follow_up_complete", "ended_on": days_ago(5).to_string()});
    let r = send(&nurse, &id, "end-participation", end).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(r.1["state"], "off_study");

    // A serious infection that began during follow-up, reported to the sponsor three
    // hours after the site knew, is entered after the end.
    let mut infection = ae(LUNG_INFECTION, 3, days_ago(9));
    infection["serious_hospitalisation"] = json!(true);
    let reported = days_ago(9).and_hms_opt(15, 0, 0).unwrap().and_utc();
    infection["reported_to_sponsor_at"] = json!(ts(reported));
    let r = send(&nurse, &id, "adverse-event", infection.clone()).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    // A death before her last study contact cannot be; two days ago it is recorded.
    let r = send(
        &nurse,
        &id,
        "death",
        json!({"died_on": days_ago(6).to_string()}),
    )
    .await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
    assert_eq!(r.1["rule"], "VALUE_IMPOSSIBLE");
    let r = send(
        &nurse,
        &id,
        "death",
        json!({"died_on": days_ago(2).to_string()}),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(r.1["state"], "died");

    // The infection's fatal follow-up, and a pregnancy report, after the death.
    let mut fatal = infection;
    fatal["grade"] = json!(5);
    fatal["serious_death"] = json!(true);
    fatal["outcome"] = json!("fatal");
    fatal["corrects"] = json!("ae-1");
    fatal["correction_reason"] = json!("died of the infection");
    let r = send(&nurse, &id, "adverse-event", fatal).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(r.1["state"], "died");
    let preg = json!({"site_aware_at": ts(now() - Duration::hours(2)), "exposed_to_tdxd": false});
    let r = send(&nurse, &id, "pregnancy-report", preg).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);

    // Nothing begins after the death; the SAE clock takes no impossible dates.
    let r = send(&nurse, &id, "adverse-event", ae(NAUSEA, 1, days_ago(1))).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
    assert_eq!(r.1["rule"], "VALUE_IMPOSSIBLE");
    let mut future_report = ae(NAUSEA, 1, days_ago(8));
    future_report["serious_hospitalisation"] = json!(true);
    future_report["reported_to_sponsor_at"] = json!(ts(now() + Duration::hours(3)));
    let r = send(&nurse, &id, "adverse-event", future_report.clone()).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
    assert_eq!(r.1["rule"], "SAE_CLOCK");
    future_report["reported_to_sponsor_at"] = Value::Null;
    future_report["site_aware_at"] = json!(ts(now() - Duration::days(10)));
    let r = send(&nurse, &id, "adverse-event", future_report).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
    assert_eq!(r.1["rule"], "SAE_CLOCK");

    let j = journey(&nurse, &id).await;
    assert_eq!(j["state"], "died");
    assert_eq!(j["off_study"]["ended_on"], days_ago(5).to_string(), "{j}");
    let current: Vec<&Value> = j["adverse_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "{}", j["adverse_events"]);
    assert_eq!(current[0]["grade"], 5);
    assert_eq!(current[0]["serious"], true);
    assert_eq!(
        current[0]["sae_clock"]["state"]["state"], "reported_on_time",
        "{}",
        current[0]
    );
    assert_eq!(j["pregnancy_reports"].as_array().unwrap().len(), 1);
    let detail = nurse.get(&format!("/api/v1/participants/{id}")).await;
    assert_eq!(
        detail.body["participant"]["died_on"],
        days_ago(2).to_string()
    );
}

#[tokio::test]
async fn implausible_entries_are_refused_unusual_labs_warned_and_ae_choices_start_empty() {
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let nurse = app.client("nurse.ks").await;
    let lab = |value: f64, unit: &str| {
        json!({"analyte": "platelets", "value": value, "unit": unit,
               "sample_at": ts(now() - Duration::hours(2)), "origin": "study"})
    };
    // 5000 ×10⁹/L is not a platelet count.
    let r = send(&nurse, &id, "lab", lab(5000.0, "10^9/L")).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
    assert_eq!(r.1["rule"], "VALUE_IMPOSSIBLE");
    assert!(
        r.1["hint"].as_str().unwrap_or("").contains("unit"),
        "{}",
        r.1
    );
    // 1500 ×10⁹/L is possible but unusual: kept, with the warning shown on the result.
    let r = send(&nurse, &id, "lab", lab(1500.0, "10^9/L")).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let detail = nurse.get(&format!("/api/v1/participants/{id}")).await;
    let labs = detail.body["participant"]["labs"].as_array().unwrap();
    let last = &labs.last().unwrap()["value"];
    assert_eq!(last["canonical_value"], 1500.0, "{last}");
    assert!(
        last["warnings"][0]
            .as_str()
            .unwrap_or("")
            .contains("Unusual value"),
        "{last}"
    );
    assert!(
        labs[..labs.len() - 1]
            .iter()
            .all(|l| l["value"].get("warnings").is_none()),
        "usual values carry no warning"
    );

    // An AE that began before consent (10 days ago) is medical history.
    let r = send(&nurse, &id, "adverse-event", ae(NAUSEA, 1, days_ago(12))).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
    assert_eq!(r.1["rule"], "VALUE_IMPOSSIBLE");
    assert!(
        r.1["hint"]
            .as_str()
            .unwrap_or("")
            .contains("medical history"),
        "{}",
        r.1
    );
    // Related to T-DXd before any dose cannot be.
    let mut related = ae(NAUSEA, 1, days_ago(1));
    related["relation_tdxd"] = json!("possibly_related");
    let r = send(&nurse, &id, "adverse-event", related).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
    assert_eq!(r.1["rule"], "VALUE_IMPOSSIBLE");
    let r = send(&nurse, &id, "adverse-event", ae(NAUSEA, 1, days_ago(1))).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);

    // The AE form: relation, action and outcome start with no choice, and a choice is required.
    let page = nurse
        .get(&format!("/participants/{id}/ae/new?code={NAUSEA}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    for name in ["relation_imp", "relation_tdxd", "action_tdxd", "outcome"] {
        let start = page
            .text
            .find(&format!("name=\"{name}\""))
            .unwrap_or_else(|| panic!("{name} on the page"));
        let select = &page.text[start..];
        let select = &select[..select.find("</select>").unwrap()];
        assert!(select.contains("required"), "{name}: {select}");
        let selected: Vec<&str> = select
            .split("<option")
            .filter(|o| o.contains("selected"))
            .collect();
        assert_eq!(selected.len(), 1, "{name}: {select}");
        assert!(
            selected[0].contains("value=\"\""),
            "{name}: only the empty choice is selected: {select}"
        );
    }
}
