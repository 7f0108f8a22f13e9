//! The study dashboard and the deviation list over the API: a small study at two sites
//! with participants in every part of the flow; every figure must equal what the test
//! counts itself from the audited event log, and a site's nurse sees her site only.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use protocol::testing::{adverse_event_command, fresh_biopsy_command, lab, pathology_command};
use protocol::{Analyte, Command, Event, IhcScore};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, now};

/// A serious (hospitalisation) adverse event, not related to T-DXd, of which the site was
/// aware at `aware` and which it reported to the sponsor at `reported`.
fn sae(code: u32, aware: DateTime<Utc>, reported: DateTime<Utc>) -> Command {
    let Command::RecordAdverseEvent(mut c) =
        adverse_event_command(code, 3, aware.date_naive(), aware)
    else {
        unreachable!("an adverse event command")
    };
    c.serious_hospitalisation = true;
    c.relation_tdxd = protocol::journey::safety::Causality::NotRelated;
    c.reported_to_sponsor_at = Some(reported);
    Command::RecordAdverseEvent(c)
}

/// An eligible participant whose screening shows `analyte` at `value`, screen-failed by
/// the site's investigator.
async fn screen_failed(app: &TestApp, site: &str, analyte: Analyte, value: f64, unit: &str) {
    let id = app.eligible(site).await;
    let inv = if site == "KS" { "inv.ks" } else { "inv.uu" };
    let fail = Command::ScreenFail(protocol::ScreenFail {
        reason: "not eligible".into(),
    });
    app.run(
        inv,
        &id,
        &[
            lab(analyte, value, unit, None, now() - Duration::hours(2)),
            fail,
        ],
    )
    .await;
}

/// KS: two screen failures (INR, platelets), one enrolled, one on T-DXd with a serious
/// event reported late and one on time, one in arm 2 whose biopsy came late (a deviation)
/// and who ended participation. UU: one still in screening, one screen failure (INR),
/// one after PET1 whose biopsy is overdue. Returns the overdue participant's id.
pub(crate) async fn small_study(app: &TestApp) -> String {
    screen_failed(app, "KS", Analyte::Inr, 1.6, "").await;
    screen_failed(app, "KS", Analyte::Platelets, 40.0, "10^9/L").await;
    app.enrolled("KS").await;

    // Arm 1: biopsy two hours after PET1, HER2 1+, T-DXd three weeks ago (over the API).
    let arm1 = app.after_baseline_pet("KS", 25).await;
    let pet1 = now() - Duration::days(24);
    app.run(
        "nurse.ks",
        &arm1,
        &[fresh_biopsy_command(pet1 + Duration::hours(2))],
    )
    .await;
    let reported_on = (now() - Duration::days(22)).date_naive();
    app.run(
        "path.ks",
        &arm1,
        &[pathology_command(
            "biopsy-1",
            "A",
            IhcScore::OnePlus,
            false,
            reported_on,
        )],
    )
    .await;
    let nurse = app.client("nurse.ks").await;
    let dose = json!({"date": (now() - Duration::days(21)).date_naive().to_string(),
        "weight_kg": 68.0, "dose_level": "5.4", "dose_mg": 5.4 * 68.0});
    let r = nurse
        .command(&arm1, "tdxd", nurse.version(&arm1).await, dose)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "on_treatment");
    let aware = now() - Duration::days(3);
    app.run(
        "nurse.ks",
        &arm1,
        &[
            // 30 hours after awareness: late. 20 hours: on time.
            sae(10029366, aware, aware + Duration::hours(30)),
            sae(10028813, aware, aware + Duration::hours(20)),
        ],
    )
    .await;

    // Arm 2: biopsy 16 days after PET1 (window 0–14 days), HER2 0, then off study.
    let arm2 = app.after_baseline_pet("KS", 40).await;
    let pet1 = now() - Duration::days(39);
    let biopsy = pet1 + Duration::days(16);
    let fresh = biopsy - Duration::days(1);
    app.run_at(
        biopsy + Duration::hours(1),
        "nurse.ks",
        &arm2,
        &[
            lab(Analyte::Inr, 1.0, "", None, fresh),
            lab(Analyte::Platelets, 245.0, "10^9/L", None, fresh),
            lab(Analyte::Aptt, 28.0, "s", None, fresh),
            fresh_biopsy_command(biopsy),
        ],
    )
    .await;
    app.run(
        "path.ks",
        &arm2,
        &[pathology_command(
            "biopsy-1",
            "A",
            IhcScore::Zero,
            false,
            (pet1 + Duration::days(18)).date_naive(),
        )],
    )
    .await;
    let end = json!({"reason": "arm2_follow_up_complete",
        "ended_on": (now() - Duration::days(1)).date_naive().to_string()});
    let r = nurse
        .command(&arm2, "end-participation", nurse.version(&arm2).await, end)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    app.register("nurse.uu", "UU").await;
    screen_failed(app, "UU", Analyte::Inr, 1.7, "").await;
    app.after_baseline_pet("UU", 30).await
}

/// What the test counts from the event log, per participant.
#[derive(Default)]
struct Counted {
    site: String,
    enrolled_at: Option<DateTime<Utc>>,
    screen_failed: Option<Vec<String>>,
    arm: Option<String>,
    treated: bool,
    ended: Option<String>,
    deviations: Vec<String>,
    /// Serious events by AE id: (aware, reported), the latest entry of each.
    saes: BTreeMap<String, (DateTime<Utc>, Option<DateTime<Utc>>)>,
}

/// Folds the whole audited log, read through the store, into what the test counts.
async fn count_events(app: &TestApp) -> BTreeMap<String, Counted> {
    let log = app
        .state
        .store()
        .read_all(0, 1_000_000)
        .await
        .expect("the log");
    let mut by_id: BTreeMap<String, Counted> = BTreeMap::new();
    for e in log {
        let Some(id) = e.stream.strip_prefix("participant/") else {
            continue;
        };
        let event: Event = serde_json::from_value(e.payload).expect("an event");
        let c = by_id.entry(id.to_owned()).or_default();
        match event {
            Event::ParticipantRegistered { site, .. } => c.site = site,
            Event::ScreenFailed {
                failed_criteria, ..
            } => c.screen_failed = Some(failed_criteria),
            Event::Enrolled { enrolled_at, .. } => c.enrolled_at = Some(enrolled_at),
            Event::Allocated { allocation } => {
                c.arm = allocation
                    .decision
                    .outcome
                    .target()
                    .and_then(|t| t.arm())
                    .map(|a| trial::dashboard::arm_id(a).to_owned());
            }
            Event::AllocationCorrected { correction, .. } => {
                c.arm = correction
                    .to
                    .arm()
                    .map(|a| trial::dashboard::arm_id(a).to_owned());
            }
            Event::TdxdAdministered { .. } => c.treated = true,
            Event::ParticipationEnded { off_study, .. } => {
                let reason = serde_json::to_value(off_study.reason).expect("reason");
                c.ended = Some(reason.as_str().expect("a reason id").to_owned());
            }
            Event::ConsentWithdrawn { .. } => c.ended = Some("consent_withdrawn".into()),
            Event::Died { .. } => c.ended = Some("died".into()),
            Event::LostToFollowUp { .. } => c.ended = Some("lost_to_follow_up".into()),
            Event::DeviationRecorded { deviation, .. } => {
                let severity = serde_json::to_value(deviation.severity).expect("severity");
                c.deviations
                    .push(severity.as_str().expect("a severity").to_owned());
            }
            Event::AdverseEventRecorded { record, .. } if record.coded.serious => {
                c.saes.insert(
                    record.ae.ae_id.clone(),
                    (record.ae.site_aware_at, record.ae.reported_to_sponsor_at),
                );
            }
            _ => {}
        }
    }
    by_id
}

/// The dashboard figures the counted events give for `site` (or all sites).
fn expected(counted: &BTreeMap<String, Counted>, site: Option<&str>) -> Value {
    let zone = trial::SiteZone::default();
    let ps: Vec<&Counted> = counted
        .values()
        .filter(|c| site.is_none_or(|s| c.site == s))
        .collect();
    let n = |f: &dyn Fn(&Counted) -> bool| ps.iter().filter(|c| f(c)).count();
    let mut by_criterion: BTreeMap<String, u64> = BTreeMap::new();
    let mut allocated: BTreeMap<String, u64> = BTreeMap::new();
    let mut ended: BTreeMap<String, u64> = BTreeMap::new();
    let mut months: BTreeMap<String, u64> = BTreeMap::new();
    let mut enrolled_by_site: BTreeMap<String, u64> = BTreeMap::new();
    let mut deviations: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for c in &ps {
        for k in c.screen_failed.iter().flatten() {
            *by_criterion.entry(k.clone()).or_default() += 1;
        }
        if let Some(a) = &c.arm {
            *allocated.entry(a.clone()).or_default() += 1;
        }
        if let Some(r) = &c.ended {
            *ended.entry(r.clone()).or_default() += 1;
        }
        if let Some(t) = c.enrolled_at {
            *months
                .entry(zone.date_of(t).format("%Y-%m").to_string())
                .or_default() += 1;
            *enrolled_by_site.entry(c.site.clone()).or_default() += 1;
        }
        let d = deviations.entry(c.site.clone()).or_default();
        for s in &c.deviations {
            if s == "major" {
                d.0 += 1;
            } else {
                d.1 += 1;
            }
        }
    }
    let saes: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> =
        ps.iter().flat_map(|c| c.saes.values().copied()).collect();
    let late = saes
        .iter()
        .filter(|(aware, reported)| reported.unwrap_or_else(now) > *aware + Duration::hours(24))
        .count();
    json!({
        "screened": ps.len(),
        "in_screening": n(&|c| c.screen_failed.is_none() && c.enrolled_at.is_none() && c.ended.is_none()),
        "screen_failed": n(&|c| c.screen_failed.is_some()),
        "screen_failed_by_criterion": by_criterion,
        "enrolled": n(&|c| c.enrolled_at.is_some()),
        "awaiting_allocation": n(&|c| c.enrolled_at.is_some() && c.arm.is_none() && c.ended.is_none()),
        "allocated": allocated,
        "on_treatment": n(&|c| c.treated && c.ended.is_none()),
        "safety_follow_up": n(&|c| c.arm.as_deref() == Some("arm2") && c.ended.is_none()),
        "ended": n(&|c| c.ended.is_some()),
        "ended_by_reason": ended,
        "enrolments_by_month": months,
        "enrolled_by_site": enrolled_by_site,
        "saes": saes.len(),
        "late_saes": late,
        "deviations": deviations,
    })
}

/// The entries of a JSON object of counts that are not zero.
fn nonzero(counts: &Value) -> Value {
    let kept: serde_json::Map<String, Value> = counts
        .as_object()
        .expect("counts")
        .iter()
        .filter(|(_, n)| n.as_u64() != Some(0))
        .map(|(k, n)| (k.clone(), n.clone()))
        .collect();
    Value::Object(kept)
}

/// The same figures as the dashboard shows them.
fn shown(d: &Value) -> Value {
    let f = &d["flow"];
    let ended: BTreeMap<String, u64> = f["ended_by_reason"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|e| {
            (
                e["reason"].as_str().expect("id").to_owned(),
                e["count"].as_u64().expect("n"),
            )
        })
        .collect();
    let months: BTreeMap<String, u64> = d["recruitment"]["months"]
        .as_array()
        .expect("months")
        .iter()
        .filter(|m| m["enrolled"].as_u64() != Some(0))
        .map(|m| {
            (
                m["month"].as_str().expect("month").to_owned(),
                m["enrolled"].as_u64().expect("n"),
            )
        })
        .collect();
    let enrolled_by_site: BTreeMap<String, u64> = d["recruitment"]["enrolled_by_site"]
        .as_object()
        .expect("sites")
        .iter()
        .filter(|(_, n)| n.as_u64() != Some(0))
        .map(|(s, n)| (s.clone(), n.as_u64().expect("n")))
        .collect();
    let saes = d["serious_adverse_events"].as_array().expect("saes");
    let deviations: BTreeMap<String, (u64, u64)> = d["deviations_by_site"]
        .as_array()
        .expect("deviations")
        .iter()
        .map(|s| {
            (
                s["site"].as_str().expect("site").to_owned(),
                (
                    s["major"].as_u64().expect("n"),
                    s["minor"].as_u64().expect("n"),
                ),
            )
        })
        .collect();
    json!({
        "screened": f["screened"],
        "in_screening": f["in_screening"],
        "screen_failed": f["screen_failed"],
        "screen_failed_by_criterion": f["screen_failed_by_criterion"],
        "enrolled": f["enrolled"],
        "awaiting_allocation": f["awaiting_allocation"],
        "allocated": nonzero(&f["allocated"]),
        "on_treatment": f["on_treatment"],
        "safety_follow_up": f["safety_follow_up"],
        "ended": f["ended"],
        "ended_by_reason": ended,
        "enrolments_by_month": months,
        "enrolled_by_site": enrolled_by_site,
        "saes": saes.len(),
        "late_saes": saes.iter().filter(|s| s["clock"]["late"] == true).count(),
        "deviations": deviations,
    })
}

#[tokio::test]
async fn dashboard_figures_equal_the_counts_of_the_event_log_and_a_nurse_sees_her_site() {
    let app = TestApp::start().await;
    let overdue_id = small_study(&app).await;
    let counted = count_events(&app).await;
    let director = app.client("monitor").await;

    let all = director.get("/api/v1/dashboard").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let want = expected(&counted, None);
    assert_eq!(shown(&all.body), want);
    // The study is the one the test built: every part of the flow is reached.
    assert_eq!(want["screened"], 8);
    assert_eq!(want["screen_failed"], 3);
    assert_eq!(want["in_screening"], 1);
    assert_eq!(want["allocated"], json!({"arm1": 1, "arm2": 1}));
    assert_eq!(want["on_treatment"], 1);
    assert_eq!(
        want["ended_by_reason"],
        json!({"arm2_follow_up_complete": 1})
    );
    assert_eq!(
        (want["saes"].clone(), want["late_saes"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(want["deviations"]["KS"], json!([0, 1]), "the late biopsy");
    assert!(
        want["screen_failed_by_criterion"]
            .as_object()
            .expect("criteria")
            .len()
            >= 2,
        "screen failures for different criteria: {}",
        want["screen_failed_by_criterion"]
    );
    assert_eq!(all.body["recruitment"]["target"], 70);
    assert_eq!(all.body["sites"], json!(["KS", "UU"]));
    // The late event is listed first and flagged.
    assert_eq!(all.body["serious_adverse_events"][0]["clock"]["late"], true);
    assert_eq!(all.body["open_queries"]["rows"], json!([]));

    // Overdue visits: the same as the visit list says, the UU biopsy among them.
    let visits = director.get("/api/v1/visits?limit=1000").await;
    let overdue: BTreeSet<(String, String)> = visits
        .body
        .as_array()
        .expect("visits")
        .iter()
        .filter(|v| v["visit"]["state"] == "overdue")
        .map(|v| {
            (
                v["study_id"].as_str().expect("id").to_owned(),
                v["visit"]["expected"]["kind"]
                    .as_str()
                    .expect("kind")
                    .to_owned(),
            )
        })
        .collect();
    assert!(
        overdue.contains(&(overdue_id.clone(), "biopsy".to_owned())),
        "{overdue:?}"
    );
    let windows = all.body["visits"]["open_windows"]
        .as_array()
        .expect("windows");
    let shown_overdue: BTreeSet<(String, String)> = windows
        .iter()
        .filter(|v| v["state"] == "overdue")
        .map(|v| {
            (
                v["study_id"].as_str().expect("id").to_owned(),
                v["kind"].as_str().expect("kind").to_owned(),
            )
        })
        .collect();
    assert_eq!(shown_overdue, overdue);
    assert_eq!(all.body["visits"]["overdue"], overdue.len());

    // A site's nurse sees her own site's figures, whatever site she asks for.
    let nurse = app.client("nurse.uu").await;
    for path in ["/api/v1/dashboard", "/api/v1/dashboard?site=KS"] {
        let uu = nurse.get(path).await;
        assert_eq!(uu.status, StatusCode::OK, "{}", uu.text);
        assert_eq!(uu.body["site"], "UU");
        assert_eq!(shown(&uu.body), expected(&counted, Some("UU")));
        assert!(!uu.text.contains("KS-"), "no KS participant: {}", uu.text);
    }
    assert_eq!(expected(&counted, Some("UU"))["screened"], 3);
    // Queries: two raised on a KS participant and one on a UU participant, one answered by
    // the KS nurse; the unresolved queries by site equal the query events of the log.
    let pick = |site: &str| {
        counted
            .iter()
            .find(|(_, c)| c.site == site && c.enrolled_at.is_some())
            .map(|(id, _)| id.clone())
            .expect("a participant")
    };
    let (ks_id, uu_id) = (pick("KS"), pick("UU"));
    for (id, n) in [(&ks_id, 2), (&uu_id, 1)] {
        let rows = director
            .get(&format!("/api/v1/participants/{id}/data-points"))
            .await;
        let entry = rows
            .body
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["form"] == "lab" && r["status"]["status"] == "current")
            .map(|r| r["entry_id"].clone())
            .expect("a lab");
        for _ in 0..n {
            let raised = director
                .post(
                    &format!("/api/v1/participants/{id}/queries"),
                    &json!({"point": {"entry_id": entry}, "text": "Please check against the lab report."}),
                )
                .await;
            assert_eq!(raised.status, StatusCode::OK, "{}", raised.text);
        }
    }
    let answered = app
        .client("nurse.ks")
        .await
        .post(
            &format!("/api/v1/participants/{ks_id}/queries/q-1/answer"),
            &json!({"text": "Checked against the lab report."}),
        )
        .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.text);
    let mut status: BTreeMap<(String, String), &str> = BTreeMap::new();
    let log = app.state.store().read_all(0, 1_000_000).await.expect("log");
    for e in log {
        let Some(id) = e.stream.strip_prefix("participant/") else {
            continue;
        };
        let key = |q: &str| (id.to_owned(), q.to_owned());
        match serde_json::from_value::<Event>(e.payload).expect("an event") {
            Event::QueryRaised { query } => {
                status.insert(key(&query.query_id), "open");
            }
            Event::QueryAnswered { query_id, .. } => {
                status.insert(key(&query_id), "answered");
            }
            Event::QueryReopened { query_id, .. } => {
                status.insert(key(&query_id), "open");
            }
            Event::QueryClosed { query_id, .. } | Event::QueryCancelled { query_id, .. } => {
                status.insert(key(&query_id), "resolved");
            }
            _ => {}
        }
    }
    let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for ((id, _), s) in &status {
        let site = counted[id].site.clone();
        let w = want.entry(site).or_default();
        match *s {
            "open" => w.0 += 1,
            "answered" => w.1 += 1,
            _ => {}
        }
    }
    assert_eq!(want["KS"], (1, 1));
    assert_eq!(want["UU"], (1, 0));
    let rows = director.get("/api/v1/dashboard").await.body["open_queries"]["rows"].clone();
    let expected_rows: Vec<Value> = want
        .iter()
        .map(|(site, (open, answered))| {
            json!({"site": site, "age": "0–7 days", "count": open, "answered": answered})
        })
        .collect();
    assert_eq!(rows, json!(expected_rows));
    let uu_rows = nurse.get("/api/v1/dashboard").await.body["open_queries"]["rows"].clone();
    assert_eq!(uu_rows, json!([expected_rows[1].clone()]));

    // A study-wide user may narrow the view to one site.
    let ks = director.get("/api/v1/dashboard?site=KS").await;
    assert_eq!(shown(&ks.body), expected(&counted, Some("KS")));
    // The administrator sees no trial data.
    let admin = app.client("admin").await;
    assert_eq!(
        admin.get("/api/v1/dashboard").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_deviation_list_is_filtered_by_site_and_severity_and_exported_as_csv() {
    let app = TestApp::start().await;
    small_study(&app).await;
    let counted = count_events(&app).await;
    let monitor = app.client("monitor").await;
    let all = monitor.get("/api/v1/deviations").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let rows = all.body.as_array().expect("rows");
    let in_log: usize = counted.values().map(|c| c.deviations.len()).sum();
    assert!(in_log >= 1);
    assert_eq!(rows.len(), in_log);
    assert!(rows.iter().all(|r| r["status"] == "open"));
    let ks_minor = counted
        .values()
        .filter(|c| c.site == "KS")
        .flat_map(|c| &c.deviations)
        .filter(|s| *s == "minor")
        .count();
    let minor = monitor
        .get("/api/v1/deviations?site=KS&severity=minor")
        .await;
    assert_eq!(minor.body.as_array().expect("rows").len(), ks_minor);
    let major = monitor.get("/api/v1/deviations?severity=major").await;
    assert!(
        major
            .body
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["severity"] == "major")
    );

    for path in [
        "/api/v1/deviations?site=KS&format=csv",
        "/api/v1/deviations.csv?site=KS",
    ] {
        let r = monitor
            .http
            .get(format!("{}{path}", monitor.base))
            .send()
            .await
            .expect("csv");
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/csv"),
            "{path}"
        );
        let text = r.text().await.expect("text");
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], trial::dashboard::DEVIATION_CSV_COLUMNS.join(","));
        let ks: usize = counted
            .values()
            .filter(|c| c.site == "KS")
            .map(|c| c.deviations.len())
            .sum();
        assert_eq!(lines.len(), 1 + ks, "{text}");
        assert!(lines[1].starts_with("KS-"), "{text}");
    }
    // The UU nurse sees none of KS's deviations, whatever she asks for.
    let nurse = app.client("nurse.uu").await;
    let theirs = nurse.get("/api/v1/deviations?site=KS").await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.text.contains("KS-"), "{}", theirs.text);
    let bad = monitor.get("/api/v1/deviations?format=xlsx").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // The pages show the same.
    let page = monitor.get("/deviations?site=KS").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("id=\"deviation-list\""), "{}", page.text);
    let dash = monitor.get("/dashboard").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(
        dash.text.contains("id=\"consort-enrolled\"") && dash.text.contains("class=\"target\"")
    );
}
