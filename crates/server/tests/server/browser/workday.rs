//! The pages people work in all day, in the browser: a refused form opens at its
//! refusal, every participant page says whose it is in its title, the participant page
//! fits a phone, and the PET workspace shows the MIP beside the reader's decisions.

use super::*;

/// `document.title` of the page now shown.
async fn title(c: &Client) -> String {
    c.title().await.expect("title")
}

/// Where the element with this id is, relative to the window: (top, bottom, window
/// height).
async fn in_view(c: &Client, id: &str) -> (f64, f64, f64) {
    let r = c
        .execute(
            "const r = document.getElementById(arguments[0]).getBoundingClientRect(); \
             return [r.top, r.bottom, window.innerHeight];",
            vec![json!(id)],
        )
        .await
        .expect("script");
    let n = |i: usize| r[i].as_f64().expect("number");
    (n(0), n(1), n(2))
}

/// A quantified PET1 of an enrolled participant of KS, read through the API.
async fn quantified(app: &TestApp) -> String {
    let id = app.enrolled("KS").await;
    let truth = app.import_phantom(5).await;
    let injected = crate::common::now() - chrono::Duration::hours(2);
    let imp = protocol::testing::imp_command(protocol::PetTimepoint::Pet1, injected);
    app.run("nurse.ks", &id, &[imp]).await;
    let nurse = app.client("nurse.ks").await;
    let v = nurse.version(&id).await;
    let r = nurse
        .post(
            &format!("/api/v1/participants/{id}/pet/pet1/quantify"),
            &json!({"expected_version": v, "series_instance_uid": truth.series_uid,
                    "assignment_reason": "the scanner sent the phantom's id"}),
        )
        .await;
    assert_eq!(nurse.wait_job(&r).await["state"], "done", "{}", r.text);
    id
}

#[tokio::test]
async fn a_refused_pet_review_opens_at_its_refusal_and_the_title_names_the_participant() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let id = quantified(&app).await;
    let c = connect(&driver).await;
    sign_in(&c, &app, "reader.ks").await;
    c.goto(&app.url(&format!("/participants/{id}/pet/pet1")))
        .await
        .expect("PET page");
    heading(&c, |h| h.starts_with("PET1")).await;
    assert!(title(&c).await.contains(&id), "{}", title(&c).await);

    // Every candidate called a lesion, none with its anatomical site: refused.
    let numbers: Vec<u32> = app
        .state
        .trial
        .load(&id)
        .await
        .expect("load")
        .participant
        .pet_quantification(protocol::PetTimepoint::Pet1)
        .expect("quantified")
        .candidates
        .iter()
        .map(|k| k.number)
        .collect();
    assert!(numbers.len() >= 3, "{numbers:?}");
    let values: Vec<(String, String)> = numbers
        .iter()
        .map(|n| (format!("decision_{n}"), "confirm".to_string()))
        .collect();
    set_by_name(&c, &values).await;
    click(&c, "#review button[type=submit]").await;
    let problem = wait_for(&c, Locator::Id("problem"), "the refusal").await;
    let text = problem.text().await.expect("text");
    assert!(text.to_lowercase().contains("site"), "{text}");
    // At the candidate it is about: in the row after hers among the decisions.
    let row = c
        .execute(
            "const t = document.getElementById('problem').closest('tr.refusal'); \
             return t && t.previousElementSibling.dataset.candidate === t.dataset.refused \
               ? t.dataset.refused : null;",
            vec![],
        )
        .await
        .expect("script");
    let row = row
        .as_str()
        .unwrap_or_else(|| panic!("the refusal is in no candidate's row"));
    assert!(
        text.contains(&format!("L{row} ")),
        "{text} in the row of {row}"
    );
    let (top, bottom, height) = in_view(&c, "problem").await;
    assert!(
        top >= 0.0 && bottom <= height,
        "the refusal is in view: top {top}, bottom {bottom}, window {height}"
    );
    // The button is far below the top of the page: the page did scroll to the refusal.
    let scrolled: Value = c
        .execute("return window.scrollY;", vec![])
        .await
        .expect("script");
    assert!(
        scrolled.as_f64().unwrap_or(0.0) > 0.0,
        "scrolled {scrolled}"
    );
    assert!(title(&c).await.contains(&id), "{}", title(&c).await);
    screenshot(&c, "pet-review-refused").await;

    // Corrected, the review is saved, and the page says so.
    let values: Vec<(String, String)> = numbers
        .iter()
        .flat_map(|n| {
            [
                (format!("decision_{n}"), "confirm".to_string()),
                (format!("site_{n}"), format!("site of {n}")),
                (format!("us_{n}"), "yes".to_string()),
            ]
        })
        .collect();
    set_by_name(&c, &values).await;
    click(&c, "#review button[type=submit]").await;
    after_submit(&c, "review").await;
    let saved = wait_for(&c, Locator::Id("saved"), "the confirmation")
        .await
        .text()
        .await
        .expect("text");
    assert!(saved.contains("Saved: review"), "{saved}");
    c.close().await.expect("close");
}

#[tokio::test]
async fn participant_pages_carry_the_study_id_and_fit_a_phone() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    // A serious adverse event the site knew of 25 hours ago and reports only now: late.
    let aware = crate::common::now() - chrono::Duration::hours(25);
    let nurse = app.client("nurse.ks").await;
    let v = nurse.version(&id).await;
    let r = nurse
        .command(
            &id,
            "adverse-event",
            v,
            json!({
                "meddra_code": 10028813, "grade": 3, "onset": aware.date_naive().to_string(),
                "serious_hospitalisation": true, "relation_imp": "not_related",
                "relation_tdxd": "not_related", "action_tdxd": "not_applicable",
                "outcome": "not_recovered",
                "site_aware_at": aware.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);

    let c = connect(&driver).await;
    sign_in(&c, &app, "nurse.ks").await;
    for page in [
        format!("/participants/{id}"),
        format!("/participants/{id}/eligibility"),
        format!("/participants/{id}/timeline"),
        format!("/participants/{id}/ae/new"),
        format!("/participants/{id}/response"),
        format!("/participants/{id}/pet/pet1"),
        format!("/participants/{id}/do/imp-administration"),
    ] {
        c.goto(&app.url(&page)).await.expect("page");
        let t = title(&c).await;
        assert!(t.contains(&id), "{page}: title {t:?}");
    }

    c.set_window_size(400, 900).await.expect("window size");
    c.goto(&app.url(&format!("/participants/{id}")))
        .await
        .expect("overview");
    wait_for(
        &c,
        Locator::Css("#adverse-events [data-sae-late]"),
        "the SAE clock",
    )
    .await;
    let widths = c
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .expect("script");
    let (inner, scroll) = (
        widths[0].as_f64().expect("number"),
        widths[1].as_f64().expect("number"),
    );
    assert!(inner <= 400.0, "the window is a phone's: {inner}");
    assert!(scroll <= 400.0, "the page is {scroll} px wide at {inner}");
    screenshot(&c, "overview-phone").await;
    c.close().await.expect("close");
}

/// The bounding rectangle of the first element matching a CSS selector: left, top,
/// right, bottom.
async fn rect(c: &Client, css: &str) -> [f64; 4] {
    let r = c
        .execute(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect(); \
             return [r.left, r.top, r.right, r.bottom];",
            vec![json!(css)],
        )
        .await
        .expect("script");
    std::array::from_fn(|i| r[i].as_f64().expect("number"))
}

/// The stroke colour the page gives a candidate's marker ring on the MIP.
async fn marker_stroke(c: &Client, n: u32) -> String {
    c.execute(
        "const m = document.querySelector(`circle.marker[data-candidate=\"${arguments[0]}\"]`); \
         return m ? getComputedStyle(m).stroke : 'no marker';",
        vec![json!(n)],
    )
    .await
    .expect("script")
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test]
async fn the_pet_workspace_shows_the_mip_beside_the_decisions_zooms_and_lights_the_focused_candidate()
 {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let id = quantified(&app).await;
    let c = connect(&driver).await;
    sign_in(&c, &app, "reader.ks").await;
    c.goto(&app.url(&format!("/participants/{id}/pet/pet1")))
        .await
        .expect("PET page");
    heading(&c, |h| h.starts_with("PET1")).await;
    assert!(mip_loaded(&c).await, "the MIP picture loads");

    // Beside the reader's decisions, and larger than the 368 px it had.
    c.execute(
        "document.querySelector('#review table').scrollIntoView();",
        vec![],
    )
    .await
    .expect("scroll");
    let mip = rect(&c, "#mip").await;
    let decisions = rect(&c, "#review table").await;
    assert!(
        mip[2] <= decisions[0],
        "left of the decisions: {mip:?} {decisions:?}"
    );
    assert!(
        mip[1] < decisions[3] && decisions[1] < mip[3],
        "side by side, not above: {mip:?} {decisions:?}"
    );
    assert!(mip[2] - mip[0] >= 400.0, "larger: {mip:?}");
    // The workspace fits the window: nothing pushes the page sideways (what is wider
    // scrolls inside its own box).
    let wide = c
        .execute(
            "const w = document.documentElement.clientWidth; \
             const clipped = e => { for (let a = e.parentElement; a; a = a.parentElement) { \
               if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; }; \
             return [document.documentElement.scrollWidth <= w, \
               [...document.querySelectorAll('main *')] \
               .filter(e => e.getBoundingClientRect().right > w + 1 && !clipped(e)) \
               .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)];",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(wide, json!([true, []]), "wider than the window");

    // Focusing a candidate's decision lights up her marker, and only hers.
    assert_eq!(marker_stroke(&c, 1).await, "rgba(0, 0, 0, 0)");
    c.execute("document.getElementById('decision_2').focus();", vec![])
        .await
        .expect("focus");
    assert_eq!(marker_stroke(&c, 2).await, "rgb(240, 180, 0)");
    assert_eq!(marker_stroke(&c, 1).await, "rgba(0, 0, 0, 0)");
    screenshot(&c, "pet-workspace").await;

    // A click shows the MIP at the window's height; another brings it back.
    click(&c, "label.mip").await;
    let zoomed = rect(&c, "#mip").await;
    let height: Value = c
        .execute("return window.innerHeight;", vec![])
        .await
        .expect("script");
    let height = height.as_f64().expect("number");
    assert!(
        zoomed[3] - zoomed[1] > (mip[3] - mip[1]) && zoomed[3] - zoomed[1] >= height * 0.8,
        "zoomed {zoomed:?} from {mip:?} in a window {height} high"
    );
    screenshot(&c, "pet-mip-zoomed").await;
    click(&c, "label.mip").await;
    let back = rect(&c, "#mip").await;
    assert!(
        (back[2] - back[0] - (mip[2] - mip[0])).abs() < 1.0,
        "{back:?}"
    );
    c.close().await.expect("close");
}
