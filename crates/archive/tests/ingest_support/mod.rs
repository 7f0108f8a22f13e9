//! Helpers of the ingest tests: the reference objects, a receiver on a free port, dcmtk
//! detection and a minimal C-STORE sender that can stop half-way.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use archive::dimse::{self, Command as Dimse};
use archive::{Archive, IngestError, Scp, ScpConfig, Sender, Shutdown};
use dicom_dictionary_std::{tags, uids};
use dicom_ul::ClientAssociationOptions;
use dicom_ul::pdu::{PDataValue, PDataValueType, Pdu};
use pet::series::open::parse_dicom;
use sha2::{Digest, Sha256};

/// The receiver's AE title in the tests.
pub const AE: &str = "HER2EX";

/// The IBSI SUV reference object DRO_0_0 (PT/ and RS/); fails clearly when absent.
pub fn reference() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ibsi-suv-dro/DRO_0_0");
    assert!(
        dir.join("PT").is_dir() && dir.join("RS").is_dir(),
        "IBSI SUV reference objects missing: expected PT/ and RS/ under {}",
        dir.display()
    );
    dir
}

/// The regular files of a folder, sorted.
pub fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// The 20 PET slices of DRO_0_0.
pub fn pet_files() -> Vec<PathBuf> {
    let files = sorted_files(&reference().join("PT"));
    assert_eq!(files.len(), 20, "DRO_0_0 has 20 PET slices");
    files
}

/// The RT Structure Set of DRO_0_0.
pub fn rtstruct_file() -> PathBuf {
    sorted_files(&reference().join("RS")).remove(0)
}

/// SHA-256, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every file under the archive: (objects, temporary files).
pub fn archive_files(archive: &Archive) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut objects, mut temporary) = (Vec::new(), Vec::new());
    let mut stack = vec![archive.root().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".tmp") {
                temporary.push(path);
            } else if name.ends_with(".dcm") {
                objects.push(path);
            }
        }
    }
    objects.sort();
    (objects, temporary)
}

/// Whether a dcmtk tool can be run; when not, the test is skipped unless
/// HER2EX_REQUIRE_DCMTK=1, which makes it fail.
pub fn dcmtk(tool: &str) -> bool {
    match Command::new(tool).arg("--version").output() {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var("HER2EX_REQUIRE_DCMTK").as_deref() != Ok("1"),
                "HER2EX_REQUIRE_DCMTK=1 but {tool} (dcmtk) cannot be run: {e}"
            );
            eprintln!("SKIPPED: {tool} (dcmtk) not available: {e}");
            false
        }
    }
}

/// A receiver running on a thread, on a free port of 127.0.0.1.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: Shutdown,
    thread: JoinHandle<Result<(), IngestError>>,
}

impl Running {
    /// Starts a receiver with AE title [`AE`] storing into `archive`.
    pub fn start(archive: &Arc<Archive>) -> Running {
        let config = ScpConfig::new(AE, "127.0.0.1:0".parse().unwrap())
            .allow(Sender::parse("SCANNER@127.0.0.1=KS").unwrap());
        Running::start_with(archive, config)
    }

    /// Starts a receiver with `config` (its address replaced by a free port of 127.0.0.1).
    pub fn start_with(archive: &Arc<Archive>, mut config: ScpConfig) -> Running {
        config.bind = "127.0.0.1:0".parse().unwrap();
        let scp = Scp::bind(config, Arc::clone(archive)).unwrap();
        let addr = scp.local_addr();
        let shutdown = Shutdown::new();
        let flag = shutdown.clone();
        let thread = thread::spawn(move || scp.run(&flag));
        Running {
            addr,
            shutdown,
            thread,
        }
    }

    /// Stops the receiver and checks that it ended without error.
    pub fn stop(self) {
        self.shutdown.trigger();
        self.thread.join().unwrap().unwrap();
    }

    /// Runs `tool` (storescu, echoscu) as SCANNER calling `called_ae` with `files`.
    pub fn dcmtk(&self, tool: &str, called_ae: &str, files: &[PathBuf]) -> std::process::Output {
        Command::new(tool)
            .args(["-aec", called_ae, "-aet", "SCANNER", "127.0.0.1"])
            .arg(self.addr.port().to_string())
            .args(files)
            .output()
            .unwrap()
    }
}

/// The data set of a Part 10 file: what follows the file meta group (always explicit VR
/// little endian, PS3.10 §7.1), found by walking the group's elements.
pub fn data_set_of(file: &[u8]) -> &[u8] {
    let mut pos = 132;
    while u16::from_le_bytes([file[pos], file[pos + 1]]) == 0x0002 {
        let vr = &file[pos + 4..pos + 6];
        pos += if matches!(vr, b"OB" | b"OW" | b"UN" | b"SQ" | b"UT") {
            12 + u32::from_le_bytes(file[pos + 8..pos + 12].try_into().unwrap()) as usize
        } else {
            8 + u16::from_le_bytes([file[pos + 6], file[pos + 7]]) as usize
        };
    }
    &file[pos..]
}

/// Sends a C-STORE-RQ of `file` on a new association; when `complete` is false, stops
/// half-way through the data set and drops the connection. Returns the response status.
pub fn send_with_dicom_ul(addr: SocketAddr, file: &Path, complete: bool) -> Option<u16> {
    let bytes = std::fs::read(file).unwrap();
    let obj = parse_dicom(bytes.clone()).unwrap();
    let ts = obj
        .meta()
        .transfer_syntax()
        .trim_end_matches('\0')
        .to_string();
    let sop_instance = obj
        .element(tags::SOP_INSTANCE_UID)
        .unwrap()
        .to_str()
        .unwrap()
        .trim_end_matches('\0')
        .to_string();
    let mut association = ClientAssociationOptions::new()
        .calling_ae_title("SCANNER")
        .called_ae_title(AE)
        .with_presentation_context(
            uids::POSITRON_EMISSION_TOMOGRAPHY_IMAGE_STORAGE.to_string(),
            vec![ts],
        )
        .establish(addr)
        .unwrap();
    let context_id = association.presentation_contexts()[0].id;
    let command = Dimse {
        command_field: dimse::C_STORE_RQ,
        affected_sop_class_uid: Some(uids::POSITRON_EMISSION_TOMOGRAPHY_IMAGE_STORAGE.into()),
        message_id: Some(1),
        priority: Some(0),
        data_set_type: dimse::DATA_SET_PRESENT,
        affected_sop_instance_uid: Some(sop_instance),
        ..Dimse::default()
    };
    let pdv = |value_type, is_last, data: &[u8]| Pdu::PData {
        data: vec![PDataValue {
            presentation_context_id: context_id,
            value_type,
            is_last,
            data: data.to_vec(),
        }],
    };
    association
        .send(&pdv(PDataValueType::Command, true, &command.encode()))
        .unwrap();
    let data = data_set_of(&bytes);
    // At least four fragments, so that half of them is a real part of the data set.
    let chunks: Vec<_> = data.chunks((data.len() / 4).clamp(1, 8_192)).collect();
    let to_send = if complete {
        chunks.len()
    } else {
        chunks.len() / 2
    };
    for (i, chunk) in chunks[..to_send].iter().enumerate() {
        association
            .send(&pdv(PDataValueType::Data, i + 1 == chunks.len(), chunk))
            .unwrap();
    }
    if !complete {
        // Vanish without release or abort, as a crashed sender would.
        let _ = association
            .inner_stream()
            .shutdown(std::net::Shutdown::Both);
        return None;
    }
    let status = match association.receive().unwrap() {
        Pdu::PData { data } => Dimse::parse(&data[0].data).unwrap().status,
        other => panic!("expected a C-STORE-RSP, got {other:?}"),
    };
    association.release().unwrap();
    status
}

/// The SOPInstanceUID of a Part 10 file.
pub fn sop_instance_uid(file: &Path) -> String {
    let obj = parse_dicom(std::fs::read(file).unwrap()).unwrap();
    obj.element(tags::SOP_INSTANCE_UID)
        .unwrap()
        .to_str()
        .unwrap()
        .trim_end_matches('\0')
        .to_string()
}

/// Checks that the original `file` is in the archive de-identified: marked, without its
/// PatientName and PatientBirthDate, its pixel data unchanged.
pub fn assert_stored_de_identified(archive: &Archive, file: &Path) {
    let uid = sop_instance_uid(file);
    let entry = archive
        .instances()
        .unwrap()
        .into_iter()
        .find(|e| e.sop_instance_uid == uid)
        .unwrap_or_else(|| panic!("{uid} not stored"));
    let original = parse_dicom(std::fs::read(file).unwrap()).unwrap();
    let stored = parse_dicom(std::fs::read(archive.object_path(&entry.sha256)).unwrap()).unwrap();
    let text = |o: &dicom_object::DefaultDicomObject, tag| {
        o.element(tag)
            .ok()
            .map(|e| e.to_str().unwrap().trim().to_string())
    };
    assert_eq!(
        text(&stored, tags::PATIENT_IDENTITY_REMOVED).as_deref(),
        Some("YES")
    );
    assert_eq!(text(&stored, tags::PATIENT_NAME).as_deref(), Some(""));
    assert_eq!(text(&stored, tags::PATIENT_BIRTH_DATE).as_deref(), Some(""));
    if let Ok(pixels) = original.element(tags::PIXEL_DATA) {
        assert!(
            stored
                .element(tags::PIXEL_DATA)
                .unwrap()
                .to_bytes()
                .unwrap()
                == pixels.to_bytes().unwrap(),
            "pixel data of {uid}"
        );
    }
}
