//! The study's answers over the API and as the report (issue 13): the statistician reads
//! every analysis as of a cut-off, the numbers rest on the study's own events, the same
//! cut-off gives the same report byte for byte, each output is recorded in the audit
//! trail, and a site's nurse is refused.

use chrono::{Duration, SecondsFormat};
use reqwest::StatusCode;

use crate::common::{TestApp, present};

on_both_databases!(
    the_data_manager_downloads_the_odm_file_and_the_export_is_recorded,
    the_baseline_pet_page_shows_the_whole_body_phenotype,
    the_statistician_reads_every_analysis_and_each_answer_is_recorded,
    the_same_cut_off_gives_the_same_report_and_a_later_one_sees_more,
);

/// The small study of the dashboard tests, then ten minutes pass: the cut-off five
/// minutes after the study was entered, as the API takes it, lies between the study's
/// events and everything the test does after.
async fn study_then_cut_off(app: &TestApp) -> String {
    crate::dashboard::small_study(app).await;
    app.clock.set(present() + Duration::minutes(10));
    (present() + Duration::minutes(5)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn the_statistician_reads_every_analysis_and_each_answer_is_recorded(app: TestApp) {
    let cut = study_then_cut_off(&app).await;
    let stat = app.client("stat").await;
    let r = stat.get(&format!("/api/v1/analyses?as_of={cut}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let a = &r.body;
    // The small study: two screen failures and one more registration at KS, an arm-1
    // participant on T-DXd with a late SAE, an arm-2 participant whose follow-up ended,
    // and a UU participant after her baseline PET.
    assert_eq!(a["counts"]["arm1"], 1, "{a}");
    assert_eq!(a["counts"]["arm2"], 1);
    assert_eq!(a["counts"]["screen_failed"], 3);
    assert_eq!(a["counts"]["on_tdxd"], 1);
    // Both biopsied lesions are L1 with SUVmax 9: one HER2 1+ (expressing), one HER2 0.
    let roc = &a["diagnostic"]["roc_patient"];
    assert_eq!(
        (roc["n_positive"].as_u64(), roc["n_negative"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(roc["auc"], 0.5);
    assert!(
        roc["ci"]["not_estimable"].is_string(),
        "one per group: {roc}"
    );
    let at = &a["diagnostic"]["at_threshold_patient"];
    assert_eq!(at["threshold"], 6.0);
    assert_eq!(at["sensitivity"]["estimate"], 1.0);
    assert_eq!(at["specificity"]["estimate"], 0.0);
    assert_eq!(
        a["diagnostic"]["agreement"]["table"],
        serde_json::json!([[0, 0], [1, 1]])
    );
    // No CT yet: response is not estimable, and says why.
    assert!(a["response"]["objective_response"]["not_estimable"].is_string());
    // The arm-1 SAEs are listed with their worst grade.
    let serious = a["safety"]["serious"].as_array().expect("SAE list");
    assert_eq!(serious.len(), 2, "{serious:?}");
    assert!(
        serious
            .iter()
            .all(|s| s["grade"] == 3 && s["arm"] == "arm1")
    );
    assert!(!r.text.contains("NaN"));

    // The answer is an audited output: who, what, as of when, on which chain head.
    let outputs = outputs(&app).await;
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].meta.actor, "stat");
    let o = &outputs[0].payload["output"];
    assert_eq!(o["kind"], "analysis");
    assert_eq!(o["head_hash"], a["cut_off"]["head_hash"]);
    assert_eq!(o["participants"], a["counts"]["registered"]);

    // A site's nurse and the data manager may not take the analyses.
    for who in ["nurse.ks", "monitor"] {
        let r = app.client(who).await.get("/api/v1/analyses").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.text);
    }
    // A cut-off in the future is refused with the reason.
    let later = (present() + Duration::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let r = stat.get(&format!("/api/v1/analyses?as_of={later}")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("future"), "{}", r.text);
}

async fn the_same_cut_off_gives_the_same_report_and_a_later_one_sees_more(app: TestApp) {
    let cut = study_then_cut_off(&app).await;
    let stat = app.client("stat").await;
    let fetch = |path: String| {
        let http = stat.http.clone();
        let url = format!("{}{path}", stat.base);
        async move { http.get(url).send().await.expect("report") }
    };
    let first = fetch(format!("/analyses/report?as_of={cut}")).await;
    assert_eq!(first.status(), StatusCode::OK);
    let csp = first.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("style-src 'sha256-"), "{csp}");
    assert!(!csp.contains("script-src"), "no script at all: {csp}");
    assert!(
        first.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("her2ex-report-"),
    );
    let first = first.text().await.unwrap();
    assert!(first.contains("<svg"), "pictures inline");
    assert!(first.contains("HER2-EX study report"));
    // Later outputs are recorded after the cut-off, so they do not change the report.
    let again = fetch(format!("/analyses/report?as_of={cut}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(first, again, "same cut-off, same bytes");

    // A participant registered after the cut-off is in a later answer only.
    let before = stat.get(&format!("/api/v1/analyses?as_of={cut}")).await;
    let n = before.body["counts"]["registered"].as_u64().expect("count");
    app.register("nurse.uu", "UU").await;
    let r = stat.get("/api/v1/analyses").await;
    assert_eq!(
        r.body["counts"]["registered"].as_u64(),
        Some(n + 1),
        "{}",
        r.text
    );
    let r = stat.get(&format!("/api/v1/analyses?as_of={cut}")).await;
    assert_eq!(
        r.body["counts"]["registered"].as_u64(),
        Some(n),
        "{}",
        r.text
    );
}

async fn the_baseline_pet_page_shows_the_whole_body_phenotype(app: TestApp) {
    // The last participant of the small study: baseline PET read, L1 (SUVmax 9, avid)
    // chosen as the target, L2 (SUVmax 4.5) not avid.
    let id = crate::dashboard::small_study(&app).await;
    let page = app
        .client("monitor")
        .await
        .get(&format!("/participants/{id}/pet/pet1"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let section = page
        .text
        .split("<section id=\"phenotype\">")
        .nth(1)
        .expect("the phenotype section");
    assert!(
        section.contains("mixed</strong>: 1 of 2 confirmed lesions HER2-avid (SUVmax ≥ 6.0), 50 % of the metabolic tumour volume."),
        "{}",
        &section[..section.len().min(600)]
    );
    assert!(section.contains("<svg"), "the lesions by site");
    assert!(section.contains("left axillary node"));
}

async fn the_data_manager_downloads_the_odm_file_and_the_export_is_recorded(app: TestApp) {
    let cut = study_then_cut_off(&app).await;
    let dm = app.client("dm").await;
    let page = dm.get("/exports").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("/exports/odm.xml"));
    let r = dm
        .http
        .get(format!("{}/exports/odm.xml?as_of={cut}", dm.base))
        .send()
        .await
        .expect("ODM");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/xml");
    let xml = r.text().await.expect("body");
    assert!(
        xml.contains("ODMVersion=\"1.3.2\""),
        "{}",
        &xml[..300.min(xml.len())]
    );
    assert!(xml.contains("<SubjectData SubjectKey=\"KS-"));
    let outputs = outputs(&app).await;
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].meta.actor, "dm");
    assert_eq!(outputs[0].payload["output"]["kind"], "odm_export");
    assert_eq!(outputs[0].payload["output"]["destination"], "web");
    // A site's nurse may not export.
    let nurse = app.client("nurse.ks").await;
    assert_eq!(nurse.get("/exports").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        nurse.get("/exports/odm.xml").await.status,
        StatusCode::FORBIDDEN
    );
}

/// The outputs recorded in the audit trail, in order.
async fn outputs(app: &TestApp) -> Vec<store::RecordedEvent> {
    app.state
        .trial
        .store()
        .read_stream(trial::cutoff::OUTPUTS_STREAM)
        .await
        .expect("outputs")
}

/// The planning page: the operating characteristics at the planned 70 and around it, from
/// the simulator's shipped assumptions, for the statistician; not for a site's nurse.
#[tokio::test]
async fn the_statistician_reads_what_the_planned_study_can_show() {
    let app = TestApp::start().await;
    let page = app.client("stat").await.get("/planning").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for n in [50, 70, 100, 150] {
        assert!(
            page.text.contains(&format!("<tr data-n=\"{n}\">")),
            "row n = {n}"
        );
    }
    let row = page
        .text
        .split("<tr data-n=\"70\">")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("the row of the planned size");
    // At the planned size under the shipped assumptions the ROC area's power is neither
    // certain nor hopeless (the simulator's own tests pin the numbers).
    let power: f64 = row
        .split("<td class=\"power\">")
        .nth(1)
        .and_then(|p| p.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("the power cell");
    assert!((30.0..95.0).contains(&power), "{row}");
    assert!(
        page.text.contains("ASSUMPTION"),
        "the assumptions in force are shown"
    );
    assert!(page.text.contains("<svg"), "the picture");
    let nurse = app.client("nurse.ks").await.get("/planning").await;
    assert_eq!(nurse.status, StatusCode::FORBIDDEN);
}
