//! The duplicate rule: a resend of a SOP instance with the same data set content is a
//! duplicate whatever its file meta or transfer syntax; other content under the same
//! SOP Instance UID is a conflict.

use std::sync::Arc;

use archive::{Archive, Source, StoreOutcome};
use dicom_dictionary_std::{tags, uids};

use crate::ingest_support::{Running, archive_files, pet_files, send_with_dicom_ul};

fn folder() -> Source {
    Source::Folder {
        path: "scan/slice.dcm".into(),
    }
}

#[test]
fn the_same_data_set_in_another_transfer_syntax_or_file_meta_is_a_duplicate() {
    let data = tempfile::tempdir().unwrap();
    let archive = Archive::open(data.path()).unwrap();
    let slice = &pet_files()[7];
    let explicit = std::fs::read(slice).unwrap();
    let implicit = reencode(&explicit, uids::IMPLICIT_VR_LITTLE_ENDIAN, |_| {});
    let other_meta = reencode(&explicit, uids::EXPLICIT_VR_LITTLE_ENDIAN, |_| {});
    assert_ne!(implicit, explicit);
    assert_ne!(
        other_meta, explicit,
        "another writer, another file meta group"
    );

    let first = archive.store_bytes(&explicit, &folder(), "KS").unwrap();
    assert_eq!(first.outcome, StoreOutcome::New);
    let (objects, _) = archive_files(&archive);
    for resend in [&implicit, &other_meta] {
        let again = archive.store_bytes(resend, &folder(), "KS").unwrap();
        assert_eq!(again.outcome, StoreOutcome::Duplicate);
        assert_eq!(again.sha256, first.sha256, "the version kept is named");
        assert_eq!(again.path, first.path);
    }
    // From another site and source too: the instance is already held.
    let network = Source::Network {
        calling_ae_title: "WORKSTATION".into(),
        peer: "127.0.0.1:40000".into(),
    };
    let from_elsewhere = archive.store_bytes(&implicit, &network, "UU").unwrap();
    assert_eq!(from_elsewhere.outcome, StoreOutcome::Duplicate);

    let (after, temporary) = archive_files(&archive);
    assert_eq!(after, objects, "nothing written");
    assert!(
        temporary.is_empty(),
        "a duplicate's temporary file is left: {temporary:?}"
    );
    let entries = archive.instances().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].site.as_deref(), Some("KS"));
    let series = archive.series().unwrap();
    assert_eq!(series[0].conflicting_instances, 0);
}

#[test]
fn other_content_under_the_same_uid_is_a_conflict_in_any_transfer_syntax() {
    let data = tempfile::tempdir().unwrap();
    let archive = Archive::open(data.path()).unwrap();
    let explicit = std::fs::read(&pet_files()[7]).unwrap();
    // A corrected weight sent under the old UID changes the SUV: a person decides.
    let reweighed = reencode(&explicit, uids::IMPLICIT_VR_LITTLE_ENDIAN, |obj| {
        obj.put(dicom_object::mem::InMemElement::new(
            tags::PATIENT_WEIGHT,
            dicom_core::VR::DS,
            dicom_core::PrimitiveValue::from("71.5"),
        ));
    });
    assert_eq!(
        archive
            .store_bytes(&explicit, &folder(), "KS")
            .unwrap()
            .outcome,
        StoreOutcome::New
    );
    let second = archive.store_bytes(&reweighed, &folder(), "KS").unwrap();
    assert_eq!(second.outcome, StoreOutcome::Conflict);
    assert!(second.path.is_file(), "the other version is kept");
    assert_eq!(archive.instances().unwrap().len(), 2);
    // Sent again, the second version is a duplicate of itself, not a third version.
    let third = archive.store_bytes(&reweighed, &folder(), "KS").unwrap();
    assert_eq!(third.outcome, StoreOutcome::Duplicate);
    assert_eq!(third.sha256, second.sha256);
    assert_eq!(archive.instances().unwrap().len(), 2);
    let (objects, temporary) = archive_files(&archive);
    assert_eq!(objects.len(), 2, "both versions, each once");
    assert!(temporary.is_empty(), "temporary files left: {temporary:?}");
}

#[test]
fn a_network_resend_from_another_sender_in_another_transfer_syntax_is_a_duplicate() {
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let slice = &pet_files()[2];
    let explicit = std::fs::read(slice).unwrap();
    let implicit_file = data.path().join("implicit.dcm");
    std::fs::write(
        &implicit_file,
        reencode(&explicit, uids::IMPLICIT_VR_LITTLE_ENDIAN, |_| {}),
    )
    .unwrap();
    // Imported first: the archive wrote its own file meta group, without a sender.
    assert_eq!(
        archive
            .store_bytes(&explicit, &folder(), "KS")
            .unwrap()
            .outcome,
        StoreOutcome::New
    );
    let (objects, _) = archive_files(&archive);
    let scp = Running::start(&archive);
    assert_eq!(
        send_with_dicom_ul(scp.addr, &implicit_file, true),
        Some(archive::dimse::status::SUCCESS)
    );
    scp.stop();
    assert_eq!(archive_files(&archive).0, objects, "nothing written");
    assert_eq!(archive.instances().unwrap().len(), 1);
}

/// `file` written again by dicom-rs in `transfer_syntax`, with a file meta group of its
/// own (another implementation, another source AE title), after `change`.
pub fn reencode(
    file: &[u8],
    transfer_syntax: &str,
    change: impl FnOnce(&mut dicom_object::InMemDicomObject),
) -> Vec<u8> {
    let obj = pet::series::open::parse_dicom(file.to_vec()).unwrap();
    let mut data_set = obj.into_inner();
    change(&mut data_set);
    let rewritten = data_set
        .with_meta(
            dicom_object::FileMetaTableBuilder::new()
                .transfer_syntax(transfer_syntax)
                .implementation_class_uid("1.2.826.0.1.3680043.9.9999")
                .source_application_entity_title("PACS"),
        )
        .unwrap();
    let mut out = Vec::new();
    rewritten.write_all(&mut out).unwrap();
    out
}
