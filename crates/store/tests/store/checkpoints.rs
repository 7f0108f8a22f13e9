//! Signed checkpoints anchor the chain outside the database: a log rewritten with every
//! hash and the chain head recomputed, which `verify_chain` alone accepts, no longer
//! matches the hash signed at a checkpoint.

use store::Store;
use store::checkpoint::CheckpointKey;

use crate::support::{self, store_tests};

store_tests!(
    an_untouched_log_matches_its_checkpoints,
    an_edited_event_with_a_recomputed_chain_fails_its_checkpoint,
    a_deleted_event_with_a_renumbered_chain_fails_its_checkpoint,
    checkpoints_signed_by_another_key_are_refused,
    a_broken_chain_is_never_signed,
    a_checkpoint_is_signed_every_n_events,
);

/// Three streams, seven events: seq 1..=7.
async fn seven_events(store: &Store) {
    support::append_n(store, "SE01-001", 3).await;
    support::append_n(store, "SE01-002", 2).await;
    support::append_n(store, "SE01-001", 1).await;
    support::append_n(store, "SE02-001", 1).await;
}

async fn an_untouched_log_matches_its_checkpoints(store: Store) {
    let key = CheckpointKey::generate();
    seven_events(&store).await;
    let signed = store.checkpoint(&key, support::t0()).await.unwrap();
    assert_eq!(signed.seq, 7);
    assert_eq!(Some(signed.hash.clone()), store.hash_at(7).await.unwrap());
    // Signing again at the same head returns the stored checkpoint.
    let again = store.checkpoint(&key, support::t0()).await.unwrap();
    assert_eq!(again, signed);
    let report = store.verify_checkpoints(&key.public()).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.checked, 1);
    assert_eq!(report.latest, Some(signed));
}

async fn an_edited_event_with_a_recomputed_chain_fails_its_checkpoint(store: Store) {
    let key = CheckpointKey::generate();
    seven_events(&store).await;
    store.checkpoint(&key, support::t0()).await.unwrap();
    store
        .execute_raw_for_tests("UPDATE events SET actor = 'mallory' WHERE seq = 3")
        .await
        .unwrap();
    store.rehash_chain_for_tests().await.unwrap();
    // The insider's rewrite is internally consistent: the chain alone cannot tell.
    assert!(store.verify_chain().await.unwrap().is_intact());
    let report = store.verify_checkpoints(&key.public()).await.unwrap();
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert!(report.problems[0].contains("rewritten"), "{report:?}");
    assert_eq!(report.latest, None);
    // Nor will the store sign over the rewrite: the next event no longer links to the
    // signed hash.
    support::append_n(&store, "SE01-002", 1).await;
    let err = store.checkpoint(&key, support::t0()).await.unwrap_err();
    assert!(err.to_string().contains("event #8"), "{err}");
}

async fn a_deleted_event_with_a_renumbered_chain_fails_its_checkpoint(store: Store) {
    let key = CheckpointKey::generate();
    support::append_n(&store, "SE01-001", 5).await;
    store.checkpoint(&key, support::t0()).await.unwrap();
    seven_more(&store).await;
    store.checkpoint(&key, support::t0()).await.unwrap();
    // Delete event 3 and close the gap, as someone hiding a record would.
    store
        .execute_raw_for_tests(
            "DELETE FROM events WHERE seq = 3; \
             UPDATE events SET seq = -seq WHERE seq > 3; \
             UPDATE events SET seq = -seq - 1 WHERE seq < 0;",
        )
        .await
        .unwrap();
    store.rehash_chain_for_tests().await.unwrap();
    assert!(store.verify_chain().await.unwrap().is_intact());
    let report = store.verify_checkpoints(&key.public()).await.unwrap();
    assert_eq!(report.checked, 2);
    assert_eq!(report.problems.len(), 2, "{report:?}");
    assert!(report.problems[1].contains("no event 12"), "{report:?}");
}

async fn seven_more(store: &Store) {
    support::append_n(store, "SE01-002", 7).await;
}

async fn checkpoints_signed_by_another_key_are_refused(store: Store) {
    let key = CheckpointKey::generate();
    seven_events(&store).await;
    store.checkpoint(&key, support::t0()).await.unwrap();
    let other = CheckpointKey::generate();
    let report = store.verify_checkpoints(&other.public()).await.unwrap();
    assert!(!report.is_intact());
    assert!(report.problems[0].contains("signed by key"), "{report:?}");
}

async fn a_broken_chain_is_never_signed(store: Store) {
    let key = CheckpointKey::generate();
    seven_events(&store).await;
    store
        .execute_raw_for_tests("UPDATE events SET actor = 'mallory' WHERE seq = 5")
        .await
        .unwrap();
    let err = store.checkpoint(&key, support::t0()).await.unwrap_err();
    assert!(err.to_string().contains("event #5"), "{err}");
    assert_eq!(store.latest_checkpoint().await.unwrap(), None);
}

async fn a_checkpoint_is_signed_every_n_events(store: Store) {
    let key = CheckpointKey::generate();
    let public = key.public();
    let store = store.with_checkpoints(key, 3);
    for _ in 0..7 {
        support::append_n(&store, "SE01-001", 1).await;
    }
    let latest = store.latest_checkpoint().await.unwrap().expect("signed");
    assert_eq!(latest.seq, 6);
    let report = store.verify_checkpoints(&public).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.checked, 2);
    // One append that jumps past a multiple signs too, at the head it leaves.
    let events: Vec<_> = (1..=3).map(|n| support::event("Noted", n)).collect();
    store
        .append("SE01-002", 0, &events, &support::meta(), &[])
        .await
        .unwrap();
    assert_eq!(
        store.latest_checkpoint().await.unwrap().map(|c| c.seq),
        Some(10)
    );
}
