//! The visits read table: replaced with a participant's events or rebuilt without them,
//! and listed overdue, due, upcoming.

use chrono::NaiveDate;
use store::{Projection, Store, StoreError, StoreErrorKind, VisitQuery, VisitRow, VisitSchedule};

use crate::support::{event, may, meta, participant, register, store_tests, visit};

store_tests!(
    visit_rows_are_replaced_with_the_participants_events,
    a_refused_append_leaves_visit_rows_unchanged,
    open_visits_list_overdue_then_due_then_upcoming,
    open_visits_agree_with_each_rows_status_on_every_day,
    open_visit_pages_join_up_to_the_whole_list,
    open_visits_filter_by_site_and_study_id,
    a_rebuild_replaces_visit_rows_without_events,
    a_rebuild_from_a_stale_version_writes_nothing,
);

/// The open visits on `today`, all of them (filters as given), with the total.
async fn open(store: &Store, today: NaiveDate) -> (Vec<VisitRow>, u64) {
    store
        .open_visits(&VisitQuery {
            site: None,
            search: None,
            today,
            limit: 1000,
            offset: 0,
        })
        .await
        .unwrap()
}

/// `(study_id, kind)` of each row.
fn keys(rows: &[VisitRow]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| (r.study_id.clone(), r.kind.clone()))
        .collect()
}

fn key_list(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(s, k)| (s.to_string(), k.to_string()))
        .collect()
}

/// Appends one event to `study_id` at `version` with its visit rows.
async fn set_visits(store: &Store, study_id: &str, version: i64, rows: Vec<VisitRow>) {
    store
        .append(
            study_id,
            version,
            &[event("ScheduleChanged", version + 1)],
            &meta(),
            &[
                Projection::Participant(participant(study_id, &study_id[..4], version + 1)),
                Projection::Visits {
                    study_id: study_id.into(),
                    rows,
                },
            ],
        )
        .await
        .unwrap();
}

/// Three participants whose visits, on 15 May, fall in every part of the list.
async fn three_schedules(store: &Store) {
    for id in ["SE01-001", "SE01-002", "SE02-001"] {
        register(store, id, &id[..4]).await;
    }
    let schedules = [
        (
            "SE01-001",
            vec![
                visit("SE01-001", "V1", (1, 5), true),
                visit("SE01-001", "V2", (10, 20), true),
                visit("SE01-001", "V3", (20, 25), false),
                visit("SE01-001", "Opt", (1, 10), false),
            ],
        ),
        (
            "SE01-002",
            vec![
                visit("SE01-002", "V1", (2, 5), true),
                visit("SE01-002", "V2", (15, 15), false),
                visit("SE01-002", "V3", (16, 30), true),
            ],
        ),
        (
            "SE02-001",
            vec![
                visit("SE02-001", "A", (1, 14), true),
                visit("SE02-001", "AA", (1, 14), true),
                visit("SE02-001", "B", (14, 20), true),
                visit("SE02-001", "C", (16, 16), true),
                visit("SE02-001", "D", (1, 14), false),
            ],
        ),
    ];
    for (id, rows) in schedules {
        set_visits(store, id, 1, rows).await;
    }
}

async fn visit_rows_are_replaced_with_the_participants_events(store: Store) {
    register(&store, "SE01-002", "SE01").await;
    set_visits(
        &store,
        "SE01-002",
        1,
        vec![visit("SE01-002", "PET1", (3, 9), true)],
    )
    .await;
    let first = vec![
        visit("SE01-001", "PET1", (1, 7), true),
        visit("SE01-001", "PET2", (20, 27), true),
        visit("SE01-001", "Biopsy", (8, 12), false),
    ];
    store
        .append(
            "SE01-001",
            0,
            &[event("Registered", 1)],
            &meta(),
            &[
                Projection::Participant(participant("SE01-001", "SE01", 1)),
                Projection::Visits {
                    study_id: "SE01-001".into(),
                    rows: first.clone(),
                },
            ],
        )
        .await
        .unwrap();
    let (rows, total) = open(&store, may(1)).await;
    assert_eq!(total, 4);
    // Read back exactly as written: dates, flag, detail JSON.
    let pet2 = rows.iter().find(|r| r.kind == "PET2").unwrap();
    assert_eq!(pet2, &first[1]);

    let mut moved = visit("SE01-001", "PET2", (22, 29), true);
    moved.detail = serde_json::json!({"moved": true});
    let second = vec![moved.clone(), visit("SE01-001", "CT", (25, 30), true)];
    set_visits(&store, "SE01-001", 1, second).await;
    let (rows, total) = open(&store, may(1)).await;
    assert_eq!(
        keys(&rows),
        key_list(&[
            ("SE01-002", "PET1"),
            ("SE01-001", "PET2"),
            ("SE01-001", "CT")
        ])
    );
    assert_eq!(total, 3);
    assert_eq!(rows[1], moved);

    set_visits(&store, "SE01-001", 2, vec![]).await;
    assert_eq!(
        keys(&open(&store, may(1)).await.0),
        key_list(&[("SE01-002", "PET1")])
    );
    assert!(store.verify_chain().await.unwrap().is_intact());
}

async fn a_refused_append_leaves_visit_rows_unchanged(store: Store) {
    register(&store, "SE01-001", "SE01").await;
    set_visits(
        &store,
        "SE01-001",
        1,
        vec![visit("SE01-001", "PET1", (3, 9), true)],
    )
    .await;
    let before = open(&store, may(1)).await;
    let replace = |rows| Projection::Visits {
        study_id: "SE01-001".into(),
        rows,
    };

    // Stale version: a conflict, nothing written.
    let err = store
        .append(
            "SE01-001",
            1,
            &[event("Late", 2)],
            &meta(),
            &[replace(vec![])],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);

    // Rows that are not this participant's schedule: refused before anything is written.
    let mut stranger = visit("SE01-001", "CT", (3, 9), true);
    stranger.study_id = "SE01-009".into();
    let invalid = [
        vec![stranger],
        vec![
            visit("SE01-001", "CT", (3, 9), true),
            visit("SE01-001", "CT", (10, 12), true),
        ],
        vec![visit("SE01-001", "CT", (9, 3), true)],
    ];
    for rows in invalid {
        let err = store
            .append(
                "SE01-001",
                2,
                &[event("Next", 3)],
                &meta(),
                &[replace(rows)],
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(store.stream_version("SE01-001").await.unwrap(), 2);
    assert_eq!(open(&store, may(1)).await, before);
}

async fn open_visits_list_overdue_then_due_then_upcoming(store: Store) {
    three_schedules(&store).await;
    let (rows, total) = open(&store, may(15)).await;
    assert_eq!(
        keys(&rows),
        key_list(&[
            // Overdue: required, window closed; by last day, study id, kind.
            ("SE01-001", "V1"),
            ("SE01-002", "V1"),
            ("SE02-001", "A"),
            ("SE02-001", "AA"),
            // Due: window open today.
            ("SE01-002", "V2"),
            ("SE01-001", "V2"),
            ("SE02-001", "B"),
            // Upcoming: by last day, not first.
            ("SE02-001", "C"),
            ("SE01-001", "V3"),
            ("SE01-002", "V3"),
        ])
    );
    // The optional visits whose windows closed (SE01-001 Opt, SE02-001 D) are left out.
    assert_eq!(total, 10);
}

async fn open_visits_agree_with_each_rows_status_on_every_day(store: Store) {
    three_schedules(&store).await;
    for day in 1..=31 {
        let (listed, total) = open(&store, may(day)).await;
        assert_eq!(total, listed.len() as u64);
        let mut expected: Vec<&VisitRow> = listed.iter().collect();
        expected.sort_by_key(|r| (r.status(may(day)), r.latest, &r.study_id, &r.kind));
        assert_eq!(
            listed.iter().collect::<Vec<_>>(),
            expected,
            "order on {day} May"
        );
        assert!(listed.iter().all(|r| r.status(may(day)).is_some()));
    }
    // On 1 May no window has closed: all 12 rows are open. On 31 May every window has:
    // the 8 required visits are overdue, the 4 optional ones skipped.
    assert_eq!(open(&store, may(1)).await.1, 12);
    let (late, _) = open(&store, may(31)).await;
    assert_eq!(late.len(), 8);
    assert!(late.iter().all(|r| r.required));
}

async fn open_visit_pages_join_up_to_the_whole_list(store: Store) {
    three_schedules(&store).await;
    let (whole, total) = open(&store, may(15)).await;
    for limit in 1..=4u32 {
        let mut joined = Vec::new();
        for offset in (0..12u32).step_by(limit as usize) {
            let (page, page_total) = store
                .open_visits(&VisitQuery {
                    site: None,
                    search: None,
                    today: may(15),
                    limit,
                    offset,
                })
                .await
                .unwrap();
            assert_eq!(page_total, total);
            assert!(page.len() <= limit as usize);
            joined.extend(page);
        }
        assert_eq!(joined, whole, "pages of {limit}");
    }
}

async fn open_visits_filter_by_site_and_study_id(store: Store) {
    three_schedules(&store).await;
    let list = |site: Option<&str>, search: Option<&str>| {
        let store = store.clone();
        let q = VisitQuery {
            site: site.map(String::from),
            search: search.map(String::from),
            today: may(15),
            limit: 2,
            offset: 0,
        };
        async move {
            let (rows, total) = store.open_visits(&q).await.unwrap();
            (keys(&rows), total)
        }
    };
    assert_eq!(
        list(Some("SE02"), None).await,
        (key_list(&[("SE02-001", "A"), ("SE02-001", "AA")]), 4)
    );
    assert_eq!(
        list(None, Some("e01-00")).await,
        (key_list(&[("SE01-001", "V1"), ("SE01-002", "V1")]), 6)
    );
    assert_eq!(
        list(Some("SE01"), Some("002")).await,
        (key_list(&[("SE01-002", "V1"), ("SE01-002", "V2")]), 3)
    );
    assert_eq!(list(Some("SE02"), Some("002")).await, (vec![], 0));
}

async fn a_rebuild_replaces_visit_rows_without_events(store: Store) {
    three_schedules(&store).await;
    let events_before = store.read_all(0, 1000).await.unwrap().len();
    let head_before = store.verify_chain().await.unwrap().head_hash;
    store
        .rebuild_visits(&[
            VisitSchedule {
                study_id: "SE01-001".into(),
                version: 2,
                rows: vec![visit("SE01-001", "V9", (20, 22), true)],
            },
            VisitSchedule {
                study_id: "SE02-001".into(),
                version: 2,
                rows: vec![],
            },
        ])
        .await
        .unwrap();
    let (rows, _) = open(&store, may(15)).await;
    assert_eq!(
        keys(&rows),
        key_list(&[
            ("SE01-002", "V1"),
            ("SE01-002", "V2"),
            ("SE01-001", "V9"),
            ("SE01-002", "V3"),
        ])
    );
    // Derived rows only: the log is as it was.
    assert_eq!(store.read_all(0, 1000).await.unwrap().len(), events_before);
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact());
    assert_eq!(report.head_hash, head_before);
    store.rebuild_visits(&[]).await.unwrap();

    let mut stranger = visit("SE01-001", "V9", (20, 22), true);
    stranger.study_id = "SE02-001".into();
    let err = store
        .rebuild_visits(&[VisitSchedule {
            study_id: "SE01-001".into(),
            version: 2,
            rows: vec![stranger],
        }])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::InvalidInput);
}

async fn a_rebuild_from_a_stale_version_writes_nothing(store: Store) {
    three_schedules(&store).await;
    // SE01-002 moves on after its schedule was computed at version 2.
    set_visits(
        &store,
        "SE01-002",
        2,
        vec![visit("SE01-002", "V4", (1, 31), true)],
    )
    .await;
    let before = open(&store, may(15)).await;
    let err = store
        .rebuild_visits(&[
            VisitSchedule {
                study_id: "SE01-001".into(),
                version: 2,
                rows: vec![],
            },
            VisitSchedule {
                study_id: "SE01-002".into(),
                version: 2,
                rows: vec![],
            },
        ])
        .await
        .unwrap_err();
    match &err {
        StoreError::Conflict {
            stream,
            expected,
            actual,
        } => assert_eq!((stream.as_str(), *expected, *actual), ("SE01-002", 2, 3)),
        other => panic!("expected a conflict, got {other}"),
    }
    // A participant with no row is at version 0.
    let err = store
        .rebuild_visits(&[VisitSchedule {
            study_id: "SE09-001".into(),
            version: 1,
            rows: vec![],
        }])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);
    assert_eq!(open(&store, may(15)).await, before);
}
