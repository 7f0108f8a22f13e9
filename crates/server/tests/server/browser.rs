//! The site nurse's and investigator's path in a real browser (headless Chromium driven
//! through ChromeDriver): sign in, register, record consent, enter every screening datum
//! through the web forms, read the eligibility table, sign the enrolment.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp};

struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_chromedriver() -> Option<String> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_string)
}

/// Starts ChromeDriver on a free loopback port, or says why the test cannot run.
fn start_driver() -> Option<Driver> {
    let Some(path) = find_chromedriver() else {
        let required = std::env::var("HER2EX_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
        eprintln!("SKIPPED: chromedriver not installed; scripts/test installs it");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    Some(Driver {
        child,
        port,
        _profile: tempfile::tempdir().expect("profile dir"),
    })
}

async fn connect(driver: &Driver) -> Client {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                     format!("--user-data-dir={}", driver._profile.path().display())]
        }
    });
    let caps = caps.as_object().expect("object").clone();
    let url = format!("http://127.0.0.1:{}", driver.port);
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => return c,
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("could not connect to chromedriver at {url}");
}

/// Sets an input the way a form submit sees it (datetime-local and date inputs are
/// set by value: typing into them depends on the browser's locale).
async fn set_field(c: &Client, name: &str, value: &Value) {
    let id = format!("f-{name}");
    let script = r#"
        const el = document.getElementById(arguments[0]);
        if (!el) { return "missing"; }
        if (el.type === "checkbox") { el.checked = arguments[1] === true; return "ok"; }
        el.value = arguments[1];
        return el.value === arguments[1] ? "ok" : "rejected:" + el.value;
    "#;
    let v = match value {
        Value::Bool(b) => json!(b),
        Value::String(s) => match s.parse::<DateTime<Utc>>() {
            // Forms take local Stockholm time.
            Ok(t) => json!(
                t.with_timezone(&chrono_tz::Europe::Stockholm)
                    .format("%Y-%m-%dT%H:%M")
                    .to_string()
            ),
            Err(_) => json!(s),
        },
        Value::Null => return,
        other => json!(other.to_string()),
    };
    let r = c
        .execute(script, vec![json!(id), v.clone()])
        .await
        .expect("script");
    assert_eq!(r, json!("ok"), "field {name} = {v}");
}

async fn submit_form(c: &Client, study_id: &str, form: &str, data: &Value, password: Option<&str>) {
    c.goto(&format!(
        "{}/participants/{study_id}/do/{form}",
        base(c).await
    ))
    .await
    .expect("open form");
    for (name, value) in data.as_object().expect("object") {
        if name != "signature" {
            set_field(c, name, value).await;
        }
    }
    if let Some(p) = password {
        type_into(c, "signature_password", p).await;
    }
    click(c, "form.card button[type=submit]").await;
    after_submit(c, form).await;
}

/// Waits until a submitted form has been saved (the page carries `?done=`), or fails with
/// what the page says.
async fn after_submit(c: &Client, what: &str) {
    for _ in 0..150 {
        if let Ok(url) = c.current_url().await
            && url.query().is_some_and(|q| q.contains("done="))
        {
            return;
        }
        if let Ok(e) = c.find(Locator::Css(".error")).await {
            let text = e.text().await.unwrap_or_default();
            if !text.is_empty() {
                panic!("{what} was not saved: {text}");
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let html = c.source().await.unwrap_or_default();
    panic!(
        "{what}: no answer:\n{}",
        &html[html.find("<main>").unwrap_or(0)..]
    );
}

/// Waits for the page's heading to satisfy `check`.
async fn heading(c: &Client, check: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..150 {
        if let Ok(h) = c.find(Locator::Css("h1")).await
            && let Ok(text) = h.text().await
        {
            if check(&text) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("page heading stayed {last:?}");
}

/// Saves a screenshot when `HER2EX_SCREENSHOTS` names a folder (for looking at the pages).
async fn screenshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("HER2EX_SCREENSHOTS") {
        let png = c.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).expect("write");
    }
}

/// Types into the input with this id.
async fn type_into(c: &Client, id: &str, text: &str) {
    let input = c.find(Locator::Id(id)).await.expect("input");
    input.send_keys(text).await.expect("type");
}

/// Clicks the first element matching a CSS selector.
async fn click(c: &Client, css: &str) {
    let element = c.find(Locator::Css(css)).await.expect("element");
    element.click().await.expect("click");
}

async fn base(c: &Client) -> String {
    let url = c.current_url().await.expect("url");
    format!("{}://{}", url.scheme(), url.authority())
}

async fn sign_in(c: &Client, app: &TestApp, username: &str) {
    c.goto(&app.url("/signin")).await.expect("sign-in page");
    type_into(c, "username", username).await;
    type_into(c, "password", PASSWORD).await;
    click(c, "button[type=submit]").await;
    heading(c, |h| h.starts_with("Participants at KS")).await;
}

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

/// Sets form controls by name (selects, text and number inputs) on the current page.
async fn set_by_name(c: &Client, values: &[(String, String)]) {
    let script = r#"
        const [name, value] = arguments;
        const el = document.querySelector(`[name="${name}"]`);
        if (!el) { return "missing"; }
        el.value = value;
        return el.value === value ? "ok" : "rejected:" + el.value;
    "#;
    for (name, value) in values {
        let r = c
            .execute(script, vec![json!(name), json!(value)])
            .await
            .expect("script");
        assert_eq!(r, json!("ok"), "{name} = {value}");
    }
}

/// Waits (up to 15 s) for an element of the page that a click loads.
async fn wait_for(c: &Client, locator: Locator<'_>, what: &str) -> fantoccini::elements::Element {
    for _ in 0..150 {
        if let Ok(e) = c.find(locator).await {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not on the page");
}

/// Scrolls the element with this id to the top of the window (for screenshots).
async fn scroll_to(c: &Client, id: &str) {
    c.execute(
        "const e = document.getElementById(arguments[0]); if (e) { e.scrollIntoView(); }",
        vec![json!(id)],
    )
    .await
    .expect("scroll");
}

/// Waits (up to a minute: quantification reads a whole PET) for `?done=`.
async fn after_slow_submit(c: &Client, what: &str) {
    for _ in 0..6 {
        if let Ok(url) = c.current_url().await
            && url.query().is_some_and(|q| q.contains("done="))
        {
            return;
        }
        tokio::time::sleep(Duration::from_secs(8)).await;
    }
    after_submit(c, what).await;
}

#[tokio::test]
async fn a_reader_reviews_the_pet_and_the_investigator_chooses_the_biopsy_target() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let truth = app.import_phantom(5);

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
    click(&c, "form.card button[type=submit]").await;
    after_slow_submit(&c, "quantification").await;
    let loaded: Value = c
        .execute(
            "const i = document.getElementById('mip'); return i.complete && i.naturalWidth > 100;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(loaded, json!(true), "the MIP picture loads");
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

/// Fills and submits a command's generic form with the data of a protocol command.
async fn submit_command(c: &Client, id: &str, cmd: &protocol::Command, password: Option<&str>) {
    let (spec, data) = trial::commands::for_command(cmd).expect("a form for the command");
    submit_form(c, id, spec.name, &data, password).await;
}

async fn overview_text(c: &Client, app: &TestApp, id: &str, css: &str) -> String {
    c.goto(&app.url(&format!("/participants/{id}")))
        .await
        .expect("overview");
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css} on the overview"))
        .text()
        .await
        .expect("text")
}

/// A participant consented `days` ago with her baseline PET the day after: the nurse
/// records the biopsy `biopsy_after` the injection and the pathologist reports `ihc`,
/// both through the web forms. Returns her id and the PET1 time.
async fn biopsied_and_reported(
    driver: &Driver,
    app: &TestApp,
    days: i64,
    biopsy_after: chrono::Duration,
    ihc: protocol::records::IhcScore,
) -> (String, DateTime<Utc>) {
    let id = app.after_baseline_pet("KS", days).await;
    let pet1 = crate::common::now() - chrono::Duration::days(days - 1);
    let c = connect(driver).await;
    sign_in(&c, app, "nurse.ks").await;
    let biopsy = protocol::testing::fresh_biopsy_command(pet1 + biopsy_after);
    submit_command(&c, &id, &biopsy, None).await;
    c.close().await.expect("close");
    let p = connect(driver).await;
    sign_in(&p, app, "path.ks").await;
    let report = protocol::testing::pathology_command(
        "biopsy-1",
        "A",
        ihc,
        false,
        crate::common::now().date_naive(),
    );
    submit_command(&p, &id, &report, None).await;
    p.close().await.expect("close");
    (id, pet1)
}

#[tokio::test]
async fn an_arm_1_journey_from_biopsy_to_an_adverse_event_in_the_browser() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    // The nurse records the biopsy of the chosen lesion; the pathologist reports HER2 1+.
    let (id, pet1) = biopsied_and_reported(
        &driver,
        &app,
        22,
        chrono::Duration::hours(2),
        protocol::records::IhcScore::OnePlus,
    )
    .await;
    let c = connect(&driver).await;
    sign_in(&c, &app, "nurse.ks").await;
    let arm = overview_text(&c, &app, &id, "#arm").await;
    assert!(arm.contains("arm 1"), "she is allocated to arm 1: {arm}");

    // Two cycles of T-DXd, then a serious pneumonitis the site knew of 25 hours ago.
    let c1 = pet1.date_naive();
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

/// Sets controls by name inside one form (the page has two forms with a `scan_date`).
async fn set_in_form(c: &Client, form: &str, values: &[(&str, &str)]) {
    let script = r#"
        const [form, name, value] = arguments;
        const el = document.querySelector(`#${form} [name="${name}"]`);
        if (!el) { return "missing"; }
        el.value = value;
        return el.value === value ? "ok" : "rejected:" + el.value;
    "#;
    for (name, value) in values {
        let r = c
            .execute(script, vec![json!(form), json!(name), json!(value)])
            .await
            .expect("script");
        assert_eq!(r, json!("ok"), "{form} {name} = {value}");
    }
}

/// Waits until `n` elements match `css` (the page after a submit, not the one before:
/// every submit here returns to the same address), or fails with what the page says.
async fn wait_for_count(c: &Client, css: &str, n: usize) {
    for _ in 0..200 {
        if let Ok(found) = c.find_all(Locator::Css(css)).await
            && found.len() == n
        {
            return;
        }
        let problem = texts(c, ".error").await.concat();
        assert!(problem.is_empty(), "waiting for {n} × {css}: {problem}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never {n} × {css}");
}

async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Tolerant of a page that is being replaced: an element gone stale reads as empty.
    for e in c.find_all(Locator::Css(css)).await.unwrap_or_default() {
        out.push(e.text().await.unwrap_or_default());
    }
    out
}

#[tokio::test]
async fn a_reader_enters_ct_assessments_and_sees_the_response_and_its_curve() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let id = app.enrolled("KS").await;
    let day = |n: i64| {
        (crate::common::now() - chrono::Duration::days(n))
            .date_naive()
            .to_string()
    };

    let c = connect(&driver).await;
    sign_in(&c, &app, "reader.ks").await;
    c.goto(&app.url(&format!("/participants/{id}")))
        .await
        .expect("overview");
    click(&c, "#response-link a").await;
    heading(&c, |h| h.starts_with("Response")).await;

    // Three liver targets break RECIST (at most two per organ): refused, values kept.
    let (b, s) = (day(120), day(115));
    set_in_form(
        &c,
        "baseline-form",
        &[
            ("scan_date", b.as_str()),
            ("slice_thickness_mm", "2.5"),
            ("t1_organ", "liver"),
            ("t1_mm", "30"),
            ("t2_organ", "liver"),
            ("t2_mm", "20"),
            ("t3_organ", "liver"),
            ("t3_mm", "15"),
        ],
    )
    .await;
    click(&c, "#baseline-form button[type=submit]").await;
    let mut problem = String::new();
    for _ in 0..100 {
        problem = texts(&c, ".error").await.concat();
        if !problem.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(&c, "response-refused").await;
    assert!(problem.contains("Refused by rule RECIST"), "{problem:?}");
    assert!(problem.contains("per organ"), "{problem}");
    let kept: Value = c
        .execute(
            "return document.querySelector('#baseline-form [name=t3_organ]').value;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(kept, json!("liver"));

    // Baseline: liver 30 mm + lung 20 mm, a bone non-target.
    set_in_form(
        &c,
        "baseline-form",
        &[
            ("scan_date", b.as_str()),
            ("slice_thickness_mm", "2.5"),
            ("treatment_start", s.as_str()),
            ("t1_organ", "liver"),
            ("t1_mm", "30"),
            ("t2_organ", "lung"),
            ("t2_mm", "20"),
            ("t3_organ", ""),
            ("t3_mm", ""),
            ("n1_organ", "bone"),
        ],
    )
    .await;
    click(&c, "#baseline-form button[type=submit]").await;
    wait_for_count(&c, "#baseline tbody tr", 3).await;
    let baseline = texts(&c, "#baseline tbody tr").await;
    assert_eq!(baseline.len(), 3, "{baseline:?}");

    // Follow-up 1: 18 + 12 = 30 mm (−40 %, PR); follow-up 2: 25 + 15 = 40 mm (PD).
    for (n, (date, t1, t2)) in [(day(60), "18", "12"), (day(10), "25", "15")]
        .into_iter()
        .enumerate()
    {
        set_in_form(
            &c,
            "assessment-form",
            &[
                ("scan_date", date.as_str()),
                ("mm_T1", t1),
                ("mm_T2", t2),
                ("l_NT1", "present"),
                ("new_lesions", "no"),
            ],
        )
        .await;
        click(&c, "#assessment-form button[type=submit]").await;
        wait_for_count(&c, "#response-table tr.timepoint", n + 1).await;
    }

    assert_eq!(texts(&c, "#response-table td.overall").await, ["PR", "PD"]);
    assert_eq!(texts(&c, "#response-table td.sum").await, ["30.0", "40.0"]);
    let rows = texts(&c, "#response-table tr.timepoint").await;
    assert!(rows[0].contains("-40.0 %"), "{rows:?}");
    assert!(rows[1].contains("+33.3 %"), "{rows:?}");
    let best = texts(&c, "#best").await.concat();
    assert!(best.contains("Best overall response: PR"), "{best}");
    let progression = texts(&c, "#progression").await.concat();
    assert!(progression.contains(&day(10)), "{progression}");

    // The curve: baseline and both follow-ups as points, the PD one marked.
    let points: Value = c
        .execute(
            "return Array.from(document.querySelectorAll('#sum-chart .point')).map(p => [p.getAttribute('data-date'), p.getAttribute('data-sum'), p.getAttribute('class')]);",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        points,
        json!([
            [b, "50.0", "point baseline"],
            [day(60), "30.0", "point"],
            [day(10), "40.0", "point pd"],
        ])
    );
    let title = texts(&c, "#sum-chart-title").await;
    assert_eq!(title.len(), 1);
    let lines = c
        .find_all(Locator::Css(
            "#sum-chart line.ref-pr, #sum-chart line.ref-pd",
        ))
        .await
        .expect("lines");
    assert_eq!(lines.len(), 2, "−30 % and +20 % reference lines");
    scroll_to(&c, "response-table").await;
    screenshot(&c, "response").await;
    c.close().await.expect("close");
}
