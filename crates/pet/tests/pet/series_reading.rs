//! Reading series: order by position, per-slice rescale, gaps, duplicates, several series.

use std::path::PathBuf;

use dicom_core::VR;
use pet::ErrorKind;
use pet::series::{load_series, load_series_files, load_series_uid};

use crate::common::{copy_case, edit_files, pt_dir, put};

#[test]
fn slices_are_ordered_by_position_not_by_instance_number_or_file_name() {
    let reference = load_series(&pt_dir("DRO_1_0")).unwrap();
    let (tmp, files) = copy_case("DRO_1_0");
    // Reverse the instance numbers and give the files names in the opposite order.
    edit_files(&files, |n, obj| {
        put(obj, 0x0020, 0x0013, VR::IS, &(100 - n).to_string())
    });
    for (n, f) in files.iter().enumerate() {
        std::fs::rename(f, tmp.path().join(format!("{:02}.dcm", 99 - n))).unwrap();
    }
    let shuffled = load_series(tmp.path()).unwrap();
    assert_eq!(shuffled.volume.origin_mm, [0.0, 0.0, 0.0]);
    assert_eq!(shuffled.volume.spacing_mm, [4.0, 4.0, 4.0]);
    assert_eq!(shuffled.volume.dims, [256, 256, 20]);
    assert!(shuffled.volume.data == reference.volume.data);
    // DRO_1_0 scales slices 8–11 with RescaleSlope 3 instead of 4: the rescaled values agree.
    let slopes: Vec<f64> = shuffled.instances.iter().map(|i| i.rescale_slope).collect();
    assert_eq!(slopes[8..12], [3.0; 4]);
    assert_eq!(slopes[0], 4.0);
    // Per the reference values, the first slice is empty and slice 10 reaches 14 400 Bq/mL.
    let slice_max = |k: usize| {
        let n = 256 * 256;
        shuffled.volume.data[k * n..(k + 1) * n]
            .iter()
            .cloned()
            .fold(f32::MIN, f32::max)
    };
    assert_eq!((slice_max(0), slice_max(10)), (0.0, 14_400.0));
}

#[test]
fn a_missing_slice_is_reported_not_interpolated() {
    let (tmp, files) = copy_case("DRO_0_0");
    std::fs::remove_file(&files[10]).unwrap();
    let err = load_series(tmp.path()).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Geometry(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("8.000 mm") && text.contains("1 slice(s) missing"),
        "{text}"
    );
}

#[test]
fn a_duplicate_slice_is_reported() {
    let (tmp, files) = copy_case("DRO_0_0");
    std::fs::copy(&files[3], tmp.path().join("copy.dcm")).unwrap();
    let err = load_series(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("duplicate slice"), "{err}");
}

#[test]
fn several_series_are_grouped_by_uid_and_the_choice_is_said() {
    let dro0: Vec<PathBuf> = sorted_files("DRO_0_0");
    let dro1: Vec<PathBuf> = sorted_files("DRO_1_0")[4..9].to_vec();
    let all: Vec<PathBuf> = dro0.iter().chain(&dro1).cloned().collect();
    let loaded = load_series_files(&all).unwrap();
    assert_eq!(loaded.volume.dims[2], 20);
    assert_eq!(loaded.other_series.len(), 1);
    assert_eq!(loaded.other_series[0].1, 5);
    assert!(
        loaded.warnings[0].contains("2 PET series"),
        "{:?}",
        loaded.warnings
    );
    let other = load_series_uid(&all, &loaded.other_series[0].0).unwrap();
    assert_eq!(other.volume.dims[2], 5);
    assert_eq!(other.volume.origin_mm, [0.0, 0.0, 16.0]);
}

fn sorted_files(case: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(pt_dir(case))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}
