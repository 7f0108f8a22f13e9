//! Login sessions: stored, found, ended, purged.

use chrono::Duration;
use store::{CredentialRow, Projection, SessionRow, Store};

use crate::support::{self, event, meta, store_tests, t0};

store_tests!(
    sessions_round_trip_and_end,
    expired_sessions_are_purged_and_live_ones_kept,
    a_session_needs_an_existing_user_and_a_new_token,
    a_session_is_read_with_its_user_and_her_password_state,
    two_streams_versions_are_read_together,
);

fn session(token: &str, expires_in: Duration) -> SessionRow {
    SessionRow {
        token_hash: token.into(),
        username: "anna".into(),
        csrf_token: format!("csrf-{token}"),
        created_at: t0(),
        expires_at: t0() + expires_in,
        last_seen_at: t0(),
    }
}

async fn with_user(store: &Store) {
    store
        .append(
            "user:anna",
            0,
            &[event("UserCreated", 1)],
            &meta(),
            &[support::user("anna", Some("SE01"))],
        )
        .await
        .unwrap();
}

async fn sessions_round_trip_and_end(store: Store) {
    with_user(&store).await;
    let s = session("tok1", Duration::hours(8));
    store.create_session(&s).await.unwrap();
    let found = store.session("tok1").await.unwrap().unwrap();
    assert_eq!(found.username, "anna");
    assert_eq!(found.csrf_token, "csrf-tok1");
    // Stored with microsecond precision, like every time in the store.
    assert_eq!(
        found.created_at,
        store::hash::truncate_to_micros(s.created_at)
    );
    assert_eq!(
        found.expires_at,
        store::hash::truncate_to_micros(s.expires_at)
    );
    assert!(store.session("other").await.unwrap().is_none());

    store.delete_session("tok1").await.unwrap();
    assert!(store.session("tok1").await.unwrap().is_none());
    store.delete_session("tok1").await.unwrap();
    // Sessions are not trial data: they leave no trace in the event log.
    assert_eq!(store.read_all(0, 100).await.unwrap().len(), 1);
}

async fn expired_sessions_are_purged_and_live_ones_kept(store: Store) {
    with_user(&store).await;
    store
        .create_session(&session("old1", Duration::minutes(5)))
        .await
        .unwrap();
    store
        .create_session(&session("old2", Duration::hours(1)))
        .await
        .unwrap();
    store
        .create_session(&session("live", Duration::days(2)))
        .await
        .unwrap();
    let now = t0() + Duration::hours(1);
    assert_eq!(store.purge_expired_sessions(now).await.unwrap(), 2);
    assert!(store.session("old1").await.unwrap().is_none());
    assert!(store.session("old2").await.unwrap().is_none());
    assert!(store.session("live").await.unwrap().is_some());
    assert_eq!(store.purge_expired_sessions(now).await.unwrap(), 0);
}

async fn a_session_needs_an_existing_user_and_a_new_token(store: Store) {
    assert!(
        store
            .create_session(&session("tok", Duration::hours(1)))
            .await
            .is_err()
    );
    with_user(&store).await;
    store
        .create_session(&session("tok", Duration::hours(1)))
        .await
        .unwrap();
    assert!(
        store
            .create_session(&session("tok", Duration::hours(2)))
            .await
            .is_err()
    );
    let kept = store.session("tok").await.unwrap().unwrap();
    assert_eq!(
        kept.expires_at,
        store::hash::truncate_to_micros(t0() + Duration::hours(1))
    );
}

async fn a_session_is_read_with_its_user_and_her_password_state(store: Store) {
    with_user(&store).await;
    store
        .create_session(&session("tok1", Duration::hours(8)))
        .await
        .unwrap();
    // No credential yet: nothing to change.
    let found = store.session_account("tok1").await.unwrap().unwrap();
    assert_eq!(found.session, store.session("tok1").await.unwrap().unwrap());
    assert_eq!(found.user, store.user("anna").await.unwrap());
    assert!(!found.must_change_password);

    let credential = |must_change| {
        Projection::Credential(CredentialRow {
            username: "anna".into(),
            password_hash: "$argon2id$test".into(),
            must_change,
            failures: 0,
        })
    };
    store
        .append(
            "user:anna",
            1,
            &[event("PasswordSet", 1)],
            &meta(),
            &[credential(true)],
        )
        .await
        .unwrap();
    let found = store.session_account("tok1").await.unwrap().unwrap();
    assert!(found.must_change_password);
    assert_eq!(found.user.unwrap().site.as_deref(), Some("SE01"));
    store
        .append(
            "user:anna",
            2,
            &[event("PasswordSet", 2)],
            &meta(),
            &[credential(false)],
        )
        .await
        .unwrap();
    assert!(
        !store
            .session_account("tok1")
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    assert!(store.session_account("other").await.unwrap().is_none());
}

async fn two_streams_versions_are_read_together(store: Store) {
    support::append_n(&store, "settings", 3).await;
    support::append_n(&store, "study/oversight", 1).await;
    assert_eq!(
        store
            .stream_versions("settings", "study/oversight")
            .await
            .unwrap(),
        (3, 1)
    );
    assert_eq!(
        store
            .stream_versions("study/oversight", "nothing")
            .await
            .unwrap(),
        (1, 0)
    );
}
