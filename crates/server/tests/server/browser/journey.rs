//! The journey after PET in the browser: arm 1 from biopsy to a serious adverse event
//! that stops T-DXd, arm 2 to off study through the visit list.

use super::*;

#[tokio::test]
async fn an_arm_1_journey_from_biopsy_to_an_adverse_event_in_the_browser() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    // The nurse records the biopsy of the chosen lesion; the pathologist reports HER2 1+.
    let (id, pet1) = biopsied_and_reported(
        &driver,
        &app,
        25,
        chrono::Duration::hours(2),
        protocol::records::IhcScore::OnePlus,
    )
    .await;
    let c = connect(&driver).await;
    sign_in(&c, &app, "nurse.ks").await;
    let arm = overview_text(&c, &app, &id, "#arm").await;
    assert!(arm.contains("arm 1"), "she is allocated to arm 1: {arm}");

    // Two cycles of T-DXd, then a serious pneumonitis the site knew of 25 hours ago.
    // Cycle 1 two days after the report, cycle 2 today.
    let c1 = pet1.date_naive() + chrono::Duration::days(3);
    for date in [c1, c1 + chrono::Duration::days(21)] {
        submit_command(
            &c,
            &id,
            &protocol::testing::tdxd_command(date, protocol::journey::tdxd::DoseLevel::Start),
            None,
        )
        .await;
    }
    let tdxd = overview_text(&c, &app, &id, "#tdxd").await;
    assert!(tdxd.contains("2 cycle(s)"), "{tdxd}");
    c.goto(&app.url(&format!("/participants/{id}/ae/new")))
        .await
        .expect("AE page");
    type_into(&c, "q", "pneumon").await;
    click(&c, "form.card button[type=submit]").await;
    wait_for(&c, Locator::LinkText("Pneumonitis"), "the term is listed")
        .await
        .click()
        .await
        .expect("click");
    let grades = wait_for(&c, Locator::Id("grades"), "the grade texts")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        grades.contains("Grade 2") && grades.to_lowercase().contains("symptomatic"),
        "{grades}"
    );
    click(&c, "#grade-2").await;
    let aware = crate::common::now() - chrono::Duration::hours(25);
    let fields = json!({
        "onset": aware.date_naive().to_string(),
        "serious_hospitalisation": true,
        "relation_imp": "not_related",
        "relation_tdxd": "related",
        "action_tdxd": "drug_withdrawn",
        "outcome": "not_recovered",
        "site_aware_at": aware.to_rfc3339(),
    });
    for (name, value) in fields.as_object().expect("object") {
        set_field(&c, name, value).await;
    }
    click(&c, "#ae button[type=submit]").await;
    after_submit(&c, "adverse event").await;
    let aes = c
        .find(Locator::Id("adverse-events"))
        .await
        .expect("AE table")
        .text()
        .await
        .expect("text");
    assert!(
        aes.contains("Pneumonitis") && aes.contains("overdue"),
        "{aes}"
    );
    let late = c
        .find(Locator::Css("#adverse-events [data-sae-late]"))
        .await
        .expect("SAE clock")
        .attr("data-sae-late")
        .await
        .expect("attr");
    assert_eq!(late.as_deref(), Some("true"));
    let tdxd = c
        .find(Locator::Id("tdxd"))
        .await
        .expect("T-DXd line")
        .text()
        .await
        .expect("text");
    assert!(
        tdxd.contains("discontinued"),
        "grade 2 pneumonitis stops T-DXd: {tdxd}"
    );
    scroll_to(&c, "journey").await;
    screenshot(&c, "journey-arm1").await;
    c.close().await.expect("close");
}

#[tokio::test]
async fn an_arm_2_journey_to_off_study_in_the_browser() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let (id, pet1) = biopsied_and_reported(
        &driver,
        &app,
        20,
        chrono::Duration::days(1),
        protocol::records::IhcScore::Zero,
    )
    .await;
    let c = connect(&driver).await;
    sign_in(&c, &app, "nurse.ks").await;
    let arm = overview_text(&c, &app, &id, "#arm").await;
    assert!(arm.contains("arm 2"), "{arm}");
    let next = c
        .find(Locator::Id("next-visit"))
        .await
        .expect("next visit")
        .text()
        .await
        .expect("text");
    assert!(next.to_lowercase().contains("follow-up"), "{next}");
    // The site's visit list shows her follow-up end.
    c.goto(&app.url("/visits")).await.expect("visits");
    let list = c
        .find(Locator::Id("site-visits"))
        .await
        .expect("visit list")
        .text()
        .await
        .expect("text");
    assert!(list.contains(&id), "{list}");
    let end = protocol::Command::EndParticipation(protocol::EndParticipation {
        reason: protocol::OffStudyReason::Arm2FollowUpComplete,
        ended_on: (pet1 + chrono::Duration::days(14)).date_naive(),
        note: None,
    });
    submit_command(&c, &id, &end, None).await;
    let state = c
        .find(Locator::Css(".card p"))
        .await
        .expect("state")
        .text()
        .await
        .expect("text");
    assert!(state.contains("off study"), "{state}");
    screenshot(&c, "journey-arm2").await;
    c.close().await.expect("close");
}
