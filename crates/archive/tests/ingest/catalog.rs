//! The archive with its index in the study database (SQLite here; the store's own tests
//! run the same queries on PostgreSQL): new, duplicate and conflict decided as before,
//! series and their files answered by the database, an object whose row a crash lost
//! indexed again at open, and the index files of an earlier version moved in.

use std::path::Path;
use std::sync::Arc;

use archive::{Archive, Catalog, Source, StoreOutcome, import_folder};

use crate::ingest_support::{
    Running, archive_files, pet_files, rtstruct_file, send_with_dicom_ul, sop_instance_uid,
};

/// A study database in `data` and the runtime its queries run on.
struct Study {
    runtime: tokio::runtime::Runtime,
    store: store::Store,
}

impl Study {
    fn open(data: &Path) -> Study {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let store = runtime.block_on(store::Store::open_data_dir(data)).unwrap();
        Study { runtime, store }
    }

    /// The archive of `data` with its index in this database, as every program opens it.
    fn archive(&self, data: &Path) -> Archive {
        let catalog = Catalog::new(self.store.clone(), self.runtime.handle().clone()).unwrap();
        Archive::open_with_catalog(data, catalog).unwrap()
    }

    fn rows(&self) -> usize {
        self.runtime
            .block_on(self.store.all_instances())
            .unwrap()
            .len()
    }
}

#[test]
fn with_the_database_new_duplicate_and_conflict_are_decided_and_series_listed() {
    let src = tempfile::tempdir().unwrap();
    for f in pet_files().into_iter().chain([rtstruct_file()]) {
        std::fs::copy(&f, src.path().join(f.file_name().unwrap())).unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let study = Study::open(data.path());
    let archive = study.archive(data.path());
    let report = import_folder(&archive, src.path(), "KS", &mut |_| {}).unwrap();
    assert_eq!((report.new, report.duplicate, report.conflict), (21, 0, 0));
    // Right away, whether or not the rows are committed yet: duplicates.
    let again = import_folder(&archive, src.path(), "KS", &mut |_| {}).unwrap();
    assert_eq!((again.new, again.duplicate, again.conflict), (0, 21, 0));
    archive.flush_index().unwrap();
    assert_eq!(study.rows(), 21, "one row per object, in the database");
    assert!(
        !data.path().join("dicom").join("index").exists(),
        "no index files"
    );

    // Another version of a stored instance: a conflict, kept beside the first.
    let original = std::fs::read(&pet_files()[3]).unwrap();
    let mut altered = original.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0x01;
    let source = Source::Folder {
        path: "slice.dcm".into(),
    };
    let stored = archive.store_bytes(&altered, &source, "KS").unwrap();
    assert_eq!(stored.outcome, StoreOutcome::Conflict);
    assert_eq!(
        archive
            .store_bytes(&altered, &source, "KS")
            .unwrap()
            .outcome,
        StoreOutcome::Duplicate,
        "the conflicting version is itself a stored version"
    );

    let mine = archive.series_of("KS", "").unwrap();
    assert!(mine.is_empty(), "no series has an empty PatientID");
    let all = archive.series().unwrap();
    assert_eq!(all.len(), 2);
    let pt = all.iter().find(|s| s.is_pet).expect("the PET series");
    assert_eq!((pt.instance_count, pt.conflicting_instances), (20, 1));
    let patient = pt.patient_id.clone().expect("a PatientID");
    let of_patient = archive.series_of("KS", &patient).unwrap();
    assert!(of_patient.iter().any(|s| s == pt));
    assert!(archive.series_of("UU", &patient).unwrap().is_empty());
    assert_eq!(
        archive
            .series_summary(&pt.series_instance_uid)
            .unwrap()
            .as_ref(),
        Some(pt)
    );
    assert_eq!(archive.series_summary("1.2.3.404").unwrap(), None);

    let files = archive.series_files(&pt.series_instance_uid).unwrap();
    assert_eq!(files.len(), 20);
    let uid = sop_instance_uid(&pet_files()[3]);
    let chosen = files
        .iter()
        .find(|f| sop_instance_uid(f) == uid)
        .expect("the instance is in the series");
    assert_eq!(
        std::fs::read(chosen).unwrap().last(),
        original.last(),
        "the first version is the one read"
    );
    let mut uids: Vec<_> = files.iter().map(|f| sop_instance_uid(f)).collect();
    let sorted = {
        let mut s = uids.clone();
        s.sort();
        s
    };
    assert_eq!(uids, sorted, "by SOPInstanceUID");
    uids.dedup();
    assert_eq!(uids.len(), 20);
}

#[test]
fn the_receiver_indexes_into_the_database_and_a_lost_row_is_indexed_again_at_open() {
    let data = tempfile::tempdir().unwrap();
    let study = Study::open(data.path());
    let archive = Arc::new(study.archive(data.path()));
    let scp = Running::start(&archive);
    for f in &pet_files()[..3] {
        assert_eq!(send_with_dicom_ul(scp.addr, f, true), Some(0));
    }
    scp.stop();
    let before = archive.instances().unwrap();
    assert_eq!(before.len(), 3);
    assert!(before.iter().all(|e| e.site.as_deref() == Some("KS")));
    drop(archive);

    // What a crash before the batch's commit leaves: the object, without its row.
    let lost = &before[1];
    study
        .runtime
        .block_on(study.store.execute_raw_for_tests(&format!(
            "DELETE FROM dicom_instances WHERE sha256 = '{}'",
            lost.sha256
        )))
        .unwrap();
    assert_eq!(study.rows(), 2);

    let reopened = study.archive(data.path());
    let after = reopened.instances().unwrap();
    assert_eq!(after.len(), 3, "the object is indexed again");
    let found = after.iter().find(|e| e.sha256 == lost.sha256).unwrap();
    assert_eq!(found.sop_instance_uid, lost.sop_instance_uid);
    assert_eq!(found.site, lost.site, "site from its provenance");
    assert_eq!(found.source, lost.source, "source from its provenance");
    assert!((found.received_at - lost.received_at).num_seconds().abs() < 60);
    drop(reopened);
    assert_eq!(study.archive(data.path()).instances().unwrap(), after);
}

#[test]
fn index_files_of_an_earlier_version_are_moved_into_the_database_once() {
    let src = tempfile::tempdir().unwrap();
    for f in &pet_files()[..4] {
        std::fs::copy(f, src.path().join(f.file_name().unwrap())).unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let files_archive = Archive::open(data.path()).unwrap();
    import_folder(&files_archive, src.path(), "UU", &mut |_| {}).unwrap();
    let in_files = files_archive.instances().unwrap();
    let objects = archive_files(&files_archive).0;
    drop(files_archive);

    let study = Study::open(data.path());
    let archive = study.archive(data.path());
    let dicom = data.path().join("dicom");
    assert!(!dicom.join("index").exists(), "the folder is renamed");
    assert!(dicom.join(archive::recovery::MOVED_INDEX_FOLDER).is_dir());
    let in_db = archive.instances().unwrap();
    assert_eq!(in_db.len(), in_files.len());
    for (f, d) in in_files.iter().zip(&in_db) {
        assert_eq!(
            (&f.sop_instance_uid, &f.sha256),
            (&d.sop_instance_uid, &d.sha256)
        );
        assert_eq!((&f.site, &f.source, f.size), (&d.site, &d.source, d.size));
        // Moved, not found again: the received time is the entry's (to the microsecond
        // the database keeps), not the file's.
        assert_eq!(
            f.received_at.timestamp_micros(),
            d.received_at.timestamp_micros()
        );
    }
    assert_eq!(archive_files(&archive).0, objects, "no object touched");
    drop(archive);
    assert_eq!(study.archive(data.path()).instances().unwrap(), in_db);
    assert_eq!(study.rows(), in_files.len());
}
