//! Optimistic concurrency: a write based on a stale version is refused.

use store::{Store, StoreError};

use crate::support::{self, event, meta, store_tests};

store_tests!(
    a_stale_expected_version_conflicts_and_writes_nothing,
    concurrent_appends_at_the_same_version_have_exactly_one_winner,
    concurrent_appends_to_different_streams_keep_one_gapless_chain,
);

async fn a_stale_expected_version_conflicts_and_writes_nothing(store: Store) {
    support::append_n(&store, "SE01-001", 2).await;
    for stale in [0, 1, 5] {
        let err = store
            .append("SE01-001", stale, &[event("Late", 9)], &meta(), &[])
            .await
            .unwrap_err();
        match &err {
            StoreError::Conflict {
                stream,
                expected,
                actual,
            } => {
                assert_eq!(stream, "SE01-001");
                assert_eq!(*expected, stale);
                assert_eq!(*actual, 2);
            }
            other => panic!("expected a conflict, got {other}"),
        }
        assert!(err.to_string().contains("reload"), "{err}");
    }
    assert_eq!(store.stream_version("SE01-001").await.unwrap(), 2);
    assert_eq!(store.read_all(0, 100).await.unwrap().len(), 2);
    assert!(store.verify_chain().await.unwrap().is_intact());
}

async fn concurrent_appends_at_the_same_version_have_exactly_one_winner(store: Store) {
    support::append_n(&store, "SE01-001", 1).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append("SE01-001", 1, &[event("Racing", i)], &meta(), &[])
                    .await
            })
        })
        .collect();
    let mut wins = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(appended) => {
                wins += 1;
                assert_eq!(appended.stream_version, 2);
            }
            Err(StoreError::Conflict { actual, .. }) => {
                conflicts += 1;
                assert_eq!(actual, 2);
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!((wins, conflicts), (1, 7));
    assert_eq!(store.read_stream("SE01-001").await.unwrap().len(), 2);
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 2);
}

async fn concurrent_appends_to_different_streams_keep_one_gapless_chain(store: Store) {
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = format!("SE01-{i:03}");
                for version in 0..5 {
                    store
                        .append(&stream, version, &[event("Step", version)], &meta(), &[])
                        .await
                        .expect("append to an own stream never conflicts");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let all = store.read_all(0, 1000).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 30);
    assert_eq!(report.head_hash, all[29].hash);
}
