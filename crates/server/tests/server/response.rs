//! Tumour response over HTTP (PROTOCOL §10): the reader enters the baseline CT and
//! follow-ups through the command endpoints, the RECIST 1.1 result is read back with the
//! engine version, progression is recorded; roles and site isolation on every new endpoint.

use chrono::{Duration, NaiveDate};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Client, TestApp};

fn days_ago(n: i64) -> NaiveDate {
    (crate::common::now() - Duration::days(n)).date_naive()
}

/// Liver 30 mm + lung 20 mm = 50 mm; a bone non-target.
pub fn baseline_data() -> Value {
    json!({
        "scan_date": days_ago(120),
        "slice_thickness_mm": 2.5,
        "treatment_start": days_ago(115),
        "lesions": [
            {"id": "T1", "organ": "liver", "role": "target", "diameter_mm": 30.0},
            {"id": "T2", "organ": "lung", "role": "target", "diameter_mm": 20.0},
            {"id": "NT1", "organ": "bone", "role": "non_target"},
        ],
    })
}

fn follow_up(date: NaiveDate, t1: f64, t2: f64, new: &str) -> Value {
    json!({
        "scan_date": date,
        "targets": [
            {"lesion": "T1", "finding": "measured", "diameter_mm": t1},
            {"lesion": "T2", "finding": "measured", "diameter_mm": t2},
        ],
        "non_targets": [{"lesion": "NT1", "status": "present"}],
        "new_lesions": new,
    })
}

async fn command(c: &Client, id: &str, name: &str, data: Value) -> crate::common::Answer {
    let v = c.version(id).await;
    c.command(id, name, v, data).await
}

#[tokio::test]
async fn reader_enters_ct_assessments_and_reads_the_recist_result() {
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let reader = app.client("reader.ks").await;

    // A 9 mm target is not measurable: refused by the engine's baseline rules.
    let mut small = baseline_data();
    small["lesions"][1]["diameter_mm"] = json!(9.0);
    let r = command(&reader, &id, "tumour-baseline", small).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "RECIST");
    assert!(r.text.contains("not measurable"), "{}", r.text);

    let r = command(&reader, &id, "tumour-baseline", baseline_data()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["events"], json!(["tumour_baseline_recorded"]));

    // 50 → 30 mm: −40 %, PR.
    let pr_date = days_ago(60);
    let r = command(
        &reader,
        &id,
        "tumour-assessment",
        follow_up(pr_date, 18.0, 12.0, "no"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["events"],
        json!(["tumour_assessment_recorded", "response_evaluated"])
    );

    // 30 → 40 mm: +33 % and +10 mm over the nadir, PD.
    let pd_date = days_ago(10);
    let r = command(
        &reader,
        &id,
        "tumour-assessment",
        follow_up(pd_date, 25.0, 15.0, "no"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["events"],
        json!([
            "tumour_assessment_recorded",
            "response_evaluated",
            "progression_recorded"
        ])
    );

    let r = reader
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let e = &r.body["evaluation"];
    assert_eq!(e["engine_version"], protocol::recist::ENGINE_VERSION);
    assert_eq!(e["baseline_sum_mm"], 50.0);
    let tps = e["time_points"].as_array().unwrap();
    assert_eq!(tps.len(), 2);
    assert_eq!(tps[0]["sum_mm"], 30.0);
    assert_eq!(tps[0]["change_from_baseline_pct"], -40.0);
    assert_eq!(tps[0]["overall"], "PR");
    assert_eq!(tps[1]["sum_mm"], 40.0);
    assert_eq!(tps[1]["change_from_nadir_pct"], 33.3);
    assert_eq!(tps[1]["target"], "PD");
    assert_eq!(tps[1]["overall"], "PD");
    assert_eq!(e["best_unconfirmed"]["response"], "PR");
    assert_eq!(r.body["progression"]["date"], json!(pd_date));
    assert_eq!(r.body["progression"]["source"], "recist");
    assert_eq!(r.body["assessments"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["baseline"]["entry_id"], "ctbaseline-1");

    // Study-wide roles read it.
    let monitor = app.client("monitor").await;
    let r = monitor
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["evaluation"]["time_points"][1]["overall"], "PD");
}

#[tokio::test]
async fn response_endpoints_keep_sites_apart_and_check_roles() {
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let missing = "KS-999";
    // Another site's reader (who could enter CT data at her own site) and nurse.
    for who in ["reader.uu", "nurse.uu"] {
        let other = app.client(who).await;
        for path in [
            "/api/v1/participants/{}/response",
            "/participants/{}/response",
        ] {
            let a = other.get(&path.replace("{}", &id)).await;
            let b = other.get(&path.replace("{}", missing)).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{who} {path}");
            assert_eq!(
                a.text.replace(&id, "ID"),
                b.text.replace(missing, "ID"),
                "{who} {path}"
            );
        }
    }
    let other = app.client("reader.uu").await;
    for (name, data) in [
        ("tumour-baseline", baseline_data()),
        (
            "tumour-assessment",
            follow_up(days_ago(5), 10.0, 10.0, "no"),
        ),
    ] {
        let a = other.command(&id, name, 1, data.clone()).await;
        let b = other.command(missing, name, 1, data).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{name}");
        assert_eq!(a.text.replace(&id, "ID"), b.text.replace(missing, "ID"));
    }
    // Only the reader enters CT assessments: nurse, investigator and monitor may not.
    for who in ["nurse.ks", "inv.ks", "monitor"] {
        let c = app.client(who).await;
        for name in ["tumour-baseline", "tumour-assessment"] {
            let r = c.command(&id, name, 1, baseline_data()).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who} {name}");
        }
    }
    // Nothing was recorded by any of them.
    let r = app
        .client("reader.ks")
        .await
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    assert_eq!(r.body["baseline"], Value::Null);

    // The OpenAPI document lists the new endpoint and both commands.
    let doc = app.anonymous().get("/api/openapi.json").await.body;
    for path in [
        "/api/v1/participants/{id}/response",
        "/api/v1/participants/{id}/commands/tumour-baseline",
        "/api/v1/participants/{id}/commands/tumour-assessment",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
}
