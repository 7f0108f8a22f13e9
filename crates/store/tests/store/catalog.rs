//! The DICOM archive's index: rows added once however often they are written, the
//! versions of one SOP instance, series summed up per site and patient by the first
//! instance, and the files of a series with the first version of a conflicting instance.

use chrono::{DateTime, Duration, Utc};
use store::{CatalogInstance, SeriesQuery, Store};

use crate::support::store_tests;

store_tests!(
    a_batch_written_twice_adds_its_rows_once,
    the_versions_of_an_instance_come_oldest_first,
    series_are_summed_up_per_site_and_patient_by_their_first_instance,
    the_files_of_a_series_are_one_per_instance_the_first_version_of_a_conflict,
);

/// A time the store keeps exactly (it keeps microseconds).
fn at(seconds: i64) -> DateTime<Utc> {
    crate::support::t0() - Duration::nanoseconds(238) + Duration::seconds(seconds)
}

fn row(sop: &str, sha: &str, series: &str, seconds: i64) -> CatalogInstance {
    CatalogInstance {
        sop_instance_uid: sop.into(),
        sha256: sha.into(),
        sop_class_uid: "1.2.840.10008.5.1.4.1.1.128".into(),
        series_instance_uid: series.into(),
        study_instance_uid: "1.2.9".into(),
        modality: Some("PT".into()),
        transfer_syntax_uid: "1.2.840.10008.1.2.1".into(),
        size: 1000,
        received_at: at(seconds),
        source: r#"{"kind":"folder","path":"/in/x.dcm"}"#.into(),
        patient_id: Some("SE01-001".into()),
        series_date: Some("20260314".into()),
        series_description: Some("PET WB".into()),
        site: Some("SE01".into()),
        is_pet: true,
    }
}

async fn a_batch_written_twice_adds_its_rows_once(store: Store) {
    let batch = vec![
        row("1.2.3.1", "aa", "1.2.3", 0),
        row("1.2.3.2", "bb", "1.2.3", 1),
    ];
    assert_eq!(store.insert_instances(&batch).await.unwrap(), 2);
    assert_eq!(store.insert_instances(&batch).await.unwrap(), 0);
    // A row already there keeps what it had, even when written again with another time.
    let mut later = row("1.2.3.1", "aa", "1.2.3", 60);
    later.site = Some("SE02".into());
    assert_eq!(store.insert_instances(&[later]).await.unwrap(), 0);
    assert_eq!(store.insert_instances(&[]).await.unwrap(), 0);
    let all = store.all_instances().await.unwrap();
    assert_eq!(all, batch, "every column read back as written");
    let mut hashes = store.indexed_hashes().await.unwrap();
    hashes.sort();
    assert_eq!(hashes, ["aa", "bb"]);
    // More rows than one statement takes go in one call.
    let many: Vec<_> = (0..450)
        .map(|i| row(&format!("1.2.4.{i}"), &format!("{i:064x}"), "1.2.4", i))
        .collect();
    assert_eq!(store.insert_instances(&many).await.unwrap(), 450);
    assert_eq!(store.all_instances().await.unwrap().len(), 452);
}

async fn the_versions_of_an_instance_come_oldest_first(store: Store) {
    store
        .insert_instances(&[
            row("1.2.3.1", "cc", "1.2.3", 20),
            row("1.2.3.1", "aa", "1.2.3", 10),
            row("1.2.3.2", "bb", "1.2.3", 0),
        ])
        .await
        .unwrap();
    let shas = |v: Vec<CatalogInstance>| v.into_iter().map(|r| r.sha256).collect::<Vec<_>>();
    assert_eq!(
        shas(store.instance_versions("1.2.3.1").await.unwrap()),
        ["aa", "cc"]
    );
    assert_eq!(
        shas(store.instance_versions("1.2.3.2").await.unwrap()),
        ["bb"]
    );
    assert!(store.instance_versions("1.2.3.9").await.unwrap().is_empty());
}

async fn series_are_summed_up_per_site_and_patient_by_their_first_instance(store: Store) {
    let mut ct = row("1.2.5.1", "c1", "1.2.5", 5);
    ct.modality = Some("CT".into());
    ct.is_pet = false;
    ct.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2".into();
    let mut other_site = row("1.2.6.1", "d1", "1.2.6", 0);
    other_site.site = Some("SE02".into());
    let mut other_patient = row("1.2.7.1", "e1", "1.2.7", 0);
    other_patient.patient_id = Some("SE01-002".into());
    // A series whose first instance (by SOPInstanceUID) is another patient's: it is
    // listed under that patient only, though a later instance names SE01-001.
    let mut first_other = row("1.2.8.1", "f1", "1.2.8", 0);
    first_other.patient_id = Some("SE01-002".into());
    let second_mine = row("1.2.8.2", "f2", "1.2.8", 1);
    store
        .insert_instances(&[
            row("1.2.3.2", "a2", "1.2.3", 3),
            row("1.2.3.1", "a1", "1.2.3", 1),
            row("1.2.3.1", "a1b", "1.2.3", 7),
            ct,
            row("1.2.5.2", "c2", "1.2.5", 2),
            other_site,
            other_patient,
            first_other,
            second_mine,
        ])
        .await
        .unwrap();

    let mine = store
        .catalog_series(&SeriesQuery {
            site: Some("SE01".into()),
            patient_id: Some("SE01-001".into()),
            series_instance_uid: None,
        })
        .await
        .unwrap();
    let uids: Vec<_> = mine
        .iter()
        .map(|s| s.series_instance_uid.as_str())
        .collect();
    assert_eq!(uids, ["1.2.3", "1.2.5"]);
    let pet = &mine[0];
    assert_eq!(pet.instance_count, 2);
    assert_eq!(pet.conflicting_instances, 1);
    assert!(pet.is_pet);
    assert_eq!(pet.last_received_at, at(7));
    assert_eq!(pet.modality.as_deref(), Some("PT"));
    assert_eq!(pet.study_instance_uid, "1.2.9");
    assert_eq!(pet.series_description.as_deref(), Some("PET WB"));
    let mixed = &mine[1];
    assert_eq!((mixed.instance_count, mixed.conflicting_instances), (2, 0));
    assert!(!mixed.is_pet, "a series with a CT image is not quantified");
    assert_eq!(
        mixed.modality.as_deref(),
        Some("CT"),
        "from its first instance"
    );
    assert_eq!(mixed.last_received_at, at(5));

    let theirs = store
        .catalog_series(&SeriesQuery {
            site: Some("SE01".into()),
            patient_id: Some("SE01-002".into()),
            series_instance_uid: None,
        })
        .await
        .unwrap();
    let uids: Vec<_> = theirs
        .iter()
        .map(|s| s.series_instance_uid.as_str())
        .collect();
    assert_eq!(uids, ["1.2.7", "1.2.8"]);
    assert_eq!(theirs[1].instance_count, 2, "summed over all its instances");

    let all = store.catalog_series(&SeriesQuery::default()).await.unwrap();
    assert_eq!(all.len(), 5);
    let one = store
        .catalog_series(&SeriesQuery {
            series_instance_uid: Some("1.2.6".into()),
            ..SeriesQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].site.as_deref(), Some("SE02"));
    let elsewhere = store
        .catalog_series(&SeriesQuery {
            site: Some("SE01".into()),
            series_instance_uid: Some("1.2.6".into()),
            ..SeriesQuery::default()
        })
        .await
        .unwrap();
    assert!(elsewhere.is_empty(), "another site's series is not found");
}

async fn the_files_of_a_series_are_one_per_instance_the_first_version_of_a_conflict(store: Store) {
    store
        .insert_instances(&[
            row("1.2.3.10", "b", "1.2.3", 2),
            row("1.2.3.2", "z", "1.2.3", 1),
            row("1.2.3.2", "a", "1.2.3", 9),
            row("1.2.3.1", "m", "1.2.3", 0),
            // Another version of 1.2.3.1 filed under another series.
            row("1.2.3.1", "n", "1.2.4", 5),
        ])
        .await
        .unwrap();
    let files = store.series_objects("1.2.3").await.unwrap();
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(s, h)| (s.as_str(), h.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [("1.2.3.1", "m"), ("1.2.3.10", "b"), ("1.2.3.2", "z")],
        "by SOPInstanceUID as text; the version received first"
    );
    assert_eq!(
        store.series_objects("1.2.4").await.unwrap(),
        [("1.2.3.1".to_string(), "n".to_string())]
    );
    assert!(store.series_objects("9.9").await.unwrap().is_empty());
}
