//! A crash after an object is on disk but before its index entry is: opening the archive
//! indexes the object again, with its site and source.

use std::sync::Arc;

use archive::recovery::PROVENANCE_UID;
use archive::{Archive, ArchivedInstance, Source, StoreOutcome};
use pet::series::open::parse_dicom;

use crate::ingest_support::{Running, data_set_of, pet_files, send_with_dicom_ul, sha256_hex};

#[test]
fn objects_whose_index_entry_was_lost_are_indexed_again_on_open() {
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let files = pet_files();
    let scp = Running::start(&archive);
    for f in &files[..3] {
        assert_eq!(send_with_dicom_ul(scp.addr, f, true), Some(0));
    }
    scp.stop();
    let imported = archive
        .store_bytes(
            &std::fs::read(&files[3]).unwrap(),
            &Source::Folder {
                path: "scan/4.dcm".into(),
            },
            "UU",
        )
        .unwrap();
    let before = archive.instances().unwrap();
    assert_eq!(before.len(), 4);
    // The index file of an instance: index/<ab>/<uid>.jsonl, ab from the SHA-256 of the UID.
    let entry_file = |e: &ArchivedInstance| {
        let shard = &sha256_hex(e.sop_instance_uid.as_bytes())[..2];
        archive
            .root()
            .join("index")
            .join(shard)
            .join(format!("{}.jsonl", e.sop_instance_uid))
    };
    // What a power cut can leave: an entry never written, an entry file empty, a line
    // cut short (and one cut short, then followed by a later version's line).
    std::fs::remove_file(entry_file(&before[0])).unwrap();
    std::fs::write(entry_file(&before[1]), b"").unwrap();
    let line = std::fs::read(entry_file(&before[2])).unwrap();
    std::fs::write(entry_file(&before[2]), &line[..line.len() / 2]).unwrap();
    let line = std::fs::read(entry_file(&before[3])).unwrap();
    let mut cut_then_more = line[..line.len() / 2].to_vec();
    cut_then_more.extend_from_slice(b"\n{\"not\":\"an entry\"}\n");
    std::fs::write(entry_file(&before[3]), &cut_then_more).unwrap();
    assert!(archive.instances().unwrap().is_empty(), "all four lost");
    drop(archive);

    let reopened = Archive::open(data.path()).unwrap();
    let after = reopened.instances().unwrap();
    assert_eq!(after.len(), 4, "every object indexed");
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(a.sop_instance_uid, b.sop_instance_uid);
        assert_eq!(a.series_instance_uid, b.series_instance_uid);
        assert_eq!(a.site, b.site, "site kept for {}", a.sop_instance_uid);
        assert_eq!(a.source, b.source, "source kept for {}", a.sop_instance_uid);
        assert_eq!(a.size, b.size);
        // The received time of a recovered entry is the file's, within seconds.
        assert!((a.received_at - b.received_at).num_seconds().abs() < 60);
    }
    assert!(
        after
            .iter()
            .any(|e| e.sha256 == imported.sha256 && e.site.as_deref() == Some("UU"))
    );
    // Opened again, nothing is added twice.
    drop(reopened);
    assert_eq!(
        Archive::open(data.path()).unwrap().instances().unwrap(),
        after
    );
}

#[test]
fn every_stored_object_carries_its_provenance() {
    let data = tempfile::tempdir().unwrap();
    let archive = Archive::open(data.path()).unwrap();
    let source = Source::Network {
        calling_ae_title: "KS_PETCT".into(),
        peer: "10.1.2.3:1040".into(),
    };
    let stored = archive
        .store_bytes(&std::fs::read(&pet_files()[0]).unwrap(), &source, "KS")
        .unwrap();
    let obj = parse_dicom(std::fs::read(&stored.path).unwrap()).unwrap();
    let meta = obj.meta();
    assert_eq!(meta.private_information_creator_uid(), Some(PROVENANCE_UID));
    let info = String::from_utf8(meta.private_information.clone().unwrap()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(json["site"], "KS");
    assert_eq!(json["source"]["calling_ae_title"], "KS_PETCT");
}

#[test]
fn opening_the_archive_beside_a_store_in_progress_leaves_its_object_alone() {
    let data = tempfile::tempdir().unwrap();
    let archive = Archive::open(data.path()).unwrap();
    let file = std::fs::read(&pet_files()[0]).unwrap();
    let data_set = data_set_of(&file);
    // A caller's own file meta group, with its group length.
    let mut table = parse_dicom(file.clone()).unwrap().meta().clone();
    table.update_information_group_length();
    let mut meta = vec![0u8; 128];
    meta.extend_from_slice(b"DICM");
    table.write(&mut meta).unwrap();
    let transfer_syntax = table.transfer_syntax().to_string();
    let mut incoming = archive.begin(&meta, &transfer_syntax).unwrap();
    let half = data_set.len() / 2;
    incoming.push(&data_set[..half]).unwrap();
    // An import starts while the object is on its way.
    let _import = Archive::open(data.path()).unwrap();
    incoming.push(&data_set[half..]).unwrap();
    let source = Source::Folder {
        path: "scan/1.dcm".into(),
    };
    let stored = archive
        .commit(incoming, &source, "KS", archive.now())
        .unwrap();
    assert_eq!(stored.outcome, StoreOutcome::New);
    assert_eq!(archive.instances().unwrap().len(), 1);
}

#[test]
fn an_object_cut_by_a_crash_before_its_acknowledgement_is_set_aside_and_a_resend_stores_it() {
    let data = tempfile::tempdir().unwrap();
    let archive = Archive::open(data.path()).unwrap();
    let bytes = std::fs::read(&pet_files()[5]).unwrap();
    let source = Source::Folder {
        path: "scan/6.dcm".into(),
    };
    let stored = archive.store_bytes(&bytes, &source, "KS").unwrap();
    // What a crash between the rename and the end of the flush can leave: the object
    // under its name, its bytes not all there, no index entry.
    let shard = &sha256_hex(stored.sop_instance_uid.as_bytes())[..2];
    std::fs::remove_file(
        archive
            .root()
            .join("index")
            .join(shard)
            .join(format!("{}.jsonl", stored.sop_instance_uid)),
    )
    .unwrap();
    let full = std::fs::read(&stored.path).unwrap();
    std::fs::write(&stored.path, &full[..full.len() / 2]).unwrap();
    drop(archive);

    let reopened = Archive::open(data.path()).unwrap();
    assert!(reopened.instances().unwrap().is_empty(), "not indexed");
    assert!(!stored.path.exists(), "moved out of the objects");
    let name = stored.path.file_name().unwrap();
    assert!(reopened.root().join("damaged").join(name).is_file());

    let again = reopened.store_bytes(&bytes, &source, "KS").unwrap();
    assert_eq!(again.outcome, StoreOutcome::New);
    assert_eq!(std::fs::read(&again.path).unwrap(), full, "whole again");
}
