//! The DICOM receipts page and API: the receipts the receiver, folder imports and PACS
//! pulls recorded in the audit trail, newest first and a page at a time; the sponsor's
//! staff see every site's, a site's staff only their own; a receipt written before the
//! other ways were recorded still shows, as an association.

use archive::{Receipt, StoreOutcome, Via};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use store::{EventMeta, NewEvent};

use crate::common::{Client, TestApp, now};

on_both_databases!(receipts_are_listed_newest_first_and_each_site_sees_only_its_own);

/// Receipts of the three ways, for KS and UU, recorded through the application, after
/// one the receiver wrote before `via` existed (KS).
async fn record(app: &TestApp) {
    let old = json!({
        "calling_ae_title": "OLDSCANNER", "peer": "10.0.0.9:4100", "site": "KS",
        "started_at": "2026-11-01T09:00:00Z", "ended_at": "2026-11-01T09:00:04Z",
        "ended": "released", "new": 7, "duplicate": 0, "conflict": 0, "refused": 0,
        "series": {"1.2.826.0.1.7": 7}
    });
    let meta = EventMeta {
        actor: "system:dicom-receiver".into(),
        role: "system".into(),
        site: Some("KS".into()),
        recorded_at: now() - Duration::days(17),
        reason: None,
    };
    app.state
        .store()
        .append_at_end(
            "dicom-receipts",
            &[NewEvent {
                kind: "dicom_association_received".into(),
                payload: old,
            }],
            &meta,
        )
        .await
        .expect("an old receipt");
    let at = now() - Duration::hours(2);
    let mut scanner = Receipt::start(
        Via::Association {
            calling_ae_title: "KS_PETCT".into(),
            peer: "10.1.2.3:50000".into(),
        },
        "KS",
        at,
    );
    for _ in 0..3 {
        scanner.counts.stored(StoreOutcome::New, "1.2.826.0.1.1");
    }
    scanner.counts.refused = 1;
    scanner.ended = "released".into();
    let mut import = Receipt::start(
        Via::FolderImport {
            folder: "/media/uu-cd".into(),
            os_user: "uu-physicist".into(),
            files: 4,
        },
        "UU",
        at,
    );
    for _ in 0..4 {
        import
            .counts
            .stored(StoreOutcome::Duplicate, "1.2.826.0.1.2");
    }
    import.ended = "completed".into();
    let mut pull = Receipt::start(
        Via::Pull {
            peer_name: "ks-orthanc".into(),
            url: "http://127.0.0.1:8042".into(),
            from_seq: 10,
            to_seq: 25,
            changes: 15,
            ignored: 2,
            gone: 0,
        },
        "KS",
        at,
    );
    pull.counts.stored(StoreOutcome::New, "1.2.826.0.1.3");
    pull.counts.stored(StoreOutcome::Conflict, "1.2.826.0.1.4");
    pull.ended = "completed".into();
    for receipt in [&scanner, &import, &pull] {
        app.state
            .trial
            .record_receipt(receipt)
            .await
            .expect("recorded");
    }
}

/// A GET of the receipts API: status, rows and the `x-total-count` header.
async fn listed(c: &Client, query: &str) -> (StatusCode, Vec<Value>, u64) {
    let r = c
        .http
        .get(format!("{}/api/v1/receipts{query}", c.base))
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
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let rows = body.as_array().cloned().unwrap_or_default();
    (status, rows, total)
}

fn vias(rows: &[Value]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["via"].as_str().unwrap_or_default().to_string(),
                r["site"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn receipts_are_listed_newest_first_and_each_site_sees_only_its_own(app: TestApp) {
    // Nothing yet: an empty list, not an error.
    let dm = app.client("dm").await;
    let (status, rows, total) = listed(&dm, "").await;
    assert_eq!((status, rows.len(), total), (StatusCode::OK, 0, 0));
    record(&app).await;

    // The data manager sees every site's, newest first, with what each brought.
    let (status, rows, total) = listed(&dm, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(total, 4);
    assert_eq!(
        vias(&rows),
        pairs(&[
            ("pull", "KS"),
            ("folder_import", "UU"),
            ("association", "KS"),
            ("association", "KS")
        ])
    );
    let pull = &rows[0];
    assert_eq!(pull["actor"], "system:pacs-pull");
    assert_eq!(pull["from"], "ks-orthanc at http://127.0.0.1:8042");
    assert_eq!(
        ["new", "duplicate", "conflict", "refused"].map(|k| pull[k].as_u64()),
        [Some(1), Some(0), Some(1), Some(0)]
    );
    assert_eq!(pull["details"]["to_seq"], 25);
    assert_eq!(rows[1]["actor"], "system:folder-import");
    assert_eq!(rows[1]["from"], "/media/uu-cd (by uu-physicist)");
    assert_eq!(rows[1]["duplicate"], 4);
    assert_eq!(rows[2]["from"], "KS_PETCT at 10.1.2.3:50000");
    assert_eq!(
        (rows[2]["new"].as_u64(), rows[2]["refused"].as_u64()),
        (Some(3), Some(1))
    );
    // The receipt written before `via` existed reads as the association it was.
    assert_eq!(rows[3]["from"], "OLDSCANNER at 10.0.0.9:4100");
    assert_eq!(rows[3]["new"], 7);

    // A page at a time, and one site at a time.
    let (_, rows, total) = listed(&dm, "?limit=2&offset=1").await;
    assert_eq!(total, 4);
    assert_eq!(
        vias(&rows),
        pairs(&[("folder_import", "UU"), ("association", "KS")])
    );
    let (_, rows, total) = listed(&dm, "?site=UU").await;
    assert_eq!((vias(&rows), total), (pairs(&[("folder_import", "UU")]), 1));

    // The monitor and the administrator see every site's too.
    for who in ["monitor", "admin"] {
        let (status, _, total) = listed(&app.client(who).await, "").await;
        assert_eq!((status, total), (StatusCode::OK, 4), "{who}");
    }

    // A site's nurse sees her own site's only, whatever she asks for.
    let ks = app.client("nurse.ks").await;
    let (status, rows, total) = listed(&ks, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(total, 3);
    assert!(rows.iter().all(|r| r["site"] == "KS"), "{rows:?}");
    let (_, rows, total) = listed(&ks, "?site=UU").await;
    assert_eq!(total, 3);
    assert!(rows.iter().all(|r| r["site"] == "KS"), "{rows:?}");
    // UU's sees none of KS's.
    let (status, rows, total) = listed(&app.client("nurse.uu").await, "").await;
    assert_eq!((status, total), (StatusCode::OK, 1));
    assert_eq!(vias(&rows), pairs(&[("folder_import", "UU")]));

    // Not signed in: refused.
    let (status, _, _) = listed(&app.anonymous(), "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The page: every site's for the data manager, linked from her navigation.
    let page = dm.get("/receipts").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("DICOM receipts at every site"),
        "{}",
        page.text
    );
    for from in [
        "ks-orthanc at http://127.0.0.1:8042",
        "/media/uu-cd (by uu-physicist)",
        "KS_PETCT at 10.1.2.3:50000",
        "OLDSCANNER at 10.0.0.9:4100",
    ] {
        assert!(page.text.contains(from), "{from} missing");
    }
    assert!(dm.get("/work").await.text.contains("href=\"/receipts\""));
    let page = dm.get("/receipts?limit=1").await;
    assert!(page.text.contains("rel=\"next\""), "{}", page.text);
    // UU's nurse: her site's receipt, none of KS's.
    let page = app.client("nurse.uu").await.get("/receipts").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("DICOM receipts at UU"));
    assert!(page.text.contains("/media/uu-cd"));
    assert!(!page.text.contains("KS_PETCT") && !page.text.contains("ks-orthanc"));
}
