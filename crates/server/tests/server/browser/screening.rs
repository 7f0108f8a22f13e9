//! The site nurse and investigator in the browser: register, consent, every screening
//! datum through the web forms, the eligibility table, the signed enrolment.

use super::*;

#[tokio::test]
async fn a_nurse_and_an_investigator_enrol_a_participant_in_the_browser() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let c = connect(&driver).await;

    // The nurse signs in and registers a woman.
    sign_in(&c, &app, "nurse.ks").await;
    c.find(Locator::LinkText("Register a participant"))
        .await
        .expect("link")
        .click()
        .await
        .expect("click");
    heading(&c, |h| h == "Register a participant").await;
    set_field(&c, "year_of_birth", &json!(1969)).await;
    set_field(&c, "sex", &json!("female")).await;
    click(&c, "form.card button[type=submit]").await;
    after_submit(&c, "registration").await;
    assert_eq!(
        heading(&c, |h| h.starts_with("Participant ")).await,
        "Participant KS-001"
    );
    let id = "KS-001";

    // Consent and every screening datum, each through its own form.
    let consent_at = crate::common::now() - chrono::Duration::days(7);
    let mut forms = 0;
    for cmd in protocol::testing::eligible_screening_commands("KS", id, consent_at) {
        let (spec, data) =
            trial::commands::for_command(&cmd).expect("a form for every screening command");
        if spec.signature_meaning.is_some() {
            continue; // attestations are the investigator's, below
        }
        submit_form(&c, id, spec.name, &data, None).await;
        forms += 1;
    }
    assert!(forms >= 8, "only {forms} forms");

    // The eligibility table lists every criterion with evidence.
    c.goto(&app.url(&format!("/participants/{id}/eligibility")))
        .await
        .expect("eligibility");
    let rows = c
        .find_all(Locator::Css("#eligibility tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 13, "IN1–IN8 and EX1–EX5");
    let table = c
        .find(Locator::Id("eligibility"))
        .await
        .expect("table")
        .text()
        .await
        .expect("text");
    assert!(table.contains("IN4") && table.contains("EX5"));
    screenshot(&c, "eligibility").await;

    // The investigator signs the attestations and the enrolment with her password.
    c.close().await.expect("close");
    let inv = connect(&driver).await;
    sign_in(&inv, &app, "inv.ks").await;
    for cmd in protocol::testing::eligible_screening_commands("KS", id, consent_at) {
        let (spec, data) = trial::commands::for_command(&cmd).expect("form");
        if spec.signature_meaning.is_some() {
            submit_form(&inv, id, spec.name, &data, Some(PASSWORD)).await;
        }
    }
    inv.goto(&app.url(&format!("/participants/{id}/do/enrol")))
        .await
        .expect("enrol page");
    let overall = inv
        .find(Locator::Css("#eligibility"))
        .await
        .expect("table shown before signing");
    assert!(overall.text().await.expect("text").contains("IN1"));
    screenshot(&inv, "enrol").await;
    submit_form(&inv, id, "enrol", &json!({}), Some(PASSWORD)).await;
    screenshot(&inv, "enrolled").await;
    let state = inv
        .find(Locator::Css(".card p"))
        .await
        .expect("state")
        .text()
        .await
        .expect("text");
    assert!(state.contains("enrolled"), "{state}");

    // The timeline shows who did what.
    inv.goto(&app.url(&format!("/participants/{id}/timeline")))
        .await
        .expect("timeline");
    let timeline = inv
        .find(Locator::Css("table.timeline"))
        .await
        .expect("table")
        .text()
        .await
        .expect("text");
    assert!(
        timeline.contains("nurse.ks")
            && timeline.contains("inv.ks")
            && timeline.contains("enrolled")
    );
    inv.close().await.expect("close");
}
