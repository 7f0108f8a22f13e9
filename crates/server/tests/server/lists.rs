//! The lists a site works from, a page at a time: the participant list and the visit list
//! page and filter from the read tables, in the API and on the pages, and stay within the
//! user's site; the visit list agrees with each participant's own journey, also after a
//! settings change moves the windows.

use reqwest::StatusCode;
use serde_json::Value;
use trial::Actor;

use crate::common::{Client, TestApp};

/// A GET with the `x-total-count` header of a paged list.
async fn paged(c: &Client, path: &str) -> (StatusCode, Value, u64) {
    let r = c
        .http
        .get(format!("{}{}", c.base, path))
        .send()
        .await
        .expect("request");
    let status = r.status();
    let total = r
        .headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    (status, r.json().await.unwrap_or(Value::Null), total)
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["study_id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn participant_list_pages_and_filters_within_the_users_site() {
    let app = TestApp::start().await;
    for _ in 0..5 {
        app.register("nurse.ks", "KS").await;
    }
    for _ in 0..2 {
        app.register("nurse.uu", "UU").await;
    }
    let nurse = app.client("nurse.ks").await;
    let (status, page1, total) = paged(&nurse, "/api/v1/participants?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(total, 5, "the nurse's site only");
    assert_eq!(ids(&page1), ["KS-001", "KS-002"]);
    let (_, last, _) = paged(&nurse, "/api/v1/participants?limit=2&offset=4").await;
    assert_eq!(ids(&last), ["KS-005"]);
    // Asking for another site changes nothing for a site's nurse.
    let (_, other, total) = paged(&nurse, "/api/v1/participants?site=UU").await;
    assert_eq!(total, 5);
    assert!(ids(&other).iter().all(|id| id.starts_with("KS-")));
    let (_, found, total) = paged(&nurse, "/api/v1/participants?q=ks-00").await;
    assert_eq!((total, ids(&found).len()), (5, 5));
    let (_, none, total) = paged(&nurse, "/api/v1/participants?state=screening").await;
    assert_eq!((total, ids(&none).len()), (0, 0));
    let monitor = app.client("monitor").await;
    let (_, all, total) = paged(&monitor, "/api/v1/participants").await;
    assert_eq!((total, ids(&all).len()), (7, 7));
    let (_, uu, total) = paged(&monitor, "/api/v1/participants?site=UU&q=002").await;
    assert_eq!((total, ids(&uu)), (1, vec!["UU-002".to_string()]));
    let (status, bad, _) = paged(&monitor, "/api/v1/participants?limit=lots").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"], "bad_request");
    // The page says where in the list one is and links onwards, keeping the filter.
    let page = nurse.get("/participants?limit=2&q=KS").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("1–2 of 5"), "{}", page.text);
    assert!(page.text.contains("offset=2"));
    assert!(page.text.contains("q=KS"));
    assert!(!page.text.contains("UU-00"));
}

/// The open visits of one participant as her journey shows them.
fn journey_open_visits(journey: &Value) -> Vec<(String, String, String)> {
    journey["visits"]
        .as_array()
        .expect("visits")
        .iter()
        .filter(|v| matches!(v["state"].as_str(), Some("upcoming" | "due" | "overdue")))
        .map(|v| {
            let e = &v["expected"];
            (
                e["kind"].as_str().unwrap_or_default().to_string(),
                e["window"]["latest"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                v["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn listed_visits(list: &Value, id: &str) -> Vec<(String, String, String)> {
    list.as_array()
        .expect("list")
        .iter()
        .filter(|r| r["study_id"] == id)
        .map(|r| {
            let v = &r["visit"];
            (
                v["expected"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                v["expected"]["window"]["latest"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                v["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn visit_list_agrees_with_each_journey_and_follows_a_settings_change() {
    let app = TestApp::start().await;
    // PET1 20 days ago: the biopsy window (0–14 days) has closed, C1D1 (0–28) is open.
    let late = app.after_baseline_pet("KS", 21).await;
    let fresh = app.after_baseline_pet("KS", 3).await;
    let other_site = app.after_baseline_pet("UU", 3).await;
    let nurse = app.client("nurse.ks").await;
    let (status, list, total) = paged(&nurse, "/api/v1/visits").await;
    assert_eq!(status, StatusCode::OK);
    for id in [&late, &fresh] {
        let journey = nurse
            .get(&format!("/api/v1/participants/{id}/journey"))
            .await;
        let expected = journey_open_visits(&journey.body);
        assert!(!expected.is_empty(), "{id} has visits to plan");
        let mut listed = listed_visits(&list, id);
        let mut expected = expected;
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected, "{id}: the list agrees with her journey");
    }
    assert!(
        listed_visits(&list, &other_site).is_empty(),
        "another site's visits stay hidden"
    );
    assert_eq!(total as usize, list.as_array().map_or(0, Vec::len));
    let first = &list[0]["visit"];
    assert_eq!(first["state"], "overdue", "overdue first: {list}");
    assert_eq!(list[0]["study_id"], late.as_str());
    // An amendment widens the biopsy window to 28 days: the late biopsy is due again.
    let trial = &app.state.trial;
    let mut s = trial.settings().await.expect("settings");
    s.version += 1;
    s.schedule.biopsy_after_pet1.max_days = 28;
    trial
        .change_settings(&Actor::command_line(), s, "amendment 2: biopsy window")
        .await
        .expect("settings change");
    let (_, after, _) = paged(&nurse, "/api/v1/visits").await;
    let journey = nurse
        .get(&format!("/api/v1/participants/{late}/journey"))
        .await;
    let mut expected = journey_open_visits(&journey.body);
    let mut listed = listed_visits(&after, &late);
    expected.sort();
    listed.sort();
    assert_eq!(listed, expected);
    assert!(
        listed.iter().any(|(k, _, s)| k == "biopsy" && s == "due"),
        "{listed:?}"
    );
    let page = nurse.get("/visits?limit=1").await;
    assert!(page.text.contains("next →"), "{}", page.text);
}

#[tokio::test]
async fn a_page_form_without_its_record_version_writes_nothing() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let nurse = app.client("nurse.ks").await;
    let before = nurse.version(&id).await;
    let form = format!(
        "csrf={}&form_version=2.0&signed_at=2026-01-05T10%3A00",
        nurse.csrf
    );
    let r = nurse
        .post_raw(
            &format!("/participants/{id}/do/consent"),
            "application/x-www-form-urlencoded",
            form.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("reload the page"), "{}", r.text);
    assert_eq!(nurse.version(&id).await, before, "nothing written");
    let with_version = format!("{form}&expected_version={before}");
    let r = nurse
        .post_raw(
            &format!("/participants/{id}/do/consent"),
            "application/x-www-form-urlencoded",
            with_version,
        )
        .await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.text
    );
    assert_eq!(nurse.version(&id).await, before + 1);
}
