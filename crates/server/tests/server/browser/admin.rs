//! The administrator in the browser: she lands on the administration pages, creates a
//! user, deactivates it and puts a settings change in force with its reason; anyone else
//! gets the 403 page there.

use super::*;

/// Signs in through the sign-in page and waits for the start page's heading.
async fn sign_in_to(c: &Client, app: &TestApp, username: &str, heading_starts: &str) {
    c.goto(&app.url("/signin")).await.expect("sign-in page");
    type_into(c, "username", username).await;
    type_into(c, "password", PASSWORD).await;
    click(c, "button[type=submit]").await;
    heading(c, |h| h.starts_with(heading_starts)).await;
}

/// The confirmation the page shows after a save.
async fn saved(c: &Client) -> String {
    wait_for(c, Locator::Id("saved"), "the confirmation")
        .await
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn the_administrator_manages_users_and_settings_and_no_one_else_may() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::start().await;
    let c = connect(&driver).await;
    sign_in_to(&c, &app, "admin", "Administration").await;
    let url = c.current_url().await.expect("url");
    assert_eq!(url.path(), "/admin");

    // A new research nurse at UU.
    c.goto(&app.url("/admin/users")).await.expect("users");
    type_into(&c, "new-user-username", "karin.nurse").await;
    type_into(&c, "new-user-display_name", "Karin Nurse").await;
    set_by_name(
        &c,
        &[
            ("role".into(), "research_nurse".into()),
            ("site".into(), "UU".into()),
        ],
    )
    .await;
    type_into(&c, "new-user-password", "karin-starts-here-1").await;
    click(&c, "form.card button[type=submit]").await;
    after_submit(&c, "new user").await;
    assert!(saved(&c).await.contains("user created"));
    let row = app.state.store().user("karin.nurse").await.unwrap();
    assert!(row.is_some_and(|u| u.active && u.site.as_deref() == Some("UU")));

    // Deactivated, with a reason.
    click(&c, "a[href='/admin/users/karin.nurse']").await;
    heading(&c, |h| h == "User karin.nurse").await;
    type_into(&c, "deactivate-reason", "left the study team").await;
    click(&c, "form[action$='/deactivate'] button[type=submit]").await;
    after_submit(&c, "deactivation").await;
    assert!(saved(&c).await.contains("user deactivated"));
    let row = app.state.store().user("karin.nurse").await.unwrap();
    assert!(row.is_some_and(|u| !u.active));

    // A settings change: the next version, a new protocol version, with a reason.
    c.goto(&app.url("/admin/settings")).await.expect("settings");
    let r = c
        .execute(
            "const t = document.getElementById('settings-settings'); \
             const s = JSON.parse(t.value); s.protocol_version = 'amendment 2'; \
             t.value = JSON.stringify(s, null, 2); return s.version;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(r, json!(2), "the form starts from the next version");
    type_into(
        &c,
        "settings-reason",
        "amendment 2 approved by the ethics board",
    )
    .await;
    click(&c, "form.card button[type=submit]").await;
    after_submit(&c, "settings change").await;
    assert!(saved(&c).await.contains("settings changed"));
    let history = c
        .find(Locator::Css("table"))
        .await
        .expect("history")
        .text()
        .await
        .expect("text");
    assert!(
        history.contains("v2") && history.contains("amendment 2 approved by the ethics board"),
        "{history}"
    );
    let s = app.state.trial.settings().await.expect("settings");
    assert_eq!((s.version, s.protocol_version.as_str()), (2, "amendment 2"));
    screenshot(&c, "admin-settings").await;
    c.close().await.expect("close");

    // A research nurse gets the 403 page there, and her start page is the participants.
    let n = connect(&driver).await;
    sign_in_to(&n, &app, "nurse.ks", "Work").await;
    for page in ["/admin", "/admin/users", "/admin/settings"] {
        n.goto(&app.url(page)).await.expect("page");
        heading(&n, |h| h == "Forbidden").await;
    }
    n.close().await.expect("close");
}
