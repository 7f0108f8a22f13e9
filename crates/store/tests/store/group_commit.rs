//! Group commit: concurrent writes share one transaction, and each still gets its own
//! answer, only after that transaction committed.

use std::collections::BTreeMap;

use store::{Appended, Projection, Store, StoreError, StoreErrorKind, StreamAppend};

use crate::support::{self, TestDb, event, meta, participant, store_tests};

store_tests!(
    two_hundred_concurrent_appends_on_twenty_streams_are_all_acknowledged,
    writes_made_while_a_group_commits_share_the_next_transaction,
    a_refused_write_fails_alone_and_the_rest_of_its_group_commits,
    an_append_decided_under_a_stream_that_moved_is_refused_naming_it,
);

/// Appends one event for task `n` at the end `stream` has reached, reloading and trying
/// again after a conflict, as a user whose write raced another's would.
async fn append_with_retry(store: &Store, stream: &str, n: i64) -> Appended {
    loop {
        let version = store.stream_version(stream).await.expect("stream version");
        match store
            .append(stream, version, &[event("Step", n)], &meta(), &[])
            .await
        {
            Ok(appended) => return appended,
            Err(StoreError::Conflict { .. }) => continue,
            Err(other) => panic!("append of task {n} failed: {other}"),
        }
    }
}

async fn two_hundred_concurrent_appends_on_twenty_streams_are_all_acknowledged(store: Store) {
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = format!("SE01-{:03}", n % 20);
                let appended = append_with_retry(&store, &stream, n).await;
                (n, stream, appended)
            })
        })
        .collect();
    let mut acks = Vec::new();
    for task in tasks {
        acks.push(task.await.unwrap());
    }

    let all = store.read_all(0, 1000).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=200).collect::<Vec<_>>(),
        "one gapless sequence"
    );
    // Each acknowledgement names the event that holds its task's payload.
    for (n, stream, appended) in &acks {
        assert_eq!(appended.first_seq, appended.last_seq);
        let stored = &all[(appended.first_seq - 1) as usize];
        assert_eq!(&stored.stream, stream);
        assert_eq!(stored.version, appended.stream_version);
        assert_eq!(stored.payload["n"], *n, "event #{}", stored.seq);
    }
    let mut versions: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for e in &all {
        versions.entry(&e.stream).or_default().push(e.version);
    }
    assert_eq!(versions.len(), 20);
    for (stream, v) in versions {
        assert_eq!(v, (1..=10).collect::<Vec<_>>(), "versions of {stream}");
    }
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 200);
    assert_eq!(report.head_hash, all[199].hash);

    let stats = store.commit_stats();
    assert!(stats.writes >= 200, "{stats:?}");
    assert!(stats.transactions <= stats.writes, "{stats:?}");
}

async fn writes_made_while_a_group_commits_share_the_next_transaction(store: Store) {
    support::append_n(&store, "SE01-000", 1).await;
    let before = store.commit_stats();

    // A hundred writes queue up while the committer is held; released, they commit in as
    // few transactions as the group bound allows: 64, then 36.
    let mut hold = store.hold_commits_for_tests().await;
    let tasks: Vec<_> = (1..=100)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = format!("SE01-{i:03}");
                store
                    .append(&stream, 0, &[event("Registered", i)], &meta(), &[])
                    .await
            })
        })
        .collect();
    hold.wait_for_queued(100).await;
    assert_eq!(store.commit_stats(), before, "nothing commits while held");
    drop(hold);
    for task in tasks {
        let appended = task.await.unwrap().expect("every write is acknowledged");
        assert_eq!(appended.stream_version, 1);
    }

    let after = store.commit_stats();
    assert_eq!(after.writes - before.writes, 100, "{after:?}");
    assert_eq!(after.transactions - before.transactions, 2, "{after:?}");
    assert_eq!(after.largest_group, 64, "{after:?}");
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 101);
}

async fn a_refused_write_fails_alone_and_the_rest_of_its_group_commits(store: Store) {
    support::append_n(&store, "SE01-001", 1).await;
    let before = store.commit_stats();
    let mut hold = store.hold_commits_for_tests().await;
    let mut queued = 0;
    let mut tasks = Vec::new();
    // Each write is handed in before the next is made, so the group's order is known.
    macro_rules! queue {
        ($write:expr) => {{
            let store = store.clone();
            tasks.push(tokio::spawn($write(store)));
            queued += 1;
            hold.wait_for_queued(queued).await;
        }};
    }
    // 1. Moves SE01-001 from version 1 to 2.
    queue!(|s: Store| async move {
        s.append("SE01-001", 1, &[event("Consented", 2)], &meta(), &[])
            .await
            .map(|a| vec![a])
    });
    // 2. Writes its event, then its participant row breaks the schema (version 0): rolled
    //    back, event and all.
    queue!(|s: Store| async move {
        let broken = Projection::Participant(participant("SE01-002", "SE01", 0));
        s.append("SE01-002", 0, &[event("Registered", 1)], &meta(), &[broken])
            .await
            .map(|a| vec![a])
    });
    // 3. Based on version 1, which write 1 of the same group has just moved on.
    queue!(|s: Store| async move {
        s.append("SE01-001", 1, &[event("Consented", 2)], &meta(), &[])
            .await
            .map(|a| vec![a])
    });
    // 4. A version the stream never had.
    queue!(|s: Store| async move {
        s.append("SE01-003", 4, &[event("Noted", 5)], &meta(), &[])
            .await
            .map(|a| vec![a])
    });
    // 5. An audit record at the end of its stream.
    queue!(|s: Store| async move {
        s.append_at_end("access", &[event("sign_in_failed", 1)], &meta())
            .await
            .map(|a| vec![a])
    });
    // 6. A batch of two parts on one stream.
    queue!(|s: Store| async move {
        let part = |version: i64| StreamAppend {
            stream: "SE01-004".into(),
            expected_version: version,
            events: vec![event("Step", version + 1)],
            meta: meta(),
            projections: vec![],
        };
        s.append_batch(&[part(0), part(1)]).await
    });
    drop(hold);
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }

    let after = store.commit_stats();
    assert_eq!(after.transactions - before.transactions, 1, "one group");
    assert_eq!(after.writes - before.writes, 6);

    let ok = |i: usize| -> Vec<(i64, i64, i64)> {
        match &results[i] {
            Ok(parts) => parts
                .iter()
                .map(|a| (a.stream_version, a.first_seq, a.last_seq))
                .collect(),
            Err(e) => panic!("write {} failed: {e}", i + 1),
        }
    };
    // Seq 1 is the set-up; the refused writes used none, so the kept ones follow on.
    assert_eq!(ok(0), vec![(2, 2, 2)]);
    match &results[1] {
        Err(e) => assert_eq!(e.kind(), StoreErrorKind::Database, "{e}"),
        Ok(a) => panic!("a participant row at version 0 was written: {a:?}"),
    }
    match &results[2] {
        Err(StoreError::Conflict {
            expected, actual, ..
        }) => assert_eq!((*expected, *actual), (1, 2)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    match &results[3] {
        Err(StoreError::Conflict {
            expected, actual, ..
        }) => assert_eq!((*expected, *actual), (4, 0)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(ok(4), vec![(1, 3, 3)]);
    assert_eq!(ok(5), vec![(1, 4, 4), (2, 5, 5)]);

    assert_eq!(store.stream_version("SE01-002").await.unwrap(), 0);
    assert!(store.participant("SE01-002").await.unwrap().is_none());
    let all = store.read_all(0, 100).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|e| (e.stream.as_str(), e.version))
            .collect::<Vec<_>>(),
        vec![
            ("SE01-001", 1),
            ("SE01-001", 2),
            ("access", 1),
            ("SE01-004", 1),
            ("SE01-004", 2),
        ]
    );
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.head_hash, all[4].hash);
}

/// Closing the store while writes wait: they are committed and acknowledged first, a
/// write after the close is refused, and what was acknowledged is there on reopening.
async fn close_commits_the_queued_writes_then_refuses_new_ones(db: TestDb) {
    let store = db.store.clone();
    let mut hold = store.hold_commits_for_tests().await;
    let tasks: Vec<_> = (1..=3)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append(
                        &format!("SE01-{i:03}"),
                        0,
                        &[event("Registered", i)],
                        &meta(),
                        &[],
                    )
                    .await
            })
        })
        .collect();
    hold.wait_for_queued(3).await;
    let closing = {
        let store = store.clone();
        tokio::spawn(async move { store.close().await })
    };
    drop(hold);
    for task in tasks {
        task.await
            .unwrap()
            .expect("a write handed in before the close is acknowledged");
    }
    closing.await.unwrap();

    let err = store
        .append("SE01-009", 0, &[event("Registered", 9)], &meta(), &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Database);
    assert!(err.to_string().contains("closed"), "{err}");

    let reopened = Store::open(db.url()).await.unwrap();
    let report = reopened.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 3);
    reopened.close().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_close_commits_the_queued_writes_then_refuses_new_ones() {
    close_commits_the_queued_writes_then_refuses_new_ones(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_close_commits_the_queued_writes_then_refuses_new_ones() {
    if let Some(db) = TestDb::postgres().await {
        close_commits_the_queued_writes_then_refuses_new_ones(db).await;
    }
}

/// A group whose transaction cannot start (another process keeps SQLite's write lock past
/// the busy timeout): every write of the group gets the error, none is written, and the
/// next write succeeds once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_failed_group_acknowledges_none_of_its_writes() {
    use sqlx::Connection;
    let db = TestDb::sqlite().await;
    let store = db.store.clone();
    support::append_n(&store, "SE01-000", 1).await;

    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(db.url());
    let mut other = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();

    let mut hold = store.hold_commits_for_tests().await;
    let tasks: Vec<_> = (1..=3)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append(
                        &format!("SE01-{i:03}"),
                        0,
                        &[event("Registered", i)],
                        &meta(),
                        &[],
                    )
                    .await
            })
        })
        .collect();
    hold.wait_for_queued(3).await;
    drop(hold);
    for task in tasks {
        match task.await.unwrap() {
            Err(e @ StoreError::GroupFailed { others: 2, .. }) => {
                assert_eq!(e.kind(), StoreErrorKind::Database);
                assert!(e.to_string().contains("not acknowledged"), "{e}");
            }
            other => panic!("expected the group's failure, got {other:?}"),
        }
    }

    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    assert_eq!(store.read_all(0, 100).await.unwrap().len(), 1);
    let next = store
        .append("SE01-001", 0, &[event("Registered", 1)], &meta(), &[])
        .await
        .unwrap();
    assert_eq!(next.first_seq, 2);
    assert!(store.verify_chain().await.unwrap().is_intact());
    db.finish().await;
}

/// A command decided under the settings (and the study-wide lock) kept from an earlier
/// read is written only if they are still at the versions it was decided under: checked
/// in the transaction that writes it, also when the change is in the same group.
async fn an_append_decided_under_a_stream_that_moved_is_refused_naming_it(store: Store) {
    support::append_n(&store, "settings", 2).await;
    let under = [("settings", 2), ("study/oversight", 0)];
    let first = store
        .append_unless_moved(
            "SE01-001",
            0,
            &[event("Registered", 1)],
            &meta(),
            &[],
            &under,
        )
        .await
        .expect("nothing moved: written");
    assert_eq!(first.stream_version, 1);

    // The settings move (another process amends them); the next decision made under
    // version 2 is refused and names the stream and where it is now.
    support::append_n(&store, "settings", 1).await;
    let stale = store
        .append_unless_moved(
            "SE01-002",
            0,
            &[event("Registered", 1)],
            &meta(),
            &[],
            &under,
        )
        .await;
    match stale {
        Err(StoreError::Conflict {
            stream,
            expected: 2,
            actual: 3,
        }) => assert_eq!(stream, "settings"),
        other => panic!("expected a conflict on the settings, got {other:?}"),
    }
    assert_eq!(
        store.stream_version("SE01-002").await.unwrap(),
        0,
        "nothing written"
    );

    // In one group: the study is locked by the group's first write, so the second,
    // decided before the lock, is refused; the third, decided after it, is written.
    let mut hold = store.hold_commits_for_tests().await;
    let lock = {
        let s = store.clone();
        tokio::spawn(async move {
            s.append("study/oversight", 0, &[event("Locked", 1)], &meta(), &[])
                .await
        })
    };
    hold.wait_for_queued(1).await;
    // A registration of `stream` decided with the study's stream at `study`.
    let decided_at = |stream: &'static str, study: i64| {
        let s = store.clone();
        tokio::spawn(async move {
            let under = [("settings", 3), ("study/oversight", study)];
            s.append_unless_moved(stream, 0, &[event("Registered", 1)], &meta(), &[], &under)
                .await
        })
    };
    let before_lock = decided_at("SE01-003", 0);
    hold.wait_for_queued(2).await;
    let after_lock = decided_at("SE01-004", 1);
    hold.wait_for_queued(3).await;
    drop(hold);
    lock.await.unwrap().expect("the lock is written");
    assert!(
        matches!(
            before_lock.await.unwrap(),
            Err(StoreError::Conflict { ref stream, expected: 0, actual: 1 }) if stream == "study/oversight"
        ),
        "a decision made before the lock is refused"
    );
    after_lock
        .await
        .unwrap()
        .expect("a decision made after the lock is written");
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
}
