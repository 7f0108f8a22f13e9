//! A batch append: many streams in one transaction, on the same chain, all or nothing.

use store::{Projection, Store, StoreError, StoreErrorKind, StreamAppend};

use crate::support::{self, event, meta, participant, store_tests};

store_tests!(
    a_batch_appends_every_part_on_one_verified_chain,
    a_batch_continues_the_chain_between_single_appends,
    a_conflict_anywhere_in_a_batch_appends_nothing,
    an_invalid_part_refuses_the_whole_batch_before_writing,
    a_failed_projection_in_a_batch_appends_nothing,
);

/// A part registering `study_id` with `events` events and its participant row.
fn registration(study_id: &str, expected_version: i64, events: i64) -> StreamAppend {
    StreamAppend {
        stream: study_id.into(),
        expected_version,
        events: (1..=events)
            .map(|n| event("Noted", expected_version + n))
            .collect(),
        meta: meta(),
        projections: vec![Projection::Participant(participant(
            study_id,
            "SE01",
            expected_version + events,
        ))],
    }
}

async fn a_batch_appends_every_part_on_one_verified_chain(store: Store) {
    let batch = [
        registration("SE01-001", 0, 2),
        registration("SE01-002", 0, 1),
        // The same stream again: this part sees the first part's two events.
        registration("SE01-001", 2, 3),
    ];
    let appended = store.append_batch(&batch).await.unwrap();
    let summary: Vec<_> = appended
        .iter()
        .map(|a| (a.stream_version, a.first_seq, a.last_seq))
        .collect();
    assert_eq!(summary, [(2, 1, 2), (1, 3, 3), (5, 4, 6)]);

    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 6);
    assert_eq!(report.head_hash, appended[2].head_hash);
    let first = store.read_stream("SE01-001").await.unwrap();
    assert_eq!(
        first.iter().map(|e| e.version).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        first.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 4, 5, 6]
    );
    // The later part's projection is the one that stays.
    let row = store.participant("SE01-001").await.unwrap().unwrap();
    assert_eq!(row.version, 5);
    assert_eq!(
        store
            .participant("SE01-002")
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
    assert!(store.append_batch(&[]).await.unwrap().is_empty());
}

async fn a_batch_continues_the_chain_between_single_appends(store: Store) {
    support::append_n(&store, "SE01-001", 2).await;
    let appended = store
        .append_batch(&[
            registration("SE01-002", 0, 2),
            registration("SE01-001", 2, 1),
        ])
        .await
        .unwrap();
    assert_eq!(appended[0].first_seq, 3);
    assert_eq!(appended[1].last_seq, 5);
    support::append_n(&store, "SE01-002", 1).await;
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 6);
}

async fn a_conflict_anywhere_in_a_batch_appends_nothing(store: Store) {
    support::append_n(&store, "SE01-001", 1).await;
    let before = store.verify_chain().await.unwrap();
    let err = store
        .append_batch(&[
            registration("SE01-002", 0, 2),
            registration("SE01-003", 0, 1),
            // Stale: SE01-001 is at version 1.
            registration("SE01-001", 0, 1),
        ])
        .await
        .unwrap_err();
    match &err {
        StoreError::Conflict {
            stream,
            expected,
            actual,
        } => assert_eq!((stream.as_str(), *expected, *actual), ("SE01-001", 0, 1)),
        other => panic!("expected a conflict, got {other}"),
    }
    assert_eq!(store.read_all(0, 100).await.unwrap().len(), 1);
    assert_eq!(store.stream_version("SE01-002").await.unwrap(), 0);
    assert!(store.participant("SE01-002").await.unwrap().is_none());
    assert!(store.participant("SE01-003").await.unwrap().is_none());
    assert_eq!(store.verify_chain().await.unwrap(), before);

    // Two parts that both create the same stream conflict with each other.
    let err = store
        .append_batch(&[
            registration("SE01-004", 0, 1),
            registration("SE01-004", 0, 1),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);
    assert_eq!(store.stream_version("SE01-004").await.unwrap(), 0);

    // The log carries on where it was.
    let next = store
        .append_batch(&[registration("SE01-002", 0, 1)])
        .await
        .unwrap();
    assert_eq!(next[0].first_seq, 2);
    assert!(store.verify_chain().await.unwrap().is_intact());
}

async fn an_invalid_part_refuses_the_whole_batch_before_writing(store: Store) {
    let mut empty = registration("SE01-002", 0, 1);
    empty.events.clear();
    let err = store
        .append_batch(&[registration("SE01-001", 0, 1), empty])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::InvalidInput);
    let err = store
        .append_batch(&[registration("SE01-001", -1, 1)])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::InvalidInput);
    assert!(store.read_all(0, 100).await.unwrap().is_empty());
    assert!(store.participants(None).await.unwrap().is_empty());
}

async fn a_failed_projection_in_a_batch_appends_nothing(store: Store) {
    let mut broken = registration("SE01-002", 0, 1);
    // A participant row must reflect a version of at least 1 (a schema check).
    broken.projections = vec![Projection::Participant(participant("SE01-002", "SE01", 0))];
    let err = store
        .append_batch(&[registration("SE01-001", 0, 1), broken])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Database, "{err}");
    assert!(store.read_all(0, 100).await.unwrap().is_empty());
    assert!(store.participant("SE01-001").await.unwrap().is_none());
    assert_eq!(
        store.verify_chain().await.unwrap().head_hash,
        store::hash::GENESIS_HASH
    );
}
