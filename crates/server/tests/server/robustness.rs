//! Hostile and broken input to every API endpoint: malformed JSON, wrong types, huge
//! strings, unknown fields, deep nesting. The answer is always a 4xx with a JSON error,
//! never a 500, and nothing is written.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestApp;

fn nasty_bodies() -> Vec<(&'static str, &'static str, String)> {
    let huge = "x".repeat(600_000);
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    vec![
        ("empty", "application/json", String::new()),
        ("truncated", "application/json", "{\"expected_version\": 1, \"data\": {".into()),
        ("not json", "application/json", "expected_version=1".into()),
        ("wrong content type", "text/plain", "{}".into()),
        ("array", "application/json", "[1,2,3]".into()),
        ("null", "application/json", "null".into()),
        ("wrong types", "application/json", json!({"expected_version": "one", "data": 5, "year_of_birth": "old", "sex": 3}).to_string()),
        ("unknown fields", "application/json", json!({"expected_version": 1, "data": {"form_version": "1", "signed_at": "2026-01-01T00:00:00Z", "favourite_colour": "blue"}, "extra": true}).to_string()),
        ("huge string", "application/json", json!({"expected_version": 1, "data": {"form_version": huge, "reason": huge}}).to_string()),
        ("deep nesting", "application/json", format!("{{\"expected_version\": 1, \"data\": {deep}}}")),
        ("bad date", "application/json", json!({"expected_version": 1, "data": {"form_version": "1", "signed_at": "2026-13-45T99:00:00Z", "year_of_birth": 1970, "sex": "female"}}).to_string()),
        ("huge numbers", "application/json", json!({"expected_version": i64::MAX, "data": {"value": 1e308, "weight_kg": -1e308, "who_ps": 99999999999u64}, "year_of_birth": i64::MIN, "sex": "female"}).to_string()),
        ("invalid utf-8", "application/json", String::from_utf8_lossy(&[0x7b, 0xff, 0xfe, 0x7d]).into_owned()),
    ]
}

#[tokio::test]
async fn no_input_to_any_endpoint_yields_a_500() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let nurse = app.client("nurse.ks").await;
    let inv = app.client("inv.ks").await;
    let mut paths = vec![
        "/api/v1/session".to_string(),
        "/api/v1/participants".to_string(),
    ];
    for spec in trial::commands::all() {
        paths.push(format!("/api/v1/participants/{id}/commands/{}", spec.name));
    }
    for tp in ["pet1", "pet3", "pet9"] {
        paths.push(format!("/api/v1/participants/{id}/pet/{tp}/quantify"));
    }
    paths.push("/api/v1/participants/../../etc/passwd".into());
    paths.push(format!("/api/v1/participants/{id}/commands/%00"));
    let mut checked = 0;
    for path in &paths {
        for (what, content_type, body) in nasty_bodies() {
            for client in [&nurse, &inv] {
                let r = client.post_raw(path, content_type, body.clone()).await;
                assert!(
                    r.status.is_client_error(),
                    "{path} with {what}: {} {}",
                    r.status,
                    &r.text[..r.text.len().min(300)]
                );
                assert!(
                    r.body["error"].is_string(),
                    "{path} with {what}: not a JSON error: {}",
                    &r.text[..r.text.len().min(200)]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 400);
    // Nothing was written by any of it.
    let row = app.state.store().participant(&id).await.unwrap().unwrap();
    assert_eq!(row.version, 1);
    assert_eq!(app.state.store().participants(None).await.unwrap().len(), 1);
    assert_eq!(
        nurse.get("/api/v1/nowhere").await.status,
        StatusCode::NOT_FOUND
    );
}
