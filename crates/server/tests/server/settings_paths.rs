//! Issue 10, point 16 through the JSON API: after an amendment of the settings, the
//! eligibility answer follows the new APTT limit (A8), the earlier anti-HER2 ADC rule
//! (A17) and the EX3 look-back (A18), and every answer names the settings version and
//! the protocol version it belongs to.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use trial::Actor;

use crate::common::{Client, PASSWORD, TestApp, now};

const AMENDMENT: &str = "HER2-Ex PET protocol v2.0 (amendment 1)";

/// Puts the next settings version in force, changed by `f`, under protocol version
/// [`AMENDMENT`].
async fn amend(app: &TestApp, f: impl FnOnce(&mut protocol::Settings)) {
    let trial = &app.state.trial;
    let mut s = trial.settings().await.expect("settings");
    s.version += 1;
    s.protocol_version = AMENDMENT.into();
    f(&mut s);
    trial
        .change_settings(&Actor::command_line(), s, "amendment 1")
        .await
        .expect("settings change");
}

async fn eligibility(c: &Client, id: &str) -> Value {
    let r = c
        .get(&format!("/api/v1/participants/{id}/eligibility"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

fn criterion<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["criteria"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {report}"))
}

/// Posts a command as this client; asserts it is accepted.
async fn post(c: &Client, id: &str, name: &str, data: Value) {
    let v = c.version(id).await;
    let r = c.command(id, name, v, data).await;
    assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text);
}

/// The investigator signs the enrolment.
async fn enrol(c: &Client, id: &str) -> crate::common::Answer {
    let v = c.version(id).await;
    c.post(
        &format!("/api/v1/participants/{id}/commands/enrol"),
        &json!({"expected_version": v, "data": {}, "signature": {"password": PASSWORD}}),
    )
    .await
}

#[tokio::test]
async fn a8_aptt_as_a_multiple_of_the_uln_after_an_amendment() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let inv = app.client("inv.ks").await;
    // 34 s with the laboratory's ULN of 38 s: over the registration's 30 s.
    let aptt = json!({"analyte": "aptt", "value": 34.0, "unit": "s", "uln": 38.0,
        "sample_at": now() - Duration::hours(1), "origin": "study"});
    post(&nurse, &id, "lab", aptt).await;
    let report = eligibility(&nurse, &id).await;
    assert_eq!(report["overall"], "not_eligible", "{report}");
    assert_eq!(criterion(&report, "EX5")["status"], "met");
    assert_eq!(report["settings_version"], 1);
    assert_eq!(
        report["protocol_version"],
        protocol::settings::REGISTERED_PROTOCOL_VERSION
    );

    amend(&app, |s| {
        s.bleeding.aptt_max_s = None;
        s.bleeding.aptt_max_x_uln = Some(1.0);
    })
    .await;
    let report = eligibility(&nurse, &id).await;
    assert_eq!(report["overall"], "eligible", "{report}");
    let ex5 = criterion(&report, "EX5");
    assert_eq!(ex5["status"], "not_met");
    assert!(
        ex5["evidence"]
            .to_string()
            .contains("34 ≤ 38 s (1 × ULN 38 s)"),
        "{ex5}"
    );
    assert_eq!(report["settings_version"], 2);
    assert_eq!(report["protocol_version"], AMENDMENT);
    let r = enrol(&inv, &id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // A participant whose APTT has no ULN cannot be judged by a multiple of it.
    let other = app.eligible("KS").await;
    let report = eligibility(&nurse, &other).await;
    let ex5 = criterion(&report, "EX5");
    assert_eq!(ex5["status"], "missing", "{ex5}");
    assert!(
        ex5["evidence"].to_string().contains("no ULN recorded"),
        "{ex5}"
    );
    let r = enrol(&inv, &other).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "ELIGIBILITY");
    assert!(r.text.contains("Missing data: EX5"), "{}", r.text);
}

#[tokio::test]
async fn a17_an_earlier_t_dxd_line_fails_in2_unless_the_amendment_allows_it() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let day = now().date_naive();
    let line = json!({"setting": "palliative", "regimen": "trastuzumab deruxtecan",
        "is_chemotherapy": false, "is_her2_targeted": true,
        "start_date": day - Duration::days(400), "end_date": day - Duration::days(200),
        "progression_date": day - Duration::days(200)});
    post(&nurse, &id, "treatment-line", line).await;
    let report = eligibility(&nurse, &id).await;
    let in2 = criterion(&report, "IN2");
    assert_eq!(in2["status"], "not_met", "{in2}");
    assert_eq!(
        in2["summary"],
        "Not met: an earlier anti-HER2 antibody–drug conjugate is not allowed (clinical-rules A17)"
    );
    let inv = app.client("inv.ks").await;
    let r = enrol(&inv, &id).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("Not satisfied: IN2"), "{}", r.text);

    amend(&app, |s| s.prior_chemo.prior_her2_adc_allowed = true).await;
    let report = eligibility(&nurse, &id).await;
    let in2 = criterion(&report, "IN2");
    assert_eq!(in2["status"], "met", "{in2}");
    assert!(
        in2["evidence"]
            .to_string()
            .contains("prior_chemo.prior_her2_adc_allowed is true (settings v2 (protocol: HER2-Ex PET protocol v2.0 (amendment 1)))"),
        "{in2}"
    );
    assert_eq!(report["overall"], "eligible");
}

#[tokio::test]
async fn a18_a_look_back_counts_a_melanoma_excised_two_years_ago() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let melanoma = json!({"malignancy_type": "melanoma", "description": "excised, no recurrence",
        "diagnosed_on": now().date_naive() - Duration::days(730), "manifest": false});
    post(&nurse, &id, "other-malignancy", melanoma).await;
    let report = eligibility(&nurse, &id).await;
    assert_eq!(criterion(&report, "EX3")["status"], "not_met");
    assert_eq!(report["overall"], "eligible");

    amend(&app, |s| s.other_malignancy_lookback_years = Some(5)).await;
    let report = eligibility(&nurse, &id).await;
    let ex3 = criterion(&report, "EX3");
    assert_eq!(ex3["status"], "met", "{ex3}");
    assert!(
        ex3["evidence"]
            .to_string()
            .contains("counts: diagnosed within the 5-year look-back"),
        "{ex3}"
    );
    assert_eq!(report["protocol_version"], AMENDMENT);
    // The eligibility page names both versions above the table.
    let page = nurse.get(&format!("/participants/{id}/eligibility")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text
            .contains("settings version 2 (protocol: HER2-Ex PET protocol v2.0 (amendment 1))"),
        "no settings and protocol version on the eligibility page"
    );
    let inv = app.client("inv.ks").await;
    let r = enrol(&inv, &id).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("Not satisfied: EX3"), "{}", r.text);
}
