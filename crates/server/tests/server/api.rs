//! The JSON API as its users rely on it: site isolation, roles, refusals with rule ids,
//! conflicts on stale writes, signatures, and the OpenAPI document.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;

fn consent_data(days_ago: i64) -> Value {
    json!({"form_version": "2.0", "signed_at": (crate::common::now() - Duration::days(days_ago)).to_rfc3339()})
}

/// Every participant endpoint, with a body that would be valid for the command.
fn participant_endpoints(id: &str) -> Vec<(&'static str, String, Option<Value>)> {
    let mut v = vec![
        ("GET", format!("/api/v1/participants/{id}"), None),
        ("GET", format!("/api/v1/participants/{id}/events"), None),
        (
            "GET",
            format!("/api/v1/participants/{id}/eligibility"),
            None,
        ),
    ];
    for spec in trial::commands::all() {
        v.push((
            "POST",
            format!("/api/v1/participants/{id}/commands/{}", spec.name),
            Some(json!({"expected_version": 1, "data": {}, "signature": {"password": crate::common::PASSWORD}})),
        ));
    }
    v
}

async fn call(
    c: &crate::common::Client,
    method: &str,
    path: &str,
    body: &Option<Value>,
) -> crate::common::Answer {
    match (method, body) {
        ("GET", _) => c.get(path).await,
        (_, Some(b)) => c.post(path, b).await,
        (_, None) => c.post(path, &json!({})).await,
    }
}

#[tokio::test]
async fn another_sites_user_learns_nothing_from_any_participant_endpoint() {
    let app = TestApp::start().await;
    let ks = app.register("nurse.ks", "KS").await;
    let version_before = app
        .state
        .store()
        .participant(&ks)
        .await
        .unwrap()
        .unwrap()
        .version;
    for user in ["nurse.uu", "inv.uu"] {
        let c = app.client(user).await;
        let list = c.get("/api/v1/participants").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(!list.text.contains(&ks), "{user} sees {ks} in the list");
        for ((method, path, body), (_, ghost_path, _)) in participant_endpoints(&ks)
            .into_iter()
            .zip(participant_endpoints("KS-999"))
        {
            let real = call(&c, method, &path, &body).await;
            let ghost = call(&c, method, &ghost_path, &body).await;
            assert!(
                real.status == StatusCode::NOT_FOUND || real.status == StatusCode::FORBIDDEN,
                "{user} {method} {path}: {} {}",
                real.status,
                real.text
            );
            // Same answer as for a study id that does not exist: nothing leaks.
            assert_eq!(real.status, ghost.status, "{method} {path}");
            assert_eq!(
                real.text.replace(&ks, "ID"),
                ghost.text.replace("KS-999", "ID"),
                "{method} {path}"
            );
        }
    }
    let after = app.state.store().participant(&ks).await.unwrap().unwrap();
    assert_eq!(after.version, version_before, "nothing was written");
}

#[tokio::test]
async fn roles_without_the_right_get_403() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let consent = json!({"expected_version": 1, "data": consent_data(1)});
    for user in ["monitor", "stat", "reader.ks"] {
        let c = app.client(user).await;
        let r = c
            .post(
                &format!("/api/v1/participants/{id}/commands/consent"),
                &consent,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}: {}", r.text);
        assert_eq!(r.body["error"], "forbidden");
        let r = c
            .post(
                "/api/v1/participants",
                &json!({"year_of_birth": 1970, "sex": "female"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user} registering");
    }
    // A study-wide monitor reads every site; an administrator sees no trial data.
    let monitor = app.client("monitor").await;
    assert_eq!(
        monitor
            .get(&format!("/api/v1/participants/{id}"))
            .await
            .status,
        StatusCode::OK
    );
    let admin = app.client("admin").await;
    assert_eq!(
        admin.get("/api/v1/participants").await.status,
        StatusCode::FORBIDDEN
    );
    // A nurse may not sign the enrolment.
    let nurse = app.client("nurse.ks").await;
    let r = nurse
        .post(&format!("/api/v1/participants/{id}/commands/enrol"), &json!({"expected_version": 1, "data": {}, "signature": {"password": crate::common::PASSWORD}}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Not signed in at all.
    let anon = app.anonymous();
    assert_eq!(
        anon.get("/api/v1/participants").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn writes_without_the_csrf_token_are_refused() {
    let app = TestApp::start().await;
    let mut c = app.client("nurse.ks").await;
    c.csrf = "forged".into();
    let r = c
        .post(
            "/api/v1/participants",
            &json!({"year_of_birth": 1970, "sex": "female"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["message"].as_str().unwrap().contains("x-csrf-token"));
}

#[tokio::test]
async fn registration_assigns_sequential_study_ids_per_site() {
    let app = TestApp::start().await;
    let ks = app.client("nurse.ks").await;
    let uu = app.client("nurse.uu").await;
    let a = ks
        .post(
            "/api/v1/participants",
            &json!({"year_of_birth": 1970, "sex": "female"}),
        )
        .await;
    let b = ks
        .post(
            "/api/v1/participants",
            &json!({"year_of_birth": 1971, "sex": "female"}),
        )
        .await;
    let c = uu
        .post(
            "/api/v1/participants",
            &json!({"year_of_birth": 1972, "sex": "female"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["study_id"], "KS-001");
    assert_eq!(b.body["study_id"], "KS-002");
    assert_eq!(c.body["study_id"], "UU-001");
    assert_eq!(a.body["state"], "registered");
    // A site nurse cannot register at another site.
    let r = ks
        .post(
            "/api/v1/participants",
            &json!({"site": "UU", "year_of_birth": 1970, "sex": "female"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_stale_write_gets_409_and_changes_nothing() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let c = app.client("nurse.ks").await;
    let first = c.command(&id, "consent", 1, consent_data(2)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["version"], 2);
    // A second nurse still holding version 1 submits: refused, not merged.
    let second = c
        .command(
            &id,
            "withdraw-consent",
            1,
            json!({"withdrawn_at": crate::common::now().to_rfc3339(), "reason": "changed her mind"}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.text);
    assert_eq!(second.body["error"], "conflict");
    assert_eq!(c.version(&id).await, 2);
}

#[tokio::test]
async fn a_study_lab_before_consent_is_refused_with_the_consent_gate_rule() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let c = app.client("nurse.ks").await;
    assert_eq!(
        c.command(&id, "consent", 1, consent_data(2)).await.status,
        StatusCode::OK
    );
    let lab = json!({"analyte": "platelets", "value": 250.0, "unit": "10^9/L", "sample_at": (crate::common::now() - Duration::days(5)).to_rfc3339(), "origin": "study"});
    let r = c.command(&id, "lab", 2, lab).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "GATE_CONSENT");
    assert_eq!(c.version(&id).await, 2, "nothing recorded");
}

#[tokio::test]
async fn withdrawal_blocks_further_entry() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let c = app.client("nurse.ks").await;
    assert_eq!(
        c.command(&id, "consent", 1, consent_data(3)).await.status,
        StatusCode::OK
    );
    let w = c.command(&id, "withdraw-consent", 2, json!({"withdrawn_at": crate::common::now().to_rfc3339(), "reason": "no longer wishes to take part"})).await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text);
    let r = c
        .command(
            &id,
            "body-weight",
            3,
            json!({"weight_kg": 64.0, "measured_on": crate::common::now().date_naive().to_string()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["rule"].as_str().is_some());
}

#[tokio::test]
async fn a_personal_identity_number_anywhere_is_refused_and_not_echoed() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let c = app.client("nurse.ks").await;
    let pnr = "19121212-1212";
    let mut data = consent_data(1);
    data["form_version"] = json!(format!("2.0 for {pnr}"));
    let r = c.command(&id, "consent", 1, data).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "PRIV_PNR");
    assert!(
        !r.text.contains("1212-1212"),
        "the number is echoed: {}",
        r.text
    );
    let r = c
        .post(
            &format!("/api/v1/participants/{id}/commands/consent"),
            &json!({"expected_version": 1, "data": consent_data(1), "reason": "pnr 121212-1212"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(c.version(&id).await, 1);
}

#[tokio::test]
async fn evasions_long_texts_and_control_characters_are_refused_through_the_api() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let c = app.client("nurse.ks").await;
    let path = format!("/api/v1/participants/{id}/commands/consent");
    for (reason, rule) in [
        ("pnr 811218\u{2011}9876".to_owned(), "PRIV_PNR"),
        ("pnr ８１１２１８－９８７６".to_owned(), "PRIV_PNR"),
        ("pnr 811218\u{00A0}9875".to_owned(), "PRIV_PNR"),
        ("x".repeat(1_000_000), "TEXT_LENGTH"),
        ("bell \u{0007}".to_owned(), "TEXT_CONTROL"),
    ] {
        let r = c
            .post(
                &path,
                &json!({"expected_version": 1, "data": consent_data(1), "reason": reason}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.body["rule"], rule, "{}", r.text);
        assert!(
            !r.text.contains("9876") && !r.text.contains("xxxx"),
            "{}",
            r.text
        );
    }
    assert_eq!(c.version(&id).await, 1);
}

#[tokio::test]
async fn enrolment_needs_the_investigators_password_and_records_the_signature() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let inv = app.client("inv.ks").await;
    let v = inv.version(&id).await;
    let path = format!("/api/v1/participants/{id}/commands/enrol");
    let wrong = inv.post(&path, &json!({"expected_version": v, "data": {}, "signature": {"password": "not-my-password"}})).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.text);
    let unsigned = inv
        .post(&path, &json!({"expected_version": v, "data": {}}))
        .await;
    assert_eq!(unsigned.status, StatusCode::BAD_REQUEST);
    let ok = inv.post(&path, &json!({"expected_version": v, "data": {}, "signature": {"password": crate::common::PASSWORD}})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body["state"], "enrolled");
    let events = inv.get(&format!("/api/v1/participants/{id}/events")).await;
    let last = events.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], "inv.ks");
    assert_eq!(last["data"]["signature"]["signer"], "inv.ks");
    assert!(
        last["data"]["signature"]["meaning"]
            .as_str()
            .unwrap()
            .contains("eligibility")
    );
}

#[tokio::test]
async fn enrolment_of_an_incomplete_participant_is_refused_naming_the_rule() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let c = app.client("nurse.ks").await;
    assert_eq!(
        c.command(&id, "consent", 1, consent_data(2)).await.status,
        StatusCode::OK
    );
    let inv = app.client("inv.ks").await;
    let r = inv
        .post(&format!("/api/v1/participants/{id}/commands/enrol"), &json!({"expected_version": 2, "data": {}, "signature": {"password": crate::common::PASSWORD}}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["rule"].as_str().is_some_and(|s| !s.is_empty()));
    let report = c
        .get(&format!("/api/v1/participants/{id}/eligibility"))
        .await;
    assert_eq!(report.status, StatusCode::OK);
    let criteria = report.text;
    for crit in [
        "IN1", "IN2", "IN3", "IN4", "IN5", "IN6", "IN7", "IN8", "EX1", "EX2", "EX3", "EX4", "EX5",
    ] {
        assert!(criteria.contains(crit), "eligibility lacks {crit}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_command() {
    let app = TestApp::start().await;
    let doc = app.anonymous().get("/api/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
    for spec in trial::commands::all() {
        let path = format!("/api/v1/participants/{{id}}/commands/{}", spec.name);
        let op = &doc.body["paths"][&path]["post"];
        assert!(op.is_object(), "no {path}");
        assert!(op["responses"]["422"].is_object());
    }
    // Every reference resolves inside the document.
    let text = doc.text;
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(
            doc.body["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
}
