//! Credentials, failure counts, session inactivity and audit-only appends.

use chrono::Duration;
use store::{CredentialRow, Projection, SessionRow, Store};

use crate::support::{self, event, meta, store_tests, t0};

store_tests!(
    credentials_are_set_by_an_append_and_never_logged,
    failures_count_up_and_clear,
    idle_sessions_are_purged_and_a_users_sessions_end_together,
    records_at_the_end_of_a_stream_never_conflict,
);

fn credential(hash: &str, must_change: bool) -> Projection {
    Projection::Credential(CredentialRow {
        username: "anna".into(),
        password_hash: hash.into(),
        must_change,
        failures: 0,
    })
}

async fn with_user(store: &Store) {
    store
        .append(
            "user:anna",
            0,
            &[event("UserCreated", 1)],
            &meta(),
            &[
                support::user("anna", Some("SE01")),
                credential("$argon2id$first", false),
            ],
        )
        .await
        .unwrap();
}

async fn credentials_are_set_by_an_append_and_never_logged(store: Store) {
    with_user(&store).await;
    let c = store.credential("anna").await.unwrap().unwrap();
    assert_eq!(c.password_hash, "$argon2id$first");
    assert!(!c.must_change);
    store
        .append(
            "user:anna",
            1,
            &[event("PasswordReset", 2)],
            &meta(),
            &[credential("$argon2id$second", true)],
        )
        .await
        .unwrap();
    let c = store.credential("anna").await.unwrap().unwrap();
    assert_eq!(c.password_hash, "$argon2id$second");
    assert!(c.must_change);
    assert!(
        !format!("{c:?}").contains("argon2"),
        "no hash in Debug output"
    );
    for e in store.read_all(0, 100).await.unwrap() {
        assert!(!e.payload.to_string().contains("argon2"));
    }
    assert!(store.credential("bob").await.unwrap().is_none());
}

async fn failures_count_up_and_clear(store: Store) {
    with_user(&store).await;
    assert_eq!(store.record_failure("anna").await.unwrap(), Some(1));
    assert_eq!(store.record_failure("anna").await.unwrap(), Some(2));
    assert_eq!(store.record_failure("bob").await.unwrap(), None);
    store.clear_failures("anna").await.unwrap();
    assert_eq!(store.credential("anna").await.unwrap().unwrap().failures, 0);
}

fn session(token: &str) -> SessionRow {
    SessionRow {
        token_hash: token.into(),
        username: "anna".into(),
        csrf_token: format!("csrf-{token}"),
        created_at: t0(),
        expires_at: t0() + Duration::hours(12),
        last_seen_at: t0(),
    }
}

async fn idle_sessions_are_purged_and_a_users_sessions_end_together(store: Store) {
    with_user(&store).await;
    for t in ["a", "b", "c"] {
        store.create_session(&session(t)).await.unwrap();
    }
    store
        .touch_session("b", t0() + Duration::minutes(40))
        .await
        .unwrap();
    let now = t0() + Duration::minutes(45);
    let idle_since = now - Duration::minutes(30);
    assert_eq!(store.purge_sessions(now, idle_since).await.unwrap(), 2);
    let b = store.session("b").await.unwrap().unwrap();
    assert_eq!(
        b.last_seen_at,
        store::hash::truncate_to_micros(t0() + Duration::minutes(40))
    );
    assert_eq!(store.delete_sessions_of("anna").await.unwrap(), 1);
    assert!(store.session("b").await.unwrap().is_none());
}

async fn records_at_the_end_of_a_stream_never_conflict(store: Store) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.append_at_end("access", &[event("sign_in_failed", i)], &meta())
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(store.stream_version("access").await.unwrap(), 8);
    assert!(store.verify_chain().await.unwrap().first_bad.is_none());
}
