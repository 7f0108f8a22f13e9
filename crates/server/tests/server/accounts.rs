//! Sign-in protection and accounts with a lifecycle, over HTTP: lockout after failed
//! passwords and the administrator's unlock, throttling, session inactivity, the forced
//! password change after a reset, deactivation, the password policy, audited failed
//! signatures, and a log that holds no password hash and rebuilds the users table.

use std::sync::Arc;

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::AppState;
use trial::admin::NewUser;
use trial::{AccountPolicy, Actor, FixedClock, Trial};

use crate::common::{Answer, Client, PASSWORD, TestApp, USERS, present};

/// A server like [`TestApp`]'s, under `policy`, on 127.0.0.1 with peer addresses.
struct PolicyApp {
    base: String,
    state: AppState,
    clock: Arc<FixedClock>,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for PolicyApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl PolicyApp {
    async fn start(policy: AccountPolicy) -> PolicyApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store::Store::open_data_dir(dir.path())
            .await
            .expect("store");
        let clock = Arc::new(FixedClock::new(present()));
        let trial = Trial::new(store)
            .with_clock(clock.clone())
            .with_account_policy(policy);
        let cli = Actor::command_line();
        trial
            .add_site(&cli, "KS", "Karolinska")
            .await
            .expect("site");
        for (username, role, site) in USERS.iter().filter(|u| u.2 != Some("UU")) {
            let user = NewUser {
                username: (*username).into(),
                display_name: (*username).into(),
                role: *role,
                site: site.map(Into::into),
                password: PASSWORD.into(),
            };
            trial.add_user(&cli, user).await.expect("user");
        }
        let state = AppState::from_trial(trial, false);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let s = state.clone();
        let server = tokio::spawn(async move {
            let _ = server::serve_on(s, listener).await;
        });
        PolicyApp {
            base,
            state,
            clock,
            _dir: dir,
            server,
        }
    }
}

/// Signs in over the API; returns the answer and, on success, a client with the session.
async fn sign_in(base: &str, username: &str, password: &str) -> (Answer, Option<Client>) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let r = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("sign in");
    let status = r.status();
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = r.text().await.unwrap_or_default();
    let mut body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if let Some(after) = retry_after {
        body["retry_after_header"] = json!(after);
    }
    let client = (status == StatusCode::OK).then(|| Client {
        http,
        base: base.to_string(),
        csrf: body["csrf_token"].as_str().unwrap_or_default().to_string(),
    });
    (Answer { status, body, text }, client)
}

/// Every event of the log, in order.
async fn log(trial: &Trial) -> Vec<store::RecordedEvent> {
    trial.store().read_all(0, 100_000).await.expect("log")
}

fn of_kind<'a>(events: &'a [store::RecordedEvent], kind: &str) -> Vec<&'a store::RecordedEvent> {
    events.iter().filter(|e| e.kind == kind).collect()
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it() {
    let app = TestApp::start().await;
    let base = app.url("");
    for _ in 0..5 {
        let (r, _) = sign_in(&base, "nurse.ks", "not-her-password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    let (r, _) = sign_in(&base, "nurse.ks", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "locked: even the right password is refused"
    );
    let events = log(&app.state.trial).await;
    let failed = of_kind(&events, "sign_in_failed");
    assert_eq!(failed.len(), 6, "five wrong passwords and one while locked");
    for e in &failed {
        assert_eq!(e.payload["username"], "nurse.ks");
        assert_eq!(e.payload["address"], "127.0.0.1", "the client's address");
        assert_eq!(e.meta.recorded_at, present());
    }
    assert_eq!(failed[5].payload["outcome"], "locked");
    let locked = of_kind(&events, "user_locked");
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0].stream, "user/nurse.ks");
    assert_eq!(locked[0].payload["address"], "127.0.0.1");

    let admin = app.client("admin").await;
    let r = admin
        .post(
            "/api/v1/admin/users/nurse.ks/unlock",
            &json!({"reason": ""}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "an unlock needs a reason"
    );
    let r = admin
        .post(
            "/api/v1/admin/users/nurse.ks/unlock",
            &json!({"reason": "she called the help desk"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let (r, client) = sign_in(&base, "nurse.ks", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(client.is_some());
    let events = log(&app.state.trial).await;
    let unlocked = of_kind(&events, "user_unlocked");
    assert_eq!(unlocked.len(), 1);
    assert_eq!(unlocked[0].meta.actor, "admin");
    assert_eq!(
        unlocked[0].meta.reason.as_deref(),
        Some("she called the help desk")
    );
    // The count starts again: four more wrong passwords (once the per-account throttle's
    // window of the first six has passed) do not lock her.
    app.clock.advance(Duration::minutes(16));
    for _ in 0..4 {
        sign_in(&base, "nurse.ks", "not-her-password").await;
    }
    let (r, _) = sign_in(&base, "nurse.ks", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn too_many_failures_from_one_address_are_answered_429_with_retry_after() {
    let app = PolicyApp::start(AccountPolicy {
        per_address_limit: 3,
        throttle_window: std::time::Duration::from_secs(60),
        ..AccountPolicy::default()
    })
    .await;
    for name in ["nobody.a", "nobody.b", "nobody.c"] {
        let (r, _) = sign_in(&app.base, name, "whatever-password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    let (r, _) = sign_in(&app.base, "nurse.ks", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(r.body["error"], "throttled");
    assert_eq!(r.body["retry_after_header"], "61");
    app.clock.advance(Duration::seconds(61));
    let (r, _) = sign_in(&app.base, "nurse.ks", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the window has passed: {}",
        r.text
    );
    let events = log(&app.state.trial).await;
    let failed = of_kind(&events, "sign_in_failed");
    assert_eq!(failed.len(), 3, "the throttled attempt checked no password");
    assert!(
        failed
            .iter()
            .all(|e| e.payload["outcome"] == "unknown_user")
    );
}

#[tokio::test]
async fn an_idle_session_ends_and_is_purged_but_a_busy_one_lives_on() {
    let app = TestApp::start().await;
    let busy = app.client("nurse.ks").await;
    let idle = app.client("monitor").await;
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(20));
        assert_eq!(busy.get("/api/v1/me").await.status, StatusCode::OK);
    }
    assert_eq!(
        idle.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED,
        "60 minutes without a request"
    );
    // Signing in purges what has expired or idled.
    let _ = app.client("stat").await;
    app.clock.advance(Duration::minutes(31));
    let _ = app.client("inv.ks").await;
    assert_eq!(
        busy.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let left = app
        .state
        .store()
        .purge_sessions(present() - Duration::days(1), present() - Duration::days(1))
        .await
        .expect("purge");
    assert_eq!(left, 0, "nothing old is left to purge");
}

#[tokio::test]
async fn a_reset_password_must_be_changed_before_anything_else_and_no_hash_is_logged() {
    let app = TestApp::start().await;
    let admin = app.client("admin").await;
    let nurse = app.client("nurse.ks").await;
    let body = json!({"new_password": "temporary-pass-77", "reason": "forgotten password"});
    let r = nurse
        .post("/api/v1/admin/users/inv.ks/reset-password", &body)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only an administrator");
    let r = admin
        .post("/api/v1/admin/users/nurse.ks/reset-password", &body)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        nurse.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED,
        "a reset ends her sessions"
    );
    let (r, _) = sign_in(&app.url(""), "nurse.ks", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let (r, nurse) = sign_in(&app.url(""), "nurse.ks", "temporary-pass-77").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["must_change_password"], true);
    let nurse = nurse.expect("session");
    let r = nurse.get("/api/v1/participants").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "nothing before the change");
    assert!(r.text.contains("change it first"), "{}", r.text);
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let r = nurse
        .post(
            "/api/v1/account/password",
            &change("wrong-current-1", "a-brand-new-secret"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = nurse
        .post(
            "/api/v1/account/password",
            &change("temporary-pass-77", "short"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("at least 12 characters"), "{}", r.text);
    let r = nurse
        .post(
            "/api/v1/account/password",
            &change("temporary-pass-77", "Password1234"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("common passwords"), "{}", r.text);
    let r = nurse
        .post(
            "/api/v1/account/password",
            &change("temporary-pass-77", "a-brand-new-secret"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        nurse.get("/api/v1/participants").await.status,
        StatusCode::OK
    );

    let events = log(&app.state.trial).await;
    let reset = of_kind(&events, "password_reset");
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0].meta.actor, "admin");
    assert_eq!(reset[0].meta.reason.as_deref(), Some("forgotten password"));
    let changed = of_kind(&events, "password_changed");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].meta.actor, "nurse.ks");
    assert_eq!(of_kind(&events, "password_change_failed").len(), 1);
    for e in &events {
        let text = e.payload.to_string();
        assert!(
            !text.contains("$argon2"),
            "a hash in event {}: {text}",
            e.seq
        );
        assert!(!text.contains("temporary-pass-77") && !text.contains("a-brand-new-secret"));
    }
}

#[tokio::test]
async fn a_deactivated_account_cannot_sign_in_until_reactivated() {
    let app = TestApp::start().await;
    let admin = app.client("admin").await;
    let nurse = app.client("nurse.ks").await;
    let reason = json!({"reason": "left the study team"});
    let r = admin
        .post("/api/v1/admin/users/nurse.ks/deactivate", &reason)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        nurse.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let (r, _) = sign_in(&app.url(""), "nurse.ks", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let events = log(&app.state.trial).await;
    let failed = of_kind(&events, "sign_in_failed");
    assert_eq!(
        failed.last().map(|e| &e.payload["outcome"]),
        Some(&json!("deactivated"))
    );
    let deactivated = of_kind(&events, "user_deactivated");
    assert_eq!(
        deactivated[0].meta.reason.as_deref(),
        Some("left the study team")
    );
    let r = admin
        .post(
            "/api/v1/admin/users/nurse.ks/reactivate",
            &json!({"reason": "back"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let (r, _) = sign_in(&app.url(""), "nurse.ks", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn a_wrong_signature_password_is_audited_with_the_address_and_counts_towards_lockout() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let inv = app.client("inv.ks").await;
    for _ in 0..5 {
        let v = inv.version(&id).await;
        let r = inv
            .command(&id, "attestation", v, json!({"criterion": "EX1"}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "unsigned: {}", r.text);
        let body = json!({
            "expected_version": v,
            "data": {"criterion": "EX1"},
            "signature": {"password": "not-my-password"},
        });
        let r = inv
            .post(
                &format!("/api/v1/participants/{id}/commands/attestation"),
                &body,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    }
    let events = log(&app.state.trial).await;
    let failed = of_kind(&events, "signature_failed");
    assert_eq!(failed.len(), 5);
    assert_eq!(failed[0].meta.actor, "inv.ks");
    assert_eq!(failed[0].payload["address"], "127.0.0.1");
    assert!(
        failed[0].payload["signing"].is_string(),
        "what she was signing"
    );
    assert_eq!(
        of_kind(&events, "user_locked").len(),
        1,
        "five wrong signatures lock"
    );
    assert_eq!(
        inv.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED,
        "the lock ends her session"
    );
}

#[tokio::test]
async fn role_and_site_changes_are_audited_and_a_tampered_users_row_is_reported() {
    let app = TestApp::start().await;
    let admin = app.client("admin").await;
    let r = admin
        .post(
            "/api/v1/admin/users/nurse.uu/site",
            &json!({"site": "KS", "reason": "moved to Karolinska"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = admin
        .post(
            "/api/v1/admin/users/monitor/role",
            &json!({"role": "data_manager", "reason": "new duties"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = admin
        .post(
            "/api/v1/admin/users/stat/role",
            &json!({"role": "investigator", "reason": "no site"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a site role needs a site"
    );
    let nurse = app.client("nurse.uu").await;
    assert_eq!(nurse.get("/api/v1/me").await.body["site"], "KS");
    let trial = &app.state.trial;
    assert_eq!(
        trial.users_differing_from_log().await.expect("compare"),
        Vec::<String>::new()
    );

    app.state
        .store()
        .execute_raw_for_tests("UPDATE users SET role = 'investigator' WHERE username = 'stat'")
        .await
        .expect("tamper");
    let differing = trial.users_differing_from_log().await.expect("compare");
    assert_eq!(differing.len(), 1, "{differing:?}");
    assert!(differing[0].starts_with("user stat:"), "{differing:?}");
    assert!(differing[0].contains("role investigator"), "{differing:?}");
}

#[tokio::test]
async fn after_a_reset_the_pages_lead_to_the_password_page_and_nowhere_else() {
    let app = TestApp::start().await;
    app.state
        .trial
        .reset_password_as(
            &Actor::command_line(),
            "nurse.ks",
            "temporary-pass-77",
            "new phone",
        )
        .await
        .expect("reset");
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = http
        .post(app.url("/signin"))
        .form(&[("username", "nurse.ks"), ("password", "temporary-pass-77")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.headers()["location"], "/account/password");
    let r = http
        .get(app.url("/participants"))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/account/password");
    let page = http
        .get(app.url("/account/password"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("choose your own"), "{page}");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf field")
        .to_string();
    let r = http
        .post(app.url("/account/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current", "temporary-pass-77"),
            ("new", "my-own-secret-words"),
        ])
        .send()
        .await
        .expect("change");
    // Confirmed on the password page, with the way on to her start page.
    assert_eq!(r.headers()["location"], "/account/password?done=password");
    let confirmed = http
        .get(app.url("/account/password?done=password"))
        .send()
        .await
        .expect("confirmation")
        .text()
        .await
        .expect("text");
    assert!(confirmed.contains("Saved: password"), "{confirmed}");
    assert!(confirmed.contains("href=\"/work\""), "{confirmed}");
    let r = http
        .get(app.url("/participants"))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_personal_identity_number_typed_as_a_user_name_is_not_recorded() {
    let app = TestApp::start().await;
    let base = app.url("");
    let (r, _) = sign_in(&base, "19850312-1231", "some-password").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let events = log(&app.state.trial).await;
    let failed = of_kind(&events, "sign_in_failed");
    assert_eq!(failed.len(), 1, "the failure itself is recorded");
    assert_eq!(failed[0].payload["username"], Value::Null);
    assert_eq!(failed[0].payload["address"], "127.0.0.1");
    for e in &events {
        assert!(
            !e.payload.to_string().contains("0312-1231"),
            "event {}",
            e.seq
        );
    }
}
