//! The privacy and bounds of DICOM ingest: identifiers removed before anything reaches
//! the disk (receiver and import), senders outside the allow-list refused, a limit on
//! associations and on object size.

// Shared with the ingest tests, which use all of it.
#[allow(dead_code)]
mod ingest_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use archive::{Archive, ScpConfig, Sender, import_folder};
use dicom_dictionary_std::uids;
use dicom_ul::ClientAssociationOptions;
use ingest_support::{AE, Running, archive_files, dcmtk, pet_files};

const PNR: &str = "19850312-1231";
const NAME: &str = "Svensson^Anna";

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Files under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    all_files(dir)
        .into_iter()
        .filter(|f| {
            std::fs::read(f)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
        })
        .collect()
}

/// Copies of the first three PET slices with a personnummer as PatientID, a name, a
/// birth date, other patient ids and an address, written by dcmodify.
fn identified_slices(dir: &Path) -> Vec<PathBuf> {
    pet_files()
        .into_iter()
        .take(3)
        .map(|f| {
            let out = dir.join(f.file_name().unwrap());
            std::fs::copy(&f, &out).unwrap();
            let status = Command::new("dcmodify")
                .args(["-nb", "-i"])
                .arg(format!("(0010,0020)={PNR}"))
                .arg("-i")
                .arg(format!("(0010,0010)={NAME}"))
                .args(["-i", "(0010,0030)=19850312", "-i", "(0010,1000)=8503121231"])
                .args(["-i", "(0010,1040)=Storgatan 1, Uppsala"])
                .arg(&out)
                .status()
                .unwrap();
            assert!(status.success(), "dcmodify");
            out
        })
        .collect()
}

fn assert_no_identifier_under(data: &Path) {
    for needle in [
        PNR,
        "198503121231",
        "8503121231",
        "Svensson",
        "Storgatan",
        "19850312",
    ] {
        let found = files_containing(data, needle);
        assert!(found.is_empty(), "{needle} found in {found:?}");
    }
}

#[test]
fn personal_identifiers_never_reach_the_data_directory() {
    if !dcmtk("dcmodify") || !dcmtk("storescu") {
        return;
    }
    let src = tempfile::tempdir().unwrap();
    let files = identified_slices(src.path());
    assert!(
        !files_containing(src.path(), PNR).is_empty(),
        "test files hold the number"
    );

    // Through the receiver.
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let scp = Running::start(&archive);
    let out = scp.dcmtk("storescu", AE, &files);
    assert!(
        out.status.success(),
        "storescu: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    scp.stop();
    assert_eq!(archive.instances().unwrap().len(), 3);
    // Through the import, into another data directory.
    let imported = tempfile::tempdir().unwrap();
    let archive2 = Archive::open(imported.path()).unwrap();
    let report = import_folder(&archive2, src.path(), "KS", &mut |_| {}).unwrap();
    assert_eq!(report.new, 3);

    for (data, archive) in [(data.path(), &*archive), (imported.path(), &archive2)] {
        assert_no_identifier_under(data);
        let series = archive.series().unwrap();
        let pid = series[0].patient_id.clone().unwrap();
        assert!(pid.starts_with("PSN-"), "pseudonymised PatientID {pid}");
        for f in &files {
            ingest_support::assert_stored_de_identified(archive, f);
        }
    }
    // The same person gets the same pseudonym on every object of an archive.
    let pids: Vec<_> = archive
        .instances()
        .unwrap()
        .into_iter()
        .map(|e| e.patient_id)
        .collect();
    assert!(pids.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn unknown_senders_are_refused_and_nothing_is_stored() {
    if !dcmtk("storescu") {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let scp = Running::start(&archive);
    let files = &pet_files()[..1];
    // Another calling AE title from the allowed address.
    let out = Command::new("storescu")
        .args(["-aec", AE, "-aet", "INTRUDER", "127.0.0.1"])
        .arg(scp.addr.port().to_string())
        .args(files)
        .output()
        .unwrap();
    assert!(!out.status.success(), "unknown sender accepted");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Rejected"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    scp.stop();
    // The allowed AE title from another address than configured.
    let config = ScpConfig::new(AE, "127.0.0.1:0".parse().unwrap())
        .allow(Sender::parse("SCANNER@10.9.8.7=KS").unwrap());
    let scp = Running::start_with(&archive, config);
    let out = scp.dcmtk("storescu", AE, files);
    assert!(
        !out.status.success(),
        "sender from another address accepted"
    );
    scp.stop();
    assert!(archive.instances().unwrap().is_empty());
    assert!(archive_files(&archive).0.is_empty());
}

#[test]
fn associations_beyond_the_limit_are_refused_until_one_ends() {
    if !dcmtk("echoscu") {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let mut config = ScpConfig::new(AE, "127.0.0.1:0".parse().unwrap())
        .allow(Sender::parse("SCANNER@127.0.0.1=KS").unwrap());
    config.max_associations = 2;
    let scp = Running::start_with(&archive, config);
    let open = |()| {
        ClientAssociationOptions::new()
            .calling_ae_title("SCANNER")
            .called_ae_title(AE)
            .with_abstract_syntax(uids::VERIFICATION)
            .establish(scp.addr)
    };
    let held: Vec<_> = (0..2).map(|_| open(()).unwrap()).collect();
    let third = scp.dcmtk("echoscu", AE, &[]);
    assert!(!third.status.success(), "a third association was served");
    assert!(
        String::from_utf8_lossy(&third.stderr).contains("Rejected"),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
    let mut held = held;
    held.pop().unwrap().release().unwrap();
    // The slot is free once the receiver has seen the release.
    let mut answered = false;
    for _ in 0..50 {
        if scp.dcmtk("echoscu", AE, &[]).status.success() {
            answered = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(answered, "no association served after one ended");
    drop(held);
    scp.stop();
}

#[test]
fn an_object_over_the_size_limit_is_refused_and_leaves_nothing() {
    let data = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(data.path()).unwrap());
    let mut config = ScpConfig::new(AE, "127.0.0.1:0".parse().unwrap())
        .allow(Sender::parse("SCANNER@127.0.0.1=KS").unwrap());
    config.max_object_bytes = 10_000;
    let scp = Running::start_with(&archive, config);
    assert_eq!(
        ingest_support::send_with_dicom_ul(scp.addr, &pet_files()[0], true),
        Some(archive::dimse::status::OUT_OF_RESOURCES)
    );
    scp.stop();
    assert!(archive.instances().unwrap().is_empty());
    let (objects, temporary) = archive_files(&archive);
    assert!(objects.is_empty() && temporary.is_empty());
    assert!(all_files(&data.path().join("dicom/incoming")).is_empty());
}
