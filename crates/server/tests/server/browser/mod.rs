//! The users' paths in a real browser (headless Chromium driven through ChromeDriver):
//! the driver, sign-in and the form helpers every browser test shares, and one module per
//! page family.

mod admin;
mod analyses;
mod dashboard;
mod demo;
mod journey;
mod oversight;
mod pet;
mod response;
mod screening;
mod workday;

pub(super) use std::process::{Child, Command, Stdio};
pub(super) use std::time::Duration;

pub(super) use chrono::{DateTime, Utc};
pub(super) use fantoccini::{Client, ClientBuilder, Locator};
pub(super) use serde_json::{Value, json};

pub(super) use crate::common::{PASSWORD, TestApp};
pub(super) struct Driver {
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

pub(super) fn find_chromedriver() -> Option<String> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_string)
}

/// Starts ChromeDriver on a free loopback port, or says why the test cannot run.
pub(super) fn start_driver() -> Option<Driver> {
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

pub(super) async fn connect(driver: &Driver) -> Client {
    let caps = json!({
        "browserName": "chrome",
        // The console is read back by the tests that assert a page logs no error.
        "goog:loggingPrefs": {"browser": "ALL"},
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
pub(super) async fn set_field(c: &Client, name: &str, value: &Value) {
    let id = format!("f-{name}");
    let script = r#"
        const el = document.getElementById(arguments[0]);
        if (!el) { return "missing"; }
        if (el.type === "checkbox") { el.checked = arguments[1] === true; return "ok"; }
        if (el.tagName === "FIELDSET") {
            const r = el.querySelector(`input[type=radio][value="${arguments[1]}"]`);
            if (!r) { return "no choice " + arguments[1]; }
            r.checked = true;
            return "ok";
        }
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

pub(super) async fn submit_form(
    c: &Client,
    study_id: &str,
    form: &str,
    data: &Value,
    password: Option<&str>,
) {
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
pub(super) async fn after_submit(c: &Client, what: &str) {
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
pub(super) async fn heading(c: &Client, check: impl Fn(&str) -> bool) -> String {
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
pub(super) async fn screenshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("HER2EX_SCREENSHOTS") {
        let png = c.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).expect("write");
    }
}

/// Whether the PET page's MIP picture has loaded (a real picture, not a broken image).
pub(super) async fn mip_loaded(c: &Client) -> bool {
    let loaded = c
        .execute(
            "const i = document.getElementById('mip'); return i.complete && i.naturalWidth > 100;",
            vec![],
        )
        .await
        .expect("script");
    loaded == json!(true)
}

/// Types into the input with this id.
pub(super) async fn type_into(c: &Client, id: &str, text: &str) {
    let input = c.find(Locator::Id(id)).await.expect("input");
    input.send_keys(text).await.expect("type");
}

/// Clicks the first element matching a CSS selector.
pub(super) async fn click(c: &Client, css: &str) {
    let element = c.find(Locator::Css(css)).await.expect("element");
    element.click().await.expect("click");
}

pub(super) async fn base(c: &Client) -> String {
    let url = c.current_url().await.expect("url");
    format!("{}://{}", url.scheme(), url.authority())
}

pub(super) async fn sign_in(c: &Client, app: &TestApp, username: &str) {
    c.goto(&app.url("/signin")).await.expect("sign-in page");
    type_into(c, "username", username).await;
    type_into(c, "password", PASSWORD).await;
    click(c, "button[type=submit]").await;
    // Site roles land on their work list.
    heading(c, |h| {
        h.starts_with("Participants at KS") || h.starts_with("Work")
    })
    .await;
}

/// Sets form controls by name (selects, text and number inputs) on the current page.
pub(super) async fn set_by_name(c: &Client, values: &[(String, String)]) {
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
pub(super) async fn wait_for(
    c: &Client,
    locator: Locator<'_>,
    what: &str,
) -> fantoccini::elements::Element {
    for _ in 0..150 {
        if let Ok(e) = c.find(locator).await {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not on the page");
}

/// Scrolls the element with this id to the top of the window (for screenshots).
pub(super) async fn scroll_to(c: &Client, id: &str) {
    c.execute(
        "const e = document.getElementById(arguments[0]); if (e) { e.scrollIntoView(); }",
        vec![json!(id)],
    )
    .await
    .expect("scroll");
}

/// Waits (up to a minute: quantification reads a whole PET) for `?done=`.
pub(super) async fn after_slow_submit(c: &Client, what: &str) {
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

/// After "Read and quantify": the exam page says the job is queued or running and reloads
/// itself until the worker has recorded the quantification; waits (bounded) for the
/// candidates to appear without reloading it here.
pub(super) async fn after_quantification(c: &Client) {
    after_slow_submit(c, "quantification").await;
    for _ in 0..240 {
        if let Ok(e) = c
            .find(Locator::Css("#imaging-job[data-state=failed]"))
            .await
        {
            panic!(
                "the quantification failed: {}",
                e.text().await.unwrap_or_default()
            );
        }
        let open = c
            .find(Locator::Css(
                "#imaging-job[data-state=queued], #imaging-job[data-state=running]",
            ))
            .await
            .is_ok();
        if !open && c.find(Locator::Id("candidates")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the exam page did not show the quantification within a minute");
}

/// Fills and submits a command's generic form with the data of a protocol command.
pub(super) async fn submit_command(
    c: &Client,
    id: &str,
    cmd: &protocol::Command,
    password: Option<&str>,
) {
    let (spec, data) = trial::commands::for_command(cmd).expect("a form for the command");
    submit_form(c, id, spec.name, &data, password).await;
}

pub(super) async fn overview_text(c: &Client, app: &TestApp, id: &str, css: &str) -> String {
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
/// records the biopsy `biopsy_after` the injection and the pathologist reports `ihc` the
/// day after the biopsy, both through the web forms. Returns her id and the PET1 time.
pub(super) async fn biopsied_and_reported(
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
        (pet1 + biopsy_after + chrono::Duration::days(1)).date_naive(),
    );
    submit_command(&p, &id, &report, None).await;
    p.close().await.expect("close");
    (id, pet1)
}

/// Sets controls by name inside one form (the page has two forms with a `scan_date`).
pub(super) async fn set_in_form(c: &Client, form: &str, values: &[(&str, &str)]) {
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
pub(super) async fn wait_for_count(c: &Client, css: &str, n: usize) {
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

pub(super) async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Tolerant of a page that is being replaced: an element gone stale reads as empty.
    for e in c.find_all(Locator::Css(css)).await.unwrap_or_default() {
        out.push(e.text().await.unwrap_or_default());
    }
    out
}

/// The browser console's entries since the last read (chromedriver's log endpoint).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}

/// The console's error entries (level SEVERE) since the last read.
pub(super) async fn console_errors(c: &Client) -> Vec<String> {
    let log = c.issue_cmd(BrowserLog).await.expect("the browser log");
    log.as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["level"] == "SEVERE")
                .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}
