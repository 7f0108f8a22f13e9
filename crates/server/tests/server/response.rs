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

/// A baseline with the liver target and one more lesion.
fn baseline_with(lesion: Value) -> Value {
    let mut b = baseline_data();
    b["lesions"] = json!([
        {"id": "T1", "organ": "liver", "role": "target", "diameter_mm": 30.0},
        lesion,
    ]);
    b
}

/// Changes the study's settings as an amendment would.
async fn amend(app: &TestApp, change: impl FnOnce(&mut protocol::Settings)) {
    let trial = &app.state.trial;
    let mut s = trial.settings().await.expect("settings");
    s.version += 1;
    change(&mut s);
    trial
        .change_settings(
            &trial::Actor::command_line(),
            s,
            "amendment: RECIST details",
        )
        .await
        .expect("settings change");
}

#[tokio::test]
async fn non_measurable_targets_are_refused_by_name_and_may_be_non_targets() {
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let reader = app.client("reader.ks").await;
    let refused = [
        (
            json!({"id": "B1", "organ": "bone", "role": "target", "diameter_mm": 25.0,
                   "bone": "without_soft_tissue"}),
            "lesion B1 (bone): not measurable",
            "without an identifiable soft-tissue component",
        ),
        (
            json!({"id": "R1", "organ": "lung", "role": "target", "diameter_mm": 22.0,
                   "irradiated": true}),
            "lesion R1 (lung): not measurable",
            "previously irradiated field",
        ),
        (
            json!({"id": "C1", "organ": "kidney", "role": "target", "diameter_mm": 22.0,
                   "cystic": "simple_cyst"}),
            "lesion C1 (kidney)",
            "simple cyst",
        ),
    ];
    for (lesion, who, why) in refused {
        let r = command(&reader, &id, "tumour-baseline", baseline_with(lesion)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.body["rule"], "RECIST");
        let message = r.body["message"].as_str().unwrap();
        assert!(message.contains(who) && message.contains(why), "{message}");
    }
    // The bone lesion with a soft-tissue component is a target; the one without is a
    // non-target, and both keep their qualifiers.
    let mut b = baseline_with(json!({"id": "B1", "organ": "bone", "role": "target",
        "diameter_mm": 25.0, "bone": "soft_tissue_component"}));
    b["lesions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "B2", "organ": "pelvis",
        "role": "non_target", "bone": "without_soft_tissue", "irradiated": true}));
    let r = command(&reader, &id, "tumour-baseline", b).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = reader
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    let lesions = &r.body["baseline"]["value"]["lesions"];
    assert_eq!(lesions[1]["bone"], "soft_tissue_component");
    assert_eq!(lesions[2]["bone"], "without_soft_tissue");
    assert_eq!(lesions[2]["irradiated"], true);
    assert_eq!(lesions[2]["role"], "non_target");
}

#[tokio::test]
async fn size_minima_follow_the_settings() {
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let reader = app.client("reader.ks").await;
    amend(&app, |s| s.lesions.measurable_min_longest_mm = 12.0).await;
    let mut small = baseline_data();
    small["lesions"][1]["diameter_mm"] = json!(11.0);
    let r = command(&reader, &id, "tumour-baseline", small).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "RECIST");
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.contains("lesion T2 (lung)")
            && message.contains("11.0 mm is below the 12.0 mm minimum"),
        "{message}"
    );
    // The form says the same minimum.
    let page = reader.get(&format!("/participants/{id}/response")).await;
    assert!(
        page.text.contains("a longest diameter of at least 12 mm"),
        "{}",
        page.text
    );
    let mut twelve = baseline_data();
    twelve["lesions"][1]["diameter_mm"] = json!(12.0);
    let r = command(&reader, &id, "tumour-baseline", twelve).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// One nodal target, 15 mm short axis.
fn node_baseline() -> Value {
    let mut b = baseline_data();
    b["lesions"] = json!([
        {"id": "T1", "organ": "axillary node", "node": true, "role": "target", "diameter_mm": 15.0},
    ]);
    b
}

fn node_at(date: NaiveDate, mm: f64) -> Value {
    json!({
        "scan_date": date,
        "targets": [{"lesion": "T1", "finding": "measured", "diameter_mm": mm}],
        "new_lesions": "no",
    })
}

/// Records the node baseline and the node's follow-ups; the last answer.
async fn node_course(c: &Client, id: &str, course: &[(i64, f64)]) -> crate::common::Answer {
    let r = command(c, id, "tumour-baseline", node_baseline()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut last = r;
    for (ago, mm) in course {
        last = command(c, id, "tumour-assessment", node_at(days_ago(*ago), *mm)).await;
        assert_eq!(last.status, StatusCode::OK, "{}", last.text);
    }
    last
}

#[tokio::test]
async fn an_unconfirmed_cr_does_not_turn_a_later_sd_into_pd() {
    let app = TestApp::start().await;
    let reader = app.client("reader.ks").await;
    amend(&app, |s| s.recist.confirmation = true).await;
    // CR on day 31 (9 mm), SD on day 63 (11 mm: +2 mm over the nadir, not PR from 15 mm).
    let course = [(84, 9.0), (52, 11.0)];
    let id = app.enrolled("KS").await;
    node_course(&reader, &id, &course).await;
    let r = reader
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    let e = &r.body["evaluation"];
    assert_eq!(e["time_points"][0]["overall"], "CR");
    assert_eq!(e["time_points"][1]["overall"], "SD");
    assert_eq!(e["pd_after_cr"], "after_confirmed_cr");
    assert_eq!(e["best_confirmed"]["response"], "SD");
    assert_eq!(e["best_confirmed"]["date"], json!(days_ago(52)));
    assert_eq!(r.body["progression"], Value::Null);

    // Table 3 as printed, kept as a setting: the SD after any CR is PD.
    amend(&app, |s| {
        s.recist.pd_after_cr = protocol::recist::PdAfterCr::AfterAnyCr
    })
    .await;
    let id = app.enrolled("KS").await;
    node_course(&reader, &id, &course).await;
    let r = reader
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    let e = &r.body["evaluation"];
    assert_eq!(e["pd_after_cr"], "after_any_cr");
    assert_eq!(e["best_confirmed"]["response"], "PD");
    assert_eq!(e["time_points"][1]["overall"], "SD");
    assert_eq!(r.body["progression"], Value::Null);
}

#[tokio::test]
async fn a_nodal_target_back_at_10_mm_after_a_confirmed_cr_is_progression() {
    let app = TestApp::start().await;
    let reader = app.client("reader.ks").await;
    let id = app.enrolled("KS").await;
    // CR (9 mm), confirmed 32 days later (8 mm), then 11 mm: +3 mm over the nadir is no PD
    // by the sum, but the node is back at ≥ 10 mm: progression.
    let last = node_course(&reader, &id, &[(84, 9.0), (52, 8.0), (20, 11.0)]).await;
    assert_eq!(
        last.body["events"],
        json!([
            "tumour_assessment_recorded",
            "response_evaluated",
            "progression_recorded"
        ])
    );
    let r = reader
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    let t = &r.body["evaluation"]["time_points"][2];
    assert_eq!(t["sum_mm"], 11.0);
    assert_eq!(t["target"], "PD");
    assert_eq!(t["overall"], "PD");
    assert!(
        t["notes"][0].as_str().unwrap().contains("EORTC RECIST FAQ"),
        "{t}"
    );
    assert_eq!(r.body["progression"]["date"], json!(days_ago(20)));
    assert_eq!(r.body["evaluation"]["best_unconfirmed"]["response"], "CR");
    // Without the confirming CR the same 11 mm is SD.
    let id = app.enrolled("KS").await;
    node_course(&reader, &id, &[(84, 9.0), (20, 11.0)]).await;
    let r = reader
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    assert_eq!(r.body["evaluation"]["time_points"][1]["overall"], "SD");
    assert_eq!(r.body["progression"], Value::Null);
}

#[tokio::test]
async fn the_baseline_form_has_the_recist_qualifiers() {
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let reader = app.client("reader.ks").await;
    let page = reader.get(&format!("/participants/{id}/response")).await;
    assert_eq!(page.status, StatusCode::OK);
    for label in [
        "Bone lesion",
        "bone, with an identifiable soft-tissue component (measure that component)",
        "bone, without a soft-tissue component (not measurable)",
        "cystic metastasis",
        "simple cyst (not a tumour lesion: leave it out)",
        "previously irradiated, no progression since (not measurable)",
        "previously irradiated, progressed since",
        "a lymph node at least 15 mm short axis",
        "name=\"t1_bone\"",
        "name=\"n1_rt\"",
    ] {
        assert!(page.text.contains(label), "{label}");
    }
    let form = |target_bone: &str, version: i64| {
        format!(
            "csrf={}&expected_version={version}&scan_date={}&slice_thickness_mm=2.5&\
             t1_id=T1&t1_organ=liver&t1_mm=30&t1_bone=&t1_cystic=&t1_rt=&\
             t2_id=B1&t2_organ=bone&t2_mm=25&t2_bone={target_bone}&t2_cystic=&t2_rt=&\
             n1_id=NT1&n1_organ=pelvis&n1_bone=without_soft_tissue&n1_cystic=&n1_rt=progressed",
            reader.csrf,
            days_ago(120)
        )
    };
    let path = format!("/participants/{id}/response/baseline");
    let form_type = "application/x-www-form-urlencoded";
    // A bone target without a soft-tissue component: the page again, with the rule.
    let v = reader.version(&id).await;
    let r = reader
        .post_raw(&path, form_type, form("without_soft_tissue", v))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text.contains("lesion B1 (bone): not measurable"),
        "{}",
        r.text
    );
    assert!(r.text.contains("<code>RECIST</code>"), "{}", r.text);
    // With its soft-tissue component it is recorded, the qualifiers shown in words.
    let r = reader
        .post_raw(&path, form_type, form("soft_tissue_component", v))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let api = reader
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    let lesions = &api.body["baseline"]["value"]["lesions"];
    assert_eq!(lesions[1]["bone"], "soft_tissue_component");
    assert_eq!(lesions[2]["progressed_after_irradiation"], true);
    assert!(
        r.text
            .contains("bone, without soft-tissue component; irradiated, progressed since"),
        "{}",
        r.text
    );
}
