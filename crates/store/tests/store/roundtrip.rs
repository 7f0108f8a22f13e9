//! Appending and reading back: versions, sequence numbers, metadata, time, Unicode.

use serde_json::json;
use store::{NewEvent, Store, StoreErrorKind};

use crate::support::{self, event, meta, store_tests};

store_tests!(
    appended_events_read_back_in_version_order_with_their_metadata,
    read_all_pages_through_every_stream_in_seq_order,
    stream_version_counts_a_streams_events,
    recorded_times_keep_exactly_microseconds,
    unicode_and_escaped_payloads_round_trip,
    an_append_without_events_is_refused,
    a_stream_is_paged_newest_first_per_site,
);

async fn appended_events_read_back_in_version_order_with_their_metadata(store: Store) {
    let mut m = meta();
    m.reason = Some("first visit".into());
    let events = [event("Registered", 1), event("ConsentRecorded", 2)];
    let appended = store.append("SE01-001", 0, &events, &m, &[]).await.unwrap();
    assert_eq!(appended.stream_version, 2);
    assert_eq!((appended.first_seq, appended.last_seq), (1, 2));

    let more = store
        .append("SE01-001", 2, &[event("Screened", 3)], &meta(), &[])
        .await
        .unwrap();
    assert_eq!(
        (more.stream_version, more.first_seq, more.last_seq),
        (3, 3, 3)
    );

    let read = store.read_stream("SE01-001").await.unwrap();
    let kinds: Vec<&str> = read.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["Registered", "ConsentRecorded", "Screened"]);
    assert_eq!(
        read.iter().map(|e| e.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(read.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(read[0].payload, events[0].payload);
    assert_eq!(read[0].meta.actor, "nurse.anna");
    assert_eq!(read[0].meta.role, "site_nurse");
    assert_eq!(read[0].meta.site.as_deref(), Some("SE01"));
    assert_eq!(read[0].meta.reason.as_deref(), Some("first visit"));
    assert_eq!(read[2].meta.reason, None);
    assert_eq!(read[0].prev_hash, store::hash::GENESIS_HASH);
    assert_eq!(read[1].prev_hash, read[0].hash);
    assert_eq!(read[2].prev_hash, read[1].hash);
    assert_eq!(more.head_hash, read[2].hash);
    assert!(store.read_stream("SE01-999").await.unwrap().is_empty());
}

async fn read_all_pages_through_every_stream_in_seq_order(store: Store) {
    for i in 0..3 {
        support::append_n(&store, "SE01-001", 1).await;
        support::append_n(&store, &format!("SE02-00{i}"), 1).await;
    }
    let first = store.read_all(0, 4).await.unwrap();
    assert_eq!(
        first.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(first[0].stream, "SE01-001");
    assert_eq!(first[1].stream, "SE02-000");
    let rest = store.read_all(4, 100).await.unwrap();
    assert_eq!(rest.iter().map(|e| e.seq).collect::<Vec<_>>(), [5, 6]);
    assert_eq!(rest[0].stream, "SE01-001");
    assert_eq!(rest[0].version, 3);
    assert!(store.read_all(6, 100).await.unwrap().is_empty());
    assert!(store.read_all(0, 0).await.unwrap().is_empty());
    let err = store.read_all(0, -1).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::InvalidInput);
}

async fn stream_version_counts_a_streams_events(store: Store) {
    assert_eq!(store.stream_version("SE01-001").await.unwrap(), 0);
    support::append_n(&store, "SE01-001", 4).await;
    support::append_n(&store, "SE01-002", 1).await;
    assert_eq!(store.stream_version("SE01-001").await.unwrap(), 4);
    assert_eq!(store.stream_version("SE01-002").await.unwrap(), 1);
}

async fn recorded_times_keep_exactly_microseconds(store: Store) {
    let m = meta();
    let mut p = support::participant("SE01-001", "SE01", 1);
    p.updated_at = m.recorded_at;
    store
        .append(
            "SE01-001",
            0,
            &[event("Registered", 1)],
            &m,
            &[store::Projection::Participant(p)],
        )
        .await
        .unwrap();
    let expected = store::hash::truncate_to_micros(m.recorded_at);
    assert_ne!(
        expected, m.recorded_at,
        "the fixture must carry nanoseconds"
    );
    assert_eq!(
        expected.timestamp_subsec_nanos(),
        589_793_000,
        "truncated, not rounded"
    );
    let read = store.read_stream("SE01-001").await.unwrap();
    assert_eq!(read[0].meta.recorded_at, expected);
    let row = store.participant("SE01-001").await.unwrap().unwrap();
    assert_eq!(row.updated_at, expected);
    assert!(store.verify_chain().await.unwrap().is_intact());
}

async fn unicode_and_escaped_payloads_round_trip(store: Store) {
    let payload = json!({
        "name": "Åsa Öberg-Ärlemalm",
        "note": "smärta 😀 — ≥ 2 cm; עברית; 中文",
        "quote": "she said \"no\" \\ then \u{0007}\u{0000} stopped",
        "nested": {"ü": [1, -2.5, 1e300, null, true]},
    });
    let mut m = meta();
    m.actor = "sjuksköterska.åsa".into();
    m.reason = Some("rättelse: fel vikt".into());
    store
        .append(
            "SE01-ÅÄÖ",
            0,
            &[NewEvent {
                kind: "NoteRecorded".into(),
                payload: payload.clone(),
            }],
            &m,
            &[],
        )
        .await
        .unwrap();
    let read = store.read_stream("SE01-ÅÄÖ").await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].payload, payload);
    assert_eq!(read[0].meta.actor, "sjuksköterska.åsa");
    assert_eq!(read[0].meta.reason.as_deref(), Some("rättelse: fel vikt"));
    assert!(store.verify_chain().await.unwrap().is_intact());
}

async fn an_append_without_events_is_refused(store: Store) {
    let err = store
        .append(
            "SE01-001",
            0,
            &[],
            &meta(),
            &[support::site("SE01", "Uppsala")],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::InvalidInput);
    assert!(store.site("SE01").await.unwrap().is_none());
}

async fn a_stream_is_paged_newest_first_per_site(store: Store) {
    // Seven receipts, for three sites in turn, as the receivers record them.
    for n in 0..7 {
        let mut m = meta();
        m.site = Some(["SE01", "SE02", "SE03"][n % 3].into());
        store
            .append_at_end("receipts", &[event("received", n as i64)], &m)
            .await
            .unwrap();
    }
    store
        .append_at_end("other", &[event("x", 0)], &meta())
        .await
        .unwrap();
    let ns = |events: &[store::RecordedEvent]| -> Vec<i64> {
        events
            .iter()
            .map(|e| e.payload["n"].as_i64().unwrap())
            .collect()
    };
    let (page, total) = store
        .read_stream_newest("receipts", None, 3, 0)
        .await
        .unwrap();
    assert_eq!((ns(&page), total), (vec![6, 5, 4], 7));
    let (page, total) = store
        .read_stream_newest("receipts", None, 3, 6)
        .await
        .unwrap();
    assert_eq!((ns(&page), total), (vec![0], 7));
    let (page, total) = store
        .read_stream_newest("receipts", Some("SE01"), 10, 0)
        .await
        .unwrap();
    assert_eq!((ns(&page), total), (vec![6, 3, 0], 3));
    let (page, total) = store
        .read_stream_newest("receipts", Some("SE01"), 1, 1)
        .await
        .unwrap();
    assert_eq!((ns(&page), total), (vec![3], 3));
    let (page, total) = store
        .read_stream_newest("receipts", Some("XX"), 10, 0)
        .await
        .unwrap();
    assert_eq!((page.len(), total), (0, 0));
    let err = store
        .read_stream_newest("receipts", None, -1, 0)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::InvalidInput, "{err}");
}
