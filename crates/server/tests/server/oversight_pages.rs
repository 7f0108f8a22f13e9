//! The oversight pages over HTTP: queries raised and answered through the forms, what
//! another site sees of them, the correction form that picks the entry, and the work
//! lists each role lands on.

use reqwest::StatusCode;

use crate::common::{Answer, Client, TestApp};

const FORM: &str = "application/x-www-form-urlencoded";

/// Posts a page form with the session's CSRF token and the participant's version.
async fn post_form(c: &Client, path: &str, id: &str, fields: &[(&str, &str)]) -> Answer {
    let version = c.version(id).await.to_string();
    let mut pairs = vec![
        ("csrf", c.csrf.as_str()),
        ("expected_version", version.as_str()),
    ];
    pairs.extend_from_slice(fields);
    let body = serde_urlencoded::to_string(&pairs).expect("form");
    c.post_raw(path, FORM, body).await
}

/// The monitor raises a query on the KS participant's haemoglobin (lab-4) from the row.
async fn raise_haemoglobin_query(app: &TestApp, id: &str) -> Answer {
    let monitor = app.client("monitor").await;
    post_form(
        &monitor,
        &format!("/participants/{id}/queries"),
        id,
        &[
            ("entry_id", "lab-4"),
            ("field", "value"),
            ("text", "Haemoglobin 124 g/L: please check the lab report"),
        ],
    )
    .await
}

/// The KS nurse corrects the haemoglobin (lab-4) to 142 g/L on the correction form, with
/// `extra` fields (the query it answers).
async fn correct_haemoglobin(app: &TestApp, id: &str, extra: &[(&str, &str)]) -> Answer {
    let nurse = app.client("nurse.ks").await;
    let p = app.state.trial.load(id).await.expect("load").participant;
    let sample = p.entry_json("lab-4").expect("lab-4")["sample_at"]
        .as_str()
        .expect("time")
        .parse::<chrono::DateTime<chrono::Utc>>()
        .expect("time")
        .with_timezone(&chrono_tz::Europe::Stockholm)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let mut fields = vec![
        ("corrects", "lab-4"),
        ("correction_reason", "transcription error"),
        ("analyte", "haemoglobin"),
        ("value", "142"),
        ("unit", "g/L"),
        ("sample_at", sample.as_str()),
        ("origin", "study"),
    ];
    fields.extend_from_slice(extra);
    post_form(&nurse, &format!("/participants/{id}/do/lab"), id, &fields).await
}

/// Adds the data manager the common users lack.
async fn add_data_manager(app: &TestApp) -> Client {
    let data_manager = trial::admin::NewUser {
        username: "dm".into(),
        display_name: "dm".into(),
        role: trial::Role::DataManager,
        site: None,
        password: crate::common::PASSWORD.into(),
    };
    app.state
        .trial
        .add_user(&trial::Actor::command_line(), data_manager)
        .await
        .expect("user");
    app.client("dm").await
}

/// The kinds of the work items about `id` on `c`'s work list.
async fn work_kinds(c: &Client, id: &str) -> Vec<String> {
    let work = c.get("/api/v1/work").await;
    assert_eq!(work.status, StatusCode::OK, "{}", work.text);
    work.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["study_id"] == id)
        .filter_map(|i| i["kind"].as_str().map(str::to_string))
        .collect()
}

fn row_of<'a>(page: &'a str, entry: &str) -> &'a str {
    let start = page
        .find(&format!("data-entry=\"{entry}\""))
        .unwrap_or_else(|| panic!("no row {entry}"));
    let rest = &page[start..];
    &rest[..rest.find("</tr>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn another_sites_nurse_gets_the_unknown_participants_page_for_a_query() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let r = raise_haemoglobin_query(&app, &id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        row_of(&r.text, "lab-4").contains("query open"),
        "the row shows the query"
    );

    // The KS nurse reads it.
    let ks = app.client("nurse.ks").await;
    let page = ks.get(&format!("/participants/{id}/queries/q-1")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("please check the lab report"));
    assert!(page.text.contains("answer-form"), "the site may answer");

    // The UU nurse gets exactly what an unknown participant gives.
    let uu = app.client("nurse.uu").await;
    let fake: String = id
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_digit((d + 5) % 10, 10).unwrap_or(c),
            None => c,
        })
        .collect();
    let real = uu.get(&format!("/participants/{id}/queries/q-1")).await;
    let unknown = uu.get(&format!("/participants/{fake}/queries/q-1")).await;
    assert_eq!(real.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(real.text, unknown.text.replace(&fake, &id));
    assert!(!real.text.contains("please check"));
    // Nor does her query list show it.
    let list = uu.get("/queries").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text.contains(&id), "{}", list.text);
    let list = ks.get("/queries?status=open").await;
    assert!(list.text.contains(&id), "her own site's list shows it");
}

#[tokio::test]
async fn the_correction_form_picks_the_entry_and_starts_from_its_values() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    let form = nurse
        .get(&format!("/participants/{id}/do/lab?corrects=lab-4"))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let select = form
        .text
        .split("<select id=\"f-corrects\"")
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .expect("the entry to correct is a choice, not a text box");
    assert!(select.contains("value=\"lab-1\""), "{select}");
    assert!(
        select.contains("<option value=\"lab-4\" selected>"),
        "{select}"
    );
    assert!(
        !select.contains("value=\"lesion-1\""),
        "only lab entries: {select}"
    );
    assert!(
        form.text.contains("name=\"value\" value=\"124"),
        "the stored value is the starting point"
    );
    // A retraction names its entry from every current entry.
    let retract = nurse
        .get(&format!("/participants/{id}/do/retract-entry"))
        .await;
    assert!(retract.text.contains("<select id=\"f-entry_id\""));
    assert!(retract.text.contains("value=\"lesion-1\""));
}

#[tokio::test]
async fn a_nurse_answers_with_a_correction_and_the_verified_entry_shows_it_changed() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let monitor = app.client("monitor").await;
    let r = post_form(
        &monitor,
        &format!("/participants/{id}/verify"),
        &id,
        &[("entry_id", "lab-4"), ("back", "overview")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(row_of(&r.text, "lab-4").contains("data-sdv=\"verified\""));
    raise_haemoglobin_query(&app, &id).await;

    // The nurse corrects lab-4 as her answer, on the correction form.
    let r = correct_haemoglobin(
        &app,
        &id,
        &[
            ("answers_query", "q-1"),
            ("answer_text", "Transcription error: the report says 142"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.text.contains("Transcription error"),
        "the query page: {}",
        r.text
    );
    assert!(r.text.contains("answered"));

    let page = monitor.get(&format!("/participants/{id}")).await;
    assert!(
        row_of(&page.text, "lab-4").contains("changed since verified"),
        "the page shows it"
    );

    // The monitor finds it on her work list and closes it.
    let work = monitor.get("/api/v1/work").await;
    let items = work.body["items"].as_array().expect("items");
    assert!(
        items
            .iter()
            .any(|i| i["kind"] == "query_to_close" && i["study_id"] == id.as_str()),
        "{}",
        work.text
    );
    let r = post_form(
        &monitor,
        &format!("/participants/{id}/queries/q-1"),
        &id,
        &[("act", "close"), ("text", "")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let status = r
        .text
        .split("id=\"query-status\"")
        .nth(1)
        .and_then(|s| s.split("</span>").next())
        .expect("status");
    assert!(status.ends_with(">closed"), "{status}");
}

#[tokio::test]
async fn refusals_come_back_on_the_page_with_their_rule() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    // A query with no question is refused by the protocol, shown above the data rows.
    let monitor = app.client("monitor").await;
    let r = post_form(
        &monitor,
        &format!("/participants/{id}/queries"),
        &id,
        &[("entry_id", "lab-4"), ("text", " ")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("Refused by rule"), "{}", r.text);
    assert!(r.text.contains("<details class=\"raise-query\" open"));
    // A nurse may not raise one at all.
    let nurse = app.client("nurse.ks").await;
    let r = post_form(
        &nurse,
        &format!("/participants/{id}/queries"),
        &id,
        &[("entry_id", "lab-4"), ("text", "why?")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Lock needs a freeze first.
    let dm = add_data_manager(&app).await;
    let r = post_form(
        &dm,
        &format!("/participants/{id}/holds"),
        &id,
        &[("scope", "participant"), ("act", "lock")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("Refused by rule"));
}

#[tokio::test]
async fn each_role_lands_on_its_work() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    raise_haemoglobin_query(&app, &id).await;
    let nurse = app.client("nurse.ks").await;
    let work = nurse.get("/work").await;
    assert_eq!(work.status, StatusCode::OK);
    assert!(work.text.contains("Open queries"), "{}", work.text);
    assert!(
        work.text
            .contains(&format!("/participants/{id}/queries/q-1"))
    );
    let inv = app.client("inv.ks").await;
    let work = inv.get("/api/v1/work").await;
    let kinds: Vec<&str> = work.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["study_id"] == id.as_str())
        .filter_map(|i| i["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"enrolment") || kinds.contains(&"attestation"),
        "{}",
        work.text
    );
    let uu = app.client("nurse.uu").await;
    let work = uu.get("/api/v1/work").await;
    assert!(!work.text.contains(&id), "{}", work.text);
    let monitor = app.client("monitor").await;
    let work = monitor.get("/api/v1/work").await;
    assert!(
        work.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["kind"] == "verify" && i["study_id"] == id.as_str()),
        "{}",
        work.text
    );
}

#[tokio::test]
async fn a_change_voids_the_casebook_signature_and_the_investigator_is_asked_again() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let inv = app.client("inv.ks").await;
    let sign = inv.get(&format!("/participants/{id}/sign")).await;
    assert!(
        sign.text
            .contains("I have reviewed the data of this casebook"),
        "the meaning is shown"
    );
    let wrong = post_form(
        &inv,
        &format!("/participants/{id}/sign"),
        &id,
        &[
            ("scope", "casebook"),
            ("signature_password", "not-my-password"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.text);
    let r = post_form(
        &inv,
        &format!("/participants/{id}/sign"),
        &id,
        &[
            ("scope", "casebook"),
            ("signature_password", crate::common::PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("in force"), "{}", r.text);
    assert!(
        !work_kinds(&inv, &id)
            .await
            .contains(&"casebook".to_string())
    );

    let r = correct_haemoglobin(&app, &id, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page = inv.get(&format!("/participants/{id}")).await;
    assert!(page.text.contains("data-voided=\"true\""), "{}", page.text);
    assert!(page.text.contains("must be signed again"));
    assert!(
        work_kinds(&inv, &id)
            .await
            .contains(&"casebook".to_string())
    );
}

#[tokio::test]
async fn bulk_verification_freeze_and_lock_from_the_pages() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let monitor = app.client("monitor").await;
    let r = post_form(
        &monitor,
        &format!("/participants/{id}/verify"),
        &id,
        &[("scope", "form:lab")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for lab in ["lab-1", "lab-4", "lab-10"] {
        assert!(
            row_of(&r.text, lab).contains("data-sdv=\"verified\""),
            "{lab}"
        );
    }
    assert!(row_of(&r.text, "lesion-1").contains("data-sdv=\"not verified\""));

    // The data manager freezes her, finds her ready to lock, and locks her.
    let dm = add_data_manager(&app).await;
    let holds = format!("/participants/{id}/holds");
    let r = post_form(
        &dm,
        &holds,
        &id,
        &[("scope", "participant"), ("act", "freeze")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        work_kinds(&dm, &id)
            .await
            .contains(&"ready_to_lock".to_string())
    );
    let r = post_form(
        &dm,
        &holds,
        &id,
        &[("scope", "participant"), ("act", "lock")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("locked"));
    assert!(
        !work_kinds(&dm, &id)
            .await
            .contains(&"ready_to_lock".to_string())
    );

    // A correction of locked data is refused on its form, with the rule.
    let r = correct_haemoglobin(&app, &id, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("LOCKED"), "{}", r.text);
    // Unlock needs a reason.
    let r = post_form(
        &dm,
        &holds,
        &id,
        &[("scope", "participant"), ("act", "unlock")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}

#[tokio::test]
async fn a_monitor_records_a_deviation_and_the_data_manager_assesses_it() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let monitor = app.client("monitor").await;
    let r = post_form(
        &monitor,
        &format!("/participants/{id}/deviations"),
        &id,
        &[
            ("act", "report"),
            ("category", "procedure"),
            ("severity", "minor"),
            ("description", "ECG done one day late"),
            ("occurred_at", "2026-11-10T09:30"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("ECG done one day late"));
    let p = app.state.trial.load(&id).await.expect("load").participant;
    let dev = p
        .deviations
        .last()
        .expect("a deviation")
        .deviation_id
        .clone();
    let dm = add_data_manager(&app).await;
    let r = post_form(
        &dm,
        &format!("/participants/{id}/deviations"),
        &id,
        &[
            ("act", "assess"),
            ("deviation_id", &dev),
            ("status", "closed"),
            ("note", "no impact on safety or data"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.text
            .contains(&format!("data-deviation=\"{dev}\" data-status=\"closed\"")),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn readers_investigators_and_pathologists_find_their_imaging_and_biopsy_work() {
    let app = TestApp::start().await;
    // A quantified PET1 waits for the reader's review, then for the investigator's target.
    let id = app.enrolled("KS").await;
    let at = crate::common::now() - chrono::Duration::hours(3);
    let pet = protocol::testing::baseline_pet_commands(at);
    app.run_at(at + chrono::Duration::hours(1), "inv.ks", &id, &pet[..2])
        .await;
    let reader = app.client("reader.ks").await;
    assert_eq!(work_kinds(&reader, &id).await, ["pet_review"]);
    let inv = app.client("inv.ks").await;
    assert!(
        !work_kinds(&inv, &id)
            .await
            .contains(&"biopsy_target".to_string())
    );
    app.run_at(
        at + chrono::Duration::hours(2),
        "reader.ks",
        &id,
        &pet[2..3],
    )
    .await;
    assert!(work_kinds(&reader, &id).await.is_empty());
    assert_eq!(work_kinds(&inv, &id).await, ["biopsy_target"]);
    assert!(
        work_kinds(&app.client("reader.uu").await, &id)
            .await
            .is_empty(),
        "another site's reader has none of it"
    );

    // A study biopsy waits for the pathologist's report.
    let biopsied = app.after_baseline_pet("KS", 10).await;
    let pet1 = crate::common::now() - chrono::Duration::days(9);
    let biopsy = protocol::testing::fresh_biopsy_command(pet1 + chrono::Duration::hours(2));
    app.run_at(
        pet1 + chrono::Duration::hours(3),
        "nurse.ks",
        &biopsied,
        &[biopsy],
    )
    .await;
    let path = app.client("path.ks").await;
    assert_eq!(work_kinds(&path, &biopsied).await, ["pathology"]);
}

#[tokio::test]
async fn the_nurse_sees_her_overdue_visits_and_a_study_freeze_stops_corrections() {
    let app = TestApp::start().await;
    // PET1 forty days ago and no biopsy since: the biopsy window has closed.
    let late = app.after_baseline_pet("KS", 40).await;
    let nurse = app.client("nurse.ks").await;
    assert!(
        work_kinds(&nurse, &late)
            .await
            .contains(&"overdue_visit".to_string())
    );
    let page = nurse.get("/work").await;
    assert!(page.text.contains("Overdue visits"), "{}", page.text);
    let uu = app.client("nurse.uu").await;
    assert!(work_kinds(&uu, &late).await.is_empty());

    // The data manager freezes the whole study: a correction is refused on its form.
    let id = app.eligible("KS").await;
    let dm = add_data_manager(&app).await;
    let body = serde_urlencoded::to_string([
        ("csrf", dm.csrf.as_str()),
        ("act", "freeze"),
        ("reason", "interim analysis"),
    ])
    .expect("form");
    let r = dm.post_raw("/study/holds", FORM, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("The whole study is"), "{}", r.text);
    let r = correct_haemoglobin(&app, &id, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("FROZEN"), "{}", r.text);
}

#[tokio::test]
async fn a_pending_reallocation_waits_on_the_investigators_work_list() {
    use protocol::records::IhcScore;
    let app = TestApp::start().await;
    let id = app.after_baseline_pet("KS", 5).await;
    let pet1 = crate::common::now() - chrono::Duration::days(4);
    let biopsy = protocol::testing::fresh_biopsy_command(pet1 + chrono::Duration::hours(2));
    app.run_at(
        pet1 + chrono::Duration::hours(3),
        "nurse.ks",
        &id,
        &[biopsy],
    )
    .await;
    let day_after = pet1 + chrono::Duration::days(1);
    let first = protocol::testing::pathology_command(
        "biopsy-1",
        "A",
        IhcScore::Zero,
        false,
        day_after.date_naive(),
    );
    app.run_at(day_after, "path.ks", &id, &[first]).await;
    let inv = app.client("inv.ks").await;
    assert!(
        !work_kinds(&inv, &id)
            .await
            .contains(&"allocation".to_string())
    );
    // A second specimen scores higher: another arm is proposed, pending her signature.
    let second = protocol::testing::pathology_command(
        "biopsy-1",
        "B",
        IhcScore::OnePlus,
        false,
        crate::common::now().date_naive(),
    );
    app.run("path.ks", &id, &[second]).await;
    assert!(
        work_kinds(&inv, &id)
            .await
            .contains(&"allocation".to_string())
    );
    let page = inv.get("/work").await;
    assert!(
        page.text.contains("Allocations to confirm"),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn an_ended_clean_casebook_is_ready_to_freeze() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let fail = protocol::Command::ScreenFail(protocol::ScreenFail {
        reason: "declined the biopsy".into(),
    });
    app.run("inv.ks", &id, &[fail]).await;
    let dm = add_data_manager(&app).await;
    assert!(
        !work_kinds(&dm, &id)
            .await
            .contains(&"ready_to_freeze".to_string()),
        "not verified yet"
    );
    // The monitor verifies the screening visit at once.
    let monitor = app.client("monitor").await;
    let r = post_form(
        &monitor,
        &format!("/participants/{id}/verify"),
        &id,
        &[("scope", "visit:screening")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        !work_kinds(&monitor, &id)
            .await
            .contains(&"verify".to_string())
    );
    assert_eq!(work_kinds(&dm, &id).await, ["ready_to_freeze"]);
}

#[tokio::test]
async fn an_adverse_event_is_corrected_on_its_own_page() {
    let app = TestApp::start().await;
    let id = app.after_baseline_pet("KS", 5).await;
    let now = crate::common::now();
    let mut ae = protocol::testing::adverse_event_command(
        10028813,
        1,
        (now - chrono::Duration::days(1)).date_naive(),
        now - chrono::Duration::hours(2),
    );
    // Before any T-DXd dose: not related to it, nor acted on.
    if let protocol::Command::RecordAdverseEvent(a) = &mut ae {
        a.relation_tdxd = protocol::journey::safety::Causality::NotApplicable;
        a.action_tdxd = protocol::journey::safety::ActionTaken::NotApplicable;
    }
    app.run("nurse.ks", &id, &[ae]).await;
    let nurse = app.client("nurse.ks").await;
    let page = nurse.get(&format!("/participants/{id}")).await;
    let row = row_of(&page.text, "ae-1");
    assert!(
        row.contains(&format!(
            "href=\"/participants/{id}/ae/new?follow_up=ae-1\""
        )),
        "{row}"
    );
    let form = nurse
        .get(&format!("/participants/{id}/ae/new?follow_up=ae-1"))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
}

#[tokio::test]
async fn a_refused_form_shows_the_refusal_in_the_field_it_names() {
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;
    let nurse = app.client("nurse.ks").await;
    // A correction without its reason: the protocol names `correction_reason`.
    let fields = [
        ("corrects", "lab-4"),
        ("analyte", "haemoglobin"),
        ("value", "130"),
        ("unit", "g/L"),
        ("sample_at", "2026-01-05T10:00"),
        ("origin", "routine_care"),
    ];
    let r = post_form(&nurse, &format!("/participants/{id}/do/lab"), &id, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.text.matches("id=\"problem\"").count(), 1, "{}", r.text);
    // The box sits in the reason's field, after its input, so the page opens there.
    let field = r
        .text
        .split("<div class=\"field\">")
        .find(|part| part.contains("name=\"correction_reason\""))
        .expect("the reason's field");
    assert!(field.contains("id=\"problem\""), "{}", r.text);
    assert!(field.contains("VALUE_REQUIRED"), "{field}");
    // What was typed is kept.
    assert!(r.text.contains("value=\"130\""), "{}", r.text);
    // A refusal that names no field of the form stays above it, focused all the same.
    let future = [
        ("analyte", "haemoglobin"),
        ("value", "130"),
        ("unit", "g/L"),
        ("sample_at", "2099-01-05T10:00"),
        ("origin", "study"),
    ];
    let r = post_form(&nurse, &format!("/participants/{id}/do/lab"), &id, &future).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let (before, _) = r.text.split_once("<form class=\"card\"").expect("the form");
    assert!(before.contains("id=\"problem\""), "{}", r.text);
}
