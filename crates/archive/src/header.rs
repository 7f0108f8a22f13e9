//! The few attributes the archive needs to file a DICOM object: its UIDs and its modality.
//!
//! The whole Part 10 file is parsed (so a truncated or malformed object is refused before
//! it is stored), but only identifiers are kept. Objects whose writer omitted the File Meta
//! Information Group Length are accepted, as by the series reader.

use dicom_dictionary_std::uids;
use sha2::{Digest, Sha256};

use crate::error::IngestErrorKind;
use pet::series::attr::{Attr, attr, text};
use pet::series::open::parse_dicom;

const SOP_CLASS_UID: Attr = attr("SOPClassUID", 0x0008, 0x0016);
const SOP_INSTANCE_UID: Attr = attr("SOPInstanceUID", 0x0008, 0x0018);
const STUDY_INSTANCE_UID: Attr = attr("StudyInstanceUID", 0x0020, 0x000D);
const SERIES_INSTANCE_UID: Attr = attr("SeriesInstanceUID", 0x0020, 0x000E);
const MODALITY: Attr = attr("Modality", 0x0008, 0x0060);
const PATIENT_ID: Attr = attr("PatientID", 0x0010, 0x0020);
const SERIES_DATE: Attr = attr("SeriesDate", 0x0008, 0x0021);
const SERIES_DESCRIPTION: Attr = attr("SeriesDescription", 0x0008, 0x103E);

/// SOP classes whose instances are PET images, i.e. what the quantification may read:
/// PET Image Storage, Enhanced PET Image Storage and Legacy Converted Enhanced PET Image
/// Storage (PS3.4 B.5). Everything else is kept in the archive but never quantified.
pub const PET_IMAGE_SOP_CLASSES: &[&str] = &[
    uids::POSITRON_EMISSION_TOMOGRAPHY_IMAGE_STORAGE,
    uids::ENHANCED_PET_IMAGE_STORAGE,
    uids::LEGACY_CONVERTED_ENHANCED_PET_IMAGE_STORAGE,
];

/// Identifiers of one DICOM object, read from its data set (the file meta group is the
/// fallback for the SOP class and instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DicomHeader {
    /// SOPClassUID (0008,0016).
    pub sop_class_uid: String,
    /// SOPInstanceUID (0008,0018).
    pub sop_instance_uid: String,
    /// StudyInstanceUID (0020,000D).
    pub study_instance_uid: String,
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: String,
    /// Modality (0008,0060), when present.
    pub modality: Option<String>,
    /// TransferSyntaxUID (0002,0010) of the file.
    pub transfer_syntax_uid: String,
    /// PatientID (0010,0020), when present: in HER2-Ex the scanner sends the study id.
    pub patient_id: Option<String>,
    /// SeriesDate (0008,0021), as written (YYYYMMDD), when present.
    pub series_date: Option<String>,
    /// SeriesDescription (0008,103E), when present.
    pub series_description: Option<String>,
}

impl DicomHeader {
    /// Whether the object is a PET image (see [`PET_IMAGE_SOP_CLASSES`]).
    pub fn is_pet_image(&self) -> bool {
        is_pet_sop_class(&self.sop_class_uid)
    }
}

/// Whether `sop_class_uid` is one of [`PET_IMAGE_SOP_CLASSES`].
pub fn is_pet_sop_class(sop_class_uid: &str) -> bool {
    PET_IMAGE_SOP_CLASSES.contains(&sop_class_uid)
}

/// Parses the bytes of a DICOM Part 10 file and reads its identifiers.
///
/// Refuses bytes that are not DICOM, a DICOMDIR, and objects without the UIDs that the
/// archive files them under.
pub fn inspect(bytes: &[u8]) -> Result<DicomHeader, IngestErrorKind> {
    read_header(&parse_dicom(bytes.to_vec())?)
}

/// Reads the identifiers of a Part 10 file on disk without reading its pixel data (a
/// received object may be hundreds of megabytes).
pub fn inspect_file(path: &std::path::Path) -> Result<DicomHeader, IngestErrorKind> {
    read_header(&open_header(path)?)
}

/// A Part 10 file on disk up to its pixel data: the file meta group and the attributes
/// before (7FE0,0010).
pub(crate) fn open_header(
    path: &std::path::Path,
) -> Result<dicom_object::DefaultDicomObject, IngestErrorKind> {
    dicom_object::OpenFileOptions::new()
        .read_preamble(dicom_object::file::ReadPreamble::Always)
        .read_until(dicom_dictionary_std::tags::PIXEL_DATA)
        .open_file(path)
        .map_err(|e| IngestErrorKind::NotDicom(e.to_string()))
}

/// The identifiers of a parsed object.
pub(crate) fn read_header(
    obj: &dicom_object::DefaultDicomObject,
) -> Result<DicomHeader, IngestErrorKind> {
    let meta = obj.meta();
    let meta_text = |s: &str| {
        let t = s.trim_matches(|c: char| c == ' ' || c == '\0');
        (!t.is_empty()).then(|| t.to_string())
    };
    if meta_text(meta.media_storage_sop_class_uid()).as_deref()
        == Some(uids::MEDIA_STORAGE_DIRECTORY_STORAGE)
    {
        return Err(IngestErrorKind::DicomDir);
    }
    let transfer_syntax_uid = meta_text(meta.transfer_syntax())
        .ok_or_else(|| IngestErrorKind::MissingAttribute("TransferSyntaxUID (0002,0010)".into()))?;
    let sop_class_uid = match text(obj, SOP_CLASS_UID)? {
        Some(uid) => uid,
        None => meta_text(meta.media_storage_sop_class_uid())
            .ok_or_else(|| IngestErrorKind::MissingAttribute(SOP_CLASS_UID.to_string()))?,
    };
    let sop_instance_uid = match text(obj, SOP_INSTANCE_UID)? {
        Some(uid) => uid,
        None => meta_text(meta.media_storage_sop_instance_uid())
            .ok_or_else(|| IngestErrorKind::MissingAttribute(SOP_INSTANCE_UID.to_string()))?,
    };
    let required = |a: Attr| -> Result<String, IngestErrorKind> {
        text(obj, a)?.ok_or_else(|| IngestErrorKind::MissingAttribute(a.to_string()))
    };
    Ok(DicomHeader {
        sop_class_uid,
        sop_instance_uid,
        study_instance_uid: required(STUDY_INSTANCE_UID)?,
        series_instance_uid: required(SERIES_INSTANCE_UID)?,
        modality: text(obj, MODALITY)?,
        transfer_syntax_uid,
        patient_id: text(obj, PATIENT_ID).ok().flatten(),
        series_date: text(obj, SERIES_DATE).ok().flatten(),
        series_description: text(obj, SERIES_DESCRIPTION).ok().flatten(),
    })
}

/// Whether `uid` is a well-formed UID (PS3.5 §9.1): at most 64 characters, digits and
/// dots, no empty component.
pub fn is_valid_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 64
        && uid
            .split('.')
            .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
}

/// The directory name under which a SOP instance is indexed: the UID itself when it is
/// well-formed (digits and dots cannot escape the index folder), otherwise a hash of it,
/// so that a malformed UID from a sender can never name a path of its choosing.
pub(crate) fn index_key(uid: &str) -> String {
    if is_valid_uid(uid) {
        uid.to_string()
    } else {
        format!("x{}", hex::encode(&Sha256::digest(uid.as_bytes())[..16]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_validation_follows_ps3_5() {
        assert!(is_valid_uid("1.2.840.10008.5.1.4.1.1.128"));
        assert!(!is_valid_uid(""));
        assert!(!is_valid_uid("1..2"));
        assert!(!is_valid_uid("../../etc"));
        assert!(!is_valid_uid(&"1".repeat(65)));
    }

    #[test]
    fn malformed_uids_are_hashed_into_a_safe_key() {
        assert_eq!(index_key("1.2.3"), "1.2.3");
        let key = index_key("../escape");
        assert!(key.starts_with('x') && key.len() == 33);
        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn non_dicom_bytes_are_refused() {
        let err = inspect(b"hello, not a DICOM file").unwrap_err();
        assert!(matches!(err, IngestErrorKind::NotDicom(_)), "{err}");
    }

    #[test]
    fn pet_classes_are_recognised() {
        assert!(is_pet_sop_class("1.2.840.10008.5.1.4.1.1.128"));
        assert!(is_pet_sop_class("1.2.840.10008.5.1.4.1.1.130"));
        assert!(!is_pet_sop_class(uids::CT_IMAGE_STORAGE));
        assert!(!is_pet_sop_class(uids::RT_STRUCTURE_SET_STORAGE));
    }
}
