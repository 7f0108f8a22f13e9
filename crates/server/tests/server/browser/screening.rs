//! The site nurse and investigator in the browser: register, consent, every screening
//! datum through the web forms, the eligibility table, the attestations answered as
//! questions under one signature, the signed enrolment; and every form labelled in words.

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

    // The investigator answers the four attestation questions on the participant page
    // under one signature, then signs the enrolment.
    c.close().await.expect("close");
    let inv = connect(&driver).await;
    sign_in(&inv, &app, "inv.ks").await;
    answer_attestations(&inv, &app, id).await;
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

/// Answers IN7 and IN8 Yes and EX1 and EX5 No in the attestation card, after checking
/// that no answer is chosen at first and that the browser will not send the form with a
/// question unanswered; signs once.
async fn answer_attestations(c: &Client, app: &TestApp, id: &str) {
    c.goto(&app.url(&format!("/participants/{id}")))
        .await
        .expect("overview");
    let card = wait_for(c, Locator::Id("attestations"), "the attestation card")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        card.contains("Is the participant's expected survival more than 12 weeks?")
            && card.contains(
                "Does the participant have a contraindication to trastuzumab deruxtecan (T-DXd)?"
            ),
        "{card}"
    );
    let state = r#"
        const radios = [...document.querySelectorAll('#attestations input[type=radio]')];
        const form = document.querySelector('#attestations form');
        return [radios.length, radios.filter(r => r.checked).length, form.checkValidity()];
    "#;
    let before = c.execute(state, vec![]).await.expect("script");
    assert_eq!(
        before,
        json!([8, 0, false]),
        "nothing chosen, the form not sendable"
    );
    for (k, yes) in [("IN7", true), ("IN8", true), ("EX1", false), ("EX5", false)] {
        click(c, &format!("#q-{k}-{}", if yes { "yes" } else { "no" })).await;
    }
    type_into(c, "attest_password", PASSWORD).await;
    let after = c.execute(state, vec![]).await.expect("script");
    assert_eq!(after, json!([8, 4, true]));
    screenshot(c, "attestations").await;
    click(c, "#attestations button[type=submit]").await;
    after_submit(c, "attestations").await;
    let text = c
        .find(Locator::Css("main"))
        .await
        .expect("main")
        .text()
        .await
        .expect("text");
    assert!(text.contains("Eligibility: eligible"), "{text}");
    assert!(
        c.find(Locator::Id("attestations")).await.is_err(),
        "nothing left open"
    );
}

/// The label and legend texts of the forms on the current page.
async fn form_labels(c: &Client) -> Vec<String> {
    let r = c
        .execute(
            "return [...document.querySelectorAll('main form label, main form legend')].map(e => e.textContent.trim());",
            vec![],
        )
        .await
        .expect("script");
    serde_json::from_value(r).expect("texts")
}

/// A lowercase word joined to another by an underscore: a code name, not a label.
fn snake_case_word(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| {
            w.contains('_')
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

#[tokio::test]
async fn every_form_labels_its_fields_in_words() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let mut seen = std::collections::BTreeMap::new();
    for (user, caps) in [
        (
            "inv.ks",
            &[
                trial::Capability::EnterData,
                trial::Capability::InvestigatorSign,
            ][..],
        ),
        ("path.ks", &[trial::Capability::ReportPathology][..]),
    ] {
        let c = connect(&driver).await;
        sign_in(&c, &app, user).await;
        let mut pages: Vec<String> = trial::commands::all()
            .iter()
            .filter(|s| s.own_page.is_none() && caps.contains(&s.capability))
            .map(|s| format!("/participants/{id}/do/{}", s.name))
            .collect();
        if user == "inv.ks" {
            pages.push(format!("/participants/{id}/ae/new?code=10028813"));
            pages.push(format!("/participants/{id}"));
        }
        for page in pages {
            c.goto(&app.url(&page)).await.expect("form page");
            let labels = form_labels(&c).await;
            for l in &labels {
                assert!(snake_case_word(l).is_none(), "{page}: label {l:?}");
            }
            seen.insert(page, labels);
        }
        c.close().await.expect("close");
    }
    let on = |name: &str| seen[&format!("/participants/{id}/do/{name}")].join(" | ");
    assert!(
        on("performance-status").contains("WHO performance status"),
        "{}",
        on("performance-status")
    );
    assert!(
        on("pathology").contains("ISH HER2/CEP17 ratio"),
        "{}",
        on("pathology")
    );
    assert!(
        on("lab").contains("Upper limit of normal (ULN)"),
        "{}",
        on("lab")
    );
    assert!(
        on("attestation").contains("Answer"),
        "{}",
        on("attestation")
    );
    assert!(seen.len() > 20, "{} form pages", seen.len());
}
