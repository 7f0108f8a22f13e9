//! Issue 10, point 14, over the JSON API and the pages: attestations are Yes/No answers
//! with no default, all open ones signed at once and recorded all or nothing; the AE
//! follow-up has one reason field and its reason reaches the stored entry.

use chrono::{Duration, NaiveDate, SecondsFormat, Utc};
use protocol::Command;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Client, PASSWORD, TestApp, now};

/// An eligible woman's screening data without any attestation.
async fn screened_unattested(app: &TestApp) -> String {
    let id = app.register("nurse.ks", "KS").await;
    let consent_at = now() - Duration::days(10);
    let cmds: Vec<Command> = protocol::testing::eligible_screening_commands("KS", &id, consent_at)
        .into_iter()
        .filter(|c| !matches!(c, Command::RecordAttestation(_)))
        .collect();
    app.run("nurse.ks", &id, &cmds).await;
    id
}

async fn eligibility(c: &Client, id: &str) -> Value {
    let r = c
        .get(&format!("/api/v1/participants/{id}/eligibility"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

fn status_of(report: &Value, id: &str) -> String {
    report["criteria"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no {id} in {report}"))
        .to_string()
}

async fn batch(c: &Client, id: &str, items: Value, password: &str) -> (StatusCode, Value) {
    let v = c.version(id).await;
    let body = json!({"expected_version": v, "items": items, "signature": {"password": password}});
    let r = c
        .post(
            &format!("/api/v1/participants/{id}/commands/attestation/batch"),
            &body,
        )
        .await;
    (r.status, r.body)
}

async fn kinds(c: &Client, id: &str) -> Vec<Value> {
    let r = c.get(&format!("/api/v1/participants/{id}/events")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_unanswered_attestation_is_refused_over_the_api() {
    let app = TestApp::start().await;
    let id = screened_unattested(&app).await;
    let inv = app.client("inv.ks").await;
    let before = inv.version(&id).await;
    let body = json!({
        "expected_version": before,
        "data": {"criterion": "EX1"},
        "signature": {"password": PASSWORD},
    });
    let r = inv
        .post(
            &format!("/api/v1/participants/{id}/commands/attestation"),
            &body,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "VALUE_REQUIRED");
    let message = r.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(
            "Does the participant have a contraindication to trastuzumab deruxtecan (T-DXd)?"
        ),
        "{message}"
    );
    assert!(!message.contains('`'), "no code names: {message}");
    assert_eq!(inv.version(&id).await, before, "nothing written");
    assert_eq!(status_of(&eligibility(&inv, &id).await, "EX1"), "missing");
}

#[tokio::test]
async fn open_attestations_are_signed_together_all_or_nothing_over_the_api() {
    let app = TestApp::start().await;
    let id = screened_unattested(&app).await;
    let inv = app.client("inv.ks").await;
    let before = inv.version(&id).await;
    let mut items = json!([
        {"criterion": "IN7", "answer": true},
        {"criterion": "IN8", "answer": true},
        {"criterion": "EX1"},
        {"criterion": "EX5", "answer": false, "note": "no anticoagulant"},
    ]);

    // EX1 unanswered: nothing of the four is stored.
    let (status, body) = batch(&inv, &id, items.clone(), PASSWORD).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["rule"], "VALUE_REQUIRED");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Item 3 of 4:") && m.contains("contraindication")),
        "{body}"
    );
    assert_eq!(inv.version(&id).await, before, "none of the four stored");
    let report = eligibility(&inv, &id).await;
    assert_eq!(status_of(&report, "IN7"), "missing");

    // A wrong password stores nothing either; a nurse may not sign.
    items[2]["answer"] = json!(false);
    let (status, _) = batch(&inv, &id, items.clone(), "not-the-password").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let nurse = app.client("nurse.ks").await;
    let (status, _) = batch(&nurse, &id, items.clone(), PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(inv.version(&id).await, before);

    // All four answered: four attestations in one write, one signature time.
    let (status, body) = batch(&inv, &id, items, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], before + 4);
    assert_eq!(body["events"], json!(vec!["attestation_recorded"; 4]));
    let events = kinds(&inv, &id).await;
    let attested: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "attestation_recorded")
        .collect();
    assert_eq!(attested.len(), 4);
    let signed: Vec<&Value> = attested
        .iter()
        .map(|e| &e["data"]["attestation"]["signature"]["signed_at"])
        .collect();
    assert!(signed.iter().all(|s| *s == signed[0]), "{signed:?}");
    assert_eq!(
        attested[3]["data"]["attestation"]["note"],
        "no anticoagulant"
    );
    assert_eq!(attested[2]["data"]["attestation"]["answer"], false);
    let report = eligibility(&inv, &id).await;
    assert_eq!(report["overall"], "eligible", "{report}");
    assert_eq!(
        status_of(&report, "EX1"),
        "not_met",
        "No to EX1: it does not apply"
    );
}

/// A form body from pairs, with the session's CSRF token.
fn form(c: &Client, pairs: &[(String, String)]) -> String {
    let mut all = vec![("csrf".to_string(), c.csrf.clone())];
    all.extend(pairs.iter().cloned());
    serde_urlencoded::to_string(&all).expect("form")
}

fn pair(k: impl Into<String>, v: impl Into<String>) -> (String, String) {
    (k.into(), v.into())
}

#[tokio::test]
async fn the_participant_page_asks_every_open_question_under_one_signature() {
    let app = TestApp::start().await;
    let id = screened_unattested(&app).await;
    let nurse = app.client("nurse.ks").await;
    let page = nurse.get(&format!("/participants/{id}")).await;
    assert!(
        !page.text.contains("id=\"attestations\""),
        "a nurse does not sign"
    );

    let inv = app.client("inv.ks").await;
    let page = inv.get(&format!("/participants/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let card = &page.text[page.text.find("id=\"attestations\"").expect("the card")..];
    let card = &card[..card.find("</section>").expect("end of the card")];
    assert!(
        card.contains("expected survival more than 12 weeks?"),
        "{card}"
    );
    assert!(
        card.contains("Does the participant have a contraindication to trastuzumab deruxtecan")
    );
    assert_eq!(
        card.matches("type=\"radio\"").count(),
        8,
        "Yes and No for four questions"
    );
    assert!(
        !card.contains("checked"),
        "no answer is chosen for her: {card}"
    );
    assert_eq!(
        card.matches("type=\"password\"").count(),
        1,
        "one signature"
    );

    // EX1 left unanswered: refused in words, the rule as a small code, nothing stored.
    let before = inv.version(&id).await;
    let mut pairs = vec![pair("expected_version", before.to_string())];
    for (k, a) in [
        ("IN7", "true"),
        ("IN8", "true"),
        ("EX1", ""),
        ("EX5", "false"),
    ] {
        pairs.push(pair(format!("ask_{k}"), "1"));
        if !a.is_empty() {
            pairs.push(pair(format!("answer_{k}"), a));
        }
    }
    pairs.push(pair("signature_password", PASSWORD));
    let path = format!("/participants/{id}/attestations");
    let ct = "application/x-www-form-urlencoded";
    let r = inv.post_raw(&path, ct, form(&inv, &pairs)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text.contains(
            "This question is not answered: Does the participant have a contraindication"
        ),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("<code>VALUE_REQUIRED</code>"),
        "the rule as a small code"
    );
    assert!(
        r.text.contains("value=\"true\" required checked"),
        "the answers given are kept"
    );
    assert_eq!(inv.version(&id).await, before);

    // Answered: all four recorded, she is eligible.
    pairs.push(pair("answer_EX1", "false"));
    let r = inv.post_raw(&path, ct, form(&inv, &pairs)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Saved: attestations."), "{}", r.text);
    assert_eq!(inv.version(&id).await, before + 4);
    assert_eq!(eligibility(&inv, &id).await["overall"], "eligible");
    assert!(!r.text.contains("id=\"attestations\""), "nothing left open");
}

/// Nausea (CTCAE v5.0).
const NAUSEA: u32 = 10028813;

fn ts(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn nausea(onset: NaiveDate, grade: u8) -> Value {
    json!({
        "meddra_code": NAUSEA, "grade": grade, "onset": onset.to_string(),
        "relation_imp": "not_related", "relation_tdxd": "not_applicable",
        "action_tdxd": "not_applicable", "outcome": "not_recovered",
        "site_aware_at": ts(onset.and_hms_opt(12, 0, 0).unwrap().and_utc()),
    })
}

/// The current AE entries' stored bookkeeping, newest last.
async fn ae_entries(c: &Client, id: &str) -> Vec<Value> {
    kinds(c, id)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "adverse_event_recorded")
        .collect()
}

#[tokio::test]
async fn the_ae_follow_up_reason_reaches_the_stored_entry_over_the_api_and_the_page() {
    let app = TestApp::start().await;
    let id = app.after_baseline_pet("KS", 10).await;
    let nurse = app.client("nurse.ks").await;
    let onset = (now() - Duration::days(3)).date_naive();
    let v = nurse.version(&id).await;
    let r = nurse
        .command(&id, "adverse-event", v, nausea(onset, 2))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Over the API: the follow-up's reason is stored with the new entry.
    let mut follow = nausea(onset, 1);
    follow["corrects"] = json!("ae-1");
    follow["correction_reason"] = json!("grade went down to 1 on antiemetics");
    let v = nurse.version(&id).await;
    let r = nurse.command(&id, "adverse-event", v, follow).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let stored = ae_entries(&nurse, &id).await;
    assert_eq!(
        stored[1]["data"]["entry"]["correction_reason"],
        "grade went down to 1 on antiemetics"
    );
    assert_eq!(stored[1]["data"]["entry"]["supersedes"], "ae-1");

    // The page: a new AE has no reason field; a follow-up has exactly one.
    let new = nurse
        .get(&format!("/participants/{id}/ae/new?code={NAUSEA}"))
        .await;
    assert_eq!(new.text.matches("name=\"correction_reason\"").count(), 0);
    let page = nurse
        .get(&format!("/participants/{id}/ae/new?follow_up=ae-2"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(
        page.text.matches("name=\"correction_reason\"").count(),
        1,
        "one reason field"
    );
    assert!(page.text.contains("Reason for the follow-up"));

    // The reason typed on the page reaches the stored entry and the audit trail.
    let v = nurse.version(&id).await;
    let aware = onset.and_hms_opt(12, 0, 0).unwrap().and_utc();
    let local = aware
        .with_timezone(&chrono_tz::Europe::Stockholm)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let pairs = vec![
        pair("expected_version", v.to_string()),
        pair("meddra_code", NAUSEA.to_string()),
        pair("corrects", "ae-2"),
        pair("grade", "1"),
        pair("onset", onset.to_string()),
        pair(
            "resolved",
            (now() - Duration::days(1)).date_naive().to_string(),
        ),
        pair("relation_imp", "not_related"),
        pair("relation_tdxd", "not_applicable"),
        pair("action_tdxd", "not_applicable"),
        pair("outcome", "recovered"),
        pair("site_aware_at", local),
        pair("correction_reason", "resolved without sequelae"),
    ];
    let r = nurse
        .post_raw(
            &format!("/participants/{id}/ae/new"),
            "application/x-www-form-urlencoded",
            form(&nurse, &pairs),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Saved: adverse event."), "{}", r.text);
    let stored = ae_entries(&nurse, &id).await;
    assert_eq!(stored.len(), 3);
    assert_eq!(
        stored[2]["data"]["entry"]["correction_reason"],
        "resolved without sequelae"
    );
    assert_eq!(stored[2]["data"]["entry"]["supersedes"], "ae-2");
    assert_eq!(stored[2]["reason"], "resolved without sequelae");
}
