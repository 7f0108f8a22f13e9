//! The study dashboard in the browser, as the study director reads it: recruitment
//! against the target, the CONSORT flow, the late serious event, and the deviation list
//! filtered by severity. With `HER2EX_WRITE_DOCS=1` it saves the pictures the README
//! shows (`docs/dashboard.png`, `docs/consort.png`).

use super::*;

/// Where the README's pictures live: the workspace's `docs/`.
fn docs_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// Saves a picture for the README when asked to (and for looking at, like every browser
/// test, when `HER2EX_SCREENSHOTS` names a folder).
pub(super) fn save_for_docs(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    if std::env::var("HER2EX_WRITE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(docs_dir().join(format!("{name}.png")), png).expect("write docs picture");
    }
    if let Ok(dir) = std::env::var("HER2EX_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).expect("write");
    }
}

#[tokio::test]
async fn the_study_director_reads_the_dashboard_and_the_deviations_in_the_browser() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    app.state
        .trial
        .add_user(
            &trial::Actor::command_line(),
            trial::admin::NewUser {
                username: "director".into(),
                display_name: "Study director".into(),
                role: trial::Role::StudyDirector,
                site: None,
                password: PASSWORD.into(),
            },
        )
        .await
        .expect("director");
    crate::dashboard::small_study(&app).await;
    let api = app.client("monitor").await;
    let figures = api.get("/api/v1/dashboard").await.body;

    let c = connect(&driver).await;
    c.goto(&app.url("/signin")).await.expect("sign-in page");
    type_into(&c, "username", "director").await;
    type_into(&c, "password", PASSWORD).await;
    click(&c, "button[type=submit]").await;
    // The study director lands on the study dashboard.
    heading(&c, |h| h == "Study dashboard · all sites").await;

    // The numbers on the page are the API's.
    let enrolled = c
        .find(Locator::Id("enrolled-total"))
        .await
        .expect("total")
        .text()
        .await
        .expect("text");
    assert_eq!(enrolled, figures["recruitment"]["enrolled"].to_string());
    let box_text = |id: &'static str| {
        let c = c.clone();
        async move {
            let script = "return document.getElementById(arguments[0]).textContent;";
            c.execute(script, vec![json!(format!("consort-{id}"))])
                .await
                .expect("box text")
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    let flow = &figures["flow"];
    assert!(
        box_text("enrolled")
            .await
            .contains(&format!("Enrolled (n = {})", flow["enrolled"])),
        "the CONSORT box of the enrolled"
    );
    assert!(
        box_text("arm1")
            .await
            .contains(&format!("arm 1 (n = {})", flow["allocated"]["arm1"])),
        "the CONSORT box of arm 1"
    );
    let late = texts(&c, "#sae-list tr.late").await;
    assert_eq!(late.len(), 1, "{late:?}");
    assert!(late[0].contains("reported late"), "{late:?}");
    let overdue = c
        .find(Locator::Id("overdue-count"))
        .await
        .expect("overdue")
        .text()
        .await
        .expect("text");
    assert_eq!(overdue, figures["visits"]["overdue"].to_string());

    // The pictures for the README: the whole page, and the flow diagram alone.
    let height = c
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .expect("height")
        .as_u64()
        .unwrap_or(2000);
    c.set_window_size(1280, u32::try_from(height + 140).unwrap_or(3000))
        .await
        .expect("window size");
    save_for_docs("dashboard", &c.screenshot().await.expect("screenshot"));
    let consort = c
        .find(Locator::Css("#consort svg"))
        .await
        .expect("the diagram");
    save_for_docs("consort", &consort.screenshot().await.expect("screenshot"));
    c.set_window_size(1280, 1000).await.expect("window size");

    // The deviation list, filtered to the minor ones.
    click(&c, "#deviations-by-site a[href='/deviations']").await;
    heading(&c, |h| h == "Protocol deviations · all sites").await;
    set_by_name(&c, &[("severity".into(), "minor".into())]).await;
    click(&c, "form.search button[type=submit]").await;
    // The filtered page is at its own address.
    for _ in 0..150 {
        let url = c.current_url().await.expect("url");
        if url.as_str().contains("severity=minor") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for(&c, Locator::Css("#deviation-list"), "the deviation list").await;
    let rows = texts(&c, "#deviation-list tbody tr").await;
    let minor = api.get("/api/v1/deviations?severity=minor").await;
    assert_eq!(rows.len(), minor.body.as_array().expect("rows").len());
    assert!(rows.iter().all(|r| r.contains("minor")), "{rows:?}");
    let csv = c
        .find(Locator::Id("deviations-csv"))
        .await
        .expect("csv link")
        .attr("href")
        .await
        .expect("href")
        .unwrap_or_default();
    assert!(csv.contains("severity=minor"), "{csv}");
    c.close().await.expect("close");
}
