//! Integration tests of DICOM ingest: folder import, the C-STORE receiver driven by dcmtk
//! (`storescu`, `echoscu`), and associations that break in the middle.
//!
//! The series sent is the IBSI SUV digital reference object DRO_0_0 (20 PET slices) and its
//! RT Structure Set, a non-PET object that must be kept but never quantified.

mod ingest_support;

#[path = "ingest/catalog.rs"]
mod catalog;
#[path = "ingest/duplicates.rs"]
mod duplicates;
#[path = "ingest/parallel.rs"]
mod parallel;
#[path = "ingest/recovery.rs"]
mod recovery;

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use archive::dimse;
use archive::scp::IMPLEMENTATION_CLASS_UID;
use archive::{Archive, SkipReason, StoreOutcome, import_folder};
use dicom_dictionary_std::tags;
use ingest_support::{
    AE, Running, archive_files, assert_stored_de_identified, dcmtk, pet_files, rtstruct_file,
    send_with_dicom_ul, sha256_hex, sop_instance_uid,
};
use pet::series::open::parse_dicom;

#[test]
fn folder_import_stores_each_file_once_de_identified_and_skips_the_rest() {
    let src = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(src.path().join("scan/pt")).unwrap();
    for f in pet_files() {
        std::fs::copy(&f, src.path().join("scan/pt").join(f.file_name().unwrap())).unwrap();
    }
    std::fs::copy(rtstruct_file(), src.path().join("scan/rs.dcm")).unwrap();
    std::fs::write(src.path().join("notes.txt"), "scanned at 10:05").unwrap();
    std::fs::write(src.path().join("DICOMDIR"), b"directory").unwrap();
    // A named pipe nobody writes to: reading it would wait forever.
    let fifo = std::process::Command::new("mkfifo")
        .arg(src.path().join("scan/pipe"))
        .status()
        .expect("mkfifo");
    assert!(fifo.success());

    let data = tempfile::tempdir().unwrap();
    let archive = Archive::open(data.path()).unwrap();
    let mut seen = Vec::new();
    let report = import_folder(&archive, src.path(), "KS", &mut |p| {
        seen.push((p.done, p.total))
    })
    .unwrap();

    assert_eq!(
        (report.files, report.new, report.duplicate, report.conflict),
        (24, 21, 0, 0)
    );
    let skipped: BTreeMap<_, _> = report
        .skipped
        .iter()
        .map(|s| {
            (
                s.path.file_name().unwrap().to_string_lossy().to_string(),
                s.reason.clone(),
            )
        })
        .collect();
    assert_eq!(skipped.len(), 3);
    assert_eq!(skipped["DICOMDIR"], SkipReason::DicomDir);
    assert_eq!(skipped["pipe"], SkipReason::NotRegular);
    assert!(matches!(&skipped["notes.txt"], SkipReason::NotDicom(why) if why.contains("DICM")));
    assert_eq!(seen.len(), 21 + 2, "progress for every file read");
    assert_eq!(seen.last(), Some(&(24, 24)));
    assert_eq!(report.series.len(), 2);

    // Every original is in the archive, de-identified, its pixels unchanged.
    let (objects, temporary) = archive_files(&archive);
    assert_eq!(objects.len(), 21);
    assert!(temporary.is_empty());
    for f in pet_files().into_iter().chain([rtstruct_file()]) {
        assert_stored_de_identified(&archive, &f);
    }
    assert!(
        archive
            .instances()
            .unwrap()
            .iter()
            .all(|e| e.site.as_deref() == Some("KS"))
    );

    let series = archive.series().unwrap();
    assert_eq!(series.len(), 2);
    let pt = series.iter().find(|s| s.is_pet).expect("a PET series");
    assert_eq!(
        (pt.instance_count, pt.modality.as_deref()),
        (20, Some("PT"))
    );
    let rs = series
        .iter()
        .find(|s| !s.is_pet)
        .expect("the RTSTRUCT kept");
    assert_eq!(
        (rs.instance_count, rs.modality.as_deref()),
        (1, Some("RTSTRUCT"))
    );

    // The stored series is what the PET reader loads.
    let files = archive.series_files(&pt.series_instance_uid).unwrap();
    assert_eq!(files.len(), 20);
    let loaded = pet::load_series_files(&files).unwrap();
    assert_eq!(loaded.series_instance_uid, pt.series_instance_uid);
    assert_eq!(loaded.instances.len(), 20);
    assert!(archive.series_files("1.2.3.404").unwrap().is_empty());

    // Importing again changes nothing.
    let again = import_folder(&archive, src.path(), "KS", &mut |_| {}).unwrap();
    assert_eq!((again.new, again.duplicate, again.conflict), (0, 21, 0));
    assert_eq!(archive_files(&archive).0, objects);
    assert_eq!(archive.instances().unwrap().len(), 21);

    // Another version of a stored instance is kept beside it, never over it.
    let original = std::fs::read(&pet_files()[3]).unwrap();
    let mut altered = original.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0x01;
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("slice.dcm"), &altered).unwrap();
    let conflict = import_folder(&archive, other.path(), "KS", &mut |_| {}).unwrap();
    assert_eq!(
        (conflict.new, conflict.duplicate, conflict.conflict),
        (0, 0, 1)
    );
    let uid = sop_instance_uid(&pet_files()[3]);
    let versions: Vec<_> = archive
        .instances()
        .unwrap()
        .into_iter()
        .filter(|e| e.sop_instance_uid == uid)
        .collect();
    assert_eq!(versions.len(), 2, "both versions kept");
    let pt = archive
        .series()
        .unwrap()
        .into_iter()
        .find(|s| s.is_pet)
        .unwrap();
    assert_eq!((pt.instance_count, pt.conflicting_instances), (20, 1));
    let files = archive.series_files(&pt.series_instance_uid).unwrap();
    assert_eq!(files.len(), 20);
    let chosen = files
        .iter()
        .find(|f| sop_instance_uid(f) == uid)
        .expect("the instance is in the series");
    assert_eq!(
        std::fs::read(chosen).unwrap().last(),
        original.last(),
        "first version chosen"
    );
}

#[test]
fn store_bytes_refuses_non_dicom_and_reports_outcomes() {
    let data = tempfile::tempdir().unwrap();
    let archive = Archive::open(data.path()).unwrap();
    let source = archive::Source::Folder { path: "x".into() };
    let err = archive
        .store_bytes(b"plain text, no DICOM here", &source, "KS")
        .unwrap_err();
    assert!(
        err.to_string().contains("not a readable DICOM file"),
        "{err}"
    );
    let bytes = std::fs::read(rtstruct_file()).unwrap();
    let first = archive.store_bytes(&bytes, &source, "KS").unwrap();
    assert_eq!(first.outcome, StoreOutcome::New);
    assert!(!first.is_pet_image);
    assert_eq!(first.modality.as_deref(), Some("RTSTRUCT"));
    assert_eq!(
        archive.store_bytes(&bytes, &source, "KS").unwrap().outcome,
        StoreOutcome::Duplicate
    );
    let entry = &archive.instances().unwrap()[0];
    assert_eq!(entry.source, source);
    assert_eq!(
        entry.sha256,
        sha256_hex(&std::fs::read(archive.object_path(&entry.sha256)).unwrap())
    );
}

#[test]
fn broken_associations_lose_nothing_acknowledged_and_leave_no_partial_file() {
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let scp = Running::start(&archive);
    let files = pet_files();

    // Garbage, then half an A-ASSOCIATE-RQ, then silence.
    use std::io::Write;
    let mut garbage = TcpStream::connect(scp.addr).unwrap();
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    drop(garbage);
    let mut half = TcpStream::connect(scp.addr).unwrap();
    half.write_all(&[0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x01])
        .unwrap();
    drop(half);

    // One object acknowledged, then an association that dies in the middle of the next.
    assert_eq!(
        send_with_dicom_ul(scp.addr, &files[0], true),
        Some(dimse::status::SUCCESS)
    );
    assert_eq!(send_with_dicom_ul(scp.addr, &files[1], false), None);
    thread::sleep(Duration::from_millis(300));
    let (objects, temporary) = archive_files(&archive);
    assert_eq!(objects.len(), 1, "only the acknowledged object is stored");
    assert!(temporary.is_empty(), "no partial file: {temporary:?}");
    let stored = archive.instances().unwrap();
    assert_eq!(stored.len(), 1);
    let first = parse_dicom(std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(
        stored[0].sop_instance_uid,
        first
            .element(tags::SOP_INSTANCE_UID)
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches('\0')
    );

    // The receiver still serves: the interrupted object arrives on the next association.
    assert_eq!(
        send_with_dicom_ul(scp.addr, &files[1], true),
        Some(dimse::status::SUCCESS)
    );
    assert_eq!(archive.instances().unwrap().len(), 2);
    if dcmtk("storescu") {
        let out = scp.dcmtk("storescu", AE, &files);
        assert!(
            out.status.success(),
            "storescu: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(archive.instances().unwrap().len(), 20);
    }
    scp.stop();
}

#[test]
fn storescu_sends_a_series_that_is_stored_whole_and_resends_change_nothing() {
    if !dcmtk("storescu") || !dcmtk("echoscu") {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let scp = Running::start(&archive);

    let echo = scp.dcmtk("echoscu", AE, &[]);
    assert!(
        echo.status.success(),
        "echoscu: {}",
        String::from_utf8_lossy(&echo.stderr)
    );

    let mut files = pet_files();
    files.push(rtstruct_file());
    let out = scp.dcmtk("storescu", AE, &files);
    assert!(
        out.status.success(),
        "storescu: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Every instance stored, its data set equal to the original's.
    let by_sop: BTreeMap<String, _> = archive
        .instances()
        .unwrap()
        .into_iter()
        .map(|e| (e.sop_instance_uid.clone(), e))
        .collect();
    assert_eq!(by_sop.len(), 21);
    for f in &files {
        let original = parse_dicom(std::fs::read(f).unwrap()).unwrap();
        let uid = original
            .element(tags::SOP_INSTANCE_UID)
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches('\0')
            .to_string();
        let entry = by_sop
            .get(&uid)
            .unwrap_or_else(|| panic!("{uid} not stored"));
        let stored =
            parse_dicom(std::fs::read(archive.object_path(&entry.sha256)).unwrap()).unwrap();
        assert_eq!(
            stored
                .meta()
                .implementation_class_uid()
                .trim_end_matches('\0'),
            IMPLEMENTATION_CLASS_UID
        );
        assert_eq!(
            stored
                .meta()
                .source_application_entity_title()
                .map(str::trim),
            Some("SCANNER")
        );
        let text = |o: &dicom_object::DefaultDicomObject, tag| {
            o.element(tag).unwrap().to_str().unwrap().to_string()
        };
        assert_eq!(
            text(&stored, tags::SOP_INSTANCE_UID),
            text(&original, tags::SOP_INSTANCE_UID)
        );
        assert_eq!(
            text(&stored, tags::SERIES_INSTANCE_UID),
            text(&original, tags::SERIES_INSTANCE_UID)
        );
        if let Ok(pixels) = original.element(tags::PIXEL_DATA) {
            let stored_pixels = stored.element(tags::PIXEL_DATA).unwrap();
            assert!(
                stored_pixels.to_bytes().unwrap() == pixels.to_bytes().unwrap(),
                "pixel data of {uid}"
            );
            assert!(entry.is_pet_image());
        } else {
            assert!(
                !entry.is_pet_image(),
                "the RTSTRUCT is kept, not as a PET image"
            );
            assert_eq!(entry.modality.as_deref(), Some("RTSTRUCT"));
        }
    }
    // dcmtk reads a received file, our file meta group included, without a complaint.
    if dcmtk("dcmdump") {
        let first = &by_sop.values().next().unwrap().sha256;
        let dump = Command::new("dcmdump")
            .arg(archive.object_path(first))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&dump.stderr);
        assert!(
            dump.status.success() && stderr.trim().is_empty(),
            "dcmdump: {stderr}"
        );
        assert!(String::from_utf8_lossy(&dump.stdout).contains(IMPLEMENTATION_CLASS_UID));
    }
    let series = archive.series().unwrap();
    assert_eq!(series.iter().filter(|s| s.is_pet).count(), 1);
    assert_eq!(series.iter().filter(|s| !s.is_pet).count(), 1);

    // A resend is acknowledged and stores nothing new.
    let (before, _) = archive_files(&archive);
    let again = scp.dcmtk("storescu", AE, &files);
    assert!(
        again.status.success(),
        "resend: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(archive_files(&archive).0, before);
    assert_eq!(archive.instances().unwrap().len(), 21);

    // A wrong called AE title is refused.
    let wrong = scp.dcmtk("storescu", "NOT-HER2EX", &files[..1]);
    assert!(!wrong.status.success(), "wrong called AE title accepted");
    let wrong_echo = scp.dcmtk("echoscu", "NOT-HER2EX", &[]);
    assert!(!wrong_echo.status.success());
    assert_eq!(archive.instances().unwrap().len(), 21);

    let start = Instant::now();
    scp.stop();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "shutdown is prompt"
    );
}

#[test]
fn storescu_in_other_transfer_syntaxes_is_stored_as_received_and_a_resend_is_a_duplicate() {
    if !dcmtk("storescu") || !dcmtk("dcmconv") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let slice = pet_files().remove(5);
    let original = parse_dicom(std::fs::read(&slice).unwrap()).unwrap();
    // An Implicit VR Little Endian transfer (storescu -xi), and a file converted to
    // Explicit VR Big Endian by dcmconv, which storescu sends as it is (-xb).
    let big_endian = work.path().join("big-endian.dcm");
    let converted = Command::new("dcmconv")
        .arg("+tb")
        .arg(&slice)
        .arg(&big_endian)
        .status();
    assert!(converted.is_ok_and(|s| s.success()), "dcmconv +tb failed");
    let send = |scp: &Running, option: &str, file: &std::path::Path| {
        let out = Command::new("storescu")
            .args([option, "-aec", AE, "-aet", "SCANNER", "127.0.0.1"])
            .arg(scp.addr.port().to_string())
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "storescu {option}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let pixels = |o: &dicom_object::DefaultDicomObject| {
        o.element(tags::PIXEL_DATA)
            .unwrap()
            .to_multi_int::<i32>()
            .unwrap()
    };
    let sends = [
        ("-xi", &slice, "1.2.840.10008.1.2"),
        ("-xb", &big_endian, "1.2.840.10008.1.2.2"),
    ];
    for (i, (option, file, ts)) in sends.iter().enumerate() {
        let data = tempfile::tempdir().unwrap();
        let archive = Arc::new(Archive::open(data.path()).unwrap());
        let scp = Running::start(&archive);
        send(&scp, option, file);
        let entries = archive.instances().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].transfer_syntax_uid, *ts);
        let stored =
            parse_dicom(std::fs::read(archive.object_path(&entries[0].sha256)).unwrap()).unwrap();
        assert_eq!(pixels(&stored), pixels(&original), "pixel values in {ts}");

        // The same instance in the other encoding: the same image, a duplicate.
        let (other_option, other_file, _) = sends[1 - i];
        let (objects, _) = archive_files(&archive);
        send(&scp, other_option, other_file);
        assert_eq!(archive_files(&archive).0, objects, "nothing written");
        assert_eq!(archive.instances().unwrap(), entries);
        scp.stop();
    }
}
