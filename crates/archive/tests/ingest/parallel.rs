//! Stores in parallel: different SOP instances land side by side, one instance is
//! classified once.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::thread;

use archive::{Archive, Source, StoreOutcome};
use dicom_dictionary_std::uids;

use crate::duplicates::reencode;
use crate::ingest_support::{
    Running, archive_files, pet_files, send_with_dicom_ul, sop_instance_uid,
};

#[test]
fn different_instances_stored_from_several_threads_all_land_and_are_indexed() {
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let files = pet_files();
    let start = Arc::new(Barrier::new(4));
    let threads: Vec<_> = files
        .chunks(5)
        .map(|chunk| {
            let (archive, start, chunk) = (archive.clone(), start.clone(), chunk.to_vec());
            thread::spawn(move || {
                start.wait();
                let source = Source::Folder { path: "x".into() };
                chunk
                    .iter()
                    .map(|f| {
                        let bytes = std::fs::read(f).unwrap();
                        archive.store_bytes(&bytes, &source, "KS").unwrap().outcome
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let outcomes: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(outcomes, vec![StoreOutcome::New; 20]);
    let (objects, temporary) = archive_files(&archive);
    assert_eq!((objects.len(), temporary.len()), (20, 0));
    let indexed: BTreeSet<_> = archive
        .instances()
        .unwrap()
        .into_iter()
        .map(|e| e.sop_instance_uid)
        .collect();
    let sent: BTreeSet<_> = files.iter().map(|f| sop_instance_uid(f)).collect();
    assert_eq!(indexed, sent);
}

#[test]
fn parallel_associations_store_every_acknowledged_object() {
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let scp = Running::start(&archive);
    let files = pet_files();
    let addr = scp.addr;
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let mine: Vec<_> = files.iter().skip(i).step_by(4).cloned().collect();
            thread::spawn(move || {
                mine.iter()
                    .filter(|f| send_with_dicom_ul(addr, f, true) == Some(0))
                    .count()
            })
        })
        .collect();
    let acknowledged: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    scp.stop();
    assert_eq!(acknowledged, 20);
    assert_eq!(archive.instances().unwrap().len(), 20);
    assert_eq!(archive_files(&archive).0.len(), 20);
}

#[test]
fn concurrent_stores_of_one_instance_give_one_new_and_the_rest_duplicates() {
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let explicit = std::fs::read(&pet_files()[4]).unwrap();
    let implicit = reencode(&explicit, uids::IMPLICIT_VR_LITTLE_ENDIAN, |_| {});
    let start = Arc::new(Barrier::new(6));
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let bytes = if i % 2 == 0 { &explicit } else { &implicit }.clone();
            let (archive, start) = (archive.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let source = Source::Folder { path: "x".into() };
                archive.store_bytes(&bytes, &source, "KS").unwrap().outcome
            })
        })
        .collect();
    let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let new = outcomes.iter().filter(|o| **o == StoreOutcome::New).count();
    let duplicate = outcomes
        .iter()
        .filter(|o| **o == StoreOutcome::Duplicate)
        .count();
    assert_eq!((new, duplicate), (1, 5), "{outcomes:?}");
    assert_eq!(archive.instances().unwrap().len(), 1);
    assert_eq!(archive_files(&archive).0.len(), 1);
}
