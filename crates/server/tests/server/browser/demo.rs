//! The demo study as a newcomer, a sponsor or an inspector meets it: the 70-participant
//! trial `her2ex demo` builds (`trial::demo`), served. Every role's landing work list has
//! something in it, the statistician's analyses have numbers, and in the browser the
//! dashboard, a PET exam page and the study report open without a console error.

use super::*;
use trial::demo::{DEFAULT_SEED, DEMO_PASSWORD, USERS};

/// Signs in as a demo user and waits for the landing page.
async fn demo_sign_in(c: &Client, app: &TestApp, username: &str) {
    c.delete_all_cookies().await.expect("signed out");
    c.goto(&app.url("/signin")).await.expect("sign-in page");
    type_into(c, "username", username).await;
    type_into(c, "password", DEMO_PASSWORD).await;
    click(c, "button[type=submit]").await;
    heading(c, |h| !h.is_empty() && !h.starts_with("Sign in")).await;
}

#[tokio::test]
async fn the_70_participant_demo_gives_every_role_work_and_its_pages_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store::Store::open_data_dir(dir.path())
        .await
        .expect("store");
    let app = TestApp::demo_on(store, dir, DEFAULT_SEED, 70).await;

    // Every site user and the sponsor's monitor and data manager land on work to do.
    for (username, _, role, _) in USERS {
        let lands_on_work = !matches!(
            role,
            trial::Role::Admin | trial::Role::Statistician | trial::Role::StudyDirector
        );
        if !lands_on_work {
            continue;
        }
        let client = app.client_with(username, DEMO_PASSWORD).await;
        let work = client.get("/api/v1/work").await;
        let items = work.body["items"].as_array().map_or(0, Vec::len);
        assert!(items > 0, "{username} has work: {}", work.text);
    }
    // The study director's dashboard and the statistician's analyses have the whole trial.
    let director = app.client_with("stina.director", DEMO_PASSWORD).await;
    let dashboard = director.get("/api/v1/dashboard").await;
    assert_eq!(
        dashboard.status,
        reqwest::StatusCode::OK,
        "{}",
        dashboard.text
    );
    assert!(
        dashboard.text.contains("\"enrolled\":70"),
        "{}",
        dashboard.text
    );
    let stat = app.client_with("sam.stat", DEMO_PASSWORD).await;
    let a = stat.get("/api/v1/analyses").await;
    let roc = &a.body["diagnostic"]["roc_patient"];
    assert!(
        roc["auc"].as_f64().is_some(),
        "an AUC with its interval: {roc}"
    );
    assert_eq!(a.body["counts"]["enrolled"], 70);

    // Every PET's slices arrived with a receipt in the audit trail (at least PET1 of
    // each of the 70 enrolled): the data manager sees them all, a nurse her site's.
    let dm = app.client_with("dana.dm", DEMO_PASSWORD).await;
    let all = dm.get("/api/v1/receipts?limit=1000").await;
    let rows = all.body.as_array().expect("receipts");
    assert!(rows.len() >= 70, "{} receipts", rows.len());
    assert!(
        rows.iter()
            .all(|r| r["via"] == "folder_import" && r["new"].as_u64() > Some(0)),
        "{}",
        all.text
    );
    let (nurse, _, _, site) = USERS
        .iter()
        .find(|u| u.2 == trial::Role::ResearchNurse)
        .expect("a nurse");
    let own = app.client_with(nurse, DEMO_PASSWORD).await;
    let own = own.get("/api/v1/receipts?limit=1000").await;
    let own = own.body.as_array().expect("receipts");
    assert!(!own.is_empty() && own.len() < rows.len());
    assert!(
        own.iter()
            .all(|r| Some(r["site"].as_str().unwrap_or("")) == *site)
    );

    // A woman whose baseline PET the reader reviewed, for the PET page.
    let rows = app
        .state
        .trial
        .store()
        .participants(None)
        .await
        .expect("rows");
    let reviewed = rows
        .iter()
        .filter_map(|r| {
            Some((
                r.study_id.clone(),
                trial::participants::snapshot_of(r).ok()?,
            ))
        })
        .find(|(_, p)| p.pet_review(protocol::PetTimepoint::Pet1).is_some())
        .map(|(id, _)| id)
        .expect("a reviewed PET1");

    let Some(driver) = start_driver() else { return };
    let c = connect(&driver).await;
    demo_sign_in(&c, &app, "monica.monitor").await;
    c.goto(&app.url("/dashboard")).await.expect("dashboard");
    heading(&c, |h| h == "Study dashboard · all sites").await;
    let enrolled = c
        .find(Locator::Id("enrolled-total"))
        .await
        .expect("enrolled")
        .text()
        .await
        .expect("text");
    assert_eq!(enrolled, "70");
    assert!(console_errors(&c).await.is_empty(), "dashboard console");

    c.goto(&app.url(&format!("/participants/{reviewed}/pet/pet1")))
        .await
        .expect("PET page");
    heading(&c, |h| h.starts_with("PET1")).await;
    assert!(mip_loaded(&c).await, "the MIP picture of {reviewed} loads");
    let rows = texts(&c, "#candidates tbody tr").await;
    assert!(!rows.is_empty(), "{reviewed}'s candidates are listed");
    assert!(console_errors(&c).await.is_empty(), "PET page console");

    demo_sign_in(&c, &app, "sam.stat").await;
    c.goto(&app.url("/analyses")).await.expect("analyses");
    heading(&c, |h| h == "Study analyses").await;
    click(&c, "#open-report").await;
    heading(&c, |h| h == "HER2-EX study report").await;
    let drawn: Value = c
        .execute(
            "const s = [...document.querySelectorAll('svg')];
             return [s.length, s.filter(x => x.getBoundingClientRect().width > 50).length];",
            vec![],
        )
        .await
        .expect("pictures");
    let (svgs, visible) = (drawn[0].as_u64(), drawn[1].as_u64());
    assert!(
        svgs >= Some(8) && svgs == visible,
        "every picture drawn: {drawn}"
    );
    assert!(console_errors(&c).await.is_empty(), "report console");
}
