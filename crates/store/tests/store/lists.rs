//! The paged participant list: filters, order, totals, pages.

use serde_json::json;
use store::{
    MAX_PAGE_SIZE, ParticipantListRow, ParticipantQuery, Projection, Store, StoreErrorKind,
    StreamAppend,
};

use crate::support::{event, meta, participant, store_tests};

store_tests!(
    the_list_pages_through_participants_by_study_id_with_the_total,
    site_state_and_search_filters_combine_and_count_what_they_match,
    search_ignores_ascii_case_and_matches_wildcards_literally,
    list_rows_are_the_participant_rows_without_their_snapshot,
    oversized_pages_are_refused,
);

/// Eight participants at three sites in three states, registered in one batch.
async fn eight_participants(store: &Store) {
    let people = [
        ("SE02-002", "SE02", "Screening"),
        ("SE01-010", "SE01", "Consented"),
        ("SE01-002", "SE01", "Screening"),
        ("SE02-001", "SE02", "Consented"),
        ("SE01-001", "SE01", "Enrolled"),
        ("SE03-001", "SE03", "Screening"),
        ("SE01-003", "SE01", "Screening"),
        ("SE03-002", "SE03", "Enrolled"),
    ];
    let batch: Vec<StreamAppend> = people
        .iter()
        .map(|(id, site, state)| {
            let mut row = participant(id, site, 1);
            row.state = (*state).into();
            StreamAppend {
                stream: (*id).into(),
                expected_version: 0,
                events: vec![event("Registered", 1)],
                meta: meta(),
                projections: vec![Projection::Participant(row)],
            }
        })
        .collect();
    store.append_batch(&batch).await.unwrap();
}

fn query(limit: u32, offset: u32) -> ParticipantQuery {
    ParticipantQuery {
        limit,
        offset,
        ..ParticipantQuery::default()
    }
}

async fn ids(store: &Store, q: &ParticipantQuery) -> (Vec<String>, u64) {
    let (rows, total) = store.participants_page(q).await.unwrap();
    (rows.into_iter().map(|r| r.study_id).collect(), total)
}

async fn the_list_pages_through_participants_by_study_id_with_the_total(store: Store) {
    eight_participants(&store).await;
    let all = [
        "SE01-001", "SE01-002", "SE01-003", "SE01-010", "SE02-001", "SE02-002", "SE03-001",
        "SE03-002",
    ];
    let mut paged = Vec::new();
    for offset in (0..8).step_by(3) {
        let (page, total) = ids(&store, &query(3, offset)).await;
        assert_eq!(total, 8);
        assert!(page.len() <= 3);
        paged.extend(page);
    }
    assert_eq!(paged, all);
    assert_eq!(
        ids(&store, &query(100, 0)).await,
        (all.map(String::from).to_vec(), 8)
    );
    // Past the end: no rows, still the total. A limit of 0 only counts.
    assert_eq!(ids(&store, &query(3, 8)).await, (vec![], 8));
    assert_eq!(ids(&store, &query(3, 500)).await, (vec![], 8));
    assert_eq!(ids(&store, &query(0, 0)).await, (vec![], 8));
}

async fn site_state_and_search_filters_combine_and_count_what_they_match(store: Store) {
    eight_participants(&store).await;
    let q =
        |site: Option<&str>, state: Option<&str>, search: Option<&str>, limit| ParticipantQuery {
            site: site.map(String::from),
            state: state.map(String::from),
            search: search.map(String::from),
            limit,
            offset: 0,
        };
    assert_eq!(
        ids(&store, &q(Some("SE01"), None, None, 50)).await,
        (
            vec![
                "SE01-001".into(),
                "SE01-002".into(),
                "SE01-003".into(),
                "SE01-010".into()
            ],
            4
        )
    );
    assert_eq!(
        ids(&store, &q(None, Some("Screening"), None, 2)).await,
        (vec!["SE01-002".into(), "SE01-003".into()], 4)
    );
    assert_eq!(
        ids(&store, &q(Some("SE01"), Some("Screening"), None, 50)).await,
        (vec!["SE01-002".into(), "SE01-003".into()], 2)
    );
    assert_eq!(
        ids(&store, &q(None, None, Some("-00"), 3)).await,
        (
            vec!["SE01-001".into(), "SE01-002".into(), "SE01-003".into()],
            7
        )
    );
    assert_eq!(
        ids(&store, &q(Some("SE03"), Some("Enrolled"), Some("002"), 50)).await,
        (vec!["SE03-002".into()], 1)
    );
    assert_eq!(
        ids(&store, &q(Some("SE02"), Some("Enrolled"), None, 50)).await,
        (vec![], 0)
    );
    assert_eq!(
        ids(&store, &q(Some("SE09"), None, None, 50)).await,
        (vec![], 0)
    );
    // An empty search is no filter.
    assert_eq!(ids(&store, &q(None, None, Some(""), 0)).await.1, 8);
}

async fn search_ignores_ascii_case_and_matches_wildcards_literally(store: Store) {
    for id in ["KS-001", "ks_002", "KS%003", "KSX004", "Ks\\005"] {
        store
            .append(
                id,
                0,
                &[event("Registered", 1)],
                &meta(),
                &[Projection::Participant(participant(id, "KS", 1))],
            )
            .await
            .unwrap();
    }
    let search = |text: &str| ParticipantQuery {
        search: Some(text.into()),
        ..query(50, 0)
    };
    let found = |list: &[&str]| {
        (
            list.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            list.len() as u64,
        )
    };
    assert_eq!(
        ids(&store, &search("ks")).await,
        found(&["KS%003", "KS-001", "KSX004", "Ks\\005", "ks_002"])
    );
    assert_eq!(ids(&store, &search("kS-00")).await, found(&["KS-001"]));
    // `_` and `%` are characters to find, not LIKE wildcards; so is the escape `\`.
    assert_eq!(ids(&store, &search("_")).await, found(&["ks_002"]));
    assert_eq!(ids(&store, &search("%")).await, found(&["KS%003"]));
    assert_eq!(ids(&store, &search("s\\0")).await, found(&["Ks\\005"]));
    assert_eq!(ids(&store, &search("X0")).await, found(&["KSX004"]));
    assert_eq!(ids(&store, &search("zz")).await, found(&[]));
}

async fn list_rows_are_the_participant_rows_without_their_snapshot(store: Store) {
    let mut row = participant("SE01-001", "SE01", 3);
    row.state = "Consented".into();
    row.snapshot = json!({"big": "x".repeat(10_000)});
    store
        .append(
            "SE01-001",
            0,
            &[event("A", 1), event("B", 2), event("C", 3)],
            &meta(),
            &[Projection::Participant(row.clone())],
        )
        .await
        .unwrap();
    let (rows, total) = store.participants_page(&query(10, 0)).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(
        rows,
        [ParticipantListRow {
            study_id: row.study_id,
            site: row.site,
            state: row.state,
            version: 3,
            updated_at: row.updated_at,
        }]
    );
}

async fn oversized_pages_are_refused(store: Store) {
    let err = store
        .participants_page(&query(MAX_PAGE_SIZE + 1, 0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::InvalidInput);
    assert!(
        store
            .participants_page(&query(MAX_PAGE_SIZE, 0))
            .await
            .is_ok()
    );
}
