//! The administrator's pages over HTTP: `/` leads each role to its start page, every
//! administration page refuses anyone else with the 403 page, and a refused form comes
//! back with what was typed and the refusal at the field it concerns; a saved one is
//! confirmed and its change is in the store.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Answer, Client, TestApp};

/// Posts a page form (with the session's CSRF token) and follows the redirect.
async fn submit(c: &Client, path: &str, fields: &[(&str, &str)]) -> Answer {
    let mut pairs = vec![("csrf", c.csrf.as_str())];
    pairs.extend_from_slice(fields);
    let body = serde_urlencoded::to_string(&pairs).expect("form");
    c.post_raw(path, "application/x-www-form-urlencoded", body)
        .await
}

/// The id of the input whose field holds the page's refusal (`id="problem"`): the
/// `label for` nearest before it.
fn field_of_refusal(html: &str) -> String {
    let at = html
        .find("id=\"problem\"")
        .unwrap_or_else(|| panic!("no refusal on the page:\n{html}"));
    let before = &html[..at];
    let label = before
        .rfind("<label for=\"")
        .unwrap_or_else(|| panic!("the refusal is at no field:\n{html}"));
    let rest = &before[label + "<label for=\"".len()..];
    rest[..rest.find('"').expect("label end")].to_string()
}

/// Where a GET of `path` ends after the redirects.
async fn lands_on(c: &Client, path: &str) -> String {
    let r = c
        .http
        .get(format!("{}{path}", c.base))
        .send()
        .await
        .expect("request");
    r.url().path().to_string()
}

#[tokio::test]
async fn each_role_lands_on_its_own_start_page() {
    let app = TestApp::start().await;
    assert_eq!(lands_on(&app.client("admin").await, "/").await, "/admin");
    let admin = app.client("admin").await.get("/admin").await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.text);
    assert!(admin.text.contains("Administration"), "{}", admin.text);
    // Site staff, the monitor and the data manager land on their work list; the
    // statistician and the study director on the study dashboard.
    for (who, start) in [
        ("nurse.ks", "/work"),
        ("monitor", "/work"),
        ("stat", "/dashboard"),
    ] {
        assert_eq!(lands_on(&app.client(who).await, "/").await, start, "{who}");
    }
    // Not signed in: to the sign-in page.
    assert_eq!(lands_on(&app.anonymous(), "/").await, "/signin");
}

#[tokio::test]
async fn every_administration_page_refuses_anyone_but_the_administrator() {
    let app = TestApp::start().await;
    let pages = [
        "/admin",
        "/admin/users",
        "/admin/users/nurse.ks",
        "/admin/sites",
        "/admin/settings",
        "/admin/settings/1",
    ];
    for who in ["nurse.ks", "inv.ks", "monitor", "stat"] {
        let c = app.client(who).await;
        for page in pages {
            let r = c.get(page).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who} {page}: {}", r.text);
            assert!(r.text.contains("may not do this"), "{who} {page}");
        }
        let r = submit(
            &c,
            "/admin/users",
            &[
                ("username", "sneaky"),
                ("role", "monitor"),
                ("password", "a-long-enough-password"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.text);
        let r = submit(&c, "/admin/users/nurse.uu/deactivate", &[("reason", "x")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.text);
        let r = submit(&c, "/admin/sites", &[("code", "LU"), ("name", "Lund")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.text);
    }
    let store = app.state.store();
    assert!(store.user("sneaky").await.unwrap().is_none());
    assert!(store.user("nurse.uu").await.unwrap().unwrap().active);
    assert!(store.site("LU").await.unwrap().is_none());
}

#[tokio::test]
async fn a_refused_new_user_shows_the_refusal_at_its_field_and_a_saved_one_is_confirmed() {
    let app = TestApp::start().await;
    let admin = app.client("admin").await;
    // A common password: refused at the password field, the name typed is kept, the
    // password is never sent back.
    let r = submit(
        &admin,
        "/admin/users",
        &[
            ("username", "eva.nurse"),
            ("display_name", "Eva Nurse"),
            ("role", "research_nurse"),
            ("site", "KS"),
            ("password", "Password1234"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(field_of_refusal(&r.text), "new-user-password");
    assert!(r.text.contains("common passwords"), "{}", r.text);
    assert!(
        r.text.contains("value=\"eva.nurse\""),
        "the name typed is kept"
    );
    assert!(
        !r.text.contains("Password1234"),
        "a password is never echoed"
    );
    // A site-bound role without a site: at the site field.
    let r = submit(
        &admin,
        "/admin/users",
        &[
            ("username", "eva.nurse"),
            ("role", "research_nurse"),
            ("site", ""),
            ("password", "eva-has-a-long-one-7"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(field_of_refusal(&r.text), "new-user-site");
    assert!(app.state.store().user("eva.nurse").await.unwrap().is_none());

    let r = submit(
        &admin,
        "/admin/users",
        &[
            ("username", "eva.nurse"),
            ("display_name", "Eva Nurse"),
            ("role", "research_nurse"),
            ("site", "KS"),
            ("password", "eva-has-a-long-one-7"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Saved: user created."), "{}", r.text);
    assert!(r.text.contains("href=\"/admin/users/eva.nurse\""), "listed");
    let row = app.state.store().user("eva.nurse").await.unwrap().unwrap();
    assert_eq!(
        (row.role.as_str(), row.site.as_deref()),
        ("research_nurse", Some("KS"))
    );
    // The same name again: at the user name field.
    let r = submit(
        &admin,
        "/admin/users",
        &[
            ("username", "eva.nurse"),
            ("role", "monitor"),
            ("password", "eva-has-a-long-one-7"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(field_of_refusal(&r.text), "new-user-username");
    assert!(r.text.contains("exists already"), "{}", r.text);
}

#[tokio::test]
async fn account_changes_need_a_reason_and_keep_the_account_rules() {
    let app = TestApp::start().await;
    let admin = app.client("admin").await;
    let r = submit(
        &admin,
        "/admin/users/nurse.uu/deactivate",
        &[("reason", " ")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(field_of_refusal(&r.text), "deactivate-reason");
    assert!(r.text.contains("needs a reason"), "{}", r.text);
    assert!(
        app.state
            .store()
            .user("nurse.uu")
            .await
            .unwrap()
            .unwrap()
            .active
    );
    // The administrator may not deactivate herself (the account rule of the trial layer).
    let r = submit(
        &admin,
        "/admin/users/admin/deactivate",
        &[("reason", "test")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("your own account"), "{}", r.text);
    // A study-wide role given a site: at the site field of the role form.
    let r = submit(
        &admin,
        "/admin/users/nurse.uu/role",
        &[("role", "monitor"), ("site", "UU"), ("reason", "new job")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(field_of_refusal(&r.text), "role-site");

    let r = submit(
        &admin,
        "/admin/users/nurse.uu/deactivate",
        &[("reason", "left the study")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Saved: user deactivated."), "{}", r.text);
    assert!(
        r.text.contains("Reactivate"),
        "the page offers the way back"
    );
    assert!(
        !app.state
            .store()
            .user("nurse.uu")
            .await
            .unwrap()
            .unwrap()
            .active
    );
    let sign_in = app
        .anonymous()
        .post(
            "/api/v1/session",
            &json!({"username": "nurse.uu", "password": crate::common::PASSWORD}),
        )
        .await;
    assert_eq!(sign_in.status, StatusCode::UNAUTHORIZED, "{}", sign_in.text);
    let list = admin.get("/admin/users").await;
    assert!(list.text.contains("deactivated"), "{}", list.text);
}

#[tokio::test]
async fn a_site_is_added_once() {
    let app = TestApp::start().await;
    let admin = app.client("admin").await;
    let r = submit(&admin, "/admin/sites", &[("code", "KS"), ("name", "Again")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(field_of_refusal(&r.text), "site-code");
    let r = submit(&admin, "/admin/sites", &[("code", "LU"), ("name", " ")]).await;
    assert_eq!(field_of_refusal(&r.text), "site-name");
    let r = submit(
        &admin,
        "/admin/sites",
        &[("code", "LU"), ("name", "Skåne University Hospital")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Saved: site added."), "{}", r.text);
    assert!(r.text.contains("Skåne University Hospital"), "{}", r.text);
    assert!(app.state.store().site("LU").await.unwrap().is_some());
}

#[tokio::test]
async fn a_settings_change_is_refused_at_its_field_then_kept_with_who_when_and_why() {
    let app = TestApp::start().await;
    // Decisions under version 1: a participant's eligibility evaluations.
    app.eligible("KS").await;
    let admin = app.client("admin").await;
    let page = admin.get("/admin/settings").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let current = app.state.trial.settings().await.unwrap();
    assert_eq!(current.version, 1);
    let mut next = current.clone();
    next.version = 2;
    next.protocol_version = "amendment 1".into();
    let text = serde_json::to_string(&next).unwrap();

    let r = submit(
        &admin,
        "/admin/settings",
        &[("settings", &text), ("reason", "")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(field_of_refusal(&r.text), "settings-reason");
    // The version not raised: the protocol's settings rule, at the settings field.
    let same = serde_json::to_string(&current).unwrap();
    let r = submit(
        &admin,
        "/admin/settings",
        &[("settings", &same), ("reason", "amendment 1")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(field_of_refusal(&r.text), "settings-settings");
    assert!(
        r.text.contains("raise the version by exactly one"),
        "{}",
        r.text
    );
    assert_eq!(app.state.trial.settings().await.unwrap().version, 1);

    let r = submit(
        &admin,
        "/admin/settings",
        &[("settings", &text), ("reason", "amendment 1 approved")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Saved: settings changed."), "{}", r.text);
    assert!(r.text.contains("amendment 1 approved"), "{}", r.text);
    assert_eq!(app.state.trial.settings().await.unwrap().version, 2);
    let events = app.state.store().read_stream("settings").await.unwrap();
    let last = events.last().expect("the change");
    assert_eq!(last.meta.actor, "admin");
    assert_eq!(last.meta.reason.as_deref(), Some("amendment 1 approved"));

    // The history row of version 1 counts the decisions made under it: counted here
    // from the log's events that name settings version 1.
    let all = app.state.store().read_all(0, 100_000).await.unwrap();
    let under_v1 = all
        .iter()
        .filter(|e| e.payload.to_string().contains("\"settings_version\":1"))
        .count();
    assert!(under_v1 > 0, "decisions under version 1");
    let v1_row = r
        .text
        .split("href=\"/admin/settings/1\"")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("the row of version 1");
    assert!(
        v1_row.contains(&format!(">{under_v1}<")),
        "{under_v1} in {v1_row}"
    );
    let v2 = admin.get("/admin/settings/2").await;
    assert_eq!(v2.status, StatusCode::OK, "{}", v2.text);
    assert!(v2.text.contains("amendment 1 approved") && v2.text.contains("admin"));
}

#[tokio::test]
async fn administration_over_the_api_is_the_administrators_and_keeps_the_rules() {
    let app = TestApp::start().await;
    app.eligible("KS").await;
    let admin = app.client("admin").await;
    let monitor = app.client("monitor").await;
    for path in [
        "/api/v1/admin/users",
        "/api/v1/admin/sites",
        "/api/v1/admin/settings",
    ] {
        assert_eq!(
            monitor.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let r = monitor
        .post(
            "/api/v1/admin/sites",
            &json!({"code": "LU", "name": "Skåne University Hospital"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    let r = admin
        .post(
            "/api/v1/admin/sites",
            &json!({"code": "LU", "name": "Skåne University Hospital"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let sites = admin.get("/api/v1/admin/sites").await.body;
    assert!(sites.as_array().unwrap().iter().any(|s| s["code"] == "LU"));
    let r = admin
        .post(
            "/api/v1/admin/users",
            &json!({"username": "lu.nurse", "role": "research_nurse", "site": "LU", "password": "Password1234"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = admin
        .post(
            "/api/v1/admin/users",
            &json!({"username": "lu.nurse", "role": "research_nurse", "site": "LU", "password": "lund-is-south-77"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let users = admin.get("/api/v1/admin/users").await.body;
    let lu = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "lu.nurse")
        .expect("listed");
    assert_eq!(
        (&lu["site"], &lu["active"], &lu["locked"]),
        (&json!("LU"), &json!(true), &json!(false))
    );

    // The settings rule names itself; a change is kept with who and why.
    let mut s = app.state.trial.settings().await.unwrap();
    let r = admin
        .post(
            "/api/v1/admin/settings",
            &json!({"settings": s, "reason": "amendment 1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["rule"], "SETTINGS", "{}", r.text);
    s.version += 1;
    let r = admin
        .post(
            "/api/v1/admin/settings",
            &json!({"settings": s, "reason": "amendment 1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let h = admin.get("/api/v1/admin/settings").await.body;
    assert_eq!(h["in_force"], 2, "{h}");
    assert_eq!(h["versions"][1]["reason"], "amendment 1", "{h}");
    assert_eq!(h["versions"][1]["changed_by"], "admin", "{h}");
    assert!(h["versions"][0]["changed_by"].is_null(), "{h}");
    assert!(
        h["decisions_by_version"]["1"].as_u64().unwrap_or(0) > 0,
        "{h}"
    );
}
