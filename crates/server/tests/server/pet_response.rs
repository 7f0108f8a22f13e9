//! The PET response read PET1 → PET2 over HTTP (PROTOCOL §10, PERCIST-style, issue 10
//! point 17): the proposal, the reader's confirmation through the command endpoint and the
//! PET2 page's form, the category beside RECIST in the response API and page, and the
//! refusals, roles and site isolation.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use protocol::IhcScore;
use protocol::PetTimepoint;
use protocol::imaging::PetCandidate;
use protocol::journey::tdxd::DoseLevel;
use protocol::testing::{
    fresh_biopsy_command, imp_command, pathology_command, pet_candidate, quantification_command,
    tdxd_command,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Answer, Client, TestApp, now};

fn days_ago(n: i64) -> NaiveDate {
    (now() - Duration::days(n)).date_naive()
}

fn candidate(n: u32, x: f64, suv_max: f64, suv_peak: f64) -> PetCandidate {
    PetCandidate {
        suv_peak,
        centroid_mm: [x, 0.0, -100.0],
        ..pet_candidate(n, suv_max, None)
    }
}

/// An arm-1 participant (HER2 1+): consented 90 days ago, PET1 the next day (L1 SUVpeak 7.2,
/// L2 3.6, both confirmed), biopsy two hours later, reported two days after; four T-DXd
/// cycles from 84 days ago; PET2 three hours ago with 1 the kidney, 2 on L1 (SUVpeak 4.68:
/// −35 %), 3 on L2 (3.0) and 4 a hot spot far from every PET1 lesion (SUVmax 8, SUVpeak
/// 6). The history is entered as it happened.
async fn with_pet2(app: &TestApp) -> String {
    let id = app.after_baseline_pet("KS", 90).await;
    let pet1: DateTime<Utc> = now() - Duration::days(89);
    let biopsy = [fresh_biopsy_command(pet1 + Duration::hours(2))];
    app.run_at(pet1 + Duration::hours(3), "nurse.ks", &id, &biopsy)
        .await;
    let reported = days_ago(87);
    let report = pathology_command("biopsy-1", "A", IhcScore::OnePlus, false, reported);
    app.run_at(noon(reported), "path.ks", &id, &[report]).await;
    for d in [84, 63, 42, 21] {
        let cycle = [tdxd_command(days_ago(d), DoseLevel::Start)];
        app.run_at(noon(days_ago(d)), "nurse.ks", &id, &cycle).await;
    }
    let inj = now() - Duration::hours(3);
    app.run("nurse.ks", &id, &[imp_command(PetTimepoint::Pet2, inj)])
        .await;
    let kidney = PetCandidate {
        centroid_mm: [-80.0, 40.0, -150.0],
        ..pet_candidate(1, 40.0, Some("kidney"))
    };
    let candidates = vec![
        kidney,
        candidate(2, 10.0, 5.85, 4.68),
        candidate(3, 20.0, 3.75, 3.0),
        candidate(4, 250.0, 8.0, 6.0),
    ];
    let q = quantification_command(PetTimepoint::Pet2, "imp-2", inj, candidates);
    app.run("reader.ks", &id, &[q]).await;
    id
}

fn noon(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(11, 0, 0).unwrap().and_utc()
}

/// Decisions: the kidney set aside, 2 = L1, 3 = L2, and candidate 4 as given (none: left out).
fn decisions(fourth: Option<&str>) -> Value {
    let mut d = vec![
        json!({"candidate": 1, "decision": "not_a_lesion"}),
        json!({"candidate": 2, "decision": "same_lesion", "pet1_lesion": "L1"}),
        json!({"candidate": 3, "decision": "same_lesion", "pet1_lesion": "L2"}),
    ];
    if let Some(f) = fourth {
        d.push(json!({"candidate": 4, "decision": f}));
    }
    json!({"pet2_quantification_id": "petq-2", "decisions": d})
}

async fn confirm(c: &Client, id: &str, data: Value) -> Answer {
    let v = c.version(id).await;
    c.command(id, "pet-response", v, data).await
}

#[tokio::test]
async fn the_reader_confirms_the_pet_response_and_it_shows_beside_recist() {
    let app = TestApp::start().await;
    let id = with_pet2(&app).await;
    let reader = app.client("reader.ks").await;

    // The proposal: the kidney set aside, 2 and 3 matched by centroid, 4 awaiting the reader.
    let r = reader
        .get(&format!("/api/v1/participants/{id}/pet-response"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "response_pet_done");
    let o = &r.body["proposal"];
    assert_eq!(o["pet2_quantification_id"], "petq-2");
    assert_eq!(o["rows"][0]["proposed"], "not_a_lesion");
    assert_eq!(o["rows"][1]["pair"]["pet1_lesion"], "L1");
    assert_eq!(o["rows"][1]["pair"]["suv_peak_change_pct"], -35.0);
    assert_eq!(o["rows"][2]["pair"]["pet1_lesion"], "L2");
    assert_eq!(o["rows"][3]["proposed"], Value::Null);
    assert_eq!(o["awaiting_decision"], json!(["L4"]));
    assert_eq!(o["provisional_category"], "SMD");
    assert_eq!(r.body["confirmed"], Value::Null);

    // The unmatched hot spot without a decision: refused, naming it.
    let r = confirm(&reader, &id, decisions(None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "PET_RESPONSE");
    assert!(
        r.text
            .contains("PET2 L4 (SUVmax 8.0, HER2-avid) has no decision"),
        "{}",
        r.text
    );

    // Not a lesion: 7.2 → 4.68 on the hottest lesion, a partial metabolic response.
    let r = confirm(&reader, &id, decisions(Some("not_a_lesion"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["events"], json!(["pet_response_confirmed"]));
    let r = reader
        .get(&format!("/api/v1/participants/{id}/pet-response"))
        .await;
    let c = &r.body["confirmed"];
    assert_eq!(c["category"], "PMR");
    assert_eq!(c["hottest"]["change_pct"], -35.0);
    assert_eq!(c["hottest"]["change_suv"], -2.52);
    assert_eq!(c["pairs"][0]["suv_peak"], json!([7.2, 4.68]));
    assert_eq!(c["algorithm_version"], protocol::percist::ALGORITHM_VERSION);
    assert_eq!(c["settings_version"], 1);
    let resp = reader
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.body["pet_response"]["category"], "PMR");

    // A new read calls 4 a new lesion: progression; the first read stays in the history.
    let r = confirm(&reader, &id, decisions(Some("new_lesion"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = reader
        .get(&format!("/api/v1/participants/{id}/pet-response"))
        .await;
    assert_eq!(r.body["confirmed"]["category"], "PMD");
    assert_eq!(r.body["confirmed"]["new_lesions"], json!(["L4"]));
    assert_eq!(r.body["confirmed"]["supersedes"], "petresp-1");
    assert_eq!(r.body["history"].as_array().unwrap().len(), 2);
    let resp = app
        .client("monitor")
        .await
        .get(&format!("/api/v1/participants/{id}/response"))
        .await;
    assert_eq!(resp.body["pet_response"]["category"], "PMD");

    // The pages: the PET2 page shows the comparison and the read, the response page the category.
    let page = reader.get(&format!("/participants/{id}/pet/pet2")).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "pet-response-proposal",
        "data-category=\"PMD\"",
        "progressive metabolic disease",
        "name=\"decision_4\"",
    ] {
        assert!(page.text.contains(text), "{text}");
    }
    let page = reader.get(&format!("/participants/{id}/response")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("pet-response-summary"), "{}", page.text);
    assert!(
        page.text
            .contains("PMD</strong> — progressive metabolic disease"),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn the_pet2_page_form_confirms_through_the_command_path() {
    let app = TestApp::start().await;
    let id = with_pet2(&app).await;
    let reader = app.client("reader.ks").await;
    let path = format!("/participants/{id}/pet/pet2/response");
    let form_type = "application/x-www-form-urlencoded";
    let form = |fourth: &str, v: i64| {
        format!(
            "csrf={}&expected_version={v}&pet2_quantification_id=petq-2&decision_1=not&\
             decision_2=same%3AL1&decision_3=same%3AL2&decision_4={fourth}&background_suv=1.5&note=",
            reader.csrf
        )
    };
    // Undecided: the page again with the rule, the typed values kept.
    let v = reader.version(&id).await;
    let r = reader.post_raw(&path, form_type, form("", v)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("<code>PET_RESPONSE</code>"), "{}", r.text);
    assert!(r.text.contains("PET2 L4"), "{}", r.text);
    let r = reader.post_raw(&path, form_type, form("new", v)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let api = reader
        .get(&format!("/api/v1/participants/{id}/pet-response"))
        .await;
    let c = &api.body["confirmed"];
    assert_eq!(c["category"], "PMD");
    assert_eq!(c["background_suv"], 1.5);
    assert_eq!(c["background_measured"], true);
    assert_eq!(
        reader.version(&id).await,
        v + 1,
        "one event through the write path"
    );
}

#[tokio::test]
async fn the_pet_response_checks_roles_sites_and_what_is_recorded() {
    let app = TestApp::start().await;
    let id = with_pet2(&app).await;
    let missing = "KS-999";

    // Only the nuclear-medicine reader confirms.
    for who in ["nurse.ks", "inv.ks", "monitor"] {
        let c = app.client(who).await;
        let r = confirm(&c, &id, decisions(Some("new_lesion"))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}");
    }
    // Another site's reader learns nothing.
    let other = app.client("reader.uu").await;
    let a = other
        .get(&format!("/api/v1/participants/{id}/pet-response"))
        .await;
    let b = other
        .get(&format!("/api/v1/participants/{missing}/pet-response"))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.text.replace(&id, "ID"), b.text.replace(missing, "ID"));
    let r = other
        .command(&id, "pet-response", 1, decisions(Some("new_lesion")))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A PET1 lesion that does not exist, and a stale PET2 quantification.
    let reader = app.client("reader.ks").await;
    let mut unknown = decisions(Some("new_lesion"));
    unknown["decisions"][2]["pet1_lesion"] = json!("L7");
    let r = confirm(&reader, &id, unknown).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "ENTRY_UNKNOWN");
    let mut stale = decisions(Some("new_lesion"));
    stale["pet2_quantification_id"] = json!("petq-1");
    let r = confirm(&reader, &id, stale).await;
    assert_eq!(r.body["rule"], "PET_RESPONSE");

    // Before PET2: no proposal, and the command is refused with the same rule.
    let early = app.enrolled("KS").await;
    let r = reader
        .get(&format!("/api/v1/participants/{early}/pet-response"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["proposal"], Value::Null);
    assert_eq!(r.body["unavailable"]["rule"], "PET_RESPONSE");
    let r = confirm(&reader, &early, decisions(None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "PET_RESPONSE");

    // Nothing was recorded by the refused commands.
    let r = reader
        .get(&format!("/api/v1/participants/{id}/pet-response"))
        .await;
    assert_eq!(r.body["history"], json!([]));

    // The OpenAPI document lists the read and the command.
    let doc = app.anonymous().get("/api/openapi.json").await.body;
    for path in [
        "/api/v1/participants/{id}/pet-response",
        "/api/v1/participants/{id}/commands/pet-response",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
}
