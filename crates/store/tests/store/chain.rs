//! The hash chain verifies, and names the first event changed or removed behind the
//! store's back.

use store::{Backend, Store};

use crate::support::{self, TestDb, client_sql, store_tests};

store_tests!(
    an_empty_log_verifies_with_the_genesis_head,
    an_untouched_log_verifies,
    a_tampered_payload_is_named,
    a_tampered_actor_is_named,
    a_deleted_event_is_detected_at_the_gap,
    a_deleted_last_event_is_detected_at_the_head,
);

/// Three streams, seven events: seq 1..=7.
async fn seven_events(store: &Store) {
    support::append_n(store, "SE01-001", 3).await;
    support::append_n(store, "SE01-002", 2).await;
    support::append_n(store, "SE01-001", 1).await;
    support::append_n(store, "SE02-001", 1).await;
}

async fn an_empty_log_verifies_with_the_genesis_head(store: Store) {
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact());
    assert_eq!(report.events_checked, 0);
    assert_eq!(report.head_hash, store::hash::GENESIS_HASH);
}

async fn an_untouched_log_verifies(store: Store) {
    seven_events(&store).await;
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 7);
    let last = store.read_all(6, 1).await.unwrap();
    assert_eq!(report.head_hash, last[0].hash);
}

#[tokio::test]
async fn sqlite_refuses_to_update_or_delete_events() {
    let db = TestDb::sqlite().await;
    database_refuses_to_update_or_delete_events(&db).await;
    db.finish().await;
}

#[tokio::test]
async fn postgres_refuses_to_update_or_delete_events() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    database_refuses_to_update_or_delete_events(&db).await;
    db.finish().await;
}

/// Any client of the database, not just the store, is refused; the tamper path for tests
/// suspends the guards for its own transaction only.
async fn database_refuses_to_update_or_delete_events(db: &TestDb) {
    let store = &db.store;
    seven_events(store).await;
    let refused = |r: Result<u64, sqlx::Error>| match r {
        Err(e) => assert!(e.to_string().contains("append-only"), "{e}"),
        Ok(n) => panic!("the change went through ({n} rows)"),
    };
    refused(client_sql(db, "UPDATE events SET actor = 'mallory' WHERE seq = 2").await);
    refused(client_sql(db, "DELETE FROM events WHERE seq = 7").await);
    if store.backend() == Backend::Postgres {
        refused(client_sql(db, "TRUNCATE events").await);
    }
    assert!(store.verify_chain().await.unwrap().is_intact());

    let changed = store
        .execute_raw_for_tests("UPDATE events SET actor = 'mallory' WHERE seq = 2")
        .await
        .unwrap();
    assert_eq!(changed, 1);
    refused(client_sql(db, "UPDATE events SET actor = 'eve' WHERE seq = 3").await);
    refused(client_sql(db, "DELETE FROM events WHERE seq = 7").await);
    let bad = store
        .verify_chain()
        .await
        .unwrap()
        .first_bad
        .expect("found");
    assert_eq!(bad.seq, 2);
    assert_eq!(store.read_all(0, 100).await.unwrap().len(), 7);
}

async fn a_tampered_payload_is_named(store: Store) {
    seven_events(&store).await;
    // Seq 4 is SE01-002's first event; change its data but keep it canonical JSON.
    let changed = store
        .execute_raw_for_tests(concat!(
            "UPDATE events SET payload = ",
            r#"'{"kind":"Noted","n":2,"notes":["a","b"],"weight_kg":75.5}' WHERE seq = 4"#
        ))
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let report = store.verify_chain().await.unwrap();
    let bad = report.first_bad.expect("the change must be found");
    assert_eq!(
        (bad.seq, bad.stream.as_str(), bad.version),
        (4, "SE01-002", 1)
    );
    assert!(
        bad.reason.contains("changed after it was written"),
        "{}",
        bad.reason
    );
    assert_eq!(report.events_checked, 7);
}

async fn a_tampered_actor_is_named(store: Store) {
    seven_events(&store).await;
    store
        .execute_raw_for_tests("UPDATE events SET actor = 'mallory' WHERE seq = 6")
        .await
        .unwrap();
    let bad = store
        .verify_chain()
        .await
        .unwrap()
        .first_bad
        .expect("found");
    assert_eq!(
        (bad.seq, bad.stream.as_str(), bad.version),
        (6, "SE01-001", 4)
    );
}

async fn a_deleted_event_is_detected_at_the_gap(store: Store) {
    seven_events(&store).await;
    store
        .execute_raw_for_tests("DELETE FROM events WHERE seq = 3")
        .await
        .unwrap();
    let report = store.verify_chain().await.unwrap();
    let bad = report.first_bad.expect("the deletion must be found");
    assert_eq!(
        (bad.seq, bad.stream.as_str(), bad.version),
        (4, "SE01-002", 1)
    );
    assert!(bad.reason.contains("missing"), "{}", bad.reason);
    assert_eq!(report.events_checked, 6);
}

async fn a_deleted_last_event_is_detected_at_the_head(store: Store) {
    seven_events(&store).await;
    store
        .execute_raw_for_tests("DELETE FROM events WHERE seq = 7")
        .await
        .unwrap();
    let bad = store
        .verify_chain()
        .await
        .unwrap()
        .first_bad
        .expect("found");
    assert_eq!(bad.seq, 7);
    assert!(bad.reason.contains("chain head"), "{}", bad.reason);
}
