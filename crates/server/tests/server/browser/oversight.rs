//! Study oversight in the browser: the monitor lands on her work list, raises a query on
//! a KS lab value from its row and verifies it; the KS nurse lands on hers, answers the
//! query with a correction through the correction form, and the entry shows "changed
//! since verified"; the monitor closes the query.

use super::*;

/// The current page's path.
async fn path(c: &Client) -> String {
    c.current_url().await.expect("url").path().to_string()
}

/// Waits until the page says `what` was saved (`?done=what`: every form here returns to
/// a page that may already carry an earlier `done`), or fails with the page's refusal.
async fn saved(c: &Client, what: &str) {
    for _ in 0..150 {
        if let Ok(url) = c.current_url().await
            && url
                .query()
                .is_some_and(|q| q.contains(&format!("done={what}")))
        {
            return;
        }
        let problem = texts(c, ".error").await.concat();
        assert!(problem.is_empty(), "{what} was not saved: {problem}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: never saved");
}

/// An entry's verification state and the text of its row on the participant page.
async fn row_status(c: &Client, entry: &str) -> (String, String) {
    let css = format!("tr[data-entry=\"{entry}\"]");
    for _ in 0..50 {
        if let Ok(row) = c.find(Locator::Css(&css)).await
            && let Ok(Some(sdv)) = row.attr("data-sdv").await
            && let Ok(text) = row.text().await
        {
            return (sdv, text);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no row {entry}");
}

#[tokio::test]
async fn a_monitor_queries_and_verifies_and_the_nurse_answers_with_a_correction() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let id = app.eligible("KS").await;

    // The monitor lands on her work list: the participant's entries wait for verification.
    let m = connect(&driver).await;
    sign_in(&m, &app, "monitor").await;
    assert_eq!(path(&m).await, "/work");
    let verify = texts(&m, "tr[data-kind=verify]").await.concat();
    assert!(verify.contains(&id), "{verify}");
    click(
        &m,
        &format!("tr[data-kind=verify] a[href=\"/participants/{id}\"]"),
    )
    .await;
    heading(&m, |h| h.contains(&id)).await;

    // A query on the haemoglobin value, raised from its row.
    click(&m, "tr[data-entry=\"lab-4\"] details.raise-query summary").await;
    set_by_name_in(&m, "tr[data-entry=\"lab-4\"]", "field", "value").await;
    type_into(
        &m,
        "q-text-lab-4",
        "Haemoglobin 124 g/L: please check the lab report",
    )
    .await;
    click(
        &m,
        "tr[data-entry=\"lab-4\"] details.raise-query button[type=submit]",
    )
    .await;
    saved(&m, "query-raised").await;
    let (_, text) = row_status(&m, "lab-4").await;
    assert!(text.contains("query open"), "{text}");

    // And verified against the source, from the same row.
    click(&m, "tr[data-entry=\"lab-4\"] form.verify button").await;
    saved(&m, "verified").await;
    let (sdv, _) = row_status(&m, "lab-4").await;
    assert_eq!(sdv, "verified");
    screenshot(&m, "oversight-monitor-row").await;
    // One browser session at a time: they share the driver's profile.
    m.close().await.expect("close");

    // The KS nurse lands on her work list and sees the open query.
    let n = connect(&driver).await;
    sign_in(&n, &app, "nurse.ks").await;
    assert_eq!(path(&n).await, "/work");
    let open = texts(&n, "tr[data-kind=open_query]").await.concat();
    assert!(open.contains("please check the lab report"), "{open}");
    click(&n, "tr[data-kind=open_query] a[href*=\"/queries/\"]").await;
    heading(&n, |h| h.starts_with("Query q-1")).await;

    // She answers with a correction: the form starts from lab-4, chosen and filled in.
    click(&n, "#answer-with-correction").await;
    heading(&n, |h| h.starts_with("Lab value")).await;
    let chosen = n
        .execute("return document.getElementById('f-corrects').value", vec![])
        .await
        .expect("script");
    assert_eq!(chosen, json!("lab-4"));
    set_field(&n, "value", &json!("142")).await;
    set_field(&n, "correction_reason", &json!("transcription error")).await;
    type_into(&n, "answer-text", "The report says 142 g/L: corrected").await;
    click(&n, "form.card button[type=submit]").await;
    saved(&n, "answered").await;
    let status = wait_for(&n, Locator::Id("query-status"), "the query's status")
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(status, "answered");

    // The verified entry now reads "changed since verified".
    n.goto(&app.url(&format!("/participants/{id}")))
        .await
        .expect("participant");
    let (sdv, text) = row_status(&n, "lab-4").await;
    assert_eq!(sdv, "changed since verified");
    assert!(text.contains("changed since verified"), "{text}");
    screenshot(&n, "oversight-nurse-row").await;
    n.close().await.expect("close");

    // The monitor closes it from the query page, found on her work list.
    let m = connect(&driver).await;
    sign_in(&m, &app, "monitor").await;
    click(&m, "tr[data-kind=query_to_close] a[href*=\"/queries/\"]").await;
    heading(&m, |h| h.starts_with("Query q-1")).await;
    type_into(&m, "resolve-text", "Thank you").await;
    click(&m, "#resolve-form button[value=close]").await;
    saved(&m, "close-query").await;
    let status = wait_for(&m, Locator::Id("query-status"), "the query's status")
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(status, "closed");
    m.close().await.expect("close");
}

/// Sets a control by name inside the element matching `scope`.
async fn set_by_name_in(c: &Client, scope: &str, name: &str, value: &str) {
    let script = r#"
        const [scope, name, value] = arguments;
        const el = document.querySelector(`${scope} [name="${name}"]`);
        if (!el) { return "missing"; }
        el.value = value;
        return el.value === value ? "ok" : "rejected:" + el.value;
    "#;
    let r = c
        .execute(script, vec![json!(scope), json!(name), json!(value)])
        .await
        .expect("script");
    assert_eq!(r, json!("ok"), "{scope} {name} = {value}");
}
