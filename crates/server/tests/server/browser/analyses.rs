//! The study's answers in the browser, as the statistician reads them: the analyses page
//! with its key numbers and pictures, then the study report itself, which must render
//! every picture and its own style under its content security policy with nothing in
//! the console. With `HER2EX_WRITE_DOCS=1` it saves `docs/report.png`.

use super::dashboard::save_for_docs;
use super::*;

#[tokio::test]
async fn the_statistician_reads_the_analyses_and_opens_the_study_report() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    crate::dashboard::small_study(&app).await;

    let c = connect(&driver).await;
    c.goto(&app.url("/signin")).await.expect("sign-in page");
    type_into(&c, "username", "stat").await;
    type_into(&c, "password", PASSWORD).await;
    click(&c, "button[type=submit]").await;
    // The statistician lands on the dashboard; the menu leads to the analyses.
    heading(&c, |h| h == "Study dashboard · all sites").await;
    click(&c, "header nav a[href='/analyses']").await;
    heading(&c, |h| h == "Study analyses").await;
    let auc = c
        .find(Locator::Id("auc"))
        .await
        .expect("AUC")
        .text()
        .await
        .expect("text");
    assert!(auc.starts_with("0.50"), "{auc}");
    let pictures = texts(&c, "figure.figure figcaption").await;
    assert_eq!(pictures.len(), 8, "{pictures:?}");
    let errors = console_errors(&c).await;
    assert!(errors.is_empty(), "the page logs no error: {errors:?}");

    // The report, as the page's link opens it.
    click(&c, "#open-report").await;
    heading(&c, |h| h == "HER2-EX study report").await;
    let checks = c
        .execute(
            "const h2 = document.querySelector('h2');
             const svgs = [...document.querySelectorAll('svg')];
             return {
               border: getComputedStyle(h2).borderBottomColor,
               svgs: svgs.length,
               drawn: svgs.filter(s => s.getBoundingClientRect().width > 50
                                    && s.getBoundingClientRect().height > 50).length,
               titled: svgs.filter(s => s.querySelector('title')).length,
               fetched: performance.getEntriesByType('resource').length,
             };",
            vec![],
        )
        .await
        .expect("the report's checks");
    // The inline style sheet is allowed by its hash, so it applies.
    assert_eq!(checks["border"], "rgb(0, 114, 178)", "{checks}");
    let svgs = checks["svgs"].as_u64().expect("count");
    assert!(svgs >= 8, "{checks}");
    assert_eq!(checks["drawn"], svgs, "every picture is drawn: {checks}");
    assert_eq!(
        checks["titled"], svgs,
        "every picture has a text alternative"
    );
    assert_eq!(checks["fetched"], 0, "the report loads nothing: {checks}");
    let errors = console_errors(&c).await;
    assert!(errors.is_empty(), "the report logs no error: {errors:?}");

    let height = c
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .expect("height")
        .as_u64()
        .unwrap_or(2000);
    c.set_window_size(1200, u32::try_from(height.min(2400)).unwrap_or(2400))
        .await
        .expect("window size");
    save_for_docs("report", &c.screenshot().await.expect("screenshot"));
    c.close().await.expect("close");
}
