//! Shared helpers: the IBSI SUV reference objects and small file-copy utilities.

use std::path::{Path, PathBuf};

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_object::InMemDicomObject;
use pet::series::load_series;
use pet::suv::{SuvCalibration, SuvOptions, calibrate, suv_volume};
use pet::volume::Volume;

/// The 17 IBSI SUV digital reference objects (DRO_list.csv).
pub const DRO_CASES: [&str; 17] = [
    "DRO_0_0", "DRO_1_0", "DRO_2_0", "DRO_2_1", "DRO_2_2", "DRO_2_3", "DRO_2_4", "DRO_2_5",
    "DRO_3_0", "DRO_3_1", "DRO_3_2", "DRO_3_3", "DRO_3_4", "DRO_4_0", "DRO_4_1", "DRO_4_2",
    "DRO_5_0",
];

/// The reference folder (`HER2EX_REFERENCE_DIR` overrides). Panics — failing the test —
/// when it is missing: a test that silently skips its reference would prove nothing.
pub fn reference_dir() -> PathBuf {
    let dir = std::env::var_os("HER2EX_REFERENCE_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ibsi-suv-dro"),
        PathBuf::from,
    );
    assert!(
        dir.join("DRO_list.csv").is_file(),
        "IBSI SUV reference not found at {} (set HER2EX_REFERENCE_DIR)",
        dir.display()
    );
    dir
}

/// `…/DRO_x_y/PT`.
pub fn pt_dir(case: &str) -> PathBuf {
    reference_dir().join(case).join("PT")
}

/// The case's RTSTRUCT file.
pub fn rs_file(case: &str) -> PathBuf {
    let dir = reference_dir().join(case).join("RS");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.into_iter().next().expect("one RTSTRUCT per case")
}

/// The case's NIfTI mask.
pub fn mask_file(case: &str) -> PathBuf {
    reference_dir()
        .join(case)
        .join("mask")
        .join("DRO_mask.nii.gz")
}

/// SUV volume and calibration of a case with default options (SUVbw).
pub fn suv_of(case: &str) -> (Volume, SuvCalibration) {
    let series = load_series(&pt_dir(case)).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert!(series.problems.is_empty(), "{case}: {:?}", series.problems);
    let cal = calibrate(&series, &SuvOptions::default()).unwrap_or_else(|e| panic!("{case}: {e}"));
    (suv_volume(&series, &cal), cal)
}

/// Copies the PT files of a case into a fresh temporary folder.
pub fn copy_case(case: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
    let tmp = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(pt_dir(case))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let to = tmp.path().join(f.file_name().unwrap());
        std::fs::copy(&f, &to).unwrap();
        out.push(to);
    }
    (tmp, out)
}

/// A broken file of the corpus.
pub fn broken(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/broken")
        .join(name)
}

/// Rewrites every file of `files` after `edit` changed its data set.
pub fn edit_files(files: &[PathBuf], edit: impl Fn(usize, &mut dicom_object::InMemDicomObject)) {
    for (n, f) in files.iter().enumerate() {
        let mut obj = pet::series::open::open_dicom(f).unwrap();
        edit(n, &mut obj);
        obj.write_to_file(f).unwrap();
    }
}

/// Sets a text-valued attribute.
pub fn put(
    obj: &mut dicom_object::InMemDicomObject,
    group: u16,
    element: u16,
    vr: dicom_core::VR,
    value: &str,
) {
    obj.put(dicom_core::DataElement::new(
        dicom_core::Tag(group, element),
        vr,
        dicom_core::PrimitiveValue::from(value),
    ));
}

/// An attribute holding one sequence item of `elements`.
pub fn one_item(
    tag: Tag,
    elements: Vec<DataElement<InMemDicomObject>>,
) -> DataElement<InMemDicomObject> {
    let item = InMemDicomObject::from_element_iter(elements);
    DataElement::new(tag, VR::SQ, DataSetSequence::from(vec![item]))
}

/// A decimal string (DS) attribute.
pub fn ds(tag: Tag, value: &str) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::DS, PrimitiveValue::from(value))
}

/// The bits of each value, to compare volumes exactly.
pub fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}
