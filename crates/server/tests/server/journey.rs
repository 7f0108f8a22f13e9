//! The journey after PET over HTTP: biopsy, pathology and automatic allocation, T-DXd,
//! adverse events with the SAE clock, the visit lists and the CTCAE term list, with
//! roles and site isolation on every new endpoint.

use chrono::{Duration, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;

fn ts(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A local read reported `days_ago`.
fn pathology(
    days_ago: i64,
    (biopsy, ihc): (&str, &str),
    pct: f64,
    intensity: &str,
    completeness: &str,
) -> Value {
    let reported_on = (crate::common::now() - chrono::Duration::days(days_ago)).date_naive();
    json!({
        "biopsy_id": biopsy, "specimen_id": "A", "read": "local", "reader": "Dr Patolog",
        "reported_on": reported_on.to_string(), "ihc_score": ihc, "stained_pct": pct,
        "intensity": intensity, "completeness": completeness, "antibody_clone": "4B5",
    })
}

fn ae(code: u32, grade: u8, aware: chrono::DateTime<Utc>, hospitalised: bool) -> Value {
    json!({
        "meddra_code": code, "grade": grade, "onset": aware.date_naive().to_string(),
        "serious_hospitalisation": hospitalised,
        "relation_imp": "not_related", "relation_tdxd": "possibly_related",
        "action_tdxd": "drug_interrupted", "outcome": "not_recovered",
        "site_aware_at": ts(aware),
    })
}

#[tokio::test]
async fn arm_1_journey_over_the_api_with_roles_and_sites_apart() {
    let app = TestApp::start().await;
    // Consent 25 days ago, enrolment and PET1 the day after, biopsy two hours later,
    // reported two days later (22 days ago), C1D1 the day after the report and cycle 2
    // today.
    let id = app.after_baseline_pet("KS", 25).await;
    let nurse = app.client("nurse.ks").await;
    let path = app.client("path.ks").await;
    let other = app.client("nurse.uu").await;
    let pet1 = crate::common::now() - Duration::days(24);

    let v = nurse.version(&id).await;
    let biopsy = json!({"performed_at": ts(pet1 + Duration::hours(2))});
    let r = nurse.command(&id, "fresh-biopsy", v, biopsy).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "biopsy_done");

    // Only the pathologist reports; an inconsistent read is refused with its rule.
    let v = nurse.version(&id).await;
    let one_plus = pathology(22, ("biopsy-1", "one_plus"), 40.0, "faint", "incomplete");
    assert_eq!(
        nurse
            .command(&id, "pathology", v, one_plus.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad = pathology(22, ("biopsy-1", "one_plus"), 5.0, "faint", "incomplete");
    let r = path.command(&id, "pathology", v, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "HER2_CATEGORY");
    let r = path.command(&id, "pathology", v, one_plus).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "allocated");

    let j = nurse
        .get(&format!("/api/v1/participants/{id}/journey"))
        .await;
    assert_eq!(j.status, StatusCode::OK, "{}", j.text);
    assert_eq!(j.body["arm"], "arm1");
    assert_eq!(j.body["allocation"]["decision"]["deciding_category"], "low");
    assert_eq!(j.body["next_visit"]["expected"]["kind"], "c1d1");

    // Two cycles of T-DXd, 21 days apart; a wrong dose is refused with the rule.
    let c1 = (crate::common::now() - Duration::days(21)).date_naive();
    let dose = |date: chrono::NaiveDate, mg: f64| json!({"date": date.to_string(), "weight_kg": 68.0, "dose_level": "5.4", "dose_mg": mg});
    let v = nurse.version(&id).await;
    let r = nurse.command(&id, "tdxd", v, dose(c1, 367.2)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "on_treatment");
    let r = nurse
        .command(&id, "tdxd", v + 1, dose(c1 + Duration::days(21), 500.0))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "TDXD_DOSE");
    let r = nurse
        .command(&id, "tdxd", v + 1, dose(c1 + Duration::days(21), 367.2))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = nurse.version(&id).await;

    // A serious pneumonitis the site knew of 25 hours ago, not reported: late; T-DXd stops.
    let r = nurse
        .command(
            &id,
            "adverse-event",
            v,
            ae(
                10035742,
                2,
                crate::common::now() - Duration::hours(25),
                true,
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let j = nurse
        .get(&format!("/api/v1/participants/{id}/journey"))
        .await;
    let a = &j.body["adverse_events"][0];
    assert_eq!(a["term"], "Pneumonitis");
    assert_eq!(a["serious"], true);
    assert_eq!(a["sae_clock"]["late"], true, "{}", a);
    assert!(
        a["aesi"].as_array().unwrap().iter().any(|x| x
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("ild")),
        "{a}"
    );
    assert!(
        j.body["tdxd"]["discontinued"].is_object(),
        "{}",
        j.body["tdxd"]
    );
    assert_eq!(j.body["tdxd_records"].as_array().unwrap().len(), 2);
    assert_eq!(j.body["deviations"], json!([]), "every visit in its window");

    // A pregnancy the site knew of 30 hours ago and has not reported: late.
    let v = nurse.version(&id).await;
    let preg = json!({"site_aware_at": ts(crate::common::now() - Duration::hours(30)), "exposed_to_tdxd": true});
    let r = nurse.command(&id, "pregnancy-report", v, preg).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let j = nurse
        .get(&format!("/api/v1/participants/{id}/journey"))
        .await;
    assert_eq!(
        j.body["pregnancy_reports"][0]["clock"]["late"], true,
        "{}",
        j.body["pregnancy_reports"]
    );

    // A monitor reads but may not write; another site sees nothing.
    let monitor = app.client("monitor").await;
    assert_eq!(
        monitor
            .get(&format!("/api/v1/participants/{id}/journey"))
            .await
            .status,
        StatusCode::OK
    );
    let v = nurse.version(&id).await;
    let r = monitor
        .command(
            &id,
            "adverse-event",
            v,
            ae(10035742, 1, crate::common::now(), false),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mine = other
        .get(&format!("/api/v1/participants/{id}/journey"))
        .await;
    let none = other.get("/api/v1/participants/KS-999/journey").await;
    assert_eq!(mine.status, StatusCode::NOT_FOUND);
    assert_eq!(
        mine.text.replace(&id, "ID"),
        none.text.replace("KS-999", "ID")
    );
    for name in [
        "fresh-biopsy",
        "pathology",
        "tdxd",
        "adverse-event",
        "end-participation",
        "correct-allocation",
    ] {
        let a = other.command(&id, name, v, json!({})).await;
        let b = other.command("KS-999", name, v, json!({})).await;
        assert_eq!(a.status, b.status, "{name}");
        assert_eq!(
            a.text.replace(&id, "ID"),
            b.text.replace("KS-999", "ID"),
            "{name}"
        );
    }
    let visits = nurse.get("/api/v1/visits").await;
    assert_eq!(visits.status, StatusCode::OK);
    let theirs = other.get("/api/v1/visits").await;
    assert!(!theirs.text.contains(&id), "{}", theirs.text);
}

#[tokio::test]
async fn arm_2_ends_after_its_follow_up_and_ctcae_terms_are_looked_up() {
    let app = TestApp::start().await;
    let id = app.after_baseline_pet("KS", 20).await;
    let nurse = app.client("nurse.ks").await;
    let path = app.client("path.ks").await;
    let pet1 = crate::common::now() - Duration::days(19);
    let v = nurse.version(&id).await;
    let r = nurse
        .command(
            &id,
            "fresh-biopsy",
            v,
            json!({"performed_at": ts(pet1 + Duration::days(1))}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = path
        .command(
            &id,
            "pathology",
            v + 1,
            pathology(3, ("biopsy-1", "zero"), 0.0, "none", "none"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "safety_follow_up");
    let j = nurse
        .get(&format!("/api/v1/participants/{id}/journey"))
        .await;
    assert_eq!(j.body["arm"], "arm2");
    assert_eq!(
        j.body["next_visit"]["expected"]["kind"],
        "arm2_follow_up_end"
    );
    let end = json!({"reason": "arm2_follow_up_complete", "ended_on": (pet1 + Duration::days(14)).date_naive().to_string()});
    let r = nurse
        .command(&id, "end-participation", nurse.version(&id).await, end)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "off_study");
    // After the end no new study procedure; the journey shows no visits any more.
    let j = nurse
        .get(&format!("/api/v1/participants/{id}/journey"))
        .await;
    assert_eq!(j.body["visits"], json!([]));

    let hits = nurse.get("/api/v1/ctcae?q=PNEUMON").await;
    assert!(
        hits.body
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["meddra_code"] == 10035742),
        "{}",
        hits.text
    );
    let t = nurse.get("/api/v1/ctcae/10035742").await;
    assert_eq!(t.body["term"], "Pneumonitis");
    assert!(
        t.body["grades"][1]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("symptomatic")
    );
    assert_eq!(
        nurse.get("/api/v1/ctcae/123").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.anonymous().get("/api/v1/ctcae?q=x").await.status,
        StatusCode::UNAUTHORIZED
    );
}
