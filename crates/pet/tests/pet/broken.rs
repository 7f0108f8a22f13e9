//! The corpus of broken files: each gives a clear reason, never a panic, and does not stop
//! the rest of the series from being read.

use std::path::PathBuf;

use pet::series::{load_series_files, read_instance};

use crate::common::{broken, pt_dir};

const CORPUS: [(&str, &str); 7] = [
    ("not-dicom.dcm", "not a readable DICOM file"),
    ("truncated-header.dcm", "not a readable DICOM file"),
    ("truncated-pixels.dcm", "not a readable DICOM file"),
    ("wrong-modality.dcm", "SOPClassUID (0008,0016)"),
    ("missing-pixel-data.dcm", "PixelData (7FE0,0010)"),
    ("bad-rescale.dcm", "RescaleSlope (0028,1053)"),
    ("zero-rescale.dcm", "RescaleSlope (0028,1053)"),
];

#[test]
fn each_broken_file_gives_a_reason_naming_file_and_tag() {
    for (name, expected) in CORPUS {
        let err = read_instance(&broken(name)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(name), "{name}: {text}");
        assert!(text.contains(expected), "{name}: {text}");
    }
}

#[test]
fn broken_files_are_listed_while_the_series_is_still_read() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(pt_dir("DRO_0_0"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.extend(CORPUS.iter().map(|(n, _)| broken(n)));
    let series = load_series_files(&files).unwrap();
    assert_eq!(series.volume.dims, [256, 256, 20]);
    assert_eq!(series.problems.len(), CORPUS.len());
    for (name, expected) in CORPUS {
        let p = series
            .problems
            .iter()
            .find(|p| p.path.ends_with(name))
            .unwrap_or_else(|| panic!("{name} not listed"));
        assert!(p.reason.contains(expected), "{name}: {}", p.reason);
    }
}

#[test]
fn a_folder_of_only_broken_files_is_an_error_with_the_first_reason() {
    let files: Vec<PathBuf> = CORPUS.iter().map(|(n, _)| broken(n)).collect();
    let err = load_series_files(&files).unwrap_err();
    assert!(err.to_string().contains("none of 7 files"), "{err}");
}
