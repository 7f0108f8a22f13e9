//! Read rows change only with the events that caused them, in the same transaction.

use serde_json::json;
use store::{Projection, SiteRow, Store, StoreErrorKind};

use crate::support::{self, event, meta, participant, store_tests};

store_tests!(
    projections_are_written_with_their_events_and_replace_older_rows,
    a_failed_append_leaves_no_event_and_no_read_row_change,
    a_conflicting_append_leaves_read_rows_unchanged,
    participants_filter_by_site_and_sort_by_study_id,
);

async fn projections_are_written_with_their_events_and_replace_older_rows(store: Store) {
    store
        .append(
            "site:SE01",
            0,
            &[event("SiteAdded", 1)],
            &meta(),
            &[
                support::site("SE01", "Uppsala"),
                support::user("anna", Some("SE01")),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        store.site("SE01").await.unwrap(),
        Some(SiteRow {
            code: "SE01".into(),
            name: "Uppsala".into()
        })
    );
    let anna = store.user("anna").await.unwrap().unwrap();
    assert_eq!(anna.site.as_deref(), Some("SE01"));
    assert!(anna.active);

    let p1 = participant("SE01-001", "SE01", 1);
    store
        .append(
            "SE01-001",
            0,
            &[event("Registered", 1)],
            &meta(),
            &[Projection::Participant(p1.clone())],
        )
        .await
        .unwrap();
    assert_eq!(store.participant("SE01-001").await.unwrap(), Some(p1));

    let mut p2 = participant("SE01-001", "SE01", 2);
    p2.state = "Consented".into();
    p2.snapshot = json!({"state": "Consented", "consent": {"version": "2.1", "signed": true}});
    let mut renamed = support::user("anna", Some("SE01"));
    if let Projection::User(u) = &mut renamed {
        u.active = false;
    }
    store
        .append(
            "SE01-001",
            1,
            &[event("ConsentRecorded", 2)],
            &meta(),
            &[
                Projection::Participant(p2.clone()),
                support::site("SE01", "Akademiska"),
                renamed,
            ],
        )
        .await
        .unwrap();
    assert_eq!(store.participant("SE01-001").await.unwrap(), Some(p2));
    assert_eq!(store.sites().await.unwrap().len(), 1);
    assert_eq!(
        store.site("SE01").await.unwrap().unwrap().name,
        "Akademiska"
    );
    assert!(!store.user("anna").await.unwrap().unwrap().active);
    assert_eq!(store.users().await.unwrap().len(), 1);
    assert!(store.user("nobody").await.unwrap().is_none());
}

async fn a_failed_append_leaves_no_event_and_no_read_row_change(store: Store) {
    let p1 = participant("SE01-001", "SE01", 1);
    store
        .append(
            "SE01-001",
            0,
            &[event("Registered", 1)],
            &meta(),
            &[Projection::Participant(p1.clone())],
        )
        .await
        .unwrap();
    let before = store.verify_chain().await.unwrap();

    // The events and the site row are written first; the participant row then breaks
    // the schema's rule that a row reflects a version of at least 1.
    let mut broken = participant("SE01-001", "SE01", 0);
    broken.state = "Consented".into();
    let err = store
        .append(
            "SE01-001",
            1,
            &[event("ConsentRecorded", 2), event("Noted", 3)],
            &meta(),
            &[
                support::site("SE09", "Nowhere"),
                Projection::Participant(broken),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Database, "{err}");

    assert_eq!(store.stream_version("SE01-001").await.unwrap(), 1);
    assert_eq!(store.read_all(0, 100).await.unwrap().len(), 1);
    assert_eq!(store.participant("SE01-001").await.unwrap(), Some(p1));
    assert!(store.site("SE09").await.unwrap().is_none());
    let after = store.verify_chain().await.unwrap();
    assert!(after.is_intact(), "{after:?}");
    assert_eq!(after, before);

    // The log carries on from where it was: the failed append used no seq.
    let next = store
        .append("SE01-001", 1, &[event("ConsentRecorded", 2)], &meta(), &[])
        .await
        .unwrap();
    assert_eq!(next.first_seq, 2);
}

async fn a_conflicting_append_leaves_read_rows_unchanged(store: Store) {
    let p1 = participant("SE01-001", "SE01", 1);
    store
        .append(
            "SE01-001",
            0,
            &[event("Registered", 1)],
            &meta(),
            &[Projection::Participant(p1.clone())],
        )
        .await
        .unwrap();
    let err = store
        .append(
            "SE01-001",
            0,
            &[event("Registered", 1)],
            &meta(),
            &[
                Projection::Participant(participant("SE01-001", "SE02", 1)),
                support::site("SE02", "Lund"),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);
    assert_eq!(store.participant("SE01-001").await.unwrap(), Some(p1));
    assert!(store.sites().await.unwrap().is_empty());
}

async fn participants_filter_by_site_and_sort_by_study_id(store: Store) {
    for (id, site) in [
        ("SE02-002", "SE02"),
        ("SE01-010", "SE01"),
        ("SE01-002", "SE01"),
        ("SE02-001", "SE02"),
        ("SE01-001", "SE01"),
    ] {
        store
            .append(
                id,
                0,
                &[event("Registered", 1)],
                &meta(),
                &[Projection::Participant(participant(id, site, 1))],
            )
            .await
            .unwrap();
    }
    let ids =
        |rows: Vec<store::ParticipantRow>| rows.into_iter().map(|r| r.study_id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.participants(Some("SE01")).await.unwrap()),
        ["SE01-001", "SE01-002", "SE01-010"]
    );
    assert_eq!(
        ids(store.participants(Some("SE02")).await.unwrap()),
        ["SE02-001", "SE02-002"]
    );
    assert_eq!(
        ids(store.participants(None).await.unwrap()),
        ["SE01-001", "SE01-002", "SE01-010", "SE02-001", "SE02-002"]
    );
    assert!(store.participants(Some("SE03")).await.unwrap().is_empty());
    assert_eq!(store.count_participants("SE01").await.unwrap(), 3);
    assert_eq!(store.count_participants("SE02").await.unwrap(), 2);
    assert_eq!(store.count_participants("SE03").await.unwrap(), 0);
}
