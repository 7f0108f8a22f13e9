//! The PET exam page in the browser: the nurse reads the series, the reader reviews the
//! candidates beside the MIP, the investigator signs the biopsy target.

use super::*;

#[tokio::test]
async fn a_reader_reviews_the_pet_and_the_investigator_chooses_the_biopsy_target() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let truth = app.import_phantom(5).await;

    // The nurse records the IMP administration through its form, then reads the series.
    let c = connect(&driver).await;
    sign_in(&c, &app, "nurse.ks").await;
    let injected = crate::common::now() - chrono::Duration::hours(2);
    let imp = protocol::testing::imp_command(protocol::PetTimepoint::Pet1, injected);
    let (spec, data) = trial::commands::for_command(&imp).expect("IMP form");
    submit_form(&c, &id, spec.name, &data, None).await;
    c.goto(&app.url(&format!("/participants/{id}/pet/pet1")))
        .await
        .expect("PET page");
    heading(&c, |h| h.starts_with("PET1")).await;
    let imp_table = c
        .find(Locator::Id("imp"))
        .await
        .expect("IMP shown")
        .text()
        .await
        .expect("text");
    assert!(imp_table.contains("200.0 MBq"), "{imp_table}");
    type_into(&c, "other_uid", &truth.series_uid).await;
    type_into(&c, "assignment_reason", "scanner sent the phantom id").await;
    click(&c, "form.card button[type=submit]").await;
    after_quantification(&c).await;
    assert!(mip_loaded(&c).await, "the MIP picture loads");
    let rows = c
        .find_all(Locator::Css("#candidates tbody tr"))
        .await
        .expect("rows");
    assert!(rows.len() >= 3, "{} candidates", rows.len());
    let discrepancies = c
        .find(Locator::Id("discrepancies"))
        .await
        .expect("discrepancies")
        .text()
        .await
        .expect("text");
    assert!(
        discrepancies.contains("injected activity") && discrepancies.contains("-25.0 %"),
        "{discrepancies}"
    );
    scroll_to(&c, "mip").await;
    screenshot(&c, "pet-quantified").await;
    c.close().await.expect("close");

    // The reader decides every candidate: physiological uptake out, the rest lesions.
    let r = connect(&driver).await;
    sign_in(&r, &app, "reader.ks").await;
    r.goto(&app.url(&format!("/participants/{id}/pet/pet1")))
        .await
        .expect("PET page");
    let loaded = app.state.trial.load(&id).await.expect("load");
    let q = loaded
        .participant
        .pet_quantification(protocol::PetTimepoint::Pet1)
        .expect("quantified")
        .clone();
    let mut values = Vec::new();
    for k in &q.candidates {
        let n = k.number;
        if k.physiological.is_some() {
            values.push((format!("decision_{n}"), "reject".to_string()));
        } else {
            values.push((format!("decision_{n}"), "confirm".to_string()));
            values.push((format!("site_{n}"), format!("lesion site {n}")));
            values.push((format!("us_{n}"), "yes".to_string()));
        }
    }
    values.push(("add_site_1".into(), "left supraclavicular node".into()));
    values.push(("add_us_1".into(), "yes".into()));
    set_by_name(&r, &values).await;
    click(&r, "#review button[type=submit]").await;
    after_submit(&r, "review").await;
    let first = r
        .find(Locator::Css("#proposal tbody tr[data-rank='1']"))
        .await
        .expect("a first choice");
    let label = first
        .attr("data-label")
        .await
        .expect("attr")
        .expect("label");
    let hottest = q
        .candidates
        .iter()
        .find(|k| k.physiological.is_none() && k.her2_avid)
        .expect("an avid lesion");
    assert_eq!(label, format!("L{}", hottest.number));
    scroll_to(&r, "proposal").await;
    screenshot(&r, "pet-reviewed").await;
    r.close().await.expect("close");

    // The investigator follows the proposal, says why and signs.
    let inv = connect(&driver).await;
    sign_in(&inv, &app, "inv.ks").await;
    inv.goto(&app.url(&format!("/participants/{id}/pet/pet1")))
        .await
        .expect("PET page");
    type_into(&inv, "reason", "Hottest accessible lesion").await;
    type_into(&inv, "signature_password", PASSWORD).await;
    click(&inv, "#target button[type=submit]").await;
    after_submit(&inv, "target").await;
    let chosen = inv
        .find(Locator::Id("chosen"))
        .await
        .expect("choice shown")
        .text()
        .await
        .expect("text");
    assert!(
        chosen.contains(&label) && chosen.contains("proposed rank 1") && chosen.contains("inv.ks"),
        "{chosen}"
    );
    scroll_to(&inv, "chosen").await;
    screenshot(&inv, "pet-target").await;
    inv.close().await.expect("close");
}
